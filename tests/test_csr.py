import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from helpers import assert_is_client

from keytool_py import BadInputError, KeyType
from keytool_py.csr import create_csr, load_csr


def test_csr_round_trip_and_signing(ca, key_pool, now):
    key = key_pool(KeyType.EC_P256)
    request = create_csr("CN=from-csr,O=Acme", key, sans=["dns:api.example.com", "email:a@example.com"])
    pem = request.public_bytes(serialization.Encoding.PEM)
    loaded = load_csr(pem.replace(b"\n", b"\r\n"))
    leaf = ca.sign_csr(loaded, now=now)
    assert_is_client(leaf.cert, ca.cert)
    assert leaf.cert.subject == request.subject and leaf.key is None
    san = leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["api.example.com"]


def test_requested_extensions_are_not_trusted(ca, key_pool, now):
    """A CSR asking for CA:TRUE and serverAuth gets a client certificate all the same."""
    key = key_pool(KeyType.EC_P256)
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name.from_rfc4514_string("CN=greedy"))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .sign(key, __import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA256"]).SHA256()))
    leaf = ca.sign_csr(request, now=now)
    assert_is_client(leaf.cert, ca.cert)


def test_server_profile(ca, key_pool, now):
    request = create_csr("CN=srv", key_pool(KeyType.EC_P256), sans=["dns:localhost"])
    cert = ca.sign_csr(request, profile="server", now=now).cert
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_tampered_csr_is_refused(key_pool):
    der = bytearray(create_csr("CN=x", key_pool(KeyType.EC_P256)).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01
    with pytest.raises(BadInputError):
        load_csr(bytes(der))


def test_garbage_csr():
    with pytest.raises(BadInputError, match="is not a PEM or DER certificate signing request"):
        load_csr(b"nonsense")
