"""Bouncy Castle's BKS (version 1 and 2) and UBER keystores, read through pyjks (`jks.bks`), with
ktpy's bounds around it. ktpy reads them (inspect, expiry, convert) and never writes them.

Layout (org.bouncycastle.jcajce.provider.keystore.bc.BcKeyStoreSpi): version (4 bytes: BKS 1 or
2, UBER 1), salt (4-byte length, then the bytes), iteration count (4 bytes), then the entries:
a type byte (1 certificate, 2 plain key, 3 opaque secret, 4 sealed key; 0 ends them), the alias
(writeUTF), the date (ms), the chain (count, then type + length + DER each), and the object.
BKS follows the entries with HMAC-SHA1 under a key from the PKCS#12 KDF (RFC 7292 B.2; version 1
takes 2 bytes of key, version 2 twenty: Bouncy Castle's old bits-for-bytes slip, kept); UBER
encrypts entries + SHA-1(entries) with PBEWithSHAAndTwofish-CBC. A sealed key is salt, count and
PBEWithSHAAnd3-KeyTripleDES-CBC over (key type, format, algorithm, encoded key).

As Java with the Bouncy Castle provider sees them: aliases as stored (Bouncy Castle keys its table
by the exact alias, so lookups are case-sensitive); a key entry with a chain is a
PrivateKeyEntry, one without a SecretKeyEntry (KeyStoreSpi.engineEntryInstanceOf); a BKS
store read without a password is read without its integrity check (BcKeyStoreSpi.engineLoad);
UBER needs its password, being encrypted as a whole.

Bounds, because pyjks has none: every iteration count ktpy lets pyjks use is at most
UBER_MAX_ITERATIONS for UBER (Bouncy Castle refuses more: MIN_ITERATIONS << 6) and MAX_ITERATIONS
for BKS (Bouncy Castle writes 1024 to 2047 and reads any count; ktpy refuses more than the
5,000,000 rounds it allows any keystore); the file size is bounded by the caller's reader; pyjks
walks the bytes once. pyjks raises its own exceptions, and also NameError and struct.error on
some damaged files: every one becomes one sentence here.
"""

from __future__ import annotations

import datetime as dt
import functools
import struct
import warnings
from collections.abc import Sequence
from typing import Any

from ..errors import BadInputError, KtpyError, UnsupportedError, WrongPasswordError
from ..keys import PrivateKey
from ..pbe import MAX_ROUNDS
from . import certificate
from .model import READ_ONLY, Compat, Entry, EntryKind, Keystore, Sealed, SecretKey, StoreType, load_key

# Bouncy Castle's own bound for UBER (BcKeyStoreSpi.BouncyCastleStore.engineLoad).
UBER_MAX_ITERATIONS = 1024 << 6
# The bound ktpy puts on any password-based key derivation it runs for a keystore (pbe.MAX_ROUNDS).
MAX_ITERATIONS = MAX_ROUNDS
# Bouncy Castle's store salt is 20 bytes; a length beyond this is damage, not a salt.
MAX_SALT = 1024

_NAMES = {StoreType.BKS: "BKS", StoreType.UBER: "UBER"}


def looks_like(data: bytes) -> StoreType | None:
    """BKS or UBER by the content (they have no magic number): version 1 or 2, a salt length of
    1..MAX_SALT, then for BKS the entries in plain (a type byte 0..4 and, unless 0, an alias),
    for UBER ciphertext in 16-byte Twofish blocks. Version 2 is BKS only; a version 1 file is
    BKS when its entries parse, UBER otherwise."""
    header = _header(data)
    if header is None:
        return None
    version, _, _, pos = header
    if version == 2:
        return StoreType.BKS
    body = data[pos:]
    if _entries_parse(body):
        return StoreType.BKS
    if len(body) % 16 == 0 and body:
        return StoreType.UBER
    # a damaged or truncated BKS still starts with an entry: a type byte and an alias length
    if len(body) >= 3 and 1 <= body[0] <= 4 and struct.unpack_from(">H", body, 1)[0] <= len(body) - 3:
        return StoreType.BKS
    return None


