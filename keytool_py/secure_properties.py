"""Mule secure properties: values and files that Mule's secure-properties module decrypts
(`${secure::name}`), compatible with MuleSoft's Secure Properties Tool.

    settings = Settings(algorithm="AES", mode="CBC", random_iv=True)
    text = encrypt_value("s3cret", key, settings)        # '![base64]'
    decrypt_value(text, key, settings)                   # b's3cret'
    encrypt_file(yaml_bytes, "yaml", key, settings)      # every value encrypted, comments kept
    encrypt_file_level(data, key, settings)              # the whole file, one Base64 line

How Mule does it (the module's JCEEncrypter, as the Secure Configuration Properties docs and the
secure-properties-tool.jar describe it):
- cipher ALG/MODE/PKCS5Padding; for CFB and OFB that is full-block feedback (CFB128 for AES,
  CFB64 for the 8-byte-block ciphers) with PKCS#7 padding all the same;
- the key is the raw bytes of the key string, no KDF (AES 16, 24 or 32 bytes; DES 8; DESede 24;
  Blowfish up to 56);
- IV: the first block of the key, zero-padded when the key is shorter; with useRandomIVs="true"
  a random IV written before the ciphertext; ECB has none;
- a value is standard Base64 (padded, one line) wrapped as ![...], quoted in YAML (an unquoted
  ! starts a YAML tag); file-level encryption is the whole file as one Base64 line, no newline.

Mule's defaults are AES, CBC, no random IVs. What ktpy creates defaults to AES-256 (a 32-byte
key), CBC and random IVs: with the IV taken from the key, equal passwords give equal ciphertexts.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets as _random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import BadInputError, UnsupportedError

# name -> block size in bytes
ALGORITHMS = {"AES": 16, "Blowfish": 8, "DES": 8, "DESede": 8}
MODES = ("CBC", "CFB", "ECB", "OFB")
# Key lengths in bytes each cipher takes (Java's SunJCE and Mule's tool agree on these).
KEY_LENGTHS = {"AES": (16, 24, 32), "DES": (8,), "DESede": (24,), "Blowfish": tuple(range(1, 57))}
# Generated keys: AES-256 (32 bytes), the longest each other cipher takes.
GENERATED_KEY_LENGTH = {"AES": 32, "Blowfish": 56, "DES": 8, "DESede": 24}
FILE_KINDS = ("yaml", "properties")
MARK_OPEN, MARK_CLOSE = "![", "]"
# A value's new text, or None to leave the line as it is.
_Convert = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Settings:
    """What <secure-properties:encrypt algorithm mode useRandomIVs> says."""

    algorithm: str = "AES"
    mode: str = "CBC"
    random_iv: bool = True

    def __post_init__(self) -> None:
        algorithm = _pick(self.algorithm, ALGORITHMS, "algorithm")
        mode = _pick(self.mode, MODES, "mode")
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "mode", mode)

    @property
    def block_size(self) -> int:
        return ALGORITHMS[self.algorithm]

    @property
    def transformation(self) -> str:
        """The Java cipher name, e.g. AES/CBC/PKCS5Padding."""
        return f"{self.algorithm}/{self.mode}/PKCS5Padding"


def _pick(value: str, choices: Iterable[str], what: str) -> str:
    names = list(choices)
    for choice in names:
        if str(value).lower() == choice.lower():
            return choice
    raise BadInputError(f"unknown {what} {value!r}; choose one of {', '.join(names)}")


def warnings(settings: Settings) -> list[str]:
    """Sentences about weak choices (ECB, DES), for the CLI to print as warnings."""
    out = []
    if settings.mode == "ECB":
        out.append("ECB mode uses no IV and encrypts equal blocks to equal ciphertext; prefer CBC")
    if settings.algorithm == "DES":
        out.append("DES has a 56-bit key, which can be found by exhaustive search; prefer AES")
    return out


def generate_key(algorithm: str = "AES") -> str:
    """A random key string of the longest length the algorithm takes (AES: 32 characters, AES-256),
    URL-safe Base64 characters so that it passes through shells and property files unchanged."""
    length = GENERATED_KEY_LENGTH[_pick(algorithm, ALGORITHMS, "algorithm")]
    return _random.token_urlsafe(length)[:length]


def key_bytes(key: str, settings: Settings) -> bytes:
    """The raw key: the key string's bytes, checked against the lengths the cipher takes."""
    if not key.isascii():
        # Mule takes String.getBytes() in the JVM's default charset; ASCII is the same in all of them
        raise UnsupportedError("the secure properties key must be ASCII text (Mule reads it in the "
                               "JVM's default charset)")
    raw = key.encode("ascii")
    allowed = KEY_LENGTHS[settings.algorithm]
    if len(raw) not in allowed:
        if len(allowed) > 3:
            lengths = f"{allowed[0]} to {allowed[-1]}"
        else:
            lengths = " or ".join(", ".join(str(n) for n in allowed).rsplit(", ", 1))
        article = "an" if settings.algorithm[0] in "AEIOU" else "a"
        raise BadInputError(f"{article} {settings.algorithm} key must be {lengths} characters long, "
                            f"not {len(raw)}")
    return raw


