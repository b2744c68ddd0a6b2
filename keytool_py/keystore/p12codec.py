"""PKCS#12 read and written bag by bag (RFC 7292), on pyasn1 and cryptography's primitives.

Why not cryptography's `pkcs12` module alone: `load_pkcs12` returns one key only and answers a
wrong password and a corrupted file with the same ValueError; and no `serialize_*` call writes a
key entry and Java-trusted certificate entries into one file. keytool-made PKCS12 files may hold
several key entries and trusted entries.

    parse(data, password) -> [Bag, ...]       keys come back as plain PKCS#8 DER
    assemble(bags, password, legacy=False)    -> bytes Java 8+ and 17, OpenSSL and cryptography read

Reads: MACs with SHA-1/224/256/384/512; PBES2 (PBKDF2 with HMAC-SHA-1/224/256/384/512, AES-CBC
or DES-EDE3-CBC); the PKCS#12 PBEs with 3-key and 2-key 3DES, 128-bit and 40-bit RC2 (OpenSSL's
`-legacy` encrypts certificates with RC2-40, so a small RC2 lives here: cryptography's RC2 takes
128-bit keys only). Writes: PBES2 PBKDF2-HMAC-SHA256 + AES-256-CBC with a SHA-256 MAC (what Java
17 writes), or with `legacy=True` pbeWithSHAAnd3-KeyTripleDES-CBC with a SHA-1 MAC (what Java 8
before 8u301 reads, JDK-8267701).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pyasn1.codec.ber import decoder
from pyasn1.codec.der import encoder
from pyasn1.type import base, char, namedtype, tag, univ
from pyasn1_modules import rfc5280, rfc5652, rfc5958, rfc7292, rfc8018

from ..errors import BadInputError, KtpyError, UnsupportedError, WrongPasswordError

# pyasn1-modules has no types (mypy.ini), so its schemas (rfc7292.PFX(), ...) and every value
# pyasn1 decodes or builds with them are Any to mypy: this alias marks such a value.
Asn1Value = Any
# A hashlib constructor (hashlib.sha1, ...): the MAC's and PKCS#12 KDF's hash.
HashNew = Callable[..., "hashlib._Hash"]

# Oracle's attribute that makes a certificate bag a Java trustedCertEntry; its value is the set
# of extended key usages the certificate is trusted for (Java writes anyExtendedKeyUsage).
ORACLE_TRUSTED_KEY_USAGE = univ.ObjectIdentifier("2.16.840.1.113894.746875.1.1")
ANY_EXTENDED_KEY_USAGE = univ.ObjectIdentifier("2.5.29.37.0")

# Java 17's own counts (keystore.pkcs12.keyPbeIterationCount, macIterationCount).
ITERATIONS = 10_000
# Java's PKCS12KeyStore refuses more (MAX_ITERATION_COUNT); a corrupted count must not hang us.
MAX_ITERATIONS = 5_000_000
# After a failed MAC, one part is decrypted to tell an altered file from a wrong password, and only
# when it claims at most this many rounds (Java writes 10000; OpenSSL 2048): a hostile count then
# costs nothing, and the answer is "wrong password, or altered".
PROBE_MAX_ITERATIONS = 100_000

CORRUPTED = "the PKCS12 keystore is corrupted or truncated"
MAC_FAILED = "wrong store password for the PKCS12 keystore (its MAC does not verify)"
ALTERED = ("the PKCS12 keystore was altered or damaged: its MAC does not verify, though the password "
           "decrypts its contents")
NO_MAC_UNDECRYPTABLE = ("wrong store password for the PKCS12 keystore, or it is corrupted "
                        "(it has no MAC, and its contents do not decrypt)")


@dataclass(frozen=True)
class Bag:
    """One safe bag: a private key (plain PKCS#8 DER), a secret key (Java's encoding: SEQUENCE
    {version 0, AlgorithmIdentifier, OCTET STRING key}) or an X.509 certificate (DER).

    A key or secret bag read from a file keeps `sealed`, its EncryptedPrivateKeyInfo, and `der`
    is None until decrypted; a bag to write gives `der` (encrypted anew) or `sealed` (written as
    it is, under its own password)."""

    kind: str  # "key", "secret" or "cert"
    der: bytes | None
    friendly_name: str | None = None
    local_key_id: bytes | None = None
    trusted: bool = False  # a cert bag with Oracle's attribute: a Java trustedCertEntry
    sealed: bytes | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("key", "cert", "secret"):
            raise BadInputError(f"a bag's kind is 'key', 'secret' or 'cert', not {self.kind!r}")
        if self.trusted and self.kind != "cert":
            raise BadInputError("only a certificate bag can be trusted")
        if self.der is None and (self.sealed is None or self.kind == "cert"):
            raise BadInputError("a bag needs its content")


# ---------------------------------------------------------------------------------------------
# Algorithm tables: OID -> what we need to know.

_HASHES: dict[univ.ObjectIdentifier, HashNew] = {  # digest OID (MAC) -> hashlib constructor
    univ.ObjectIdentifier("1.3.14.3.2.26"): hashlib.sha1,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.4"): hashlib.sha224,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.1"): hashlib.sha256,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.2"): hashlib.sha384,
    univ.ObjectIdentifier("2.16.840.1.101.3.4.2.3"): hashlib.sha512,
}
_SHA1, _SHA256 = univ.ObjectIdentifier("1.3.14.3.2.26"), univ.ObjectIdentifier("2.16.840.1.101.3.4.2.1")

_PRFS = {  # PBKDF2 PRF OID -> hashlib name
    rfc8018.id_hmacWithSHA1: "sha1",
    rfc8018.id_hmacWithSHA224: "sha224",
    rfc8018.id_hmacWithSHA256: "sha256",
    rfc8018.id_hmacWithSHA384: "sha384",
    rfc8018.id_hmacWithSHA512: "sha512",
}

_PBES2_CIPHERS = {  # encryption scheme OID -> (cipher, key length)
    univ.ObjectIdentifier("2.16.840.1.101.3.4.1.2"): ("aes", 16),
    univ.ObjectIdentifier("2.16.840.1.101.3.4.1.22"): ("aes", 24),
    univ.ObjectIdentifier("2.16.840.1.101.3.4.1.42"): ("aes", 32),
    rfc8018.des_EDE3_CBC: ("3des", 24),
}

_PKCS12_PBES = {  # PKCS#12 PBE OID -> (cipher, key length); all derive with SHA-1, IV 8 bytes
    rfc7292.pbeWithSHAAnd3_KeyTripleDES_CBC: ("3des", 24),
    rfc7292.pbeWithSHAAnd2_KeyTripleDES_CBC: ("3des", 16),
    rfc7292.pbeWithSHAAnd128BitRC2_CBC: ("rc2", 16),
    rfc7292.pbeWithSHAAnd40BitRC2_CBC: ("rc2", 5),
}

_NAMES = {  # for "uses X, which ktpy cannot read"
    rfc7292.pbeWithSHAAnd128BitRC4: "pbeWithSHAAnd128BitRC4",
    rfc7292.pbeWithSHAAnd40BitRC4: "pbeWithSHAAnd40BitRC4",
    rfc8018.id_PBMAC1: "a PBMAC1 MAC",
    rfc5652.id_envelopedData: "public-key encryption (envelopedData)",
    rfc5652.id_signedData: "a signature instead of a MAC (signedData)",
}

_X509_CERT = univ.ObjectIdentifier("1.2.840.113549.1.9.22.1")
_SECRET_BAG = univ.ObjectIdentifier("1.2.840.113549.1.12.10.1.5")
_NULL = encoder.encode(univ.Null(""))


class _Undecryptable(Exception):
    """A ciphertext did not decrypt to what it should hold: wrong password or corruption."""


def _unsupported(what: univ.ObjectIdentifier | str) -> UnsupportedError:
    """`what`: an algorithm's OID, or a description."""
    name = _NAMES.get(what, str(what)) if isinstance(what, univ.ObjectIdentifier) else what
    return UnsupportedError(f"the PKCS12 keystore uses {name}, which ktpy cannot read")


