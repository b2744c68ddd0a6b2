"""Keystores Java loads: JKS, JCEKS and PKCS12 behind one interface.

    build(type, key, chain, alias=..., storepass=...) -> bytes
    load(data, storepass, keypass=None) -> Keystore

Functions take and return objects and bytes, never paths.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from ..choices import Choice
from ..errors import BadInputError, MismatchError, UnsupportedError
from ..keys import PrivateKey, same_public_key

# keytool refuses store and key passwords shorter than six characters; a store it cannot
# open with its own tools helps nobody.
MIN_PASSWORD_LENGTH = 6


class StoreType(Choice):
    """The keystore formats ktpy writes and reads: JKS, PKCS12 and JCEKS (Mule's three)."""

    JKS = "jks"
    PKCS12 = "pkcs12"
    JCEKS = "jceks"

    @classmethod
    def _label(cls) -> str:
        return "keystore type"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"p12": "pkcs12", "pfx": "pkcs12"}

    @property
    def suffix(self) -> str:
        return {"jks": ".jks", "pkcs12": ".p12", "jceks": ".jceks"}[self.value]


def parse_types(types: str | Sequence[str | StoreType]) -> tuple[StoreType, ...]:
    """'jks,pkcs12' or a sequence -> store types in the order given, duplicates dropped: the one
    parser of a list of store types (kit, issue-client --batch, build-keystore, renew)."""
    items = [t.strip() for t in types.split(",")] if isinstance(types, str) else list(types)
    parsed = tuple(dict.fromkeys(StoreType.parse(t) for t in items if t))
    if not parsed:
        raise BadInputError("give at least one keystore type: jks, pkcs12 or jceks")
    return parsed


class Compat(Choice):
    """Which Java must read the store. JAVA8 means Java 8 before 8u301 (JDK-8267701): PKCS12
    with PBES1 SHA1/3DES and a SHA-1 MAC. JKS and JCEKS read the same on every Java."""

    CURRENT = "current"
    JAVA8 = "java8"

    @classmethod
    def _label(cls) -> str:
        return "compatibility"

    @classmethod
    def _default(cls) -> Compat:
        return cls.CURRENT


@dataclass(frozen=True)
class Entry:
    """One keystore entry. `key` is None for a trusted certificate, or for a key entry that
    was not decrypted."""

    alias: str
    chain: tuple[x509.Certificate, ...]
    key: PrivateKey | None = None
    is_key_entry: bool = True
    timestamp: dt.datetime | None = None


@dataclass(frozen=True)
class Keystore:
    """A keystore read by load_keystore: its type and its entries, in the file's order."""

    type: StoreType
    entries: tuple[Entry, ...]

    @property
    def key_entries(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.is_key_entry)

    def entry(self, alias: str | None = None) -> Entry:
        """The entry with this alias (Java's lookup ignores case); without an alias, the only
        key entry, or the only entry."""
        if alias is not None:
            for e in self.entries:
                if e.alias.lower() == alias.lower():
                    return e
            known = ", ".join(e.alias for e in self.entries) or "none"
            raise BadInputError(f"no entry with alias {alias!r} in the keystore (aliases: {known})")
        candidates = self.key_entries or self.entries
        if len(candidates) != 1:
            known = ", ".join(e.alias for e in candidates) or "none"
            raise BadInputError(
                f"the keystore holds {len(candidates)} entries; pick one with --alias ({known})"
            )
        return candidates[0]


def java_millis(when: dt.datetime | None) -> int:
    """An entry's creation time as JKS and JCEKS store it: milliseconds since the epoch."""
    when = when or dt.datetime.now(dt.timezone.utc)
    return int(when.timestamp()) * 1000


def normalize_alias(alias: str) -> str:
    """Java lowercases aliases when it reads JKS, JCEKS and PKCS12, and Mule then matches the
    alias exactly: store it in lowercase so both agree."""
    cleaned = alias.strip()
    if not cleaned:
        raise BadInputError("the alias must not be empty")
    if any(ord(c) < 0x20 for c in cleaned):
        raise BadInputError("the alias must not contain control characters")
    return cleaned.lower()


def check_password(password: str, *, what: str, store_type: StoreType) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInputError(
            f"the {what} must be at least {MIN_PASSWORD_LENGTH} characters (keytool refuses shorter ones)"
        )
    if store_type is StoreType.JCEKS and not all(0x20 <= ord(c) < 0x7F for c in password):
        raise UnsupportedError(
            f"the {what} for a JCEKS keystore must be printable ASCII; Java refuses other characters there"
        )


def build(store_type: StoreType | str, key: PrivateKey, chain: Sequence[x509.Certificate], *,
          alias: str, storepass: str, keypass: str | None = None,
          compat: Compat | str | None = None, now: dt.datetime | None = None) -> bytes:
    """A keystore holding one private key entry: `key` with `chain` (leaf first, then issuers).

    keypass defaults to storepass, because the Salesforce connector's JWT configuration has no
    key password field. PKCS12 cannot hold a key password different from the store password
    in a way Java reads, so that is refused.
    """
    chain = tuple(chain)
    if not chain:
        raise BadInputError("a key entry needs at least its certificate")
    entry = Entry(alias=alias, chain=chain, key=key, timestamp=now)
    return build_store(store_type, [entry], storepass=storepass, keypass=keypass, compat=compat, now=now)


