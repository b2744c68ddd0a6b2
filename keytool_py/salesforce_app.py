"""The Salesforce half as code: an SFDX project holding the app for the OAuth 2.0 JWT bearer flow.

    files = build_project(leaf_certificate, AppSpec(name="Mule_Integration"))
    for f in files: ...   # names relative to the project folder, the bytes

The project deploys with `sf project deploy start --source-dir force-app --target-org ORG`.
What it holds, and where each name comes from:

- **External Client App** (the default). Since Spring '26 new Connected Apps cannot be created
  (in Setup or through the Metadata API) unless Salesforce Support turns them back on (Salesforce
  Help, "New connected apps can no longer be created in Spring '26"); External Client Apps replace
  them. Five metadata types make one, each in its own folder with its own suffix. The folders and
  suffixes are those of the `sf` CLI's type registry (forcedotcom/source-deploy-retrieve,
  src/registry/metadataRegistry.json); the elements, their order and the enumerations are those
  of the Metadata API WSDL, API 63.0 (as distributed in simple-salesforce/simple-salesforce,
  simple_salesforce/metadata.wsdl, as its PyPI package ships it; the tests validate against it):

  | type                                  | folder                     | suffix        |
  | ExternalClientApplication             | externalClientApps         | .eca          |
  | ExtlClntAppOauthSettings              | extlClntAppOauthSettings   | .ecaOauth     |
  | ExtlClntAppGlobalOauthSettings        | extlClntAppGlobalOauthSets | .ecaGlblOauth |
  | ExtlClntAppOauthConfigurablePolicies  | extlClntAppOauthPolicies   | .ecaOauthPlcy |
  | ExtlClntAppConfigurablePolicies       | extlClntAppPolicies        | .ecaPlcy      |
  | PermissionSet                         | permissionsets             | .permissionset|

  In source format each file is `<folder>/<fullName>.<suffix>-meta.xml` under
  force-app/main/default/.
  - ExtlClntAppGlobalOauthSettings.certificate: "the PEM-encoded certificate string. When
    provided, it enables the JWT Bearer flow" (Metadata API Developer Guide,
    ExtlClntAppGlobalOauthSettings, API 60.0+). The same type holds consumerKey and
    consumerSecret, which "can't be packaged and must not be added to source control": ktpy never
    writes either (Salesforce generates them at deploy time), and the project's .gitignore lists
    the file, because a later `sf project retrieve start` writes them into it.
  - ExtlClntAppOauthSettings.commaSeparatedOauthScopes: the scope names of the
    ConnectedAppOauthAccessScope enumeration (`Api`, `RefreshToken`, ...) joined by ", ", as in the
    guide's sample (`Basic, Web`).
  - ExtlClntAppOauthConfigurablePolicies: permittedUsersPolicyType `AdminApprovedPreAuthorized`
    (enumeration PermittedUsersPolicyType) with commaSeparatedPermissionSet naming the project's
    permission set by its API name, as the guide's sample does (`PermSetExample`); the field's
    description says "IDs", which no project can know before the deploy.
  - ExtlClntAppConfigurablePolicies: isEnabled (required) and isOauthPluginEnabled, as in the
    guide's sample.
- **ConnectedApp** (`--connected-app`, for orgs where Support re-enabled them): folder
  connectedApps, suffix .connectedApp; contactEmail and label are required, the certificate is
  oauthConfig/certificate, pre-authorisation is oauthConfig/isAdminApproved with
  permissionSetName; callbackUrl is required in ConnectedAppOauthConfig. Its file holds the
  consumer key once retrieved, so .gitignore lists it too.
- **PermissionSet** (folder permissionsets, suffix .permissionset; label is required): the set
  the app is pre-authorised for. Users get it with `sf org assign permset`. It grants no user
  permission: the API name of "Enforce SSL/TLS Mutual Authentication" is not confirmed in public
  sources, and a deploy with a wrong name fails, so README.txt gives that step in Setup.
- What has no confirmed metadata form stays manual, in README.txt: uploading the Mutual
  Authentication Certificate (`InboundCertificate`, API 49+, whose deployability and content format
  are not settled publicly), the mutual-TLS permission, and copying the consumer key into Mule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from . import certs, files
from .errors import BadInputError, UnsupportedError

if TYPE_CHECKING:
    from .verify import Finding

# The API version of the vendored WSDL the files are checked against (fixtures/README.md); every
# element written exists there. The ECA types need API 59.0+ and the certificate field 60.0+.
API_VERSION = "63.0"
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
SOURCE_DIR = "force-app"
DEFAULT_DIR = f"{SOURCE_DIR}/main/default"
DEFAULT_NAME = "Mule_Integration"
# Salesforce's own page after a successful OAuth login. The JWT bearer flow never redirects, but
# the OAuth settings need a callback URL (ConnectedAppOauthConfig.callbackUrl is required).
DEFAULT_CALLBACK = "https://login.salesforce.com/services/oauth2/success"
# What the Salesforce connector's JWT connection uses: the REST and SOAP APIs ("api"), and
# "refresh_token" as Salesforce's JWT bearer setup guides list it.
DEFAULT_SCOPES = ("Api", "RefreshToken")

# The OAuth scope parameter values (Salesforce, "Scope Parameter Values" / "OAuth Tokens and Scopes")
# whose name in the Metadata API's ConnectedAppOauthAccessScope enumeration is a plain translation
# of the same words. Pairs that are not (id, visualforce, offline_access, ...) are left out rather
# than guessed: give those by their enumeration name, every one of which is accepted as written.
SCOPE_NAMES = {
    "api": "Api", "refresh_token": "RefreshToken", "web": "Web", "full": "Full", "openid": "OpenID",
    "profile": "Profile", "email": "Email", "address": "Address", "phone": "Phone", "chatter_api": "Chatter",
    "custom_permissions": "CustomPermissions", "wave_api": "Wave", "pardot_api": "Pardot",
    "lightning": "Lightning", "content": "Content",
}
# ConnectedAppOauthAccessScope in the Metadata API WSDL, API 63.0.
SCOPE_ENUM = (
    "Basic", "Api", "Web", "Full", "Chatter", "CustomApplications", "RefreshToken", "OpenID", "Profile",
    "Email", "Address", "Phone", "OfflineAccess", "CustomPermissions", "Wave", "Eclair", "Pardot",
    "Lightning", "Content", "CDPIngest", "CDPProfile", "CDPQuery", "Chatbot", "CDPSegment",
    "CDPIdentityResolution", "CDPCalculatedInsight", "ForgotPassword", "UserRegistration", "SFAP",
    "Interaction", "CDP", "EinsteinGPT", "PwdlessLogin",
)
# A developer (API) name: a letter first, then letters, digits and single underscores, no
# underscore at the end (Salesforce's rule for the "API Name" / "Name" fields in Setup).
_API_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)")
# Kept short so that every derived name (NAME_glbloauth, NAME_oauthPlcy, NAME_Users) stays within
# the 80 characters of a Salesforce DeveloperName with room to spare.
MAX_NAME = 40


def parse_scopes(text: str | Sequence[str]) -> tuple[str, ...]:
    """'api,refresh_token' (OAuth parameter values) or 'Api, RefreshToken' (the enumeration's
    names) as the enumeration's names, in order, without repeats."""
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    out: list[str] = []
    by_lower = {name.lower(): name for name in SCOPE_ENUM}
    for part in filter(None, parts):
        scope = SCOPE_NAMES.get(part.lower()) or by_lower.get(part.lower())
        if scope is None:
            raise BadInputError(f"unknown OAuth scope {part!r}; use the OAuth names ("
                                f"{', '.join(SCOPE_NAMES)}) or the Metadata API names ({', '.join(SCOPE_ENUM)})")
        if scope not in out:
            out.append(scope)
    if not out:
        raise BadInputError("no OAuth scope given; the Salesforce connector needs at least api")
    return tuple(out)


