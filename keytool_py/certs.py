"""Reading certificates as users have them, and putting chains in order."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.utils import CryptographyDeprecationWarning

from .errors import BadInputError

_PEM_CERT = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----.+?-----END (?:X509 |TRUSTED )?CERTIFICATE-----",
    re.DOTALL,
)


def load_certificates(data: bytes, *, what: str = "the input") -> list[x509.Certificate]:
    """Every certificate in PEM (any line endings, text around the blocks) or one DER certificate."""
    # Real bundles hold old certificates cryptography warns about (negative serials): read them quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _load_certificates(data, what)


def _load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        blocks = _PEM_CERT.findall(data.replace(b"\r\n", b"\n"))
        if not blocks:
            raise BadInputError(f"{what} holds no PEM CERTIFICATE block")
        return [_checked(_parse(x509.load_pem_x509_certificate, block, what, "holds a CERTIFICATE block "
                                                                             "that is not valid"), what)
                for block in blocks]
    if not data.strip():
        raise BadInputError(f"{what} is empty")
    return [_checked(_parse(x509.load_der_x509_certificate, data, what, "is neither a PEM nor a DER certificate"),
                     what)]


def _parse(loader: Callable[[bytes], x509.Certificate], data: bytes, what: str, problem: str) -> x509.Certificate:
    try:
        return loader(data)
    except (ValueError, x509.InvalidVersion):
        raise BadInputError(f"{what} {problem}") from None


def _checked(cert: x509.Certificate, what: str) -> x509.Certificate:
    """cryptography parses a certificate's parts only when asked: ask now, so damage inside a
    name or an extension is reported here, as bad input, and not later as a crash."""
    try:
        cert.subject, cert.issuer, cert.extensions, cert.not_valid_after_utc  # noqa: B018
        cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise BadInputError(f"{what} holds a certificate with a damaged or unsupported part") from None
    return cert


def to_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def to_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint as keytool prints it: upper-case hex pairs joined by colons."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def is_self_issued(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when issuer's key signed cert (names match and the signature verifies)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def split_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate],
                ) -> tuple[tuple[x509.Certificate, ...], list[x509.Certificate]]:
    """(chain, leftovers): the leaf, then its issuer, then that one's issuer... taken from
    `others`; and the certificates that are not on that path. Duplicates are dropped."""
    pool: list[x509.Certificate] = []
    for cert in others:
        if cert != leaf and cert not in pool:
            pool.append(cert)
    chain = [leaf]
    while pool and not is_self_issued(chain[-1]):
        parent = next((c for c in pool if issued_by(chain[-1], c)), None)
        if parent is None:
            break
        chain.append(parent)
        pool.remove(parent)
    return tuple(chain), pool


def order_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The leaf and its issuers in order. A certificate that is not on the leaf's path is
    refused rather than silently stored, since Java sends the keystore's chain as it is."""
    chain, leftovers = split_chain(leaf, others)
    if leftovers:
        names = "; ".join(c.subject.rfc4514_string() for c in leftovers)
        raise BadInputError(f"certificate(s) not in the chain of {leaf.subject.rfc4514_string()}: {names}")
    return chain
