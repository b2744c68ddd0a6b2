"""The keystore model, below every format: store types and compatibility, entries and stores as
Java's KeyStore API sees them (Entry, Keystore, Sealed, SecretKey), reading a key out of a store,
and the alias and password rules every format applies. It imports no format and no other module
of this package but javaser (for Java's alias encoding), so jks, jceks and pkcs12 import it
freely and the package (__init__) picks among them by a table."""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from ..choices import Choice
from ..errors import BadInputError, UnsupportedError
from ..keys import PrivateKey, same_public_key

# keytool refuses store and key passwords shorter than six characters; a store it cannot
# open with its own tools helps nobody.
MIN_PASSWORD_LENGTH = 6


class StoreType(Choice, label="keystore type", aliases={"p12": "pkcs12", "pfx": "pkcs12"}):
    """The keystore formats ktpy reads: JKS, PKCS12 and JCEKS (Mule's three, which it also
    writes), and Bouncy Castle's BKS and UBER (read only, through pyjks: see bks.py)."""

    JKS = "jks"
    PKCS12 = "pkcs12"
    JCEKS = "jceks"
    BKS = "bks"
    UBER = "uber"

    @property
    def suffix(self) -> str:
        return {"jks": ".jks", "pkcs12": ".p12", "jceks": ".jceks", "bks": ".bks", "uber": ".uber"}[self.value]

    @property
    def writable(self) -> bool:
        """ktpy writes JKS, PKCS12 and JCEKS; BKS and UBER it only reads."""
        return self in WRITABLE

    @property
    def bouncy_castle(self) -> bool:
        """BKS and UBER: Bouncy Castle's formats, whose aliases are looked up exactly as stored."""
        return self in (StoreType.BKS, StoreType.UBER)


WRITABLE = (StoreType.JKS, StoreType.PKCS12, StoreType.JCEKS)
READ_ONLY = "ktpy reads BKS and UBER keystores but does not write them; choose jks, pkcs12 or jceks"


def writable_type(store_type: StoreType | str) -> StoreType:
    """A store type ktpy can write, parsed; BKS and UBER are refused in one sentence."""
    try:
        parsed = StoreType.parse(store_type)
    except BadInputError:
        raise BadInputError(f"unknown keystore type {store_type!r}; choose one of "
                            + ", ".join(t.value for t in WRITABLE)) from None
    if not parsed.writable:
        raise UnsupportedError(READ_ONLY)
    return parsed


def parse_types(types: str | Sequence[str | StoreType]) -> tuple[StoreType, ...]:
    """'jks,pkcs12' or a sequence -> store types in the order given, duplicates dropped: the one
    parser of a list of store types (kit, issue-client --batch, build-keystore, renew)."""
    items = [t.strip() for t in types.split(",")] if isinstance(types, str) else list(types)
    parsed = tuple(dict.fromkeys(writable_type(t) for t in items if t))
    if not parsed:
        raise BadInputError("give at least one keystore type: jks, pkcs12 or jceks")
    return parsed


class Compat(Choice, label="compatibility", default="current"):
    """Which Java must read the store. JAVA8 means Java 8 before 8u301 (JDK-8267701): PKCS12
    with PBES1 SHA1/3DES and a SHA-1 MAC. JKS and JCEKS read the same on every Java."""

    CURRENT = "current"
    JAVA8 = "java8"


class EntryKind(enum.Enum):
    """The three kinds of entry Java's KeyStore API knows, named as keytool lists them."""

    PRIVATE_KEY = "PrivateKeyEntry"
    TRUSTED_CERT = "trustedCertEntry"
    SECRET_KEY = "SecretKeyEntry"


@dataclass(frozen=True)
class SecretKey:
    """A secret key (keytool -genseckey, -importpass): its algorithm by Java's name ("AES",
    "HmacSHA256", "PBEWithMD5AndDES"...) and its bytes (key.getEncoded())."""

    algorithm: str
    value: bytes = field(repr=False)


@dataclass(frozen=True)
class Sealed:
    """A key exactly as its store protects it, so that a store rewritten in the same type carries
    it unchanged, under its own password, without ktpy ever decrypting it.

    blob: JKS and JCEKS private key: the EncryptedPrivateKeyInfo (DER); JCEKS secret key: the
    serialized SealedObjectForKeyProtector; PKCS12 private or secret key: the EncryptedPrivateKeyInfo
    of its shrouded key bag or secret bag."""

    store_type: StoreType
    blob: bytes = field(repr=False)


