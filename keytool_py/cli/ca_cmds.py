"""Commands that make keys and certificates: create-ca, issue-client."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import (
    EXIT_CODES,
    KEY_TYPES,
    SECRET_HELP,
    cli,
    force_option,
    load_ca_dir,
    note,
    secret,
    secret_outputs,
)

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
    from .. import ca as ca_mod
    from .. import files, names

    if no_password and password_spec:
        raise click.UsageError("give --password or --no-password, not both")
    subject_name = names.parse_subject(subject)  # before any prompt: a typo costs nothing
    folder = Path(ca_dir)
    outputs = [files.Output(folder / "ca.pem", b""), files.Output(folder / "ca.key", b"", secret=True)]
    files.check_writable(outputs, force=force)
    parent_ca = load_ca_dir(parent, parent_password, "--parent-password") if parent else None
    password = None if no_password else secret(password_spec, "--password", confirm=True,
                                                label="new CA key password")
    new_ca = ca_mod.create_ca(subject_name, key_type=key_type, days=days, parent=parent_ca)
    contents = new_ca.files(password.value if password else None)
    outputs = [files.Output(folder / name, data, secret=name.endswith(".key"))
               for name, data in contents.items()]
    files.write_all(outputs + secret_outputs(password), force=force)
    kind = "root CA" if parent_ca is None else "intermediate CA"
    note(f"Created {kind} {new_ca.cert.subject.rfc4514_string()}, "
          f"valid until {new_ca.cert.not_valid_after_utc:%Y-%m-%d}")
    note(f"  {folder / 'ca.pem'}  certificate (not secret)")
    note(f"  {folder / 'ca.key'}  private key, {'encrypted' if password else 'NOT encrypted'}, mode 0600")
    if "ca-chain.pem" in contents:
        note(f"  {folder / 'ca-chain.pem'}  this CA, then its issuers")
    for p in secret_outputs(password):
        note(f"  {p.path}  the generated password, mode 0600")


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
    from .. import certs, files, keys, names

    subject_name = names.parse_subject(subject)
    sans = [names.parse_san(s) for s in san]
    base = name or names.slug(names.common_name(subject_name))
    folder = Path(out_dir)
    outputs = [files.Output(folder / f"{base}.pem", b""), files.Output(folder / f"{base}.key", b""),
               files.Output(folder / f"{base}-chain.pem", b"")]
    files.check_writable(outputs, force=force)
    issuer = load_ca_dir(ca_dir, ca_password, "--ca-password")
    leaf = issuer.issue_client(subject_name, key_type=key_type, days=days, sans=sans)
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


# --- create-csr ------------------------------------------------------------------------------

@cli.command("create-csr", epilog=EXIT_CODES)
@click.option("--subject", required=True, help='The name to request, e.g. "CN=mule-client,O=Acme,C=US".')
@click.option("--key-out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the new private key (PKCS#8, mode 0600).")
@click.option("--key-password", metavar="SRC", help="Encrypt the new key with this password. " + SECRET_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the CSR (PEM).")
@click.option("--key-type", type=click.Choice(KEY_TYPES), default="rsa2048", show_default=True,
              help="Key type (RSA for the JWT bearer flow).")
@click.option("--san", multiple=True, metavar="TYPE:VALUE",
              help="Subject alternative name to request: email:, dns:, uri: or ip: (repeatable).")
@force_option
def create_csr_cmd(subject, key_out, key_password, out, key_type, san, force):
    """Create a new key and a certificate signing request for it, to send to a CA (a public CA
    that Salesforce trusts, for a production org). Import what the CA returns with
    build-keystore --key KEY --cert SIGNED.pem --chain CA-CHAIN.pem.

    \b
    EXAMPLES
      ktpy create-csr --subject "CN=mule-client,O=Acme,C=US" --key-out client.key --out client.csr
      ktpy create-csr --subject "CN=mule-client,O=Acme" --key-type ec-p256 \\
          --san email:integration@acme.com --key-out c.key --out c.csr
    """
    from .. import csr as csr_mod
    from .. import files, keys, names

    subject_name = names.parse_subject(subject)
    sans = [names.parse_san(s) for s in san]
    outputs = [files.Output(Path(key_out), b""), files.Output(Path(out), b"")]
    files.check_writable(outputs, force=force)
    key_pw = secret(key_password, "--key-password", confirm=True, label="new key password") if key_password else None
    key = keys.generate_key(key_type)
    request = csr_mod.create_csr(subject_name, key, sans)
    from cryptography.hazmat.primitives import serialization

    files.write_all([
        files.Output(Path(key_out), keys.private_key_to_pem(key, key_pw.value if key_pw else None), secret=True),
        files.Output(Path(out), request.public_bytes(serialization.Encoding.PEM)),
    ] + secret_outputs(key_pw), force=force)
    note(f"Wrote {out} (CSR for {subject_name.rfc4514_string()}, {keys.describe_key(key)}) "
         f"and {key_out} (private key, {'encrypted, ' if key_pw else ''}mode 0600)")


# --- sign-csr --------------------------------------------------------------------------------

@cli.command("sign-csr", epilog=EXIT_CODES)
@click.argument("csr_path", metavar="CSR", type=click.Path(dir_okay=True))
@click.option("--ca", "ca_dir", required=True, type=click.Path(file_okay=False), help="The CA folder.")
@click.option("--ca-password", metavar="SRC", help="Password of ca.key. " + SECRET_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the certificate.")
@click.option("--profile", type=click.Choice(["client", "server"]), default="client", show_default=True,
              help="Which extensions the CA gives: clientAuth or serverAuth only.")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True,
              help="Validity in days (cut to the CA's own end).")
@click.option("--with-chain", is_flag=True, help="Write the certificate followed by the CA chain.")
@force_option
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
    issuer = load_ca_dir(ca_dir, ca_password, "--ca-password")
    leaf = issuer.sign_csr(request, profile=profile, days=days)
    files.write_all([files.Output(Path(out), certs.to_pem(leaf.chain if with_chain else [leaf.cert]))],
                    force=force)
    note(f"Signed {leaf.cert.subject.rfc4514_string()} ({profile}), valid until "
         f"{leaf.cert.not_valid_after_utc:%Y-%m-%d}: {out}")
