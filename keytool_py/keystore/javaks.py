"""The container JKS and JCEKS share (magic, version 2, entries, SHA-1 integrity hash), and the
few DER encodings their key protections need. What differs, the key protection, is passed in.

Layout (sun.security.provider.JavaKeyStore, com.sun.crypto.provider.JceKeyStore): magic, version,
entry count; per entry a tag (1 private key, 2 trusted certificate), the alias (writeUTF), the
creation time in milliseconds, then the protected key and its chain, or the certificate; last,
SHA-1 over the store password as UTF-16BE, the bytes "Mighty Aphrodite", and all that precedes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Sequence

from .. import certs
from ..keys import private_key_to_der
from . import Entry, java_millis

VERSION = 2
WHITENING = b"Mighty Aphrodite"


def encode(magic: bytes, entries: Sequence[Entry], storepass: str, protect: Callable[[bytes], bytes]) -> bytes:
    """The store's bytes; protect(pkcs8) returns a key's EncryptedPrivateKeyInfo."""
    body = magic + struct.pack(">II", VERSION, len(entries))
    for entry in entries:
        millis = struct.pack(">q", java_millis(entry.timestamp))
        if entry.is_key_entry:
            body += struct.pack(">I", 1) + _utf(entry.alias) + millis + _data(protect(private_key_to_der(entry.key)))
            body += struct.pack(">I", len(entry.chain))
            for cert in entry.chain:
                body += _utf("X.509") + _data(certs.to_der(cert))
        else:
            body += struct.pack(">I", 2) + _utf(entry.alias) + millis
            body += _utf("X.509") + _data(certs.to_der(entry.chain[0]))
    return body + hashlib.sha1(storepass.encode("utf-16-be") + WHITENING + body).digest()


def _utf(text: str) -> bytes:
    # DataOutputStream.writeUTF; modified UTF-8 equals UTF-8 for the BMP without NUL
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def _data(raw: bytes) -> bytes:
    return struct.pack(">I", len(raw)) + raw


# --- the few DER encodings needed for an EncryptedPrivateKeyInfo ---

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