def check_api_name(name: str, what: str = "app name") -> str:
    """name, or a sentence saying why Salesforce would refuse it."""
    if not _API_NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise BadInputError(f"{what} {name!r} is not a Salesforce API name: use up to {MAX_NAME} letters, digits "
                            "and single underscores, starting with a letter and not ending with an underscore "
                            "(e.g. Mule_Integration)")
    return name


@dataclass(frozen=True)
class AppSpec:
    """What the project describes. label defaults to the name with spaces; permission_set to
    NAME_Users; contact_email is required for a ConnectedApp (the type requires it)."""

    name: str = DEFAULT_NAME
    label: str | None = None
    contact_email: str | None = None
    permission_set: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    callback_url: str = DEFAULT_CALLBACK
    connected_app: bool = False
    description: str = "Mule integration: OAuth 2.0 JWT bearer flow with the certificate made by ktpy"

    def __post_init__(self) -> None:
        check_api_name(self.name)
        check_api_name(self.permission_set_name, "permission set name")
        object.__setattr__(self, "scopes", parse_scopes(self.scopes))
        if self.connected_app and not self.contact_email:
            raise BadInputError("a Connected App needs a contact email (ConnectedApp.contactEmail is required); "
                                "pass --contact-email")
        if not self.callback_url.startswith(("https://", "http://localhost")):
            raise BadInputError(f"callback URL {self.callback_url!r} must start with https:// "
                                "(or http://localhost)")

    @property
    def app_label(self) -> str:
        return self.label or self.name.replace("_", " ")

    @property
    def permission_set_name(self) -> str:
        return self.permission_set or f"{self.name}_Users"


