"""The few Java serialization streams a JCEKS keystore holds, read with bounded work and written.

A JCEKS secret-key entry is a `com.sun.crypto.provider.SealedObjectForKeyProtector` written by
`ObjectOutputStream` (java.io.ObjectStreamConstants; "Java Object Serialization Specification",
chapter 6). The sealed content, once decrypted, is a serialized `javax.crypto.spec.SecretKeySpec`
or a `java.security.KeyRep`. Nothing here runs code: the stream is read as data.

The reader is bounded as Java 17's `jceks.key.serialFilter` bounds its own (maxdepth, maxrefs,
maxarray): back-references are shared, never copied, so work is linear in the input; depth,
handle count and array lengths are capped; an array cannot claim more bytes than remain.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInputError

MAGIC = b"\xac\xed\x00\x05"
MAX_DEPTH = 20
MAX_HANDLES = 1000

_TC_NULL, _TC_REFERENCE, _TC_CLASSDESC, _TC_OBJECT, _TC_STRING, _TC_ARRAY = 0x70, 0x71, 0x72, 0x73, 0x74, 0x75
_TC_CLASS, _TC_BLOCKDATA, _TC_ENDBLOCKDATA = 0x76, 0x77, 0x78
_TC_BLOCKDATALONG, _TC_LONGSTRING, _TC_ENUM = 0x7A, 0x7C, 0x7E
_BASE_HANDLE = 0x7E0000
_SC_WRITE_METHOD, _SC_SERIALIZABLE, _SC_EXTERNALIZABLE, _SC_BLOCK_DATA = 0x01, 0x02, 0x04, 0x08
_PRIMITIVES = {"B": ">b", "C": ">H", "D": ">d", "F": ">f", "I": ">i", "J": ">q", "S": ">h", "Z": ">?"}


class SerialError(ValueError):
    """The bytes are not a serialization stream this reader accepts."""


@dataclass
class ClassDesc:
    name: str
    flags: int = 0
    fields: list[tuple[str, str]] = field(default_factory=list)  # (type code, name)
    parent: ClassDesc | None = None


@dataclass
class JavaObject:
    class_name: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JavaEnum:
    class_name: str
    name: str


class _Reader:
    def __init__(self, data: bytes, offset: int, allowed: frozenset[str] | None = None):
        self.data, self.pos, self.allowed = data, offset, allowed
        self.handles: list[Any] = []

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise SerialError("truncated")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def utf(self, long: bool = False) -> str:
        return decode_modified_utf8(self.take(self.unpack(">q" if long else ">H")))

    def new_handle(self, value: Any) -> int:
        if len(self.handles) >= MAX_HANDLES:
            raise SerialError("too many objects")
        self.handles.append(value)
        return len(self.handles) - 1

    def reference(self) -> Any:
        index = self.unpack(">i") - _BASE_HANDLE
        if not 0 <= index < len(self.handles):
            raise SerialError("bad back-reference")
        return self.handles[index]

    def content(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SerialError("nested too deeply")
        tc = self.take(1)[0]
        if tc == _TC_NULL:
            return None
        if tc == _TC_REFERENCE:
            return self.reference()
        if tc in (_TC_STRING, _TC_LONGSTRING):
            index = self.new_handle(None)
            self.handles[index] = self.utf(long=tc == _TC_LONGSTRING)
            return self.handles[index]
        if tc == _TC_CLASSDESC:
            self.pos -= 1
            return self.class_desc(depth)
        if tc == _TC_OBJECT:
            return self.object(depth)
        if tc == _TC_ARRAY:
            return self.array(depth)
        if tc == _TC_ENUM:
            desc = self.class_desc(depth + 1)
            index = self.new_handle(None)
            self.handles[index] = JavaEnum(desc.name if desc else "", self.content(depth + 1))
            return self.handles[index]
        if tc == _TC_CLASS:
            desc = self.class_desc(depth + 1)
            self.new_handle(desc)
            return desc
        raise SerialError(f"unsupported stream element 0x{tc:02x}")

    def class_desc(self, depth: int) -> ClassDesc | None:
        tc = self.take(1)[0]
        if tc == _TC_NULL:
            return None
        if tc == _TC_REFERENCE:
            found = self.reference()
            if not isinstance(found, ClassDesc):
                raise SerialError("a reference that is not a class")
            return found
        if tc != _TC_CLASSDESC:
            raise SerialError("expected a class description")
        desc = ClassDesc(self.utf())
        if self.allowed is not None and desc.name not in self.allowed:
            raise SerialError(f"class {desc.name[:80]} is not allowed here")
        self.take(8)  # serialVersionUID
        self.new_handle(desc)
        desc.flags = self.take(1)[0]
        for _ in range(self.unpack(">H")):
            code = chr(self.take(1)[0])
            name = self.utf()
            if code in "L[":
                type_name = self.content(depth + 1)
                if not isinstance(type_name, str):
                    raise SerialError("a field type that is not a string")
            elif code not in _PRIMITIVES:
                raise SerialError("bad field type")
            desc.fields.append((code, name))
        self.skip_annotation(depth)
        desc.parent = self.class_desc(depth + 1)
        return desc

    def skip_annotation(self, depth: int) -> None:
        while True:
            tc = self.data[self.pos] if self.pos < len(self.data) else None
            if tc == _TC_ENDBLOCKDATA:
                self.pos += 1
                return
            if tc == _TC_BLOCKDATA:
                self.pos += 1
                self.take(self.take(1)[0])
            elif tc == _TC_BLOCKDATALONG:
                self.pos += 1
                self.take(self.unpack(">i"))
            else:
                self.content(depth + 1)

    def object(self, depth: int) -> JavaObject:
        desc = self.class_desc(depth + 1)
        if desc is None:
            raise SerialError("an object without a class")
        obj = JavaObject(desc.name)
        self.new_handle(obj)
        hierarchy, seen = [], 0
        while desc is not None:
            seen += 1
            if seen > MAX_DEPTH:
                raise SerialError("class hierarchy too deep")
            hierarchy.append(desc)
            desc = desc.parent
        for cls in reversed(hierarchy):
            if cls.flags & _SC_EXTERNALIZABLE:
                if not cls.flags & _SC_BLOCK_DATA:
                    raise SerialError("old externalizable format")
                self.skip_annotation(depth)
                continue
            for code, name in cls.fields:
                obj.fields[name] = self.value(code, depth)
            if cls.flags & _SC_WRITE_METHOD:
                self.skip_annotation(depth)
        return obj

    def value(self, code: str, depth: int) -> Any:
        if code in _PRIMITIVES:
            return self.unpack(_PRIMITIVES[code])
        return self.content(depth + 1)

    def array(self, depth: int) -> Any:
        desc = self.class_desc(depth + 1)
        if desc is None or not desc.name.startswith("["):
            raise SerialError("an array without an array class")
        index = self.new_handle(None)
        length = self.unpack(">i")
        if length < 0 or length > len(self.data) - self.pos:
            raise SerialError("an array longer than the data")
        code = desc.name[1]
        value: Any
        if code == "B":
            value = self.take(length)
        else:
            value = [self.value(code, depth) for _ in range(length)]
        self.handles[index] = value
        return value


# What JceKeyStore's own filter lets through when it loads a secret-key entry, and what
# SealedObjectForKeyProtector's (jceks.key.serialFilter) lets through inside the sealed key.
SEALED_OBJECT_CLASSES = frozenset({"com.sun.crypto.provider.SealedObjectForKeyProtector",
                                   "javax.crypto.SealedObject", "[B"})
SECRET_KEY_CLASSES = frozenset({"javax.crypto.spec.SecretKeySpec", "java.security.KeyRep",
                                "java.security.KeyRep$Type", "java.lang.Enum", "[B"})


def read_object(data: bytes, offset: int = 0, *, allowed: frozenset[str] | None = None) -> tuple[object, int]:
    """(the object of the stream starting at `offset`, the offset after it). With `allowed`,
    any other class is refused, as Java's serialization filters do."""
    if data[offset:offset + 4] != MAGIC:
        raise SerialError("not a Java serialization stream")
    reader = _Reader(data, offset + 4, allowed)
    try:
        value = reader.content(0)
    except (struct.error, IndexError, UnicodeDecodeError, RecursionError) as exc:
        raise SerialError(str(exc)) from None
    return value, reader.pos


