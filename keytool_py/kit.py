"""Everything for Mule <-> Salesforce in one call: a CA (new, or one given), the client key and
certificate, the PEMs to upload, a keystore of each type, the Mule XML and a README.

    kit = build_kit("CN=mule-client,O=Acme", storepass="...", ca_password="...")
    for f in kit.files: ...   # names relative to the kit folder, what is secret, the bytes

Speed (a kit is something people wait for): the slow parts do not depend on each other, so
they run at the same time, in threads.
- RSA key generation runs in OpenSSL without the GIL: the CA key (RSA 3072: 0.1 to 0.6 s, it
  varies with the primes found) and the client key are made together. The keystore readers and
  writers are ktpy's own and light to import.
- The JCEKS key protection (2 x 200000 MD5 rounds in Python, holding the GIL) needs only the key
  password and a salt, so it is derived first, in parallel with the rest, and the key is
  encrypted with it at the end. It uses CPython's built-in MD5, which costs a third of
  hashlib's OpenSSL-backed one for such tiny inputs: 0.13 s instead of 0.4 s.
- A process for the derivation was measured too (a worker forked before any thread starts): no
  gain on two cores once the derivation takes 0.13 s, and fork-based pools are on their way out
  (Python 3.12 warns when threads exist, 3.14 defaults to forkserver); so threads only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from . import certs, issue, mule, names, upload
from .ca import CA, CA_KEY_TYPE, CLIENT_KEY_TYPE, create_ca
from .errors import UnsupportedError
from .keys import KeyType, generate_key, private_key_to_pem
from .keystore import Compat, Entry, StoreType, check_password, normalize_alias, parse_types
from .layout import (
    CA_DIR,
    CLIENT_CERT,
    CLIENT_CHAIN,
    CLIENT_KEY,
    DEFAULT_ALIAS,
    MULE_CONFIG,
    README,
    SECURE_FILE,
    SECURE_KEY_FILE,
    STORE_FILES,
    UPLOAD_PEM,
)

if TYPE_CHECKING:  # imported where used: only a kit with a JCEKS store needs it
    from .keystore import jceks

ALL_TYPES = (StoreType.JKS, StoreType.PKCS12, StoreType.JCEKS)
# The store mule-config.xml points at: JKS first, the type the Salesforce connector calls safest.
MULE_PREFERENCE = (StoreType.JKS, StoreType.PKCS12, StoreType.JCEKS)


@dataclass(frozen=True)
class KitFile:
    """One file of the kit: its name relative to the kit folder ('/'-separated)."""

    name: str
    data: bytes = field(repr=False)
    secret: bool = False


@dataclass(frozen=True)
class Kit:
    ca: CA
    new_ca: bool
    client: issue.LeafCert
    alias: str
    store_types: tuple[StoreType, ...]
    mule_store: StoreType
    files: tuple[KitFile, ...]

    def file(self, name: str) -> KitFile:
        return next(f for f in self.files if f.name == name)


def default_ca_subject(client_subject: x509.Name) -> x509.Name:
    """'CN=Development CA for <client CN>', with the client's O if it has one."""
    cn = f"Development CA for {names.common_name(client_subject)}"[:64]  # X.520 ub-common-name
    # most general first, as in the DER: O, then CN (RFC 4514 text shows it reversed)
    attributes = client_subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[:1]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass(frozen=True)
class KitSpec:
    """What a kit is made of, as one frozen value (the CLI's kit command fills it from its options).

    keypass defaults to storepass (PKCS12 and the Salesforce JWT connection need them equal).
    ca: the CA that issues the client certificate; None makes a new root CA (ca_subject, default
    from the client's subject), whose key is encrypted with ca_password, or left plain when it is
    None. password_hint and ca_password_hint say in README.txt where the store password and the
    new CA's key password are kept ("in storepass.txt"); never the passwords themselves.
    secure_key encrypts the passwords in secure.yaml; without it a new key goes into secure.key.
    """

    subject: str | x509.Name
    storepass: str = field(repr=False)
    keypass: str | None = field(default=None, repr=False)
    ca: CA | None = None
    ca_password: str | None = field(default=None, repr=False)
    ca_subject: str | x509.Name | None = None
    alias: str = DEFAULT_ALIAS
    store_types: str | Sequence[str | StoreType] = ALL_TYPES
    compat: Compat | str | None = None
    key_type: KeyType | str = CLIENT_KEY_TYPE
    days: int = issue.CLIENT_DAYS
    jwt: mule.JwtConnection | None = None
    password_hint: str | None = None
    ca_password_hint: str | None = None
    secure_key: str | None = field(default=None, repr=False)
    now: dt.datetime | None = None