def _header(data: bytes) -> tuple[int, bytes, int, int] | None:
    if len(data) < 12:
        return None
    version, salt_len = struct.unpack_from(">II", data)
    if version not in (1, 2) or not 0 < salt_len <= MAX_SALT or len(data) < 12 + salt_len:
        return None
    salt = data[8:8 + salt_len]
    (iterations,) = struct.unpack_from(">I", data, 8 + salt_len)
    return version, salt, iterations, 12 + salt_len


def _entries_parse(body: bytes) -> bool:
    """Do the bytes walk as BKS entries followed by a 20-byte HMAC? (No cryptography: a
    structural check, linear in the size.)"""
    try:
        _, size = _walk_entries(body)
    except Exception:  # noqa: BLE001 - anything pyjks raises means "not BKS entries"
        return False
    return bool(size + 20 == len(body))


def _walk_entries(body: bytes) -> tuple[dict[str, Any], int]:
    """pyjks's walk over BKS entries (keys left sealed): ({alias: entry}, bytes used). pyjks has
    no public call for entries without an HMAC check, which Bouncy Castle skips without a password."""
    walker: Any = _readers()[0]
    table, size = walker._load_bks_entries(body, "bks", None, try_decrypt_keys=False)
    return table, int(size)


@functools.cache
def _readers() -> tuple[Any, Any]:
    """pyjks's BKS and UBER readers, with one change: strings (aliases, certificate types) are
    read as Bouncy Castle writes them, with DataOutputStream.writeUTF (Java's modified UTF-8: a
    character beyond the BMP is two 3-byte surrogates), where pyjks decodes standard UTF-8 and
    refuses them."""
    import jks
    from jks.bks import BksKeyStore, UberKeyStore

    from .javaser import decode_modified_utf8

    class _JavaUtf:
        @classmethod
        def _read_utf(cls, data: bytes, pos: int, kind: str | None = None) -> tuple[str, int]:
            (size,) = struct.unpack_from(">H", data, pos)
            raw = data[pos + 2:pos + 2 + size]
            if len(raw) != size:
                raise jks.BadKeystoreFormatException(f"truncated {kind or 'string'}")
            try:
                return decode_modified_utf8(raw), pos + 2 + size
            except UnicodeDecodeError:
                raise jks.BadKeystoreFormatException(f"bad {kind or 'string'}") from None

    class Bks(_JavaUtf, BksKeyStore):
        pass

    class Uber(_JavaUtf, UberKeyStore):
        pass

    return Bks, Uber


def read(data: bytes, storepass: str | None, keypass: str | None, *, only: str | None = None,
         secret_pass: str | None = None) -> Keystore:
    """A BKS keystore (version 1 or 2): load() for the format table (uber.py reads UBER)."""
    return load(data, StoreType.BKS, storepass, keypass, only=only, secret_pass=secret_pass)


def build(entries: Sequence[Entry], storepass: str, keypass: str, compat: Compat) -> bytes:
    raise UnsupportedError(READ_ONLY)


def seal(entry: Entry, keypass: str) -> bytes:
    raise UnsupportedError(READ_ONLY)


