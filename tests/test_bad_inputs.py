"""Every bad input in the user guide's table (docs/bad-input.md): exit code, the exact message, no
traceback, and no output file created or changed. Each row's id appears in that table (checked below)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from helpers import ktpy, with_key_derivation
from hostile import STOREPASS as HOSTILE_PASS
from hostile import bks_with_rounds, jceks_back_reference_bomb, jceks_keys_at_max_rounds, pkcs12_parts_at_max_rounds

from keytool_py import KeyType, build_keystore, create_ca, ledger
from keytool_py.certs import to_pem
from keytool_py.keys import private_key_to_pem

README = Path(__file__).resolve().parent.parent / "docs" / "bad-input.md"  # the table moved from the README
GOOD, BAD = "good-password", "bad-password"
ENV = {"SECKEY": "0123456789abcdef", "GOOD": GOOD, "BAD": BAD, "NONASCII": "pässwörd-1", "HOSTILE": HOSTILE_PASS}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LONG_ALIAS = "€" * 21845 + "x"  # 65536 bytes in Java's modified UTF-8 (3 per euro sign)


@pytest.fixture(scope="module")
def material(tmp_path_factory, key_pool, now):
    """CA folders (good, expired, not yet valid, no keyCertSign), a client, and stores of each type."""
    root = tmp_path_factory.mktemp("bad")
    ca = create_ca("CN=Bad Inputs CA", key=key_pool(KeyType.EC_P256, 40), now=now)
    leaf = ca.issue_client("CN=bad-client", key=key_pool(KeyType.EC_P256, 41), now=now)
    other = ca.issue_client("CN=other", key=key_pool(KeyType.EC_P256, 42), now=now)
    _ca_dir(root / "ca", ca.cert, ca.key, GOOD)
    _ca_dir(root / "revoked-ca", ca.cert, ca.key, GOOD)  # its ledger: bad-client revoked for key compromise
    (root / "revoked-ca/issued.jsonl").write_bytes(
        ledger.issued_record(leaf.cert, by="test", now=now) + b"\n"
        + ledger.revoked_record(leaf.cert.serial_number, ledger.Reason.KEY_COMPROMISE, now) + b"\n")
    old = create_ca("CN=Old CA", key=key_pool(KeyType.EC_P256, 43), days=1, now=now - dt.timedelta(days=10))
    _ca_dir(root / "expired-ca", old.cert, old.key, None)
    future = create_ca("CN=Future CA", key=key_pool(KeyType.EC_P256, 44), now=now + dt.timedelta(days=10))
    _ca_dir(root / "future-ca", future.cert, future.key, None)
    _ca_dir(root / "no-certsign-ca", _ca_without_cert_sign(key_pool(KeyType.EC_P256, 45), now),
            key_pool(KeyType.EC_P256, 45), None)
    (root / "client.pem").write_bytes(to_pem(leaf.chain))
    (root / "client.key").write_bytes(private_key_to_pem(leaf.key))
    (root / "other.key").write_bytes(private_key_to_pem(other.key))
    for store_type, suffix in (("jks", "jks"), ("jceks", "jceks"), ("pkcs12", "p12")):
        data = build_keystore(store_type, leaf.key, leaf.chain, alias="m", storepass=GOOD, now=now)
        (root / f"ks.{suffix}").write_bytes(data)
        (root / f"truncated.{suffix}").write_bytes(data[: len(data) // 2])
        flipped = bytearray(data)
        if store_type == "pkcs12":
            flipped[len(data) // 2] ^= 0x01
        else:
            flipped[18 + 1 + 7] ^= 0x01  # last byte of the timestamp of entry "m"
        (root / f"flipped.{suffix}").write_bytes(bytes(flipped))
    (root / "ks-keypass.jks").write_bytes(build_keystore("jks", leaf.key, leaf.chain, alias="m", storepass=GOOD,
                                                         keypass="key-password-1", now=now))
    (root / "garbage.pem").write_bytes(b"this is not a certificate\n")
    (root / "looks-encrypted.yaml").write_bytes(b'plain: text\nsecret: "![bm90IGNpcGhlcnRleHQ=]"\n')
    (root / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    (root / "empty.pem").write_bytes(b"")
    (root / "exists.jks").write_bytes(b"keep me")
    (root / "begin-no-end.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n" * 36_000)  # 1 MB
    (root / "rounds.key").write_bytes(with_key_derivation(private_key_to_pem(leaf.key, GOOD), rounds=2**31 - 1))
    (root / "bom.txt").write_bytes("\ufeff".encode() + GOOD.encode() + b"\n")
    (root / "mismatch.jks").write_bytes(_mismatched_jks(other.key, leaf.cert))
    # crafted stores of tests/hostile.py (password "changeit"), and keytool's secret keys
    (root / "bomb.jceks").write_bytes(jceks_back_reference_bomb())
    (root / "rounds.p12").write_bytes(pkcs12_parts_at_max_rounds())
    (root / "rounds.jceks").write_bytes(jceks_keys_at_max_rounds(leaf.cert))
    (root / "secret.jceks").write_bytes((FIXTURES / "keytool-secret.jceks").read_bytes())
    # Bouncy Castle's BKS (password "changeit"): as written, cut in half, and with a hostile count
    bks = (FIXTURES / "bc-v2.bks").read_bytes()
    (root / "ks.bks").write_bytes(bks)
    (root / "truncated.bks").write_bytes(bks[: len(bks) // 2])
    (root / "rounds.bks").write_bytes(bks_with_rounds(bks, 2**31 - 1))
    return root


def _mismatched_jks(key, cert) -> bytes:
    """A JKS whose key entry holds a certificate of another key (pyjks writes what it is given)."""
    import jks

    from keytool_py.certs import to_der
    from keytool_py.keys import private_key_to_der

    entry = jks.PrivateKeyEntry.new("m", [to_der(cert)], private_key_to_der(key))
    return jks.KeyStore.new("jks", [entry]).saves(GOOD)


def _ca_dir(folder: Path, cert, key, password):
    folder.mkdir()
    (folder / "ca.pem").write_bytes(to_pem([cert]))
    (folder / "ca.key").write_bytes(private_key_to_pem(key, password))


def _ca_without_cert_sign(key, now):
    name = x509.Name.from_rfc4514_string("CN=No CertSign CA")
    usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=9))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, __import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA256"]).SHA256()))


@dataclass(frozen=True)
class Row:
    id: str
    args: tuple[str, ...]  # {d} is the material folder
    code: int
    message: str  # {d} as above


def _build(store_type, out, *extra, key="client.key", storepass="env:GOOD"):
    password = ("--storepass", storepass) if storepass else ()
    return ("build-keystore", "--type", store_type, "--key", f"{{d}}/{key}", "--cert", "{d}/client.pem",
            "--alias", "m", *password, "-o", f"{{d}}/{out}", *extra)


def _export(source, storepass="env:BAD"):
    return ("export-pem", f"{{d}}/{source}", "--storepass", storepass, "-o", "{d}/out.pem")


JKS_WRONG = "wrong store password for the {t} keystore (or the file was altered: its integrity hash does not match)"
ROWS = [
    Row("wrong-storepass-jks", _export("ks.jks"), 1, JKS_WRONG.format(t="JKS")),
    Row("wrong-storepass-jceks", _export("ks.jceks"), 1, JKS_WRONG.format(t="JCEKS")),
    Row("wrong-storepass-pkcs12", _export("ks.p12"), 1,
        "wrong store password for the PKCS12 keystore (its MAC does not verify)"),
    Row("wrong-keypass", ("convert", "{d}/ks-keypass.jks", "--to", "pkcs12", "--storepass", "env:GOOD",
                          "--keypass", "env:BAD", "-o", "{d}/out.p12"), 1,
        "wrong key password for entry 'm' in the JKS keystore"),
    Row("wrong-ca-password", ("issue-client", "--ca", "{d}/ca", "--ca-password", "env:BAD", "--subject", "CN=x",
                              "--out-dir", "{d}/out"), 1, "wrong password for the CA key {d}/ca/ca.key"),
    Row("truncated-jks", _export("truncated.jks", "env:GOOD"), 1, "the JKS keystore is corrupted or truncated"),
    Row("truncated-jceks", _export("truncated.jceks", "env:GOOD"), 1, "the JCEKS keystore is corrupted or truncated"),
    Row("truncated-pkcs12", _export("truncated.p12", "env:GOOD"), 1, "the PKCS12 keystore is corrupted or truncated"),
    Row("bitflip-jks", _export("flipped.jks", "env:GOOD"), 1,
        "the JKS keystore was altered or damaged: its integrity hash does not match, though the password opens "
        "its key"),
    Row("bitflip-jceks", _export("flipped.jceks", "env:GOOD"), 1,
        "the JCEKS keystore was altered or damaged: its integrity hash does not match, though the password opens "
        "its key"),
    Row("bitflip-pkcs12", _export("flipped.p12", "env:GOOD"), 1,
        "the PKCS12 keystore was altered or damaged: its MAC does not verify, though the password decrypts its "
        "contents"),
    Row("garbage-pem", ("export-pem", "{d}/garbage.pem", "-o", "{d}/out.pem"), 1,
        "{d}/garbage.pem is neither a PEM nor a DER certificate"),
    Row("broken-pem", ("export-pem", "{d}/broken.pem", "-o", "{d}/out.pem"), 1,
        "{d}/broken.pem holds a CERTIFICATE block that is not valid"),
    Row("empty-pem", ("export-pem", "{d}/empty.pem", "-o", "{d}/out.pem"), 1, "{d}/empty.pem is empty"),
    Row("missing-file", ("export-pem", "{d}/nope.pem", "-o", "{d}/out.pem"), 1, "source {d}/nope.pem does not exist"),
    Row("directory-as-file", ("export-pem", "{d}/ca", "-o", "{d}/out.pem"), 1,
        "source {d}/ca is a directory, not a file"),
    Row("key-cert-mismatch", _build("jks", "out.jks", key="other.key"), 1,
        "the private key {d}/other.key does not match the certificate in {d}/client.pem"),
    Row("expired-ca", ("issue-client", "--ca", "{d}/expired-ca", "--subject", "CN=x", "--out-dir", "{d}/out"), 1,
        "the CA in {d}/expired-ca expired on {expired}"),
    Row("not-yet-valid-ca", ("issue-client", "--ca", "{d}/future-ca", "--subject", "CN=x", "--out-dir", "{d}/out"),
        1, "the CA in {d}/future-ca is not valid before {future} UTC"),
    Row("ca-without-keycertsign", ("issue-client", "--ca", "{d}/no-certsign-ca", "--subject", "CN=x",
                                   "--out-dir", "{d}/out"), 1,
        "the CA in {d}/no-certsign-ca: the certificate's key usage does not allow keyCertSign"),
    Row("pkcs12-distinct-keypass", _build("pkcs12", "out.p12", "--keypass", "env:BAD"), 1,
        "a PKCS12 keystore cannot have a key password different from its store password (Java cannot read it); "
        "use the same password, or a JKS or JCEKS keystore"),
    Row("existing-output", _build("jks", "exists.jks"), 1, "{d}/exists.jks already exists; pass --force to replace it"),
    Row("no-password-no-terminal", _build("jks", "out.jks", storepass=None), 2,
        "no password given and stdin is not a terminal; pass --storepass env:VAR, file:PATH or pass:TEXT"),
    Row("non-ascii-jceks", _build("jceks", "out.jceks", storepass="env:NONASCII"), 1,
        "the store password for a JCEKS keystore must be printable ASCII; Java refuses other characters there"),
    Row("pem-begin-without-end", ("export-pem", "{d}/begin-no-end.pem", "-o", "{d}/out.pem"), 1,
        "{d}/begin-no-end.pem holds no PEM CERTIFICATE block"),
    Row("pkcs8-huge-rounds", _build("jks", "out.jks", "--key-password", "env:GOOD", key="rounds.key"), 1,
        "the key {d}/rounds.key is encrypted with 2,147,483,647 key-derivation rounds; ktpy reads at most "
        "5,000,000, as Java does (the file is damaged or crafted)"),
    Row("password-file-endless", _export("ks.jks", "file:/dev/zero"), 1,
        "password file /dev/zero is larger than 4096 bytes, the most ktpy reads for a password file "
        "(named by --storepass)"),
    Row("password-file-bom", _export("ks.jks", "file:{d}/bom.txt"), 1,
        "password file {d}/bom.txt begins with a UTF-8 byte-order mark (as Notepad may write); save it without "
        "one (named by --storepass)"),
    Row("password-without-prefix", _export("ks.jks", "S3cretPart:rest"), 1,
        "--storepass takes pass:TEXT, env:VAR, file:PATH, prompt or generate:PATH (to give the password itself, "
        "write pass:...)"),
    Row("subject-control-character", ("create-ca", "--dir", "{d}/new-ca", "--subject", "CN=x\nOK: fine",
                                      "--no-password"), 1,
        "subject 'CN=x\\nOK: fine' holds a control character (a line break, NUL or terminal escape); names "
        "cannot hold them"),
    Row("subject-hex-not-der", ("create-ca", "--dir", "{d}/new-ca", "--subject", "CN=#616263", "--no-password"), 1,
        "cannot read subject 'CN=#616263' (#616263... is not the hex of a DER string (UTF8String, "
        "PrintableString, IA5String, T61String, BMPString or UniversalString)); write it as "
        "CN=name,O=organisation,C=US"),
    Row("days-past-9999", ("create-ca", "--dir", "{d}/new-ca", "--subject", "CN=x", "--key-type", "ec-p256",
                           "--no-password", "--days", "3000000"), 1,
        "a validity of 3000000 days ends after the year 9999, the last a certificate can state (RFC 5280 "
        "GeneralizedTime); give at most {limit} days"),
    Row("san-non-ascii", ("issue-client", "--ca", "{d}/ca", "--subject", "CN=x", "--san", "email:jörg@acme.com",
                          "--out-dir", "{d}/out"), 1,
        "SAN 'email:jörg@acme.com' holds non-ASCII characters; X.509 allows ASCII only there (write a domain in "
        "its xn-- form)"),
    Row("client-name-outside-folder", ("issue-client", "--ca", "{d}/ca", "--subject", "CN=x", "--name", "../x",
                                       "--out-dir", "{d}/out"), 1,
        "the name '../x' is not usable in file names: use letters, digits, '.', '_' and '-'"),
    Row("sign-jwt-key-mismatch", ("sign-jwt", "--keystore", "{d}/mismatch.jks", "--storepass", "env:GOOD",
                                  "--alias", "m", "--iss", "k", "--sub", "u@x", "--aud", "https://login.salesforce.com"),
        1, "the key of entry 'm' does not match its certificate CN=bad-client: Salesforce checks the assertion "
           "with that certificate and would refuse it"),
    Row("alias-over-65535-bytes", ("rename", "{d}/ks.jks", "--storepass", "env:GOOD", "--alias", "m",
                                   "--to", LONG_ALIAS), 1,
        "the alias is 65536 bytes in Java's encoding; Java keystores hold aliases of at most 65535 bytes"),
    Row("jceks-serialization-bomb", ("convert", "{d}/bomb.jceks", "--to", "pkcs12", "--storepass", "env:HOSTILE",
                                     "--dest-storepass", "env:GOOD", "-o", "{d}/out.p12"), 1,
        "the secret key entry 'bomb' in the JCEKS keystore is damaged or holds objects other than a sealed key "
        "(Java refuses such a store)"),
    Row("pkcs12-wrong-password-max-rounds", _export("rounds.p12"), 1,
        "wrong store password for the PKCS12 keystore (its MAC does not verify)"),
    Row("jceks-wrong-password-max-rounds", _export("rounds.jceks"), 1, JKS_WRONG.format(t="JCEKS")),
    Row("aliases-equal-but-for-case", _build("jks", "out.jks", "--key", "{d}/client.key", "--cert",
                                             "{d}/client.pem", "--alias", "M"), 1,
        "two entries would have the alias 'm' (Java ignores case)"),
    Row("secret-key-into-jks", ("convert", "{d}/secret.jceks", "--to", "jks", "--storepass", "env:HOSTILE",
                                "-o", "{d}/out.jks"), 1,
        "the entry 'imported-pass' is a secret key, which a JKS keystore cannot hold; convert to JCEKS or PKCS12 "
        "instead"),
    Row("window-too-long", ("expiry", "{d}/client.pem", "--within", "999999999999d"), 2,
        "Invalid value for '--within': '999999999999d' is too long a window; the largest is 1000000d"),
    Row("crl-days-past-9999", ("crl", "--ca", "{d}/ca", "--ca-password", "env:GOOD", "--days", "3000000",
                               "-o", "{d}/out.crl"), 2,
        "Invalid value for '--days': 3000000 days ends after the year 9999, the last a CRL can state; the largest "
        "is {limit}"),
    Row("store-locked", ("import", "{d}/locked.jks", "--trusted", "{d}/client.pem", "--storepass", "env:GOOD"), 1,
        "{d}/locked.jks is locked by another ktpy; try again when it is done, or pass --wait SECONDS"),
    Row("secure-props-looks-encrypted", ("secure-props", "encrypt", "--in", "{d}/looks-encrypted.yaml", "--out",
                                         "{d}/out.yaml", "--key", "env:SECKEY"), 1,
        "line 2: a value written as ![...] is not encrypted with the key --key env:SECKEY "
        "(AES/CBC/PKCS5Padding, random IVs); decrypt it with the key it was encrypted with first, or remove the "
        "![ and ] to have it encrypted as text"),
    Row("reuse-key-compromised", ("renew", "--cert", "{d}/client.pem", "--key", "{d}/client.key", "--reuse-key",
                                  "--ca", "{d}/revoked-ca", "--ca-password", "env:GOOD", "--out-dir", "{d}/out"), 1,
        "the key of CN=bad-client (serial {serial}) was revoked for key compromise on {revoked} UTC "
        "({d}/revoked-ca/issued.jsonl); renew it without --reuse-key, which makes a new key"),
    Row("wrong-storepass-bks", _export("ks.bks"), 1,
        "wrong store password for the BKS keystore (its HMAC does not verify)"),
    Row("truncated-bks", _export("truncated.bks", "env:HOSTILE"), 1, "the BKS keystore is corrupted or truncated"),
    Row("bks-hostile-rounds", ("convert", "{d}/rounds.bks", "--to", "pkcs12", "--storepass", "env:HOSTILE",
                               "-o", "{d}/out.p12"), 1,
        "the BKS keystore claims 2,147,483,647 key derivation rounds; ktpy reads at most 5,000,000 (Bouncy Castle "
        "writes 1024 to 2047)"),
    # servers on loopback (the `network` fixture): {closed}, {notls}, {stall}, {proxy} are its ports
    Row("server-unreachable", ("fetch-chain", "127.0.0.1:{closed}"), 1,
        "could not connect to 127.0.0.1:{closed}: connection refused"),
    Row("server-speaks-no-tls", ("verify-trust", "127.0.0.1:{notls}", "--truststore", "{d}/ks.jks",
                                 "--storepass", "env:GOOD"), 1,
        "127.0.0.1:{notls} does not speak TLS: its answer to the TLS hello is not TLS (wrong version number)"),
    Row("server-stalls-handshake", ("build-truststore", "--from-server", "127.0.0.1:{stall}", "--type", "jks",
                                    "-o", "{d}/out.jks", "--storepass", "env:GOOD", "--timeout", "1"), 1,
        "the TLS handshake with 127.0.0.1:{stall} did not finish within 1 s: the server accepted the connection "
        "but stalled"),
    Row("proxy-refuses-connect", ("fetch-chain", "127.0.0.1:{closed}", "--proxy", "127.0.0.1:{proxy}"), 1,
        "the proxy 127.0.0.1:{proxy} refused to CONNECT to 127.0.0.1:{closed}: it answered 'HTTP/1.1 403 Access "
        "violation'"),
]
NETWORK_KEYS = ("{closed}", "{notls}", "{stall}", "{proxy}")


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A closed loopback port, a port that answers in HTTP, one that stalls mid-handshake, and
    Debian's tinyproxy allowing CONNECT to the HTTP port only (so it refuses the closed one)."""
    from tls_servers import StallingServer, closed_port, tinyproxy

    with StallingServer(b"HTTP/1.1 400 Bad Request\r\n\r\n") as notls, StallingServer() as stall, \
            tinyproxy(tmp_path_factory.mktemp("proxy"), [notls.port]) as proxy:
        yield {"closed": closed_port(), "notls": notls.port, "stall": stall.port, "proxy": proxy}