def build_kit(spec: KitSpec | str | x509.Name, /, **options: Any) -> Kit:
    """A new client key and certificate from the spec's CA (or from a new root CA), packaged
    every way Mule and Salesforce take. `spec` is a KitSpec; a subject with KitSpec's fields as
    keywords makes one (build_kit("CN=x", storepass=...) is build_kit(KitSpec("CN=x", storepass=...)))."""
    if not isinstance(spec, KitSpec):
        spec = KitSpec(spec, **options)
    elif options:
        raise TypeError("give a KitSpec or a subject with keywords, not both")
    return _build_kit(spec)


def _build_kit(spec: KitSpec) -> Kit:
    subject, storepass, keypass, ca, ca_password = spec.subject, spec.storepass, spec.keypass, spec.ca, spec.ca_password
    ca_subject, alias, store_types, compat, key_type = (spec.ca_subject, spec.alias, spec.store_types, spec.compat,
                                                         spec.key_type)
    days, jwt, password_hint, ca_password_hint, secure_key, now = (spec.days, spec.jwt, spec.password_hint,
                                                                   spec.ca_password_hint, spec.secure_key, spec.now)
    now = now or issue.utcnow()
    name = names.parse_subject(subject) if isinstance(subject, str) else subject
    types = parse_types(store_types)
    compat = Compat.parse(compat)
    key_type = KeyType.parse(key_type)
    lowered = normalize_alias(alias)
    keypass = storepass if keypass is None else keypass
    # Every refusal before any key is generated: a typo costs nothing.
    for store_type in types:
        check_password(storepass, what="store password", store_type=store_type)
        check_password(keypass, what="key password", store_type=store_type)
    if keypass != storepass and StoreType.PKCS12 in types:
        raise UnsupportedError(
            "a PKCS12 keystore needs the key password to equal the store password (Java cannot read "
            "it otherwise); drop the key password or leave pkcs12 out of the types"
        )
    if jwt is not None and not key_type.is_rsa:
        raise UnsupportedError(
            f"the Salesforce JWT connection signs with RS256, which needs an RSA key, not {key_type.value}"
        )
    mule_store = next(t for t in MULE_PREFERENCE if t in types)
    if jwt is not None and mule_store not in mule.JWT_STORE_TYPES:
        raise UnsupportedError(mule.jwt_store_warning(mule_store))
    new_ca_name = None
    if ca is None:
        new_ca_name = (names.parse_subject(ca_subject) if isinstance(ca_subject, str)
                       else ca_subject or default_ca_subject(name))

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="ktpy-kit") as pool:
        # Started first: the only long Python-level job; everything below overlaps with it.
        jceks_protection = pool.submit(_prepare_jceks, keypass) if StoreType.JCEKS in types else None
        ca_key = pool.submit(generate_key, CA_KEY_TYPE) if ca is None else None
        client_key = pool.submit(generate_key, key_type)
        if ca is None:
            assert ca_key is not None and new_ca_name is not None  # both made above when no CA was given
            ca = create_ca(new_ca_name, key=ca_key.result(), now=now)
        client = ca.issue_client(name, key=client_key.result(), days=days, now=now)
        entry = Entry(alias=lowered, chain=client.chain, key=client.key, timestamp=now)
        stores: dict[StoreType, bytes] = {t: _build_store(t, entry, storepass, keypass, compat, now)
                  for t in types if t is not StoreType.JCEKS}
        ca_files = ca.files(ca_password) if new_ca_name is not None else {}
        if jceks_protection is not None:
            from .keystore import jceks

            stores[StoreType.JCEKS] = jceks.build([entry], storepass, keypass, protection=jceks_protection.result())

    secure_files, secure_config = secure_properties_files(storepass, keypass, secure_key)
    xml = mule.render(store_type=mule_store, path=STORE_FILES[mule_store], alias=lowered, jwt=jwt,
                      secure_config=secure_config)
    files = [KitFile(f"{CA_DIR}/{n}", data, secret=n.endswith(".key")) for n, data in ca_files.items()]
    files += [
        KitFile(CLIENT_KEY, private_key_to_pem(client.key), secret=True),
        KitFile(CLIENT_CERT, certs.to_pem([client.cert])),
        KitFile(CLIENT_CHAIN, certs.to_pem(client.chain)),
        KitFile(UPLOAD_PEM, upload.upload_pem(client.chain)),
    ]
    files += [KitFile(STORE_FILES[t], stores[t], secret=True) for t in types]
    files.append(KitFile(MULE_CONFIG, xml.encode("utf-8")))
    files += secure_files
    readme = readme_text(ca=ca, new_ca=new_ca_name is not None, client=client, alias=lowered,
                         types=types, mule_store=mule_store, own_keypass=keypass != storepass,
                         jwt=jwt, compat=compat, ca_encrypted=ca_password is not None,
                         password_hint=password_hint, ca_password_hint=ca_password_hint, now=now,
                         secure_key_file=SECURE_KEY_FILE if secure_key is None else None)
    files.append(KitFile(README, readme.encode("utf-8")))
    return Kit(ca=ca, new_ca=new_ca_name is not None, client=client, alias=lowered, store_types=types,
               mule_store=mule_store, files=tuple(files))