@dataclass(frozen=True)
class ProjectFile:
    """One file of the project: its name relative to the project folder ('/'-separated)."""

    name: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Component:
    """One metadata component: its type, fullName, and source file (relative to the project)."""

    type: str
    name: str
    path: str


# type -> (source folder, suffix), from the sf CLI's metadataRegistry.json.
SOURCE_LOCATIONS = {
    "ExternalClientApplication": ("externalClientApps", "eca"),
    "ExtlClntAppOauthSettings": ("extlClntAppOauthSettings", "ecaOauth"),
    "ExtlClntAppGlobalOauthSettings": ("extlClntAppGlobalOauthSets", "ecaGlblOauth"),
    "ExtlClntAppOauthConfigurablePolicies": ("extlClntAppOauthPolicies", "ecaOauthPlcy"),
    "ExtlClntAppConfigurablePolicies": ("extlClntAppPolicies", "ecaPlcy"),
    "ConnectedApp": ("connectedApps", "connectedApp"),
    "PermissionSet": ("permissionsets", "permissionset"),
}
# Files that hold the consumer key or secret once retrieved from an org.
SECRET_TYPES = ("ExtlClntAppGlobalOauthSettings", "ConnectedApp")


def component(type_name: str, name: str) -> Component:
    folder, suffix = SOURCE_LOCATIONS[type_name]
    return Component(type_name, name, f"{DEFAULT_DIR}/{folder}/{name}.{suffix}-meta.xml")


_Value = str | bool | None
_Element = tuple[str, "_Value | Sequence[tuple[str, _Value]]"]


def _xml(root: str, elements: Sequence[_Element]) -> bytes:
    """A metadata file: elements in the order given (the WSDL's sequence order), None left out."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root} xmlns="{METADATA_NS}">']
    for tag, value in elements:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            lines.append(f"    <{tag}>")
            lines += [f"        <{t}>{_text(v)}</{t}>" for t, v in value]
            lines.append(f"    </{tag}>")
        else:
            lines.append(f"    <{tag}>{_text(value)}</{tag}>")
    lines.append(f"</{root}>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def certificate_pem(cert: x509.Certificate) -> str:
    """The certificate as the app holds it: the PEM of the certificate alone, as client.pem has it."""
    return certs.to_pem([cert]).decode("ascii")


def components(spec: AppSpec) -> tuple[Component, ...]:
    """The project's components, in the order the manifest lists their types."""
    name = spec.name
    if spec.connected_app:
        apps = [component("ConnectedApp", name)]
    else:
        apps = [component("ExternalClientApplication", name),
                component("ExtlClntAppConfigurablePolicies", f"{name}_plcy"),
                component("ExtlClntAppGlobalOauthSettings", f"{name}_glbloauth"),
                component("ExtlClntAppOauthConfigurablePolicies", f"{name}_oauthPlcy"),
                component("ExtlClntAppOauthSettings", f"{name}_oauth")]
    return (*apps, component("PermissionSet", spec.permission_set_name))


