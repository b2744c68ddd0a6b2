"""Commands for certificates over their life: expiry, renew, revoke, crl (and the CA folder
view of inspect, the lifecycle checks of verify)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import KtpyError
from ._common import (
    EXIT_CODES,
    ExitCode,
    StoreTypes,
    ca_dir_option,
    ca_password_option,
    cli,
    days_option,
    echo_lines,
    exit_codes_help,
    force_option,
    guard_expiry,
    json_option,
    load_ca_dir,
    note,
    read_certificates,
    read_key,
    record_issued,
    secret,
    secret_outputs,
    storepass_option,
)
from ._wait import hold_lock, wait_option

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
                resolved[spec] = secret(spec, f"--passwords {mapfile}", label=f"password for {pattern}").value
            rules.append((pattern, resolved[spec]))
    default = secret(storepass, "--storepass", label="store password").value if storepass else None
    return PasswordMap(rules=tuple(rules), default=default)


@cli.command("expiry", epilog=EXPIRY_EXIT_CODES)
@click.argument("paths", metavar="PATH...", nargs=-1, required=True, type=click.Path())
# 30 days: Salesforce sends no warning before a certificate expires; a month leaves time to
# issue, upload and deploy the new one.
@click.option("--within", default="30d", show_default=True, callback=_window, metavar="WINDOW",
              help="Count certificates expiring within this window as problems: 30d, 12h, 2w.")
@storepass_option("Password of the PKCS12 and UBER files (JKS, JCEKS and BKS need none).")
@click.option("--passwords", "mapfile", type=click.Path(dir_okay=False), metavar="MAPFILE",
              help="Lines 'GLOB SRC': the password of the PKCS12 files the glob matches (first match wins; "
                   "--storepass for the rest).")
@json_option("Print JSON (format: docs/expiry-json.md).")
@click.option("--prometheus", is_flag=True,
              help="Print metrics for node_exporter's textfile collector (x509-certificate-exporter names).")
@click.option("--strict", is_flag=True, help="Count files that cannot be read as problems (exit 3).")
@click.option("-o", "--out", type=click.Path(dir_okay=False),
              help="Write the output to this file (atomically: a textfile collector never reads half).")
@force_option
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

def _ledger_of(ca_dir, *, lock: bool = False):
    """(the ledger, its path); with lock, the ledger stays locked until the command ends, so that
    what is decided from it (a revocation, the next CRL number) is recorded before anyone else reads."""
    from .. import files, ledger

    path = Path(ca_dir) / ledger.LEDGER_FILE
    if lock and Path(ca_dir).is_dir():
        hold_lock(path)
    data = files.read(path, what="ledger") if path.exists() else b""
    return ledger.parse(data, what=str(path)), path


def _reason(ctx, param, value):
    from ..ledger import Reason

    try:
        return Reason.parse(value)
    except KtpyError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command("revoke", epilog=EXIT_CODES)
@click.argument("cert_path", metavar="[CERT.pem]", required=False, type=click.Path(dir_okay=False))
@ca_dir_option()
@click.option("--serial", metavar="HEX", help="Serial number of the certificate to revoke (as inspect shows it).")
@click.option("--reason", default="unspecified", show_default=True, callback=_reason,
              help="key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation, "
                   "certificate-hold, privilege-withdrawn or unspecified.")
@ca_password_option()
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
    from .. import certs, files, issue, ledger, revocation

    if bool(serial) == bool(cert_path):
        raise click.UsageError("name the certificate by --serial HEX or by its file CERT.pem (one of them)")
    reason_value = reason
    authority = load_ca_dir(ca_dir, ca_password, "--ca-password")
    book, path = _ledger_of(ca_dir, lock=True)
    now = issue.utcnow()
    if cert_path:
        cert = read_certificates(cert_path)[0]
        if not certs.issued_by(cert, authority.cert):
            raise KtpyError(f"{cert_path} ({cert.subject.rfc4514_string()}) was not issued by the CA in {ca_dir}")
        number = cert.serial_number
        if book.find(number) is None:  # signed by this CA before it kept a ledger: record it now
            files.append_record(path, ledger.issued_record(cert, by="revoke", now=now))
            book, path = _ledger_of(ca_dir)
    else:
        number = ledger.parse_serial(serial)
    record = revocation.revoke(book, number, reason_value, now, what=f"the CA in {ca_dir}")
    subject = book.find(number).subject
    if record is None:  # revoking twice changes nothing: say so, and succeed
        earlier = book.revocation(number)
        note(f"{ledger.serial_hex(number)} ({subject}) was already revoked on {earlier.at:%Y-%m-%d %H:%M} UTC "
             f"({earlier.reason.value}); nothing was recorded")
        return
    files.append_record(path, record)
    note(f"Revoked {ledger.serial_hex(number)} ({subject}), reason {reason_value.value}; "
         f"publish it: ktpy crl --ca {ca_dir} -o CRL_FILE")


@cli.command("crl", epilog=EXIT_CODES)
@ca_dir_option()
@ca_password_option()
@days_option("Days until the CRL's next update (consumers refuse it after that).", default=7)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Where to write the CRL.")
@click.option("--pem", is_flag=True, help="Write PEM (default: DER, as CRL distribution points serve it).")
@force_option
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
    authority = load_ca_dir(ca_dir, ca_password, "--ca-password")
    book, path = _ledger_of(ca_dir, lock=True)
    crl, record = revocation.build_crl(authority, book, now=issue.utcnow(), days=days)
    files.append_record(path, record)  # the number is given out first, so two CRLs never share one
    files.write_all([files.Output(Path(out), revocation.crl_bytes(crl, pem=pem))], force=force)
    note(f"Wrote {out} ({'PEM' if pem else 'DER'}): CRL number {book.crl_number + 1}, "
         f"{len(book.revocations)} revoked certificate(s), next update {crl.next_update_utc:%Y-%m-%d %H:%M} UTC")


# --- inspect CA_DIR, verify --expires-within / --crl -------------------------------------------

def inspect_ca_dir(ca_dir: str, as_json: bool) -> None:
    """inspect's view of a CA folder: the CA, and each certificate of its ledger with its state."""
    from .. import files, issue
    from ..ca import CERT_FILE, KEY_FILE, TOKEN_FILE
    from ..describe import ca_folder_lines, ca_key_info, describe_ca_folder

    folder = Path(ca_dir)
    if not (folder / CERT_FILE).exists():
        raise KtpyError(f"{folder} is a folder but not a CA folder (it has no ca.pem)")
    cert = read_certificates(folder / CERT_FILE, what="CA certificate")[0]
    book, path = _ledger_of(ca_dir)
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