# Rows proven by their own test (a real full stdout cannot go through CliRunner).
OWN_TESTS = {"stdout-full"}


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def held_lock(material):
    """Another process holding the lock of {d}/locked.jks (an edit in progress) for the module."""
    import subprocess
    import sys

    (material / "locked.jks").write_bytes((material / "ks.jks").read_bytes())
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from keytool_py import files\n"
        f"with files.locked({str(material / 'locked.jks')!r}):\n    print('held', flush=True); time.sleep(600)")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    yield
    holder.kill()
    holder.wait()


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input(row, material, held_lock, now, request, monkeypatch):
    uses_network = any(key in text for text in (*row.args, row.message) for key in NETWORK_KEYS)
    net = request.getfixturevalue("network") if uses_network else {}
    args = [a.format(d=material, **net) for a in row.args]
    expired = (now - dt.timedelta(days=9)).strftime("%Y-%m-%d")
    future = (now + dt.timedelta(days=10) - dt.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    last_day = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    monkeypatch.setattr("keytool_py.issue.utcnow", lambda: now)  # the command's clock is the test's
    limit = (last_day - now).days
    client = x509.load_pem_x509_certificate((material / "client.pem").read_bytes())
    expected = row.message.format(d=material, expired=expired, future=future, limit=limit,
                                  serial=format(client.serial_number, "X"), revoked=now.strftime("%Y-%m-%d %H:%M"),
                                  **net)
    before = snapshot(material)
    result = ktpy(*args, env=ENV, code=None)
    assert result.exit_code == row.code, result.output
    assert result.stderr.strip().splitlines()[-1] == f"Error: {expected}"
    assert "Traceback" not in result.output
    for secret in (GOOD, BAD, "S3cretPart"):
        assert secret not in result.output
    assert snapshot(material) == before


def test_every_row_is_in_the_readme_table():
    table_ids = set(re.findall(r"^\| `([a-z0-9-]+)` \|", README.read_text(), flags=re.MULTILINE))
    assert table_ids == {r.id for r in ROWS} | OWN_TESTS


def test_stdout_full(material):
    """`ktpy export-pem CERT > /dev/full`: one sentence, exit 1, nothing else on stderr."""
    import subprocess
    import sys

    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "keytool_py", "export-pem", str(material / "client.pem")],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "Error: cannot write to standard output: No space left on device\n"


