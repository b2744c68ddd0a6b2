"""The few DER encodings the JKS and JCEKS key protections need: an EncryptedPrivateKeyInfo
written (tlv and its kinds) and read (encrypted_private_key_info, through pyasn1)."""

from __future__ import annotations


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + value


def seq(value: bytes) -> bytes:
    return tlv(0x30, value)


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    raw = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        raw += bytes(reversed(chunk))
    return tlv(0x06, raw)


NULL = b"\x05\x00"


def encrypted_private_key_info(der: bytes) -> tuple[str, bytes | None, bytes]:
    """(algorithm OID, DER parameters or None, encrypted data) of an EncryptedPrivateKeyInfo."""
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5208

    info, rest = decoder.decode(der, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
    if rest:
        raise ValueError("trailing data")
    algorithm = info["encryptionAlgorithm"]
    params = algorithm["parameters"]
    return (str(algorithm["algorithm"]), bytes(params.asOctets()) if params.isValue else None,
            bytes(info["encryptedData"]))
