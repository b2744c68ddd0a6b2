"""ktpy expiry over a tree of every store type and PEM/DER files, with a fixed clock.

The tree is made here from one old CA (EC keys: cheap), with certificates that expired 35 days
before the clock, expire 5 days after it, or are healthy; plus stores written by keytool and
OpenSSL (fixtures/, with what keytool listed in fixtures/expected.json), a wrong-password
PKCS12, a truncated JKS, and files that hold no certificate. Each not-after sits half a day off
a day boundary, so the CLI (whose clock is the real one, a few seconds past NOW) counts the same
whole days as the library with the clock fixed at NOW.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import NOW, STOREPASS, ktpy
from prometheus_client.parser import text_string_to_metric_families

from keytool_py import KeyType, create_ca, expiry, keystore
from keytool_py.certs import to_der, to_pem
from keytool_py.keys import private_key_to_pem

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL_TOOL_STORES = ["keytool-rsa.jks", "keytool-ec.jks", "keytool.jceks", "keytool.p12", "keytool-truststore.p12",
                    "openssl-aes.p12", "openssl-legacy.p12"]
PROD_PASS = "prod-pass-1"
HALF_DAY = dt.timedelta(hours=12)


def _days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture(scope="module")
def old_ca(key_pool):
    return create_ca("CN=Old Root,O=Acme", key=key_pool(KeyType.EC_P256, 30), now=NOW - _days(800))


@pytest.fixture(scope="module")
def leaves(old_ca, key_pool):
    """expired (35 days before NOW), expiring (in 5 days), healthy (in 364 days)."""
    def make(name, issued_ago, n):
        return old_ca.issue_client(f"CN={name},O=Acme", key=key_pool(KeyType.EC_P256, n), days=365,
                                   now=NOW - issued_ago + HALF_DAY)
    return {"expired": make("expired", _days(400), 31), "expiring": make("expiring", _days(360), 32),
            "healthy": make("healthy", _days(1), 33)}


@pytest.fixture(scope="module")
def tree(tmp_path_factory, leaves):
    root = tmp_path_factory.mktemp("expiry") / "tree"

    def put(rel: str, data: bytes) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def store(kind, leaf, password=STOREPASS):
        return keystore.build(kind, leaf.key, leaf.chain, alias="mule-client", storepass=password, now=NOW)

    put("kits/a/keystore.jks", store("jks", leaves["expiring"]))
    put("kits/b/keystore.p12", store("pkcs12", leaves["expired"]))
    put("kits/c/keystore.jceks", store("jceks", leaves["healthy"]))
    put("prod/keystore.p12", store("pkcs12", leaves["healthy"], PROD_PASS))
    put("certs/expired.der", to_der(leaves["expired"].cert))
    put("certs/bundle.pem", to_pem(leaves["healthy"].chain).replace(b"\n", b"\r\n"))
    put("bad/wrong.p12", store("pkcs12", leaves["healthy"], "other-pass-1"))
    put("bad/truncated.jks", store("jks", leaves["healthy"])[:300])
    put("noise/README.txt", b"not a certificate\n")
    put("noise/client.key", private_key_to_pem(leaves["healthy"].key))
    put("noise/empty.pem", b"")
    os.mkfifo(root / "noise/pipe.pem")  # opening it would block: a scan must pass it by
    for name in REAL_TOOL_STORES:
        put(f"real/{name}", (FIXTURES / name).read_bytes())
    (root.parent / "passwords.txt").write_text(f"# which password opens which PKCS12\n\nprod/* pass:{PROD_PASS}\n")
    return root


def password_map():
    return expiry.PasswordMap(rules=(("prod/*", PROD_PASS),), default=STOREPASS)


def rel(tree: Path, path: str) -> str:
    return str(Path(path).relative_to(tree))


@pytest.fixture(scope="module")
def scanned(tree):
    return expiry.scan([str(tree)], passwords=password_map(), now=NOW, workers=1)


def test_each_certificate_gets_its_state_and_days_left_with_a_fixed_clock(tree, scanned):
    within = _days(30)
    seen = {(rel(tree, f.file), f.alias, f.position): (scanned.state(f, within), scanned.days_left(f))
            for f in scanned.certificates}
    assert seen[("kits/a/keystore.jks", "mule-client", 0)] == ("expiring", 5)
    assert seen[("kits/b/keystore.p12", "mule-client", 0)] == ("expired", -35)
    assert seen[("kits/c/keystore.jceks", "mule-client", 0)] == ("valid", 364)
    assert seen[("prod/keystore.p12", "mule-client", 0)] == ("valid", 364)  # opened by the map's password
    assert seen[("certs/expired.der", None, 0)] == ("expired", -35)
    assert seen[("certs/bundle.pem", None, 0)] == ("valid", 364)
    root_left = (NOW - _days(800) + _days(3650) - NOW) // _days(1)
    assert seen[("certs/bundle.pem", None, 1)] == ("valid", root_left)  # the CA, second in the bundle
    assert seen[("kits/a/keystore.jks", "mule-client", 1)] == ("valid", root_left)
    # soonest first
    ends = [f.not_after for f in scanned.certificates]
    assert ends == sorted(ends)
    assert [rel(tree, f.file) for f in scanned.certificates[:2]] == ["certs/expired.der", "kits/b/keystore.p12"]
    assert len(scanned.problems(within)) == 3
    assert len(scanned.problems(_days(1))) == 2


def test_unreadable_files_are_listed_with_the_reason_and_other_files_are_skipped(tree, scanned):
    assert {rel(tree, u.file): u.reason for u in scanned.unreadable} == {
        "bad/truncated.jks": "the JKS keystore is corrupted or truncated",
        "bad/wrong.p12": "wrong store password for the PKCS12 keystore (its MAC does not verify)",
    }
    files = {rel(tree, f.file) for f in scanned.certificates}
    assert not any(name.startswith("noise/") for name in files)


def test_stores_made_by_keytool_and_openssl_list_what_keytool_listed(tree, scanned):
    """The oracle is fixtures/expected.json, recorded from `keytool -list -v` when the fixtures
    were made: every certificate keytool showed (by SHA-256), each entry's first one under its alias."""
    expected = json.loads((FIXTURES / "expected.json").read_text())
    for name in REAL_TOOL_STORES:
        found = [f for f in scanned.certificates if rel(tree, f.file) == f"real/{name}"]
        entries = expected[name]["entries"]
        assert {f.sha256 for f in found} == {s for e in entries for s in e["sha256"]}, name
        assert {(e["alias"], e["sha256"][0]) for e in entries} <= {(f.alias, f.sha256) for f in found}, name
        assert {f.store_type for f in found} == {expected[name]["type"]}, name