# --- a CA key in a PKCS#11 token (SoftHSM2, tests/softhsm.py): each failure as one sentence ------
# The ids are in docs/hsm.md's table (checked below); the token removed during a batch is its own
# test (tests/test_hsm.py), since it needs the token pulled between two signatures.

def _create(uri: str, *extra: str, module: str = "{m}") -> tuple[str, ...]:
    return ("create-ca", "--dir", "{d}/new-ca", "--subject", "CN=x", "--key-type", "ec-p256", "--pkcs11", uri,
            "--pkcs11-module", module, "--pin", "env:PIN", *extra)


HSM_ROWS = [
    Row("pkcs11-module-not-found", _create("pkcs11:token=ktpy-ca;object=x", module="{d}/nope.so"), 1,
        "PKCS#11 module {d}/nope.so not found (no such file)"),
    Row("pkcs11-not-a-module", _create("pkcs11:token=ktpy-ca;object=x", module="{d}/not-a-module.so"), 1,
        "{d}/not-a-module.so cannot be loaded as a PKCS#11 module (invalid ELF header)"),
    Row("pkcs11-token-not-found", _create("pkcs11:token=nope;object=x"), 1,
        "no token 'nope' in PKCS#11 module {m} (its tokens: 'ktpy-ca', 'ktpy-gone', 'ktpy-locked')"),
    Row("pkcs11-wrong-pin", ("issue-client", "--ca", "{d}/hsm-ca", "--pin", "env:BAD", "--subject", "CN=x",
                             "--out-dir", "{d}/out"), 1, "wrong PIN for token 'ktpy-ca'"),
    Row("pkcs11-pin-locked", ("issue-client", "--ca", "{d}/locked-ca", "--pin", "env:PIN", "--subject", "CN=x",
                              "--out-dir", "{d}/out"), 1,
        "the user PIN of token 'ktpy-locked' is locked (too many wrong PINs); its security officer must unlock "
        "it with the token's own tool"),
    Row("pkcs11-object-not-found", _create("pkcs11:token=ktpy-ca;object=nope", "--existing-key"), 1,
        "token 'ktpy-ca' holds no private key 'nope'"),
    Row("pkcs11-key-cannot-sign", _create("pkcs11:token=ktpy-ca;object=dsa", "--existing-key"), 1,
        "the key 'dsa' in token 'ktpy-ca' is a DSA key; ktpy signs with RSA or EC keys"),
    Row("pkcs11-key-exists", _create("pkcs11:token=ktpy-ca;object=bad-inputs-ca"), 1,
        "token 'ktpy-ca' already holds a key 'bad-inputs-ca'; pass --existing-key to make the CA with it, or "
        "name another object"),
    Row("pkcs11-pin-in-uri", _create("pkcs11:token=ktpy-ca;object=x?pin-value=1234"), 1,
        "--pkcs11: a PIN in the URI (pin-value) would show in the process list and be recorded; give it with "
        "--pin env:VAR or file:PATH, or pin-source=FILE"),
    Row("pkcs11-no-module", ("issue-client", "--ca", "{d}/no-module-ca", "--pin", "env:PIN", "--subject", "CN=x",
                             "--out-dir", "{d}/out"), 1,
        "no PKCS#11 module named: give --pkcs11-module PATH, module-path=PATH in the URI, or set KTPY_PKCS11_MODULE"),
]
HSM_OWN_TESTS = {"pkcs11-token-removed"}  # tests/test_hsm.py::test_the_token_removed_during_a_batch_...


