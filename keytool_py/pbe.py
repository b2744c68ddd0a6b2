"""Password-based encryption as PKCS#12 and PKCS#8 use it: the round cap, the one reader of the
rounds a protected key claims, the PKCS#12 KDF and MAC (RFC 7292 appendix B), PBES2 with PBKDF2
(RFC 8018) and the PKCS#12 PBEs (3DES, 2-key 3DES, RC2 128 and 40: see rc2.py).

A leaf below keys.py and keystore/: it imports only errors, der and rc2 from keytool_py, so the
PEM key loader (keys.py), the JCEKS protection and the PKCS12 codec (keystore/) share one cap and
one reader. Messages name the PKCS12 keystore: p12codec is the only caller that decrypts here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pyasn1.codec.ber import decoder
from pyasn1.codec.der import encoder
from pyasn1.type import base, univ
from pyasn1_modules import rfc5652, rfc7292, rfc8018

from . import der, rc2
from .errors import BadInputError, UnsupportedError

# pyasn1-modules has no types (mypy.ini), so its schemas and every value pyasn1 decodes or builds
# with them are Any to mypy: this alias marks such a value.
Asn1Value = Any
# A hashlib constructor (hashlib.sha1, ...): the MAC's and PKCS#12 KDF's hash.
HashNew = Callable[..., "hashlib._Hash"]

# The most key-derivation rounds ktpy runs to open anything: Java's own cap for PKCS12
# (PKCS12KeyStore.MAX_ITERATION_COUNT) and for JCEKS (jdk.jceks.iterationCount reads at most
# 5000000). OpenSSL 3 writes 2048, Java 10,000 (PKCS12) and 200,000 (JCEKS): a count of 2^31-1
# in a crafted file would otherwise run for hours.
MAX_ROUNDS = 5_000_000
# scrypt's cost N (memory is 128 * r * N bytes): OpenSSL's own default is 2^14 and it refuses a
# derivation over 32 MiB by default (EVP_PBE_scrypt maxmem), which 2^20 with r=8 already exceeds.
MAX_SCRYPT_N = 2**20

CORRUPTED = "the PKCS12 keystore is corrupted or truncated"
NULL = encoder.encode(univ.Null(""))


def decode(data: bytes, spec: base.Asn1Type) -> Asn1Value:
    """BER-decode exactly one value (indefinite lengths made definite first, see der.definite);
    damage or trailing bytes are BadInputError(CORRUPTED)."""
    data = bytes(data)
    try:
        if data[1:2] == b"\x80":
            data = der.definite(data)
    except der.DerError:
        raise BadInputError(CORRUPTED) from None
    value, rest = decoder.decode(data, asn1Spec=spec)
    if rest:
        raise BadInputError(CORRUPTED)
    return value


HASHES: dict[univ.ObjectIdentifier, HashNew] = {  # digest OID (MAC) -> hashlib constructor
    univ.ObjectIdentifier("1.3.14.3.2.26"): hashlib.sha1,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.4"): hashlib.sha224,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.1"): hashlib.sha256,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.2"): hashlib.sha384,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.3"): hashlib.sha512,
}
SHA1, SHA256 = univ.ObjectIdentifier("1.3.14.3.2.26"), univ.ObjectIdentifier("2.16.840.1.101.3.4.2.1")

PRFS = {  # PBKDF2 PRF OID -> hashlib name
    rfc8018.id_hmacWithSHA1: "sha1",
    rfc8018.id_hmacWithSHA224: "sha224",
    rfc8018.id_hmacWithSHA256: "sha256",
    rfc8018.id_hmacWithSHA384: "sha384",
    rfc8018.id_hmacWithSHA512: "sha512",
}

PBES2_CIPHERS = {  # encryption scheme OID -> (cipher, key length)
    univ.ObjectIdentifier("2.16.840.1.101.3.4.1.2"): ("aes", 16),
    univ.ObjectIdentifier("2.16.840.1.101.3.4.1.22"): ("aes", 24),
    univ.ObjectIdentifier("2.16.840.1.101.3.4.1.42"): ("aes", 32),
    rfc8018.des_EDE3_CBC: ("3des", 24),
}

PKCS12_PBES = {  # PKCS#12 PBE OID -> (cipher, key length); all derive with SHA-1, IV 8 bytes
    rfc7292.pbeWithSHAAnd3_KeyTripleDES_CBC: ("3des", 24),
    rfc7292.pbeWithSHAAnd2_KeyTripleDES_CBC: ("3des", 16),
    rfc7292.pbeWithSHAAnd128BitRC2_CBC: ("rc2", 16),
    rfc7292.pbeWithSHAAnd40BitRC2_CBC: ("rc2", 5),
}

NAMES = {  # for "uses X, which ktpy cannot read"
    rfc7292.pbeWithSHAAnd128BitRC4: "pbeWithSHAAnd128BitRC4",
    rfc7292.pbeWithSHAAnd40BitRC4: "pbeWithSHAAnd40BitRC4",
    rfc8018.id_PBMAC1: "a PBMAC1 MAC",
    rfc5652.id_envelopedData: "public-key encryption (envelopedData)",
    rfc5652.id_signedData: "a signature instead of a MAC (signedData)",
}



def claimed_rounds(oid: str, parameters: bytes | None) -> tuple[int, str]:
    """(rounds, "pbkdf2" | "pbes1" | "scrypt") that an encryption AlgorithmIdentifier (its OID
    and DER parameters) claims, read before anything is derived: PBES2 with PBKDF2 or scrypt,
    the PKCS#12 PBEs, and PKCS#5 PBES1 parameters (which JCEKS's PBEWithMD5AndTripleDES uses).
    (0, "") for a PBES2 key derivation that is neither; pyasn1 errors (a ValueError or
    PyAsn1Error) when the parameters cannot be read. The one reader: keys.py, jceks.py and
    p12codec.py each compare its answer with their own bound."""
    from pyasn1.codec.der import decoder as der_decoder
    from pyasn1_modules import rfc7914

    if parameters is None:
        raise ValueError("no parameters")
    if oid == str(rfc8018.id_PBES2):
        params, _ = der_decoder.decode(parameters, asn1Spec=rfc8018.PBES2_params())
        kdf = params["keyDerivationFunc"]
        if kdf["algorithm"] == rfc8018.id_PBKDF2:
            kdf_params, _ = der_decoder.decode(kdf["parameters"], asn1Spec=rfc8018.PBKDF2_params())
            return int(kdf_params["iterationCount"]), "pbkdf2"
        if kdf["algorithm"] == rfc7914.id_scrypt:
            kdf_params, _ = der_decoder.decode(kdf["parameters"], asn1Spec=rfc7914.Scrypt_params())
            return int(kdf_params["costParameter"]), "scrypt"
        return 0, ""
    if oid.startswith("1.2.840.113549.1.12.1."):  # PKCS#12 PBE
        params, _ = der_decoder.decode(parameters, asn1Spec=rfc7292.Pkcs_12PbeParams())
        return int(params["iterations"]), "pbes1"
    params, _ = der_decoder.decode(parameters, asn1Spec=rfc8018.PBEParameter())  # PKCS#5 PBES1
    return int(params["iterationCount"]), "pbes1"


def unsupported(what: univ.ObjectIdentifier | str) -> UnsupportedError:
    """`what`: an algorithm's OID, or a description."""
    name = NAMES.get(what, str(what)) if isinstance(what, univ.ObjectIdentifier) else what
    return UnsupportedError(f"the PKCS12 keystore uses {name}, which ktpy cannot read")