# --- modified UTF-8 (DataInput.readUTF / DataOutput.writeUTF) ---

def decode_modified_utf8(raw: bytes) -> str:
    """Java's modified UTF-8: each UTF-16 unit on its own (a character beyond the BMP is two
    3-byte surrogates), NUL as C0 80. A 4-byte UTF-8 sequence is not valid here, as in Java."""
    if raw.isascii() and b"\x00" not in raw:  # the common case, and the same in every encoding
        return raw.decode("ascii")
    units, i, n = [], 0, len(raw)
    while i < n:
        b = raw[i]
        if b < 0x80:
            units.append(b)
            i += 1
        elif b >> 5 == 0b110 and i + 1 < n and raw[i + 1] >> 6 == 0b10:
            units.append((b & 0x1F) << 6 | raw[i + 1] & 0x3F)
            i += 2
        elif b >> 4 == 0b1110 and i + 2 < n and raw[i + 1] >> 6 == 0b10 and raw[i + 2] >> 6 == 0b10:
            units.append((b & 0x0F) << 12 | (raw[i + 1] & 0x3F) << 6 | raw[i + 2] & 0x3F)
            i += 3
        else:
            raise UnicodeDecodeError("modified-utf-8", raw, i, i + 1, "malformed input")
    return struct.pack(f">{len(units)}H", *units).decode("utf-16-be", "surrogatepass")