def _decode(data: bytes, spec: base.Asn1Type) -> Asn1Value:
    """BER-decode exactly one value (NSS, Bouncy Castle and Windows write indefinite lengths,
    which are made definite first); trailing bytes are corruption."""
    data = bytes(data)
    if data[1:2] == b"\x80":
        data = _definite(data)
    value, rest = decoder.decode(data, asn1Spec=spec)
    if rest:
        raise BadInputError(CORRUPTED)
    return value


_MAX_NESTING = 64


def _definite(data: bytes) -> bytes:
    """The same BER with every indefinite length made definite (constructed forms kept): pyasn1
    mishandles indefinite lengths inside ANY. Linear in the input times its nesting (capped)."""
    out, end = _definite_one(data, 0, 0)
    return out + data[end:]


def _definite_one(data: bytes, pos: int, depth: int) -> tuple[bytes, int]:
    if depth > _MAX_NESTING:
        raise BadInputError(CORRUPTED)
    start = pos
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:  # high tag number
        while data[pos] & 0x80:
            pos += 1
        pos += 1
    tag = data[start:pos]
    length = data[pos]
    pos += 1
    if length == 0x80:
        if not first & 0x20:
            raise BadInputError(CORRUPTED)
        parts = []
        while data[pos:pos + 2] != b"\x00\x00":
            if pos >= len(data):
                raise BadInputError(CORRUPTED)
            part, pos = _definite_one(data, pos, depth + 1)
            parts.append(part)
        content, pos = b"".join(parts), pos + 2
    else:
        if length & 0x80:
            size = length & 0x7F
            length, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
        end = pos + length
        if end > len(data):
            raise BadInputError(CORRUPTED)
        if not first & 0x20 or b"\x80" not in data[pos:end]:
            return data[start:end], end
        parts = []
        while pos < end:
            part, pos = _definite_one(data, pos, depth + 1)
            parts.append(part)
        content = b"".join(parts)
    n = len(content)
    size = (n.bit_length() + 7) // 8
    header = bytes([n]) if n < 0x80 else bytes([0x80 | size]) + n.to_bytes(size, "big")
    return tag + header + content, pos


def _iterations(value: univ.Integer) -> int:
    count = int(value)
    if not 1 <= count <= MAX_ITERATIONS:
        raise BadInputError(CORRUPTED)
    return count


# ---------------------------------------------------------------------------------------------
# Reading


def parse(data: bytes, password: str | None, *, decrypt_keys: bool = True) -> list[Bag]:
    """The key, secret-key and certificate bags of a PKCS12 file, in file order, as Java reads
    them: unencrypted key bags (which Java ignores) and other bag types are skipped. Keys are
    decrypted with the password when decrypt_keys is set and it opens them (a key may have a
    password of its own: its bag then has der None and keeps `sealed`).

    The MAC is checked first. When it fails, one part that the password still decrypts shows the
    password is right and the file was altered; otherwise the password is wrong. (A changed byte
    inside every encrypted part cannot be told from a wrong password.) A file without a MAC
    still parses. password None reads as Java's load(stream, null): no MAC check, encrypted
    parts skipped, keys left sealed.
    """
    if password is not None and not isinstance(password, str):
        raise TypeError(f"the password must be a str, not {type(password).__name__}")
    try:
        return _parse(data, password, decrypt_keys and password is not None)
    except KtpyError:
        raise
    except Exception:  # pyasn1, struct, ValueError, IndexError...: all mean a damaged file
        raise BadInputError(CORRUPTED) from None


