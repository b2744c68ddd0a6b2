"""JCEKS, written by our own code: pyjks reads JCEKS but cannot write it.

The container is JKS's (magic CECECECE instead of FEEDFEED); keys are protected with Sun's
PBEWithMD5AndTripleDES (OID 1.3.6.1.4.1.42.2.19.1), as com.sun.crypto.provider.KeyProtector does.
Reading goes through pyjks (see jks.load).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from . import Entry, javaks

MAGIC = b"\xce\xce\xce\xce"
# Java 17 writes 200000 iterations (jdk.jceks.iterationCount) and reads up to 5000000.
ITERATIONS = 200_000
PBE_MD5_3DES_OID = "1.3.6.1.4.1.42.2.19.1"


def _md5_constructor():
    """CPython's built-in MD5 (module _md5) when present: creating one costs a third of what an
    OpenSSL-backed hashlib.md5 object costs, and 400000 tiny hashes are what the derivation is."""
    try:
        from _md5 import md5
    except ImportError:  # a Python built without its own hash modules
        return hashlib.md5
    return md5


def derive_key_iv(password: bytes, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """Key (24 bytes) and IV (8 bytes) of PBEWithMD5AndTripleDES: each 4-byte salt half is
    hashed with the password `iterations` times; key = D1 + D2[:8], IV = D2[8:]."""
    if len(salt) != 8:
        raise ValueError("the salt must be 8 bytes")
    if salt[:4] == salt[4:]:
        # Java rewrites such a salt before deriving (and pyjks describes it differently): never use one.
        raise ValueError("the salt halves must differ")
    md5 = _md5_constructor()
    out = b""
    for half in (salt[:4], salt[4:]):
        digest = half
        for _ in range(iterations):
            digest = md5(digest + password).digest()
        out += digest
    return out[:24], out[24:]


def new_salt() -> bytes:
    while True:
        salt = os.urandom(8)
        if salt[:4] != salt[4:]:
            return salt


@dataclass(frozen=True)
class Protection:
    """A derived 3DES key and IV with the salt and count they came from. Deriving is the slow
    part (0.1 to 0.4 s at Java's count) and needs only the password, so it can run before the
    private key exists (see kit.py). One Protection protects one key: never reuse it."""

    salt: bytes
    iterations: int
    key: bytes = field(repr=False)
    iv: bytes = field(repr=False)


def prepare(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> Protection:
    """The key protection for `password`, as ASCII bytes (as Java's PBEKey takes it)."""
    salt = salt or new_salt()
    key, iv = derive_key_iv(password.encode("ascii"), salt, iterations)
    return Protection(salt=salt, iterations=iterations, key=key, iv=iv)


def protect_key(pkcs8: bytes, protection: Protection) -> bytes:
    """An EncryptedPrivateKeyInfo (DER) as Java's JCEKS KeyProtector writes it."""
    padder = padding.PKCS7(64).padder()
    plain = padder.update(pkcs8) + padder.finalize()
    encryptor = Cipher(TripleDES(protection.key), modes.CBC(protection.iv)).encryptor()
    encrypted = encryptor.update(plain) + encryptor.finalize()
    params = javaks.seq(javaks.octets(protection.salt) + javaks.integer(protection.iterations))
    algorithm = javaks.seq(javaks.oid(PBE_MD5_3DES_OID) + params)
    return javaks.seq(algorithm + javaks.octets(encrypted))


def build(entries: Sequence[Entry], storepass: str, keypass: str, *, iterations: int = ITERATIONS,
          protection: Protection | None = None) -> bytes:
    """A JCEKS keystore. `protection`, derived ahead with prepare(keypass), serves a store of one
    key entry; otherwise each key gets its own salt. (`iterations` is lowered only by tests.)"""
    if protection is not None and sum(e.is_key_entry for e in entries) != 1:
        raise ValueError("a prepared protection serves exactly one key entry")

    def protect(pkcs8: bytes) -> bytes:
        return protect_key(pkcs8, protection or prepare(keypass, iterations=iterations))

    return javaks.encode(MAGIC, entries, storepass, protect)
