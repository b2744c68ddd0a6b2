"""RC2 (RFC 2268) in CBC mode, for the PKCS#12 RC2 PBEs only: OpenSSL's `-legacy` encrypts
certificates with RC2-40, and cryptography's RC2 takes 128-bit keys only. _PITABLE is the RFC's
section 2 permutation."""

from __future__ import annotations

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


def key_schedule(key: bytes, effective_bits: int) -> list[int]:
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


def encrypt_block(k: list[int], block: bytes) -> bytes:
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


def decrypt_block(k: list[int], block: bytes) -> bytes:
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


def cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if len(data) % 8 or len(iv) != 8 or not 1 <= len(key) <= 128:
        raise ValueError("RC2-CBC needs whole 8-byte blocks, an 8-byte IV and a 1..128-byte key")
    k = key_schedule(key, effective_bits)
    out, previous = bytearray(), iv
    for start in range(0, len(data), 8):
        block = data[start:start + 8]
        if encrypt:
            previous = encrypt_block(k, bytes(a ^ b for a, b in zip(block, previous, strict=True)))
            out += previous
        else:
            out += bytes(a ^ b for a, b in zip(decrypt_block(k, block), previous, strict=True))
            previous = block
    return bytes(out)