def test_a_pkcs12_without_a_password_is_unreadable_with_the_way_out(tree):
    result = expiry.scan([str(tree / "kits")], now=NOW, workers=1)
    assert [(rel(tree, u.file), u.reason) for u in result.unreadable] == [
        ("kits/b/keystore.p12", "a PKCS12 keystore needs its store password: give --storepass, or a --passwords "
                                "line whose glob matches this file")]
    assert {rel(tree, f.file) for f in result.certificates} == {"kits/a/keystore.jks", "kits/c/keystore.jceks"}


def test_the_process_pool_finds_the_same_as_one_process(tree, tmp_path, scanned):
    many = tmp_path / "many"
    for n in range(3):
        shutil.copytree(tree, many / str(n), ignore=shutil.ignore_patterns("pipe.pem"))
    parallel = expiry.scan([str(many)], passwords=password_map(), now=NOW, workers=2)
    assert len(parallel.certificates) == 3 * len(scanned.certificates)
    assert len(parallel.unreadable) == 3 * len(scanned.unreadable)
    key = sorted((rel(many / "0", f.file), f.alias, f.position, f.sha256) for f in parallel.certificates
                 if f.file.startswith(str(many / "0")))
    assert key == sorted((rel(tree, f.file), f.alias, f.position, f.sha256) for f in scanned.certificates)


