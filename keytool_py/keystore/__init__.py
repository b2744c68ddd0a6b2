"""Keystores Java loads: JKS, JCEKS and PKCS12 behind one interface.

    build(type, key, chain, alias=..., storepass=...) -> bytes
    load(data, storepass, keypass=None) -> Keystore

Functions take and return objects and bytes, never paths. The values (StoreType, Entry,
Keystore, Sealed...) live in model.py, below every format; each format module (jks, jceks,
pkcs12) imports the model and its codec, never another format nor this package, and this
package picks a format through one table (format_of).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol, cast

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from .. import der
from ..errors import BadInputError, MismatchError, UnsupportedError
from ..keys import PrivateKey, same_public_key
from .model import (
    MIN_PASSWORD_LENGTH,
    Compat,
    Entry,
    EntryKind,
    Keystore,
    Sealed,
    SecretKey,
    StoreType,
    check_alias,
    check_password,
    java_millis,
    load_key,
    normalize_alias,
    parse_types,
    pkcs8_of,
    writable_type,
)

__all__ = [
    "MIN_PASSWORD_LENGTH", "Compat", "Entry", "EntryKind", "Format", "Keystore", "Sealed", "SecretKey",
    "StoreType", "build", "build_store", "check_alias", "check_password", "detect_type", "format_of",
    "java_millis", "load", "load_key", "normalize_alias", "open_entry", "parse_types", "pkcs8_of", "seal",
    "trusted_entries", "unlock", "with_java_aliases", "without_gc", "writable_type",
]


class Format(Protocol):
    """What each format module (jks, jceks, pkcs12; bks and uber, read only) gives the package."""

    def read(self, data: bytes, storepass: str | None, keypass: str | None, *, only: str | None = None,
             secret_pass: str | None = None) -> Keystore: ...

    def build(self, entries: Sequence[Entry], storepass: str, keypass: str, compat: Compat) -> bytes: ...

    def seal(self, entry: Entry, keypass: str) -> bytes: ...

    def recover(self, entry: Entry, keypass: str) -> tuple[PrivateKey, bytes]: ...

    def recover_secret(self, entry: Entry, keypass: str) -> SecretKey: ...


# The one table: a format added touches this line and its module.
_FORMATS = {StoreType.JKS: "jks", StoreType.JCEKS: "jceks", StoreType.PKCS12: "pkcs12", StoreType.BKS: "bks",
            StoreType.UBER: "uber"}


def format_of(store_type: StoreType) -> Format:
    """The module that reads and writes `store_type`, imported when first asked for (a command
    that writes one type does not load the others)."""
    return cast(Format, importlib.import_module(f"{__name__}.{_FORMATS[store_type]}"))


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


class AliasNumbers:
    """Free aliases: BASE, else BASE-2, BASE-3... Each base remembers its next number, so 10,000
    certificates sharing a CN are named in linear time, not by trying 2, 3... each time."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)
        self._next: dict[str, int] = {}

    def next(self, base: str) -> str:
        alias = normalize_alias(base)
        if alias not in self._taken:
            self._taken.add(alias)
            return alias
        n = self._next.get(alias, 2)
        candidate = normalize_alias(f"{base}-{n}")
        while candidate in self._taken:
            n += 1
            candidate = normalize_alias(f"{base}-{n}")
        self._next[alias] = n + 1
        self._taken.add(candidate)
        return candidate


def trusted_entries(certificates: Sequence[x509.Certificate], *, alias_prefix: str | None = None,
                    now: dt.datetime | None = None, taken: Iterable[str] = ()) -> list[Entry]:
    """Trusted certificate entries, aliased PREFIX1, PREFIX2... or by each certificate's CN,
    numbered past the aliases in `taken` (lowercase) and each other."""
    from ..names import common_name, slug

    numbers = AliasNumbers(taken)
    entries: list[Entry] = []
    for number, cert in enumerate(certificates, start=1):
        base = f"{alias_prefix}{number}" if alias_prefix else slug(common_name(cert.subject), default="cert")
        entries.append(Entry(alias=numbers.next(base), chain=(cert,), kind=EntryKind.TRUSTED_CERT, timestamp=now))
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
    store_type = writable_type(store_type)
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
    if not protected:
        if store_type is not StoreType.PKCS12:
            raise ValueError("only a PKCS12 keystore can be written without a MAC")
        from . import pkcs12

        return pkcs12.build(ready, storepass, keypass, compat, protected=False)
    return format_of(store_type).build(ready, storepass, keypass, compat)


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
    if not entry.chain and store_type is not StoreType.PKCS12:
        raise BadInputError(f"the key entry {name} has no certificate, and a {store_type.value.upper()} keystore "
                            "needs one with every key (Java refuses it); keep it in PKCS12, or add its certificate")
    if entry.key is None:
        if not carried:
            raise BadInputError(f"the key of entry {name} was not decrypted; give its key password (--keypass)")
        return
    if entry.chain and not same_public_key(entry.key.public_key(), entry.chain[0].public_key()):
        raise MismatchError("the private key does not match the certificate")


