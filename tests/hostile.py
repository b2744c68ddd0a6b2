"""Small crafted keystores that once made ktpy work for minutes, made here so
that tests and bench/bench_keystores.py use the same files."""

from __future__ import annotations

import hashlib
import struct

from cryptography import x509
from pyasn1.codec.der import decoder, encoder
from pyasn1_modules import rfc5652, rfc7292, rfc8018

from keytool_py import der, pbe
from keytool_py.keystore import java_container, javaser, p12codec

STOREPASS = "changeit"


def _jceks(entries: bytes, count: int, password: str = STOREPASS) -> bytes:
    body = java_container.JCEKS_MAGIC + struct.pack(">II", 2, count) + entries
    return body + hashlib.sha1(password.encode("utf-16-be") + java_container.WHITENING + body).digest()


def _utf(text: str) -> bytes:
    return javaser.write_utf(text, what="")


def jceks_back_reference_bomb(levels: int = 60) -> bytes:
    """A JCEKS (about 1 KB) whose secret-key entry is a serialized Object[] of arrays, each
    holding two back-references to the one before: a reader that copies references does 2^levels
    work. Its integrity hash is right, so only the object parse stands in the way."""
    handle = 0x7E0000
    out = bytearray(javaser.MAGIC)
    out += b"\x75\x72" + _utf("[Ljava.lang.Object;") + bytes(8) + b"\x02\x00\x00\x78\x70"  # class: handle 0
    out += struct.pack(">i", levels)  # outer array: handle 1
    for level in range(levels):
        out += b"\x75\x71" + struct.pack(">i", handle) + struct.pack(">i", 2)  # array: handle 2 + level
        previous = handle + 1 + level
        out += (b"\x71" + struct.pack(">i", previous)) * 2
    entry = struct.pack(">I", 3) + _utf("bomb") + struct.pack(">q", 0) + bytes(out)
    return _jceks(entry, 1)


def jceks_keys_at_max_rounds(cert: x509.Certificate, count: int = 5, rounds: int = 5_000_000) -> bytes:
    """A JCEKS whose key entries each claim `rounds` PBE iterations (what Java allows at most);
    the protected bytes are random, as only the count matters to a wrong-password probe."""
    from keytool_py import certs

    params = der.seq(der.octets(b"saltsalt"[:4] + b"SALT") + der.integer(rounds))
    algorithm = der.seq(der.oid("1.3.6.1.4.1.42.2.19.1") + params)
    protected = der.seq(algorithm + der.octets(bytes(range(64))))
    cert_der = certs.to_der(cert)
    entries = b""
    for n in range(count):
        entries += struct.pack(">I", 1) + _utf(f"key-{n}") + struct.pack(">q", 0)
        entries += struct.pack(">I", len(protected)) + protected + struct.pack(">I", 1)
        entries += _utf("X.509") + struct.pack(">I", len(cert_der)) + cert_der
    return _jceks(entries, count)


def pkcs12_parts_at_max_rounds(parts: int = 30, rounds: int = 5_000_000) -> bytes:
    """A PKCS12 of `parts` encrypted parts that each claim `rounds` PBKDF2 iterations, with a
    cheap MAC: opened with a wrong password, only the "altered or wrong password?" probe could
    cost anything."""
    template = p12codec.assemble([p12codec.Bag("cert", b"\x30\x03\x02\x01\x00")], STOREPASS, iterations=1)
    pfx, _ = decoder.decode(template, asn1Spec=rfc7292.PFX())
    auth_safe, _ = decoder.decode(p12codec._decode(pfx["authSafe"]["content"], p12codec.univ.OctetString()),
                                  asn1Spec=rfc7292.AuthenticatedSafe())
    info = auth_safe[0]
    encrypted, _ = decoder.decode(info["content"], asn1Spec=rfc5652.EncryptedData())
    algorithm = encrypted["encryptedContentInfo"]["contentEncryptionAlgorithm"]
    params, _ = decoder.decode(algorithm["parameters"], asn1Spec=rfc8018.PBES2_params())
    kdf, _ = decoder.decode(params["keyDerivationFunc"]["parameters"], asn1Spec=rfc8018.PBKDF2_params())
    kdf["iterationCount"] = rounds
    params["keyDerivationFunc"]["parameters"] = encoder.encode(kdf)
    algorithm["parameters"] = encoder.encode(params)
    info["content"] = encoder.encode(encrypted)
    crafted = rfc7292.AuthenticatedSafe()
    crafted.extend([info] * parts)
    data = encoder.encode(crafted)
    pfx["authSafe"]["content"] = encoder.encode(p12codec.univ.OctetString(data))
    salt = bytes(pfx["macData"]["macSalt"])
    pfx["macData"]["mac"]["digest"] = pbe.mac(hashlib.sha256, data, STOREPASS, salt, 1)
    pfx["macData"]["iterations"] = 1
    return encoder.encode(pfx)


def bks_with_rounds(bks: bytes, rounds: int, *, in_entries: bool = False, password: str = STOREPASS) -> bytes:
    """A Bouncy Castle BKS (version 2) with its store iteration count set to `rounds`, or (in_entries)
    every sealed key's count set to `rounds` and the store's HMAC recomputed, so that only the
    per-key bound stands in the way. Bouncy Castle itself reads any count here."""
    import hmac

    from jks import rfc7292 as pkcs12_kdf

    from keytool_py.keystore.bks import _walk_entries  # pyjks's walk, with Java's writeUTF for aliases

    salt_len = struct.unpack_from(">I", bks, 4)[0]
    pos = 12 + salt_len
    if not in_entries:
        return bks[:pos - 4] + struct.pack(">I", rounds) + bks[pos:]
    salt, store_rounds = bks[8:8 + salt_len], struct.unpack_from(">I", bks, pos - 4)[0]
    table, size = _walk_entries(bks[pos:])
    body = bytearray(bks[pos:pos + size])
    for entry in table.values():
        blob = entry.__dict__.get("_encrypted")
        if blob:
            at = body.find(blob)
            key_salt_len = struct.unpack_from(">I", blob)[0]
            struct.pack_into(">I", body, at + 4 + key_salt_len, rounds)
    mac_key = pkcs12_kdf.derive_key(hashlib.sha1, pkcs12_kdf.PURPOSE_MAC_MATERIAL, password, salt, store_rounds, 20)
    return bks[:pos] + bytes(body) + hmac.new(mac_key, bytes(body), hashlib.sha1).digest()