def secure_properties_files(storepass: str, keypass: str, key: str | None, *, name: str = SECURE_FILE,
                            key_name: str = SECURE_KEY_FILE) -> tuple[list[KitFile], mule.SecureConfig]:
    """secure.yaml with keystore.password and keystore.keyPassword encrypted (and, without `key`,
    a new key in secure.key, mode 0600), and the secure-properties config that reads it."""
    from . import secure_properties as sp

    settings = sp.Settings()  # AES, CBC, random IVs: ktpy's defaults for what it creates
    files = []
    if key is None:
        key = sp.generate_key(settings.algorithm)
        files.append(KitFile(key_name, (key + "\n").encode("ascii"), secret=True))
    plain = "\n".join([
        "# Mule secure properties written by ktpy: AES/CBC/PKCS5Padding with random IVs, as",
        "# the <secure-properties:encrypt> element of the Mule XML says. The key is not in this file: Mule gets it",
        f"# as the runtime property {mule.SECURE_KEY_PROPERTY}.",
        "keystore:",
        f"  password: {json.dumps(storepass)}  # the store password",
        f"  keyPassword: {json.dumps(keypass)}  # the key password (Mule requires it, even when equal)",
        "",
    ])
    encrypted, _ = sp.encrypt_file(plain.encode("utf-8"), "yaml", key, settings)
    config = mule.SecureConfig(file=name, algorithm=settings.algorithm, mode=settings.mode,
                               random_iv=settings.random_iv)
    return [KitFile(name, encrypted), *files], config


def _prepare_jceks(keypass: str) -> jceks.Protection:
    from .keystore import jceks

    return jceks.prepare(keypass)


def _build_store(store_type: StoreType, entry: Entry, storepass: str, keypass: str, compat: Compat,
                 now: dt.datetime) -> bytes:
    from .keystore import build_store

    return build_store(store_type, [entry], storepass=storepass, keypass=keypass, compat=compat, now=now)


# --- README.txt ---

