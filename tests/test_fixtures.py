"""ktpy reads what keytool and OpenSSL wrote (fixtures/, made by fixtures/make_fixtures.sh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ktpy

from keytool_py import load_keystore, load_private_key
from keytool_py.certs import load_certificates
from keytool_py.csr import load_csr

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
STORES = sorted(EXPECTED)
FIXTURE_KEYPASS = "keypass1"


def inspect_json(name: str) -> dict:
    info = EXPECTED[name]
    result = ktpy("inspect", str(FIXTURES / name), "--storepass", "env:KTPY_FX_PW", "--json",
                  env={"KTPY_FX_PW": info["storepass"]}, code=None)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def summary(entries) -> list[tuple]:
    return sorted((e["alias"], e["kind"], len(e["chain"]), tuple(c["sha256"] for c in e["chain"])) for e in entries)


@pytest.mark.parametrize("name", STORES)
def test_inspect_reports_what_keytool_lists(name):
    info = inspect_json(name)
    assert info["type"] == EXPECTED[name]["type"]
    expected = sorted((e["alias"], e["kind"], e["chain_length"], tuple(e["sha256"]))
                      for e in EXPECTED[name]["entries"])
    assert summary(info["entries"]) == expected


@pytest.mark.parametrize("name", STORES)
def test_keys_decrypt_with_the_right_password(name):
    info = EXPECTED[name]
    keypass = next((e["keypass"] for e in info["entries"] if "keypass" in e), None)
    store = load_keystore((FIXTURES / name).read_bytes(), info["storepass"], keypass=keypass)
    for entry in store.key_entries:
        assert entry.key is not None
        assert entry.key.public_key().public_numbers() == entry.chain[0].public_key().public_numbers()


def _subjects(name: str) -> list[str]:
    return [c.subject.rfc4514_string() for c in load_certificates((FIXTURES / name).read_bytes())]


@pytest.mark.parametrize("name,count", [("client.pem", 1), ("client-chain.pem", 2), ("client-crlf.pem", 1),
                                        ("root.der", 1), ("root.pem", 1)])
def test_certificate_inputs(name, count):
    """OpenSSL's PEM (LF and CRLF) and DER read as the same certificates, in order."""
    subjects = _subjects(name)
    assert len(subjects) == count
    assert subjects == (_subjects("client-chain.pem")[:count] if name.startswith("client")
                        else _subjects("client-chain.pem")[-1:])


@pytest.mark.parametrize("name,password", [
    ("client.key.pkcs1.pem", None), ("client.key.pkcs8.pem", None), ("client.key.enc.pem", FIXTURE_KEYPASS),
    ("ec.key.sec1.pem", None),
])
def test_key_inputs(name, password):
    """Each key format OpenSSL writes loads as the key of its certificate (the EC key: an EC P-256 key)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keytool_py.keys import same_public_key

    key = load_private_key((FIXTURES / name).read_bytes(), password)
    if name.startswith("ec."):
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    else:
        cert = load_certificates((FIXTURES / "client.pem").read_bytes())[0]
        assert same_public_key(key.public_key(), cert.public_key())


def test_csr_input():
    assert load_csr((FIXTURES / "client.csr").read_bytes()).is_signature_valid


def test_inspect_key_never_prints_it():
    result = ktpy("inspect", str(FIXTURES / "client.key.pkcs8.pem"), "--json", code=None)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["key"] == {"type": "RSA", "size": 2048}
    assert "PRIVATE KEY" not in result.output and "MII" not in result.output