def _parse(data: bytes, password: str | None, decrypt_keys: bool) -> list[Bag]:
    pfx = _decode(data, rfc7292.PFX())
    if int(pfx["version"]) != 3:
        raise BadInputError(CORRUPTED)
    auth_safe = pfx["authSafe"]
    if auth_safe["contentType"] != rfc5652.id_data:
        raise _unsupported(auth_safe["contentType"])
    content = bytes(_decode(auth_safe["content"], univ.OctetString()))
    has_mac = pfx["macData"].isValue and password is not None
    if has_mac:
        assert password is not None  # has_mac holds only with a password
        try:
            _verify_mac(pfx["macData"], content, password)
        except WrongPasswordError:
            if _password_decrypts_something(content, password):
                raise BadInputError(ALTERED) from None
            raise
    bags: list[Bag] = []
    try:
        for info in _decode(content, rfc7292.AuthenticatedSafe()):
            if password is None and info["contentType"] == rfc5652.id_encryptedData:
                continue  # as Java does without a password
            _read_safe_contents(_safe_contents(info, password), bags)
    except _Undecryptable:
        # With a verified MAC the password is right, so the file is damaged.
        raise (BadInputError(CORRUPTED) if has_mac else WrongPasswordError(NO_MAC_UNDECRYPTABLE)) from None
    if decrypt_keys and password is not None:  # parse() decrypts only with a password
        bags = [_opened(bag, password) for bag in bags]
    return bags


def _opened(bag: Bag, password: str) -> Bag:
    if bag.kind == "cert" or bag.der is not None:
        return bag
    assert bag.sealed is not None  # Bag.__post_init__: a key or secret bag without der is sealed
    try:
        return Bag(bag.kind, decrypt_key(bag.sealed, password, secret=bag.kind == "secret"),
                   bag.friendly_name, bag.local_key_id, bag.trusted, bag.sealed)
    except WrongPasswordError:
        return bag


def decrypt_key(sealed: bytes, password: str, *, secret: bool = False) -> bytes:
    """The plain content of a shrouded key or secret bag; WrongPasswordError when the password
    does not open it."""
    try:
        shrouded = _decode(sealed, rfc5958.EncryptedPrivateKeyInfo())
        spec = _SecretKeyInfo() if secret else rfc5958.PrivateKeyInfo()
        return _decrypt(shrouded["encryptionAlgorithm"], bytes(shrouded["encryptedData"]), password, spec)
    except _Undecryptable:
        raise WrongPasswordError("wrong key password") from None
    except KtpyError:
        raise
    except Exception:  # noqa: BLE001
        raise BadInputError(CORRUPTED) from None


def _password_decrypts_something(content: bytes, password: str) -> bool:
    """After a failed MAC: does the password decrypt the first encrypted part (or, with none,
    the first shrouded key)? A wrong password fails its padding check or its parse, so a success
    means the password is right and the file was altered. One part only, and only one that
    claims at most PROBE_MAX_ITERATIONS rounds: the probe is bounded whatever the file says."""
    try:
        infos = list(_decode(content, rfc7292.AuthenticatedSafe()))
        for info in infos:
            if info["contentType"] == rfc5652.id_encryptedData:
                encrypted = _decode(info["content"], rfc5652.EncryptedData())["encryptedContentInfo"]
                algorithm, ciphertext = encrypted["contentEncryptionAlgorithm"], encrypted["encryptedContent"]
                spec = rfc7292.SafeContents()
                break
            if info["contentType"] == rfc5652.id_data:
                safe = _decode(bytes(_decode(info["content"], univ.OctetString())), rfc7292.SafeContents())
                shrouded = next((b for b in safe if b["bagId"] == rfc7292.id_pkcs8ShroudedKeyBag), None)
                if shrouded is not None:
                    value = _decode(bytes(shrouded["bagValue"]), rfc5958.EncryptedPrivateKeyInfo())
                    algorithm, ciphertext = value["encryptionAlgorithm"], value["encryptedData"]
                    spec = rfc5958.PrivateKeyInfo()
                    break
        else:
            return False
        if _claimed_iterations(algorithm) > PROBE_MAX_ITERATIONS:
            return False
        _decrypt(algorithm, bytes(ciphertext), password, spec)
        return True
    except Exception:  # noqa: BLE001 - the part did not open
        return False


def _claimed_iterations(algorithm: Asn1Value) -> int:
    oid = algorithm["algorithm"]
    if oid == rfc8018.id_PBES2:
        kdf = _decode(algorithm["parameters"], rfc8018.PBES2_params())["keyDerivationFunc"]
        return int(_decode(kdf["parameters"], rfc8018.PBKDF2_params())["iterationCount"])
    if oid in _PKCS12_PBES:
        return int(_decode(algorithm["parameters"], rfc7292.Pkcs_12PbeParams())["iterations"])
    return MAX_ITERATIONS + 1


