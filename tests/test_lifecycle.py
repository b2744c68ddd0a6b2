"""The CA's ledger, revoke, crl, verify --expires-within / --crl, inspect CA_DIR, and the expiry
guard of build-keystore, export-pem and kit. (The real consumers of the CRL and the renewal
handshake: test_lifecycle_interop.py.)"""

from __future__ import annotations

import datetime as dt
import functools
import json
import multiprocessing
from pathlib import Path

import pytest
from helpers import NOW
from helpers import ktpy as run_ktpy

from keytool_py import KeyType, create_ca, files, ledger
from keytool_py.certs import load_certificates, to_pem
from keytool_py.keys import private_key_to_pem

STORE_PW = "store-password-1"
ENV = {"KTPY_STORE_PW": STORE_PW}


ktpy = functools.partial(run_ktpy, env=ENV)


def serial_of(path: Path) -> str:
    return format(load_certificates(path.read_bytes())[0].serial_number, "X")


def read_ledger(ca_dir: Path) -> ledger.Ledger:
    return ledger.parse((ca_dir / "issued.jsonl").read_bytes())


# --- the ledger file ---

def _append_many(path: str, start: int) -> None:
    for n in range(start, start + 40):
        files.append_record(path, ledger.crl_record(n, NOW))


def test_ledger_appends_are_locked_across_processes_and_a_torn_line_is_cut(tmp_path):
    path = tmp_path / "issued.jsonl"
    good = ledger.revoked_record(0xABC, ledger.Reason.SUPERSEDED, NOW) + b"\n"
    path.write_bytes(good + b'{"v": 1, "event": "iss')  # a crash in the middle of a record
    torn = ledger.parse(path.read_bytes())
    assert torn.torn and [r.serial for r in torn.revocations] == [0xABC]
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(path), start)) for start in (1, 41)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[0] + b"\n" == good and lines[-1] == b"" and len(lines) == 1 + 80 + 1
    book = ledger.parse(path.read_bytes())
    assert not book.torn and book.crl_number == 80
    assert sorted(json.loads(line)["number"] for line in lines[1:-1]) == list(range(1, 81))


def test_a_newer_or_damaged_ledger_is_refused_with_its_line():
    with pytest.raises(ledger.BadInputError, match="^the ledger line 2 has format 2; this ktpy reads format 1$"):
        ledger.parse(b"\n" + b'{"v": 2, "event": "issued"}\n')
    with pytest.raises(ledger.BadInputError, match="^the ledger line 1 is a damaged 'revoked' record$"):
        ledger.parse(b'{"v": 1, "event": "revoked", "serial": "zz"}\n')


# --- every command that issues records; inspect lists; revoke; crl; verify ---

@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    root = tmp_path_factory.mktemp("ledger")
    ca_dir = root / "ca"
    ktpy("create-ca", "--dir", ca_dir, "--subject", "CN=Ledger Root,O=Acme", "--key-type", "ec-p256",
         "--no-password")
    ktpy("issue-client", "--ca", ca_dir, "--subject", "CN=one,O=Acme", "--out-dir", root / "c", "--key-type",
         "ec-p256")
    ktpy("create-csr", "--subject", "CN=csr,O=Acme", "--key-type", "ec-p256", "--key-out", root / "csr.key",
         "--out", root / "csr.csr")
    ktpy("sign-csr", root / "csr.csr", "--ca", ca_dir, "--out", root / "csr.pem")
    (root / "batch.csv").write_text('subject,name\n"CN=b1,O=Acme",b1\n"CN=b2,O=Acme",b2\n')
    ktpy("issue-client", "--ca", ca_dir, "--batch", root / "batch.csv", "--out-dir", root / "batch", "--key-type",
         "ec-p256", "--storepass", "env:KTPY_STORE_PW")
    ktpy("kit", "--out-dir", root / "kit", "--subject", "CN=kit,O=Acme", "--ca", ca_dir, "--key-type", "ec-p256",
         "--types", "jks", "--storepass", "env:KTPY_STORE_PW")
    ktpy("issue-client", "--ca", ca_dir, "--subject", "CN=soon,O=Acme", "--out-dir", root / "c", "--key-type",
         "ec-p256", "--days", "5")
    ktpy("create-ca", "--dir", root / "inter", "--subject", "CN=Ledger Intermediate,O=Acme", "--key-type",
         "ec-p256", "--no-password", "--parent", ca_dir)
    return root


