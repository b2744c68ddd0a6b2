"""The `ktpy` command: thin click commands over the library.

Each command reads its inputs, calls the library, and hands its outputs to files.write_all.
Library errors become one line `Error: ...` on stderr; tracebacks only with --debug.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import KtpyError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PROBLEMS = 3

EXIT_CODES = """
\b
EXIT CODES
  0  success
  1  error (the message says what failed and why)
  2  usage error (a missing or unknown option, no password source)
"""

SECRET_HELP = "SRC is pass:TEXT, env:VAR, file:PATH, prompt or generate:PATH."
KEY_TYPES = ["rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384"]
STORE_TYPES = ["jks", "pkcs12", "jceks"]


def _debug_enabled() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(os.environ.get("KTPY_DEBUG") == "1" or (root and root.params.get("debug")))


class _Group(click.Group):
    """Turns library errors into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context):
        from .secrets import MissingSecretError

        try:
            return super().invoke(ctx)
        except MissingSecretError as exc:
            if _debug_enabled():
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except KtpyError as exc:
            if _debug_enabled():
                raise
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must still not dump a traceback on users
            if _debug_enabled():
                raise
            click.echo(
                f"Error: unexpected failure ({type(exc).__name__}); rerun with --debug to see where",
                err=True,
            )
            ctx.exit(EXIT_ERROR)


def _note(message: str) -> None:
    click.echo(message, err=True)


def force_option(f):
    return click.option("--force", is_flag=True, help="Replace output files that already exist.")(f)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Run 'ktpy COMMAND --help' for a command's options and examples.")
@click.version_option(__version__, "--version", prog_name="ktpy")
@click.option("--debug", is_flag=True, help="Show tracebacks (also KTPY_DEBUG=1).")
def cli(debug: bool) -> None:
    """Certificates and Java keystores for mutual TLS and the JWT bearer flow
    between a Mule app and Salesforce.

    \b
    EXAMPLES
      ktpy create-ca --dir ca --subject "CN=Dev Root CA,O=Acme" --password prompt
      ktpy issue-client --ca ca --subject "CN=mule-client,O=Acme" --out-dir client
      ktpy export-pem client/mule-client.pem -o salesforce-upload.pem
      ktpy build-keystore --type jks --key client/mule-client.key \\
          --cert client/mule-client-chain.pem --alias mule-client \\
          --storepass env:STOREPASS -o keystore.jks
    """


def _secret(spec, option, *, confirm=False, label=None):
    from . import secrets

    return secrets.resolve(spec, option=option, confirm=confirm, label=label)


def _secret_outputs(*passwords):
    from .files import Output

    return [Output(p.generated_file, (p.value + "\n").encode(), secret=True)
            for p in passwords if p is not None and p.generated_file is not None]


def _load_ca(ca_dir: str, password_spec: str | None, option: str):
    """A CA from its folder: ca.pem, ca.key and, for an intermediate, ca-chain.pem."""
    from . import ca as ca_mod
    from . import certs, files, keys

    folder = Path(ca_dir)
    if not folder.is_dir():
        raise KtpyError(f"CA folder {folder} does not exist")
    cert_list = certs.load_certificates(files.read(folder / "ca.pem", what="CA certificate"),
                                        what=str(folder / "ca.pem"))
    key_data = files.read(folder / "ca.key", what="CA key")
    password = None
    if keys.is_encrypted(key_data):
        password = _secret(password_spec, option, label="CA key password").value
    key = keys.load_private_key(key_data, password, what=f"the CA key {folder / 'ca.key'}")
    chain_path = folder / "ca-chain.pem"
    issuers = []
    if chain_path.exists():
        issuers = certs.load_certificates(files.read(chain_path), what=str(chain_path))[1:]
    return ca_mod.load_ca(cert_list[0], key, issuers, what=f"the CA in {folder}")


# --- create-ca -------------------------------------------------------------------------------

@cli.command("create-ca", epilog=EXIT_CODES)
@click.option("--dir", "ca_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for ca.pem and ca.key (created with mode 0700).")
@click.option("--subject", required=True, help='The CA\'s name, e.g. "CN=Dev Root CA,O=Acme".')
@click.option("--key-type", type=click.Choice(KEY_TYPES), default="rsa3072", show_default=True,
              help="CA key type.")
@click.option("--days", type=click.IntRange(min=1), default=3650, show_default=True,
              help="Validity in days.")
@click.option("--password", "password_spec", metavar="SRC",
              help="Password that encrypts ca.key. " + SECRET_HELP)