def readme_text(*, ca: CA, new_ca: bool, client: issue.LeafCert, alias: str,
                types: Sequence[StoreType], mule_store: StoreType, own_keypass: bool,
                jwt: mule.JwtConnection | None, compat: Compat, ca_encrypted: bool,
                password_hint: str | None, ca_password_hint: str | None, now: dt.datetime,
                secure_key_file: str | None = None) -> str:
    """What goes where, in plain text. Never holds a password."""
    leaf = client.cert
    expires = leaf.not_valid_after_utc
    # rounded, not truncated: not_after drops now's microseconds, so 365 days is 364.99999 days
    days_left = round((expires - now).total_seconds() / 86400)
    stores = ", ".join(STORE_FILES[t] for t in types)
    mule_file = STORE_FILES[mule_store]
    n_inter = len(upload.upload_chain(client.chain)) - 1
    lines = [
        f"ktpy kit for {leaf.subject.rfc4514_string()}",
        f"Made {now:%Y-%m-%d %H:%M} UTC.",
        "",
        "EXPIRY",
        f"  The client certificate expires on {expires:%Y-%m-%d} ({days_left} days from when it was made).",
        f"  Its CA, {ca.cert.subject.rfc4514_string()}, expires on {ca.cert.not_valid_after_utc:%Y-%m-%d}.",
        "  Before then, make a new client certificate from the same CA:",
        "    ktpy kit --out-dir NEW_DIR --subject \"...\" --ca " + ("THIS_KIT/ca" if new_ca else "CA_DIR")
        + " --storepass ...",
        "  and upload the new PEM to Salesforce before replacing the keystore in Mule.",
        "",
        "WHAT GOES WHERE",
        "  salesforce-upload.pem",
        "      Salesforce, mutual TLS: Setup > Certificate and Key Management > Upload Mutual",
        "      Authentication Certificate. This is the file to upload: "
        + ("the client certificate, then" if n_inter else "the client certificate alone"),
        (f"      {n_inter} intermediate CA certificate(s) in order, without the root." if n_inter
         else "      (its CA is the root, and the root is left out)."),
        "      Why: Salesforce Help (\"Configure Your API Client to Use Mutual Authentication\") asks for",
        "      the chain in one PEM, client certificate first, then the certificate that signed it, then",
        "      each further intermediate; the root is optional and generally not included.",
        "  client.pem",
        "      Salesforce, JWT bearer flow: the connected app's certificate (Use digital signatures).",
        f"  {stores}",
        "      Mule: copy one into src/main/resources/ of the Mule project. Each holds the key and the",
        f"      whole chain ({len(client.chain)} certificates: port 8443 needs every intermediate) under the",
        f"      alias {alias}.",
    ]
    if StoreType.PKCS12 in types and compat is Compat.JAVA8:
        lines.append("      keystore.p12 uses PBES1 SHA1/3DES and a SHA-1 MAC, which Java 8 before 8u301 reads.")
    lines += [
        "  mule-config.xml",
        f"      Mule: the tls:context{' and the Salesforce JWT connection' if jwt else ''} pointing at "
        f"{mule_file}.",
        f"  {SECURE_FILE}",
        f"      Mule: copy into src/main/resources/ next to the keystore. {mule.STOREPASS_PROPERTY} and",
        f"      {mule.KEYPASS_PROPERTY}, encrypted (AES-256, CBC, random IVs) for mule-config.xml's",
        "      secure-properties:config.",
    ]
    if secure_key_file:
        lines += [
            f"  {secure_key_file}",
            "      The key that decrypts it (mode 0600). Keep it out of the Mule project and out of",
            "      version control: Mule gets it at deploy time (see SECURE PROPERTIES).",
        ]
    lines += [
        "  client.key, client-chain.pem",
        "      The private key (PKCS#8, mode 0600) and the certificate chain in PEM, for other tools.",
    ]
    if new_ca:
        key_state = "NOT encrypted"
        if ca_encrypted:
            key_state = f"encrypted; its password: {ca_password_hint}" if ca_password_hint else "encrypted"
        lines += [
            "  ca/",
            f"      The CA that signed the client certificate: ca.pem, and ca.key ({key_state}).",
            "      Keep ca/ out of the Mule project and out of version control: whoever holds ca.key",
            "      can issue client certificates that chain to this root.",
        ]
    lines += [
        "",
        "MULE SETTINGS",
        f"  alias                 {alias}",
        "      Lowercase on purpose: Java lowercases aliases when it reads a keystore and Mule",
        "      matches the alias exactly.",
        f"  secure properties     {mule.STOREPASS_PROPERTY} = the store password",
        f"                        {mule.KEYPASS_PROPERTY} = the key password",
    ]
    if own_keypass:
        lines += [
            "      The key has its own password (given with --keypass). PKCS12 keystores and the",
            "      Salesforce connector's JWT connection (no key password field) need the key password",
            "      to equal the store password: use this kit's keystores with Mule's TLS context only.",
        ]
    else:
        lines += [
            "      The key password equals the store password (no --keypass given). Keep it that way:",
            "      PKCS12 keystores and the Salesforce connector's JWT connection (it has no key",
            "      password field) need the two equal. Mule still requires keyPassword to be set.",
        ]
    if password_hint:
        lines.append(f"  The store password: {password_hint}.")
    key_from = f"the contents of {secure_key_file}" if secure_key_file else "the key given with --secure-key"
    lines += [
        "",
        "SECURE PROPERTIES",
        f"  mule-config.xml reads {SECURE_FILE} with key=\"${{{mule.SECURE_KEY_PROPERTY}}}\": the key is a runtime",
        f"  property, {key_from}, given when the app is deployed, never packaged with it:",
        f"    standalone runtime:  mule -M-D{mule.SECURE_KEY_PROPERTY}=\"$(cat {secure_key_file or SECURE_KEY_FILE})\"",
        f"    Anypoint Studio:     Run Configurations > Arguments: -M-D{mule.SECURE_KEY_PROPERTY}=...",
        f"    Runtime Manager:     Properties tab: {mule.SECURE_KEY_PROPERTY} = ..., and list",
        f"                         \"{mule.SECURE_KEY_PROPERTY}\" under secureProperties in mule-artifact.json so that",
        "                         it stays hidden.",
        f"  To change a value: ktpy secure-props encrypt --key file:{secure_key_file or SECURE_KEY_FILE} \"NEW VALUE\"",
        "",
        "PRODUCTION ORGS",
        "  Salesforce checks the client chain against its own trusted roots (the list at /cacerts.jsp",
        "  of your My Domain). A chain that ends in a private root CA, like this one, is refused by a",
        "  production org unless Salesforce support has added that root. A private CA is right for",
        "  development, testing and endpoints you control; for production, take the key through a",
        "  CSR (ktpy create-csr) to a CA that Salesforce trusts.",
        "",
        "CHECK BEFORE DEPLOYING",
        f"  keytool -list -v -keystore {mule_file} -storetype {mule_store.value.upper()}",
        f"  ktpy probe MYDOMAIN.my.salesforce.com:8443 --keystore {mule_file} --storepass file:PASSWORD_FILE",
        "",
    ]
    return "\n".join(lines) + "\n"