def _verify_mac(mac_data: Asn1Value, content: bytes, password: str) -> None:
    algorithm = mac_data["mac"]["digestAlgorithm"]["algorithm"]
    if algorithm not in _HASHES:
        raise _unsupported(algorithm)
    hash_new = _HASHES[algorithm]
    stored = bytes(mac_data["mac"]["digest"])
    if len(stored) != hash_new().digest_size:
        raise BadInputError(CORRUPTED)
    expected = _mac(hash_new, content, password, bytes(mac_data["macSalt"]),
                    _iterations(mac_data["iterations"]))
    if not hmac.compare_digest(stored, expected):
        raise WrongPasswordError(MAC_FAILED)


def _safe_contents(info: Asn1Value, password: str | None) -> bytes:
    """The SafeContents DER held by one ContentInfo of the AuthenticatedSafe (password None: a
    plain one only; _parse skips the encrypted ones)."""
    content_type = info["contentType"]
    if content_type == rfc5652.id_data:
        return bytes(_decode(info["content"], univ.OctetString()))
    if content_type == rfc5652.id_encryptedData:
        encrypted = _decode(info["content"], rfc5652.EncryptedData())["encryptedContentInfo"]
        if not encrypted["encryptedContent"].isValue:
            raise BadInputError(CORRUPTED)
        assert password is not None  # _parse skips encrypted parts without a password
        return _decrypt(encrypted["contentEncryptionAlgorithm"], bytes(encrypted["encryptedContent"]),
                        password, rfc7292.SafeContents())
    raise _unsupported(content_type)


def _read_safe_contents(der: bytes, out: list[Bag]) -> None:
    """The bags of a SafeContents. Certificate bags, the bulk of a large truststore, are read by
    a small DER walker (pyasn1 costs some 100 us a bag); other bags through pyasn1."""
    der = bytes(der)
    if der[1:2] == b"\x80":
        der = _definite(der)
    tag, pos, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise BadInputError(CORRUPTED)
    while pos < end:
        _, start, bag_end = _tlv(der, pos)
        if not _fast_cert_bag(der, start, bag_end, out):
            _read_bag(_decode(der[pos:bag_end], rfc7292.SafeBag()), out)
        pos = bag_end


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the definite-length DER element at pos."""
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4:
            raise BadInputError(CORRUPTED)
        length, pos = int.from_bytes(der[pos:pos + size], "big"), pos + size
    if pos + length > len(der) or tag & 0x1F == 0x1F:
        raise BadInputError(CORRUPTED)
    return tag, pos, pos + length


_CERT_BAG_OID = encoder.encode(rfc7292.id_certBag)
_X509_CERT_OID = encoder.encode(_X509_CERT)
_FRIENDLY_NAME_OID = encoder.encode(rfc7292.pkcs_9_at_friendlyName)
_LOCAL_KEY_ID_OID = encoder.encode(rfc7292.pkcs_9_at_localKeyId)
_ORACLE_TRUSTED_OID = encoder.encode(ORACLE_TRUSTED_KEY_USAGE)


def _fast_cert_bag(der: bytes, pos: int, end: int, out: list[Bag]) -> bool:
    """Read one SafeBag at der[pos:end] if it is an X.509 certificate bag; False otherwise (or
    when anything is unusual: pyasn1 then reads it)."""
    tag, start, oid_end = _tlv(der, pos)
    if tag != 0x06 or der[pos:oid_end] != _CERT_BAG_OID:
        return False
    tag, start, value_end = _tlv(der, oid_end)  # [0] EXPLICIT CertBag
    if tag != 0xA0:
        return False
    tag, start, bag_end = _tlv(der, start)  # CertBag SEQUENCE
    tag_id, _, id_end = _tlv(der, start)
    if tag != 0x30 or der[start:id_end] != _X509_CERT_OID:
        return False
    tag, start, _ = _tlv(der, id_end)  # [0] EXPLICIT OCTET STRING
    if tag != 0xA0:
        return False
    tag, cert_start, cert_end = _tlv(der, start)
    if tag != 0x04:
        return False
    found: dict[str, Any] = {}
    if value_end < end:
        tag, pos, attrs_end = _tlv(der, value_end)
        if tag != 0x31 or attrs_end != end:
            return False
        while pos < attrs_end:
            tag, start, attr_end = _tlv(der, pos)
            tag_oid, _, oid_end = _tlv(der, start)
            kind = der[start:oid_end]
            tag_set, set_start, set_end = _tlv(der, oid_end)
            if tag != 0x30 or tag_set != 0x31 or set_end != attr_end:
                return False
            if kind == _ORACLE_TRUSTED_OID:
                found["trusted"] = True
            elif kind == _FRIENDLY_NAME_OID and set_start < set_end:
                tag, value_start, value_stop = _tlv(der, set_start)
                if tag != 0x1E:
                    return False
                found["friendly_name"] = der[value_start:value_stop].decode("utf-16-be", "surrogatepass")
            elif kind == _LOCAL_KEY_ID_OID and set_start < set_end:
                tag, value_start, value_stop = _tlv(der, set_start)
                if tag != 0x04:
                    return False
                found["local_key_id"] = der[value_start:value_stop]
            pos = attr_end
    elif value_end != end:
        return False
    out.append(Bag("cert", der[cert_start:cert_end], **found))
    return True


def _read_bag(safe_bag: Asn1Value, out: list[Bag]) -> None:
    bag_id, value = safe_bag["bagId"], bytes(safe_bag["bagValue"])
    if bag_id == rfc7292.id_safeContentsBag:
        _read_safe_contents(value, out)
    elif bag_id == rfc7292.id_pkcs8ShroudedKeyBag:
        _decode(value, rfc5958.EncryptedPrivateKeyInfo())  # checked, kept sealed
        out.append(Bag("key", None, **_attributes(safe_bag), sealed=value))
    elif bag_id == _SECRET_BAG:
        secret = _decode(value, _SecretBag())
        if secret["secretTypeId"] != rfc7292.id_pkcs8ShroudedKeyBag:
            raise _unsupported(f"a secret bag of type {secret['secretTypeId']}")
        sealed = bytes(_decode(secret["secretValue"], univ.OctetString()))
        _decode(sealed, rfc5958.EncryptedPrivateKeyInfo())
        out.append(Bag("secret", None, **_attributes(safe_bag), sealed=sealed))
    elif bag_id == rfc7292.id_certBag:
        cert_bag = _decode(value, rfc7292.CertBag())
        if cert_bag["certId"] == _X509_CERT:  # SDSI certificates are skipped
            der_cert = bytes(_decode(cert_bag["certValue"], univ.OctetString()))
            out.append(Bag("cert", der_cert, **_attributes(safe_bag)))
    # keyBag (an unencrypted key: Java ignores it), crlBag and unknown bags: skipped


class _SecretBag(univ.Sequence):
    """RFC 7292 SecretBag; Java puts the secret key there as a shrouded key (secretTypeId
    pkcs8ShroudedKeyBag, secretValue [0] EXPLICIT the EncryptedPrivateKeyInfo's DER)."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("secretTypeId", univ.ObjectIdentifier()),
        # types-pyasn1 leaves subtype() unannotated
        namedtype.NamedType("secretValue", univ.Any().subtype(  # type: ignore[no-untyped-call]
            explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0))),
    )