@click.option("--no-password", is_flag=True, help="Leave ca.key unencrypted (mode 0600 still).")
@click.option("--parent", type=click.Path(file_okay=False),
              help="Folder of a parent CA: make an intermediate CA signed by it.")
@click.option("--parent-password", metavar="SRC", help="Password of the parent's ca.key.")
@force_option
def create_ca_cmd(ca_dir, subject, key_type, days, password_spec, no_password, parent,
                  parent_password, force):
    """Create a private CA (root, or intermediate with --parent): DIR/ca.pem and DIR/ca.key.

    The key is PKCS#8, encrypted with the password unless --no-password. A private CA is right
    for development, tests and endpoints you control; a production Salesforce org refuses a
    chain ending in a private root unless Salesforce support has added it (use a CSR and a
    public CA there).

    \b
    EXAMPLES
      ktpy create-ca --dir ca --subject "CN=Dev Root CA,O=Acme" --password prompt
      ktpy create-ca --dir ca --subject "CN=Dev Root CA,O=Acme" --password generate:ca/pass.txt
    """
    from . import ca as ca_mod
    from . import files, names

    if no_password and password_spec:
        raise click.UsageError("give --password or --no-password, not both")
    subject_name = names.parse_subject(subject)  # before any prompt: a typo costs nothing
    folder = Path(ca_dir)
    outputs = [files.Output(folder / "ca.pem", b""), files.Output(folder / "ca.key", b"", secret=True)]
    files.check_writable(outputs, force=force)
    parent_ca = _load_ca(parent, parent_password, "--parent-password") if parent else None
    password = None if no_password else _secret(password_spec, "--password", confirm=True,
                                                label="new CA key password")
    new_ca = ca_mod.create_ca(subject_name, key_type=key_type, days=days, parent=parent_ca)
    contents = new_ca.files(password.value if password else None)
    outputs = [files.Output(folder / name, data, secret=name.endswith(".key"))
               for name, data in contents.items()]
    files.write_all(outputs + _secret_outputs(password), force=force)
    kind = "root CA" if parent_ca is None else "intermediate CA"
    _note(f"Created {kind} {new_ca.cert.subject.rfc4514_string()}, "
          f"valid until {new_ca.cert.not_valid_after_utc:%Y-%m-%d}")
    _note(f"  {folder / 'ca.pem'}  certificate (not secret)")
    _note(f"  {folder / 'ca.key'}  private key, {'encrypted' if password else 'NOT encrypted'}, mode 0600")
    if "ca-chain.pem" in contents:
        _note(f"  {folder / 'ca-chain.pem'}  this CA, then its issuers")
    for p in _secret_outputs(password):
        _note(f"  {p.path}  the generated password, mode 0600")


# --- issue-client ----------------------------------------------------------------------------

@cli.command("issue-client", epilog=EXIT_CODES)
@click.option("--ca", "ca_dir", required=True, type=click.Path(file_okay=False),
              help="The CA folder made by create-ca.")
@click.option("--ca-password", metavar="SRC", help="Password of ca.key. " + SECRET_HELP)
@click.option("--subject", required=True, help='The client\'s name, e.g. "CN=mule-client,O=Acme".')
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--name", help="Base name of the files (default: from the CN, e.g. mule-client).")
@click.option("--key-type", type=click.Choice(KEY_TYPES), default="rsa2048", show_default=True,
              help="Client key type (RSA for the JWT bearer flow, which signs with RS256).")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True,
              help="Validity in days (cut to the CA's own end).")
@click.option("--san", multiple=True, metavar="TYPE:VALUE",
              help="Subject alternative name: email:..., dns:..., uri:... or ip:... (repeatable).")
