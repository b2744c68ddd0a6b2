"""Bounded work and honest output for crafted inputs: the PEM scanner, chain ordering, key
derivation caps, and the escaping of everything printed as text. (Timings are in bench/:
bench_hostile.py; here only what is computed.)"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import ktpy, with_key_derivation

from keytool_py import BadInputError, KeyType, create_ca
from keytool_py.certs import pem_blocks, split_chain, to_pem
from keytool_py.escaping import escape, escape_lines
from keytool_py.keys import load_private_key
from keytool_py.pbe import MAX_ROUNDS as MAX_KEY_ROUNDS

BEGIN, END = b"-----BEGIN CERTIFICATE-----\n", b"-----END CERTIFICATE-----\n"


def test_pem_blocks_from_each_begin_to_the_next_end():
    assert pem_blocks(BEGIN * 10_000) == []
    assert pem_blocks(b"junk\n" + BEGIN + b"AAAA\n" + END + BEGIN * 3) == [BEGIN + b"AAAA\n" + END.rstrip()]
    # a BEGIN inside a block stays in it (and makes the block invalid), as the regex before did
    assert pem_blocks(BEGIN + BEGIN + b"AA\n" + END) == [BEGIN + BEGIN + b"AA\n" + END.rstrip()]
    x509 = b"-----BEGIN X509 CERTIFICATE-----\nAA\n-----END X509 CERTIFICATE-----"
    assert pem_blocks(x509 + b"\n" + x509) == [x509, x509]


def test_split_chain_drops_duplicates_and_keeps_the_order(key_pool, now):
    root = create_ca("CN=S Root", key=key_pool(KeyType.EC_P256, 50), now=now)
    inter = create_ca("CN=S Inter", parent=root, key=key_pool(KeyType.EC_P256, 51), now=now)
    other = create_ca("CN=S Other", key=key_pool(KeyType.EC_P256, 52), now=now)
    leaf = inter.issue_client("CN=s-leaf", key=key_pool(KeyType.EC_P256, 53), now=now)
    chain, leftovers = split_chain(leaf.cert, [other.cert, root.cert, inter.cert, root.cert, leaf.cert, other.cert])
    assert chain == (leaf.cert, inter.cert, root.cert)
    assert leftovers == [other.cert]


def test_a_bundle_of_strangers_is_refused_naming_three(key_pool, now, tmp_path):

    cas = [create_ca(f"CN=Stranger {i}", key=key_pool(KeyType.EC_P256, 60 + i), now=now) for i in range(6)]
    (tmp_path / "bundle.pem").write_bytes(to_pem([c.cert for c in cas]))
    result = ktpy("export-pem", str(tmp_path / "bundle.pem"), "-o", str(tmp_path / "o.pem"), code=None)
    assert result.stderr == ("Error: certificate(s) not in the chain of CN=Stranger 0: CN=Stranger 1; "
                             "CN=Stranger 2; CN=Stranger 3 and 2 more\n")


@pytest.mark.parametrize("changes,message", [
    ({"rounds": MAX_KEY_ROUNDS + 1}, "the key is encrypted with 5,000,001 key-derivation rounds; ktpy reads at "
                                     "most 5,000,000, as Java does (the file is damaged or crafted)"),
    ({"scrypt_n": 2**30}, "the key is encrypted with scrypt at cost 1073741824; ktpy reads at most 1048576 (the "
                          "file is damaged or crafted)"),
])
def test_key_derivation_is_capped_before_any_work(key_pool, changes, message):
    from keytool_py.keys import private_key_to_pem

    pem = with_key_derivation(private_key_to_pem(key_pool(KeyType.EC_P256, 54), "pw-1234"), **changes)
    with pytest.raises(BadInputError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        load_private_key(pem, "pw-1234")


def test_key_at_the_cap_still_opens_with_openssl_made_counts(key_pool):
    """The cap does not refuse a real key: OpenSSL's 2048 rounds and Java's 10,000 load."""
    import subprocess

    from keytool_py.keys import private_key_to_pem, same_public_key

    key = key_pool(KeyType.EC_P256, 55)
    for rounds in ("2048", "10000"):
        pem = subprocess.run(["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", rounds, "-passout",
                              "pass:pw-1234"], input=private_key_to_pem(key), capture_output=True, check=True).stdout
        assert same_public_key(load_private_key(pem, "pw-1234").public_key(), key.public_key())


def test_escape_makes_every_control_character_visible():
    assert escape("a\nb\rc\td\x00e\x1b[2Jf\x7fg\x85h\u202ei") == "a\\nb\\rc\\td\\x00e\\x1b[2Jf\\x7fg\\x85h\\u202ei"
    assert escape("Zürich — ok") == "Zürich — ok"
    assert escape_lines(["one\ntwo", "three"]) == "one\\ntwo\nthree"


def test_kit_readme_counts_the_days_given(tmp_path, now, monkeypatch):
    monkeypatch.setattr("keytool_py.issue.utcnow", lambda: now)  # the command's clock is the test's
    ktpy("kit", "--out-dir", tmp_path / "kit", "--subject", "CN=days", "--storepass", "env:SP", "--types", "jks",
         "--key-type", "ec-p256", "--days", "365", env={"SP": "store-pw-1"})
    expires = (now + dt.timedelta(days=365)).strftime("%Y-%m-%d")
    readme = (tmp_path / "kit" / "README.txt").read_text()
    assert f"The client certificate expires on {expires} (365 days from when it was made)." in readme


def test_why_a_bom_is_refused_openssl_keeps_it_in_the_password(tmp_path, key_pool, now):
    """OpenSSL's file: source keeps a UTF-8 byte-order mark as part of the password, so ktpy
    cannot strip it without making stores that the same file does not open in OpenSSL."""
    import subprocess

    from helpers import require_tool

    from keytool_py.keys import private_key_to_pem

    require_tool("openssl")
    ca = create_ca("CN=Bom", key=key_pool(KeyType.EC_P256, 56), now=now)
    (tmp_path / "k.pem").write_bytes(private_key_to_pem(ca.key))
    (tmp_path / "c.pem").write_bytes(to_pem([ca.cert]))
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfgood-password\n")
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-out", "s.p12",
                    "-passout", "file:bom.txt"], cwd=tmp_path, check=True, capture_output=True)

    def opens(source):
        return subprocess.run(["openssl", "pkcs12", "-in", "s.p12", "-passin", source, "-nokeys", "-noout"],
                              cwd=tmp_path, capture_output=True).returncode == 0

    assert opens("file:bom.txt") and not opens("pass:good-password")

    result = ktpy("inspect", str(tmp_path / "s.p12"), "--storepass", f"file:{tmp_path / 'bom.txt'}", code=None)
    assert result.exit_code == 1
    assert "begins with a UTF-8 byte-order mark" in result.stderr


def _with_bytes_replaced(der: bytes, old: bytes, new: bytes) -> bytes:
    assert der.count(old) == 1
    return der.replace(old, new)


@pytest.mark.parametrize("damage", ["bit-string-common-name", "duplicate-extension"])
def test_certificate_parts_cryptography_refuses_outside_valueerror_are_bad_input(key_pool, now, damage):
    """cryptography raises TypeError (a BIT STRING name attribute under another OID) and
    DuplicateExtension, not ValueError, when such parts are read: both are bad input (found by fuzzing)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from keytool_py.certs import load_certificates, to_der
    from keytool_py.errors import BadInputError

    key = key_pool(KeyType.EC_P256, 70)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zzq")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Issuer")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
               .serial_number(7).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("a.example")]), critical=False)
               .add_extension(x509.IssuerAlternativeName([x509.DNSName("b.example")]), critical=False))
    der = to_der(builder.sign(key, hashes.SHA256()))
    if damage == "bit-string-common-name":
        der = _with_bytes_replaced(der, b"\x0c\x03zzq", b"\x03\x03zzq")
    else:  # the issuer alternative name's OID (2.5.29.18) made the subject's (2.5.29.17)
        der = _with_bytes_replaced(der, b"\x06\x03\x55\x1d\x12", b"\x06\x03\x55\x1d\x11")
    with pytest.raises(BadInputError, match="holds a certificate with a damaged or unsupported part"):
        load_certificates(der, what="the file")