def seal(entry: Entry, store_type: StoreType | str, keypass: str) -> Entry:
    """`entry` with its key protected for `store_type` with `keypass` and the decrypted key
    dropped: how a store gets keys under different passwords (build_store then carries it)."""
    store_type = writable_type(store_type)
    if entry.kind is EntryKind.TRUSTED_CERT:
        return entry
    _check_entry(entry, store_type)
    if (entry.key or entry.secret) is None:
        return entry
    check_password(keypass, what="key password", store_type=store_type)
    return replace(entry, key=None, secret=None, sealed=Sealed(store_type, format_of(store_type).seal(entry, keypass)))


def open_entry(entry: Entry, keypass: str) -> Entry:
    """`entry` with its sealed key decrypted; WrongPasswordError (naming it) when keypass does
    not open it."""
    if entry.kind is EntryKind.TRUSTED_CERT or entry.decrypted or entry.sealed is None:
        return entry
    module = format_of(entry.sealed.store_type)
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


def with_java_aliases(store: Keystore) -> tuple[Keystore, list[tuple[str, str]]]:
    """The store with its aliases as JKS, JCEKS and PKCS12 hold them for Java (lowercase), and the
    (alias, lowercased) pairs that changed. Bouncy Castle's BKS and UBER keep aliases as written
    and find them exactly; written into a Java type as they are, a mixed-case one would be
    unreachable there (Java lowercases the name it looks up). Two aliases equal but for case are
    then refused by build_store, by name."""
    changed = [(e.alias, e.alias.lower()) for e in store.entries if e.alias != e.alias.lower()]
    if not changed:
        return store, []
    return replace(store, entries=tuple(replace(e, alias=e.alias.lower()) for e in store.entries)), changed


def detect_type(data: bytes) -> StoreType | None:
    """The keystore type from the content, or None when it does not look like a keystore.

    JKS and JCEKS have magic numbers; PKCS12 is a DER SEQUENCE whose first field is version 3;
    BKS and UBER start with a version, 1 or 2, and a salt (bks.looks_like).
    """
    if data[:4] == b"\xfe\xed\xfe\xed":
        return StoreType.JKS
    if data[:4] == b"\xce\xce\xce\xce":
        return StoreType.JCEKS
    if data[:1] == b"\x30" and _looks_like_pfx(data):
        return StoreType.PKCS12
    if data[:3] == b"\x00\x00\x00":
        from . import bks

        return bks.looks_like(data)
    return None


def _looks_like_pfx(data: bytes) -> bool:
    # SEQUENCE (any length form) followed by INTEGER 3
    if len(data) < 5:
        return False
    try:
        _, offset, _ = der.header(data)
    except der.DerError:
        return False
    return data[offset:offset + 3] == b"\x02\x01\x03"


def load(data: bytes, storepass: str | None, *, keypass: str | None = None,
         decrypt_keys: bool = True, store_type: StoreType | str | None = None,
         alias: str | None = None, decrypt_secrets: bool = False) -> Keystore:
    """Read a JKS, JCEKS, PKCS12, BKS or UBER keystore as Java's KeyStore API sees it (BKS and
    UBER: with the Bouncy Castle provider). Private and secret
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
        # BKS and UBER have no magic number: a damaged one may look like the other
        if detected is not None and detected is not store_type and not (detected.bouncy_castle
                                                                         and store_type.bouncy_castle):
            raise BadInputError(
                f"the file is a {detected.value.upper()} keystore, not {store_type.value.upper()}"
            )
        detected = store_type
    store_type = detected
    if store_type is None:
        raise BadInputError("the file is not a JKS, JCEKS, PKCS12, BKS or UBER keystore")
    keypass = storepass if keypass is None else keypass
    secret_pass = keypass if decrypt_keys or decrypt_secrets else None
    if not decrypt_keys:
        keypass = None
    with without_gc(), warnings.catch_warnings():
        # Real stores hold old certificates cryptography warns about (negative serials): read them quietly.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        store = format_of(store_type).read(data, storepass, keypass, only=alias, secret_pass=secret_pass)
    from . import certificate

    certificate.inherit_dsa_parameters(c for e in store.entries for c in e.chain)
    return store


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