@force_option
def issue_client_cmd(ca_dir, ca_password, subject, out_dir, name, key_type, days, san, force):
    """Issue a client certificate (clientAuth only) signed by the CA.

    Writes OUT/NAME.pem (the certificate), OUT/NAME.key (its private key, PKCS#8, mode 0600)
    and OUT/NAME-chain.pem (the certificate, then each issuer up to the root).

    \b
    EXAMPLES
      ktpy issue-client --ca ca --subject "CN=mule-client,O=Acme" --out-dir client
      ktpy issue-client --ca ca --ca-password env:CA_PASS --subject "CN=sfdc,O=Acme" \\
          --out-dir client --name sfdc --san email:integration@acme.com
    """
    from . import certs, files, keys, names

    subject_name = names.parse_subject(subject)
    sans = [names.parse_san(s) for s in san]
    base = name or names.slug(names.common_name(subject_name))
    folder = Path(out_dir)
    outputs = [files.Output(folder / f"{base}.pem", b""), files.Output(folder / f"{base}.key", b""),
               files.Output(folder / f"{base}-chain.pem", b"")]
    files.check_writable(outputs, force=force)
    issuer = _load_ca(ca_dir, ca_password, "--ca-password")
    leaf = issuer.issue_client(subject_name, key_type=key_type, days=days, sans=sans)
    files.write_all([
        files.Output(folder / f"{base}.pem", certs.to_pem([leaf.cert])),
        files.Output(folder / f"{base}.key", keys.private_key_to_pem(leaf.key), secret=True),
        files.Output(folder / f"{base}-chain.pem", certs.to_pem(leaf.chain)),
    ], force=force)
    _note(f"Issued {leaf.cert.subject.rfc4514_string()} ({keys.describe_key(leaf.key)}), "
          f"signed by {issuer.cert.subject.rfc4514_string()}, "
          f"valid until {leaf.cert.not_valid_after_utc:%Y-%m-%d}")
    if leaf.cert.not_valid_after_utc == issuer.cert.not_valid_after_utc:
        _note("  (cut to the CA's own expiry: a certificate never outlives its CA)")
    _note(f"  {folder / base}.pem        certificate: upload it to Salesforce (Mutual Authentication)")
    _note(f"  {folder / base}.key        private key, mode 0600")
    _note(f"  {folder / base}-chain.pem  certificate and its issuers, for keystores")


# --- export-pem ------------------------------------------------------------------------------

@cli.command("export-pem", epilog=EXIT_CODES)
@click.argument("source", type=click.Path(dir_okay=True))
@click.option("-o", "--out", default="-", show_default=True, help="Output file, or - for stdout.")
@click.option("--with-chain", is_flag=True, help="Add each issuer after the certificate.")
@click.option("--storepass", metavar="SRC", help="Store password when SOURCE is a keystore. " + SECRET_HELP)
@click.option("--alias", help="Which keystore entry (default: the only key entry).")
@force_option
def export_pem_cmd(source, out, with_chain, storepass, alias, force):
    """Export the certificate to upload to Salesforce as PEM: exactly one CERTIFICATE
    block by default (the leaf), the leaf then its issuers with --with-chain. Never a key.

    SOURCE is a PEM or DER certificate or chain, or a JKS, JCEKS or PKCS12 keystore (the type
    is read from the content). Upload the result in Setup > Certificate and Key Management >
    Upload Mutual Authentication Certificate.

    \b
    EXAMPLES
      ktpy export-pem client/mule-client-chain.pem -o salesforce-upload.pem
      ktpy export-pem keystore.jks --storepass env:STOREPASS --alias mule-client -o upload.pem
      ktpy export-pem keystore.p12 --storepass file:pass.txt --with-chain
    """
    from . import certs, files, keystore
    from .issue import Profile

    data = files.read(source, what="source")
    store_type = keystore.detect_type(data)
    if store_type is not None:
        password = _secret(storepass, "--storepass", label="store password")
        store = keystore.load(data, password.value, decrypt_keys=False)
        chain = store.entry(alias).chain
    else:
        found = certs.load_certificates(data, what=source)
        if alias:
            raise click.UsageError("--alias applies to keystores only")
        chain = certs.order_chain(found[0], found[1:])
    pem = certs.to_pem(chain if with_chain else chain[:1])
    if out == "-":
        click.echo(pem.decode("ascii"), nl=False)
    else:
        files.write_all([files.Output(Path(out), pem)], force=force)
        count = len(chain) if with_chain else 1
        _note(f"Wrote {out}: {count} certificate(s), {chain[0].subject.rfc4514_string()}, "
              f"valid until {chain[0].not_valid_after_utc:%Y-%m-%d}")
    for warning in _upload_warnings(chain[0], Profile):
        _note(f"Warning: {warning}")


def _upload_warnings(cert, profile_enum):
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from . import certs

    if certs.is_self_issued(cert):
        yield ("the certificate is self-signed: Salesforce refuses it as a Mutual Authentication "
               "Certificate (it is fine for a connected app's JWT certificate)")
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            yield "the certificate lacks the clientAuth extended key usage that mutual TLS needs"
    except x509.ExtensionNotFound:
        pass


# --- build-keystore --------------------------------------------------------------------------

