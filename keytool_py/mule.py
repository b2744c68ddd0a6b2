"""The Mule 4 XML that points at a keystore: a TLS context and, optionally, the Salesforce
connector's JWT connection using the same store.

    render(store_type="jks", path="keystore.jks", alias="mule-client", jwt=JwtConnection(...),
           secure_config=SecureConfig(file="secure.yaml")) -> str

Passwords are never written here: the XML holds ${secure::...} placeholders, and the values go
into Mule's secure properties.

Names and their sources:
- tls:context / tls:key-store with type, path, alias, keyPassword, password: Mule's TLS schema,
  mulesoft/mule modules/tls/src/main/resources/META-INF/mule-tls.xsd (published as
  http://www.mulesoft.org/schema/mule/tls/current/mule-tls.xsd); an excerpt is in
  fixtures/mule-tls-schema.xsd-excerpt and a test checks every name written here against it.
- salesforce:sfdc-config / salesforce:jwt-connection with consumerKey, keyStore, storePassword,
  certificateAlias, principal, tokenEndpoint, audienceUrl: the Salesforce Connector reference
  (docs.mulesoft.com/salesforce-connector/latest/salesforce-connector-reference, connection type
  "OAuth JWT": Consumer key, Key store, Store password, Certificate alias, Principal, Token
  endpoint, Audience url) as Mule apps on GitHub spell them in XML. The connection has no key
  password field (the same reference lists none), so the key password must equal the store
  password.
- tlsContext on salesforce:jwt-connection: the Mule SDK turns a connection's TLS parameter into
  an attribute tlsContext naming a global tls:context (or an inline tls:context child); ktpy
  names the context it writes, so mutual TLS and the JWT bearer flow use one keystore.
- secure-properties:config with file, key and a secure-properties:encrypt child (algorithm, mode,
  useRandomIVs): Mule's secure-properties module; an excerpt of its names, with their sources,
  is in fixtures/mule-secure-properties-schema.xsd-excerpt, checked the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadInputError
from .keystore import StoreType

CORE_NS = "http://www.mulesoft.org/schema/mule/core"
TLS_NS = "http://www.mulesoft.org/schema/mule/tls"
SALESFORCE_NS = "http://www.mulesoft.org/schema/mule/salesforce"
SECURE_NS = "http://www.mulesoft.org/schema/mule/secure-properties"
_SCHEMAS = {
    CORE_NS: "http://www.mulesoft.org/schema/mule/core/current/mule.xsd",
    TLS_NS: "http://www.mulesoft.org/schema/mule/tls/current/mule-tls.xsd",
    SALESFORCE_NS: "http://www.mulesoft.org/schema/mule/salesforce/current/mule-salesforce.xsd",
    SECURE_NS: "http://www.mulesoft.org/schema/mule/secure-properties/current/mule-secure-properties.xsd",
}

# The secure properties the XML refers to (Mule's ${secure::NAME} syntax).
STOREPASS_PROPERTY = "keystore.password"
KEYPASS_PROPERTY = "keystore.keyPassword"
TLS_CONTEXT_NAME = "salesforce_mtls"
SFDC_CONFIG_NAME = "Salesforce_Config"
SECURE_CONFIG_NAME = "Secure_Properties"
# The runtime property that carries the secure-properties key (given at deploy time, never in a file
# of the app): -M-Dsecure.key=... for a standalone runtime, a hidden property in Runtime Manager.
SECURE_KEY_PROPERTY = "secure.key"
TOKEN_PATH = "/services/oauth2/token"
# Salesforce's mutual-TLS port: the My Domain on 8443 asks for the client certificate.
MTLS_PORT = 8443
RESOURCES = "src/main/resources/"
# Keystore types the Salesforce connector documents for its JWT connection (its reference, above:
# 10.x documents JKS only, 11.x JKS or PKCS12).
JWT_STORE_TYPES = (StoreType.JKS, StoreType.PKCS12)


@dataclass(frozen=True)
class JwtConnection:
    """The Salesforce connector's OAuth JWT connection: who signs in, where, with which app."""

    consumer_key: str
    principal: str
    audience: str
    token_endpoint: str | None = None  # default: the audience's /services/oauth2/token
    # The org's My Domain (acme.my.salesforce.com): the token endpoint goes to its port 8443, for
    # orgs whose integration user has "Enforce SSL/TLS Mutual Authentication".
    my_domain: str | None = None

    def __post_init__(self) -> None:
        if self.token_endpoint and self.my_domain:
            raise BadInputError("give the token endpoint or the My Domain, not both")

    @property
    def endpoint(self) -> str:
        if self.my_domain:
            return mtls_token_endpoint(self.my_domain)
        return self.token_endpoint or token_endpoint_for(self.audience)


