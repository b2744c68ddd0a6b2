"""One escaping rule for every line ktpy prints or writes: file names that are not
UTF-8 or hold control characters, and certificate names and aliases with line breaks, terminal
escapes and bidi overrides, through expiry's text, JSON and Prometheus output (stdout and -o),
and inspect of a CA folder. Unreadable folders are listed and count for --strict.
Judges: the bytes themselves (no raw control byte, valid UTF-8, one line per certificate),
json.loads, and prometheus_client's text parser (which rejects a whole file on one bad byte).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from other_user import as_user, require_root_and_user
from prometheus_client.parser import text_string_to_metric_families

from keytool_py import KeyType, build_keystore, create_ca, files, ledger
from keytool_py.certs import to_pem
from keytool_py.escaping import escape, prometheus_label

HOSTILE_CN = "evil\nOK: all certificates valid\x1b[2J\u202egnp.\u202c"
BAD_NAME = b"caf\xe9-\x1b[31m-\n.pem"  # Latin-1, not UTF-8, with an escape and a line break
BIDI_NAME = "invoice\u202etxt.pem"


def ktpy(*args: str | bytes | Path) -> subprocess.CompletedProcess[bytes]:
    """A real process with bytes arguments and bytes output: nothing decoded on the way."""
    argv = [os.fsencode(a) if not isinstance(a, bytes) else a for a in args]
    return subprocess.run([os.fsencode(sys.executable), b"-m", b"keytool_py", *argv], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)


@pytest.fixture(scope="module")
def tree(tmp_path_factory, key_pool, now):
    root = tmp_path_factory.mktemp("escaped") / "tree"
    root.mkdir()
    ca = create_ca("CN=Escape Root", key=key_pool(KeyType.EC_P256, 90), now=now)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_CN)])
    key = key_pool(KeyType.EC_P256, 91)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(0x1E5C).not_valid_before(now).not_valid_after(now + __import__("datetime").timedelta(days=3))
            .sign(ca.key, __import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA256"]).SHA256()))
    pem = to_pem([cert])
    with open(os.path.join(os.fsencode(root), BAD_NAME), "wb") as handle:
        handle.write(pem)
    (root / BIDI_NAME).write_bytes(to_pem([ca.cert]))
    (root / "store.jks").write_bytes(build_keystore("jks", key, [cert, ca.cert], alias="mule-client",
                                                    storepass="changeit", now=now))
    return root, ca, cert


def assert_clean(out: bytes) -> str:
    """Valid UTF-8, and no control character but the line feeds between lines."""
    text = out.decode("utf-8")  # raises on a raw non-UTF-8 byte
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u202c" for c in text)
    return text


def test_text_output_escapes_names_and_keeps_one_line_per_certificate(tree, tmp_path):
    root, _, _ = tree
    proc = ktpy("expiry", root, "--within", "30d")
    assert proc.returncode == 3, proc.stderr  # the hostile certificate expires in 3 days
    text = assert_clean(proc.stdout)
    lines = text.splitlines()
    assert len(lines) == 1 + 4  # header; the bad-name PEM, the bidi-name PEM, the JKS's two certificates
    assert "caf\\xe9-\\x1b[31m-\\n.pem" in text and "invoice\\u202etxt.pem" in text
    assert "CN=evil\\nOK: all certificates valid\\x1b[2J\\u202egnp.\\u202c" in text
    assert not any(line.startswith("OK:") for line in lines)
    out = tmp_path / "expiry.txt"
    written = ktpy("expiry", root, "--within", "30d", "-o", out)
    assert written.returncode == 3, written.stderr  # no UnicodeEncodeError
    assert out.read_bytes() == proc.stdout
    assert_clean(proc.stderr)


def test_json_output_escapes_the_same_way(tree, tmp_path):
    root, _, cert = tree
    proc = ktpy("expiry", root, "--json")
    assert_clean(proc.stdout)
    data = json.loads(proc.stdout)
    names = sorted(Path(c["file"]).name for c in data["certificates"])
    assert names == sorted(["caf\\xe9-\\x1b[31m-\\n.pem", "invoice\\u202etxt.pem", "store.jks", "store.jks"])
    subjects = {c["subject"] for c in data["certificates"]}
    assert escape(cert.subject.rfc4514_string()) in subjects
    assert all(escape(s) == s for c in data["certificates"] for s in (c["file"], c["subject"], c["alias"] or ""))
    out = tmp_path / "expiry.json"
    assert ktpy("expiry", root, "--json", "-o", out).returncode == 3
    written = json.loads(out.read_bytes())
    assert written["certificates"] == data["certificates"]


def test_prometheus_output_parses_with_prometheus_client(tree, tmp_path):
    root, _, _ = tree
    out = tmp_path / "ktpy.prom"
    runs = [(ktpy("expiry", root, "--prometheus"), None), (ktpy("expiry", root, "--prometheus", "-o", out), out)]
    for proc, written in runs:
        assert proc.returncode == 3, proc.stderr  # no UnicodeEncodeError; one certificate expires soon
        raw = written.read_bytes() if written else proc.stdout
        text = assert_clean(raw)
        families = {f.name: f for f in text_string_to_metric_families(text)}
        paths = {s.labels["filepath"] for s in families["x509_cert_not_after"].samples}
        assert {Path(p).name for p in paths} == {"caf\\xe9-\\x1b[31m-\\n.pem", "invoice\\u202etxt.pem", "store.jks"}
        cns = {s.labels["subject_CN"] for s in families["x509_cert_not_after"].samples}
        assert "evil\\nOK: all certificates valid\\x1b[2J\\u202egnp.\\u202c" in cns


def test_prometheus_label_escapes_after_the_one_rule():
    assert prometheus_label('a"b\\c\nd\udce9\x1b') == 'a\\"b\\\\c\\\\nd\\\\xe9\\\\x1b'


def test_inspect_of_a_ca_folder_escapes_ledger_subjects(tree, tmp_path, now):
    _, ca, cert = tree
    folder = tmp_path / "ca"
    files.write_all([files.Output(folder / n, d, secret=n.endswith(".key")) for n, d in ca.files(None).items()])
    files.append_record(folder / ledger.LEDGER_FILE, ledger.issued_record(cert, by="test", now=now))
    text = ktpy("inspect", folder)
    assert text.returncode == 0, text.stderr
    shown = assert_clean(text.stdout)
    assert "evil\\nOK: all certificates valid\\x1b[2J" in shown
    as_json = ktpy("inspect", folder, "--json")
    raw = assert_clean(as_json.stdout)
    json.loads(raw)
    assert json.dumps(escape(cert.subject.rfc4514_string())) in raw  # the escaped text, JSON-encoded


def test_an_unreadable_folder_is_listed_and_counts_for_strict(tree):
    uid, gid = require_root_and_user()  # root reads every folder: the scan runs as another user
    root, _, _ = tree
    base = Path(tempfile.mkdtemp(prefix="ktpy-unreadable-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        shutil.copyfile(root / "store.jks", base / "store.jks")
        (base / "locked").mkdir()
        shutil.copyfile(root / "store.jks", base / "locked/hidden.jks")
        os.chmod(base / "store.jks", 0o644)
        os.chmod(base / "locked", 0o700)  # root's: the other user cannot list it
        loose = as_user(uid, gid, "expiry", base, "--within", "1d")
        strict = as_user(uid, gid, "expiry", base, "--within", "1d", "--strict")
        for proc in (loose, strict):
            assert f"UNREADABLE  {base}/locked: folder cannot be read: Permission denied" in proc.stdout, proc.stderr
            assert "1 file(s) could not be read" in proc.stderr
        assert loose.returncode == 0, loose.stdout + loose.stderr
        assert strict.returncode == 3, strict.stdout + strict.stderr
    finally:
        shutil.rmtree(base)