def lifecycle_findings(report, expires_within: int | None, crl_path: str | None):
    """verify's report with the expires-soon and revoked checks added."""
    import dataclasses

    from .. import files, issue
    from ..revocation import load_crl
    from ..verify import expires_soon, revoked

    now = issue.utcnow()
    extra = []
    if expires_within is not None:
        extra += expires_soon(report.chain, now, expires_within)
    if crl_path:
        extra += revoked(report.chain, load_crl(files.read(crl_path, what="CRL"), what=crl_path), now)
    return dataclasses.replace(report, findings=(*report.findings, *extra))


# --- renew -----------------------------------------------------------------------------------

def _kit_shape(folder: Path, storepass_value: str | None):
    """(store types, alias, compat, mule-config.xml bytes) of an existing kit folder."""
    from .. import files, renew
    from ..expiry import read_certificates
    from ..keystore import Compat

    types, alias, compat = [], None, Compat.CURRENT
    for store_type, name in renew.STORE_FILES.items():
        path = folder / name
        if not path.exists():
            continue
        types.append(store_type)
        data = files.read(path, what="keystore")
        if store_type.value == "pkcs12":
            compat = renew.pkcs12_compat(data)
        if alias is None and (store_type.value != "pkcs12" or storepass_value):
            try:
                found = read_certificates(data, storepass_value)
            except KtpyError:  # a PKCS12 the new password does not open: the alias comes from another
                continue
            alias = next((a for a, n, _ in found[1] if n == 0 and a), None) if found else None
    mule_path = folder / "mule-config.xml"
    mule_config = files.read(mule_path) if mule_path.exists() else None
    return types, alias, compat, mule_config


def _refuse_compromised(ca_dir, old) -> None:
    """--reuse-key for a certificate revoked for key compromise would certify that key again
    (CA/Browser Forum Baseline Requirements 6.1.1.3: a CA rejects a key known to be compromised)."""
    from ..ledger import Reason, serial_hex

    book, path = _ledger_of(ca_dir)
    revoked = book.revocation(old.serial_number)
    if revoked is not None and revoked.reason is Reason.KEY_COMPROMISE:
        raise KtpyError(f"the key of {old.subject.rfc4514_string()} (serial {serial_hex(old.serial_number)}) was "
                        f"revoked for key compromise on {revoked.at:%Y-%m-%d %H:%M} UTC ({path}); renew it without "
                        "--reuse-key, which makes a new key")