@dataclass(frozen=True)
class SecureConfig:
    """Mule's secure-properties config: which file holds the encrypted values, and how they were
    encrypted (<secure-properties:encrypt>). The key is never here: it is ${secure.key}."""

    file: str  # path of the .yaml or .properties file; written relative to src/main/resources
    algorithm: str = "AES"
    mode: str = "CBC"
    random_iv: bool = True
    file_level: bool = False


def mtls_token_endpoint(my_domain: str) -> str:
    """'acme.my.salesforce.com' (or its https:// URL) -> https://acme.my.salesforce.com:8443/services/oauth2/token."""
    host = re.sub(r"^https://", "", my_domain.strip()).rstrip("/")
    host = host.split("/", 1)[0].rsplit(":", 1)[0] if host.count(":") <= 1 else host
    if not host or not re.fullmatch(r"[A-Za-z0-9.-]+", host):
        raise BadInputError(f"{my_domain!r} is not a My Domain host name such as acme.my.salesforce.com")
    return f"https://{host}:{MTLS_PORT}{TOKEN_PATH}"


def token_endpoint_for(audience: str) -> str:
    """https://login.salesforce.com -> https://login.salesforce.com/services/oauth2/token (the same
    for test.salesforce.com and a My Domain URL)."""
    return audience.rstrip("/") + TOKEN_PATH


def resource_path(path: str) -> str:
    """The keystore's path as Mule resolves it, relative to src/main/resources: the part after
    src/main/resources/ when the path contains it, else the file name."""
    posix = path.replace("\\", "/")
    if RESOURCES in posix:
        inside = posix.rsplit(RESOURCES, 1)[1].strip("/")
        if inside:
            return inside
    name = posix.rstrip("/").rsplit("/", 1)[-1]
    if not name or name in (".", ".."):
        raise BadInputError(f"{path!r} does not name a keystore file")
    return name


def secure(name: str) -> str:
    return "${secure::" + name + "}"


# (xml.sax.saxutils.escape would do, but importing it loads urllib.request: 40 ms for four replacements)
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"))


def _attr(value: str) -> str:
    """A double-quoted XML attribute value."""
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", value):
        raise BadInputError(f"{value!r} holds control characters, which XML cannot carry")
    for char, entity in _ESCAPES:
        value = value.replace(char, entity)
    return f'"{value}"'


def _element(prefix: str, name: str, attributes: list[tuple[str, str]], indent: str) -> str:
    pad = indent + " " * (len(prefix) + len(name) + 2)
    lines = [f"{k}={_attr(v)}" for k, v in attributes]
    return f"{indent}<{prefix}:{name} " + f"\n{pad}".join(lines) + "/>"