class _SecretKeyInfo(univ.Sequence):
    """What Java's PKCS12KeyStore encrypts for a secret key: version, the key's algorithm, its bytes."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("algorithm", rfc5280.AlgorithmIdentifier()),
        namedtype.NamedType("key", univ.OctetString()),
    )


def secret_key_info(algorithm_oid: str, key: bytes) -> bytes:
    info = _SecretKeyInfo()
    info["version"] = 0
    info["algorithm"]["algorithm"] = univ.ObjectIdentifier(algorithm_oid)
    info["key"] = key
    return _encode(info)


def read_secret_key_info(der: bytes) -> tuple[str, bytes]:
    """(algorithm OID, key bytes)."""
    info = _decode(der, _SecretKeyInfo())
    return str(info["algorithm"]["algorithm"]), bytes(info["key"])


def _attributes(safe_bag: Asn1Value) -> dict[str, Any]:
    """Bag keyword arguments (trusted, friendly_name, local_key_id) from a SafeBag's attributes."""
    found: dict[str, Any] = {}
    if not safe_bag["bagAttributes"].isValue:
        return found
    for attribute in safe_bag["bagAttributes"]:
        kind, values = attribute["attrType"], attribute["attrValues"]
        if kind == ORACLE_TRUSTED_KEY_USAGE:
            found["trusted"] = True
        elif kind == rfc7292.pkcs_9_at_friendlyName and len(values):
            found["friendly_name"] = str(_decode(values[0], char.BMPString()))
        elif kind == rfc7292.pkcs_9_at_localKeyId and len(values):
            found["local_key_id"] = bytes(_decode(values[0], univ.OctetString()))
    return found


def _decrypt(algorithm: Asn1Value, ciphertext: bytes, password: str, spec: base.Asn1Type) -> bytes:
    """Decrypt with a PBES2 or PKCS#12 PBE AlgorithmIdentifier; the plaintext must decode as `spec`."""
    oid = algorithm["algorithm"]
    if oid == rfc8018.id_PBES2:
        cipher, key, iv = _pbes2_key(algorithm["parameters"], password)
    elif oid in _PKCS12_PBES:
        cipher, key_length = _PKCS12_PBES[oid]
        params = _decode(algorithm["parameters"], rfc7292.Pkcs_12PbeParams())
        salt, count = bytes(params["salt"]), _iterations(params["iterations"])
        key = _pkcs12_kdf(hashlib.sha1, password, salt, count, 1, key_length)
        iv = _pkcs12_kdf(hashlib.sha1, password, salt, count, 2, 8)
    else:
        raise _unsupported(oid)
    try:
        plain = _unpad(_cbc(cipher, key, iv, ciphertext, encrypt=False), len(iv))
        if isinstance(spec, rfc7292.SafeContents):
            # its outer SEQUENCE is checked here, its bags when they are read (a full pyasn1
            # parse of a 100000-certificate truststore costs a minute)
            tag, _, end = _tlv(_definite(plain) if plain[1:2] == b"\x80" else plain, 0)
            if tag != 0x30 or (plain[1:2] != b"\x80" and end != len(plain)):
                raise ValueError("not a SafeContents")
        else:
            _decode(plain, spec)
    except Exception:
        raise _Undecryptable() from None
    return plain