def test_every_issuing_command_records_into_the_ledger(issued):
    book = read_ledger(issued / "ca")
    recorded = {format(c.serial, "X"): c.by for c in book.issued}
    assert recorded == {
        serial_of(issued / "c/one.pem"): "issue-client",
        serial_of(issued / "csr.pem"): "sign-csr",
        serial_of(issued / "batch/b1.pem"): "issue-client --batch",
        serial_of(issued / "batch/b2.pem"): "issue-client --batch",
        serial_of(issued / "kit/client.pem"): "kit",
        serial_of(issued / "c/soon.pem"): "issue-client",
        serial_of(issued / "inter/ca.pem"): "create-ca --parent",
    }
    one = book.find(int(serial_of(issued / "c/one.pem"), 16))
    cert = load_certificates((issued / "c/one.pem").read_bytes())[0]
    assert (one.subject, one.profile, one.not_after) == ("CN=one,O=Acme", "client", cert.not_valid_after_utc)


def test_a_kit_with_a_new_ca_starts_that_ca_ledger(tmp_path):
    ktpy("kit", "--out-dir", tmp_path / "kit", "--subject", "CN=fresh,O=Acme", "--key-type", "ec-p256",
         "--types", "jks", "--storepass", "env:KTPY_STORE_PW")
    book = read_ledger(tmp_path / "kit/ca")
    assert [(format(c.serial, "X"), c.by) for c in book.issued] == [(serial_of(tmp_path / "kit/client.pem"), "kit")]


def test_revoke_crl_inspect_and_verify(issued, tmp_path):
    ca_dir = issued / "ca"
    one, kit_cert = serial_of(issued / "c/one.pem"), issued / "kit/client.pem"
    unknown = ktpy("revoke", "--ca", ca_dir, "--serial", "0BADC0DE", code=1)
    assert unknown.stderr == (f"Error: serial BADC0DE is not in the ledger of the CA in {ca_dir}: the CA did not "
                              "issue it (or issued it before ktpy kept a ledger; revoke it by its certificate file "
                              "then)\n")
    done = ktpy("revoke", "--ca", ca_dir, "--serial", one.lower(), "--reason", "keyCompromise")
    assert done.stderr == (f"Revoked {one} (CN=one,O=Acme), reason key-compromise; publish it: "
                           f"ktpy crl --ca {ca_dir} -o CRL_FILE\n")
    again = ktpy("revoke", "--ca", ca_dir, "--serial", one)  # idempotent: succeeds, records nothing
    assert again.stderr.startswith(f"{one} (CN=one,O=Acme) was already revoked on ")
    assert again.stderr.endswith(" UTC (key-compromise); nothing was recorded\n")
    assert len(read_ledger(ca_dir).revocations) == 1
    ktpy("revoke", "--ca", ca_dir, kit_cert, "--reason", "superseded")  # by its file
    bad = ktpy("revoke", "--ca", ca_dir, "--serial", one, "--reason", "bogus", code=2)
    assert "unknown revocation reason 'bogus'; choose one of unspecified, key-compromise, " in bad.stderr
    usage = ktpy("revoke", "--ca", ca_dir, code=2)
    assert "name the certificate by --serial HEX or by its file CERT.pem (one of them)" in usage.stderr

    ktpy("crl", "--ca", ca_dir, "-o", tmp_path / "crl.der")
    second = ktpy("crl", "--ca", ca_dir, "--pem", "--days", "3", "-o", tmp_path / "crl.pem")
    assert second.stderr.startswith(f"Wrote {tmp_path / 'crl.pem'} (PEM): CRL number 2, 2 revoked certificate(s), "
                                    "next update ")
    from cryptography import x509

    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    assert {format(r.serial_number, "X") for r in crl} == {one, serial_of(kit_cert)}
    assert ktpy("crl", "--ca", ca_dir, "-o", tmp_path / "crl.pem", code=1).stderr == (
        f"Error: {tmp_path / 'crl.pem'} already exists; pass --force to replace it\n")

    view = ktpy("inspect", ca_dir).stdout.splitlines()
    assert view[0].startswith(f"CA folder {ca_dir}: CN=Ledger Root,O=Acme, valid until ")
    assert view[1] == f"Issued: 7 certificate(s) in {ca_dir / 'issued.jsonl'}; last CRL number 2"
    assert view[2] == "Key: ca.key, NOT encrypted"
    line = next(v for v in view if v.startswith(f"  {one}  "))
    assert line.startswith(f"  {one}  REVOKED on {NOW:%Y-%m-%d}"[:len(f"  {one}  REVOKED on 2026-")])
    assert line.endswith("  CN=one,O=Acme  (client, issue-client)")
    state = {row["serial"]: row["state"] for row in json.loads(ktpy("inspect", ca_dir, "--json").stdout)["issued"]}
    assert state[one] == "revoked" and state[serial_of(issued / "csr.pem")] == "valid"

    revoked = ktpy("verify", issued / "c/one-chain.pem", "--crl", tmp_path / "crl.der", code=3).stdout.splitlines()
    assert revoked[1].startswith("FAIL revoked: CN=one,O=Acme was revoked on ")
    assert revoked[1].endswith(" UTC (reason: key-compromise)")
    ktpy("verify", issued / "batch/b1-chain.pem", "--crl", tmp_path / "crl.pem")  # same CA, not revoked
    other = create_ca("CN=Unrelated,O=Elsewhere", key_type="ec-p256")
    from keytool_py import ledger as ledger_mod
    from keytool_py.revocation import build_crl, crl_bytes

    foreign, _ = build_crl(other, ledger_mod.Ledger(), now=NOW)
    (tmp_path / "foreign.pem").write_bytes(crl_bytes(foreign, pem=True))
    mismatch = ktpy("verify", issued / "batch/b1-chain.pem", "--crl", tmp_path / "foreign.pem", code=3)
    assert ("FAIL crl-issuer: the CRL was issued by CN=Unrelated,O=Elsewhere, which signed no certificate of the "
            "chain (or its signature does not verify)") in mismatch.stdout