def load(data: bytes, store_type: StoreType, storepass: str | None, keypass: str | None, *,
         only: str | None = None, secret_pass: str | None = None) -> Keystore:
    """A BKS or UBER keystore as Java with the Bouncy Castle provider sees it. The store's
    integrity (BKS: its HMAC; UBER: decryption and its hash) is checked before any key is
    touched; storepass None reads a BKS without that check (as Bouncy Castle does) and refuses a
    UBER. Keys are decrypted with keypass (only the entry `only`, when given); keypass None
    leaves them sealed."""
    name = _NAMES[store_type]
    corrupted = f"the {name} keystore is corrupted or truncated"
    header = _header(data)
    if header is None:
        raise BadInputError(corrupted)
    version, _, iterations, pos = header
    bound = UBER_MAX_ITERATIONS if store_type is StoreType.UBER else MAX_ITERATIONS
    if iterations > bound:
        raise BadInputError(f"the {name} keystore claims {iterations:,} key derivation rounds; "
                            f"ktpy reads at most {bound:,} (Bouncy Castle writes 1024 to 2047)")
    raw = _pyjks_load(data, store_type, storepass, pos, corrupted)
    entries: list[Entry] = []
    for alias, item in raw.items():
        entry = _entry(alias, item, store_type, corrupted)
        chosen = only is None or entry.alias == only
        if entry.kind is EntryKind.PRIVATE_KEY and keypass is not None and chosen:
            key, pkcs8 = recover(entry, keypass)
            entry = Entry(alias=entry.alias, chain=entry.chain, key=key, timestamp=entry.timestamp,
                          sealed=entry.sealed, key_pkcs8=pkcs8)
        elif entry.kind is EntryKind.SECRET_KEY and secret_pass is not None and chosen:
            try:
                entry = Entry(alias=entry.alias, kind=entry.kind, timestamp=entry.timestamp,
                              secret=recover_secret(entry, secret_pass), sealed=entry.sealed)
            except WrongPasswordError:
                if only is not None:
                    raise
        entries.append(entry)
    return Keystore(type=store_type, entries=tuple(entries))


def _pyjks_load(data: bytes, store_type: StoreType, storepass: str | None, pos: int, corrupted: str) -> Any:
    """The entries pyjks reads ({alias: pyjks entry}), keys left sealed; pyjks's exceptions as sentences."""
    import jks

    bks_reader, uber_reader = _readers()
    name = _NAMES[store_type]
    try:
        if store_type is StoreType.UBER:
            if storepass is None:
                raise BadInputError("a UBER keystore is encrypted as a whole: give its store password")
            with warnings.catch_warnings():
                # pyjks decrypts UBER with the twofish package, which imports `imp` (gone in Python 3.12)
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    import twofish  # type: ignore[import-untyped]  # noqa: F401
                except ImportError:
                    raise UnsupportedError("reading a UBER keystore needs the twofish package (pyjks uses it), "
                                           "which does not load on this Python") from None
                return uber_reader.loads(data, storepass, try_decrypt_keys=False).entries
        if storepass is None or storepass == "":
            # Bouncy Castle checks no HMAC without a password (the 20 bytes are read, not checked)
            table, size = _walk_entries(data[pos:])
            if size + 20 > len(data) - pos:
                raise BadInputError(corrupted)
            return table
        return bks_reader.loads(data, storepass, try_decrypt_keys=False).entries
    except KtpyError:
        raise
    except (jks.KeystoreSignatureException, jks.DecryptionFailureException):
        raise WrongPasswordError(f"wrong store password for the {name} keystore"
                                 + (" (its HMAC does not verify)" if store_type is StoreType.BKS
                                    else ", or it is damaged (it does not decrypt)")) from None
    except jks.DuplicateAliasException:
        raise UnsupportedError(f"the {name} keystore holds two entries under one alias, which ktpy "
                               "does not read (Bouncy Castle keeps the last)") from None
    except Exception:  # noqa: BLE001 - BadKeystoreFormatException, struct.error, NameError...: damage
        raise BadInputError(corrupted) from None