def trusted_entries(certificates: Sequence[x509.Certificate], *, alias_prefix: str | None = None,
                    now: dt.datetime | None = None) -> list[Entry]:
    """Trusted certificate entries, aliased PREFIX1, PREFIX2... or by each certificate's CN."""
    from ..names import common_name, slug

    entries: list[Entry] = []
    used: set[str] = set()
    for number, cert in enumerate(certificates, start=1):
        base = f"{alias_prefix}{number}" if alias_prefix else slug(common_name(cert.subject), default="cert")
        alias, n = normalize_alias(base), 2
        while alias in used:
            alias, n = normalize_alias(f"{base}-{n}"), n + 1
        used.add(alias)
        entries.append(Entry(alias=alias, chain=(cert,), is_key_entry=False, timestamp=now))
    return entries


def build_store(store_type: StoreType | str, entries: Sequence[Entry], *, storepass: str,
                keypass: str | None = None, compat: Compat | str | None = None,
                now: dt.datetime | None = None) -> bytes:
    """A keystore of any number of key entries (each with its decrypted key) and trusted entries.
    Every key is protected with keypass (default: storepass)."""
    store_type = StoreType.parse(store_type)
    compat = Compat.parse(compat)
    now = now or dt.datetime.now(dt.timezone.utc)
    keypass = storepass if keypass is None else keypass
    check_password(storepass, what="store password", store_type=store_type)
    if any(e.is_key_entry for e in entries):
        check_password(keypass, what="key password", store_type=store_type)
    if not entries:
        raise BadInputError("a keystore needs at least one entry")
    ready, seen = [], set()
    for entry in entries:
        alias = normalize_alias(entry.alias)
        if alias in seen:
            raise BadInputError(f"two entries would have the alias {alias!r} (Java ignores case)")
        seen.add(alias)
        if entry.is_key_entry:
            if entry.key is None:
                raise BadInputError(f"the key of entry {alias!r} was not decrypted; give its key password")
            if not same_public_key(entry.key.public_key(), entry.chain[0].public_key()):
                raise MismatchError("the private key does not match the certificate")
        ready.append(Entry(alias=alias, chain=tuple(entry.chain), key=entry.key,
                           is_key_entry=entry.is_key_entry, timestamp=entry.timestamp or now))
    if store_type is StoreType.PKCS12:
        if keypass != storepass:
            raise UnsupportedError(
                "a PKCS12 keystore cannot have a key password different from its store password "
                "(Java cannot read it); use the same password, or a JKS or JCEKS keystore"
            )
        from . import pkcs12

        return pkcs12.build(ready, storepass, compat=compat)
    if store_type is StoreType.JKS:
        from . import jks

        return jks.build(ready, storepass, keypass)
    from . import jceks

    return jceks.build(ready, storepass, keypass)


def detect_type(data: bytes) -> StoreType | None:
    """The keystore type from the content, or None when it does not look like a keystore.

    JKS and JCEKS have magic numbers; PKCS12 is a DER SEQUENCE whose first field is version 3.
    """
    if data[:4] == b"\xfe\xed\xfe\xed":
        return StoreType.JKS
    if data[:4] == b"\xce\xce\xce\xce":
        return StoreType.JCEKS
    if data[:1] == b"\x30" and _looks_like_pfx(data):
        return StoreType.PKCS12
    return None


def _looks_like_pfx(data: bytes) -> bool:
    # SEQUENCE (any length form) followed by INTEGER 3
    if len(data) < 5:
        return False
    length_octet = data[1]
    offset = 2 if length_octet < 0x80 else 2 + (length_octet & 0x7F)
    return data[offset:offset + 3] == b"\x02\x01\x03"


def load(data: bytes, storepass: str, *, keypass: str | None = None,
         decrypt_keys: bool = True, store_type: StoreType | str | None = None,
         alias: str | None = None) -> Keystore:
    """Read a JKS, JCEKS or PKCS12 keystore. Keys are decrypted with keypass (default: the
    store password) unless decrypt_keys is False; certificates never need the key password.
    With `alias`, only that entry's key is decrypted: other keys may have other passwords."""
    detected = detect_type(data)
    if store_type is not None:
        store_type = StoreType.parse(store_type)
        if detected is not None and detected is not store_type:
            raise BadInputError(
                f"the file is a {detected.value.upper()} keystore, not {store_type.value.upper()}"
            )
    store_type = detected or store_type
    if store_type is None:
        raise BadInputError("the file is not a JKS, JCEKS or PKCS12 keystore")
    keypass = storepass if keypass is None else keypass
    if store_type is StoreType.PKCS12:
        from . import pkcs12

        return pkcs12.load(data, storepass, decrypt_keys=decrypt_keys)
    from . import jks

    return jks.load(data, storepass, keypass if decrypt_keys else None, only=alias)
