"""The PEM to upload to Salesforce as a Mutual Authentication Certificate.

Salesforce Help, "Configure Your API Client to Use Mutual Authentication": upload the
certificate chain as one PEM file, the client certificate first, then the certificate that
signed it, then each further intermediate in turn; the root is optional and generally not
included. For a client certificate signed directly by a root that is the certificate alone.
`kit`, `renew` and `export-pem --with-chain` all write the file through `upload_chain`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from . import certs
from .errors import BadInputError


def find_leaf(found: Sequence[x509.Certificate]) -> x509.Certificate:
    """The certificate of a bundle that signs none of the others (the first one when that is not
    a single certificate), so that a bundle given out of order still starts at its leaf."""
    if not found:
        raise BadInputError("no certificate given")
    # Linear: only certificates naming c as their issuer can have been signed by c.
    by_issuer: dict[x509.Name, list[x509.Certificate]] = {}
    for other in found:
        if not certs.is_self_issued(other):
            by_issuer.setdefault(other.issuer, []).append(other)
    unsigning = [c for c in found
                 if not any(o is not c and certs.issued_by(o, c) for o in by_issuer.get(c.subject, ()))]
    return unsigning[0] if len(unsigning) == 1 else found[0]


def upload_chain(found: Sequence[x509.Certificate], *, with_root: bool = False) -> tuple[x509.Certificate, ...]:
    """The leaf of `found` (any order), then each issuer in turn; the root only with with_root.

    A certificate that is not on the leaf's path is refused; a root asked for but not given is
    refused too (a self-signed leaf is its own root and is always kept)."""
    leaf = find_leaf(found)
    chain = certs.order_chain(leaf, [c for c in found if c is not leaf])
    has_root = len(chain) > 1 and certs.is_self_issued(chain[-1])
    if with_root and not has_root and not certs.is_self_issued(leaf):
        raise BadInputError(f"the root is not given: the chain stops at {chain[-1].subject.rfc4514_string()}, "
                            f"issued by {chain[-1].issuer.rfc4514_string()}")
    return chain if with_root or not has_root else chain[:-1]


def upload_pem(found: Sequence[x509.Certificate], *, with_root: bool = False) -> bytes:
    """upload_chain as PEM: what salesforce-upload.pem holds."""
    return certs.to_pem(upload_chain(found, with_root=with_root))


def upload_warnings(cert: x509.Certificate) -> list[str]:
    """Why Salesforce would refuse `cert` as a Mutual Authentication Certificate: self-signed, or
    without the clientAuth extended key usage (export-pem warns, and writes it anyway)."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    warnings = []
    if certs.is_self_issued(cert):
        warnings.append("the certificate is self-signed: Salesforce refuses it as a Mutual Authentication "
                        "Certificate (it is fine for a connected app's JWT certificate)")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            warnings.append("the certificate lacks the clientAuth extended key usage that mutual TLS needs")
    except x509.ExtensionNotFound:
        pass
    return warnings
