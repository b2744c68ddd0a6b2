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


def with_key_derivation(pem: bytes, **changes) -> bytes:
    """An encrypted PKCS#8 PEM with its key derivation changed: rounds=N (the PBKDF2 count) or
    scrypt_n=N. No real tool makes these quickly: OpenSSL would derive 2^31-1 rounds for hours."""
    import base64

    from pyasn1.codec.der import decoder, encoder
    from pyasn1_modules import rfc5208, rfc7914, rfc8018

    info, _ = decoder.decode(base64.b64decode(b"".join(pem.splitlines()[1:-1])),
                             asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
    params, _ = decoder.decode(info["encryptionAlgorithm"]["parameters"], asn1Spec=rfc8018.PBES2_params())
    if "scrypt_n" in changes:
        scrypt = rfc7914.Scrypt_params()
        scrypt["salt"] = b"12345678"
        scrypt["costParameter"] = changes["scrypt_n"]
        scrypt["blockSize"] = 8
        scrypt["parallelizationParameter"] = 1
        params["keyDerivationFunc"]["algorithm"] = rfc7914.id_scrypt
        params["keyDerivationFunc"]["parameters"] = encoder.encode(scrypt)
    else:
        kdf, _ = decoder.decode(params["keyDerivationFunc"]["parameters"], asn1Spec=rfc8018.PBKDF2_params())
        kdf["iterationCount"] = changes["rounds"]
        params["keyDerivationFunc"]["parameters"] = encoder.encode(kdf)
    info["encryptionAlgorithm"]["parameters"] = encoder.encode(params)
    return (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + base64.encodebytes(encoder.encode(info))
            + b"-----END ENCRYPTED PRIVATE KEY-----\n")
