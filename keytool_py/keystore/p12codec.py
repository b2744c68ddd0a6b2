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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from pyasn1.codec.der import encoder
from pyasn1.type import base, char, namedtype, tag, univ
from pyasn1_modules import rfc5280, rfc5652, rfc5958, rfc7292, rfc8018

from .. import der as _der
from .. import pbe
from ..errors import BadInputError, KtpyError, WrongPasswordError
from ..pbe import CORRUPTED, Asn1Value

# (the PBEs, KDFs and MAC live in pbe.py, RC2 in rc2.py, DER walking in der.py)
_decode = pbe.decode
_tlv = _der.read_tlv

# Oracle's attribute that makes a certificate bag a Java trustedCertEntry; its value is the set
# of extended key usages the certificate is trusted for (Java writes anyExtendedKeyUsage).
ORACLE_TRUSTED_KEY_USAGE = univ.ObjectIdentifier("2.16.840.1.113894.746875.1.1")
ANY_EXTENDED_KEY_USAGE = univ.ObjectIdentifier("2.5.29.37.0")

# Java 17's own counts (keystore.pkcs12.keyPbeIterationCount, macIterationCount).
ITERATIONS = 10_000
# Java's PKCS12KeyStore refuses more than pbe.MAX_ROUNDS (MAX_ITERATION_COUNT).
# After a failed MAC, one part is decrypted to tell an altered file from a wrong password, and only
# when it claims at most this many rounds (Java writes 10000; OpenSSL 2048): a hostile count then
# costs nothing, and the answer is "wrong password, or altered".
PROBE_MAX_ITERATIONS = 100_000

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

_X509_CERT = univ.ObjectIdentifier("1.2.840.113549.1.9.22.1")
_SECRET_BAG = univ.ObjectIdentifier("1.2.840.113549.1.12.10.1.5")


class _Undecryptable(Exception):
    """A ciphertext did not decrypt to what it should hold: wrong password or corruption."""


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
        raise pbe.unsupported(auth_safe["contentType"])
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
        oid, parameters = str(algorithm["algorithm"]), algorithm["parameters"]
        if not (oid == str(rfc8018.id_PBES2) or algorithm["algorithm"] in pbe.PKCS12_PBES) or \
                pbe.claimed_rounds(oid, bytes(parameters) if parameters.isValue else None)[0] > PROBE_MAX_ITERATIONS:
            return False
        _decrypt(algorithm, bytes(ciphertext), password, spec)
        return True
    except Exception:  # noqa: BLE001 - the part did not open
        return False


def _verify_mac(mac_data: Asn1Value, content: bytes, password: str) -> None:
    algorithm = mac_data["mac"]["digestAlgorithm"]["algorithm"]
    if algorithm not in pbe.HASHES:
        raise pbe.unsupported(algorithm)
    hash_new = pbe.HASHES[algorithm]
    stored = bytes(mac_data["mac"]["digest"])
    if len(stored) != hash_new().digest_size:
        raise BadInputError(CORRUPTED)
    salt, rounds = bytes(mac_data["macSalt"]), pbe.checked_rounds(mac_data["iterations"])
    # The empty password: the PKCS#12 KDF takes it as the two-byte BMP terminator (Java's and
    # OpenSSL's writers) or as no bytes at all (OpenSSL's C API with a NULL password).
    # Java's PKCS12KeyStore tries the first and, when that fails, the second (RetryWithZero: the
    # password "\0", which PKCS12PBECipherCore.derive takes as no bytes) for the MAC, each
    # encrypted part and each key; so does ktpy (pbe.pkcs12_kdf knows "\0").
    for attempt in ([password, "\0"] if password == "" else [password]):
        if hmac.compare_digest(stored, pbe.mac(hash_new, content, attempt, salt, rounds)):
            return
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
    raise pbe.unsupported(content_type)


def _read_safe_contents(der: bytes, out: list[Bag]) -> None:
    """The bags of a SafeContents. Certificate bags, the bulk of a large truststore, are read by
    a small DER walker (pyasn1 costs some 100 us a bag); other bags through pyasn1."""
    der = bytes(der)
    if der[1:2] == b"\x80":
        der = _der.definite(der)
    tag, pos, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise BadInputError(CORRUPTED)
    while pos < end:
        _, start, bag_end = _tlv(der, pos)
        if not _fast_cert_bag(der, start, bag_end, out):
            _read_bag(_decode(der[pos:bag_end], rfc7292.SafeBag()), out)
        pos = bag_end


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
            raise pbe.unsupported(f"a secret bag of type {secret['secretTypeId']}")
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
    """Decrypt with a PBES2 or PKCS#12 PBE AlgorithmIdentifier; the plaintext must decode as `spec`.
    The empty password is tried both ways, as Java does (see _verify_mac)."""
    try:
        return _decrypt_once(algorithm, ciphertext, password, spec)
    except _Undecryptable:
        if password != "":
            raise
        return _decrypt_once(algorithm, ciphertext, "\0", spec)


def _decrypt_once(algorithm: Asn1Value, ciphertext: bytes, password: str, spec: base.Asn1Type) -> bytes:
    cipher, key, iv = pbe.cipher_key(algorithm, password)
    try:
        plain = pbe.unpad(pbe.cbc(cipher, key, iv, ciphertext, encrypt=False), len(iv))
        if isinstance(spec, rfc7292.SafeContents):
            # its outer SEQUENCE is checked here, its bags when they are read (a full pyasn1
            # parse of a 100000-certificate truststore costs a minute)
            tag, _, end = _tlv(_der.definite(plain) if plain[1:2] == b"\x80" else plain, 0)
            if tag != 0x30 or (plain[1:2] != b"\x80" and end != len(plain)):
                raise ValueError("not a SafeContents")
        else:
            _decode(plain, spec)
    except Exception:
        raise _Undecryptable() from None
    return plain


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
    if not 1 <= iterations <= pbe.MAX_ROUNDS:
        raise BadInputError(f"the iteration count must be between 1 and {pbe.MAX_ROUNDS}")
    encrypt = pbe.encrypt_legacy if legacy else pbe.encrypt_pbes2

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
    digest_oid, hash_new = (pbe.SHA1, hashlib.sha1) if legacy else (pbe.SHA256, hashlib.sha256)
    # Java writes 20-byte MAC salts; OpenSSL 8. Both read either.
    salt = os.urandom(20)
    mac_data = pfx["macData"]
    mac_data["mac"]["digestAlgorithm"]["algorithm"] = digest_oid
    mac_data["mac"]["digestAlgorithm"]["parameters"] = pbe.NULL
    mac_data["mac"]["digest"] = pbe.mac(hash_new, content, password, salt, iterations)
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