def _pbes2_key(parameters: Asn1Value, password: str) -> tuple[str, bytes, bytes]:
    params = _decode(parameters, rfc8018.PBES2_params())
    kdf, scheme = params["keyDerivationFunc"], params["encryptionScheme"]
    if kdf["algorithm"] != rfc8018.id_PBKDF2:
        raise _unsupported(kdf["algorithm"])
    if scheme["algorithm"] not in _PBES2_CIPHERS:
        raise _unsupported(scheme["algorithm"])
    cipher, key_length = _PBES2_CIPHERS[scheme["algorithm"]]
    pbkdf2 = _decode(kdf["parameters"], rfc8018.PBKDF2_params())
    if pbkdf2["salt"].getName() != "specified":
        raise _unsupported("a PBKDF2 salt given by an algorithm")
    if pbkdf2["keyLength"].isValue and int(pbkdf2["keyLength"]) != key_length:
        raise BadInputError(CORRUPTED)
    prf = pbkdf2["prf"]["algorithm"]
    if prf not in _PRFS:
        raise _unsupported(prf)
    # The password as UTF-8 bytes, as OpenSSL and Java do (the same for ASCII passwords).
    key = hashlib.pbkdf2_hmac(_PRFS[prf], password.encode("utf-8"), bytes(pbkdf2["salt"]["specified"]),
                              _iterations(pbkdf2["iterationCount"]), key_length)
    iv = bytes(_decode(scheme["parameters"], univ.OctetString()))
    if len(iv) != (16 if cipher == "aes" else 8):
        raise BadInputError(CORRUPTED)
    return cipher, key, iv


# ---------------------------------------------------------------------------------------------
# Writing


def assemble(bags: Sequence[Bag], password: str, *, legacy: bool = False,
             iterations: int = ITERATIONS, protected: bool = True) -> bytes:
    """A PKCS12 file holding `bags`: the certificates in one encrypted SafeContents, the keys
    shrouded in a plain one, as Java writes them, then the MAC over both. protected=False
    writes what Java writes with keystore.pkcs12.certProtectionAlgorithm=NONE and
    macAlgorithm=NONE (its default for truststores since JDK 18): certificates in the clear,
    no MAC, so that keytool lists it without a password."""
    if not isinstance(password, str):
        raise TypeError(f"the password must be a str, not {type(password).__name__}")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise BadInputError(f"the iteration count must be between 1 and {MAX_ITERATIONS}")
    encrypt = _encrypt_legacy if legacy else _encrypt_pbes2

    def shrouded(bag: Bag) -> bytes:
        if bag.der is not None:
            return _shrouded_key(encrypt(bag.der, password, iterations))
        if bag.sealed is None:
            raise BadInputError("a key bag has neither a key nor its protected form")
        return bag.sealed

    # a cert bag always has der (Bag.__post_init__)
    certs = [_safe_bag(rfc7292.id_certBag, _cert_bag(cast(bytes, b.der)), b) for b in bags if b.kind == "cert"]
    keys = [_safe_bag(rfc7292.id_pkcs8ShroudedKeyBag, shrouded(b), b) for b in bags if b.kind == "key"]
    keys += [_safe_bag(_SECRET_BAG, _secret_bag(shrouded(b)), b) for b in bags if b.kind == "secret"]

    auth_safe = rfc7292.AuthenticatedSafe()
    if certs and not protected:
        auth_safe.append(_data_info(_der_sequence(rfc7292.SafeContents(), certs)))
    elif certs:
        auth_safe.append(_encrypted_info(encrypt(_der_sequence(rfc7292.SafeContents(), certs),
                                                 password, iterations)))
    if keys:
        auth_safe.append(_data_info(_der_sequence(rfc7292.SafeContents(), keys)))
    content = encoder.encode(auth_safe)

    pfx = rfc7292.PFX()
    pfx["version"] = 3
    pfx["authSafe"] = _data_info(content)
    if not protected:
        return _encode(pfx)
    digest_oid, hash_new = (_SHA1, hashlib.sha1) if legacy else (_SHA256, hashlib.sha256)
    # Java writes 20-byte MAC salts; OpenSSL 8. Both read either.
    salt = os.urandom(20)
    mac_data = pfx["macData"]
    mac_data["mac"]["digestAlgorithm"]["algorithm"] = digest_oid
    mac_data["mac"]["digestAlgorithm"]["parameters"] = _NULL
    mac_data["mac"]["digest"] = _mac(hash_new, content, password, salt, iterations)
    mac_data["macSalt"] = salt
    mac_data["iterations"] = iterations
    return _encode(pfx)


def is_unprotected(data: bytes) -> bool:
    """True for a PKCS12 without a MAC whose certificates are in the clear (what Java writes
    with certProtectionAlgorithm=NONE and macAlgorithm=NONE): it opens with any password or
    none, and an edit keeps it so. False for anything else, damaged files included."""
    try:
        pfx = _decode(data, rfc7292.PFX())
        if pfx["macData"].isValue or pfx["authSafe"]["contentType"] != rfc5652.id_data:
            return False
        content = bytes(_decode(pfx["authSafe"]["content"], univ.OctetString()))
        return all(info["contentType"] == rfc5652.id_data
                   for info in _decode(content, rfc7292.AuthenticatedSafe()))
    except Exception:  # pyasn1 and friends: a damaged file is not a password-less one
        return False


def _encode(value: base.Asn1Item) -> bytes:
    """The DER of a pyasn1 value (types-pyasn1 leaves encode()'s result untyped)."""
    der: bytes = encoder.encode(value)
    return der


def _der_sequence(container: Asn1Value, items: Sequence[Asn1Value]) -> bytes:
    container.extend(items)
    return _encode(container)


def _data_info(content: bytes) -> Asn1Value:
    info = rfc5652.ContentInfo()
    info["contentType"] = rfc5652.id_data
    info["content"] = encoder.encode(univ.OctetString(content))
    return info


