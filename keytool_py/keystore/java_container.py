"""The container JKS and JCEKS share, read and written by our own code. What differs, the key
protection, lives in jks.py and jceks.py (the DER they need, in der.py); the reader takes it as
an argument (a Protector), so this module imports neither and they import it.

Layout (sun.security.provider.JavaKeyStore, com.sun.crypto.provider.JceKeyStore): magic, version
(1 or 2), entry count; per entry a tag (1 private key, 2 trusted certificate, 3 JCEKS secret
key), the alias (writeUTF: modified UTF-8), the creation time in milliseconds, then the
protected key and its chain, the certificate, or the sealed secret key (a Java serialization
stream); last, SHA-1 over the store password as UTF-16BE, the bytes "Mighty Aphrodite", and all
that precedes. Java keys its table by the alias as stored, so of two entries under one alias the
last is kept; lookups lowercase the name asked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from cryptography import x509

from .. import certs
from ..errors import BadInputError, KtpyError, WrongPasswordError
from ..keys import PrivateKey
from . import certificate, javaser
from .model import Entry, EntryKind, Keystore, Sealed, SecretKey, StoreType, java_millis

VERSION = 2
WHITENING = b"Mighty Aphrodite"
JKS_MAGIC = b"\xfe\xed\xfe\xed"
JCEKS_MAGIC = b"\xce\xce\xce\xce"
_TAGS = {EntryKind.PRIVATE_KEY: 1, EntryKind.TRUSTED_CERT: 2, EntryKind.SECRET_KEY: 3}


def _integrity(storepass: str, body: bytes | Sequence[bytes]) -> bytes:
    digest = hashlib.sha1(storepass.encode("utf-16-be", "surrogatepass") + WHITENING)
    for part in [body] if isinstance(body, bytes) else body:
        digest.update(part)
    return digest.digest()


def encode(magic: bytes, entries: Sequence[Entry], storepass: str, protect: Callable[[Entry], bytes]) -> bytes:
    """The store's bytes; protect(entry) returns the key's protected form (sealed or new).
    Parts are joined once at the end, so time is linear in the number of entries."""
    parts = [magic, struct.pack(">II", VERSION, len(entries))]
    for entry in entries:
        alias = javaser.write_utf(entry.alias, what=f"the alias {entry.alias[:40]!r}...")
        parts += [struct.pack(">I", _TAGS[entry.kind]), alias, struct.pack(">q", java_millis(entry.timestamp))]
        if entry.kind is EntryKind.PRIVATE_KEY:
            parts += [_data(protect(entry)), struct.pack(">I", len(entry.chain))]
            for cert in entry.chain:
                parts += [_X509, _data(certs.to_der(cert))]
        elif entry.kind is EntryKind.TRUSTED_CERT:
            parts += [_X509, _data(certs.to_der(entry.chain[0]))]
        else:
            parts.append(protect(entry))
    parts.append(_integrity(storepass, parts))
    return b"".join(parts)


def _data(raw: bytes) -> bytes:
    return struct.pack(">I", len(raw)) + raw


_X509 = javaser.write_utf("X.509", what="")


# --- reading ---

class _Cursor:
    def __init__(self, data: bytes, kind: str):
        self.data, self.pos, self.kind = data, 0, kind

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BadInputError(f"the {self.kind} keystore is corrupted or truncated")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw

    def int(self, fmt: str = ">i") -> int:
        value: int = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]  # fmt is one integer code
        return value

    def utf(self) -> str:
        raw = self.take(self.int(">H"))
        try:
            return javaser.decode_modified_utf8(raw)
        except UnicodeDecodeError:
            raise BadInputError(f"the {self.kind} keystore holds an alias that is not valid modified "
                                "UTF-8 (Java refuses the whole store)") from None


# One entry as parse reads it: (tag, alias, millis, payload); the payload is (protected key,
# [cert DER]) for tag 1 and bytes for tags 2 and 3.
Item = tuple[int, str, int, bytes | tuple[bytes, list[bytes]]]


@dataclass(frozen=True)
class Protector:
    """What load needs of a key protection, given by jks.py and jceks.py: the rounds a protected
    key claims, and recovering a private or (JCEKS) secret key with a password."""

    rounds: Callable[[bytes], int]
    recover: Callable[[Entry, str], tuple[PrivateKey, bytes]]
    recover_secret: Callable[[Entry, str], SecretKey]


def _key_payload(item: Item) -> tuple[bytes, list[bytes]]:
    payload = item[3]
    assert isinstance(payload, tuple)  # parse gives tag 1 items a (protected key, [cert DER]) payload
    return payload


def _blob_payload(item: Item) -> bytes:
    payload = item[3]
    assert not isinstance(payload, tuple)  # parse gives tag 2 and 3 items the bytes as read
    return payload


def parse(data: bytes, kind: str) -> tuple[list[Item], int]:
    """[(tag, alias, millis, payload)], end offset. payload: (protected key, [cert DER]) for tag 1,
    cert DER for 2, the sealed object's bytes for 3. Lengths are checked against what remains,
    so a crafted count or length costs nothing."""
    cur = _Cursor(data, kind)
    cur.take(4)
    version = cur.int()
    if version not in (1, 2):
        raise BadInputError(f"the {kind} keystore has version {version}; Java reads versions 1 and 2")
    count = cur.int()
    if not 0 <= count <= len(data) // 14:  # the smallest entry takes 14 bytes
        raise BadInputError(f"the {kind} keystore is corrupted or truncated")
    items: list[Item] = []
    for _ in range(count):
        tag = cur.int()
        alias = cur.utf()
        millis = cur.int(">q")
        if tag == 1:
            protected = cur.take(cur.int())
            n = cur.int()
            if not 0 <= n <= len(data) - cur.pos:
                raise BadInputError(f"the {kind} keystore is corrupted or truncated")
            chain = []
            for _ in range(n):
                chain.append(_cert_der(cur, version))
            items.append((1, alias, millis, (protected, chain)))
        elif tag == 2:
            items.append((2, alias, millis, _cert_der(cur, version)))
        elif tag == 3 and kind == "JCEKS":
            try:
                _, end = javaser.read_object(data, cur.pos, allowed=javaser.SEALED_OBJECT_CLASSES)
            except javaser.SerialError:
                raise BadInputError(f"the secret key entry {alias!r} in the JCEKS keystore is damaged "
                                    "or holds objects other than a sealed key (Java refuses such a store)") from None
            items.append((3, alias, millis, cur.take(end - cur.pos)))
        else:
            raise BadInputError(f"the {kind} keystore is corrupted or truncated (unknown entry tag {tag})")
    return items, cur.pos


def _cert_der(cur: _Cursor, version: int) -> bytes:
    if version == 2:
        cert_type = cur.utf()
        if cert_type != "X.509":
            raise BadInputError(f"the {cur.kind} keystore holds a {cert_type!r} certificate; only X.509 is read")
    return cur.take(cur.int())


def load(data: bytes, storepass: str | None, keypass: str | None, protector: Protector, *,
         only: str | None = None, secret_pass: str | None = None) -> Keystore:
    """A JKS or JCEKS keystore as Java sees it. The integrity hash is checked before anything
    else is parsed (as a wrong password must cost nothing); storepass None skips it, as Java's
    load(stream, null) does. Keys are decrypted with keypass (only the entry `only`, when
    given); keypass None leaves every key sealed. `protector` opens the keys (jks or jceks)."""
    is_jceks = data[:4] == JCEKS_MAGIC
    kind = "JCEKS" if is_jceks else "JKS"
    store_type = StoreType.JCEKS if is_jceks else StoreType.JKS
    if len(data) < 32:
        raise BadInputError(f"the {kind} keystore is corrupted or truncated")
    hash_ok = storepass is None or hmac.compare_digest(_integrity(storepass, data[:-20]), data[-20:])
    items, end = parse(data, kind)
    if not hash_ok:
        assert storepass is not None  # hash_ok holds without a password
        # Java reads the hash right after the entries; bytes after it are ignored.
        if end + 20 > len(data) or not hmac.compare_digest(_integrity(storepass, data[:end]), data[end:end + 20]):
            raise _hash_mismatch(items, storepass, kind, protector)
    elif storepass is not None and end != len(data) - 20:
        raise BadInputError(f"the {kind} keystore is corrupted or truncated")
    table: dict[str, Entry] = {}
    for item in items:
        tag, alias, millis = item[:3]
        when = dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc) if abs(millis) < 2**46 else None
        if tag == 1:
            protected, chain_der = _key_payload(item)
            chain = tuple(_cert(d, kind) for d in chain_der)
            entry = Entry(alias=alias, chain=chain, timestamp=when, sealed=Sealed(store_type, protected))
        elif tag == 2:
            cert = _cert(_blob_payload(item), kind)
            entry = Entry(alias=alias, chain=(cert,), kind=EntryKind.TRUSTED_CERT, timestamp=when)
        else:
            sealed = Sealed(store_type, _blob_payload(item))
            entry = Entry(alias=alias, kind=EntryKind.SECRET_KEY, timestamp=when, sealed=sealed)
        table.pop(alias, None)  # Java keeps the last entry under an alias
        table[alias] = entry
    entries = []
    for entry in table.values():
        chosen = only is None or entry.alias == only.lower()
        if keypass is not None and chosen and entry.kind is EntryKind.PRIVATE_KEY:
            key, pkcs8 = protector.recover(entry, keypass)
            entry = replace(entry, key=key, key_pkcs8=pkcs8)
        elif secret_pass is not None and chosen and entry.kind is EntryKind.SECRET_KEY:
            try:
                entry = Entry(alias=entry.alias, kind=entry.kind, timestamp=entry.timestamp,
                              secret=protector.recover_secret(entry, secret_pass), sealed=entry.sealed)
            except WrongPasswordError:
                if only is not None:
                    raise
        entries.append(entry)
    return Keystore(type=store_type, entries=tuple(entries))


class Reader(Protocol):
    def __call__(self, data: bytes, storepass: str | None, keypass: str | None, *, only: str | None = None,
                 secret_pass: str | None = None) -> Keystore: ...


def reader(protector: Protector) -> Reader:
    """load with `protector`, as a format module's `read`."""
    def read(data: bytes, storepass: str | None, keypass: str | None, *, only: str | None = None,
             secret_pass: str | None = None) -> Keystore:
        return load(data, storepass, keypass, protector, only=only, secret_pass=secret_pass)

    return read


