"""Commands for the Mule side and for checking the result: kit, mule-config, sign-jwt, probe."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import KtpyError
from . import inputs, options
from ._wait import hold_lock, wait_option
from .app import EXIT_CODES, ExitCode, cli, echo_lines, exit_codes_help, note

PROBE_EXIT_CODES = exit_codes_help({
    ExitCode.OK: "the server accepted the client certificate",
    ExitCode.ERROR: "error: could not connect, the server did not verify, a bad keystore or password",
    ExitCode.PROBLEMS: "the server rejected the client certificate, did not ask for one, or gave no verdict\n"
                       "(answered nothing that says whether it accepts it)",
})


def _jwt_options(f):
    f = click.option("--audience", metavar="URL",
                     help="With --jwt: https://login.salesforce.com, https://test.salesforce.com or "
                          "the My Domain URL.")(f)
    f = click.option("--principal", metavar="USER", help="With --jwt: the Salesforce username.")(f)
    f = click.option("--consumer-key", metavar="K", help="With --jwt: the connected app's consumer key.")(f)
    return click.option("--jwt", is_flag=True,
                        help="Add the Salesforce connector's JWT connection using the same keystore.")(f)


def _my_domain_option(f):
    return click.option("--my-domain", metavar="HOST",
                        help="With --jwt: the org's My Domain (acme.my.salesforce.com); the token endpoint "
                             "becomes https://HOST:8443/services/oauth2/token, for orgs that enforce mutual "
                             "TLS (the connection presents the tls:context's key).")(f)


def _secure_key_option(f):
    return options.password_option("--secure-key", "Key that encrypts the passwords in secure.yaml (AES: 16, 24 or 32 "
                           "characters); default: a new AES-256 key generated into secure.key.")(f)


def _secure_key(spec):
    """The secure-properties key given with --secure-key (None: the library generates one);
    generate:PATH makes an AES-256 key there."""
    if spec is None:
        return None
    from .. import secure_properties
    from ..passwords import Password

    key = inputs.secret(spec, "--secure-key", confirm=True, label="secure properties key")
    if key.generated_file is not None:
        key = Password(secure_properties.generate_key("AES"), generated_file=key.generated_file)
    secure_properties.key_bytes(key.value, secure_properties.Settings())
    return key


def _jwt_connection(jwt, consumer_key, principal, audience, token_endpoint=None, my_domain=None):
    """The JwtConnection the options describe, None without --jwt; usage errors when incomplete."""
    from ..mule import JwtConnection

    given = {"--consumer-key": consumer_key, "--principal": principal, "--audience": audience}
    if not jwt:
        extra = [name for name, value in given.items() if value] + (["--token-endpoint"] if token_endpoint else [])
        extra += ["--my-domain"] if my_domain else []
        if extra:
            raise click.UsageError(f"{', '.join(extra)} go(es) with --jwt")
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise click.UsageError("--jwt needs --consumer-key, --principal and --audience "
                               f"(missing: {', '.join(missing)})")
    if not audience.startswith("https://"):
        note(f"Warning: the audience {audience!r} is not an https:// URL; Salesforce expects "
             "https://login.salesforce.com, https://test.salesforce.com or the My Domain URL")
    if token_endpoint and my_domain:
        raise click.UsageError("--token-endpoint and --my-domain both set the token endpoint; give one")
    connection = JwtConnection(consumer_key=consumer_key, principal=principal, audience=audience,
                               token_endpoint=token_endpoint, my_domain=my_domain)
    connection.endpoint  # noqa: B018 - a My Domain that is not a host name fails here, before any work
    return connection


def _password_hint(password, spec: str | None, option: str) -> str:
    """Where a password is kept, for README.txt: never the password itself."""
    if password.generated_file is not None:
        return f"generated into {password.generated_file} (mode 0600)"
    if spec and spec.startswith("file:"):
        return f"in {spec[5:]}"
    if spec and spec.startswith("env:"):
        return f"in the environment variable {spec[4:]} when the kit was made"
    return f"the one given with {option}"


# --- kit -------------------------------------------------------------------------------------

@cli.command("kit", epilog=EXIT_CODES)
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Folder for the kit.")
@click.option("--subject", required=True, help='The client\'s name, e.g. "CN=mule-client,O=Acme".')
@options.ca_dir_option("Issue from this CA folder (made by create-ca) instead of creating OUT/ca/.", required=False)
@options.ca_password_option("With --ca: the password of its ca.key. Without: the password for the new CA's key "
                    "(default: generated into OUT/ca/ca-password.txt).")
@click.option("--ca-subject", help="Name of the new CA (default: \"Development CA for\" the client's CN).")
@options.storepass_option("Password of the keystores.")
@options.keypass_option("Key password (JKS, JCEKS only); default: the store password, which PKCS12 and the "
                "Salesforce JWT connection need.")
@options.alias_option("Entry name; stored in lowercase.", default="mule-client", show_default=True)
@click.option("--types", "store_types", metavar="TYPES", default="jks,pkcs12,jceks", show_default=True,
              type=options.StoreTypes(),
              help="Keystore types to write, comma-separated.")
@options.compat_option
@options.key_type_option("rsa2048", "Client key type (RSA for the JWT bearer flow, which signs with RS256).")
@options.days_option("Client certificate validity in days (cut to the CA's own end).", default=365)
@_secure_key_option
@_jwt_options
@_my_domain_option
@options.salesforce_kit_options
@options.allow_expired_option
@options.force_option
@wait_option
def kit_cmd(out_dir, subject, ca_dir, ca_password, ca_subject, storepass, keypass, alias, store_types,
            compat, key_type, days, secure_key, jwt, consumer_key, principal, audience, my_domain, force,
            allow_expired=False, salesforce_app=False, sf_app_name=options.DEFAULT_APP_NAME, sf_contact_email=None):
    """Make everything Mule and Salesforce need in one folder: a CA (or use --ca), the client key
    and certificate, the PEM to upload to Salesforce, a JKS, PKCS12 and JCEKS keystore, the Mule
    XML and a README.txt saying what goes where and when the certificate expires.

    \b
    Writes into OUT:
      ca/ca.pem, ca/ca.key, ca/ca-password.txt   a new root CA (not with --ca)
      client.key, client.pem, client-chain.pem    the client key (0600) and certificate
      salesforce-upload.pem                       to upload to Salesforce: the certificate, then
                                                  each intermediate in order, no root
      keystore.jks, keystore.p12, keystore.jceks  for src/main/resources (0600)
      secure.yaml                                 the passwords, encrypted for Mule's secure properties
      secure.key                                  the key for secure.yaml (0600; not with --secure-key)
      mule-config.xml, README.txt
      salesforce/                                 with --salesforce-app: the SFDX project of the
                                                  External Client App (ktpy salesforce-app)

    All files are written together or none; existing ones only with --force. A private CA is
    right for development and tests; a production org refuses a chain ending in a private root
    unless Salesforce support has added it (see README.txt).

    \b
    EXAMPLES
      ktpy kit --out-dir kit --subject "CN=mule-client,O=Acme" --storepass generate:kit/storepass.txt
      ktpy kit --out-dir kit2 --subject "CN=mule-client,O=Acme" --ca ca --ca-password env:CA_PASS \\
          --storepass env:STOREPASS --types jks --jwt --consumer-key 3MVG9... \\
          --principal integration@acme.com --audience https://login.salesforce.com
    """
    from .. import files, kit, layout, names, passwords
    from ..keys import KeyType

    subject_name = names.parse_subject(subject)  # before any prompt: a typo costs nothing
    if ca_dir and ca_subject:
        raise click.UsageError("--ca-subject names a new CA; it does not go with --ca")
    connection = _jwt_connection(jwt, consumer_key, principal, audience, my_domain=my_domain)
    lowered = inputs.store_alias(alias, "written")
    folder = Path(out_dir)
    if folder.is_dir():  # one kit at a time into an existing folder (files.locked)
        hold_lock(folder)
    generate_ca_password = ca_dir is None and ca_password is None
    planned = ([] if ca_dir else ["ca/ca.pem", "ca/ca.key"]) + (
        [layout.CA_PASSWORD_FILE] if generate_ca_password else [])
    planned += [*layout.CLIENT_FILES, *(layout.STORE_FILES[t] for t in store_types),
                layout.MULE_CONFIG, layout.README, layout.SECURE_FILE]
    planned += [] if secure_key else [layout.SECURE_KEY_FILE]
    if salesforce_app and not KeyType.parse(key_type).is_rsa:
        raise click.UsageError(f"--salesforce-app needs an RSA key (the JWT bearer flow signs with RS256), "
                               f"not {key_type}")
    planned += inputs.salesforce_kit_planned(salesforce_app, sf_app_name, sf_contact_email)
    files.check_writable([files.Output(folder / name, b"") for name in planned], force=force)
    issuer = inputs.load_ca_dir(ca_dir, ca_password, "--ca-password") if ca_dir else None
    store_pw = inputs.secret(storepass, "--storepass", confirm=True, label="new store password")
    key_pw = inputs.secret(keypass, "--keypass", confirm=True, label="new key password") if keypass else None
    secure_pw = _secure_key(secure_key)
    ca_pw = None
    if issuer is None:
        if generate_ca_password:
            # The CA key gets its own secret: the store password travels with the Mule app (secure
            # properties, CI), and whoever has the CA key can issue certificates the org trusts.
            ca_pw = passwords.Password(passwords.new_password(), generated_file=folder / layout.CA_PASSWORD_FILE)
        else:
            ca_pw = inputs.secret(ca_password, "--ca-password", confirm=True, label="new CA key password")
    if not KeyType.parse(key_type).is_rsa and connection is None:
        note(f"Warning: an EC key ({key_type}) cannot sign the Salesforce JWT bearer assertion "
             "(RS256 needs RSA); this kit is for mutual TLS only")
    made = kit.build_kit(kit.KitSpec(
        subject_name, storepass=store_pw.value, keypass=key_pw.value if key_pw else None, ca=issuer,
        ca_password=ca_pw.value if ca_pw else None, ca_subject=ca_subject, alias=lowered,
        store_types=store_types, compat=compat, key_type=key_type, days=days, jwt=connection,
        password_hint=_password_hint(store_pw, storepass, "--storepass"),
        ca_password_hint=(_password_hint(ca_pw, ca_password, "--ca-password") if ca_pw else None),
        secure_key=secure_pw.value if secure_pw else None,
    ))
    inputs.guard_expiry(made.client.cert, allow_expired=allow_expired)  # cut short by an old --ca
    outputs = [files.Output(folder / f.name, f.data, secret=f.secret) for f in made.files]
    if ca_dir:
        inputs.record_issued(ca_dir, [made.client.cert], by="kit")
    else:  # the new CA's ledger starts with the kit's client certificate
        from .. import issue, ledger

        book = ledger.LedgerFile.of(folder / layout.CA_DIR)
        path, first = book.first(made.client.cert, by="kit", now=issue.utcnow())
        outputs.append(files.Output(path, first))
    outputs += inputs.salesforce_kit_outputs(folder, made.client.cert, salesforce_app, sf_app_name, sf_contact_email)
    files.write_all(outputs + inputs.secret_outputs(store_pw, key_pw, ca_pw, secure_pw), force=force)
    _kit_summary(folder, made, store_pw, ca_pw)
    if salesforce_app:
        note(f"  salesforce/                 SFDX project: sf project deploy start --source-dir "
             f"{folder / 'salesforce' / 'force-app'} --target-org ORG (salesforce/README.txt)")


def _kit_summary(folder: Path, made, store_pw, ca_pw) -> None:
    from .. import layout

    leaf = made.client.cert
    note(f"Wrote the kit to {folder}/ for {leaf.subject.rfc4514_string()}, "
         f"valid until {leaf.not_valid_after_utc:%Y-%m-%d}")
    if made.new_ca:
        where = f"; password in {ca_pw.generated_file}" if ca_pw and ca_pw.generated_file else ""
        note(f"  ca/                         new root CA {made.ca.cert.subject.rfc4514_string()} "
             f"(ca.key encrypted, mode 0600{where})")
    else:
        note(f"  issued by                   {made.ca.cert.subject.rfc4514_string()}")
    note("  salesforce-upload.pem       upload in Setup > Certificate and Key Management > "
         "Upload Mutual Authentication Certificate")
    stores = ", ".join(layout.STORE_FILES[t] for t in made.store_types)
    note(f"  {stores}  alias {made.alias!r}, chain of {len(made.client.chain)}, mode 0600: "
         "one goes into src/main/resources")
    note(f"  mule-config.xml             tls:context for {layout.STORE_FILES[made.mule_store]}; "
         "README.txt says what goes where")
    key_given = not any(f.name == layout.SECURE_KEY_FILE for f in made.files)
    key_note = "key as given with --secure-key" if key_given else f"key in {layout.SECURE_KEY_FILE} (mode 0600)"
    note(f"  {layout.SECURE_FILE}                 the passwords encrypted for Mule's secure properties; {key_note}, "
         f"given to Mule at deploy time as -M-Dsecure.key=...")
    if store_pw.generated_file is not None:
        note(f"  {store_pw.generated_file}  the generated store password, mode 0600")


# --- mule-config -----------------------------------------------------------------------------

@cli.command("mule-config", epilog=EXIT_CODES)
@click.option("--keystore", "store_path", required=True, type=click.Path(dir_okay=False),
              help="The keystore's path; Mule's path is the part after src/main/resources/, or the file name.")
@click.option("--type", "store_type", required=True, type=click.Choice(options.STORE_TYPES), help="Keystore type.")
@options.alias_option("The key entry's alias (written in lowercase).", required=True)
@_jwt_options
@click.option("--token-endpoint", metavar="URL",
              help="With --jwt: the token URL (default: the audience + /services/oauth2/token).")
@_my_domain_option
@click.option("--secure-properties", "secure_path", type=click.Path(dir_okay=False),
              help="Also write this .yaml with keystore.password and keystore.keyPassword encrypted for "
                   "Mule's secure properties, and a secure-properties:config reading it.")
@options.storepass_option("With --secure-properties: the store password.")
@options.keypass_option("With --secure-properties: the key password (default: the store password).")
@_secure_key_option
@click.option("-o", "--out", default="-", show_default=True, type=click.Path(), help="Output file, or - for stdout.")
@options.force_option
def mule_config_cmd(store_path, store_type, alias, jwt, consumer_key, principal, audience,
                    token_endpoint, my_domain, secure_path, storepass, keypass, secure_key, out, force):
    """Print the Mule 4 XML for a keystore: a tls:context with its tls:key-store and, with --jwt,
    the Salesforce connector's JWT connection (salesforce:sfdc-config) using the same store.

    Passwords are never written: keyPassword, password and storePassword are ${secure::...}
    placeholders (keystore.keyPassword, keystore.password) for Mule's secure properties. With
    --secure-properties FILE, ktpy writes FILE with those two encrypted (AES-256, CBC, random
    IVs), the key into secure.key (mode 0600) unless --secure-key is given, and a
    secure-properties:config whose key is the runtime property ${secure.key}.

    \b
    EXAMPLES
      ktpy mule-config --keystore src/main/resources/keystore.jks --type jks --alias mule-client
      ktpy mule-config --keystore keystore.p12 --type pkcs12 --alias mule-client --jwt \\
          --consumer-key 3MVG9... --principal integration@acme.com \\
          --audience https://login.salesforce.com -o src/main/mule/salesforce-config.xml
      ktpy mule-config --keystore keystore.jks --type jks --alias mule-client \\
          --secure-properties src/main/resources/secure.yaml --storepass file:storepass.txt \\
          --secure-key generate:secure.key -o src/main/mule/tls-config.xml
    """
    from .. import files, mule, opener

    connection = _jwt_connection(jwt, consumer_key, principal, audience, token_endpoint, my_domain)
    if not secure_path and (storepass or keypass or secure_key):
        raise click.UsageError("--storepass, --keypass and --secure-key go with --secure-properties")
    path = Path(store_path)
    source = opener.read_source(path, what="keystore") if path.is_file() else None
    if source is not None:
        detected = source.type
        if detected is not None and detected.value != store_type:
            raise KtpyError(f"{store_path} is a {detected.value.upper()} keystore, not {store_type.upper()}; "
                            f"pass --type {detected.value}")
    if connection is not None and (warning := mule.jwt_store_warning(store_type)):
        note(f"Warning: {warning}")
    secure_outputs, secure_config = _secure_properties(secure_path, storepass, keypass, secure_key, force,
                                                       source=source, alias=alias)
    xml = mule.render(store_type=store_type, path=store_path, alias=inputs.store_alias(alias, "written"),
                      jwt=connection, secure_config=secure_config)
    if out == "-":
        files.write_all(secure_outputs, force=force)
        click.echo(xml, nl=False)
    else:
        files.write_all([files.Output(Path(out), xml.encode("utf-8"))] + secure_outputs, force=force)
        note(f"Wrote {out}")
    for output in secure_outputs:
        note(f"Wrote {output.path}" + (" (mode 0600)" if output.secret else ""))
    if secure_outputs:
        note("Give Mule the key at deploy time as the runtime property secure.key (-M-Dsecure.key=...)")


def _secure_properties(secure_path, storepass, keypass, secure_key, force, *, source=None, alias=None):
    """([secure.yaml, secure.key] outputs, the SecureConfig), or ([], None) without a path. When
    the keystore exists, the passwords must open it and its key: never encrypt a wrong password."""
    if not secure_path:
        return [], None
    from .. import files, keystore, kit, layout, opener

    if not secure_path.lower().endswith((".yaml", ".yml")):
        raise click.UsageError("--secure-properties writes YAML: name a .yaml file")
    path = Path(secure_path)
    key_path = Path(layout.SECURE_KEY_FILE)
    planned = [files.Output(path, b"")] + ([] if secure_key else [files.Output(key_path, b"")])
    files.check_writable(planned, force=force)
    key = _secure_key(secure_key)
    store_pw = inputs.secret(storepass, "--storepass", label="store password")
    key_pw = inputs.secret(keypass, "--keypass", label="key password") if keypass else store_pw
    if source is not None and source.type is not None:
        opener.open_store(source, lambda: store_pw.value, keypass=lambda: key_pw.value,
                          alias=keystore.normalize_alias(alias))
    made, config = kit.secure_properties_files(store_pw.value, key_pw.value, key.value if key else None,
                                               name=secure_path, key_name=str(key_path))
    outputs = [files.Output(Path(f.name), f.data, secret=f.secret) for f in made]
    return outputs + inputs.secret_outputs(key), config


# --- sign-jwt --------------------------------------------------------------------------------

def _exp_seconds_option(ctx, param, value):
    from ..jwt_assertion import check_exp_seconds

    try:
        return check_exp_seconds(value)
    except KtpyError as exc:
        raise click.BadParameter(str(exc)) from None


def _open_key_entry(store_path, storepass, keypass, alias, no_storepass=False):
    """The key entry of a keystore file, its key decrypted."""
    store, _ = inputs.open_keystore(store_path, storepass, keypass, alias=alias, no_storepass=no_storepass)
    if alias is None and store.entries and not store.key_entries:
        known = ", ".join(e.alias for e in store.entries)
        raise KtpyError(f"{store_path} holds no key entry, only trusted certificates ({known})")
    entry = store.entry(alias)
    if entry.is_key_entry and entry.key is None and no_storepass and keypass is None:
        raise KtpyError(f"the key of entry {entry.alias!r} in {store_path} is sealed with a password: "
                        "with --no-storepass, give it with --keypass")
    if not entry.is_key_entry or entry.key is None:
        raise KtpyError(f"entry {entry.alias!r} in {store_path} is a trusted certificate, not a key entry")
    entry.chain_for("which Salesforce needs beside the key (for the JWT bearer flow and for mutual TLS)")
    return entry


@cli.command("sign-jwt", epilog=EXIT_CODES)
@click.option("--keystore", "store_path", required=True, type=click.Path(dir_okay=False),
              help="JKS, JCEKS or PKCS12 keystore with the RSA key.")
@options.storepass_option()
@options.no_storepass_option
@options.keypass_option()
@options.alias_option("The key entry to sign with.", required=True)
@click.option("--iss", required=True, metavar="CONSUMER_KEY", help="The connected app's consumer key.")
@click.option("--sub", required=True, metavar="USERNAME", help="The Salesforce username.")
@click.option("--aud", required=True, metavar="URL",
              help="https://login.salesforce.com, https://test.salesforce.com or the My Domain URL.")
@click.option("--exp-seconds", type=int, default=180, show_default=True, callback=_exp_seconds_option,
              help="exp this many seconds ahead: 1 to 180 (Salesforce rejects more than 3 minutes).")
def sign_jwt_cmd(store_path, storepass, keypass, alias, iss, sub, aud, exp_seconds, no_storepass=False):
    """Print a JWT bearer assertion for Salesforce's OAuth 2.0 JWT bearer flow, signed RS256 with
    the keystore's key: header {"alg":"RS256"}, claims iss, sub, aud and exp. Only the JWT goes to
    stdout, so it can be used directly:

    \b
      curl https://login.salesforce.com/services/oauth2/token \\
          -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer -d assertion="$JWT"

    \b
    EXAMPLES
      JWT=$(ktpy sign-jwt --keystore keystore.jks --storepass env:STOREPASS --alias mule-client \\
          --iss 3MVG9... --sub integration@acme.com --aud https://login.salesforce.com)
      ktpy sign-jwt --keystore keystore.p12 --storepass file:pass.txt --alias mule-client \\
          --iss 3MVG9... --sub integration@acme.com --aud https://test.salesforce.com --exp-seconds 60
    """
    from ..jwt_assertion import sign_assertion

    entry = _open_key_entry(store_path, storepass, keypass, alias, no_storepass)
    if not aud.startswith("https://"):
        note(f"Warning: the audience {aud!r} is not an https:// URL; Salesforce expects "
             "https://login.salesforce.com, https://test.salesforce.com or the My Domain URL")
    token = sign_assertion(entry.key, issuer=iss, subject=sub, audience=aud, exp_seconds=exp_seconds,
                           what=f"the key of entry {entry.alias!r}", certificate=entry.chain[0])
    click.echo(token)


# --- probe -----------------------------------------------------------------------------------

@cli.command("probe", epilog=PROBE_EXIT_CODES)
@click.argument("target", metavar="HOST:PORT")
@click.option("--keystore", "store_path", required=True, type=click.Path(dir_okay=False),
              help="JKS, JCEKS or PKCS12 keystore with the client key and chain.")
@options.storepass_option()
@options.no_storepass_option
@options.keypass_option()
@click.option("--ca", "ca_path", type=click.Path(dir_okay=False),
              help="PEM with the CA(s) that the server's certificate must chain to "
                   "(default: the system trust store).")
@options.alias_option("Which key entry (default: the only key entry).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds to wait for the connection and for the server's verdict.")
@click.option("--truststore", "truststore_path", type=click.Path(dir_okay=False),
              help="Judge the server as Java would with this truststore (Mule's tls:trust-store) instead of --ca.")
@click.option("--truststore-type", type=click.Choice(["jks", "pkcs12", "jceks"]),
              help="Refuse a truststore of another type (default: read from the content).")
@options.password_option("--truststore-pass", "Truststore password.")
def probe_cmd(target, store_path, storepass, keypass, ca_path, alias, timeout, no_storepass=False,
              truststore_path=None, truststore_type=None, truststore_pass=None):
    """Test mutual TLS before deploying: connect to HOST:PORT presenting the keystore's key and
    chain (from memory), verify the server, and report the protocol, the cipher, the server's
    chain, the CA names the server asked for, the chain sent, and whether the server accepted
    the client certificate. For Salesforce, HOST:PORT is your My Domain on port 8443, which asks
    for a client certificate with no CA names, so the keystore must hold every intermediate.

    After the handshake the probe sends GET / and judges the answer: a TLS alert, or an HTTP
    answer refusing the certificate (nginx's 400 "The SSL certificate error", 495, 496) is
    REJECTED; any other HTTP answer is ACCEPTED; no answer is NO VERDICT, never ACCEPTED. When
    the server names CAs and none issued the chain, the report says that Java (and so Mule)
    would send no certificate at all.

    With --truststore, the server is judged as Java's default trust manager would with that
    truststore (as verify-trust does), and the probe goes on to test the client certificate
    either way; exit 3 when Java would not trust the server.

    \b
    EXAMPLES
      ktpy probe MYDOMAIN.my.salesforce.com:8443 --keystore keystore.jks --storepass env:STOREPASS
      ktpy probe localhost:9443 --keystore kit/keystore.p12 --storepass file:kit/storepass.txt \\
          --ca server-ca.pem --timeout 5
      ktpy probe MYDOMAIN.my.salesforce.com:8443 --keystore keystore.jks --storepass env:STOREPASS \\
          --truststore truststore.jks --truststore-pass env:TSPASS
    """
    from .. import probe

    host, port = probe.parse_target(target)
    if truststore_path and ca_path:
        raise click.UsageError("give --ca or --truststore, not both")
    if (truststore_type or truststore_pass) and not truststore_path:
        raise click.UsageError("--truststore-type and --truststore-pass go with --truststore")
    trust = inputs.read_certificates(ca_path, what="CA file") if ca_path else None
    entry = _open_key_entry(store_path, storepass, keypass, alias, no_storepass)
    anchors = None
    if truststore_path:
        anchors = inputs.open_truststore(truststore_path, truststore_pass, truststore_type, False,
                                  option="--truststore-pass")
    trusted_by = ca_path or "the system trust store"
    result = probe.probe(host, port, key=entry.key, chain=entry.chain, trust=trust,
                         trust_label=trusted_by, timeout=timeout, verify_server=anchors is None)
    lines = probe.report_lines(result, trusted_by=trusted_by)
    trusted = True
    if anchors is not None:
        import datetime as dt

        from .. import trust as trust_mod

        decision = trust_mod.java_trusts(result.server_chain, anchors, host=host, sni=result.sni,
                                         now=dt.datetime.now(dt.timezone.utc), bundle=trust_mod.system_bundle())
        trusted = decision.trusted
        lines[-1:-1] = ["  " + line for line in trust_mod.decision_lines(
            decision, truststore=truststore_path, server=probe._where(host, port))]
    echo_lines(lines)
    if not result.accepted or not result.asked_for_certificate or not trusted:
        click.get_current_context().exit(ExitCode.PROBLEMS)
