"""`ktpy kit`: every file, what keytool sees in each store, the Mule XML, where passwords may be,
an existing (intermediate) CA, and the all-or-nothing rules."""

from __future__ import annotations

import base64
import functools
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import assert_is_client, ktpy, require_tool
from interop import Listed, describe, keytool_recovers_the_key, parse_keytool_list, run_java, run_keytool_list

from keytool_py import kit as kit_mod
from keytool_py import load_keystore
from keytool_py import secure_properties as sp
from keytool_py.certs import fingerprint, load_certificates
from keytool_py.keystore import Entry, jceks
from keytool_py.mule import SALESFORCE_NS, SECURE_NS, TLS_NS

STORE_PW = "kit-store-pw-1"
CA_PW = "kit-ca-pw-1"
SECURE_KEY = "given-secure-key-of-32-characters"[:32]
ENV = {"KTPY_STORE_PW": STORE_PW, "KTPY_CA_PW": CA_PW, "KTPY_KEY_PW": "kit-key-pw-1", "KTPY_SECURE_KEY": SECURE_KEY}
STORES = {"jks": ("keystore.jks", "JKS"), "pkcs12": ("keystore.p12", "PKCS12"), "jceks": ("keystore.jceks", "JCEKS")}
KIT_FILES = {"README.txt", "ca/ca-password.txt", "ca/ca.key", "ca/ca.pem", "client-chain.pem", "client.key",
             "client.pem", "keystore.jceks", "keystore.jks", "keystore.p12", "mule-config.xml",
             "salesforce-upload.pem", "secure.yaml", "secure.key",
             "ca/issued.jsonl"}  # the new CA's ledger
SECRET_FILES = {"ca/ca-password.txt", "ca/ca.key", "client.key", "keystore.jceks", "keystore.jks", "keystore.p12",
                "secure.key"}


run = functools.partial(ktpy, env=ENV)


def listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One kit with the defaults: a new CA, all three store types; alias given in mixed case."""
    folder = tmp_path_factory.mktemp("kit") / "kit"
    result = run("kit", "--out-dir", folder, "--subject", "CN=mule-client,O=Acme,C=US",
                 "--storepass", "env:KTPY_STORE_PW", "--alias", "Mule-Client")
    return folder, result


@pytest.fixture(scope="module")
def made_from_intermediate(tmp_path_factory):
    """A kit issued by an existing intermediate CA (made by create-ca --parent), with the JWT
    connection in mule-config.xml."""
    root = tmp_path_factory.mktemp("kit-inter")
    run("create-ca", "--dir", root / "root", "--subject", "CN=Kit Root,O=Acme", "--key-type", "ec-p256",
        "--no-password")
    run("create-ca", "--dir", root / "inter", "--subject", "CN=Kit Intermediate,O=Acme", "--key-type", "ec-p256",
        "--parent", root / "root", "--password", "env:KTPY_CA_PW")
    result = run("kit", "--out-dir", root / "kit", "--subject", "CN=mule-client,O=Acme", "--ca", root / "inter",
                 "--ca-password", "env:KTPY_CA_PW", "--storepass", "env:KTPY_STORE_PW",
                 "--secure-key", "env:KTPY_SECURE_KEY", "--jwt",
                 "--consumer-key", "3MVG9key", "--principal", "integration@acme.example",
                 "--audience", "https://login.salesforce.com")
    return root, result


def test_kit_writes_every_file_with_the_right_modes(made):
    folder, result = made
    assert listing(folder) == KIT_FILES
    for name in KIT_FILES:
        mode = stat.S_IMODE(os.stat(folder / name).st_mode)
        assert mode == (0o600 if name in SECRET_FILES else 0o644), name
    assert result.stderr.startswith(
        "Notice: alias 'Mule-Client' is written as 'mule-client' (Java lowercases aliases and Mule matches "
        "them exactly; use the lowercase form in Mule)\n"
        f"Wrote the kit to {folder}/ for CN=mule-client,O=Acme,C=US, valid until ")
    assert result.stdout == ""


def test_kit_upload_pem_is_one_certificate_signed_by_the_ca(made):
    folder, _ = made
    upload = (folder / "salesforce-upload.pem").read_bytes()
    assert upload.count(b"-----BEGIN CERTIFICATE-----") == 1
    assert b"PRIVATE KEY" not in upload
    leaf = load_certificates(upload)[0]
    ca_cert = load_certificates((folder / "ca" / "ca.pem").read_bytes())[0]
    assert_is_client(leaf, ca_cert)  # includes verify_directly_issued_by
    assert load_certificates((folder / "client-chain.pem").read_bytes()) == [leaf, ca_cert]
    assert (folder / "client.pem").read_bytes() == upload
    assert (folder / "ca" / "ca.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_kit_mule_config_matches_the_stores(made):
    folder, _ = made
    root = ET.parse(folder / "mule-config.xml").getroot()
    store = root.find(f"{{{TLS_NS}}}context/{{{TLS_NS}}}key-store")
    assert store.attrib == {"type": "jks", "path": "keystore.jks", "alias": "mule-client",
                            "keyPassword": "${secure::keystore.keyPassword}",
                            "password": "${secure::keystore.password}"}
    assert root.find(f"{{{SALESFORCE_NS}}}sfdc-config") is None
    for kind, (name, _) in STORES.items():
        # JKS and PKCS12 keys decrypted here; the JCEKS key by keytool in test_keytool_decrypts_the_jceks_key
        loaded = load_keystore((folder / name).read_bytes(), STORE_PW, decrypt_keys=kind != "jceks")
        assert [e.alias for e in loaded.entries] == [store.get("alias")], kind
        entry = loaded.entries[0]
        assert entry.is_key_entry and len(entry.chain) == 2
        assert (entry.key is not None) == (kind != "jceks")


def test_kit_passwords_appear_only_where_they_must(made):
    folder, _ = made
    ca_password = (folder / "ca" / "ca-password.txt").read_text().rstrip("\n")
    assert len(ca_password) == 24 and ca_password != STORE_PW
    for name in KIT_FILES:
        data = (folder / name).read_bytes()
        for secret in (STORE_PW, ca_password):
            for encoding in ("utf-8", "utf-16-be"):
                found = secret.encode(encoding) in data
                assert found == (secret == ca_password and name == "ca/ca-password.txt" and encoding == "utf-8"), \
                    (name, encoding)


def test_kit_readme_says_what_goes_where(made):
    folder, _ = made
    text = (folder / "README.txt").read_text()
    leaf = load_certificates((folder / "client.pem").read_bytes())[0]
    for phrase in [
        f"The client certificate expires on {leaf.not_valid_after_utc:%Y-%m-%d}",
        "Setup > Certificate and Key Management > Upload Mutual\n      Authentication Certificate",
        "src/main/resources/",
        "keystore.password = the store password",
        "keystore.keyPassword = the key password",
        "alias                 mule-client",
        "The key password equals the store password (no --keypass given)",
        "PKCS12 keystores and the Salesforce connector's JWT connection",
        "/cacerts.jsp",
        "is refused by a\n  production org unless Salesforce support has added that root",
        "The store password: in the environment variable KTPY_STORE_PW when the kit was made.",
        "its password: generated into",
    ]:
        assert phrase in text, phrase


@pytest.mark.interop
@pytest.mark.parametrize("kind", list(STORES))
def test_keytool_lists_each_store_with_its_whole_chain(made, kind):
    require_tool("keytool")
    folder, _ = made
    name, keytool_type = STORES[kind]
    listed = run_keytool_list(folder / name, keytool_type, STORE_PW)
    chain = load_certificates((folder / "client-chain.pem").read_bytes())
    assert parse_keytool_list(listed) == [Listed("mule-client", "PrivateKeyEntry", tuple(map(fingerprint, chain)))]
    assert "Owner: CN=Development CA for mule-client, O=Acme\n" in listed


@pytest.mark.interop
def test_keytool_decrypts_the_jceks_key(made, tmp_path):
    """keytool -list never decrypts a key; -importkeystore must. The kit writes JCEKS with its own
    ahead-of-time key protection, so prove Java opens it."""
    require_tool("keytool")
    folder, _ = made
    copied = keytool_recovers_the_key(folder / "keystore.jceks", "JCEKS", STORE_PW, tmp_path / "copy.p12",
                                      alias="mule-client")
    assert copied == load_certificates((folder / "client.pem").read_bytes())[0]


@pytest.mark.interop
@pytest.mark.parametrize("kind", list(STORES))
def test_kit_from_an_intermediate_ca(made_from_intermediate, kind):
    require_tool("keytool")
    root, result = made_from_intermediate
    folder = root / "kit"
    assert not (folder / "ca").exists()  # the given CA is used, no new one made
    inter = load_certificates((root / "inter" / "ca.pem").read_bytes())[0]
    leaf = load_certificates((folder / "salesforce-upload.pem").read_bytes())[0]
    assert leaf.issuer == inter.subject
    leaf.verify_directly_issued_by(inter)
    chain = load_certificates((folder / "client-chain.pem").read_bytes())
    assert [c.subject.rfc4514_string() for c in chain] == [
        "CN=mule-client,O=Acme", "CN=Kit Intermediate,O=Acme", "CN=Kit Root,O=Acme"]
    name, keytool_type = STORES[kind]
    listed = parse_keytool_list(run_keytool_list(folder / name, keytool_type, STORE_PW))
    assert listed == [Listed("mule-client", "PrivateKeyEntry", tuple(map(fingerprint, chain)))]
    assert "  issued by                   CN=Kit Intermediate,O=Acme\n" in result.stderr


def test_kit_mule_config_with_jwt_uses_the_same_store(made_from_intermediate):
    root, _ = made_from_intermediate
    xml = ET.parse(root / "kit" / "mule-config.xml").getroot()
    store = xml.find(f"{{{TLS_NS}}}context/{{{TLS_NS}}}key-store")
    connection = xml.find(f"{{{SALESFORCE_NS}}}sfdc-config/{{{SALESFORCE_NS}}}jwt-connection")
    assert connection.get("keyStore") == store.get("path") == "keystore.jks"
    assert connection.get("certificateAlias") == store.get("alias") == "mule-client"
    assert connection.get("storePassword") == store.get("password") == "${secure::keystore.password}"
    assert connection.get("tokenEndpoint") == "https://login.salesforce.com/services/oauth2/token"
    assert connection.get("tlsContext") == xml.find(f"{{{TLS_NS}}}context").get("name") == "salesforce_mtls"
    text = (root / "kit" / "README.txt").read_text()
    assert "the tls:context and the Salesforce JWT connection pointing at keystore.jks" in text


def test_kit_refuses_existing_output_and_writes_nothing(tmp_path):
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / "keystore.p12").write_bytes(b"old")
    result = run("kit", "--out-dir", folder, "--subject", "CN=mule-client", "--storepass", "env:KTPY_STORE_PW",
                 code=1)
    assert result.stderr == f"Error: {folder / 'keystore.p12'} already exists; pass --force to replace it\n"
    assert listing(folder) == {"keystore.p12"}
    assert (folder / "keystore.p12").read_bytes() == b"old"


def test_kit_refuses_a_key_password_with_pkcs12(tmp_path):
    result = run("kit", "--out-dir", tmp_path / "kit", "--subject", "CN=mule-client", "--storepass",
                 "env:KTPY_STORE_PW", "--keypass", "env:KTPY_KEY_PW", code=1)
    assert result.stderr == ("Error: a PKCS12 keystore needs the key password to equal the store password "
                             "(Java cannot read it otherwise); drop the key password or leave pkcs12 out of "
                             "the types\n")
    assert not (tmp_path / "kit").exists()


def test_kit_refuses_unknown_types(tmp_path):
    result = run("kit", "--out-dir", tmp_path / "kit", "--subject", "CN=mule-client", "--storepass",
                 "env:KTPY_STORE_PW", "--types", "jks,bcfks", code=2)
    assert result.stderr.endswith("Error: Invalid value for '--types': unknown keystore type 'bcfks'; "
                                  "choose one of jks, pkcs12, jceks\n")


def test_prepared_jceks_protection_matches_jceks_build(client, monkeypatch, now):
    """A protection derived ahead of time (as the kit does) writes the same bytes as deriving inline."""
    salt = bytes.fromhex("0102030405060708")
    monkeypatch.setattr(jceks, "new_salt", lambda: salt)
    entry = Entry(alias="mule-client", chain=client.chain, key=client.key, timestamp=now)
    expected = jceks.build([entry], "store-pw-1", "store-pw-1", iterations=2000)
    protection = jceks.prepare("store-pw-1", salt=salt, iterations=2000)
    assert jceks.build([entry], "store-pw-1", "store-pw-1", protection=protection) == expected
    assert kit_mod._prepare_jceks("store-pw-1").iterations == jceks.ITERATIONS == 200_000
    with pytest.raises(ValueError, match="serves exactly one key entry"):
        jceks.build([entry, entry], "store-pw-1", "store-pw-1", protection=protection)


def _secure_values(path: Path, key: str) -> str:
    plain, count = sp.decrypt_file(path.read_bytes(), "yaml", key, sp.Settings())
    assert count == 2
    return plain.decode()


def test_kit_secure_properties_with_a_generated_key(made):
    folder, result = made
    key = (folder / "secure.key").read_text().rstrip("\n")
    assert len(key) == 32  # AES-256
    text = (folder / "secure.yaml").read_text()
    assert text.count('"![') == 2 and STORE_PW not in text
    plain = _secure_values(folder / "secure.yaml", key)
    assert f"keystore:\n  password: {STORE_PW}  # the store password\n" in plain
    assert f"  keyPassword: {STORE_PW}  # the key password" in plain
    config = ET.parse(folder / "mule-config.xml").getroot().find(f"{{{SECURE_NS}}}config")
    assert config.attrib == {"name": "Secure_Properties", "file": "secure.yaml", "key": "${secure.key}"}
    readme = (folder / "README.txt").read_text()
    for phrase in ["SECURE PROPERTIES", 'mule -M-Dsecure.key="$(cat secure.key)"',
                   "Runtime Manager:     Properties tab: secure.key", "under secureProperties in mule-artifact.json",
                   "  secure.key\n      The key that decrypts it (mode 0600)."]:
        assert phrase in readme, phrase
    assert ("  secure.yaml                 the passwords encrypted for Mule's secure properties; key in "
            "secure.key (mode 0600), given to Mule at deploy time as -M-Dsecure.key=...\n") in result.stderr


def test_kit_secure_properties_with_a_given_key(made_from_intermediate):
    root, result = made_from_intermediate
    folder = root / "kit"
    assert not (folder / "secure.key").exists()
    assert f"  password: {STORE_PW}  # the store password" in _secure_values(folder / "secure.yaml", SECURE_KEY)
    assert "key as given with --secure-key" in result.stderr
    assert "the key given with --secure-key" in (folder / "README.txt").read_text()


def test_kit_refuses_a_secure_key_of_the_wrong_length(tmp_path):
    result = run("kit", "--out-dir", tmp_path / "kit", "--subject", "CN=mule-client", "--storepass",
                 "env:KTPY_STORE_PW", "--secure-key", "env:KTPY_STORE_PW", code=1)
    assert result.stderr == "Error: an AES key must be 16, 24 or 32 characters long, not 14\n"
    assert not (tmp_path / "kit").exists()


@pytest.mark.interop
def test_java_decrypts_the_kits_secure_yaml(made, tmp_path):
    """javax.crypto, as Mule's module does it (tests/java/SecureProps.java), reads the passwords back."""
    require_tool("java")
    folder, _ = made
    key = (folder / "secure.key").read_text().rstrip("\n")
    cases = tmp_path / "cases.tsv"
    cases.write_text("\t".join(["Y", "AES", "CBC", "true", key, str(folder / "secure.yaml")]) + "\n")
    proc = run_java(Path(__file__).parent / "java" / "SecureProps.java", cases)
    assert proc.returncode == 0, describe(proc)
    found = dict(item.split("=", 1) for item in proc.stdout.split())
    assert {name: base64.b64decode(v).decode() for name, v in found.items()} == {
        "password": STORE_PW, "keyPassword": STORE_PW}


