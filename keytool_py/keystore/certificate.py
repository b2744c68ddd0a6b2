"""Certificates as keystores hold them: read with cryptography, and, where cryptography refuses an
encoding Java accepts, read from a repaired copy while the original bytes are kept.

The case met in practice: keytool 17 signs DSA certificates with dsa_with_SHA256 and writes NULL
parameters in the signature AlgorithmIdentifier (RFC 5758 says absent); Java reads them,
cryptography does not. The repaired copy drops those NULLs; everything a keystore does with a
certificate (its bytes, its fingerprint, equality) uses the original bytes.
"""

from __future__ import annotations

import base64
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from .. import certs
from ..errors import BadInputError

_DSA_SIGNATURES = {"1.2.840.10040.4.3", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.3.2",
                   "2.16.840.1.101.3.4.3.3", "2.16.840.1.101.3.4.3.4"}


class KeptCertificate:
    """A certificate read through a repaired copy, whose bytes and fingerprint are the original's.
    Everything else is the repaired certificate's."""

    def __init__(self, original: bytes, repaired: x509.Certificate) -> None:
        self._original, self._repaired = original, repaired

    def public_bytes(self, encoding: serialization.Encoding) -> bytes:
        if encoding is serialization.Encoding.DER:
            return self._original
        body = base64.encodebytes(self._original).replace(b"\n", b"")
        lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"

    def fingerprint(self, algorithm: hashes.HashAlgorithm) -> bytes:
        digest = hashes.Hash(algorithm)
        digest.update(self._original)
        return digest.finalize()

    def verify_directly_issued_by(self, issuer: x509.Certificate) -> None:
        """As cryptography's, over the original to-be-signed bytes (the repair changed them)."""
        from cryptography.hazmat.primitives.asymmetric import dsa

        issuer_cert = getattr(issuer, "_repaired", issuer)
        if self._repaired.issuer != issuer_cert.subject:
            raise ValueError("the issuer name does not match")
        key = issuer_cert.public_key()
        if not isinstance(key, dsa.DSAPublicKey):
            raise TypeError("only DSA signatures are read from a repaired certificate")
        algorithm = self._repaired.signature_hash_algorithm
        if algorithm is None:
            raise TypeError("a DSA signature names its hash")
        key.verify(self._repaired.signature, _tbs(self._original), algorithm)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeptCertificate | x509.Certificate) and \
            other.public_bytes(serialization.Encoding.DER) == self._original

    def __hash__(self) -> int:
        return hash(self._original)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repaired, name)


def _tbs(der: bytes) -> bytes:
    """The TBSCertificate element (tag, length and value) of a DER certificate."""
    from .. import der as walker

    _, start, _ = walker.header(der)
    _, value, length = walker.header(der, start)
    return der[start:value + (length or 0)]


def load_der(der: bytes, *, what: str) -> x509.Certificate:
    """One DER certificate as a keystore holds it (one sentence when it cannot be read)."""
    try:
        # (certs.load_certificates without its PEM detection, which a 100000-entry store pays for)
        return certs._checked(x509.load_der_x509_certificate(der), what)
    except (ValueError, x509.InvalidVersion, BadInputError) as exc:
        repaired = _without_dsa_null_parameters(der)
        if repaired is None:
            if isinstance(exc, BadInputError):
                raise
            raise BadInputError(f"{what} cannot be read") from None
    # a stand-in with the certificate's interface: callers treat it as the certificate it wraps
    return cast(x509.Certificate, KeptCertificate(der, certs.load_certificates(repaired, what=what)[0]))


def _without_dsa_null_parameters(der: bytes) -> bytes | None:
    from pyasn1.codec.der import decoder, encoder
    from pyasn1_modules import rfc5280

    try:
        cert, rest = decoder.decode(der, asn1Spec=rfc5280.Certificate())
    except Exception:  # noqa: BLE001 - not a certificate at all
        return None
    changed = False
    for outer, field in ((cert, "signatureAlgorithm"), (cert["tbsCertificate"], "signature")):
        algorithm = outer[field]
        if str(algorithm["algorithm"]) in _DSA_SIGNATURES and algorithm["parameters"].isValue:
            bare = rfc5280.AlgorithmIdentifier()
            bare["algorithm"] = algorithm["algorithm"]
            outer[field] = bare
            changed = True
    return encoder.encode(cert) if changed and not rest else None
