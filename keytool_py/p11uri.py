"""PKCS#11 URIs (RFC 7512): how ktpy names a key in a token, as p11-kit, OpenSSL and step do.

    pkcs11:token=ca;object=root;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so

Path attributes (separated by ';') say which token and which object: `token` (the token's label),
`object` (the key's CKA_LABEL), `id` (its CKA_ID, percent-encoded bytes), `type`, and the token's
`manufacturer`, `model` and `serial`, plus the library's `library-*` attributes that ktpy accepts
and does not need. Query attributes (separated by '&') say how to get there: `module-path` (the
PKCS#11 library file), `pin-source` (a file holding the PIN, RFC 7512 section 2.3). `pin-value`
is refused: a PIN in a URI lands in shell history and in the CA folder (give it with --pin).
Values are percent-decoded (RFC 3986); ktpy writes a URI with every byte outside RFC 7512's
unreserved characters percent-encoded, so what it writes reads back the same everywhere.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from urllib.parse import unquote_to_bytes

from .errors import BadInputError

SCHEME = "pkcs11:"
# RFC 7512 section 2.3: p11-pchar-unres / query characters that need no escaping.
_UNRESERVED = set(string.ascii_letters + string.digits + "-._~" + ":[]@!$'()*+,=&")
_PATH_ATTRS = ("token", "object", "id", "type", "manufacturer", "model", "serial",
               "library-manufacturer", "library-description", "library-version", "slot-description",
               "slot-manufacturer", "slot-id")
_QUERY_ATTRS = ("module-path", "pin-source", "module-name")
_TYPES = ("private", "public", "cert", "secret-key", "data")


@dataclass(frozen=True)
class Pkcs11Uri:
    """A parsed RFC 7512 URI: the attributes ktpy uses, decoded (id as bytes)."""

    token: str | None = None
    object: str | None = None
    id: bytes | None = None
    type: str | None = None
    serial: str | None = None
    module_path: str | None = None
    pin_source: str | None = None

    def with_key(self, *, object: str | None = None, id: bytes | None = None) -> Pkcs11Uri:
        """The same URI naming the private key with this label and id (what create-ca records)."""
        return replace(self, object=object if object is not None else self.object,
                       id=id if id is not None else self.id, type="private")

    def __str__(self) -> str:
        path = [(name, value) for name, value in (
            ("token", self.token), ("serial", self.serial), ("object", self.object),
            ("id", self.id), ("type", self.type)) if value is not None]
        query = [(name, value) for name, value in (
            ("module-path", self.module_path), ("pin-source", self.pin_source)) if value is not None]
        text = SCHEME + ";".join(f"{name}={_encode(value)}" for name, value in path)
        if query:
            text += "?" + "&".join(f"{name}={_encode(value, query=True)}" for name, value in query)
        return text

    @property
    def key_name(self) -> str:
        """'root' or 'id 0102': how messages name the object."""
        if self.object is not None:
            return repr(self.object)
        return f"with id {self.id.hex()}" if self.id is not None else "(any)"


def _encode(value: str | bytes, query: bool = False) -> str:
    if isinstance(value, bytes):  # an id is bytes: always encoded, as p11tool prints it
        return "".join(f"%{b:02X}" for b in value)
    keep = _UNRESERVED - set(";?&=") | ({"/"} if query else set())  # '/' is plain in a query (RFC 7512 2.3)
    return "".join(chr(b) if chr(b) in keep else f"%{b:02X}" for b in value.encode("utf-8"))


def parse(text: str, *, what: str = "--pkcs11") -> Pkcs11Uri:
    """Read a PKCS#11 URI; refuse what ktpy cannot act on with one sentence naming `what`."""
    if not text.lower().startswith(SCHEME):
        raise BadInputError(f"{what} takes a PKCS#11 URI such as pkcs11:token=ca;object=root (RFC 7512)")
    body = text[len(SCHEME):]
    path, _, query = body.partition("?")
    values: dict[str, str | bytes] = {}
    for part, known, sep in ((path, _PATH_ATTRS, ";"), (query, _QUERY_ATTRS, "&")):
        for item in filter(None, part.split(sep)):
            name, eq, raw = item.partition("=")
            name = name.lower()
            if name == "pin-value":
                raise BadInputError(f"{what}: a PIN in the URI (pin-value) would show in the process list and be "
                                    "recorded; give it with --pin env:VAR or file:PATH, or pin-source=FILE")
            if not eq or (name not in known and not name.startswith("x-")):
                accepted = ", ".join(known)
                raise BadInputError(f"{what}: {name!r} is not an attribute ktpy reads there ({accepted})")
            if name in values:
                raise BadInputError(f"{what}: attribute {name!r} is given twice")
            data = unquote_to_bytes(raw)
            if name == "id":
                values[name] = data
                continue
            try:
                values[name] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise BadInputError(f"{what}: the value of {name!r} is not UTF-8 once decoded") from None
    if "module-name" in values:
        raise BadInputError(f"{what}: module-name is not supported; give the library file with module-path=PATH "
                            "or --pkcs11-module PATH")
    kind = _text(values, "type")
    if kind is not None and kind not in _TYPES:
        raise BadInputError(f"{what}: type={kind!s} is not a PKCS#11 object type ({', '.join(_TYPES)})")
    pin_source = values.get("pin-source")
    if isinstance(pin_source, str) and pin_source.startswith("file:"):
        pin_source = unquote_to_bytes(pin_source[len("file:"):].removeprefix("//")).decode("utf-8", "replace")
    key_id = values.get("id")
    out = Pkcs11Uri(token=_text(values, "token"), object=_text(values, "object"),
                    id=key_id if isinstance(key_id, bytes) else None,
                    type=_text(values, "type"), serial=_text(values, "serial"),
                    module_path=_text(values, "module-path"),
                    pin_source=pin_source if isinstance(pin_source, str) else None)
    if out.token is None and out.serial is None:
        raise BadInputError(f"{what}: the URI names no token; add token=LABEL (softhsm2-util --show-slots, "
                            "p11tool --list-tokens)")
    return out


def _text(values: dict[str, str | bytes], name: str) -> str | None:
    value = values.get(name)
    return value if isinstance(value, str) else None
