"""The certificate policy: what a CA, a client and a server certificate carry, in one place.

Defaults and their reasons:
- validity starts 5 minutes back, so a machine whose clock is a little behind accepts it;
- random 159-bit serials (RFC 5280 allows 20 octets; public CAs use random serials);
- SHA-256 signatures (SHA-384 for a P-384 issuer), which Java 8+ and Salesforce accept;
- a certificate never outlives its issuer: its end is cut to the issuer's.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from .errors import BadInputError
from .keys import PrivateKey, PublicKey, signature_hash

BACKDATE = dt.timedelta(minutes=5)
CLIENT_DAYS = 365  # public CAs issue client certificates for at most about a year
CA_DAYS = 3650  # ten years: a development CA outlives many client certificates


# (extension, critical) pairs, in the order they are added
Extensions = Sequence[tuple[x509.ExtensionType, bool]]


class Profile(enum.Enum):
    """What a leaf certificate is for: its one extended key usage (clientAuth or serverAuth)."""

    CLIENT = "client"
    SERVER = "server"


_EKU = {Profile.CLIENT: ExtendedKeyUsageOID.CLIENT_AUTH, Profile.SERVER: ExtendedKeyUsageOID.SERVER_AUTH}


@dataclass(frozen=True)
class LeafCert:
    """A key with its certificate and the chain: (cert, issuer, ..., root). What issue_client,
    kit and renew return: the key is always there (a certificate signed for someone else's key
    is a SignedCert)."""

    key: PrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def issuers(self) -> tuple[x509.Certificate, ...]:
        return self.chain[1:]


@dataclass(frozen=True)
class SignedCert:
    """A certificate signed for someone else's key (sign_csr) and its chain: (cert, issuer, ...,
    root). There is no key: `key` is always None."""

    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key: None = None

    @property
    def issuers(self) -> tuple[x509.Certificate, ...]:
        return self.chain[1:]


# X.509 dates end at 9999-12-31 23:59:59 (RFC 5280 4.1.2.5, GeneralizedTime's four-digit year).
LAST_YEAR = 9999


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def validity(now: dt.datetime | None, days: int, issuer: x509.Certificate | None) -> tuple[dt.datetime, dt.datetime]:
    """(not_before, not_after) for a certificate of `days` days, cut to the issuer's end."""
    if days < 1:
        raise BadInputError(f"validity must be at least 1 day, not {days}")
    now = now or utcnow()
    not_before = now - BACKDATE
    try:
        not_after = now + dt.timedelta(days=days)
    except OverflowError:  # past datetime's own year 9999
        not_after = None
    if not_after is None or not_after.year > LAST_YEAR:
        limit = (dt.datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc) - now).days
        raise BadInputError(f"a validity of {days} days ends after the year {LAST_YEAR}, the last a certificate "
                            f"can state (RFC 5280 GeneralizedTime); give at most {limit} days")
    if issuer is not None:
        not_before = max(not_before, issuer.not_valid_before_utc)
        not_after = min(not_after, issuer.not_valid_after_utc)
        if not_after <= now:
            raise BadInputError(
                f"the CA {issuer.subject.rfc4514_string()} expired on {issuer.not_valid_after_utc:%Y-%m-%d}"
            )
    return not_before, not_after


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def _extensions(public_key: PublicKey, *, ca: bool, path_length: int | None = None,
                profile: Profile | None = None, sans: Sequence[x509.GeneralName] = ()) -> Extensions:
    """(extension, critical) pairs for a CA or a leaf of the given profile."""
    out: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), True)
    ]
    if ca:
        out.append((_key_usage(key_cert_sign=True, crl_sign=True), True))
    else:
        # keyEncipherment only makes sense for RSA key transport; EC keys sign only.
        out.append((_key_usage(digital_signature=True,
                               key_encipherment=isinstance(public_key, rsa.RSAPublicKey)), True))
        # One purpose per certificate: public CAs stopped issuing clientAuth+serverAuth in 2026.
        assert profile is not None, "a leaf needs a profile"
        out.append((x509.ExtendedKeyUsage([_EKU[profile]]), False))
    if sans:
        out.append((x509.SubjectAlternativeName(list(sans)), False))
    out.append((x509.SubjectKeyIdentifier.from_public_key(public_key), False))
    return out


def sign(*, subject: x509.Name, public_key: PublicKey, issuer_name: x509.Name,
         issuer_key: PrivateKey, issuer_cert: x509.Certificate | None, days: int,
         now: dt.datetime | None, extensions: Extensions) -> x509.Certificate:
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise BadInputError("only RSA and EC public keys can be certified")
    not_before, not_after = validity(now, days, issuer_cert)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    aki_source = issuer_key.public_key()  # the issuer certificate's key (the two belong together)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_source), critical=False
    )
    return builder.sign(issuer_key, signature_hash(issuer_key))


def ca_extensions(public_key: PublicKey, path_length: int | None) -> Extensions:
    return _extensions(public_key, ca=True, path_length=path_length)


def leaf_extensions(public_key: PublicKey, profile: Profile, sans: Sequence[x509.GeneralName]) -> Extensions:
    return _extensions(public_key, ca=False, profile=profile, sans=sans)


# 30 days: the window `ktpy expiry` watches by default; packaging something that expires
# sooner is most likely a mistake, or an outage being scheduled.
PACKAGING_WARN_DAYS = 30


def packaging_expiry(cert: x509.Certificate, *, now: dt.datetime, allow_expired: bool,
                     what: str = "the certificate") -> str | None:
    """The packaging rule for a certificate about to go into a keystore or an upload: an expired
    one is refused (KtpyError) unless allow_expired, and then warned about; one that expires
    within PACKAGING_WARN_DAYS is warned about. Returns the warning, or None."""
    from .errors import KtpyError

    end = cert.not_valid_after_utc
    name = cert.subject.rfc4514_string()
    if end < now:
        if not allow_expired:
            raise KtpyError(f"{what} {name} expired on {end:%Y-%m-%d %H:%M} UTC; renew it (ktpy renew), "
                            "or pass --allow-expired to package it anyway")
        return f"{what} {name} expired on {end:%Y-%m-%d %H:%M} UTC (packaged anyway: --allow-expired)"
    if end <= now + dt.timedelta(days=PACKAGING_WARN_DAYS):
        return (f"{what} {name} expires on {end:%Y-%m-%d %H:%M} UTC, in {(end - now).days} day(s); "
                "plan its renewal (ktpy renew)")
    return None