def _metadata(comp: Component, spec: AppSpec, pem: str) -> bytes:
    app = spec.name
    if comp.type == "ExternalClientApplication":
        return _xml(comp.type, [("contactEmail", spec.contact_email), ("description", spec.description),
                                ("distributionState", "Local"), ("isProtected", False),
                                ("label", spec.app_label)])
    if comp.type == "ExtlClntAppConfigurablePolicies":
        return _xml(comp.type, [("externalClientApplication", app), ("isEnabled", True),
                                ("isOauthPluginEnabled", True), ("label", comp.name)])
    if comp.type == "ExtlClntAppGlobalOauthSettings":  # never consumerKey, consumerSecret
        return _xml(comp.type, [("callbackUrl", spec.callback_url), ("certificate", pem),
                                ("externalClientApplication", app), ("label", comp.name)])
    if comp.type == "ExtlClntAppOauthConfigurablePolicies":
        return _xml(comp.type, [("commaSeparatedPermissionSet", spec.permission_set_name),
                                ("externalClientApplication", app), ("label", comp.name),
                                ("permittedUsersPolicyType", "AdminApprovedPreAuthorized")])
    if comp.type == "ExtlClntAppOauthSettings":
        return _xml(comp.type, [("commaSeparatedOauthScopes", ", ".join(spec.scopes)),
                                ("externalClientApplication", app), ("label", comp.name)])
    if comp.type == "ConnectedApp":  # never consumerKey, consumerSecret
        oauth: list[tuple[str, _Value]] = [("callbackUrl", spec.callback_url), ("certificate", pem),
                                           ("isAdminApproved", True), *(("scopes", s) for s in spec.scopes)]
        return _xml(comp.type, [("contactEmail", spec.contact_email), ("description", spec.description),
                                ("label", spec.app_label), ("oauthConfig", oauth),
                                ("permissionSetName", spec.permission_set_name)])
    if comp.type == "PermissionSet":
        return _xml(comp.type, [("description", f"Users of the {spec.app_label} app (JWT bearer flow), "
                                                "pre-authorised by the app's OAuth policy"),
                                ("hasActivationRequired", False), ("label", comp.name.replace("_", " "))])
    raise AssertionError(comp.type)


