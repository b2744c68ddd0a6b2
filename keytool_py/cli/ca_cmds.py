"""Commands that make keys and certificates: create-ca, issue-client."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from . import inputs, options
from .app import EXIT_CODES, cli, note

# --- create-ca -------------------------------------------------------------------------------

@cli.command("create-ca", epilog=EXIT_CODES)
@click.option("--dir", "ca_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for ca.pem and ca.key (created with mode 0700).")
@click.option("--subject", required=True, help='The CA\'s name, e.g. "CN=Dev Root CA,O=Acme".')
@options.key_type_option("rsa3072", "CA key type.")
@options.days_option("Validity in days.", default=3650)
@options.password_option("--password", "Password that encrypts ca.key.", dest="password_spec")
@click.option("--no-password", is_flag=True, help="Leave ca.key unencrypted (mode 0600 still).")
@click.option("--parent", type=click.Path(file_okay=False),
              help="Folder of a parent CA: make an intermediate CA signed by it.")
@options.password_option("--parent-password", "Password of the parent's ca.key.")
@click.option("--pkcs11", "pkcs11_uri", metavar="URI",
              help='Make the key inside a PKCS#11 token instead of ca.key, e.g. "pkcs11:token=ca;object=root" '
                   "(RFC 7512; see docs/hsm.md).")
@click.option("--pkcs11-module", metavar="PATH", type=click.Path(dir_okay=False),
              help="With --pkcs11: the token's PKCS#11 library (default: module-path in the URI, "
                   "else $KTPY_PKCS11_MODULE).")
@options.pin_option("With --pkcs11 (or a --parent in a token): the token's PIN.")
@click.option("--existing-key", is_flag=True, help="With --pkcs11: use the key the URI names, already in the token.")
@options.force_option
def create_ca_cmd(ca_dir, subject, key_type, days, password_spec, no_password, parent,
                  parent_password, pkcs11_uri, pkcs11_module, existing_key, force):
    """Create a private CA (root, or intermediate with --parent): DIR/ca.pem and DIR/ca.key.

    The key is PKCS#8, encrypted with the password unless --no-password. A private CA is right
    for development, tests and endpoints you control; a production Salesforce org refuses a
    chain ending in a private root unless Salesforce support has added it (use a CSR and a
    public CA there).

    With --pkcs11 URI the key is made in a PKCS#11 token (an HSM; never extractable, never on
    disk) and DIR/ca.pkcs11 names it instead of ca.key; every command that takes --ca then signs
    through the token, with the PIN from --pin.

    \b
    EXAMPLES
      ktpy create-ca --dir ca --subject "CN=Dev Root CA,O=Acme" --password prompt
      ktpy create-ca --dir ca --subject "CN=Dev Root CA,O=Acme" --password generate:ca/pass.txt
      ktpy create-ca --dir ca --subject "CN=Root CA,O=Acme" --pkcs11 "pkcs11:token=ca;object=root" \\
          --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pin env:PIN
    """
    from .. import ca as ca_mod
    from .. import files, names

    if no_password and password_spec:
        raise click.UsageError("give --password or --no-password, not both")
    if pkcs11_uri is None and (pkcs11_module or existing_key):
        raise click.UsageError("--pkcs11-module and --existing-key go with --pkcs11 URI")
    if pkcs11_uri is not None and (no_password or password_spec):
        raise click.UsageError("--password and --no-password are for ca.key; with --pkcs11 the token's PIN "
                               "protects the key (--pin)")
    subject_name = names.parse_subject(subject)  # before any prompt: a typo costs nothing
    folder = Path(ca_dir)
    key_name = ca_mod.KEY_FILE if pkcs11_uri is None else ca_mod.TOKEN_FILE
    outputs = [files.Output(folder / "ca.pem", b""), files.Output(folder / key_name, b"", secret=True)]
    files.check_writable(outputs, force=force)
    if pkcs11_uri is not None:
        from .hsm_cmds import create_ca_in_token

        create_ca_in_token(folder, subject_name, pkcs11_uri, pkcs11_module, existing_key, key_type, days,
                           parent, parent_password, force)
        return
    parent_ca = inputs.load_ca_dir(parent, parent_password, "--parent-password") if parent else None
    password = None if no_password else inputs.secret(password_spec, "--password", confirm=True,
                                                label="new CA key password")
    new_ca = ca_mod.create_ca(subject_name, key_type=key_type, days=days, parent=parent_ca)
    if parent_ca is not None:  # the parent's ledger records the intermediate it signed
        inputs.record_issued(parent, [new_ca.cert], by="create-ca --parent")
    contents = new_ca.files(password.value if password else None)
    outputs = [files.Output(folder / name, data, secret=name.endswith(".key"))
               for name, data in contents.items()]
    files.write_all(outputs + inputs.secret_outputs(password), force=force)
    kind = "root CA" if parent_ca is None else "intermediate CA"
    note(f"Created {kind} {new_ca.cert.subject.rfc4514_string()}, "
          f"valid until {new_ca.cert.not_valid_after_utc:%Y-%m-%d}")
    note(f"  {folder / 'ca.pem'}  certificate (not secret)")
    note(f"  {folder / 'ca.key'}  private key, {'encrypted' if password else 'NOT encrypted'}, mode 0600")
    if "ca-chain.pem" in contents:
        note(f"  {folder / 'ca-chain.pem'}  this CA, then its issuers")
    for p in inputs.secret_outputs(password):
        note(f"  {p.path}  the generated password, mode 0600")


# --- issue-client ----------------------------------------------------------------------------

@cli.command("issue-client", epilog=EXIT_CODES)
@options.ca_dir_option("The CA folder made by create-ca.")
@options.ca_password_option()
@click.option("--subject", help='The client\'s name, e.g. "CN=mule-client,O=Acme" (not with --batch).')
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--name", help="Base name of the files (default: from the CN, e.g. mule-client).")
@options.key_type_option("rsa2048", "Client key type (RSA for the JWT bearer flow, which signs with RS256).")
@options.days_option("Validity in days (cut to the CA's own end).", default=365)
@options.san_option("Subject alternative name: email:..., dns:..., uri:... or ip:... (repeatable).")
@click.option("--batch", "batch_file", type=click.Path(dir_okay=False),
              help="CSV file with one client per row, under the header subject,name,sans,alias.")
@click.option("--types", "store_types", metavar="TYPES", type=options.StoreTypes(),
              help="With --batch: keystore types per client, comma-separated: jks, pkcs12, jceks.  [default: jks]")
@options.storepass_option("With --batch: the password of every keystore (and their keys).")
@click.option("--generate-passwords", is_flag=True,
              help="With --batch, instead of --storepass: a new random password per client, written to "
                   "OUT/NAME-storepass.txt (mode 0600).")
@options.force_option
def issue_client_cmd(ca_dir, ca_password, subject, out_dir, name, key_type, days, san, batch_file,
                     store_types, storepass, generate_passwords, force):
    """Issue a client certificate (clientAuth only) signed by the CA, or one per row of a CSV.

    Writes OUT/NAME.pem (the certificate), OUT/NAME.key (its private key, PKCS#8, mode 0600)
    and OUT/NAME-chain.pem (the certificate, then each issuer up to the root).

    With --batch FILE.csv, does that for each row, and also writes the keystores of --types
    (OUT/NAME.jks, NAME.p12, NAME.jceks; key password = store password). The header row is
    subject,name,sans,alias; only subject is needed (quote it: it holds commas). name defaults to
    the CN, alias to the name, sans takes several TYPE:VALUE separated by ';' or spaces. Clients
    are made on every core. Each row's files are written together or not at all; a row whose
    files all exist is skipped, so a stopped or partly failed batch is finished by running the
    same command again (it also removes what a killed run left of an unfinished row, and only
    that). A row whose files all exist is skipped even with --force, which replaces only the files
    in the way of a row not yet done. A bad row fails alone; the exit code is then 1.

    \b
    EXAMPLES
      ktpy issue-client --ca ca --subject "CN=mule-client,O=Acme" --out-dir client
      ktpy issue-client --ca ca --ca-password env:CA_PASS --subject "CN=sfdc,O=Acme" \\
          --out-dir client --name sfdc --san email:integration@acme.com
      ktpy issue-client --ca ca --ca-password env:CA_PASS --batch clients.csv \\
          --types jks,pkcs12 --storepass env:STOREPASS --out-dir clients

    \b
    clients.csv:
      subject,name,sans,alias
      "CN=orders-api,O=Acme",orders-api,email:orders@acme.com,orders
      "CN=billing,O=Acme",,dns:billing.acme.com;email:billing@acme.com,
    """
    if batch_file is not None:
        if subject or name or san:
            raise click.UsageError("--batch takes the subjects, names and SANs from the file; "
                                   "leave out --subject, --name and --san")
        _issue_batch(ca_dir, ca_password, batch_file, out_dir, key_type, days, store_types,
                     storepass, generate_passwords, force)
        return
    if subject is None:
        raise click.UsageError("give --subject (one client) or --batch FILE.csv (one per row)")
    given = [o for o, v in (("--types", store_types), ("--storepass", storepass),
                            ("--generate-passwords", generate_passwords)) if v]
    if given:
        raise click.UsageError(f"{', '.join(given)} go(es) with --batch; for one client, make keystores "
                               "with build-keystore")
    from .. import batch, certs, files, keys, names

    subject_name = names.parse_subject(subject)
    sans = [names.parse_san(s) for s in san]
    base = batch.check_name(name or names.slug(names.common_name(subject_name)))  # as batch names are
    folder = Path(out_dir)
    outputs = [files.Output(folder / f"{base}.pem", b""), files.Output(folder / f"{base}.key", b""),
               files.Output(folder / f"{base}-chain.pem", b"")]
    files.check_writable(outputs, force=force)
    issuer = inputs.load_ca_dir(ca_dir, ca_password, "--ca-password")
    leaf = issuer.issue_client(subject_name, key_type=key_type, days=days, sans=sans)
    inputs.record_issued(ca_dir, [leaf.cert], by="issue-client")
    files.write_all([
        files.Output(folder / f"{base}.pem", certs.to_pem([leaf.cert])),
        files.Output(folder / f"{base}.key", keys.private_key_to_pem(leaf.key), secret=True),
        files.Output(folder / f"{base}-chain.pem", certs.to_pem(leaf.chain)),
    ], force=force)
    note(f"Issued {leaf.cert.subject.rfc4514_string()} ({keys.describe_key(leaf.key)}), "
          f"signed by {issuer.cert.subject.rfc4514_string()}, "
          f"valid until {leaf.cert.not_valid_after_utc:%Y-%m-%d}")
    if leaf.cert.not_valid_after_utc == issuer.cert.not_valid_after_utc:
        note("  (cut to the CA's own expiry: a certificate never outlives its CA)")
    note(f"  {folder / base}.pem        certificate: upload it to Salesforce (Mutual Authentication)")
    note(f"  {folder / base}.key        private key, mode 0600")
    note(f"  {folder / base}-chain.pem  certificate and its issuers, for keystores")


def _stderr_is_terminal() -> bool:
    import sys

    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _issue_batch(ca_dir, ca_password, batch_file, out_dir, key_type, days, store_types, storepass,
                 generate_passwords, force):
    """issue-client --batch: read and check every row, skip the rows already done, issue the rest
    on every core, write each row with one write_all, and report the failed rows at the end
    (batch.py plans, makes and counts; this reads, writes and says)."""
    from .. import batch, keystore
    from ..errors import KtpyError

    if generate_passwords and storepass:
        raise click.UsageError("give --storepass or --generate-passwords, not both")
    if not generate_passwords and not storepass:
        raise click.UsageError("--batch needs --storepass SRC (one password for every keystore) "
                               "or --generate-passwords (one per client)")
    store_types = store_types or (keystore.StoreType.JKS,)
    rows = _batch_rows(batch_file)
    folder = Path(out_dir)
    suffixes = batch.file_suffixes(store_types, generate_passwords)
    lowered = [str(row.line) for row in rows if row.alias_lowered]
    if lowered:
        note(f"Notice: the aliases on line {', '.join(lowered)} are stored in lowercase {inputs.LOWERCASE_WHY}")
    tally, issuer = batch.run(
        rows, folder, store_types=store_types, generate_passwords=generate_passwords, key_type=key_type,
        days=days, force=force, ca_dir=ca_dir, load_ca=lambda: inputs.load_ca_dir(ca_dir, ca_password, "--ca-password"),
        storepass=lambda: _batch_storepass(storepass, store_types) if storepass else None, notify=note,
        progress=_progress)
    per_client = ", ".join(f"NAME{suffix}" for suffix, _ in suffixes)
    if tally.issued:
        note(f"Issued {tally.issued} client certificate(s) ({key_type}) signed by "
             f"{issuer.cert.subject.rfc4514_string()}, valid until {tally.expiry:%Y-%m-%d}, into {folder}/: "
             f"{per_client} for each")
        note("  keystores: key password = store password; " + (
            f"each client's in NAME{batch.PASSWORD_FILE} (mode 0600)" if generate_passwords
            else "the one given by --storepass"))
    if tally.skipped:
        note(f"Skipped {tally.skipped} row(s) already done (all their files exist in {folder}/)")
    for line in tally.errors():
        note(f"Error: {line}")
    if (verdict := tally.verdict()) is not None:
        raise KtpyError(verdict)
    if not tally.issued:
        note("Nothing to do: every row is already done")


def _batch_rows(batch_file):
    """The rows of a batch CSV file, at least one."""
    from .. import batch, files
    from ..errors import KtpyError

    text = files.read(batch_file, what="batch file")
    try:
        rows = batch.parse_csv(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise KtpyError(f"batch file {batch_file} is not UTF-8 text") from None
    if not rows:
        raise KtpyError(f"batch file {batch_file} holds no clients, only its header")
    return rows


def _batch_storepass(storepass, store_types) -> str:
    """--storepass for every keystore of a batch: refused once, before any key is made; a
    generated one is written first (the keystores written after it need it kept)."""
    from .. import files, keystore

    store_pw = inputs.secret(storepass, "--storepass", confirm=True, label="new store password")
    for store_type in store_types:
        keystore.check_password(store_pw.value, what="store password", store_type=store_type)
    if store_pw.generated_file is not None:
        files.write_all(inputs.secret_outputs(store_pw))
    return store_pw.value


@contextlib.contextmanager
def _progress(length: int):
    """A progress bar on stderr when it is a terminal (and there is work): yields advance()."""
    if not length or not _stderr_is_terminal():
        yield lambda: None
        return
    with click.progressbar(length=length, label="Issuing", file=sys.stderr) as bar:
        yield lambda: bar.update(1)


# --- create-csr ------------------------------------------------------------------------------

@cli.command("create-csr", epilog=EXIT_CODES)
@click.option("--subject", help='The name to request, e.g. "CN=mule-client,O=Acme,C=US" '
                                "(with --keystore, default: the entry's certificate's subject).")
@click.option("--key-out", type=click.Path(dir_okay=False),
              help="Where to write the new private key (PKCS#8, mode 0600).")
@options.key_password_option("Encrypt the new key (or open --key) with this password.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the CSR (PEM).")
@options.key_type_option("rsa2048", "Key type (RSA for the JWT bearer flow).")
@options.san_option("Subject alternative name to request: email:, dns:, uri: or ip: (repeatable).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False),
              help="Renewal: a CSR for this existing key instead of a new one.")
@click.option("--keystore", "store_path", type=click.Path(dir_okay=False),
              help="Renewal: a CSR for the key of entry --alias in this keystore (keytool -certreq).")
@options.alias_option("The key entry in --keystore.")
@options.storepass_option("Password of --keystore.")
@options.keypass_option("Key password in --keystore (default: the store password).")
@options.force_option
def create_csr_cmd(subject, key_out, key_password, out, key_type, san, key_path, store_path, alias,
                   storepass, keypass, force):
    """Create a new key and a certificate signing request for it, to send to a CA (a public CA
    that Salesforce trusts, for a production org). Import what the CA returns with
    build-keystore --key KEY --cert SIGNED.pem --chain CA-CHAIN.pem.

    Renewal: --key EXISTING.key or --keystore STORE --alias A makes the CSR for a key that
    exists (from a keystore: with the certificate's subject and alternative names unless
    given); put the CA's reply back with `ktpy import STORE --reply SIGNED.pem --alias A`.

    \b
    EXAMPLES
      ktpy create-csr --subject "CN=mule-client,O=Acme,C=US" --key-out client.key --out client.csr
      ktpy create-csr --subject "CN=mule-client,O=Acme" --key-type ec-p256 \\
          --san email:integration@acme.com --key-out c.key --out c.csr
      ktpy create-csr --keystore keystore.jks --alias mule-client --storepass env:STOREPASS --out renew.csr
    """
    from .. import csr as csr_mod
    from .. import files, keys, names

    if key_path and store_path:
        raise click.UsageError("give --key or --keystore, not both")
    existing = bool(key_path or store_path)
    if existing and key_out:
        raise click.UsageError("--key-out is for a new key; with --key or --keystore the key exists already")
    if not existing and not key_out:
        raise click.UsageError("Missing option '--key-out' (or --key/--keystore for a key that exists).")
    if (alias or storepass or keypass) and not store_path:
        raise click.UsageError("--alias, --storepass and --keypass go with --keystore")
    if not subject and not store_path:
        raise click.UsageError("Missing option '--subject'.")
    outputs = [files.Output(Path(out), b"")] + ([] if existing else [files.Output(Path(key_out), b"")])
    files.check_writable(outputs, force=force)
    if existing:
        key, cert = inputs.existing_key(key_path, key_password, store_path, alias, storepass, keypass)
        subject_name = names.parse_subject(subject) if subject else cert.subject
        sans = [names.parse_san(s) for s in san] if san or cert is None else csr_mod.certificate_sans(cert)
        request = csr_mod.create_csr(subject_name, key, sans)
        from cryptography.hazmat.primitives import serialization

        files.write_all([files.Output(Path(out), request.public_bytes(serialization.Encoding.PEM))], force=force)
        note(f"Wrote {out} (CSR for {subject_name.rfc4514_string()}, the existing {keys.describe_key(key)} "
             f"of {key_path or f'entry {alias!r} in {store_path}'})")
        return
    subject_name = names.parse_subject(subject)
    sans = [names.parse_san(s) for s in san]
    key_pw = (inputs.secret(key_password, "--key-password", confirm=True, label="new key password")
              if key_password else None)
    key = keys.generate_key(key_type)
    request = csr_mod.create_csr(subject_name, key, sans)
    from cryptography.hazmat.primitives import serialization

    files.write_all([
        files.Output(Path(key_out), keys.private_key_to_pem(key, key_pw.value if key_pw else None), secret=True),
        files.Output(Path(out), request.public_bytes(serialization.Encoding.PEM)),
    ] + inputs.secret_outputs(key_pw), force=force)
    note(f"Wrote {out} (CSR for {subject_name.rfc4514_string()}, {keys.describe_key(key)}) "
         f"and {key_out} (private key, {'encrypted, ' if key_pw else ''}mode 0600)")


# --- sign-csr --------------------------------------------------------------------------------

@cli.command("sign-csr", epilog=EXIT_CODES)
@click.argument("csr_path", metavar="CSR", type=click.Path(dir_okay=True))
@options.ca_dir_option()
@options.ca_password_option()
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the certificate.")
@click.option("--profile", type=click.Choice(["client", "server"]), default="client", show_default=True,
              help="Which extensions the CA gives: clientAuth or serverAuth only.")
@options.days_option("Validity in days (cut to the CA's own end).", default=365)
@click.option("--with-chain", is_flag=True, help="Write the certificate followed by the CA chain.")
@options.force_option
def sign_csr_cmd(csr_path, ca_dir, ca_password, out, profile, days, with_chain, force):
    """Sign a certificate signing request with the CA. The CA decides the extensions by profile;
    of the request it keeps only the subject, the key and the alternative names.

    \b
    EXAMPLES
      ktpy sign-csr client.csr --ca ca --ca-password env:CA_PASS --out client.pem
      ktpy sign-csr server.csr --ca ca --profile server --days 90 --out server.pem --with-chain
    """
    from .. import certs, files
    from ..csr import load_csr

    request = load_csr(files.read(csr_path, what="CSR"), what=csr_path)
    files.check_writable([files.Output(Path(out), b"")], force=force)
    issuer = inputs.load_ca_dir(ca_dir, ca_password, "--ca-password")
    leaf = issuer.sign_csr(request, profile=profile, days=days)
    inputs.record_issued(ca_dir, [leaf.cert], by="sign-csr")
    files.write_all([files.Output(Path(out), certs.to_pem(leaf.chain if with_chain else [leaf.cert]))],
                    force=force)
    note(f"Signed {leaf.cert.subject.rfc4514_string()} ({profile}), valid until "
         f"{leaf.cert.not_valid_after_utc:%Y-%m-%d}: {out}")