def _cipher(raw: bytes, iv: bytes | None, settings: Settings) -> Any:
    from cryptography.hazmat.decrepit.ciphers import algorithms as old
    from cryptography.hazmat.decrepit.ciphers import modes as old_modes
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    algorithm: Any
    if settings.algorithm == "AES":
        algorithm = algorithms.AES(raw)
    elif settings.algorithm == "Blowfish":
        # OpenSSL takes 4 to 56 bytes; Blowfish cycles a shorter key over its 18 subkeys, so a
        # key repeated to 4 or more bytes is the same key (Java takes 1 byte and up).
        algorithm = old.Blowfish(raw * -(-4 // len(raw)))
    elif settings.algorithm == "DES":
        algorithm = old.TripleDES(raw * 3)  # 3DES with K1 = K2 = K3 is single DES
    else:
        algorithm = old.TripleDES(raw)
    mode: Any = {"CBC": modes.CBC, "CFB": old_modes.CFB, "OFB": old_modes.OFB}.get(settings.mode)
    return Cipher(algorithm, mode(iv) if mode else modes.ECB())


def _fixed_iv(raw: bytes, block: int) -> bytes:
    return raw[:block].ljust(block, b"\0")


def encrypt_bytes(data: bytes, key: str, settings: Settings, *, iv: bytes | None = None) -> bytes:
    """The ciphertext Mule decrypts: [random IV +] ALG/MODE/PKCS5Padding(data). `iv` fixes the
    random IV (for tests)."""
    from cryptography.hazmat.primitives import padding

    raw = key_bytes(key, settings)
    block = settings.block_size
    prefix = b""
    if settings.mode == "ECB":
        iv = None
    elif settings.random_iv:
        iv = iv if iv is not None else os.urandom(block)
        prefix = iv
    else:
        iv = _fixed_iv(raw, block)
    padder = padding.PKCS7(block * 8).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = _cipher(raw, iv, settings).encryptor()
    body: bytes = encryptor.update(padded) + encryptor.finalize()
    return prefix + body


def decrypt_bytes(data: bytes, key: str, settings: Settings) -> bytes:
    from cryptography.hazmat.primitives import padding

    raw = key_bytes(key, settings)
    block = settings.block_size
    iv = None
    if settings.mode != "ECB":
        if settings.random_iv:
            iv, data = data[:block], data[block:]
        else:
            iv = _fixed_iv(raw, block)
    if not data or len(data) % block:
        raise BadInputError(_cannot_decrypt(settings, "the ciphertext is not a whole number of blocks"))
    decryptor = _cipher(raw, iv, settings).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(block * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise BadInputError(_cannot_decrypt(settings, "the padding is wrong")) from None


def _cannot_decrypt(settings: Settings, why: str) -> str:
    iv = "random IVs" if settings.random_iv else "the IV taken from the key"
    return (f"cannot decrypt with this key as {settings.transformation} with {iv}: {why} "
            "(a different key, algorithm, mode or --random-iv setting?)")


def wrap(ciphertext: bytes) -> str:
    return MARK_OPEN + base64.b64encode(ciphertext).decode("ascii") + MARK_CLOSE


def unwrap(text: str) -> bytes:
    """The ciphertext of '![base64]' (or of bare Base64)."""
    text = text.strip()
    if text.startswith(MARK_OPEN) and text.endswith(MARK_CLOSE):
        text = text[len(MARK_OPEN):-len(MARK_CLOSE)]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError("the encrypted value is not Base64 (expected ![...] as Mule writes it)") from None


def encrypt_value(value: str | bytes, key: str, settings: Settings, *, iv: bytes | None = None) -> str:
    """'![Base64]' of the value's UTF-8 bytes."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return wrap(encrypt_bytes(data, key, settings, iv=iv))


def decrypt_value(text: str, key: str, settings: Settings) -> bytes:
    return decrypt_bytes(unwrap(text), key, settings)


def is_encrypted(value: str) -> bool:
    return value.startswith(MARK_OPEN) and value.endswith(MARK_CLOSE)


# --- whole files ---

def file_kind(name: str) -> str:
    """'yaml' or 'properties' from a file name's ending."""
    lowered = name.lower()
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith(".properties"):
        return "properties"
    raise BadInputError(f"{name} is neither .yaml nor .properties; Mule's secure properties come in those two")


def encrypt_file_level(data: bytes, key: str, settings: Settings) -> bytes:
    """The whole file encrypted: one Base64 line, no trailing newline (fileLevelEncryption="true")."""
    return base64.b64encode(encrypt_bytes(data, key, settings))


def decrypt_file_level(data: bytes, key: str, settings: Settings) -> bytes:
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError("the file is not one Base64 line, as file-level encryption writes it") from None
    return decrypt_bytes(raw, key, settings)


def encrypt_file(data: bytes, kind: str, key: str, settings: Settings, *,
                 key_name: str = "this key") -> tuple[bytes, int]:
    """(the file with every value encrypted, how many were), comments and layout kept. A value
    already written ![...] is left alone only when it is ciphertext under this key: one that
    only looks encrypted is refused (naming `key_name`), since leaving it would put a secret in
    the clear where Mule expects ciphertext, and Mule (and ktpy's decrypt) would then fail on it."""
    key_bytes(key, settings)  # a bad key fails before any line is read

    def convert(value: str) -> str | None:
        if not is_encrypted(value):
            return encrypt_value(value, key, settings)
        try:
            decrypt_value(value, key, settings).decode("utf-8")
        except (BadInputError, UnicodeDecodeError):
            raise BadInputError(
                f"a value written as ![...] is not encrypted with {key_name} ({settings.transformation}"
                f"{', random IVs' if settings.random_iv else ''}); decrypt it with the key it was encrypted "
                "with first, or remove the ![ and ] to have it encrypted as text") from None
        return None

    return _rewrite(data, _pick(kind, FILE_KINDS, "file kind"), convert)


def decrypt_file(data: bytes, kind: str, key: str, settings: Settings) -> tuple[bytes, int]:
    """(the file with every ![...] value decrypted, how many were); other values unchanged."""
    key_bytes(key, settings)

    def convert(value: str) -> str | None:
        if not is_encrypted(value):
            return None
        try:
            return decrypt_value(value, key, settings).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInputError("a decrypted value is not UTF-8 text") from None

    return _rewrite(data, _pick(kind, FILE_KINDS, "file kind"), convert)


def _rewrite(data: bytes, kind: str, convert: _Convert) -> tuple[bytes, int]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(f"the {kind} file is not UTF-8 text") from None
    lines = text.splitlines(keepends=True)
    rewrite = _yaml_lines if kind == "yaml" else _properties_lines
    out, count = rewrite(lines, convert)
    return "".join(out).encode("utf-8"), count


# YAML: the block style property files are written in. "key: value", "- value", comments,
# quoted scalars. Block scalars (| >) and flow collections ({ [) are refused, not guessed at.
_YAML_ENTRY = re.compile(r"""^(?P<lead>[ \t]*(?P<dashes>(?:-[ \t]+)*)
    (?:(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"][^#]*?):(?:[ \t]+|(?=\r?\n?$)))?)
    (?P<rest>.*?)(?P<eol>\r?\n?)$""", re.X)
_YAML_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./@+=][A-Za-z0-9_./@+= -]*")


def _yaml_lines(lines: list[str], convert: _Convert) -> tuple[list[str], int]:
    out: list[str] = []
    count = 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        match = _YAML_ENTRY.match(line)
        assert match is not None  # every part of the pattern may be empty
        if (not stripped or stripped.startswith("#") or stripped in ("---", "...")
                or not (match["key"] or match["dashes"])):
            out.append(line)
            continue
        value, tail = _yaml_scalar(match["rest"], number)
        if value is None:
            out.append(line)
            continue
        new = _at_line(number, convert, value)
        if new is None:
            out.append(line)
            continue
        count += 1
        out.append(match["lead"] + _yaml_quote(new) + tail + match["eol"])
    return out, count


def _at_line(number: int, convert: _Convert, value: str) -> str | None:
    try:
        return convert(value)
    except BadInputError as exc:
        raise BadInputError(f"line {number}: {exc}") from None


def _yaml_scalar(rest: str, number: int) -> tuple[str | None, str]:
    """(the scalar value, what follows it on the line), or (None, ...) when there is no value."""
    if not rest or rest.startswith("#"):
        return None, rest
    first = rest[0]
    if first in "|>":
        raise BadInputError(f"line {number}: block scalars (| or >) are not supported; write the value on one line")
    if first in "{[":
        raise BadInputError(f"line {number}: flow collections ({{ or [) are not supported; use block style")
    if first in "&*" or (first == "!" and not rest.startswith(MARK_OPEN)):
        raise BadInputError(f"line {number}: anchors, aliases and tags are not supported")
    if first == '"':
        match = re.match(r'"((?:[^"\\]|\\.)*)"', rest)
        if not match:
            raise BadInputError(f"line {number}: a double-quoted value must end on the same line")
        try:
            return json.loads('"' + match[1] + '"'), rest[match.end():]
        except ValueError:
            raise BadInputError(f"line {number}: an escape in the double-quoted value is not supported") from None
    if first == "'":
        match = re.match(r"'((?:[^']|'')*)'", rest)
        if not match:
            raise BadInputError(f"line {number}: a single-quoted value must end on the same line")
        return match[1].replace("''", "'"), rest[match.end():]
    comment = re.search(r"\s#", rest)  # a plain scalar ends where a comment starts
    value = rest[:comment.start()] if comment else rest
    plain = value.rstrip()
    return plain, rest[len(plain):]


def _yaml_quote(value: str) -> str:
    """A plain scalar when that reads back the same, else a double-quoted one."""
    if _YAML_PLAIN_SAFE.fullmatch(value) and not value.endswith(" ") and ": " not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


# .properties, as java.util.Properties reads it: logical lines (a line ending in an odd number
# of backslashes continues), comments starting with # or !, key and value split at the first
# unescaped =, : or whitespace.
def _properties_lines(lines: list[str], convert: _Convert) -> tuple[list[str], int]:
    out: list[str] = []
    count, i = 0, 0
    while i < len(lines):
        start = i
        logical = lines[i].rstrip("\r\n")
        while _continues(lines[i].rstrip("\r\n")) and i + 1 < len(lines):
            i += 1
            logical = logical[:-1] + lines[i].rstrip("\r\n").lstrip(" \t\f")
        eol = lines[i][len(lines[i].rstrip("\r\n")):]
        i += 1
        body = logical.lstrip(" \t\f")
        if not body or body[0] in "#!":
            out.extend(lines[start:i])
            continue
        head, raw_value = _properties_split(logical)
        new = _at_line(start + 1, convert, _properties_unescape(raw_value))
        if new is None:
            out.extend(lines[start:i])
            continue
        count += 1
        out.append(head + _properties_escape(new) + eol)
    return out, count


def _continues(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _properties_split(line: str) -> tuple[str, str]:
    """(key and separator as written, the raw value)."""
    i = len(line) - len(line.lstrip(" \t\f"))
    while i < len(line):
        char = line[i]
        if char == "\\":
            i += 2
            continue
        if char in "=: \t\f":
            break
        i += 1
    j = i
    while j < len(line) and line[j] in " \t\f":
        j += 1
    if j < len(line) and line[j] in "=:":
        j += 1
        while j < len(line) and line[j] in " \t\f":
            j += 1
    return line[:j], line[j:]


_PROPERTIES_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _properties_unescape(raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        char = raw[i]
        if char != "\\" or i + 1 >= len(raw):
            out.append(char)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt == "u":
            digits = raw[i + 2:i + 6]
            if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
                raise BadInputError(f"malformed \\uXXXX escape in the value {raw[:20]!r}...")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_PROPERTIES_ESCAPES.get(nxt, nxt))
        i += 2
    # \uXXXX pairs make surrogates: join them into the character they stand for
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")


def _properties_escape(value: str) -> str:
    out = []
    for n, char in enumerate(value):
        if char == "\\":
            out.append("\\\\")
        elif char in "\t\n\r\f":
            out.append("\\" + {"\t": "t", "\n": "n", "\r": "r", "\f": "f"}[char])
        elif char == " " and n == 0:
            out.append("\\ ")
        elif " " <= char <= "~":
            out.append(char)
        else:
            units = char.encode("utf-16-be")
            out += [f"\\u{int.from_bytes(units[k:k + 2], 'big'):04x}" for k in range(0, len(units), 2)]
    return "".join(out)
