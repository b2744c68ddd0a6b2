"""DER (and the BER other tools write) by hand: the one place that walks tag-length-value bytes.

Writing: the few encodings the JKS and JCEKS key protections need (tlv and its kinds). Reading:
`header` and `read_tlv` for the hand walkers that must be fast or must not trust the input
(PKCS12 certificate bags, store sniffing, a certificate's TBS, a DN's hex string), `definite`
for BER with indefinite lengths (NSS, Bouncy Castle and Windows write them; pyasn1 mishandles
them inside ANY), and `encrypted_private_key_info` through pyasn1.

A leaf module: it imports nothing from keytool_py, so every layer (names, keys, keystore/) can
use it. Errors are ValueError (DerError); callers say what was damaged.
"""

from __future__ import annotations


class DerError(ValueError):
    """Bytes that are not the DER (or BER) they should be."""


# --- writing ---

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


# --- reading ---

def header(data: bytes, pos: int = 0) -> tuple[int, int, int | None]:
    """(tag, start of the value, length) of the element at pos, a one-byte tag; length None for
    BER's indefinite form. Long-form lengths take 1 to 4 bytes (DerError otherwise); the length
    is not checked against the data (read_tlv does)."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length == 0x80:
        return tag, pos, None
    if length & 0x80:  # long form: the next (length & 0x7f) bytes hold the length
        size = length & 0x7F
        if not 1 <= size <= 4:
            raise DerError("a DER length of more than 4 bytes")
        length, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
    return tag, pos, length


def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the definite-length DER element at pos,
    checked to lie inside data."""
    tag, start, length = header(data, pos)
    if length is None or start + length > len(data) or tag & 0x1F == 0x1F:
        raise DerError("a DER element runs past its data")
    return tag, start, start + length


MAX_NESTING = 64


def definite(data: bytes) -> bytes:
    """The same BER with every indefinite length made definite (constructed forms kept). Linear
    in the input times its nesting (capped at MAX_NESTING)."""
    out, end = _definite_one(data, 0, 0)
    return out + data[end:]


def _definite_one(data: bytes, pos: int, depth: int) -> tuple[bytes, int]:
    if depth > MAX_NESTING:
        raise DerError("BER nested too deep")
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
            raise DerError("an indefinite length on a primitive element")
        parts = []
        while data[pos:pos + 2] != b"\x00\x00":
            if pos >= len(data):
                raise DerError("an indefinite length without its end")
            part, pos = _definite_one(data, pos, depth + 1)
            parts.append(part)
        content, pos = b"".join(parts), pos + 2
    else:
        if length & 0x80:
            size = length & 0x7F
            length, pos = int.from_bytes(data[pos:pos + size], "big"), pos + size
        end = pos + length
        if end > len(data):
            raise DerError("a BER element runs past its data")
        if not first & 0x20 or b"\x80" not in data[pos:end]:
            return data[start:end], end
        parts = []
        while pos < end:
            part, pos = _definite_one(data, pos, depth + 1)
            parts.append(part)
        content = b"".join(parts)
    n = len(content)
    size = (n.bit_length() + 7) // 8
    head = bytes([n]) if n < 0x80 else bytes([0x80 | size]) + n.to_bytes(size, "big")
    return tag + head + content, pos


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
