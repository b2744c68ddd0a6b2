"""Assertions on certificate profiles, shared by the unit and CLI tests."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID


def ext(cert: x509.Certificate, cls):
    return cert.extensions.get_extension_for_class(cls)


def assert_is_ca(cert: x509.Certificate, path_length=None) -> None:
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca is True
    assert bc.value.path_length == path_length
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical
    assert ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature and not ku.value.key_encipherment
    ext(cert, x509.SubjectKeyIdentifier)


def assert_is_client(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert ku.value.key_encipherment == isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert not ku.value.key_cert_sign
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(issuer, x509.SubjectKeyIdentifier).value.digest
    assert cert.issuer == issuer.subject
    cert.verify_directly_issued_by(issuer)
