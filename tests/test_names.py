import ipaddress
import re

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from keytool_py import BadInputError
from keytool_py.names import parse_san, parse_subject, slug


def test_subject_in_keytool_order():
    name = parse_subject("CN=mule-client,OU=Integration,O=Acme\\, Inc,C=US")
    assert name.rfc4514_string() == "CN=mule-client,OU=Integration,O=Acme\\, Inc,C=US"
    assert name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme, Inc"
    # most specific last in the DER, as keytool writes it
    assert list(name)[0].oid == NameOID.COUNTRY_NAME


def test_subject_in_openssl_order_reads_the_same():
    assert parse_subject("/C=US/O=Acme/CN=x") == parse_subject("CN=x,O=Acme,C=US")


def test_subject_email_attribute():
    name = parse_subject("CN=x,E=ops@example.com")
    assert name.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == "ops@example.com"


@pytest.mark.parametrize("text,message", [
    ("O=Acme", "has no CN"),
    ("CN=x,C=USA", "length must be >= 2 and <= 2"),
    ("not a subject", "cannot read subject"),
    ("CN=", "cannot read subject|empty value"),
])
def test_bad_subjects(text, message):
    with pytest.raises(BadInputError, match=message):
        parse_subject(text)


def test_sans():
    assert parse_san("dns:api.example.com") == x509.DNSName("api.example.com")
    assert parse_san("email:a@example.com") == x509.RFC822Name("a@example.com")
    assert parse_san("uri:https://x.example") == x509.UniformResourceIdentifier("https://x.example")
    assert parse_san("ip:127.0.0.1") == x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


@pytest.mark.parametrize("text,message", [
    ("foo:bar", "unknown SAN type"), ("dns", "cannot read SAN"), ("email:nope", "not an email"),
    ("ip:999.1.1.1", "not an IP"),
])
def test_bad_sans(text, message):
    with pytest.raises(BadInputError, match=message):
        parse_san(text)


def test_slug():
    assert slug("Mule Client #1") == "mule-client-1"
    assert slug("***") == "client"


def test_rfc4514_hex_values_are_read_as_der():
    from cryptography.x509.name import _ASN1Type

    name = parse_subject("2.5.4.3=#0c03616263,O=#130441636d65")
    assert name.rfc4514_string() == "CN=abc,O=Acme"
    assert [(a.value, a._type) for a in name] == [("Acme", _ASN1Type.PrintableString),
                                                  ("abc", _ASN1Type.UTF8String)]
    # a BMPString (UTF-16), long form of a length, and an escaped '#' that is text, not hex
    assert parse_subject("CN=#1e0400e90074").rfc4514_string() == "CN=ét"
    assert parse_subject("CN=#0c8103616263").rfc4514_string() == "CN=abc"
    assert parse_subject("CN=\\#616263").rfc4514_string() == "CN=\\#616263"


@pytest.mark.parametrize("text", ["CN=#616263", "CN=#0c0461", "CN=#0c03616263ff", "CN=#020101", "CN=#0c03ffffff"])
def test_hex_values_that_are_not_der_strings_are_refused(text):
    with pytest.raises(BadInputError, match=r"is not the hex of a DER string|does not decode as its string type"):
        parse_subject(text)


@pytest.mark.parametrize("text", ["CN=a\\0ab", "CN=a\nOK", "CN=x\\00", "CN=a\x1b[31m", "CN=#0c03610a62", "CN=a\x85b"])
def test_control_characters_are_refused(text):
    with pytest.raises(BadInputError, match=r"holds a control character \(a line break, NUL or terminal escape\); "
                                            r"names cannot hold them$"):
        parse_subject(text)


@pytest.mark.parametrize("text,message", [
    ("email:jörg@acme.com", "SAN 'email:jörg@acme.com' holds non-ASCII characters"),
    ("dns:bücher.de", "SAN 'dns:bücher.de' holds non-ASCII characters"),
    ("dns:a\nb", "SAN 'dns:a\\nb' holds a control character"),
])
def test_san_refusals(text, message):
    with pytest.raises(BadInputError, match="^" + re.escape(message)):
        parse_san(text)
