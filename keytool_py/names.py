"""Subjects ("CN=x,O=y", the keytool -dname order) and subject alternative names."""

from __future__ import annotations

import ipaddress
import re

from cryptography import x509
from cryptography.x509.oid import NameOID

from .errors import BadInputError

# Names people write in keytool -dname and OpenSSL -subj beyond RFC 4514's own set.
_EXTRA_ATTRIBUTES = {
    "E": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
}


def parse_subject(text: str) -> x509.Name:
    """Parse 'CN=mule-client,O=Acme,C=US' (most specific first, as keytool's -dname), or the
    OpenSSL form '/C=US/O=Acme/CN=mule-client'."""
    text = text.strip()
    if text.startswith("/"):
        parts = [p for p in re.split(r"(?<!\\)/", text) if p]
        text = ",".join(reversed(parts))
    try:
        name = x509.Name.from_rfc4514_string(text, _EXTRA_ATTRIBUTES)
    except ValueError as exc:
        why = f" ({exc})" if str(exc) else ""
        raise BadInputError(
            f"cannot read subject {text!r}{why}; write it as CN=name,O=organisation,C=US"
        ) from None
    if not name.get_attributes_for_oid(NameOID.COMMON_NAME):
        raise BadInputError(f"subject {text!r} has no CN; add one, for example CN=mule-client")
    for attribute in name:
        if not str(attribute.value).strip():
            raise BadInputError(f"subject {text!r} has an empty value")
        if attribute.oid == NameOID.COUNTRY_NAME and len(str(attribute.value)) != 2:
            raise BadInputError(f"country C={attribute.value!s} must be a two-letter code such as US")
    return name


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
    if not sep or not value:
        raise BadInputError(f"cannot read SAN {text!r}; write dns:NAME, email:ADDRESS, uri:URI or ip:ADDRESS")
    if kind == "dns":
        return x509.DNSName(value)
    if kind == "email":
        if "@" not in value:
            raise BadInputError(f"SAN {text!r} is not an email address")
        return x509.RFC822Name(value)
    if kind == "uri":
        return x509.UniformResourceIdentifier(value)
    if kind == "ip":
        try:
            return x509.IPAddress(ipaddress.ip_address(value))
        except ValueError:
            raise BadInputError(f"SAN {text!r} is not an IP address") from None
    raise BadInputError(f"unknown SAN type {kind!r} in {text!r}; use dns:, email:, uri: or ip:")