def test_verify_expires_within(issued):
    soon = load_certificates((issued / "c/soon.pem").read_bytes())[0]
    result = ktpy("verify", issued / "c/soon-chain.pem", "--expires-within", "30", code=3)
    assert result.stdout.splitlines()[1:] == [
        f"FAIL expires-soon: CN=soon,O=Acme expires on {soon.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, in 4 day(s) "
        "(within 30)",
        "1 problem(s) found",
    ]
    assert ktpy("verify", issued / "c/soon-chain.pem", "--expires-within", "4").stdout.endswith(
        "OK: every check holds\n")


def test_revoke_refuses_a_certificate_of_another_ca(issued, tmp_path, key_pool):
    other = create_ca("CN=Other,O=Acme", key=key_pool(KeyType.EC_P256, 40), now=NOW)
    stranger = other.issue_client("CN=stranger,O=Acme", key=key_pool(KeyType.EC_P256, 41), now=NOW)
    (tmp_path / "stranger.pem").write_bytes(to_pem([stranger.cert]))
    result = ktpy("revoke", "--ca", issued / "ca", tmp_path / "stranger.pem", code=1)
    assert result.stderr == (f"Error: {tmp_path / 'stranger.pem'} (CN=stranger,O=Acme) was not issued by the CA "
                             f"in {issued / 'ca'}\n")


# --- packaging refuses an expired leaf, warns before expiry ---

@pytest.fixture(scope="module")
def dated(tmp_path_factory, key_pool):
    """An expired and a nearly expired client (PEM and key files), and a CA folder that ends in 10 days."""
    root = tmp_path_factory.mktemp("dated")
    old = create_ca("CN=Aging Root,O=Acme", key=key_pool(KeyType.EC_P256, 42), now=NOW - dt.timedelta(days=3640))
    for name, ago, days in (("expired", 400, 30), ("soon", 10, 20)):
        leaf = old.issue_client(f"CN={name},O=Acme", key=key_pool(KeyType.EC_P256, 43), days=days,
                                now=NOW - dt.timedelta(days=ago))
        (root / f"{name}.pem").write_bytes(to_pem(leaf.chain))
        (root / f"{name}.key").write_bytes(private_key_to_pem(leaf.key))
    (root / "ca").mkdir()
    for name, data in old.files(None).items():
        (root / "ca" / name).write_bytes(data)
    return root


def test_build_keystore_refuses_an_expired_certificate_unless_allowed(dated, tmp_path):
    args = ["build-keystore", "--type", "jks", "--key", dated / "expired.key", "--cert", dated / "expired.pem",
            "--alias", "c", "--storepass", "env:KTPY_STORE_PW", "-o", tmp_path / "c.jks"]
    refused = ktpy(*args, code=1)
    assert refused.stderr.startswith("Error: the certificate CN=expired,O=Acme expired on ")
    assert refused.stderr.endswith(" UTC; renew it (ktpy renew), or pass --allow-expired to package it anyway\n")
    assert not (tmp_path / "c.jks").exists()
    allowed = ktpy(*args, "--allow-expired")
    assert "Warning: the certificate CN=expired,O=Acme expired on " in allowed.stderr
    assert (tmp_path / "c.jks").exists()


