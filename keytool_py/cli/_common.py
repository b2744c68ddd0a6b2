"""What every ktpy command shares: the group, error handling, options, password and CA loading.

Each command reads its inputs, calls the library, and hands its outputs to files.write_all.
Library errors become one line `Error: ...` on stderr; tracebacks only with --debug.
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path

import click

from .. import __version__
from ..errors import KtpyError

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


# Which module defines each command. A command's module is imported only when that command
# runs (or when the full help lists them all), so each run loads only what it uses.
COMMAND_MODULES = {
    "create-ca": "ca_cmds", "issue-client": "ca_cmds", "create-csr": "ca_cmds", "sign-csr": "ca_cmds",
    "export-pem": "store_cmds", "build-keystore": "store_cmds", "convert": "store_cmds",
    "build-truststore": "store_cmds", "inspect": "check_cmds", "verify": "check_cmds",
    "kit": "mule_cmds", "mule-config": "mule_cmds", "sign-jwt": "mule_cmds", "probe": "mule_cmds",
    "secure-props": "secure_cmds",
}
COMMAND_MODULES.update({"expiry": "lifecycle_cmds", "renew": "lifecycle_cmds", "revoke": "lifecycle_cmds",
                        "crl": "lifecycle_cmds"})
COMMAND_MODULES.update({name: "edit_cmds" for name in  # changing a keystore in place
                        ("delete", "rename", "passwd", "import", "merge", "export-key")})


class _Group(click.Group):
    """Loads commands on demand; turns library errors into one line on stderr and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str):
        if name not in self.commands and name in COMMAND_MODULES:
            import importlib

            importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        from ..secrets import MissingSecretError

        try:
            with warnings.catch_warnings():
                if not _debug_enabled():
                    # Dependencies' warnings (cryptography's CryptographyDeprecationWarning for the
                    # negative serials in Debian's cacerts) are not the user's business: never on stderr.
                    warnings.simplefilter("ignore")
                return super().invoke(ctx)
        except MissingSecretError as exc:
            if _debug_enabled():
                raise
            note(f"Error: {exc}")
            ctx.exit(EXIT_USAGE)
        except KtpyError as exc:
            if _debug_enabled():
                raise
            note(f"Error: {exc}")
            ctx.exit(EXIT_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must still not dump a traceback on users
            if _debug_enabled():
                raise
            if isinstance(exc, OSError) and exc.filename is None and exc.errno in _STDOUT_ERRORS:
                # files.py names its own files; an OSError without a file name is a write to stdout
                _silence_stdout()
                note(f"Error: cannot write to standard output: {exc.strerror}")
                ctx.exit(EXIT_ERROR)
            click.echo(
                f"Error: unexpected failure ({type(exc).__name__}); rerun with --debug to see where",
                err=True,
            )
            ctx.exit(EXIT_ERROR)


def complete_store_types(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of a comma-separated list of store types: 'jks,p' -> 'jks,pkcs12'."""
    done, _, last = incomplete.rpartition(",")
    given = done.split(",") if done else []
    prefix = done + "," if done else ""
    return [prefix + t for t in STORE_TYPES if t.startswith(last) and t not in given]


_STDOUT_ERRORS = {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF}


def _silence_stdout() -> None:
    """After a failed write to stdout, point it at /dev/null so the exit flush of what is still
    buffered does not fail a second time (Python would print "Exception ignored ...")."""
    import sys

    try:
        if sys.stdout is not sys.__stdout__:
            return
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def note(message: str) -> None:
    """One line on stderr, control characters escaped (a name cannot forge a second line)."""
    from ..escaping import escape

    click.echo(escape(message), err=True)


def echo_lines(lines) -> None:
    """Text lines on stdout, each escaped: certificate names cannot forge lines or escapes."""
    from ..escaping import escape_lines

    click.echo(escape_lines(lines))


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


def secret(spec, option, *, confirm=False, label=None, allow_empty=False):
    from .. import secrets

    return secrets.resolve(spec, option=option, confirm=confirm, label=label, allow_empty=allow_empty)


def no_storepass_option(f):
    return click.option("--no-storepass", is_flag=True,
                        help="The store has no password (a password-less PKCS12 truststore): read it as "
                             "Java does without one, so its integrity is not checked.")(f)


def store_password(spec, no_storepass: bool, *, label: str = "store password", option: str = "--storepass"):
    """The password to open an existing store: may be empty (keytool -storepass ""); None with
    --no-storepass."""
    if no_storepass:
        if spec is not None:
            raise click.UsageError(f"give {option} or --no-storepass, not both")
        note("Notice: without a store password the store's integrity is not checked")
        return None
    return secret(spec, option, label=label, allow_empty=True).value


def secret_outputs(*passwords):
    from ..files import Output

    return [Output(p.generated_file, (p.value + "\n").encode(), secret=True)
            for p in passwords if p is not None and p.generated_file is not None]


def open_keystore(path: str, storepass_spec: str | None, keypass_spec: str | None = None, *,
                  label: str = "store password", alias: str | None = None, no_storepass: bool = False,
                  carry: bool = False):
    """(keystore with its keys decrypted, store password) for a keystore file; keys are decrypted
    with the --keypass password when given, else with the store password (with `alias`, only
    that entry's key). With no_storepass the password is None and keys stay sealed. With carry
    and no --keypass, a key the store password does not open stays sealed instead of failing (a
    rewrite in the same type carries it; another type refuses it, naming it)."""
    from .. import files, keystore
    from ..secrets import Password

    data = files.read(path, what="keystore")
    if keystore.detect_type(data) is None:
        raise KtpyError(f"{path} is not a JKS, JCEKS or PKCS12 keystore")
    store_pw = store_password(storepass_spec, no_storepass, label=label)
    key_pw = secret(keypass_spec, "--keypass", label="key password", allow_empty=True) if keypass_spec else None
    if carry and key_pw is None:
        store = keystore.load(data, store_pw, decrypt_keys=False)
        store = keystore.unlock(store, store_pw) if store_pw is not None else store
    else:
        store = keystore.load(data, store_pw, keypass=key_pw.value if key_pw else None, alias=alias,
                              decrypt_keys=store_pw is not None or key_pw is not None)
    return store, None if store_pw is None else Password(store_pw)


def load_ca_dir(ca_dir: str, password_spec: str | None, option: str):
    """A CA from its folder: ca.pem, ca.key and, for an intermediate, ca-chain.pem."""
    from .. import ca as ca_mod
    from .. import certs, files, keys

    folder = Path(ca_dir)
    if not folder.is_dir():
        raise KtpyError(f"CA folder {folder} does not exist")
    cert_list = certs.load_certificates(files.read(folder / "ca.pem", what="CA certificate"),
                                        what=str(folder / "ca.pem"))
    key_data = files.read(folder / "ca.key", what="CA key")
    password = None
    if keys.is_encrypted(key_data):
        password = secret(password_spec, option, label="CA key password").value
    key = keys.load_private_key(key_data, password, what=f"the CA key {folder / 'ca.key'}")
    chain_path = folder / "ca-chain.pem"
    issuers = []
    if chain_path.exists():
        issuers = certs.load_certificates(files.read(chain_path), what=str(chain_path))[1:]
    return ca_mod.load_ca(cert_list[0], key, issuers, what=f"the CA in {folder}")


def record_issued(ca_dir, certificates, *, by: str, renews: int | None = None) -> None:
    """Record each certificate the CA of ca_dir issued in its ledger (CA_DIR/issued.jsonl),
    before the certificate's own files are written: a crash between the two leaves a ledger
    entry for files that never appeared (harmless, revocable), never a certificate it forgot."""
    from .. import files, issue, ledger

    now = issue.utcnow()
    path = Path(ca_dir) / ledger.LEDGER_FILE
    for cert in certificates:
        try:
            files.append_record(path, ledger.issued_record(cert, by=by, now=now, renews=renews))
        except KtpyError as exc:
            raise KtpyError(f"{exc}; the CA records every certificate it issues in {path}, so none was "
                            "issued (make the CA folder writable)") from None


# --- packaging: warn before expiry, refuse an expired certificate (issue 13) ---

# 30 days: the window `ktpy expiry` watches by default; packaging something that expires
# sooner is most likely a mistake, or an outage being scheduled.
PACKAGING_WARN_DAYS = 30


def guard_expiry(cert, *, allow_expired: bool, what: str = "the certificate") -> None:
    """Refuse an expired certificate (unless allow_expired) and warn when it expires soon."""
    import datetime as dt

    from .. import issue

    now = issue.utcnow()
    end = cert.not_valid_after_utc
    name = cert.subject.rfc4514_string()
    if end < now:
        if not allow_expired:
            raise KtpyError(f"{what} {name} expired on {end:%Y-%m-%d %H:%M} UTC; renew it (ktpy renew), "
                            "or pass --allow-expired to package it anyway")
        note(f"Warning: {what} {name} expired on {end:%Y-%m-%d %H:%M} UTC (packaged anyway: --allow-expired)")
    elif end <= now + dt.timedelta(days=PACKAGING_WARN_DAYS):
        note(f"Warning: {what} {name} expires on {end:%Y-%m-%d %H:%M} UTC, in {(end - now).days} day(s); "
             "plan its renewal (ktpy renew)")


def allow_expired_option(f):
    return click.option("--allow-expired", is_flag=True,
                        help="Package an expired certificate anyway (refused by default).")(f)
