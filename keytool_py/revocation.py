"""Revoking what a CA issued and publishing it as a CRL (RFC 5280), from the CA's ledger.

    record = revoke(ledger, serial, reason, now)   # the ledger line to append; refuses unknown serials
    crl = build_crl(ca, ledger, now=now, days=7)   # signed by the CA, numbered after the last one

The CRL is what real consumers read: `openssl verify -crl_check -CRLfile`, Java's PKIX validator
with a CertStore, a TLS server with CRL checking. Salesforce checks client chains by CRL too, at
the distribution points named in the certificates; a private CA's CRL serves servers you run.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .ca import CA
from .errors import BadInputError
from .keys import signature_hash
from .ledger import Ledger, Reason, crl_record, revoked_record, serial_hex

# A week, as `ktpy crl --days` defaults to: long enough to survive a missed daily refresh,
# short enough that a revocation reaches every consumer within days (RFC 5280 leaves it open).
CRL_DAYS = 7


def revoke(ledger: Ledger, serial: int, reason: Reason | str | None, now: dt.datetime, *,
           what: str = "the CA") -> bytes | None:
    """The ledger record revoking `serial`, refused when the CA never issued it; None when it is
    already revoked (revoking again changes nothing: the first revocation's date and reason stay,
    as RFC 5280 5.3.1 has no way to change them short of certificateHold)."""
    reason = Reason.parse(reason)
    issued = ledger.find(serial)
    if issued is None:
        raise BadInputError(f"serial {serial_hex(serial)} is not in the ledger of {what}: "
                            "the CA did not issue it (or issued it before ktpy kept a ledger; "
                            "revoke it by its certificate file then)")
    if ledger.revocation(serial) is not None:
        return None
    return revoked_record(serial, reason, now)


def build_crl(ca: CA, ledger: Ledger, *, now: dt.datetime, days: int = CRL_DAYS
              ) -> tuple[x509.CertificateRevocationList, bytes]:
    """The CA's CRL of every revocation in the ledger, and the ledger record of its number."""
    number = ledger.crl_number + 1
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca.cert.subject)
               .last_update(now)
               .next_update(next_update(now, days))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    for revocation in ledger.revocations:
        entry = (x509.RevokedCertificateBuilder()
                 .serial_number(revocation.serial)
                 .revocation_date(revocation.at))
        if revocation.reason is not Reason.UNSPECIFIED:  # RFC 5280 5.3.1: leave "unspecified" out
            entry = entry.add_extension(x509.CRLReason(revocation.reason.flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(ca.key, signature_hash(ca.key))
    return crl, crl_record(number, now)


def next_update(now: dt.datetime, days: int) -> dt.datetime:
    """now + days, refused (naming the largest) when it falls after 9999-12-31, the last date
    X.509 can state (RFC 5280 5.1.2.5: nextUpdate is a UTCTime or GeneralizedTime)."""
    from .issue import LAST_YEAR

    if days < 1:
        raise BadInputError(f"a CRL must be valid for at least 1 day, not {days}")
    last = dt.datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    largest = (last - now).days
    if days > largest:
        raise BadInputError(f"{days} days ends after the year {LAST_YEAR}, the last a CRL can state; "
                            f"the largest is {largest}")
    return now + dt.timedelta(days=days)


def crl_bytes(crl: x509.CertificateRevocationList, *, pem: bool) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)


def load_crl(data: bytes, *, what: str = "the CRL") -> x509.CertificateRevocationList:
    """A CRL in PEM or DER."""
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise BadInputError(f"{what} is not a CRL (PEM or DER)") from None


def reason_of(entry: x509.RevokedCertificate) -> str:
    """A CRL entry's reason as ktpy names it (unspecified when the entry carries none)."""
    try:
        flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return Reason.UNSPECIFIED.value
    return flag.name.replace("_", "-")
