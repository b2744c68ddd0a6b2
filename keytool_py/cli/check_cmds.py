"""Commands that read and check: inspect, verify."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from ..errors import KtpyError
from . import inputs, options
from .app import EXIT_CODES, ExitCode, cli, echo_lines, exit_codes_help, note

VERIFY_EXIT_CODES = exit_codes_help({ExitCode.PROBLEMS: "the checks ran and found problems (one line each)"})


@cli.command("inspect", epilog=EXIT_CODES)
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=True))
@options.storepass_option("Store password, when FILE is a keystore.")
@options.no_storepass_option
@options.json_option("Print JSON (format: docs/inspect-json.md).")
@options.source_type_option
def inspect_cmd(path, storepass, no_storepass, as_json, source_type):
    """Describe a certificate, chain, CSR, private key (never printed) or a JKS, JCEKS,
    PKCS12, BKS or UBER keystore: for every certificate its subject, issuer, serial, validity, key, key
    usages, extended key usages, SANs and SHA-256 fingerprint (as keytool prints it).
    For a CA folder: every certificate its ledger says the CA issued, with its state
    (valid, expired, revoked).

    \b
    EXAMPLES
      ktpy inspect ca/
      ktpy inspect client/mule-client-chain.pem
      ktpy inspect keystore.jks --storepass env:STOREPASS
      ktpy inspect keystore.p12 --storepass file:pass.txt --json
    """
    from .. import files
    from ..describe import describe_data, text_lines, to_json

    if Path(path).is_dir():  # a CA folder: what its ledger says it issued
        return _inspect_ca_dir(path, as_json)
    data = files.read(path, what="file")
    info = describe_data(data, source=path, store_type=source_type,
                         storepass=lambda: inputs.store_password(storepass, no_storepass))
    if as_json:
        click.echo(to_json(info))
    else:
        echo_lines(text_lines(info))


@cli.command("verify", epilog=VERIFY_EXIT_CODES)
@click.argument("path", metavar="CERT_OR_STORE", type=click.Path(dir_okay=True))
@click.option("--ca", "ca_paths", multiple=True, type=click.Path(dir_okay=True),
              help="Root certificate(s) the chain must end at (repeatable).")
@click.option("--chain", "chain_paths", multiple=True, type=click.Path(dir_okay=True),
              help="Intermediate certificate(s) to build the chain with (repeatable).")
@click.option("--key", "key_path", type=click.Path(dir_okay=True), help="Private key that must match.")
@options.key_password_option()
@options.storepass_option("Store password, for a keystore.")
@options.no_storepass_option
@options.keypass_option()
@options.alias_option()
@click.option("--profile", type=click.Choice(["client", "salesforce-mtls", "salesforce-jwt"]),
              help="Rules of where the certificate will be used.")
@options.json_option("Print the findings as JSON.")
@click.option("--expires-within", type=click.IntRange(min=0), metavar="DAYS",
              help="FAIL expires-soon when a certificate of the chain expires within DAYS days.")
@click.option("--crl", "crl_path", type=click.Path(dir_okay=False),
              help="A CRL (PEM or DER) of an issuer in the chain: FAIL revoked when it lists the certificate.")
@click.option("--app", "app_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="An SFDX project made by salesforce-app (or a kit's salesforce/): FAIL "
                   "app-certificate-differs unless its app holds this certificate (implies salesforce-jwt).")
def verify_cmd(path, ca_paths, chain_paths, key_path, key_password, storepass, keypass, alias, profile, as_json,
               expires_within=None, crl_path=None, no_storepass=False, app_dir=None):
    """Check a certificate (or a keystore's key entry): the chain builds and verifies up to a
    root given with --ca (or to its own root), every certificate is valid now, the key matches,
    and the profile's rules hold.

    \b
    Profiles:
      client           clientAuth extended key usage, not a CA
      salesforce-mtls  client rules, not self-signed, RSA >= 2048 or EC, chain up to the root
                       (--ca, or a public root from the system trust bundle);
                       warns when the root is not publicly trusted (Salesforce production
                       refuses private roots unless support added them); serverAuth beside
                       clientAuth fails from a public CA (June 2026 rule), warns from a private
                       one; a PEM is checked as the file to upload: in order, every
                       intermediate, the root left out (a warning)
      salesforce-jwt   an RSA key (RS256); self-signed is allowed; with --app DIR the app's
                       certificate must be this one. CERT_OR_STORE may be such a folder too:
                       its app's certificate is checked

    \b
    EXAMPLES
      ktpy verify kit/salesforce-upload.pem --ca kit/ca/ca.pem --profile salesforce-mtls
      ktpy verify keystore.jks --storepass env:STOREPASS --ca ca/ca.pem --profile salesforce-jwt
      ktpy verify keystore.jks --storepass env:STOREPASS --profile salesforce-jwt --app sfdx
    """
    from .. import certs, opener
    from .. import verify as verify_mod
    from ..upload import find_leaf
    from ..verify import Finding, verify

    if app_dir is not None or Path(path).is_dir():
        if profile not in (None, "salesforce-jwt"):
            raise click.UsageError("an SFDX project (--app, or a folder to verify) goes with --profile salesforce-jwt")
        profile = "salesforce-jwt"
    read = None if Path(path).is_dir() else opener.read_source(path, what="file")
    roots = [c for p in ca_paths for c in inputs.read_certificates(p, what="CA file")]
    extra = [c for p in chain_paths for c in inputs.read_certificates(p, what="chain file")]
    key = inputs.read_key(key_path, key_password) if key_path else None
    notes: list[Finding] = []
    upload = None  # a PEM file is checked as the file to upload to Salesforce (salesforce-mtls)
    if read is None:  # an SFDX project: its app's certificate
        from ..salesforce_app import read_project_certificate

        leaf, intermediates = read_project_certificate(path), extra
    elif read.type is not None:
        store, password = inputs.open_keystore(read, storepass, sealed=True, no_storepass=no_storepass)
        store_pw = None if password is None else password.value
        entry = store.entry(alias)
        chain = entry.chain_for("so there is no certificate to check")
        leaf, intermediates = chain[0], [*chain[1:], *extra]
        if entry.is_key_entry and key is None:
            key_pw = inputs.secret(keypass, "--keypass", label="key password").value if keypass else None
            key, key_notes = verify_mod.stored_key(entry, store_pw, key_pw, profile=profile)
            notes += key_notes
    else:
        found = certs.load_certificates(read.data, what=path)
        leaf = find_leaf(found)  # a bundle out of order still starts at its leaf
        # the file is checked as an upload file when it holds a bundle, or is all that is given:
        # a single certificate verified with --chain is a leaf, not an upload file
        as_upload = len(found) > 1 or not extra
        intermediates, upload = [*(c for c in found if c is not leaf), *extra], (found if as_upload else None)
    if app_dir is not None:
        from ..salesforce_app import app_findings, read_project_certificate

        notes += app_findings(read_project_certificate(app_dir), leaf, app_dir)
    report = verify(leaf, intermediates=intermediates, roots=roots, key=key, profile=profile, upload=upload)
    if expires_within is not None or crl_path:
        from .. import files, issue
        from ..revocation import load_crl
        from ..verify import with_lifecycle_findings

        crl = load_crl(files.read(crl_path, what="CRL"), what=crl_path) if crl_path else None
        report = with_lifecycle_findings(report, expires_within, crl, issue.utcnow())
    report = dataclasses.replace(report, findings=(*report.findings, *notes))
    problems = report.problems
    if as_json:
        from ..escaping import escape_data

        click.echo(json.dumps(escape_data(verify_mod.as_json(report)), indent=2))
    else:
        echo_lines(verify_mod.text_lines(report))
    if problems:
        note(f"Verification found {len(problems)} problem(s)")
        click.get_current_context().exit(ExitCode.PROBLEMS)


def _inspect_ca_dir(ca_dir: str, as_json: bool) -> None:
    """inspect's view of a CA folder: the CA, and each certificate of its ledger with its state."""
    from .. import files, issue, ledger
    from ..ca import CERT_FILE, KEY_FILE, TOKEN_FILE
    from ..describe import ca_folder_lines, ca_key_info, describe_ca_folder

    folder = Path(ca_dir)
    if not (folder / CERT_FILE).exists():
        raise KtpyError(f"{folder} is a folder but not a CA folder (it has no ca.pem)")
    cert = inputs.read_certificates(folder / CERT_FILE, what="CA certificate")[0]
    book_file = ledger.LedgerFile.of(ca_dir)
    book, path = book_file.read(), book_file.path
    found = {name: files.read(folder / name, what="file") if (folder / name).is_file() else None
             for name in (KEY_FILE, TOKEN_FILE)}
    key = ca_key_info(found[KEY_FILE], found[TOKEN_FILE], folder=str(folder))
    info = describe_ca_folder(cert, book, ledger_path=str(path), now=issue.utcnow(), key=key)
    if as_json:
        from ..escaping import escape_data

        click.echo(json.dumps(escape_data(info), indent=2))
        return
    echo_lines(ca_folder_lines(info, str(folder)))  # ledger subjects escaped: they came from CSRs
    if book.torn:
        note(f"Warning: the last line of {path} was cut short (a crash while recording); it is ignored")
