"""Commands for certificates over their life: expiry, renew, revoke, crl (and the CA folder
view of inspect, the lifecycle checks of verify)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import KtpyError
from . import inputs, options
from ._wait import hold_lock, wait_option, wait_seconds
from .app import EXIT_CODES, ExitCode, cli, exit_codes_help, note

EXPIRY_EXIT_CODES = exit_codes_help({
    ExitCode.OK: "no certificate is expired or expires within the window",
    ExitCode.ERROR: "error: a PATH does not exist, or no file could be read at all",
    ExitCode.USAGE: "usage error (a missing or unknown option)",
    ExitCode.PROBLEMS: "a certificate is expired or expires within the window (or, with --strict, a file or\n"
                       "folder could not be read)",
})


# --- expiry ----------------------------------------------------------------------------------

def _window(ctx, param, value):
    from ..expiry import parse_window

    try:
        return parse_window(value)
    except KtpyError as exc:
        raise click.BadParameter(str(exc)) from None


def _password_map(storepass: str | None, mapfile: str | None):
    """The PasswordMap of --passwords and --storepass: each SRC resolved once, here."""
    from .. import files
    from ..expiry import PasswordMap, parse_password_map

    rules = []
    if mapfile:
        text = files.read(mapfile, what="password map")
        try:
            pairs = parse_password_map(text.decode("utf-8"), what=f"password map {mapfile}")
        except UnicodeDecodeError:
            raise KtpyError(f"password map {mapfile} is not UTF-8 text") from None
        resolved: dict[str, str] = {}
        for pattern, spec in pairs:
            if spec not in resolved:
                resolved[spec] = inputs.secret(spec, f"--passwords {mapfile}", label=f"password for {pattern}").value
            rules.append((pattern, resolved[spec]))
    default = inputs.secret(storepass, "--storepass", label="store password").value if storepass else None
    return PasswordMap(rules=tuple(rules), default=default)


@cli.command("expiry", epilog=EXPIRY_EXIT_CODES)
@click.argument("paths", metavar="PATH...", nargs=-1, required=True, type=click.Path())
# 30 days: Salesforce sends no warning before a certificate expires; a month leaves time to
# issue, upload and deploy the new one.
@click.option("--within", default="30d", show_default=True, callback=_window, metavar="WINDOW",
              help="Count certificates expiring within this window as problems: 30d, 12h, 2w.")
@options.storepass_option("Password of the PKCS12 and UBER files (JKS, JCEKS and BKS need none).")
@click.option("--passwords", "mapfile", type=click.Path(dir_okay=False), metavar="MAPFILE",
              help="Lines 'GLOB SRC': the password of the PKCS12 files the glob matches (first match wins; "
                   "--storepass for the rest).")
@options.json_option("Print JSON (format: docs/expiry-json.md).")
@click.option("--prometheus", is_flag=True,
              help="Print metrics for node_exporter's textfile collector (x509-certificate-exporter names).")
@click.option("--strict", is_flag=True, help="Count files that cannot be read as problems (exit 3).")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="Write the output to this file (atomically: a textfile collector never reads half).")
@options.force_option
def expiry_cmd(paths, within, storepass, mapfile, as_json, prometheus, strict, out, force):
    """Find every certificate in files and folders (recursively) and say when each expires:
    PEM and DER files and bundles, JKS, JCEKS, PKCS12 and Bouncy Castle BKS and UBER keystores,
    the type read from the content. One line per certificate, soonest first: state, days left,
    not-after (UTC), file, alias, subject, issuer; then each file or folder that could not be
    read, with the reason. Names are escaped (control characters, bidi overrides, bytes that
    are not UTF-8), in text, JSON and Prometheus output alike.

    JKS, JCEKS and BKS certificates are read without a password (only keys are encrypted there;
    the integrity hash is not checked, as keytool -list without -storepass). PKCS12 and UBER need
    their password: --storepass for all, or a MAPFILE of 'GLOB SRC' lines, e.g.

    \b
      # globs with a '/' match the path, others the file name; first match wins
      prod/*.p12   env:PROD_STOREPASS
      *.p12        file:/run/secrets/storepass

    \b
    EXAMPLES
      ktpy expiry kits/ --within 30d
      ktpy expiry /opt/mule/apps --passwords storepasses.txt --json
      ktpy expiry kits/ --storepass env:STOREPASS --prometheus \\
          -o /var/lib/node_exporter/textfile/ktpy.prom --force
    """
    from .. import expiry, files, issue

    if as_json and prometheus:
        raise click.UsageError("give --json or --prometheus, not both")
    passwords = _password_map(storepass, mapfile)
    if out:
        files.check_writable([files.Output(Path(out), b"")], force=force)
    result = expiry.scan(list(paths), passwords=passwords, now=issue.utcnow())
    if as_json:
        text = json.dumps(expiry.as_json(result, within), indent=2) + "\n"
    elif prometheus:
        text = expiry.prometheus(result)
    else:
        text = "\n".join(expiry.text_lines(result, within)) + "\n"
    if out:
        files.write_all([files.Output(Path(out), text.encode("utf-8"))], force=force)
    else:
        click.echo(text, nl=False)
    note(expiry.summary(result, within))
    ctx = click.get_current_context()
    if not result.certificates and result.unreadable:
        note(f"Error: none of the {len(result.unreadable)} file(s) holding certificates could be read")
        ctx.exit(ExitCode.ERROR)
    if result.problems(within) or (strict and result.unreadable):
        ctx.exit(ExitCode.PROBLEMS)


# --- revoke, crl -----------------------------------------------------------------------------

def _locked_ledger(ca_dir):
    """The CA's ledger file, locked until the command ends (--wait), so that what is decided
    from it (a revocation, the next CRL number) is recorded before anyone else reads."""
    from .. import ledger

    book_file = ledger.LedgerFile.of(ca_dir)
    click.get_current_context().with_resource(book_file.lock(wait_seconds()))
    return book_file


def _reason(ctx, param, value):
    from ..ledger import Reason

    try:
        return Reason.parse(value)
    except KtpyError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command("revoke", epilog=EXIT_CODES)
@click.argument("cert_path", metavar="[CERT.pem]", required=False, type=click.Path(dir_okay=False))
@options.ca_dir_option()
@click.option("--serial", metavar="HEX", help="Serial number of the certificate to revoke (as inspect shows it).")
@click.option("--reason", default="unspecified", show_default=True, callback=_reason,
              help="key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation, "
                   "certificate-hold, privilege-withdrawn or unspecified.")
@options.ca_password_option()
@wait_option
def revoke_cmd(cert_path, ca_dir, serial, reason, ca_password):
    """Revoke a certificate the CA issued: recorded in the CA's ledger (CA_DIR/issued.jsonl);
    publish it with `ktpy crl`. The certificate is named by --serial (it must be in the
    ledger) or by its file (which the CA must have signed). Revoking needs the CA key, as
    issuing does.

    \b
    EXAMPLES
      ktpy revoke --ca ca --serial 5F3A09C2D1 --reason key-compromise --ca-password env:CA_PASS
      ktpy revoke --ca ca old-client.pem --reason superseded
      ktpy crl --ca ca --ca-password env:CA_PASS -o ca/crl.pem --pem --force
    """
    from .. import certs, issue, ledger, revocation

    if bool(serial) == bool(cert_path):
        raise click.UsageError("name the certificate by --serial HEX or by its file CERT.pem (one of them)")
    reason_value = reason
    authority = inputs.load_ca_dir(ca_dir, ca_password, "--ca-password")
    book_file = _locked_ledger(ca_dir)
    book = book_file.read()
    now = issue.utcnow()
    if cert_path:
        cert = inputs.read_certificates(cert_path)[0]
        if not certs.issued_by(cert, authority.cert):
            raise KtpyError(f"{cert_path} ({cert.subject.rfc4514_string()}) was not issued by the CA in {ca_dir}")
        number = cert.serial_number
        if book.find(number) is None:  # signed by this CA before it kept a ledger: record it now
            book_file.record(ledger.issued_record(cert, by="revoke", now=now))
            book = book_file.read()
    else:
        number = ledger.parse_serial(serial)
    record = revocation.revoke(book, number, reason_value, now, what=f"the CA in {ca_dir}")
    subject = book.find(number).subject
    if record is None:  # revoking twice changes nothing: say so, and succeed
        earlier = book.revocation(number)
        note(f"{ledger.serial_hex(number)} ({subject}) was already revoked on {earlier.at:%Y-%m-%d %H:%M} UTC "
             f"({earlier.reason.value}); nothing was recorded")
        return
    book_file.record(record)
    note(f"Revoked {ledger.serial_hex(number)} ({subject}), reason {reason_value.value}; "
         f"publish it: ktpy crl --ca {ca_dir} -o CRL_FILE")


@cli.command("crl", epilog=EXIT_CODES)
@options.ca_dir_option()
@options.ca_password_option()
@options.days_option("Days until the CRL's next update (consumers refuse it after that).", default=7)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Where to write the CRL.")
@click.option("--pem", is_flag=True, help="Write PEM (default: DER, as CRL distribution points serve it).")
@options.force_option
@wait_option
def crl_cmd(ca_dir, ca_password, days, out, pem, force):
    """Write the CA's certificate revocation list: every revocation in its ledger, signed by the
    CA, numbered one past the last CRL. Servers that check revocation (openssl -crl_check,
    Java PKIX, nginx ssl_crl) read it; make a new one before --days runs out.

    \b
    EXAMPLES
      ktpy crl --ca ca --ca-password env:CA_PASS -o ca/crl.der
      ktpy crl --ca ca --ca-password env:CA_PASS --days 30 --pem -o crl.pem --force
    """
    from .. import files, issue, revocation

    try:
        revocation.next_update(issue.utcnow(), days)
    except KtpyError as exc:
        raise click.BadParameter(str(exc), param_hint="'--days'") from None
    files.check_writable([files.Output(Path(out), b"")], force=force)
    authority = inputs.load_ca_dir(ca_dir, ca_password, "--ca-password")
    book_file = _locked_ledger(ca_dir)
    book = book_file.read()
    crl, record = revocation.build_crl(authority, book, now=issue.utcnow(), days=days)
    book_file.record(record)  # the number is given out first, so two CRLs never share one
    files.write_all([files.Output(Path(out), revocation.crl_bytes(crl, pem=pem))], force=force)
    note(f"Wrote {out} ({'PEM' if pem else 'DER'}): CRL number {book.crl_number + 1}, "
         f"{len(book.revocations)} revoked certificate(s), next update {crl.next_update_utc:%Y-%m-%d %H:%M} UTC")


# --- renew -----------------------------------------------------------------------------------

def _refuse_compromised(ca_dir, old) -> None:
    """--reuse-key for a certificate revoked for key compromise would certify that key again
    (CA/Browser Forum Baseline Requirements 6.1.1.3: a CA rejects a key known to be compromised)."""
    from ..ledger import LedgerFile, Reason, serial_hex

    book_file = LedgerFile.of(ca_dir)
    revoked = book_file.read().revocation(old.serial_number)
    if revoked is not None and revoked.reason is Reason.KEY_COMPROMISE:
        raise KtpyError(f"the key of {old.subject.rfc4514_string()} (serial {serial_hex(old.serial_number)}) was "
                        f"revoked for key compromise on {revoked.at:%Y-%m-%d %H:%M} UTC ({book_file.path}); renew it "
                        "without --reuse-key, which makes a new key")


@cli.command("renew", epilog=EXIT_CODES)
@click.argument("kit_dir", metavar="[KIT_DIR]", required=False, type=click.Path(file_okay=False))
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False),
              help="Without KIT_DIR: the certificate to renew (PEM or DER).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False),
              help="With --cert and --reuse-key: the old private key.")
@options.ca_dir_option("The CA folder that issued it (default with KIT_DIR: KIT_DIR/ca).", required=False)
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Folder for the renewed files.")
@options.ca_password_option("Password of ca.key (default with KIT_DIR: file:KIT_DIR/ca/ca-password.txt when it "
                    "exists).")
@options.storepass_option("Password of the new keystores (and of the old PKCS12).")
@click.option("--reuse-key", is_flag=True, help="Keep the old key (default: a new key of the same type).")
@options.days_option("Validity in days (default: the old certificate's).")
@click.option("--types", "store_types", metavar="TYPES", type=options.StoreTypes(),
              help="With --cert: keystore types to write too, comma-separated (jks, pkcs12, jceks).")
@click.option("--alias", help="With --cert and --types: the entry name (default: mule-client).")
@options.force_option
@wait_option
def renew_cmd(kit_dir, cert_path, key_path, ca_dir, out_dir, ca_password, storepass, reuse_key, days,
              store_types, alias, force):
    """Renew a certificate as it was made: same subject, SANs, profile (clientAuth or
    serverAuth), key type and validity length, from the same CA; a new key unless --reuse-key.
    From a kit folder (made by ktpy kit), the new kit has the same keystore types, alias and
    compatibility, the upload PEMs, the same mule-config.xml, and a README.txt with the rotation
    order that avoids downtime (upload the new PEM to Salesforce before Mule switches stores).
    The CA's ledger records the new certificate as renewing the old one.

    \b
    EXAMPLES
      ktpy renew kit --out-dir kit-2027 --storepass env:STOREPASS
      ktpy renew kit --out-dir kit-2027 --storepass env:STOREPASS --reuse-key
      ktpy renew --cert client/mule-client.pem --ca ca --ca-password env:CA_PASS --out-dir renewed
    """
    from .. import files, issue, layout, renew

    if bool(kit_dir) == bool(cert_path):
        raise click.UsageError("give a kit folder (KIT_DIR) or --cert OLD.pem, one of them")
    folder = Path(out_dir)
    journal = files.Journal(folder)
    if folder.is_dir():  # one renewal at a time into a folder (files.locked)
        hold_lock(folder)
    click.get_current_context().with_resource(journal)  # unlocked at the end, whichever way it ends
    if folder.is_dir():
        complete, removed = journal.recover()  # a renewal killed half-way: its files undone, the old ones back
        journal.finish()
        if complete or removed:
            note(f"Recovered from an interrupted renewal in {folder}: "
                 + ("it had finished" if complete else f"{len(removed)} of its file(s) removed, the old ones back"))
    now = issue.utcnow()
    if kit_dir:
        kit = Path(kit_dir)
        if store_types or alias or key_path:
            raise click.UsageError("--types, --alias and --key go with --cert; a kit keeps its own")
        old_path = kit / layout.CLIENT_CERT
        if ca_dir is None and not (kit / layout.CA_DIR).is_dir():
            raise click.UsageError(f"{kit} has no ca/ folder (it was made with kit --ca): give --ca CA_DIR, "
                                   "the CA that issued it")
        ca_dir = ca_dir or str(kit / layout.CA_DIR)
        default_pw = kit / layout.CA_PASSWORD_FILE
        if ca_password is None and default_pw.exists() and Path(ca_dir) == kit / layout.CA_DIR:
            ca_password = f"file:{default_pw}"
        key_path = kit / layout.CLIENT_KEY if reuse_key else None
    else:
        old_path = Path(cert_path)
        if ca_dir is None:
            raise click.UsageError("--cert needs --ca CA_DIR, the CA that issued it")
        if reuse_key and not key_path:
            raise click.UsageError("--reuse-key with --cert needs --key OLD.key")
    old = inputs.read_certificates(old_path)[0]
    if reuse_key:
        _refuse_compromised(ca_dir, old)
    authority = inputs.load_ca_dir(ca_dir, ca_password, "--ca-password")
    key = inputs.read_key(key_path, None, refuse_encrypted=f"{key_path} is encrypted; --reuse-key reads an unencrypted "
                                                    "key (as kit writes it)") if key_path else None
    if kit_dir:
        store_pw = (inputs.secret(storepass, "--storepass", confirm=True, label="new store password")
                    if layout.kit_store_types(kit_dir) else None)
        shape = layout.read_kit_shape(kit_dir, store_pw.value if store_pw else None)
        types, compat, mule_config = list(shape.store_types), shape.compat, shape.mule_config
        alias = shape.alias or layout.DEFAULT_ALIAS
    else:
        types = list(store_types or ())
        compat, mule_config = None, None
        alias = alias or layout.DEFAULT_ALIAS
        store_pw = inputs.secret(storepass, "--storepass", confirm=True, label="new store password") if types else None
    planned = [*layout.CLIENT_FILES, *(layout.STORE_FILES[t] for t in types), layout.README]
    files.check_writable([files.Output(folder / n, b"") for n in planned], force=force)
    new = renew.renew_certificate(authority, old, key=key, days=days, now=now)
    inputs.guard_expiry(new.cert, allow_expired=False, what="the renewed certificate")
    out = renew.package(new, old, alias=alias, store_types=types, storepass=store_pw.value if store_pw else None,
                        compat=compat, mule_config=mule_config, reused_key=key is not None,
                        ca_where=str(ca_dir), now=now)
    outputs = [files.Output(folder / f.name, f.data, secret=f.secret) for f in out] + inputs.secret_outputs(store_pw)
    files.check_writable(outputs, force=force)  # before the ledger records it
    inputs.record_issued(ca_dir, [new.cert], by="renew", renews=old.serial_number)
    # All or nothing, even across a kill: the journal names each new file (and its hash) before
    # any is placed, so the next renew into this folder undoes a half-written one (Journal).
    tag = journal.begin("renew", [o for o in outputs if o.path.parent == folder])
    try:
        files.write_all(outputs, force=force, tag=tag)
    finally:  # written, or undone whole by write_all: nothing left to recover
        journal.done("renew")
    journal.finish()
    note(f"Renewed {new.cert.subject.rfc4514_string()}: serial {new.cert.serial_number:X}, valid until "
         f"{new.cert.not_valid_after_utc:%Y-%m-%d} ({'same key' if key else 'new key'}), into {folder}/")
    note(f"  Upload {folder / layout.UPLOAD_PEM} to Salesforce BEFORE deploying the new keystore; "
         f"{folder / layout.README} gives the order")