def encode_modified_utf8(text: str) -> bytes:
    units = struct.unpack(f">{len(text.encode('utf-16-be', 'surrogatepass')) // 2}H",
                          text.encode("utf-16-be", "surrogatepass"))
    out = bytearray()
    for u in units:
        if 0 < u < 0x80:
            out.append(u)
        elif u < 0x800:
            out += bytes([0xC0 | u >> 6, 0x80 | u & 0x3F])
        else:
            out += bytes([0xE0 | u >> 12, 0x80 | (u >> 6) & 0x3F, 0x80 | u & 0x3F])
    return bytes(out)


MAX_UTF_BYTES = 65535


def write_utf(text: str, *, what: str) -> bytes:
    """DataOutputStream.writeUTF: a 2-byte length, then modified UTF-8 (at most 65535 bytes)."""
    raw = encode_modified_utf8(text)
    if len(raw) > MAX_UTF_BYTES:
        raise BadInputError(f"{what} is {len(raw)} bytes in Java's encoding; a JKS or JCEKS keystore "
                            f"holds at most {MAX_UTF_BYTES}")
    return struct.pack(">H", len(raw)) + raw


# --- writing the sealed secret key, byte for byte as Java 17 does ---

def _utf(text: str) -> bytes:
    return write_utf(text, what="a string")


def _string(text: str) -> bytes:
    return bytes([_TC_STRING]) + _utf(text)


def _ref(handle: int) -> bytes:
    return bytes([_TC_REFERENCE]) + struct.pack(">i", _BASE_HANDLE + handle)


def _class(name: str, uid: str, fields: bytes = b"", count: int = 0, parent: bytes = bytes([_TC_NULL])) -> bytes:
    """A class description: name, serialVersionUID (hex), SC_SERIALIZABLE, fields, no annotation."""
    return (bytes([_TC_CLASSDESC]) + _utf(name) + bytes.fromhex(uid) + bytes([_SC_SERIALIZABLE])
            + struct.pack(">H", count) + fields + bytes([_TC_ENDBLOCKDATA]) + parent)


_BYTE_ARRAY_UID = "acf317f8060854e0"


def sealed_object(encoded_params: bytes, encrypted: bytes, algorithm: str) -> bytes:
    """A serialized SealedObjectForKeyProtector (stream header included), as JceKeyStore writes.
    Handles: 0 its class, 1 SealedObject's class, 2 "[B", 3 "Ljava/lang/String;", 4 the object,
    5 byte[]'s class, then the arrays and strings."""
    fields = (b"[" + _utf("encodedParams") + _string("[B") + b"[" + _utf("encryptedContent") + _ref(2)
              + b"L" + _utf("paramsAlg") + _string("Ljava/lang/String;") + b"L" + _utf("sealAlg") + _ref(3))
    parent = _class("javax.crypto.SealedObject", "3e363da6c3b75470", fields, 4)
    out = MAGIC + bytes([_TC_OBJECT]) + _class("com.sun.crypto.provider.SealedObjectForKeyProtector",
                                               "cd57ca59e730bb53", parent=parent)
    out += bytes([_TC_ARRAY]) + _class("[B", _BYTE_ARRAY_UID) + struct.pack(">i", len(encoded_params)) + encoded_params
    out += bytes([_TC_ARRAY]) + _ref(5) + struct.pack(">i", len(encrypted)) + encrypted
    return out + _string(algorithm) + _string(algorithm)


def secret_key_spec(key: bytes, algorithm: str) -> bytes:
    """A serialized javax.crypto.spec.SecretKeySpec, what SealedObject seals for a secret key."""
    fields = b"[" + _utf("key") + _string("[B") + b"L" + _utf("algorithm") + _string("Ljava/lang/String;")
    out = MAGIC + bytes([_TC_OBJECT]) + _class("javax.crypto.spec.SecretKeySpec", "5b470b66e230614d", fields, 2)
    out += bytes([_TC_ARRAY]) + _class("[B", _BYTE_ARRAY_UID) + struct.pack(">i", len(key)) + key
    return out + _string(algorithm)