@cli.command("renew", epilog=EXIT_CODES)
@click.argument("kit_dir", metavar="[KIT_DIR]", required=False, type=click.Path(file_okay=False))
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False),
              help="Without KIT_DIR: the certificate to renew (PEM or DER).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False),
              help="With --cert and --reuse-key: the old private key.")
@ca_dir_option("The CA folder that issued it (default with KIT_DIR: KIT_DIR/ca).", required=False)
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Folder for the renewed files.")
@ca_password_option("Password of ca.key (default with KIT_DIR: file:KIT_DIR/ca/ca-password.txt when it "
                    "exists).")
@storepass_option("Password of the new keystores (and of the old PKCS12).")
@click.option("--reuse-key", is_flag=True, help="Keep the old key (default: a new key of the same type).")
@days_option("Validity in days (default: the old certificate's).")
@click.option("--types", "store_types", metavar="TYPES", type=StoreTypes(),
              help="With --cert: keystore types to write too, comma-separated (jks, pkcs12, jceks).")
@click.option("--alias", help="With --cert and --types: the entry name (default: mule-client).")
@force_option
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
    from .. import files, issue, renew

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
        old_path = kit / "client.pem"
        if ca_dir is None and not (kit / "ca").is_dir():
            raise click.UsageError(f"{kit} has no ca/ folder (it was made with kit --ca): give --ca CA_DIR, "
                                   "the CA that issued it")
        ca_dir = ca_dir or str(kit / "ca")
        default_pw = kit / "ca" / "ca-password.txt"
        if ca_password is None and default_pw.exists() and Path(ca_dir) == kit / "ca":
            ca_password = f"file:{default_pw}"
        key_path = kit / "client.key" if reuse_key else None
    else:
        old_path = Path(cert_path)
        if ca_dir is None:
            raise click.UsageError("--cert needs --ca CA_DIR, the CA that issued it")
        if reuse_key and not key_path:
            raise click.UsageError("--reuse-key with --cert needs --key OLD.key")
    old = read_certificates(old_path)[0]
    if reuse_key:
        _refuse_compromised(ca_dir, old)
    authority = load_ca_dir(ca_dir, ca_password, "--ca-password")
    key = read_key(key_path, None, refuse_encrypted=f"{key_path} is encrypted; --reuse-key reads an unencrypted "
                                                    "key (as kit writes it)") if key_path else None
    if kit_dir:
        types, _, _, _ = _kit_shape(Path(kit_dir), None)
        store_pw = secret(storepass, "--storepass", confirm=True, label="new store password") if types else None
        types, found_alias, compat, mule_config = _kit_shape(Path(kit_dir), store_pw.value if store_pw else None)
        alias = found_alias or "mule-client"
    else:
        types = list(store_types or ())
        compat, mule_config = None, None
        alias = alias or "mule-client"
        store_pw = secret(storepass, "--storepass", confirm=True, label="new store password") if types else None
    planned = ["client.key", "client.pem", "client-chain.pem", "salesforce-upload.pem",
               *(renew.STORE_FILES[t] for t in types), "README.txt"]
    files.check_writable([files.Output(folder / n, b"") for n in planned], force=force)
    new = renew.renew_certificate(authority, old, key=key, days=days, now=now)
    guard_expiry(new.cert, allow_expired=False, what="the renewed certificate")
    out = renew.package(new, old, alias=alias, store_types=types, storepass=store_pw.value if store_pw else None,
                        compat=compat, mule_config=mule_config, reused_key=key is not None,
                        ca_where=str(ca_dir), now=now)
    outputs = [files.Output(folder / f.name, f.data, secret=f.secret) for f in out] + secret_outputs(store_pw)
    files.check_writable(outputs, force=force)  # before the ledger records it
    record_issued(ca_dir, [new.cert], by="renew", renews=old.serial_number)
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
    note(f"  Upload {folder / 'salesforce-upload.pem'} to Salesforce BEFORE deploying the new keystore; "
         f"{folder / 'README.txt'} gives the order")