def checked_rounds(value: univ.Integer) -> int:
    count = int(value)
    if not 1 <= count <= MAX_ROUNDS:
        raise BadInputError(CORRUPTED)
    return count


def cipher_key(algorithm: Asn1Value, password: str) -> tuple[str, bytes, bytes]:
    """(cipher, key, IV) that a PBES2 or PKCS#12 PBE AlgorithmIdentifier (a pyasn1 value) derives
    from the password, for cbc(); UnsupportedError for any other scheme."""
    oid = algorithm["algorithm"]
    if oid == rfc8018.id_PBES2:
        return pbes2_key(algorithm["parameters"], password)
    if oid in PKCS12_PBES:
        cipher, key_length = PKCS12_PBES[oid]
        params = decode(algorithm["parameters"], rfc7292.Pkcs_12PbeParams())
        salt, count = bytes(params["salt"]), checked_rounds(params["iterations"])
        key = pkcs12_kdf(hashlib.sha1, password, salt, count, 1, key_length)
        iv = pkcs12_kdf(hashlib.sha1, password, salt, count, 2, 8)
        return cipher, key, iv
    raise unsupported(oid)


def pbes2_key(parameters: Asn1Value, password: str) -> tuple[str, bytes, bytes]:
    params = decode(parameters, rfc8018.PBES2_params())
    kdf, scheme = params["keyDerivationFunc"], params["encryptionScheme"]
    if kdf["algorithm"] != rfc8018.id_PBKDF2:
        raise unsupported(kdf["algorithm"])
    if scheme["algorithm"] not in PBES2_CIPHERS:
        raise unsupported(scheme["algorithm"])
    cipher, key_length = PBES2_CIPHERS[scheme["algorithm"]]
    pbkdf2 = decode(kdf["parameters"], rfc8018.PBKDF2_params())
    if pbkdf2["salt"].getName() != "specified":
        raise unsupported("a PBKDF2 salt given by an algorithm")
    if pbkdf2["keyLength"].isValue and int(pbkdf2["keyLength"]) != key_length:
        raise BadInputError(CORRUPTED)
    prf = pbkdf2["prf"]["algorithm"]
    if prf not in PRFS:
        raise unsupported(prf)
    # The password as UTF-8 bytes, as OpenSSL and Java do (the same for ASCII passwords).
    key = hashlib.pbkdf2_hmac(PRFS[prf], password.encode("utf-8"), bytes(pbkdf2["salt"]["specified"]),
                              checked_rounds(pbkdf2["iterationCount"]), key_length)
    iv = bytes(decode(scheme["parameters"], univ.OctetString()))
    if len(iv) != (16 if cipher == "aes" else 8):
        raise BadInputError(CORRUPTED)
    return cipher, key, iv


