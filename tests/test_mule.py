"""The Mule XML: names checked against Mule's TLS schema (fixture excerpt), placeholders, paths."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET

import pytest
from helpers import STOREPASS, ktpy
from mule_schema import FIXTURES, names_used, salesforce_names, secure_schema, tls_schema

from keytool_py import build_keystore
from keytool_py.mule import (
    SALESFORCE_NS,
    SECURE_NS,
    TLS_NS,
    JwtConnection,
    SecureConfig,
    mtls_token_endpoint,
    render,
    resource_path,
)

CORE = "{http://www.mulesoft.org/schema/mule/core}"
JWT = JwtConnection(consumer_key="3MVG9key", principal="integration@acme.example",
                    audience="https://test.salesforce.com")


run = functools.partial(ktpy, code=None)


def test_schema_fixture_has_what_domain_md_names():
    schema = tls_schema()
    assert {"type", "path", "alias", "keyPassword", "password"} <= schema["key-store"]
    assert "name" in schema["context"]


@pytest.mark.parametrize("jwt", [None, JWT], ids=["tls", "tls+jwt"])
def test_every_tls_name_written_is_in_mules_tls_schema(jwt):
    xml = render(store_type="jks", path="keystore.jks", alias="mule-client", jwt=jwt)
    used = names_used(xml, TLS_NS)
    assert set(used) == {"context", "key-store"}
    schema = tls_schema()
    for element, attributes in used.items():
        assert element in schema, element
        assert attributes <= schema[element], (element, attributes - schema[element])
    assert used["key-store"] == {"type", "path", "alias", "keyPassword", "password"}


def test_every_salesforce_name_written_is_a_jwt_connection_name():
    xml = render(store_type="pkcs12", path="keystore.p12", alias="mule-client", jwt=JWT)
    used = names_used(xml, SALESFORCE_NS)
    known = salesforce_names()
    assert set(used) == set(known)
    for element, attributes in used.items():
        assert attributes == known[element], element


def test_document_parses_with_placeholders_and_shared_store():
    xml = render(store_type="pkcs12", path="/app/src/main/resources/certs/keystore.p12", alias="mule-client",
                 jwt=JWT)
    root = ET.fromstring(xml)
    assert root.tag == f"{CORE}mule"
    assert "http://www.mulesoft.org/schema/mule/tls/current/mule-tls.xsd" in root.get(
        "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    store = root.find(f"{{{TLS_NS}}}context/{{{TLS_NS}}}key-store")
    assert store.attrib == {"type": "pkcs12", "path": "certs/keystore.p12", "alias": "mule-client",
                            "keyPassword": "${secure::keystore.keyPassword}",
                            "password": "${secure::keystore.password}"}
    connection = root.find(f"{{{SALESFORCE_NS}}}sfdc-config/{{{SALESFORCE_NS}}}jwt-connection")
    assert connection.attrib == {
        "consumerKey": "3MVG9key", "keyStore": "certs/keystore.p12",
        "storePassword": "${secure::keystore.password}", "certificateAlias": "mule-client",
        "principal": "integration@acme.example",
        "tokenEndpoint": "https://test.salesforce.com/services/oauth2/token",
        "audienceUrl": "https://test.salesforce.com",
        "tlsContext": "salesforce_mtls",
    }
    # the JWT connection names the tls:context written above it
    assert root.find(f"{{{TLS_NS}}}context").get("name") == connection.get("tlsContext")


def test_without_jwt_the_salesforce_namespace_is_not_declared():
    # Mule resolves every declared schema; a project without the connector would fail on it.
    xml = render(store_type="jks", path="keystore.jks", alias="mule-client")
    assert SALESFORCE_NS not in xml
    ET.fromstring(xml)


def test_values_are_escaped():
    odd = JwtConnection(consumer_key='a"b&c<d>', principal="x@y", audience="https://login.salesforce.com/")
    xml = render(store_type="jks", path="keystore.jks", alias="mule-client", jwt=odd)
    connection = ET.fromstring(xml).find(f"{{{SALESFORCE_NS}}}sfdc-config/{{{SALESFORCE_NS}}}jwt-connection")
    assert connection.get("consumerKey") == 'a"b&c<d>'
    assert connection.get("tokenEndpoint") == "https://login.salesforce.com/services/oauth2/token"


@pytest.mark.parametrize("given, expected", [
    ("keystore.jks", "keystore.jks"),
    ("kit/keystore.jks", "keystore.jks"),
    ("/home/me/app/src/main/resources/keystore.jks", "keystore.jks"),
    ("app/src/main/resources/certs/client.p12", "certs/client.p12"),
    ("C:\\work\\app\\src\\main\\resources\\keystore.jceks", "keystore.jceks"),
])
def test_resource_path(given, expected):
    assert resource_path(given) == expected


def test_mule_config_command_lowercases_the_alias(tmp_path):
    result = run("mule-config", "--keystore", "src/main/resources/keystore.jks", "--type", "jks",
                 "--alias", "Mule-Client")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("Notice: alias 'Mule-Client' is written as 'mule-client' (Java lowercases "
                             "aliases and Mule matches them exactly; use the lowercase form in Mule)\n")
    store = ET.fromstring(result.stdout).find(f"{{{TLS_NS}}}context/{{{TLS_NS}}}key-store")
    assert store.get("alias") == "mule-client"
    assert store.get("path") == "keystore.jks"


def test_mule_config_command_with_jwt(tmp_path):
    result = run("mule-config", "--keystore", "keystore.p12", "--type", "pkcs12", "--alias", "mule-client",
                 "--jwt", "--consumer-key", "3MVG9key", "--principal", "integration@acme.example",
                 "--audience", "https://login.salesforce.com", "-o", str(tmp_path / "config.xml"))
    assert result.exit_code == 0, result.output
    xml = (tmp_path / "config.xml").read_text()
    assert names_used(xml, SALESFORCE_NS)["jwt-connection"] == salesforce_names()["jwt-connection"]


def test_mule_config_jwt_needs_its_three_values():
    result = run("mule-config", "--keystore", "keystore.jks", "--type", "jks", "--alias", "mule-client",
                 "--jwt", "--consumer-key", "3MVG9key")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --jwt needs --consumer-key, --principal and --audience "
                                  "(missing: --principal, --audience)\n")
    result = run("mule-config", "--keystore", "keystore.jks", "--type", "jks", "--alias", "mule-client",
                 "--principal", "x@y")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --principal go(es) with --jwt\n")


def test_mule_config_checks_the_type_of_an_existing_store(client, tmp_path):
    path = tmp_path / "keystore.p12"
    path.write_bytes(build_keystore("pkcs12", client.key, client.chain, alias="mule-client", storepass=STOREPASS))
    result = run("mule-config", "--keystore", str(path), "--type", "jks", "--alias", "mule-client")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {path} is a PKCS12 keystore, not JKS; pass --type pkcs12\n"


def test_mule_config_warns_about_jceks_for_jwt():
    result = run("mule-config", "--keystore", "keystore.jceks", "--type", "jceks", "--alias", "mule-client",
                 "--jwt", "--consumer-key", "k", "--principal", "p@x", "--audience", "https://login.salesforce.com")
    assert result.exit_code == 0
    assert result.stderr == ("Warning: the Salesforce connector documents JKS and PKCS12 keystores for its "
                             "JWT connection, not JCEKS; prefer a JKS keystore there\n")


SECURE = SecureConfig(file="/app/src/main/resources/secure.yaml")


def test_secure_properties_schema_fixture_is_for_the_module():
    root = ET.parse(FIXTURES / "mule-secure-properties-schema.xsd-excerpt").getroot()
    assert root.get("targetNamespace") == SECURE_NS
    assert secure_schema() == {"config": {"name", "file", "key", "fileLevelEncryption", "encoding"},
                               "encrypt": {"algorithm", "mode", "useRandomIVs"}}


@pytest.mark.parametrize("jwt", [None, JWT], ids=["tls", "tls+jwt"])
def test_every_secure_properties_name_written_is_in_the_schema_excerpt(jwt):
    xml = render(store_type="jks", path="keystore.jks", alias="mule-client", jwt=jwt, secure_config=SECURE)
    used = names_used(xml, SECURE_NS)
    schema = secure_schema()
    assert used == {"config": {"name", "file", "key"}, "encrypt": {"algorithm", "mode", "useRandomIVs"}}
    for element, attributes in used.items():
        assert attributes <= schema[element], (element, attributes - schema[element])
    root = ET.fromstring(xml)
    config = root.find(f"{{{SECURE_NS}}}config")
    assert config.attrib == {"name": "Secure_Properties", "file": "secure.yaml", "key": "${secure.key}"}
    assert config.find(f"{{{SECURE_NS}}}encrypt").attrib == {"algorithm": "AES", "mode": "CBC",
                                                             "useRandomIVs": "true"}
    assert ("http://www.mulesoft.org/schema/mule/secure-properties "
            "http://www.mulesoft.org/schema/mule/secure-properties/current/mule-secure-properties.xsd"
            in " ".join(root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()))
    # the tls names stay within Mule's TLS schema with the secure config present
    assert names_used(xml, TLS_NS)["key-store"] <= tls_schema()["key-store"]


def test_without_secure_config_the_namespace_is_not_declared():
    assert SECURE_NS not in render(store_type="jks", path="keystore.jks", alias="mule-client")


def test_xml_comments_say_where_names_come_from():
    xml = render(store_type="jks", path="keystore.jks", alias="mule-client", jwt=JWT, secure_config=SECURE)
    assert "tlsContext is how the Mule SDK names a connection's TLS parameter" in xml
    assert "are Mule's TLS module schema\n         (mule-tls.xsd)" in xml
    assert "Mule's secure-properties module (names: secure-properties:config with file and key," in xml
    assert "-M-Dsecure.key=..." in xml


@pytest.mark.parametrize("given", ["acme.my.salesforce.com", "https://acme.my.salesforce.com/",
                                   "https://acme.my.salesforce.com:443"])
def test_my_domain_token_endpoint_on_8443(given):
    assert mtls_token_endpoint(given) == "https://acme.my.salesforce.com:8443/services/oauth2/token"
    jwt = JwtConnection(consumer_key="k", principal="p@x", audience="https://login.salesforce.com", my_domain=given)
    xml = render(store_type="jks", path="keystore.jks", alias="mule-client", jwt=jwt)
    connection = ET.fromstring(xml).find(f"{{{SALESFORCE_NS}}}sfdc-config/{{{SALESFORCE_NS}}}jwt-connection")
    assert connection.get("tokenEndpoint") == "https://acme.my.salesforce.com:8443/services/oauth2/token"
    assert connection.get("audienceUrl") == "https://login.salesforce.com"
    assert "tokenEndpoint is the My Domain on port 8443" in xml


def test_my_domain_option_and_its_conflicts():
    base = ["mule-config", "--keystore", "keystore.jks", "--type", "jks", "--alias", "mule-client"]
    jwt = ["--jwt", "--consumer-key", "k", "--principal", "p@x", "--audience", "https://login.salesforce.com"]
    result = run(*base, *jwt, "--my-domain", "acme.my.salesforce.com")
    assert result.exit_code == 0, result.output
    assert 'tokenEndpoint="https://acme.my.salesforce.com:8443/services/oauth2/token"' in result.stdout
    result = run(*base, *jwt, "--my-domain", "acme.my.salesforce.com", "--token-endpoint", "https://x/y")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --token-endpoint and --my-domain both set the token endpoint; give one\n")
    result = run(*base, "--my-domain", "acme.my.salesforce.com")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --my-domain go(es) with --jwt\n")
    result = run(*base, *jwt, "--my-domain", "acme my domain")
    assert result.exit_code == 1
    assert result.stderr == "Error: 'acme my domain' is not a My Domain host name such as acme.my.salesforce.com\n"


def test_mule_config_writes_secure_properties(tmp_path, monkeypatch):
    from keytool_py import secure_properties as sp

    monkeypatch.chdir(tmp_path)
    result = ktpy("mule-config", "--keystore", "keystore.jks", "--type", "jks", "--alias", "mule-client",
                  "--secure-properties", "src/main/resources/secure.yaml", "--storepass", "env:SP", "-o", "tls.xml",
                  env={"SP": "store-pw-1"}, code=None)
    assert result.exit_code == 0, result.output
    assert result.stderr == ("Wrote tls.xml\nWrote src/main/resources/secure.yaml\nWrote secure.key (mode 0600)\n"
                             "Give Mule the key at deploy time as the runtime property secure.key "
                             "(-M-Dsecure.key=...)\n")
    key = (tmp_path / "secure.key").read_text().rstrip("\n")
    assert len(key) == 32 and oct((tmp_path / "secure.key").stat().st_mode & 0o777) == "0o600"
    plain, count = sp.decrypt_file((tmp_path / "src/main/resources/secure.yaml").read_bytes(), "yaml", key,
                                   sp.Settings())
    assert count == 2
    assert "  password: store-pw-1  # the store password" in plain.decode()
    assert "  keyPassword: store-pw-1  # the key password" in plain.decode()
    config = ET.parse(tmp_path / "tls.xml").getroot().find(f"{{{SECURE_NS}}}config")
    assert config.get("file") == "secure.yaml" and config.get("key") == "${secure.key}"
    again = run("mule-config", "--keystore", "keystore.jks", "--type", "jks", "--alias", "mule-client",
                "--storepass", "env:SP")
    assert again.exit_code == 2
    assert again.stderr.endswith("Error: --storepass, --keypass and --secure-key go with --secure-properties\n")


JWT_KEY_PASSWORD_FAIL = ("FAIL key-password-differs: the key's password differs from the store password; the "
                         "Salesforce connector's JWT connection has no key password field and cannot open this key")


@pytest.mark.parametrize("store, alias, extra, failed", [
    ("keytool-keypass.jks", "distinct", [], True),  # keytool: key password keypass1, store changeit
    ("keytool-keypass.jks", "distinct", ["--keypass", "env:KP"], True),
    ("keytool-keypass.jceks", "distinct", ["--keypass", "env:KP"], True),
    ("keytool-rsa.jks", "rsa-client", [], False),  # keytool: key password = store password
])
def test_verify_salesforce_jwt_fails_a_key_password_of_its_own(store, alias, extra, failed):
    result = ktpy("verify", str(FIXTURES / store), "--storepass", "env:SP", "--alias", alias, *extra,
                  "--profile", "salesforce-jwt", env={"SP": "changeit", "KP": "keypass1"}, code=None)
    assert "Traceback" not in result.output
    assert (JWT_KEY_PASSWORD_FAIL in result.stdout.splitlines()) == failed, result.output
    assert result.exit_code == (3 if failed else 0), result.output
    # only the JWT profile needs the two passwords equal
    other = ktpy("verify", str(FIXTURES / store), "--storepass", "env:SP", "--alias", alias, *extra,
                 env={"SP": "changeit", "KP": "keypass1"}, code=None)
    assert "key-password-differs" not in other.stdout


@pytest.mark.parametrize("store, alias, storepass, extra, message", [
    ("keytool-rsa.jks", "rsa-client", "wrong", [],
     "Error: wrong store password for the JKS keystore (or the file was altered: its integrity hash does not match)\n"),
    ("keytool-keypass.jks", "distinct", "changeit", [], "Error: wrong key password for entry 'distinct' in the JKS "
                                                        "keystore\n"),
])
def test_mule_config_never_encrypts_a_password_that_does_not_open_the_store(tmp_path, monkeypatch, store, alias,
                                                                             storepass, extra, message):
    monkeypatch.chdir(tmp_path)
    result = ktpy("mule-config", "--keystore", str(FIXTURES / store), "--type", "jks", "--alias", alias,
                  "--secure-properties", "secure.yaml", "--storepass", "env:SP", *extra,
                  env={"SP": storepass}, code=None)
    assert result.exit_code == 1, result.output
    assert result.stderr == message
    assert list(tmp_path.iterdir()) == []  # neither secure.yaml nor secure.key


def test_mule_config_secure_properties_for_a_keytool_store(tmp_path, monkeypatch):
    from keytool_py import secure_properties as sp

    monkeypatch.chdir(tmp_path)
    result = ktpy("mule-config", "--keystore", str(FIXTURES / "keytool-keypass.jks"), "--type", "jks", "--alias",
                  "distinct", "--secure-properties", "secure.yaml", "--storepass", "env:SP", "--keypass", "env:KP",
                  "--secure-key", "env:SK", env={"SP": "changeit", "KP": "keypass1", "SK": "sixteen-byte-key"},
                  code=None)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "secure.key").exists()  # the key was given
    plain = sp.decrypt_file((tmp_path / "secure.yaml").read_bytes(), "yaml", "sixteen-byte-key", sp.Settings())[0]
    assert "  password: changeit  #" in plain.decode() and "  keyPassword: keypass1  #" in plain.decode()