def test_export_pem_and_kit_warn_within_30_days(dated, tmp_path):
    exported = ktpy("export-pem", dated / "soon.pem", "-o", tmp_path / "up.pem")
    assert "Warning: the certificate CN=soon,O=Acme expires on " in exported.stderr
    assert " UTC, in 9 day(s); plan its renewal (ktpy renew)\n" in exported.stderr
    assert ktpy("export-pem", dated / "expired.pem", code=1).stderr.startswith(
        "Error: the certificate CN=expired,O=Acme expired on ")
    kit = ktpy("kit", "--out-dir", tmp_path / "kit", "--subject", "CN=cut,O=Acme", "--ca", dated / "ca",
               "--key-type", "ec-p256", "--types", "jks", "--storepass", "env:KTPY_STORE_PW")
    assert "Warning: the certificate CN=cut,O=Acme expires on " in kit.stderr
    assert " UTC, in 9 day(s); plan its renewal (ktpy renew)\n" in kit.stderr


def test_renew_of_a_kit_made_with_ca_needs_the_ca_and_keeps_a_generated_password(issued, tmp_path):
    from keytool_py import load_keystore

    usage = ktpy("renew", issued / "kit", "--out-dir", tmp_path / "new", "--storepass", "env:KTPY_STORE_PW", code=2)
    assert (f"{issued / 'kit'} has no ca/ folder (it was made with kit --ca): give --ca CA_DIR, the CA that "
            "issued it") in usage.stderr
    ktpy("renew", issued / "kit", "--ca", issued / "ca", "--out-dir", tmp_path / "new", "--storepass",
         f"generate:{tmp_path / 'new/storepass.txt'}")
    password = (tmp_path / "new/storepass.txt").read_text().strip()
    assert (tmp_path / "new/storepass.txt").stat().st_mode & 0o777 == 0o600
    store = load_keystore((tmp_path / "new/keystore.jks").read_bytes(), password)
    assert [e.alias for e in store.entries] == ["mule-client"]
    assert store.entries[0].chain[0].subject.rfc4514_string() == "CN=kit,O=Acme"
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        "README.txt", "client-chain.pem", "client.key", "client.pem", "keystore.jks", "mule-config.xml",
        "salesforce-upload.pem", "storepass.txt"]


def test_a_ca_whose_ledger_cannot_be_written_issues_nothing(issued, tmp_path):
    import shutil

    ca_dir = tmp_path / "ca"
    shutil.copytree(issued / "ca", ca_dir)
    (ca_dir / "issued.jsonl").unlink()
    (ca_dir / "issued.jsonl").mkdir()  # unwritable even for root, unlike a read-only file
    result = ktpy("issue-client", "--ca", ca_dir, "--subject", "CN=x,O=Acme", "--out-dir", tmp_path / "x", code=1)
    assert result.stderr == (f"Error: cannot write {ca_dir / 'issued.jsonl'}: Is a directory; the CA records "
                             f"every certificate it issues in {ca_dir / 'issued.jsonl'}, so none was issued "
                             "(make the CA folder writable)\n")
    assert not (tmp_path / "x").exists()


def test_import_refuses_an_expired_key_entry_unless_allowed(dated, tmp_path, key_pool):
    store = tmp_path / "c.jks"
    ktpy("build-keystore", "--type", "jks", "--key", dated / "soon.key", "--cert", dated / "soon.pem",
         "--alias", "soon", "--storepass", "env:KTPY_STORE_PW", "-o", store)
    before = store.read_bytes()
    args = ["import", store, "--key", dated / "expired.key", "--cert", dated / "expired.pem", "--alias", "old",
            "--storepass", "env:KTPY_STORE_PW"]
    refused = ktpy(*args, code=1)
    assert refused.stderr.startswith("Error: the certificate CN=expired,O=Acme expired on ")
    assert refused.stderr.endswith(" UTC; renew it (ktpy renew), or pass --allow-expired to package it anyway\n")
    assert store.read_bytes() == before
    allowed = ktpy(*args, "--allow-expired")
    assert "Warning: the certificate CN=expired,O=Acme expired on " in allowed.stderr
    assert store.read_bytes() != before