def _entry(alias: str, item: Any, store_type: StoreType, corrupted: str) -> Entry:
    from jks.bks import BksKeyEntry, BksSealedKeyEntry, BksSecretKeyEntry, BksTrustedCertEntry

    name = _NAMES[store_type]
    when = dt.datetime.fromtimestamp(item.timestamp / 1000, dt.timezone.utc) if abs(item.timestamp) < 2**46 else None
    what = f"the {name} keystore entry {alias!r}"
    chain = tuple(_cert(c, what) for c in item.cert_chain)
    if isinstance(item, BksTrustedCertEntry):
        return Entry(alias=alias, chain=(_cert(item, what),), kind=EntryKind.TRUSTED_CERT,
                     timestamp=when)
    kind = EntryKind.PRIVATE_KEY if chain else EntryKind.SECRET_KEY
    if isinstance(item, BksSealedKeyEntry):
        return Entry(alias=alias, chain=chain, kind=kind, timestamp=when,
                     sealed=Sealed(store_type, item.__dict__["_encrypted"]))
    if isinstance(item, BksKeyEntry | BksSecretKeyEntry):
        raise UnsupportedError(f"{what} is stored unprotected in an old form (type "
                               f"{2 if isinstance(item, BksKeyEntry) else 3}), which ktpy does not read")
    raise BadInputError(corrupted)


def _cert(item: Any, what: str) -> Any:
    if item.type != "X.509":
        raise UnsupportedError(f"{what} holds a {item.type!r} certificate; ktpy reads X.509 only")
    return certificate.load_der(item.cert, what=what)


def _open(entry: Entry, password: str) -> Any:
    """The pyjks key entry inside a sealed one, its own iteration count bounded first."""
    from jks.bks import BksSealedKeyEntry

    assert entry.sealed is not None  # read from a store: every key is sealed
    name = _NAMES[entry.sealed.store_type]
    blob = entry.sealed.blob
    what = f"the key of entry {entry.alias!r} in the {name} keystore"
    try:
        (salt_len,) = struct.unpack_from(">I", blob)
        if salt_len > MAX_SALT:
            raise ValueError("salt")
        (iterations,) = struct.unpack_from(">I", blob, 4 + salt_len)
    except (struct.error, ValueError):
        raise BadInputError(f"{what} is damaged") from None
    if iterations > MAX_ITERATIONS:
        raise BadInputError(f"{what} claims {iterations:,} key derivation rounds; "
                            f"ktpy reads at most {MAX_ITERATIONS:,}")
    store_type: Any = name.lower()
    sealed = BksSealedKeyEntry(store_type=store_type, encrypted=blob, alias=entry.alias, timestamp=0)
    import jks

    try:
        sealed.decrypt(password)
        return sealed.nested
    except jks.DecryptionFailureException:
        raise WrongPasswordError(f"wrong key password for entry {entry.alias!r} in the {name} keystore") from None
    except Exception:  # noqa: BLE001 - a wrong password can also leave garbage that fails to parse
        raise WrongPasswordError(f"wrong key password for entry {entry.alias!r} in the {name} keystore, "
                                 "or the entry is damaged") from None


def recover(entry: Entry, password: str) -> tuple[PrivateKey, bytes]:
    """(private key, its PKCS#8) of a BKS/UBER key entry with a chain."""
    from jks.bks import KEY_TYPE_PRIVATE

    inner = _open(entry, password)
    what = f"the key of entry {entry.alias!r}"
    if inner.type != KEY_TYPE_PRIVATE:
        raise UnsupportedError(f"{what} is a {inner.type2str(inner.type).lower()} key beside a certificate "
                               "chain; ktpy reads private keys there")
    return load_key(inner.encoded, what=what), bytes(inner.encoded)


def recover_secret(entry: Entry, password: str) -> SecretKey:
    """The secret key of a BKS/UBER key entry without a chain, by Java's algorithm name."""
    from jks.bks import KEY_TYPE_SECRET

    inner = _open(entry, password)
    if inner.type != KEY_TYPE_SECRET:
        raise UnsupportedError(f"the entry {entry.alias!r} holds a {inner.type2str(inner.type).lower()} key "
                               "without a certificate chain, which ktpy does not read")
    return SecretKey(algorithm=inner.algorithm, value=bytes(inner.encoded))
