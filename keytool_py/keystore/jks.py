"""JKS key protection (sun.security.provider.KeyProtector), both ways; the container is java_container."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from .. import der
from ..errors import BadInputError, UnsupportedError, WrongPasswordError
from ..keys import PrivateKey
from . import java_container
from .model import Compat, Entry, EntryKind, SecretKey, StoreType, load_key, pkcs8_of

MAGIC = java_container.JKS_MAGIC
# Sun's proprietary key protection (sun.security.provider.KeyProtector).
KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1"
SALT_LENGTH = 20
DIGEST_LENGTH = 20


def _keystream_xor(secret: bytes, salt: bytes, data: bytes) -> bytes:
    stream, digest = bytearray(), salt
    while len(stream) < len(data):
        digest = hashlib.sha1(secret + digest).digest()
        stream += digest
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:len(data)], "big")).to_bytes(len(data), "big")


def protect_key(pkcs8: bytes, password: str, *, salt: bytes | None = None) -> bytes:
    """An EncryptedPrivateKeyInfo as Java's JKS KeyProtector writes it: a 20-byte salt, the key
    XORed with a SHA-1 keystream (each block SHA-1(password as UTF-16BE + previous block), the
    first over the salt), then SHA-1(password + key) as the check value Java verifies."""
    secret = password.encode("utf-16-be", "surrogatepass")
    salt = salt or os.urandom(SALT_LENGTH)
    protected = salt + _keystream_xor(secret, salt, pkcs8) + hashlib.sha1(secret + pkcs8).digest()
    algorithm = der.seq(der.oid(KEY_PROTECTOR_OID) + der.NULL)
    return der.seq(algorithm + der.octets(protected))


def rounds(protected: bytes) -> int:
    """JKS protection has no iteration count: one pass."""
    return 1


def recover(entry: Entry, password: str) -> tuple[PrivateKey, bytes]:
    """The private key of a JKS entry and its PKCS#8, checked as Java checks it (the SHA-1 check
    value)."""
    try:
        assert entry.sealed is not None  # read from a store: every key entry is sealed
        algorithm, _, data = der.encrypted_private_key_info(entry.sealed.blob)
    except Exception:  # noqa: BLE001 - pyasn1 errors: damaged DER
        raise BadInputError(f"the key of entry {entry.alias!r} in the JKS keystore is damaged") from None
    if algorithm != KEY_PROTECTOR_OID:
        raise BadInputError(f"the key of entry {entry.alias!r} in the JKS keystore uses protection "
                            f"{algorithm}, which Java's JKS does not read")
    if len(data) <= SALT_LENGTH + DIGEST_LENGTH:
        raise BadInputError(f"the key of entry {entry.alias!r} in the JKS keystore is damaged")
    secret = password.encode("utf-16-be", "surrogatepass")
    salt, body, check = data[:SALT_LENGTH], data[SALT_LENGTH:-DIGEST_LENGTH], data[-DIGEST_LENGTH:]
    plain = _keystream_xor(secret, salt, body)
    if not hmac.compare_digest(hashlib.sha1(secret + plain).digest(), check):
        raise WrongPasswordError(f"wrong key password for entry {entry.alias!r} in the JKS keystore")
    return load_key(plain, what=f"the key of entry {entry.alias!r}"), plain


def recover_secret(entry: Entry, password: str) -> SecretKey:
    """JKS holds no secret keys (the reader never makes such an entry)."""
    raise UnsupportedError(f"the entry {entry.alias!r} is a secret key, which a JKS keystore cannot hold")


def seal(entry: Entry, keypass: str) -> bytes:
    if entry.kind is not EntryKind.PRIVATE_KEY:
        raise ValueError("a JKS keystore holds private keys and certificates only")
    return protect_key(pkcs8_of(entry), keypass)


def build(entries: Sequence[Entry], storepass: str, keypass: str, compat: Compat | None = None) -> bytes:
    """A JKS keystore: decrypted keys protected with keypass, sealed JKS keys carried. (Every Java
    reads JKS alike: compat changes nothing.)"""

    def protect(entry: Entry) -> bytes:
        if entry.key is None and entry.sealed is not None and entry.sealed.store_type is StoreType.JKS:
            return entry.sealed.blob
        return seal(entry, keypass)

    return java_container.encode(MAGIC, entries, storepass, protect)


# what the package's format table calls: the container reader with this protection
read = java_container.reader(java_container.Protector(rounds=rounds, recover=recover, recover_secret=recover_secret))