def _encrypted_info(encrypted: tuple[univ.ObjectIdentifier, bytes, bytes]) -> Asn1Value:
    oid, parameters, ciphertext = encrypted
    data = rfc5652.EncryptedData()
    data["version"] = 0
    inner = data["encryptedContentInfo"]
    inner["contentType"] = rfc5652.id_data
    inner["contentEncryptionAlgorithm"]["algorithm"] = oid
    inner["contentEncryptionAlgorithm"]["parameters"] = parameters
    inner["encryptedContent"] = ciphertext
    info = rfc5652.ContentInfo()
    info["contentType"] = rfc5652.id_encryptedData
    info["content"] = encoder.encode(data)
    return info


def _shrouded_key(encrypted: tuple[univ.ObjectIdentifier, bytes, bytes]) -> bytes:
    oid, parameters, ciphertext = encrypted
    info = rfc5958.EncryptedPrivateKeyInfo()
    info["encryptionAlgorithm"]["algorithm"] = oid
    info["encryptionAlgorithm"]["parameters"] = parameters
    info["encryptedData"] = ciphertext
    return _encode(info)


def _secret_bag(sealed: bytes) -> bytes:
    bag = _SecretBag()
    bag["secretTypeId"] = rfc7292.id_pkcs8ShroudedKeyBag
    bag["secretValue"] = encoder.encode(univ.OctetString(sealed))
    return _encode(bag)


def _cert_bag(der: bytes) -> bytes:
    bag = rfc7292.CertBag()
    bag["certId"] = _X509_CERT
    bag["certValue"] = encoder.encode(univ.OctetString(der))
    return _encode(bag)


def _safe_bag(bag_id: univ.ObjectIdentifier, value: bytes, bag: Bag) -> Asn1Value:
    safe_bag = rfc7292.SafeBag()
    safe_bag["bagId"] = bag_id
    safe_bag["bagValue"] = value
    attributes: list[tuple[univ.ObjectIdentifier, base.Asn1Item]] = []
    if bag.trusted:
        attributes.append((ORACLE_TRUSTED_KEY_USAGE, ANY_EXTENDED_KEY_USAGE))
    if bag.friendly_name is not None:
        attributes.append((rfc7292.pkcs_9_at_friendlyName, char.BMPString(bag.friendly_name)))
    if bag.local_key_id is not None:
        attributes.append((rfc7292.pkcs_9_at_localKeyId, univ.OctetString(bag.local_key_id)))
    for kind, value_asn1 in attributes:
        attribute = rfc5652.Attribute()
        attribute["attrType"] = kind
        attribute["attrValues"].append(rfc5652.AttributeValue(encoder.encode(value_asn1)))
        safe_bag["bagAttributes"].append(attribute)
    return safe_bag


def _encrypt_pbes2(plain: bytes, password: str, iterations: int) -> tuple[univ.ObjectIdentifier, bytes, bytes]:
    """PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, encoded as cryptography and Java 17 do."""
    salt, iv = os.urandom(16), os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, 32)
    pbkdf2 = rfc8018.PBKDF2_params()
    pbkdf2["salt"]["specified"] = salt
    pbkdf2["iterationCount"] = iterations
    pbkdf2["prf"]["algorithm"] = rfc8018.id_hmacWithSHA256
    pbkdf2["prf"]["parameters"] = _NULL
    params = rfc8018.PBES2_params()
    params["keyDerivationFunc"]["algorithm"] = rfc8018.id_PBKDF2
    params["keyDerivationFunc"]["parameters"] = encoder.encode(pbkdf2)
    params["encryptionScheme"]["algorithm"] = univ.ObjectIdentifier("2.16.840.1.101.3.4.1.42")
    params["encryptionScheme"]["parameters"] = encoder.encode(univ.OctetString(iv))
    ciphertext = _cbc("aes", key, iv, _pad(plain, 16), encrypt=True)
    return rfc8018.id_PBES2, encoder.encode(params), ciphertext


def _encrypt_legacy(plain: bytes, password: str, iterations: int) -> tuple[univ.ObjectIdentifier, bytes, bytes]:
    """pbeWithSHAAnd3-KeyTripleDES-CBC: what Java 8 before 8u301 reads (JDK-8267701)."""
    salt = os.urandom(20)  # the salt length Java writes
    key = _pkcs12_kdf(hashlib.sha1, password, salt, iterations, 1, 24)
    iv = _pkcs12_kdf(hashlib.sha1, password, salt, iterations, 2, 8)
    params = rfc7292.Pkcs_12PbeParams()
    params["salt"] = salt
    params["iterations"] = iterations
    ciphertext = _cbc("3des", key, iv, _pad(plain, 8), encrypt=True)
    return rfc7292.pbeWithSHAAnd3_KeyTripleDES_CBC, encoder.encode(params), ciphertext


# ---------------------------------------------------------------------------------------------
# Primitives