def package_xml(comps: Sequence[Component]) -> bytes:
    """manifest/package.xml: each type once, with its members, types in alphabetical order."""
    by_type: dict[str, list[str]] = {}
    for comp in comps:
        by_type.setdefault(comp.type, []).append(comp.name)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<Package xmlns="{METADATA_NS}">']
    for type_name in sorted(by_type):
        lines.append("    <types>")
        lines += [f"        <members>{m}</members>" for m in sorted(by_type[type_name])]
        lines += [f"        <name>{type_name}</name>", "    </types>"]
    lines += [f"    <version>{API_VERSION}</version>", "</Package>"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _ignore_files(comps: Sequence[Component]) -> tuple[bytes, bytes]:
    """(.gitignore, .forceignore). A file that holds the consumer key or secret once retrieved is
    git-ignored: ktpy writes it without them and writes it again from the certificate. It is not
    in .forceignore, which would keep the certificate out of the deploy as well."""
    secret_globs = sorted({f"**/*.{SOURCE_LOCATIONS[c.type][1]}-meta.xml" for c in comps if c.type in SECRET_TYPES})
    gitignore = "\n".join([
        "# Written by ktpy salesforce-app.",
        "# Once retrieved from an org (sf project retrieve start) these files hold the consumer key",
        "# and secret, which must never be committed. Write them again from the certificate:",
        "#   ktpy salesforce-app --cert client.pem --out-dir . --force",
        *secret_globs,
        "# The sf CLI's local state (org logins, access tokens)",
        ".sf/", ".sfdx/", "",
    ])
    forceignore = "\n".join([
        "# Written by ktpy salesforce-app: files the sf CLI neither deploys nor retrieves.",
        "package.xml", "README.txt", "**/.eslintrc.json", "**/jsconfig.json", "**/__tests__/**", "",
    ])
    return gitignore.encode(), forceignore.encode()


def project_json(spec: AppSpec) -> bytes:
    """sfdx-project.json: one package directory, the API version the files are written for."""
    doc = {"packageDirectories": [{"path": SOURCE_DIR, "default": True}], "name": spec.name,
           "namespace": "", "sourceApiVersion": API_VERSION}
    return (json.dumps(doc, indent=2) + "\n").encode()


def check_certificate(cert: x509.Certificate) -> None:
    """The JWT bearer assertion is RS256 only: the app's certificate must hold an RSA key."""
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise UnsupportedError("the JWT bearer flow signs with RS256, which needs a certificate with an RSA key; "
                               f"{cert.subject.rfc4514_string()} has another kind")


def build_project(cert: x509.Certificate, spec: AppSpec | None = None, *,
                  org_hint: str = "ORG") -> tuple[ProjectFile, ...]:
    """Every file of the SFDX project for `cert` (the leaf; an RSA key), per `spec`."""
    spec = spec or AppSpec()
    check_certificate(cert)
    pem = certificate_pem(cert)
    comps = components(spec)
    gitignore, forceignore = _ignore_files(comps)
    out = [ProjectFile("sfdx-project.json", project_json(spec)),
           ProjectFile("manifest/package.xml", package_xml(comps)),
           ProjectFile(".gitignore", gitignore), ProjectFile(".forceignore", forceignore),
           *(ProjectFile(c.path, _metadata(c, spec, pem)) for c in comps),
           ProjectFile("README.txt", readme_text(spec, cert, comps, org_hint=org_hint).encode())]
    return tuple(out)


def readme_text(spec: AppSpec, cert: x509.Certificate, comps: Sequence[Component], *, org_hint: str = "ORG") -> str:
    """README.txt: the deploy command, then what stays manual, in order, with the Setup paths."""
    kind = "Connected App" if spec.connected_app else "External Client App"
    setup_app = ("Setup > Apps > App Manager > " + spec.app_label + " > View > Manage Consumer Details"
                 if spec.connected_app else
                 "Setup > Apps > External Client Apps > External Client App Manager > " + spec.app_label
                 + " > Settings > OAuth Settings > Consumer Key and Secret")
    members = "\n".join(f"  {c.type:<38} {c.name}" for c in comps)
    fingerprint = certs.fingerprint(cert)
    deploy_note = "" if spec.connected_app else (
        " Salesforce's Metadata API guide (ExtlClntAppGlobalOauthSettings, \"Special Access\n"
        "   Rules\"): the org must have \"Allow Access to OAuth Consumer Secrets via Metadata API\" turned on\n"
        "   in Setup, and a user with a developer role needs \"View External Client Apps Consumer Secrets\n"
        "   in Metadata\", to deploy the OAuth settings that hold the certificate.")
    legacy = ("" if not spec.connected_app else
              "\nNew Connected Apps need Salesforce Support to re-enable them (Spring '26); without that,\n"
              "the deploy is refused: write the External Client App instead (no --connected-app).\n")
    return f"""Salesforce {kind} for the Mule JWT bearer flow: {spec.name}
Written by ktpy salesforce-app for the certificate
  {cert.subject.rfc4514_string()}
  valid until {cert.not_valid_after_utc:%Y-%m-%d}, SHA-256 {fingerprint}
{legacy}
What is here (sf CLI source format, API {API_VERSION}; manifest/package.xml lists the same):
{members}

The app holds the certificate (JWT bearer flow enabled), the scopes {", ".join(spec.scopes)}, and is
pre-authorised for the permission set {spec.permission_set_name}: only users assigned to it may use it.
No consumer key or secret is in these files; Salesforce makes them when the app is created.

1. Deploy.{deploy_note}
     sf org login web --alias {org_hint}
     sf project deploy start --source-dir {SOURCE_DIR} --target-org {org_hint}
   (or: sf project deploy start --manifest manifest/package.xml --target-org {org_hint})
   Check first without changing the org: add --dry-run.

2. Assign the permission set to the integration user (the JWT "sub"):
     sf org assign permset --name {spec.permission_set_name} --target-org {org_hint} \\
         --on-behalf-of integration@example.com
   The user also needs "API Enabled" (from the profile or another permission set).

3. Mutual TLS (port 8443), in Setup; these have no confirmed metadata form:
   a. Setup > Certificate and Key Management > Upload Mutual Authentication Certificate:
      the kit's salesforce-upload.pem (the client certificate, then each intermediate).
   b. Setup > Permission Sets > {spec.permission_set_name.replace("_", " ")} > System Permissions > Edit:
      tick "Enforce SSL/TLS Mutual Authentication" (or set it on the user's profile).
   c. The user needs "API Enabled" and must call https://<MyDomain>.my.salesforce.com:8443.

4. The consumer key (Mule's "consumerKey", the JWT "iss"):
     {setup_app}
   Put it into Mule's properties (secure.yaml, ktpy secure-props); never into this project.

5. Check before deploying Mule (the certificate here must be the keystore's):
     ktpy verify keystore.jks --storepass env:STOREPASS --profile salesforce-jwt --app .

Files git-ignored here (.gitignore): the ones that hold the consumer key and secret once
retrieved from the org; write them again with ktpy salesforce-app --cert client.pem --force.
"""


def read_project_certificate(folder: str | Path) -> x509.Certificate:
    """The certificate of the app in an SFDX project written by build_project (or a kit's
    salesforce/ folder): ExtlClntAppGlobalOauthSettings.certificate or
    ConnectedApp.oauthConfig.certificate. Exactly one app with a certificate must be there."""
    import xml.etree.ElementTree as ET  # expat: no external entities, bounded entity expansion

    root = Path(folder)
    if not (root / "sfdx-project.json").is_file():
        raise BadInputError(f"{root} is not an SFDX project (no sfdx-project.json); "
                            "make one with ktpy salesforce-app")
    found: list[tuple[Path, str]] = []
    for type_name in SECRET_TYPES:  # the two types that hold the certificate
        folder_name, suffix = SOURCE_LOCATIONS[type_name]
        for path in sorted(root.rglob(f"*.{suffix}-meta.xml")):
            if ".sf" in path.parts or ".sfdx" in path.parts:
                continue
            try:
                doc = ET.fromstring(files.read(path, what="metadata file"))
            except ET.ParseError as exc:
                raise BadInputError(f"{path} is not well-formed XML ({exc})") from None
            node = doc.find(f"{{{METADATA_NS}}}certificate")
            if node is None:
                node = doc.find(f"{{{METADATA_NS}}}oauthConfig/{{{METADATA_NS}}}certificate")
            if node is not None and (node.text or "").strip():
                found.append((path, node.text or ""))
    if not found:
        raise BadInputError(f"no app certificate in {root}: no ExtlClntAppGlobalOauthSettings or ConnectedApp "
                            "file with a certificate")
    if len(found) > 1:
        raise BadInputError(f"{root} holds {len(found)} app certificates ({', '.join(str(p) for p, _ in found)}); "
                            "name the folder of one app")
    path, text = found[0]
    loaded = certs.load_certificates(text.encode("ascii", "replace"), what=str(path))
    if len(loaded) != 1:
        raise BadInputError(f"{path} holds {len(loaded)} certificates; the app takes one")
    return loaded[0]


def app_findings(app_cert: x509.Certificate, leaf: x509.Certificate, where: str) -> list[Finding]:
    """verify --app: the app's certificate must be the keystore's (or the given certificate):
    Salesforce checks the JWT assertion's RS256 signature with the app's certificate and refuses
    the token request otherwise."""
    from .verify import Finding

    if app_cert == leaf:
        return []
    return [Finding("app-certificate-differs",
                    f"the app in {where} holds the certificate of {app_cert.subject.rfc4514_string()} "
                    f"(SHA-256 {certs.fingerprint(app_cert)}), not this one ({certs.fingerprint(leaf)}); "
                    "Salesforce would refuse the JWT assertion: write the app again with "
                    "ktpy salesforce-app --cert <this certificate> --force")]
