"""Subjects ("CN=x,O=y", the keytool -dname order) and subject alternative names."""

from __future__ import annotations

import ipaddress
import re
import secrets
import unicodedata

from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from .errors import BadInputError
from .escaping import escape

# Names people write in keytool -dname and OpenSSL -subj beyond RFC 4514's own set.
_EXTRA_ATTRIBUTES = {
    "E": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
}


def parse_subject(text: str) -> x509.Name:
    """Parse 'CN=mule-client,O=Acme,C=US' (most specific first, as keytool's -dname), or the
    OpenSSL form '/C=US/O=Acme/CN=mule-client'. A value written '#' and hex (RFC 4514 section
    2.4: '2.5.4.3=#0c03616263') is the DER of an ASN.1 string and is read as such. Control
    characters (NUL, line breaks, terminal escapes) are refused: they forge lines wherever a
    name is printed."""
    text = text.strip()
    if text.startswith("/"):
        parts = [p for p in re.split(r"(?<!\\)/", text) if p]
        text = ",".join(reversed(parts))
    shown = display(text)
    hex_values: dict[str, tuple[str, _ASN1Type]] = {}
    try:
        name = x509.Name.from_rfc4514_string(_take_hex_values(text, hex_values), _EXTRA_ATTRIBUTES)
        if hex_values:
            name = _put_hex_values(name, hex_values)
    except ValueError as exc:
        why = f" ({escape(str(exc))})" if str(exc) else ""
        raise BadInputError(
            f"cannot read subject {shown}{why}; write it as CN=name,O=organisation,C=US"
        ) from None
    if not name.get_attributes_for_oid(NameOID.COMMON_NAME):
        raise BadInputError(f"subject {shown} has no CN; add one, for example CN=mule-client")
    for attribute in name:
        value = str(attribute.value)
        if has_control_characters(value):
            raise BadInputError(f"subject {shown} holds a control character (a line break, NUL or terminal "
                                "escape); names cannot hold them")
        if not value.strip():
            raise BadInputError(f"subject {shown} has an empty value")
        if attribute.oid == NameOID.COUNTRY_NAME and len(value) != 2:
            raise BadInputError(f"country C={display(value)} must be a two-letter code such as US")
    return name


# An attribute value written as '#' and hex pairs: after the start, ',' or '+', a type, '='.
_HEX_VALUE = re.compile(r"((?:^|(?<!\\)[,+])\s*(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=)#([0-9A-Fa-f]*)")
# The ASN.1 string types a name attribute may hold, by DER tag, with how their bytes decode.
_STRING_TAGS = {
    0x0C: (_ASN1Type.UTF8String, "utf-8"),
    0x13: (_ASN1Type.PrintableString, "ascii"),
    0x14: (_ASN1Type.T61String, "latin-1"),
    0x16: (_ASN1Type.IA5String, "ascii"),
    0x1C: (_ASN1Type.UniversalString, "utf-32-be"),
    0x1E: (_ASN1Type.BMPString, "utf-16-be"),
}


def _take_hex_values(text: str, found: dict[str, tuple[str, _ASN1Type]]) -> str:
    """`text` with each '#hex' value replaced by a placeholder, its decoded value in `found`
    (cryptography would decode the hex as UTF-8 text, tag and length bytes included)."""
    marker = f"ktpyhex{secrets.token_hex(8)}n"

    def replace(match: re.Match[str]) -> str:
        placeholder = f"{marker}{len(found)}"
        found[placeholder] = _der_string(match.group(2))
        return str(match.group(1)) + placeholder

    return _HEX_VALUE.sub(replace, text)


def _der_string(hex_text: str) -> tuple[str, _ASN1Type]:
    """The text and type of one DER-encoded ASN.1 string, from its hex."""
    if len(hex_text) % 2 or len(hex_text) < 4:
        raise ValueError(f"#{hex_text} is not the hex of a DER string")
    from . import der as walker

    der = bytes.fromhex(hex_text)
    try:
        tag, offset, length = walker.header(der)
        if length is None:  # BER's indefinite form (a length of 0 bytes)
            raise walker.DerError("indefinite")
    except walker.DerError:
        raise ValueError(f"#{hex_text} is not the hex of a DER string") from None
    if tag not in _STRING_TAGS or offset + length != len(der):
        raise ValueError(f"#{hex_text[:16]}... is not the hex of a DER string (UTF8String, PrintableString, "
                         "IA5String, T61String, BMPString or UniversalString)")
    asn1_type, encoding = _STRING_TAGS[tag]
    try:
        return der[offset:].decode(encoding), asn1_type
    except UnicodeDecodeError:
        raise ValueError(f"#{hex_text[:16]}... does not decode as its string type") from None


def _put_hex_values(name: x509.Name, found: dict[str, tuple[str, _ASN1Type]]) -> x509.Name:
    rdns = []
    for rdn in name.rdns:
        attributes = []
        for attribute in rdn:
            if attribute.value in found:
                value, asn1_type = found[attribute.value]
                attribute = x509.NameAttribute(attribute.oid, value, _type=asn1_type)
            attributes.append(attribute)
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


def has_control_characters(text: str) -> bool:
    """True when `text` holds a C0 or C1 control character or DEL (NUL, CR, LF, ESC...)."""
    return any(unicodedata.category(c) == "Cc" for c in text)


def display(text: str) -> str:
    """`text` quoted for a message, control characters escaped (repr's \\n, \\x1b forms)."""
    return repr(text)


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


def slug(text: str, default: str = "client") -> str:
    """A file-name and alias friendly form of a name: 'Mule Client #1' -> 'mule-client-1'."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned or default


def parse_san(text: str) -> x509.GeneralName:
    """'dns:host.example.com', 'email:a@example.com', 'uri:https://...' or 'ip:10.0.0.1'."""
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    value = value.strip()
    shown = display(text)
    if not sep or not value:
        raise BadInputError(f"cannot read SAN {shown}; write dns:NAME, email:ADDRESS, uri:URI or ip:ADDRESS")
    if has_control_characters(value):
        raise BadInputError(f"SAN {shown} holds a control character (a line break, NUL or terminal escape)")
    if kind in ("dns", "email", "uri") and not value.isascii():
        # X.509 stores these as IA5String (RFC 5280 4.2.1.6): ASCII only
        raise BadInputError(f"SAN {shown} holds non-ASCII characters; X.509 allows ASCII only there (write a "
                            "domain in its xn-- form)")
    if kind == "dns":
        return x509.DNSName(value)
    if kind == "email":
        if "@" not in value:
            raise BadInputError(f"SAN {shown} is not an email address")
        return x509.RFC822Name(value)
    if kind == "uri":
        return x509.UniformResourceIdentifier(value)
    if kind == "ip":
        try:
            return x509.IPAddress(ipaddress.ip_address(value))
        except ValueError:
            raise BadInputError(f"SAN {shown} is not an IP address") from None
    raise BadInputError(f"unknown SAN type {display(kind)} in {shown}; use dns:, email:, uri: or ip:")