def encrypt_pbes2(plain: bytes, password: str, iterations: int) -> tuple[univ.ObjectIdentifier, bytes, bytes]:
    """PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, encoded as cryptography and Java 17 do."""
    salt, iv = os.urandom(16), os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, 32)
    pbkdf2 = rfc8018.PBKDF2_params()
    pbkdf2["salt"]["specified"] = salt
    pbkdf2["iterationCount"] = iterations
    pbkdf2["prf"]["algorithm"] = rfc8018.id_hmacWithSHA256
    pbkdf2["prf"]["parameters"] = NULL
    params = rfc8018.PBES2_params()
    params["keyDerivationFunc"]["algorithm"] = rfc8018.id_PBKDF2
    params["keyDerivationFunc"]["parameters"] = encoder.encode(pbkdf2)
    params["encryptionScheme"]["algorithm"] = univ.ObjectIdentifier("2.16.840.1.101.3.4.1.42")
    params["encryptionScheme"]["parameters"] = encoder.encode(univ.OctetString(iv))
    ciphertext = cbc("aes", key, iv, pad(plain, 16), encrypt=True)
    return rfc8018.id_PBES2, encoder.encode(params), ciphertext


def encrypt_legacy(plain: bytes, password: str, iterations: int) -> tuple[univ.ObjectIdentifier, bytes, bytes]:
    """pbeWithSHAAnd3-KeyTripleDES-CBC: what Java 8 before 8u301 reads (JDK-8267701)."""
    salt = os.urandom(20)  # the salt length Java writes
    key = pkcs12_kdf(hashlib.sha1, password, salt, iterations, 1, 24)
    iv = pkcs12_kdf(hashlib.sha1, password, salt, iterations, 2, 8)
    params = rfc7292.Pkcs_12PbeParams()
    params["salt"] = salt
    params["iterations"] = iterations
    ciphertext = cbc("3des", key, iv, pad(plain, 8), encrypt=True)
    return rfc7292.pbeWithSHAAnd3_KeyTripleDES_CBC, encoder.encode(params), ciphertext


def pkcs12_kdf(hash_new: HashNew, password: str, salt: bytes, iterations: int, purpose: int,
                size: int) -> bytes:
    """RFC 7292 appendix B.2. `purpose`: 1 key, 2 IV, 3 MAC key. The password is a BMPString:
    UTF-16BE with a two-byte NUL terminator."""
    u, v = hash_new().digest_size, hash_new().block_size

    def stretch(data: bytes) -> bytes:  # repeat to a multiple of v bytes
        length = -(-len(data) // v) * v
        return (data * (length // len(data) + 1))[:length] if data else b""

    diversifier = bytes([purpose]) * v
    # a NUL-terminated BMPString; Java (PKCS12PBECipherCore.derive) takes the password "\0" as
    # no bytes at all, and so does OpenSSL for a missing one. The empty password is therefore
    # written as Java's writer writes it (the two-byte terminator), which every reader tries
    # first; p12codec reads it both ways, as Java does (RetryWithZero).
    secret = b"" if password == "\0" else (password + "\0").encode("utf-16-be", "surrogatepass")
    block = bytearray(stretch(salt) + stretch(secret))
    out = b""
    while len(out) < size:
        a = hash_new(diversifier + block).digest()
        for _ in range(iterations - 1):
            a = hash_new(a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for j in range(0, len(block), v):
            total = (int.from_bytes(block[j:j + v], "big") + b + 1) % (1 << (8 * v))
            block[j:j + v] = total.to_bytes(v, "big")
    return out[:size]


def mac(hash_new: HashNew, content: bytes, password: str, salt: bytes, iterations: int) -> bytes:
    key = pkcs12_kdf(hash_new, password, salt, iterations, 3, hash_new().digest_size)
    return hmac.new(key, content, hash_new).digest()


def pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def unpad(data: bytes, block: int) -> bytes:
    n = data[-1] if data else 0
    if not data or len(data) % block or not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise ValueError("bad padding")
    return data[:-n]


def cbc(cipher: str, key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if cipher == "rc2":
        return rc2.cbc(key, len(key) * 8, iv, data, encrypt=encrypt)
    algorithm: algorithms.AES | TripleDES
    if cipher == "aes":
        algorithm = algorithms.AES(key)
    else:  # a two-key 3DES key K1 K2 is the three-key K1 K2 K1
        algorithm = TripleDES(key if len(key) == 24 else key + key[:8])
    cbc = Cipher(algorithm, modes.CBC(iv))
    context = cbc.encryptor() if encrypt else cbc.decryptor()
    return context.update(data) + context.finalize()
