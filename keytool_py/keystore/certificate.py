"""Certificates as keystores hold them: read with cryptography, and, where cryptography refuses an
encoding Java accepts, read from a repaired copy while the original bytes are kept.

The case met in practice: keytool 17 signs DSA certificates with dsa_with_SHA256 and writes NULL
parameters in the signature AlgorithmIdentifier (RFC 5758 says absent); Java reads them,
cryptography does not. The repaired copy drops those NULLs; everything a keystore does with a
certificate (its bytes, its fingerprint, equality) uses the original bytes.

The other: a DSA key whose parameters are left out of the certificate, to be taken from the
issuer's key (RFC 3279 2.3.2; NIST PKITS has such chains in PKCS12 files). Java reads the
certificate (its key then has no parameters); cryptography reads everything but the key. Such a
certificate is kept as read, and its key completed from the issuer in the same keystore
(inherit_dsa_parameters, called by keystore.load).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from .. import certs
from ..errors import BadInputError

_DSA_KEY = "1.2.840.10040.4.1"
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


class InheritedDsaCertificate(KeptCertificate):
    """A certificate whose DSA key leaves its parameters (p, q, g) to its issuer's (RFC 3279
    2.3.2; NIST PKITS 4.1.4-4.1.6): Java reads it, cryptography cannot make its public key alone.
    Everything but public_key() is the certificate's own; public_key() is y with the parameters
    inherit_dsa_parameters() found on the issuer, in the same keystore."""

    def __init__(self, original: bytes, cert: x509.Certificate, y: int) -> None:
        super().__init__(original, cert)
        self._y = y
        self._issuer: x509.Certificate | None = None

    def public_key(self) -> Any:
        from cryptography.hazmat.primitives.asymmetric import dsa

        issuer_key = self._issuer.public_key() if self._issuer is not None else None
        if not isinstance(issuer_key, dsa.DSAPublicKey):
            raise BadInputError(f"the certificate {self._repaired.subject.rfc4514_string()} takes its DSA "
                                "parameters from its issuer's key, and the keystore holds no DSA issuer for it")
        return dsa.DSAPublicNumbers(self._y, issuer_key.parameters().parameter_numbers()).public_key()


def inherit_dsa_parameters(certificates: Iterable[x509.Certificate]) -> None:
    """Give each InheritedDsaCertificate among `certificates` its issuer (by name, among the
    same certificates), whose DSA parameters its public key then uses: done once by the keystore
    reader, before the certificates are handed out."""
    pool = list(certificates)
    by_subject = {c.subject: c for c in pool if not isinstance(c, InheritedDsaCertificate)}
    by_subject.update({c.subject: c for c in pool if isinstance(c, InheritedDsaCertificate)
                       and c.subject not in by_subject})
    for cert in pool:
        if isinstance(cert, InheritedDsaCertificate) and cert.issuer != cert.subject:
            cert._issuer = by_subject.get(cert.issuer)
    # an issuer that inherits in turn resolves through its own issuer; a loop resolves to nothing
    for cert in pool:
        if isinstance(cert, InheritedDsaCertificate):
            seen, step = {id(cert)}, cert._issuer
            while isinstance(step, InheritedDsaCertificate):
                if id(step) in seen:
                    cert._issuer = None
                    break
                seen.add(id(step))
                step = step._issuer


def load_der(der: bytes, *, what: str) -> x509.Certificate:
    """One DER certificate as a keystore holds it (one sentence when it cannot be read)."""
    try:
        # (certs.load_certificates without its PEM detection, which a 100000-entry store pays for)
        return certs._checked(x509.load_der_x509_certificate(der), what)
    except (ValueError, x509.InvalidVersion, BadInputError) as exc:
        inheriting = _inherited_dsa(der, what)
        if inheriting is not None:
            return cast(x509.Certificate, inheriting)
        repaired = _without_dsa_null_parameters(der)
        if repaired is None:
            if isinstance(exc, BadInputError):
                raise
            raise BadInputError(f"{what} cannot be read") from None
    # a stand-in with the certificate's interface: callers treat it as the certificate it wraps
    return cast(x509.Certificate, KeptCertificate(der, certs.load_certificates(repaired, what=what)[0]))


def _inherited_dsa(der: bytes, what: str) -> InheritedDsaCertificate | None:
    """The certificate as an InheritedDsaCertificate when its key is id-dsa without parameters
    and everything else reads; else None."""
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280

    try:
        cert, rest = decoder.decode(der, asn1Spec=rfc5280.Certificate())
        spki = cert["tbsCertificate"]["subjectPublicKeyInfo"]
        if rest or str(spki["algorithm"]["algorithm"]) != _DSA_KEY or spki["algorithm"]["parameters"].isValue:
            return None
        y, extra = decoder.decode(spki["subjectPublicKey"].asOctets(), asn1Spec=univ.Integer())
        if extra or int(y) <= 1:
            return None
        # cryptography refuses id-dsa without parameters even to read the names: the copy it reads
        # holds stand-in parameters (never used: public_key() is the override above)
        spki["algorithm"]["parameters"] = univ.Any(_STAND_IN_DSS_PARMS)
        loaded = x509.load_der_x509_certificate(encoder.encode(cert))
        loaded.subject, loaded.issuer, loaded.extensions, loaded.not_valid_after_utc  # noqa: B018
    except Exception:  # noqa: BLE001 - not this case: the caller reports the certificate as unreadable
        return None
    return InheritedDsaCertificate(der, loaded, int(y))


# Dss-Parms ::= SEQUENCE { p, q, g INTEGER }, all 1: well formed, and no key can use them
_STAND_IN_DSS_PARMS = bytes.fromhex("3009020101020101020101")


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
