"""Keystores Java loads: JKS, JCEKS and PKCS12 behind one interface.

    build(type, key, chain, alias=..., storepass=...) -> bytes
    load(data, storepass, keypass=None) -> Keystore

Functions take and return objects and bytes, never paths.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import gc
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

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
        PKCS12 lowercases them when it reads)."""
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
    entry = Entry(alias=normalize_alias(alias), chain=chain, key=key, timestamp=now)
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
        entries.append(Entry(alias=alias, chain=(cert,), kind=EntryKind.TRUSTED_CERT, timestamp=now))
    return entries


def build_store(store_type: StoreType | str, entries: Sequence[Entry], *, storepass: str,
                keypass: str | None = None, compat: Compat | str | None = None,
                now: dt.datetime | None = None, protected: bool = True) -> bytes:
    """A keystore of any entries. Each decrypted key (private or secret) is protected with
    keypass (default: storepass); a key that is not decrypted is carried in its sealed form,
    which only a store of the type it came from can hold. Aliases are written as given (lowercase
    them with normalize_alias first); two that Java would take for one are refused.
    protected=False (PKCS12 only): no MAC and certificates in the clear, as Java writes a
    password-less truststore; an edit of such a store keeps it so."""
    store_type = StoreType.parse(store_type)
    compat = Compat.parse(compat)
    now = now or dt.datetime.now(dt.timezone.utc)
    keypass = storepass if keypass is None else keypass
    check_password(storepass, what="store password", store_type=store_type)
    if not entries:
        raise BadInputError("a keystore needs at least one entry")
    if any(e.kind is not EntryKind.TRUSTED_CERT and (e.key or e.secret) is not None for e in entries):
        check_password(keypass, what="key password", store_type=store_type)
    ready, seen = [], set()
    for entry in entries:
        check_alias(entry.alias)
        folded = entry.alias.lower()
        if folded in seen:
            raise BadInputError(f"two entries would have the alias {folded!r} (Java ignores case)")
        seen.add(folded)
        _check_entry(entry, store_type)
        ready.append(replace(entry, chain=tuple(entry.chain), timestamp=entry.timestamp or now))
    if store_type is StoreType.PKCS12:
        if keypass != storepass:
            raise UnsupportedError(
                "a PKCS12 keystore cannot have a key password different from its store password "
                "(Java cannot read it); use the same password, or a JKS or JCEKS keystore"
            )
        from . import pkcs12

        return pkcs12.build(ready, storepass, compat=compat, protected=protected)
    if store_type is StoreType.JKS:
        from . import jks

        return jks.build(ready, storepass, keypass)
    from . import jceks

    return jceks.build(ready, storepass, keypass)


def _check_entry(entry: Entry, store_type: StoreType) -> None:
    """One sentence naming the entry when the target type cannot hold it as it is."""
    name = repr(entry.alias)
    if entry.kind is EntryKind.TRUSTED_CERT:
        if len(entry.chain) != 1:
            raise BadInputError(f"the trusted entry {name} must hold exactly one certificate")
        return
    carried = entry.sealed is not None and entry.sealed.store_type is store_type
    if entry.kind is EntryKind.SECRET_KEY:
        if store_type is StoreType.JKS:
            raise UnsupportedError(f"the entry {name} is a secret key, which a JKS keystore cannot hold; "
                                   "convert to JCEKS or PKCS12 instead")
        if entry.secret is None and not carried:
            source = entry.sealed.store_type.value.upper() if entry.sealed else "keystore"
            raise BadInputError(f"the secret key of entry {name} was not decrypted, so it can only be "
                                f"carried into a {source} of its own type; give its key password (--keypass)")
        return
    if not entry.chain:
        raise BadInputError(f"the key entry {name} needs at least its certificate")
    if entry.key is None:
        if not carried:
            raise BadInputError(f"the key of entry {name} was not decrypted; give its key password (--keypass)")
        return
    if not same_public_key(entry.key.public_key(), entry.chain[0].public_key()):
        raise MismatchError("the private key does not match the certificate")


def seal(entry: Entry, store_type: StoreType | str, keypass: str) -> Entry:
    """`entry` with its key protected for `store_type` with `keypass` and the decrypted key
    dropped: how a store gets keys under different passwords (build_store then carries it)."""
    store_type = StoreType.parse(store_type)
    if entry.kind is EntryKind.TRUSTED_CERT:
        return entry
    _check_entry(entry, store_type)
    if (entry.key or entry.secret) is None:
        return entry
    check_password(keypass, what="key password", store_type=store_type)
    from . import jceks, jks, pkcs12

    module = {StoreType.JKS: jks, StoreType.JCEKS: jceks, StoreType.PKCS12: pkcs12}[store_type]
    return replace(entry, key=None, secret=None, sealed=Sealed(store_type, module.seal(entry, keypass)))


def open_entry(entry: Entry, keypass: str) -> Entry:
    """`entry` with its sealed key decrypted; WrongPasswordError (naming it) when keypass does
    not open it."""
    if entry.kind is EntryKind.TRUSTED_CERT or entry.decrypted or entry.sealed is None:
        return entry
    from . import jceks, jks, pkcs12

    module = {StoreType.JKS: jks, StoreType.JCEKS: jceks, StoreType.PKCS12: pkcs12}[entry.sealed.store_type]
    if entry.kind is EntryKind.SECRET_KEY:
        return replace(entry, secret=module.recover_secret(entry, keypass))
    key, pkcs8 = module.recover(entry, keypass)
    return replace(entry, key=key, key_pkcs8=pkcs8)


def unlock(store: Keystore, keypass: str) -> Keystore:
    """The store with every key that `keypass` opens decrypted, and the others left sealed (a
    rewrite in the same type carries them under their own password)."""
    from ..errors import WrongPasswordError

    opened = []
    for entry in store.entries:
        try:
            opened.append(open_entry(entry, keypass))
        except WrongPasswordError:
            opened.append(entry)
    return replace(store, entries=tuple(opened))


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


def load(data: bytes, storepass: str | None, *, keypass: str | None = None,
         decrypt_keys: bool = True, store_type: StoreType | str | None = None,
         alias: str | None = None, decrypt_secrets: bool = False) -> Keystore:
    """Read a JKS, JCEKS or PKCS12 keystore as Java's KeyStore API sees it. Private and secret
    keys are decrypted with keypass (default: the store password) unless decrypt_keys is False;
    with `alias`, only that entry's key (other keys may have other passwords; a secret key the
    password does not open is otherwise left sealed). decrypt_secrets opens secret keys even
    when decrypt_keys is False (inspect shows their algorithm). Every key keeps its sealed form
    (Entry.sealed).

    storepass None reads as Java's load(stream, null): no integrity check, and nothing that
    needs the password (PKCS12 encrypted parts are skipped, keys stay sealed)."""
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
    secret_pass = keypass if decrypt_keys or decrypt_secrets else None
    if not decrypt_keys:
        keypass = None
    with without_gc(), warnings.catch_warnings():
        # Real stores hold old certificates cryptography warns about (negative serials): read them quietly.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        if store_type is StoreType.PKCS12:
            from . import pkcs12

            return pkcs12.load(data, storepass, keypass, only=alias, secret_pass=secret_pass)
        from . import java_container

        return java_container.load(data, storepass, keypass, only=alias, secret_pass=secret_pass)


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
    """Reading a 100000-certificate truststore makes millions of objects and no reference cycles:
    the cyclic collector would walk them all again and again (a third of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