@dataclass(frozen=True)
class Entry:
    """One keystore entry.

    PRIVATE_KEY: `chain` (leaf first) and `key` (None when not decrypted); TRUSTED_CERT: `chain`
    is the one certificate; SECRET_KEY: `secret` (None when not decrypted), no chain. `sealed`:
    the key as the store read it protects it (set by load; see Sealed), carried when `key` or
    `secret` is None and the store is written in the same type."""

    alias: str
    chain: tuple[x509.Certificate, ...] = ()
    key: PrivateKey | None = None
    kind: EntryKind = EntryKind.PRIVATE_KEY
    timestamp: dt.datetime | None = None
    secret: SecretKey | None = None
    sealed: Sealed | None = None
    # The key's PKCS#8 as read: writers use it while it still holds `key` (it keeps what
    # cryptography's serializer would drop, such as an RSASSA-PSS key's algorithm).
    key_pkcs8: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def is_key_entry(self) -> bool:
        """A private key entry (Java's isKeyEntry is also true for secret keys: see kind)."""
        return self.kind is EntryKind.PRIVATE_KEY

    @property
    def decrypted(self) -> bool:
        return self.kind is EntryKind.TRUSTED_CERT or (self.key or self.secret) is not None

    def chain_for(self, need: str) -> tuple[x509.Certificate, ...]:
        """The chain, where a command needs one: a PKCS12 key entry may hold no certificate (Java
        lists it with an empty chain), and is then refused, by name. `need` ends the sentence."""
        if not self.chain:
            raise BadInputError(f"the entry {self.alias!r} holds a key without a certificate, {need}")
        return self.chain


@dataclass(frozen=True)
class Keystore:
    """A keystore read by load_keystore: its type and its entries, in the file's order."""

    type: StoreType
    entries: tuple[Entry, ...]

    @property
    def key_entries(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.is_key_entry)

    def find(self, alias: str) -> Entry | None:
        """The entry Java's KeyStore returns for `alias`: Java lowercases the name it looks
        up (JKS and JCEKS keep stored aliases as written, so a mixed-case one is unreachable;
        PKCS12 lowercases them when it reads). Bouncy Castle's BKS and UBER look aliases up as
        given."""
        if self.type.bouncy_castle:
            return self._by_alias.get(alias)
        return self._by_alias.get(alias.lower())

    @functools.cached_property
    def _by_alias(self) -> dict[str, Entry]:
        return {e.alias: e for e in self.entries}

    def entry(self, alias: str | None = None) -> Entry:
        """The entry with this alias (as Java finds it); without an alias, the only private key
        entry, or the only entry."""
        if alias is not None:
            found = self.find(alias)
            if found is not None:
                return found
            unreachable = [e.alias for e in self.entries if e.alias.lower() == alias.lower()]
            if unreachable and self.type.bouncy_castle:
                raise BadInputError(f"no entry with alias {alias!r} in the {self.type.value.upper()} keystore: its "
                                    f"aliases are case-sensitive; the entry is {unreachable[0]!r}")
            if unreachable:
                raise BadInputError(
                    f"the entry {unreachable[0]!r} has a mixed-case alias, which Java cannot look up "
                    "(it lowercases the name it looks for); rewrite the store with a lowercase alias")
            known = ", ".join(e.alias for e in self.entries) or "none"
            raise BadInputError(f"no entry with alias {alias!r} in the keystore (aliases: {known})")
        candidates = self.key_entries or self.entries
        if len(candidates) != 1:
            known = ", ".join(e.alias for e in candidates) or "none"
            raise BadInputError(
                f"the keystore holds {len(candidates)} entries; pick one with --alias ({known})"
            )
        return candidates[0]


def load_key(pkcs8: bytes, *, what: str) -> Any:
    """A key read from a keystore: ktpy's own loader for RSA and EC (with its checks), and any
    other algorithm Java keystores hold (DSA, Ed25519, Ed448) as cryptography reads it, so that it
    is carried even where ktpy does not use it."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    from ..errors import UnsupportedError
    from ..keys import load_private_key

    try:
        return load_private_key(pkcs8, what=what)
    except UnsupportedError:
        try:
            return load_der_private_key(pkcs8, None)
        except (ValueError, UnsupportedAlgorithm):
            raise UnsupportedError(f"{what} uses a key algorithm ktpy cannot read") from None


def pkcs8_of(entry: Entry) -> bytes:
    """The PKCS#8 to protect for a decrypted private key entry: the bytes read, when they are
    still this key's, else cryptography's encoding."""
    from ..keys import private_key_to_der

    if entry.key is None:
        raise BadInputError(f"the key of entry {entry.alias!r} was not decrypted; give its key password")
    if entry.key_pkcs8 is not None:
        try:
            if same_public_key(load_key(entry.key_pkcs8, what="the key").public_key(), entry.key.public_key()):
                return entry.key_pkcs8
        except BadInputError:
            pass
    return private_key_to_der(entry.key)


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
    check_alias(cleaned)
    return cleaned.lower()


def check_alias(alias: str) -> None:
    """Refuse an alias no Java keystore can hold: JKS and JCEKS store it with writeUTF (at most
    65535 bytes of modified UTF-8)."""
    from .javaser import MAX_UTF_BYTES, encode_modified_utf8

    if len(alias) > MAX_UTF_BYTES // 3 and len(encode_modified_utf8(alias)) > MAX_UTF_BYTES:
        raise BadInputError(f"the alias is {len(encode_modified_utf8(alias))} bytes in Java's encoding; "
                            f"Java keystores hold aliases of at most {MAX_UTF_BYTES} bytes")


def check_password(password: str, *, what: str, store_type: StoreType) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInputError(
            f"the {what} must be at least {MIN_PASSWORD_LENGTH} characters (keytool refuses shorter ones)"
        )
    if store_type is StoreType.JCEKS and not all(0x20 <= ord(c) < 0x7F for c in password):
        raise UnsupportedError(
            f"the {what} for a JCEKS keystore must be printable ASCII; Java refuses other characters there"
        )