def test_password_map_globs():
    rules = expiry.PasswordMap(rules=(("prod/*.p12", "a"), ("*.pfx", "b")), default="c")
    assert rules.for_file("/srv/apps/prod/x.p12") == "a"
    assert rules.for_file("prod/x.p12") == "a"
    assert rules.for_file("/srv/apps/preprod/x.p12") == "c"  # folder boundary
    assert rules.for_file("/srv/any/where/y.pfx") == "b"
    with pytest.raises(expiry.BadInputError, match="line 2 must be GLOB SRC"):
        expiry.parse_password_map("# x\nlonely\n")


# --- the command ---



def rows(stdout: str) -> list[list[str]]:
    return [re.split(r" {2,}", line) for line in stdout.splitlines()]


def test_cli_lists_soonest_first_and_exits_3(tree):
    result = ktpy("expiry", tree, "--passwords", tree.parent / "passwords.txt", "--storepass", f"pass:{STOREPASS}",
                  code=3)
    table = rows(result.stdout)
    assert table[0] == ["STATE", "DAYS", "NOT AFTER", "FILE", "ALIAS", "SUBJECT", "ISSUER"]
    expired_end = NOW - _days(35) + HALF_DAY
    assert table[1] == ["EXPIRED", "-35", f"{expired_end:%Y-%m-%d %H:%M}", str(tree / "certs/expired.der"), "-",
                        "CN=expired,O=Acme", "CN=Old Root,O=Acme"]
    assert table[2][:5] == ["EXPIRED", "-35", f"{expired_end:%Y-%m-%d %H:%M}", str(tree / "kits/b/keystore.p12"),
                            "mule-client"]
    assert table[3][:5] == ["EXPIRING", "5", f"{NOW + _days(5) + HALF_DAY:%Y-%m-%d %H:%M}",
                            str(tree / "kits/a/keystore.jks"), "mule-client"]
    assert result.stdout.splitlines()[-2:] == [
        f"UNREADABLE  {tree / 'bad/truncated.jks'}: the JKS keystore is corrupted or truncated",
        f"UNREADABLE  {tree / 'bad/wrong.p12'}: wrong store password for the PKCS12 keystore (its MAC does not verify)",
    ]
    assert result.stderr.endswith("2 expired, 1 expire within 30 day(s); 2 file(s) could not be read\n")


def test_cli_exit_codes(tree):
    ktpy("expiry", tree / "kits/c", code=0)
    ktpy("expiry", tree / "kits/a", "--within", "1d", code=0)
    ktpy("expiry", tree / "kits/a", "--within", "6d", code=3)
    ktpy("expiry", tree / "kits/a", "--within", "1w", code=3)
    ktpy("expiry", tree / "kits/c", tree / "bad/truncated.jks", code=0)
    ktpy("expiry", tree / "kits/c", tree / "bad/truncated.jks", "--strict", code=3)
    failed = ktpy("expiry", tree / "bad", "--storepass", f"pass:{STOREPASS}", code=1)
    assert failed.stderr.endswith("Error: none of the 2 file(s) holding certificates could be read\n")
    missing = ktpy("expiry", tree / "nowhere", code=1)
    assert missing.stderr == f"Error: {tree / 'nowhere'} does not exist\n"
    usage = ktpy("expiry", tree, "--within", "soon", code=2)
    assert "'soon' is not a time window; write it as 30d, 12h or 2w" in usage.stderr


