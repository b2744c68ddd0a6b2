"""Renewing a certificate the way it was made: same subject, SANs, profile, key type and validity
length, from the same CA; a new key unless the old one is reused. Then the same packaging: the
kit's keystore types, alias and compatibility, the upload PEM, and a README.txt with the order
of the rotation that avoids downtime.

    new = renew_certificate(ca, old_cert, key=None, now=now)          # a LeafCert
    files = package(new, old_cert, alias=..., store_types=..., ...)   # (name, bytes, secret)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import certs, issue, upload
from .ca import CA
from .errors import BadInputError
from .keys import KeyType, PrivateKey, generate_key, private_key_to_pem, same_public_key
from .keystore import Compat, StoreType
from .layout import CLIENT_CERT, CLIENT_CHAIN, CLIENT_KEY, MULE_CONFIG, README, STORE_FILES, UPLOAD_PEM


@dataclass(frozen=True)
class OutFile:
    name: str
    data: bytes = field(repr=False)
    secret: bool = False


def key_type_of(public_key: object) -> KeyType:
    if isinstance(public_key, rsa.RSAPublicKey):
        return {2048: KeyType.RSA2048, 3072: KeyType.RSA3072, 4096: KeyType.RSA4096}.get(
            public_key.key_size, KeyType.RSA2048)
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name == "secp384r1":
        return KeyType.EC_P384
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return KeyType.EC_P256
    raise BadInputError("only RSA and EC certificates can be renewed")


def _sans(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []


def _profile(cert: x509.Certificate) -> issue.Profile:
    from .ledger import profile_of

    found = profile_of(cert)
    if found == "other":
        raise BadInputError(f"{cert.subject.rfc4514_string()} has neither the clientAuth nor the serverAuth "
                            "extended key usage; ktpy renews client and server certificates")
    return issue.Profile(found)


def validity_days(cert: x509.Certificate) -> int:
    """The old certificate's length in whole days (the 5-minute backdate rounded away)."""
    return max(1, round((cert.not_valid_after_utc - cert.not_valid_before_utc) / dt.timedelta(days=1)))


def renew_certificate(ca: CA, old: x509.Certificate, *, key: PrivateKey | None = None,
                      days: int | None = None, now: dt.datetime | None = None) -> issue.LeafCert:
    """A new certificate for `old`'s subject, SANs and profile, from `ca`, which must have issued
    `old`. key=None makes a new key of the old key's type; a reused key must match `old`."""
    if not certs.issued_by(old, ca.cert):
        raise BadInputError(f"{old.subject.rfc4514_string()} was issued by {old.issuer.rfc4514_string()}, "
                            f"not by this CA ({ca.cert.subject.rfc4514_string()}); renew it with its own CA")
    if key is not None and not same_public_key(key.public_key(), old.public_key()):
        raise BadInputError("the key given to reuse does not match the old certificate")
    key = key or generate_key(key_type_of(old.public_key()))
    profile = _profile(old)
    cert = ca.certify(old.subject, key.public_key(), profile=profile, days=days or validity_days(old),
                      sans=_sans(old), now=now)
    return issue.LeafCert(key=key, cert=cert, chain=(cert, *ca.chain))


def package(new: issue.LeafCert, old: x509.Certificate, *, alias: str | None,
            store_types: Sequence[StoreType], storepass: str | None, compat: Compat = Compat.CURRENT,
            mule_config: bytes | None = None, reused_key: bool, ca_where: str,
            now: dt.datetime) -> list[OutFile]:
    """The renewed kit's files: key, certificate, chain, upload PEM, keystores, the old
    mule-config.xml (the file names stay the same) and README.txt."""
    from . import keystore

    if store_types and (alias is None or storepass is None):
        raise BadInputError("keystores need an alias and a store password")
    out = [
        OutFile(CLIENT_KEY, private_key_to_pem(new.key), secret=True),
        OutFile(CLIENT_CERT, certs.to_pem([new.cert])),
        OutFile(CLIENT_CHAIN, certs.to_pem(new.chain)),
        # what Salesforce asks for today: the leaf, then each intermediate, no root (see upload.py)
        OutFile(UPLOAD_PEM, upload.upload_pem(new.chain)),
    ]
    # JCEKS last: its key protection is the slow part
    for store_type in sorted(store_types, key=lambda t: t is StoreType.JCEKS):
        out.append(OutFile(STORE_FILES[store_type], keystore.build(
            store_type, new.key, new.chain, alias=alias or "", storepass=storepass or "", compat=compat, now=now),
            secret=True))
    if mule_config is not None:
        out.append(OutFile(MULE_CONFIG, mule_config))
    out.append(OutFile(README, rotation_readme(new, old, alias=alias, store_types=store_types,
                                                     reused_key=reused_key, ca_where=ca_where,
                                                     now=now).encode("utf-8")))
    return out


def rotation_readme(new: issue.LeafCert, old: x509.Certificate, *, alias: str | None,
                    store_types: Sequence[StoreType], reused_key: bool, ca_where: str,
                    now: dt.datetime) -> str:
    """What was renewed, and the order of the rotation that keeps Mule talking to Salesforce."""
    cert = new.cert
    stores = ", ".join(STORE_FILES[t] for t in store_types) or "(none: build them with ktpy build-keystore)"
    lines = [
        f"ktpy renew: {cert.subject.rfc4514_string()}",
        f"Made {now:%Y-%m-%d %H:%M} UTC by the CA in {ca_where}.",
        "",
        "WHAT CHANGED",
        f"  old certificate  serial {old.serial_number:X}, valid until {old.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
        f"  new certificate  serial {cert.serial_number:X}, valid until {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
        "  Same subject, alternative names, profile and key type. "
        + ("The key is the old one (--reuse-key)." if reused_key else "The key is new."),
        f"  Keystores: {stores}" + (f", alias {alias}." if alias else "."),
        "  The old certificate stays valid until it expires (or is revoked): both work meanwhile.",
        "",
        "ROTATION ORDER (no downtime)",
        "  1. Mutual TLS: in Salesforce, Setup > Certificate and Key Management > Upload Mutual",
        "     Authentication Certificate: upload salesforce-upload.pem (the new certificate and its",
        "     intermediates) FIRST. Salesforce keeps the old certificate too, so the running Mule app",
        "     still connects.",
        "  2. JWT bearer flow: a connected app holds ONE certificate (Use digital signatures). Replacing",
        "     it with client.pem makes Salesforce reject assertions signed with the old key at once.",
    ]
    if reused_key:
        lines += [
            "     With --reuse-key the key did not change: assertions signed by the running app still",
            "     verify against the new certificate, so upload client.pem whenever you like.",
        ]
    else:
        lines += [
            "     The key is new: upload client.pem and deploy the new keystore together, in one short",
            "     window; or, to avoid any gap, create a second connected app with client.pem, point the",
            "     new deployment's consumer key at it, and delete the old app after the switch.",
        ]
    lines += [
        "  3. Mule: copy the new keystore into src/main/resources/ under the same name (mule-config.xml",
        "     does not change: same file names, same alias), deploy, and check the app connects:",
        "       ktpy probe MYDOMAIN.my.salesforce.com:8443 --keystore keystore.jks --storepass ...",
        "  4. Only then delete the old Mutual Authentication Certificate in Salesforce, and revoke the",
        f"     old certificate if its key may have leaked: ktpy revoke --ca CA_DIR --serial {old.serial_number:X}",
        "",
    ]
    return "\n".join(lines) + "\n"
