"""JCEKS key protection, both ways, by our own code (pyjks cannot write JCEKS); the container is
java_container.

Private keys: Sun's PBEWithMD5AndTripleDES (OID 1.3.6.1.4.1.42.2.19.1) over the PKCS#8, as
com.sun.crypto.provider.KeyProtector does. Secret keys: the same cipher over a serialized
SecretKeySpec, held in a serialized SealedObjectForKeyProtector (see javaser).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from .. import der
from ..errors import BadInputError, WrongPasswordError
from ..keys import PrivateKey
from . import java_container, javaser
from .model import Compat, Entry, EntryKind, SecretKey, StoreType, load_key, pkcs8_of

MAGIC = java_container.JCEKS_MAGIC
# Java 17 writes 200000 iterations (jdk.jceks.iterationCount) and reads up to pbe.MAX_ROUNDS.
ITERATIONS = 200_000
PBE_MD5_3DES_OID = "1.3.6.1.4.1.42.2.19.1"
PBE_MD5_3DES = "PBEWithMD5AndTripleDES"


def _md5_constructor() -> Callable[[bytes], hashlib._Hash]:
    """CPython's built-in MD5 (module _md5) when present: creating one costs a third of what an
    OpenSSL-backed hashlib.md5 object costs, and 400000 tiny hashes are what the derivation is."""
    try:
        from _md5 import md5
    except ImportError:  # a Python built without its own hash modules
        return hashlib.md5
    builtin: Callable[[bytes], hashlib._Hash] = md5  # _md5 has no stub: the same interface as hashlib.md5
    return builtin


def derive_key_iv(password: bytes, salt: bytes, iterations: int, *, reading: bool = False) -> tuple[bytes, bytes]:
    """Key (24 bytes) and IV (8 bytes) of PBEWithMD5AndTripleDES: each 4-byte salt half is
    hashed with the password `iterations` times; key = D1 + D2[:8], IV = D2[8:]."""
    if len(salt) != 8:
        raise ValueError("the salt must be 8 bytes")
    if salt[:4] == salt[4:]:
        if not reading:
            # Java rewrites such a salt before deriving (and pyjks describes it differently): never write one.
            raise ValueError("the salt halves must differ")
        salt = salt[3::-1] + salt[4:]  # what Java 17's PBES1Core does with it: reverse the first half
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


def _encrypt(plain: bytes, protection: Protection) -> bytes:
    padder = padding.PKCS7(64).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(TripleDES(protection.key), modes.CBC(protection.iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def _pbe_params(salt: bytes, iterations: int) -> bytes:
    return der.seq(der.octets(salt) + der.integer(iterations))


def protect_key(pkcs8: bytes, protection: Protection) -> bytes:
    """An EncryptedPrivateKeyInfo (DER) as Java's JCEKS KeyProtector writes it."""
    algorithm = der.seq(der.oid(PBE_MD5_3DES_OID) + _pbe_params(protection.salt, protection.iterations))
    return der.seq(algorithm + der.octets(_encrypt(pkcs8, protection)))


def protect_secret(secret: SecretKey, protection: Protection) -> bytes:
    """A serialized SealedObjectForKeyProtector holding the secret key, as JceKeyStore writes it."""
    plain = javaser.secret_key_spec(secret.value, secret.algorithm)
    return javaser.sealed_object(_pbe_params(protection.salt, protection.iterations),
                                 _encrypt(plain, protection), PBE_MD5_3DES)


def _pbe_parameters(params_der: bytes | None, what: str) -> tuple[bytes, int]:
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc8018

    from .. import pbe

    try:
        params, rest = decoder.decode(params_der, asn1Spec=rfc8018.PBEParameter())  # PKCS #5
        salt, count = bytes(params["salt"]), int(params["iterationCount"])
    except Exception:  # noqa: BLE001
        raise BadInputError(f"{what} is damaged") from None
    if rest or len(salt) != 8 or count < 1:
        raise BadInputError(f"{what} is damaged")
    if count > pbe.MAX_ROUNDS:
        raise BadInputError(f"{what} claims {count} protection rounds; Java reads at most {pbe.MAX_ROUNDS}")
    return salt, count


def _decrypt(ciphertext: bytes, params_der: bytes | None, password: str, what: str, wrong: str) -> bytes:
    salt, count = _pbe_parameters(params_der, what)
    try:
        secret = password.encode("ascii")
    except UnicodeEncodeError:
        raise WrongPasswordError(wrong) from None  # Java refuses such key passwords: none can be right
    key, iv = derive_key_iv(secret, salt, count, reading=True)
    if not ciphertext or len(ciphertext) % 8:
        raise BadInputError(f"{what} is damaged")
    decryptor = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    n = padded[-1]
    if not 1 <= n <= 8 or padded[-n:] != bytes([n]) * n:
        raise WrongPasswordError(wrong)
    return padded[:-n]