@cli.command("build-keystore", epilog=EXIT_CODES)
@click.option("--type", "store_type", required=True, type=click.Choice(STORE_TYPES),
              help="Keystore type.")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=True),
              help="Private key (PEM or DER; PKCS#8, PKCS#1 or SEC1).")
@click.option("--key-password", metavar="SRC", help="Password of an encrypted --key. " + SECRET_HELP)
@click.option("--cert", "cert_path", required=True, type=click.Path(dir_okay=True),
              help="The certificate, optionally followed by its chain.")
@click.option("--chain", "chain_paths", multiple=True, type=click.Path(dir_okay=True),
              help="PEM file(s) with issuer certificates (repeatable).")
@click.option("--alias", required=True, help="Entry name; stored in lowercase.")
@click.option("--storepass", metavar="SRC", help="Store password. " + SECRET_HELP)
@click.option("--keypass", metavar="SRC",
              help="Key password (JKS, JCEKS); default: the store password, which the "
                   "Salesforce connector's JWT setup requires.")
@click.option("--compat", type=click.Choice(["java8"]),
              help="PKCS12 readable by Java 8 before 8u301 (PBES1 SHA1/3DES, SHA-1 MAC).")
@click.option("-o", "--out", required=True, type=click.Path(), help="Keystore file to write.")
@force_option
def build_keystore_cmd(store_type, key_path, key_password, cert_path, chain_paths, alias,
                       storepass, keypass, compat, out, force):
    """Package a private key and its certificate chain into a JKS, PKCS12 or JCEKS keystore
    for Mule's TLS context and the Salesforce connector.

    The keystore holds the leaf and every issuer given: Salesforce's port 8443 needs the
    client to send each intermediate. Aliases are stored in lowercase, because Java lowercases
    them when it reads and Mule matches exactly.

    \b
    EXAMPLES
      ktpy build-keystore --type jks --key client/mule-client.key \\
          --cert client/mule-client-chain.pem --alias mule-client \\
          --storepass env:STOREPASS -o keystore.jks
      ktpy build-keystore --type pkcs12 --compat java8 --key c.key --cert c.pem --chain ca.pem \\
          --alias mule-client --storepass file:pass.txt -o keystore.p12
    """
    from . import certs, files, keys, keystore
    from .errors import MismatchError

    files.check_writable([files.Output(Path(out), b"")], force=force)
    key_data = files.read(key_path, what="key")
    key_pw = (_secret(key_password, "--key-password", label="password of the key file").value
              if keys.is_encrypted(key_data) else None)
    key = keys.load_private_key(key_data, key_pw, what=f"the key {key_path}")
    given = certs.load_certificates(files.read(cert_path, what="certificate"), what=cert_path)
    for path in chain_paths:
        given += certs.load_certificates(files.read(path, what="chain file"), what=path)
    leaf = next((c for c in given if keys.same_public_key(c.public_key(), key.public_key())), None)
    if leaf is None:
        raise MismatchError(f"the private key {key_path} does not match the certificate in {cert_path}")
    chain = certs.order_chain(leaf, [c for c in given if c is not leaf])
    lowered = keystore.normalize_alias(alias)
    if lowered != alias:
        _note(f"Notice: alias {alias!r} is stored as {lowered!r} (Java lowercases aliases and "
              "Mule matches them exactly; use the lowercase form in Mule)")
    store_pw = _secret(storepass, "--storepass", confirm=True, label="new store password")
    key_pw_new = _secret(keypass, "--keypass", confirm=True, label="new key password") if keypass else None
    data = keystore.build(store_type, key, chain, alias=lowered, storepass=store_pw.value,
                          keypass=key_pw_new.value if key_pw_new else None, compat=compat)
    files.write_all([files.Output(Path(out), data, secret=True)]
                    + _secret_outputs(store_pw, key_pw_new), force=force)
    names = ", ".join(c.subject.rfc4514_string() for c in chain)
    _note(f"Wrote {out} ({store_type.upper()}{', Java 8 compatible' if compat else ''}, mode 0600): "
          f"alias {lowered!r}, chain of {len(chain)}: {names}")
    _note("  key password: " + ("its own (given by --keypass)" if key_pw_new else "the store password"))
    if len(chain) == 1 and not certs.is_self_issued(leaf):
        _note("Warning: the keystore holds no issuer certificate; if the CA is an intermediate, "
              "add it with --chain (Salesforce needs every intermediate in the handshake)")


def main() -> None:
    cli(prog_name="ktpy")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