def test_kit_jwt_with_my_domain_goes_to_port_8443(tmp_path):
    folder = tmp_path / "kit"
    run("kit", "--out-dir", folder, "--subject", "CN=mule-client,O=Acme", "--storepass", "env:KTPY_STORE_PW",
        "--types", "jks", "--jwt", "--consumer-key", "3MVG9key", "--principal", "integration@acme.example",
        "--audience", "https://acme.my.salesforce.com", "--my-domain", "acme.my.salesforce.com")
    xml = ET.parse(folder / "mule-config.xml").getroot()
    connection = xml.find(f"{{{SALESFORCE_NS}}}sfdc-config/{{{SALESFORCE_NS}}}jwt-connection")
    assert connection.get("tokenEndpoint") == "https://acme.my.salesforce.com:8443/services/oauth2/token"
    assert connection.get("tlsContext") == xml.find(f"{{{TLS_NS}}}context").get("name")


@pytest.mark.parametrize("which", ["made", "made_from_intermediate"])
def test_kit_mule_config_names_are_in_the_schemas(which, request):
    """Every element and attribute of the kit's mule-config.xml, checked against the fixture excerpts
    of the Mule schemas it uses (TLS, secure properties, the Salesforce JWT connection)."""
    from mule_schema import names_used, salesforce_names, secure_schema, tls_schema

    made = request.getfixturevalue(which)
    folder = made[0] if which == "made" else made[0] / "kit"
    xml = (folder / "mule-config.xml").read_text()
    schemas = {TLS_NS: tls_schema(), SECURE_NS: secure_schema(), SALESFORCE_NS: salesforce_names()}
    seen = set()
    for namespace, schema in schemas.items():
        for element, attributes in names_used(xml, namespace).items():
            seen.add(namespace)
            assert attributes <= schema[element], (element, attributes - schema[element])
    assert seen == ({TLS_NS, SECURE_NS, SALESFORCE_NS} if which != "made" else {TLS_NS, SECURE_NS})
    namespaces = {el.tag.split("}")[0][1:] for el in ET.fromstring(xml).iter()}
    assert namespaces <= {*schemas, "http://www.mulesoft.org/schema/mule/core"}