# A wrong password is told from an altered file by opening one key with it; keys claiming more
# rounds than Java writes by default are not tried, so a hostile count costs nothing.
PROBE_MAX_ROUNDS = 200_000


def _hash_mismatch(items: Sequence[Item], storepass: str, kind: str, protector: Protector) -> KtpyError:
    """The integrity hash covers the password and the content, so a mismatch means either. One
    key entry that the same password decrypts (its protection has a check) shows the password is
    right, and so the file was altered."""
    store_type = StoreType.JCEKS if kind == "JCEKS" else StoreType.JKS
    first_key = next((item for item in items if item[0] == 1), None)
    protected = _key_payload(first_key)[0] if first_key is not None else b""
    if first_key is not None and protector.rounds(protected) <= PROBE_MAX_ROUNDS:
        entry = Entry(alias=first_key[1], chain=(), sealed=Sealed(store_type, protected))
        try:
            protector.recover(entry, storepass)
        except KtpyError:
            pass
        else:
            return BadInputError(f"the {kind} keystore was altered or damaged: its integrity hash does not "
                                 "match, though the password opens its key")
    return WrongPasswordError(f"wrong store password for the {kind} keystore (or the file was altered: "
                              "its integrity hash does not match)")


def _cert(der: bytes, kind: str) -> x509.Certificate:
    try:
        return certificate.load_der(der, what=f"a certificate in the {kind} keystore")
    except BadInputError:
        raise BadInputError(f"the {kind} keystore holds a certificate that cannot be read") from None
