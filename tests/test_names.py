import ipaddress

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