def test_cli_json_follows_the_documented_schema(tree):
    result = ktpy("expiry", tree / "kits", tree / "certs/expired.der", "--storepass", f"pass:{STOREPASS}", "--json",
                  code=3)
    data = json.loads(result.stdout)
    assert set(data) == {"format", "now", "within_seconds", "summary", "certificates", "unreadable"}
    assert data["format"] == 1 and data["within_seconds"] == 30 * 86400
    assert data["summary"] == {"certificates": 7, "files": 4, "expired": 2, "expiring": 1, "unreadable": 0}
    first = data["certificates"][0]
    assert set(first) == {"file", "type", "alias", "position", "subject", "issuer", "serial", "sha256",
                          "not_before", "not_after", "days_left", "state"}
    assert (first["type"], first["alias"], first["state"], first["days_left"]) == ("der", None, "expired", -35)
    assert first["not_after"] == f"{NOW - _days(35) + HALF_DAY:%Y-%m-%dT%H:%M:%SZ}"
    # the schema document names every field
    doc = (Path(__file__).resolve().parent.parent / "docs" / "expiry-json.md").read_text()
    for field in [*data, *first, *data["summary"]]:
        assert f"`{field}`" in doc, field


def test_cli_prometheus_output_parses_with_prometheus_client(tree, leaves, tmp_path):
    out = tmp_path / "ktpy.prom"
    ktpy("expiry", tree, "--passwords", tree.parent / "passwords.txt", "--storepass", f"pass:{STOREPASS}",
         "--prometheus", "-o", out, code=3)
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    not_after = {(s.labels["filepath"], s.labels["alias"], s.labels["serial_number"]): s.value
                 for s in families["x509_cert_not_after"].samples}
    expired = leaves["expired"].cert
    key = (str(tree / "kits/b/keystore.p12"), "mule-client", format(expired.serial_number, "X"))
    assert not_after[key] == expired.not_valid_after_utc.timestamp()
    sample = next(s for s in families["x509_cert_expired"].samples if s.labels["filepath"] == key[0]
                  and s.labels["serial_number"] == key[2])
    assert sample.value == 1
    assert sample.labels["subject"] == "CN=expired,O=Acme" and sample.labels["subject_CN"] == "expired"
    assert sample.labels["issuer_CN"] == "Old Root" and sample.labels["filename"] == "keystore.p12"
    assert [s.value for s in families["x509_read_errors"].samples] == [2]
    assert {s.labels["filepath"] for s in families["ktpy_expiry_unreadable"].samples} == {
        str(tree / "bad/wrong.p12"), str(tree / "bad/truncated.jks")}
    assert len(families["x509_cert_not_before"].samples) == len(not_after)
    # the textfile is replaced only with --force
    again = ktpy("expiry", tree / "kits/c", "--prometheus", "-o", out, code=1)
    assert again.stderr == f"Error: {out} already exists; pass --force to replace it\n"
    ktpy("expiry", tree / "kits/c", "--prometheus", "-o", out, "--force", code=0)
    assert "kits/c/keystore.jceks" in out.read_text()


@pytest.mark.interop
def test_a_jceks_with_a_secret_key_entry_still_lists_its_certificates(tmp_path):
    """A secret key entry is a serialized Java object whose length only a parser knows: the
    reader hands such a store to pyjks. The store: fixtures/keytool.jceks plus an AES key that
    keytool -genseckey adds."""
    from helpers import require_tool
    from interop import describe, run_keytool

    require_tool("keytool")
    path = tmp_path / "secret.jceks"
    shutil.copy(FIXTURES / "keytool.jceks", path)
    proc = run_keytool("-genseckey", "-alias", "aes-key", "-keyalg", "AES", "-keysize", "128", "-keystore", path,
                       "-storetype", "JCEKS", "-storepass", STOREPASS, "-keypass", STOREPASS)
    assert proc.returncode == 0, describe(proc)
    found = expiry.scan_file(str(path))
    expected = json.loads((FIXTURES / "expected.json").read_text())["keytool.jceks"]["entries"]
    assert {f.sha256 for f in found} == {s for e in expected for s in e["sha256"]}
    assert {f.alias for f in found} == {e["alias"] for e in expected}
