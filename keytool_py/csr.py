"""Certificate signing requests: making one for a public CA, and reading one to sign."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from . import names
from .errors import BadInputError
from .keys import PrivateKey, PublicKey, check_supported, signature_hash

# What a CA copies from a request: the subject and these name types. Everything else a CSR asks
# for (CA:TRUE, key usages, other EKUs) is decided by the signing profile, not by the requester.
ACCEPTED_SAN_TYPES = (x509.DNSName, x509.RFC822Name, x509.UniformResourceIdentifier, x509.IPAddress)


def create_csr(subject: str | x509.Name, key: PrivateKey,
               sans: Sequence[str | x509.GeneralName] = ()) -> x509.CertificateSigningRequest:
    name = names.parse_subject(subject) if isinstance(subject, str) else subject
    general_names = [names.parse_san(s) if isinstance(s, str) else s for s in sans]
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    if general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    return builder.sign(key, signature_hash(key))


def load_csr(data: bytes, *, what: str = "the CSR") -> x509.CertificateSigningRequest:
    """A PEM (any line endings) or DER CSR whose signature verifies."""
    try:
        if b"-----BEGIN" in data:
            csr = x509.load_pem_x509_csr(data.replace(b"\r\n", b"\n"))
        else:
            csr = x509.load_der_x509_csr(data)
    except (ValueError, x509.InvalidVersion):
        raise BadInputError(f"{what} is not a PEM or DER certificate signing request") from None
    try:
        valid = csr.is_signature_valid
        public_key = csr.public_key()
    except (UnsupportedAlgorithm, ValueError):
        raise BadInputError(f"{what} uses a key or signature algorithm ktpy cannot read") from None
    try:  # parsed only when asked: ask now, so damage is bad input here and not a crash later
        csr.subject, csr.extensions  # noqa: B018
    except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        raise BadInputError(f"{what} holds a damaged name or extension") from None
    if not valid:
        raise BadInputError(f"{what} has a signature that does not verify (altered or signed by another key)")
    check_supported_public(public_key)
    return csr


def check_supported_public(public_key: object) -> PublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise BadInputError("the CSR's key is neither RSA nor EC, which Java keystores and Salesforce need")
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
        raise BadInputError(f"the CSR's RSA key has {public_key.key_size} bits; at least 2048 are needed")
    return public_key


def requested_sans(csr: x509.CertificateSigningRequest) -> list[x509.GeneralName]:
    """The subject alternative names the request asks for, of the types a CA copies."""
    return _copied_sans(csr)


def certificate_sans(cert: x509.Certificate) -> list[x509.GeneralName]:
    """The alternative names of a certificate, of the types a CA copies: a renewal asks again
    for what the certificate had."""
    return _copied_sans(cert)


def _copied_sans(source: x509.Certificate | x509.CertificateSigningRequest) -> list[x509.GeneralName]:
    try:
        san = source.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [n for n in san if isinstance(n, ACCEPTED_SAN_TYPES)]


__all__ = ["create_csr", "certificate_sans", "load_csr", "requested_sans", "check_supported",
           "check_supported_public"]
