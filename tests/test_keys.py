import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from helpers import ktpy

from keytool_py import BadInputError, KeyType, UnsupportedError, WrongPasswordError
from keytool_py.keys import (
    describe_key,
    generate_key,
    is_encrypted,
    load_private_key,
    private_key_to_pem,
)


@pytest.mark.parametrize("key_type,expected", [
    ("rsa2048", "RSA 2048"), ("ec-p256", "EC P-256"), ("ec-p384", "EC P-384"),
])
def test_generate_key_types(key_type, expected):
    assert describe_key(generate_key(key_type)) == expected


@pytest.mark.parametrize("spelling,expected", [("rsa-3072", KeyType.RSA3072), ("RSA-2048", KeyType.RSA2048),
                                               ("rsa4096", KeyType.RSA4096), ("ec-p256", KeyType.EC_P256)])
def test_key_type_spellings(spelling, expected):
    assert KeyType.parse(spelling) is expected


def test_create_ca_takes_the_hyphenated_rsa_spelling(tmp_path):
    from cryptography import x509

    ktpy("create-ca", "--dir", tmp_path / "ca", "--subject", "CN=Hyphen CA", "--key-type", "rsa-3072",
         "--password", "pass:hyphen-ca-pass")
    cert = x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.pem").read_bytes())
    assert describe_key(cert.public_key()) == "RSA 3072"
    ktpy("create-ca", "--dir", tmp_path / "other", "--subject", "CN=X", "--key-type", "rsa-1024",
         "--password", "pass:hyphen-ca-pass", code=2)


def test_unknown_key_type_lists_the_choices():
    with pytest.raises(BadInputError, match="choose one of rsa2048, rsa3072, rsa4096, ec-p256, ec-p384"):
        KeyType.parse("rsa1024")


def _formats(key):
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    none = serialization.NoEncryption()
    traditional = serialization.PrivateFormat.TraditionalOpenSSL  # PKCS#1 for RSA, SEC1 for EC
    pkcs8 = serialization.PrivateFormat.PKCS8
    return {
        "pkcs8-pem": key.private_bytes(pem, pkcs8, none),
        "traditional-pem": key.private_bytes(pem, traditional, none),
        "pkcs8-der": key.private_bytes(der, pkcs8, none),
        "pkcs8-pem-crlf": key.private_bytes(pem, pkcs8, none).replace(b"\n", b"\r\n"),
        "text-around": b"Bag Attributes\n  friendlyName: x\n" + key.private_bytes(pem, pkcs8, none),
    }


@pytest.mark.parametrize("key_type", [KeyType.RSA2048, KeyType.EC_P256])
@pytest.mark.parametrize(
    "form", ["pkcs8-pem", "traditional-pem", "pkcs8-der", "pkcs8-pem-crlf", "text-around"]
)
def test_load_private_key_forms(key_pool, key_type, form):
    key = key_pool(key_type)
    loaded = load_private_key(_formats(key)[form])
    assert loaded.private_numbers() == key.private_numbers()


def test_encrypted_pkcs8_needs_and_takes_its_password(client):
    pem = private_key_to_pem(client.key, "s3cret-pw")
    assert is_encrypted(pem)
    with pytest.raises(WrongPasswordError, match="^the key is encrypted; give its password$"):
        load_private_key(pem)
    with pytest.raises(WrongPasswordError, match="^wrong password for the key$"):
        load_private_key(pem, "not-it")
    assert load_private_key(pem, "s3cret-pw").private_numbers() == client.key.private_numbers()


def test_encrypted_der_key(client):
    der = client.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(b"s3cret-pw"))
    with pytest.raises(WrongPasswordError):
        load_private_key(der)
    assert load_private_key(der, "s3cret-pw").private_numbers() == client.key.private_numbers()


@pytest.mark.parametrize("data", [
    b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
])
def test_garbage_is_bad_input(data):
    with pytest.raises(BadInputError, match="is not a readable private key"):
        load_private_key(data, what="key.pem")


def test_dsa_key_is_refused():
    key = dsa.generate_private_key(2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with pytest.raises(UnsupportedError, match="use an RSA or EC key"):
        load_private_key(pem)


def test_types_are_the_ones_java_and_salesforce_take(key_pool):
    assert isinstance(key_pool(KeyType.RSA2048), rsa.RSAPrivateKey)
    assert isinstance(key_pool(KeyType.EC_P256).curve, ec.SECP256R1)


def test_inconsistent_rsa_key_is_refused(key_pool):
    """Keys load without cryptography's slow validation; a self-test catches broken ones."""
    numbers = key_pool(KeyType.RSA2048).private_numbers()
    broken = rsa.RSAPrivateNumbers(numbers.p, numbers.q, numbers.d + 2, numbers.dmp1 + 2, numbers.dmq1, numbers.iqmp,
                                   numbers.public_numbers).private_key(unsafe_skip_rsa_key_validation=True)
    pem = broken.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    with pytest.raises(BadInputError, match="^key.pem is damaged: its RSA parts do not fit together$"):
        load_private_key(pem, what="key.pem")