def render(*, store_type: StoreType | str, path: str, alias: str, jwt: JwtConnection | None = None,
           context_name: str = TLS_CONTEXT_NAME, secure_config: SecureConfig | None = None) -> str:
    """A complete <mule> document: the TLS context, with `jwt` the Salesforce JWT connection, and
    with `secure_config` the secure-properties config that the ${secure::...} placeholders read.
    The alias is written as given: pass the lowercase form (keystore.normalize_alias)."""
    store_type = StoreType.parse(store_type)
    location = resource_path(path)
    namespaces = ([CORE_NS] + ([SECURE_NS] if secure_config else []) + [TLS_NS]
                  + ([SALESFORCE_NS] if jwt else []))
    schema_pairs = "\n                          ".join(f"{ns} {_SCHEMAS[ns]}" for ns in namespaces)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<mule xmlns="{CORE_NS}"',
        '      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        f'      xmlns:tls="{TLS_NS}"',
    ]
    if secure_config:
        out.append(f'      xmlns:secure-properties="{SECURE_NS}"')
    if jwt:
        out.append(f'      xmlns:salesforce="{SALESFORCE_NS}"')
    out += [
        f'      xsi:schemaLocation="{schema_pairs}">',
        "",
    ]
    if secure_config:
        out += _secure_config(secure_config)
    out += [
        f"    <!-- Written by ktpy. Put the keystore at src/main/resources/{location} and set the secure",
        f"         properties {STOREPASS_PROPERTY} (the store password) and {KEYPASS_PROPERTY} (the key",
        "         password; Mule requires it even when it equals the store password). -->",
        "    <!-- The client side of mutual TLS: refer to this context by name wherever the connection",
        "         to https://MYDOMAIN.my.salesforce.com:8443 takes a TLS context. Names: tls:context and",
        "         tls:key-store with type, path, alias, keyPassword, password are Mule's TLS module schema",
        "         (mule-tls.xsd); the context's name is ktpy's choice. -->",
        f"    <tls:context name={_attr(context_name)}>",
        _element("tls", "key-store", [
            ("type", store_type.value),
            ("path", location),
            ("alias", alias),
            ("keyPassword", secure(KEYPASS_PROPERTY)),
            ("password", secure(STOREPASS_PROPERTY)),
        ], "        "),
        "    </tls:context>",
    ]
    if jwt:
        port_note = (["         tokenEndpoint is the My Domain on port 8443, which asks for the client",
                      "         certificate of the tls:context (orgs that enforce mutual TLS)."]
                     if jwt.my_domain else [])
        out += [
            "",
            "    <!-- The OAuth 2.0 JWT bearer flow with the same keystore. Names: salesforce:sfdc-config,",
            "         salesforce:jwt-connection and its attributes are the Salesforce connector's (connection",
            "         type OAuth JWT); tlsContext is how the Mule SDK names a connection's TLS parameter, and",
            f"         its value is the name of the tls:context above ({context_name}), so mutual TLS and the",
            "         JWT flow present one key. keyStore and certificateAlias repeat that context's path and",
            "         alias: the connector opens the keystore itself to sign the assertion, and has no key",
            "         password field, so the key password must equal the store password.",
            *port_note,
            "    -->",
            f"    <salesforce:sfdc-config name={_attr(SFDC_CONFIG_NAME)}>",
            _element("salesforce", "jwt-connection", [
                ("consumerKey", jwt.consumer_key),
                ("keyStore", location),
                ("storePassword", secure(STOREPASS_PROPERTY)),
                ("certificateAlias", alias),
                ("principal", jwt.principal),
                ("tokenEndpoint", jwt.endpoint),
                ("audienceUrl", jwt.audience),
                ("tlsContext", context_name),
            ], "        "),
            "    </salesforce:sfdc-config>",
        ]
    out += ["", "</mule>", ""]
    return "\n".join(out)


def _secure_config(config: SecureConfig) -> list[str]:
    attributes = [("name", SECURE_CONFIG_NAME), ("file", resource_path(config.file)),
                  ("key", "${" + SECURE_KEY_PROPERTY + "}")]
    if config.file_level:
        attributes.append(("fileLevelEncryption", "true"))
    pad = " " * len("    <secure-properties:config ")
    opening = f"\n{pad}".join(f"{k}={_attr(v)}" for k, v in attributes)
    return [
        "    <!-- Mule's secure-properties module (names: secure-properties:config with file and key,",
        "         secure-properties:encrypt with algorithm, mode, useRandomIVs) decrypts the",
        f"         ${{secure::...}} values from src/main/resources/{resource_path(config.file)}. The key is not in",
        f"         the app: give it at deploy time as the runtime property {SECURE_KEY_PROPERTY}",
        f"         (-M-D{SECURE_KEY_PROPERTY}=... or a hidden property in Runtime Manager). -->",
        f"    <secure-properties:config {opening}>",
        _element("secure-properties", "encrypt", [
            ("algorithm", config.algorithm), ("mode", config.mode),
            ("useRandomIVs", "true" if config.random_iv else "false"),
        ], "        "),
        "    </secure-properties:config>",
        "",
    ]


def jwt_store_warning(store_type: StoreType | str) -> str | None:
    """A sentence when the Salesforce connector does not document `store_type` for JWT, else None."""
    store_type = StoreType.parse(store_type)
    if store_type in JWT_STORE_TYPES:
        return None
    return (f"the Salesforce connector documents JKS and PKCS12 keystores for its JWT connection, "
            f"not {store_type.value.upper()}; prefer a JKS keystore there")
