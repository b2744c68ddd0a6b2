"""Reading certificates as users have them, and putting chains in order."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.utils import CryptographyDeprecationWarning

from .errors import BadInputError

_PEM_BEGIN = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----")
_PEM_END = re.compile(rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----")


def pem_blocks(data: bytes) -> list[bytes]:
    """Each CERTIFICATE block, from its BEGIN line to the first END line after it.

    Linear in the input: each byte is searched once. (A lazy regex from each BEGIN to its END
    rescans the rest of the input for every BEGIN without an END: minutes for 1 MB of BEGIN lines.)
    Once no END follows a BEGIN, none follows any later BEGIN either, so the scan stops there.
    """
    blocks = []
    position = 0
    while (begin := _PEM_BEGIN.search(data, position)) is not None:
        end = _PEM_END.search(data, begin.end())
        if end is None:
            break
        blocks.append(data[begin.start():end.end()])
        position = end.end()
    return blocks


def load_certificates(data: bytes, *, what: str = "the input") -> list[x509.Certificate]:
    """Every certificate in PEM (any line endings, text around the blocks) or one DER certificate."""
    # Real bundles hold old certificates cryptography warns about (negative serials): read them quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _load_certificates(data, what)


def _load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        blocks = pem_blocks(data.replace(b"\r\n", b"\n"))
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
    # (cryptography raises TypeError for a name attribute typed BIT STRING under another OID, and
    # DuplicateExtension, UnsupportedGeneralNameType: none of them a ValueError)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
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
    """True when issuer's key signed cert (names match and the signature verifies). A signature
    over SHA-1 or MD5 counts when it verifies: verify.py reports it as weak, not as missing."""
    if cert.issuer != issuer.subject:
        return False
    return _signed_by(cert, issuer)


# A chain of N is checked twice (finding the leaf, then ordering): each signature is verified
# once. Certificates compare and hash by their DER, so a cached answer is for those exact bytes.
@functools.lru_cache(maxsize=1 << 17)
def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (UnsupportedAlgorithm, ValueError):  # "Unsupported signature algorithm" is a ValueError
        return signature_hash_name(cert) in _WEAK_HASH_NAMES and _verifies_with_weak_hash(cert, issuer)
    except (InvalidSignature, TypeError):
        return False
    return True


_WEAK_HASH_NAMES = ("md5", "sha1")


def _verifies_with_weak_hash(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """cryptography's verify_directly_issued_by refuses SHA-1 and MD5 outright; check such a
    signature by hand (RSA PKCS#1 v1.5 or ECDSA, the only kinds that use them)."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        algorithm = cert.signature_hash_algorithm
        public = issuer.public_key()
        if algorithm is None:
            return False
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def signature_hash_name(cert: x509.Certificate) -> str | None:
    """'sha1', 'sha256'... the hash a certificate's signature uses (None for Ed25519 and unknown ones)."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm is not None else None


def split_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate],
                ) -> tuple[tuple[x509.Certificate, ...], list[x509.Certificate]]:
    """(chain, leftovers): the leaf, then its issuer, then that one's issuer... taken from
    `others`; and the certificates that are not on that path. Duplicates are dropped.

    Linear in the number of certificates: duplicates are found by their DER bytes and issuers
    by subject name (a signature is checked only for a certificate whose name fits)."""
    pool: dict[bytes, x509.Certificate] = {}
    leaf_der = to_der(leaf)
    for cert in others:
        der = to_der(cert)
        if der != leaf_der:
            pool.setdefault(der, cert)
    by_subject: dict[x509.Name, list[bytes]] = {}
    for der, cert in pool.items():
        by_subject.setdefault(cert.subject, []).append(der)
    chain = [leaf]
    while pool and not is_self_issued(chain[-1]):
        candidates = [d for d in by_subject.get(chain[-1].issuer, ()) if d in pool]
        parent = next((d for d in candidates if issued_by(chain[-1], pool[d])), None)
        if parent is None:
            break
        chain.append(pool.pop(parent))
    return tuple(chain), list(pool.values())


def order_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The leaf and its issuers in order. A certificate that is not on the leaf's path is
    refused rather than silently stored, since Java sends the keystore's chain as it is."""
    chain, leftovers = split_chain(leaf, others)
    if leftovers:
        names = "; ".join(c.subject.rfc4514_string() for c in leftovers[:3])
        if len(leftovers) > 3:
            names += f" and {len(leftovers) - 3} more"
        raise BadInputError(f"certificate(s) not in the chain of {leaf.subject.rfc4514_string()}: {names}")
    return chain