def rounds(protected: bytes) -> int:
    """The iteration count a protected private key claims (more than pbe.MAX_ROUNDS when it
    cannot be read). pbe (and pyasn1) load here, not when the module does: writing JCEKS needs neither."""
    from .. import pbe

    try:
        oid, params, _ = der.encrypted_private_key_info(protected)
        return pbe.claimed_rounds(oid, params)[0]
    except Exception:  # noqa: BLE001
        return pbe.MAX_ROUNDS + 1


def recover(entry: Entry, password: str) -> tuple[PrivateKey, bytes]:
    what = f"the key of entry {entry.alias!r} in the JCEKS keystore"
    try:
        assert entry.sealed is not None  # read from a store: every key entry is sealed
        algorithm, params, data = der.encrypted_private_key_info(entry.sealed.blob)
    except Exception:  # noqa: BLE001
        raise BadInputError(f"{what} is damaged") from None
    if algorithm != PBE_MD5_3DES_OID:
        raise BadInputError(f"{what} uses protection {algorithm}, which Java's JCEKS does not read")
    wrong = f"wrong key password for entry {entry.alias!r} in the JCEKS keystore"
    plain = _decrypt(data, params, password, what, wrong)
    try:
        return load_key(plain, what=what), plain
    except BadInputError:
        raise WrongPasswordError(wrong) from None


def recover_secret(entry: Entry, password: str) -> SecretKey:
    """The secret key of a JCEKS entry: the sealed object opened with the key password, its
    content read (bounded) as a SecretKeySpec or a KeyRep, as Java's SealedObjectForKeyProtector."""
    what = f"the secret key of entry {entry.alias!r} in the JCEKS keystore"
    try:
        assert entry.sealed is not None
        sealed: Any
        sealed, _ = javaser.read_object(entry.sealed.blob, allowed=javaser.SEALED_OBJECT_CLASSES)
        fields = sealed.fields
        if sealed.class_name != "com.sun.crypto.provider.SealedObjectForKeyProtector" or \
                fields.get("sealAlg") != PBE_MD5_3DES:
            raise javaser.SerialError("not a sealed key")
        params, content = fields["encodedParams"], fields["encryptedContent"]
        if not isinstance(params, bytes) or not isinstance(content, bytes):
            raise javaser.SerialError("not a sealed key")
    except (javaser.SerialError, AttributeError, KeyError):
        raise BadInputError(f"{what} is damaged") from None
    wrong = f"wrong key password for the secret key entry {entry.alias!r} in the JCEKS keystore"
    plain = _decrypt(content, params, password, what, wrong)
    key: Any
    try:
        key, _ = javaser.read_object(plain, allowed=javaser.SECRET_KEY_CLASSES)
    except javaser.SerialError:
        raise WrongPasswordError(wrong) from None
    fields = getattr(key, "fields", {})
    if key.class_name == "javax.crypto.spec.SecretKeySpec":
        value, algorithm = fields.get("key"), fields.get("algorithm")
    elif key.class_name == "java.security.KeyRep" and fields.get("format") == "RAW":
        value, algorithm = fields.get("encoded"), fields.get("algorithm")
    else:
        raise BadInputError(f"{what} is a {key.class_name}, which ktpy cannot read")
    if not isinstance(value, bytes) or not isinstance(algorithm, str):
        raise BadInputError(f"{what} is damaged")
    return SecretKey(algorithm=algorithm, value=value)


def seal(entry: Entry, keypass: str, protection: Protection | None = None) -> bytes:
    protection = protection or prepare(keypass)
    if entry.kind is EntryKind.SECRET_KEY:
        if entry.secret is None:
            raise BadInputError(f"the secret key of entry {entry.alias!r} was not decrypted; give its key password")
        return protect_secret(entry.secret, protection)
    return protect_key(pkcs8_of(entry), protection)


def build(entries: Sequence[Entry], storepass: str, keypass: str, compat: Compat | None = None, *,
          iterations: int = ITERATIONS, protection: Protection | None = None) -> bytes:
    """A JCEKS keystore. `protection`, derived ahead with prepare(keypass), serves a store of one
    key entry; otherwise each key gets its own salt. Sealed JCEKS keys are carried as they are.
    (`iterations` is lowered only by tests; every Java reads JCEKS alike: compat changes nothing.)"""
    fresh = [e for e in entries if e.kind is not EntryKind.TRUSTED_CERT and (e.key or e.secret) is not None]
    if protection is not None and len(fresh) != 1:
        raise ValueError("a prepared protection serves exactly one key entry")

    def protect(entry: Entry) -> bytes:
        if (entry.key or entry.secret) is None and entry.sealed is not None \
                and entry.sealed.store_type is StoreType.JCEKS:
            return entry.sealed.blob
        return seal(entry, keypass, protection or prepare(keypass, iterations=iterations))

    return java_container.encode(MAGIC, entries, storepass, protect)


# what the package's format table calls: the container reader with this protection
read = java_container.reader(java_container.Protector(rounds=rounds, recover=recover, recover_secret=recover_secret))