@pytest.fixture(scope="module")
def hsm_material(softhsm, tmp_path_factory):
    """A CA folder whose key is in token ktpy-ca, one naming the locked token, one naming no module."""
    import softhsm as softhsm_mod

    root = tmp_path_factory.mktemp("bad-hsm")
    ktpy("create-ca", "--dir", root / "hsm-ca", "--subject", "CN=Bad Inputs HSM CA", "--key-type", "ec-p256",
         "--pkcs11", "pkcs11:token=ktpy-ca;object=bad-inputs-ca", "--pkcs11-module", softhsm.module,
         "--pin", "env:PIN", env={"PIN": softhsm_mod.PIN})
    for name, uri in (("locked-ca", f"pkcs11:token=ktpy-locked;object=ca?module-path={softhsm.module}"),
                      ("no-module-ca", "pkcs11:token=ktpy-ca;object=bad-inputs-ca")):
        (root / name).mkdir()
        (root / name / "ca.pem").write_bytes((root / "hsm-ca/ca.pem").read_bytes())
        (root / name / "ca.pkcs11").write_text(uri + "\n")
    (root / "not-a-module.so").write_bytes(b"not a shared library\n" * 200)
    return root


@pytest.mark.parametrize("row", HSM_ROWS, ids=[r.id for r in HSM_ROWS])
def test_bad_pkcs11_input(row, hsm_material, softhsm, monkeypatch):
    import softhsm as softhsm_mod

    monkeypatch.delenv("KTPY_PKCS11_MODULE", raising=False)
    args = [a.format(d=hsm_material, m=softhsm.module) for a in row.args]
    before = snapshot(hsm_material)
    result = ktpy(*args, env={**ENV, "PIN": softhsm_mod.PIN}, code=row.code)
    assert result.stderr.strip().splitlines()[-1] == f"Error: {row.message.format(d=hsm_material, m=softhsm.module)}"
    assert "Traceback" not in result.output and softhsm_mod.PIN not in result.output and BAD not in result.output
    assert snapshot(hsm_material) == before


def test_every_pkcs11_row_is_in_the_hsm_page_table():
    page = (README.parent / "hsm.md").read_text()  # README is docs/bad-input.md
    table_ids = set(re.findall(r"^\| `(pkcs11-[a-z0-9-]+)` \|", page, flags=re.MULTILINE))
    assert table_ids == {r.id for r in HSM_ROWS} | HSM_OWN_TESTS