def _pkcs12_kdf(hash_new: HashNew, password: str, salt: bytes, iterations: int, purpose: int,
                size: int) -> bytes:
    """RFC 7292 appendix B.2. `purpose`: 1 key, 2 IV, 3 MAC key. The password is a BMPString:
    UTF-16BE with a two-byte NUL terminator."""
    u, v = hash_new().digest_size, hash_new().block_size

    def stretch(data: bytes) -> bytes:  # repeat to a multiple of v bytes
        length = -(-len(data) // v) * v
        return (data * (length // len(data) + 1))[:length] if data else b""

    diversifier = bytes([purpose]) * v
    # a NUL-terminated BMPString; Java (PKCS12PBECipherCore.derive) takes the password "\0" as
    # no bytes at all, and so does OpenSSL for a missing one
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


def _mac(hash_new: HashNew, content: bytes, password: str, salt: bytes, iterations: int) -> bytes:
    key = _pkcs12_kdf(hash_new, password, salt, iterations, 3, hash_new().digest_size)
    return hmac.new(key, content, hash_new).digest()


def _pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _unpad(data: bytes, block: int) -> bytes:
    n = data[-1] if data else 0
    if not data or len(data) % block or not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise ValueError("bad padding")
    return data[:-n]


def _cbc(cipher: str, key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if cipher == "rc2":
        return _rc2_cbc(key, len(key) * 8, iv, data, encrypt=encrypt)
    algorithm: algorithms.AES | TripleDES
    if cipher == "aes":
        algorithm = algorithms.AES(key)
    else:  # a two-key 3DES key K1 K2 is the three-key K1 K2 K1
        algorithm = TripleDES(key if len(key) == 24 else key + key[:8])
    cbc = Cipher(algorithm, modes.CBC(iv))
    context = cbc.encryptor() if encrypt else cbc.decryptor()
    return context.update(data) + context.finalize()


# RC2 (RFC 2268), for the PKCS#12 RC2 PBEs only. PITABLE is the RFC's section 2 permutation.
_PITABLE = bytes.fromhex("""
    d9 78 f9 c4 19 dd b5 ed 28 e9 fd 79 4a a0 d8 9d
    c6 7e 37 83 2b 76 53 8e 62 4c 64 88 44 8b fb a2
    17 9a 59 f5 87 b3 4f 13 61 45 6d 8d 09 81 7d 32
    bd 8f 40 eb 86 b7 7b 0b f0 95 21 22 5c 6b 4e 82
    54 d6 65 93 ce 60 b2 1c 73 56 c0 14 a7 8c f1 dc
    12 75 ca 1f 3b be e4 d1 42 3d d4 30 a3 3c b6 26
    6f bf 0e da 46 69 07 57 27 f2 1d 9b bc 94 43 03
    f8 11 c7 f6 90 ef 3e e7 06 c3 d5 2f c8 66 1e d7
    08 e8 ea de 80 52 ee f7 84 aa 72 ac 35 4d 6a 2a
    96 1a d2 71 5a 15 49 74 4b 9f d0 5e 04 18 a4 ec
    c2 e0 41 6e 0f 51 cb cc 24 91 af 50 a1 f4 70 39
    99 7c 3a 85 23 b8 b4 7a fc 02 36 5b 25 55 97 31
    2d 5d fa 98 e3 8a 92 ae 05 df 29 10 67 6c ba c9
    d3 00 e6 cf e1 9e a8 2c 63 16 01 3f 58 e2 89 a9
    0d 38 34 1b ab 33 ff b0 bb 48 0c 5f b9 b1 cd 2e
    c5 f3 db 47 e5 a5 9c 77 0a a6 20 68 fe 7f c1 ad
""")
_ROTATIONS = (1, 2, 3, 5)
# Five mixing rounds, a mashing round, six mixing, a mashing, five mixing (section 3).
_RC2_STEPS = ("mix",) * 5 + ("mash",) + ("mix",) * 6 + ("mash",) + ("mix",) * 5
_MASK = 0xFFFF


def _rc2_key_schedule(key: bytes, effective_bits: int) -> list[int]:
    """The 64 16-bit subkeys K[0..63] (RFC 2268 section 2)."""
    t, t8 = len(key), (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    expanded = bytearray(key) + bytearray(128 - t)
    for i in range(t, 128):
        expanded[i] = _PITABLE[(expanded[i - 1] + expanded[i - t]) & 0xFF]
    expanded[128 - t8] = _PITABLE[expanded[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    return [expanded[2 * i] | expanded[2 * i + 1] << 8 for i in range(64)]


def _rc2_encrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | block[2 * i + 1] << 8 for i in range(4)]
    j = 0
    for step in _RC2_STEPS:
        for i in range(4):
            if step == "mash":
                r[i] = (r[i] + k[r[i - 1] & 63]) & _MASK
            else:
                x = (r[i] + k[j] + (r[i - 1] & r[i - 2]) + (~r[i - 1] & r[i - 3])) & _MASK
                r[i] = (x << _ROTATIONS[i] | x >> (16 - _ROTATIONS[i])) & _MASK
                j += 1
    return b"".join(w.to_bytes(2, "little") for w in r)


def _rc2_decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | block[2 * i + 1] << 8 for i in range(4)]
    j = 63
    for step in reversed(_RC2_STEPS):
        for i in (3, 2, 1, 0):
            if step == "mash":
                r[i] = (r[i] - k[r[i - 1] & 63]) & _MASK
            else:
                x = (r[i] >> _ROTATIONS[i] | r[i] << (16 - _ROTATIONS[i])) & _MASK
                r[i] = (x - k[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & _MASK
                j -= 1
    return b"".join(w.to_bytes(2, "little") for w in r)


def _rc2_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if len(data) % 8 or len(iv) != 8 or not 1 <= len(key) <= 128:
        raise ValueError("RC2-CBC needs whole 8-byte blocks, an 8-byte IV and a 1..128-byte key")
    k = _rc2_key_schedule(key, effective_bits)
    out, previous = bytearray(), iv
    for start in range(0, len(data), 8):
        block = data[start:start + 8]
        if encrypt:
            previous = _rc2_encrypt_block(k, bytes(a ^ b for a, b in zip(block, previous, strict=True)))
            out += previous
        else:
            out += bytes(a ^ b for a, b in zip(_rc2_decrypt_block(k, block), previous, strict=True))
            previous = block
    return bytes(out)
