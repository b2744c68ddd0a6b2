"""What every ktpy command shares: the group, error handling, options, password and CA loading.

Each command reads its inputs, calls the library, and hands its outputs to files.write_all.
Library errors become one line `Error: ...` on stderr; tracebacks only with --debug.
"""

from __future__ import annotations

import enum
import errno
import os
import warnings
from pathlib import Path

import click

from .. import __version__
from ..errors import KtpyError


class ExitCode(enum.IntEnum):
    """Every exit code ktpy uses; exit_codes_help() writes a command's EXIT CODES section from it."""

    OK = 0
    ERROR = 1
    USAGE = 2
    PROBLEMS = 3  # a check ran and found problems


# What each code means unless a command says more (a meaning may run over several lines).
_MEANINGS = {
    ExitCode.OK: "success",
    ExitCode.ERROR: "error (the message says what failed and why)",
    ExitCode.USAGE: "usage error (a missing or unknown option, no password source)",
}


def exit_codes_help(meanings: dict[ExitCode, str] | None = None) -> str:
    """The EXIT CODES section of a command's help: the common meanings, with a command's own
    (`meanings`) in their place or added."""
    rows = {**_MEANINGS, **(meanings or {})}
    lines = ["", "\b", "EXIT CODES"]
    for code in sorted(rows):
        first, *more = rows[code].split("\n")
        lines += [f"  {code.value}  {first}", *(f"     {line}" for line in more)]
    return "\n".join(lines) + "\n"


EXIT_CODES = exit_codes_help()

SECRET_HELP = "SRC is pass:TEXT, env:VAR, file:PATH, prompt or generate:PATH."
# keys.KeyType and keystore.StoreType, spelled out so that `ktpy --help` loads no cryptography
# (tests/test_cli.py checks they agree).
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
        from ..passwords import MissingSecretError

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
            ctx.exit(ExitCode.USAGE)
        except KtpyError as exc:
            if _debug_enabled():
                raise
            note(f"Error: {exc}")
            ctx.exit(ExitCode.ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug must still not dump a traceback on users
            if _debug_enabled():
                raise
            if isinstance(exc, OSError) and exc.filename is None and exc.errno in _STDOUT_ERRORS:
                # files.py names its own files; an OSError without a file name is a write to stdout
                _silence_stdout()
                note(f"Error: cannot write to standard output: {exc.strerror}")
                ctx.exit(ExitCode.ERROR)
            click.echo(
                f"Error: unexpected failure ({type(exc).__name__}); rerun with --debug to see where",
                err=True,
            )
            ctx.exit(ExitCode.ERROR)


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


# --- the kinds of input: one click.ParamType each, and the options every command shares ----------
# An option whose help says what it is for in each command is a factory (@storepass_option("...")),
# one that means the same everywhere a plain decorator (@force_option).

class StoreTypes(click.ParamType):
    """A comma-separated list of keystore types, 'jks,pkcs12': keystore.parse_types reads it (in
    the order given, duplicates dropped); the shell completes each item. `unknown` words the
    refusal of an unknown type ({item!r}), where a command has always said it its own way."""

    name = "store types"

    def __init__(self, unknown: str | None = None) -> None:
        self.unknown = unknown

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        from ..keystore import StoreType, parse_types

        for item in filter(None, (item.strip() for item in value.split(","))):
            try:
                StoreType.parse(item)
            except KtpyError as exc:
                self.fail(self.unknown.format(item=item) if self.unknown else str(exc), param, ctx)
        try:
            return parse_types(value)
        except KtpyError as exc:  # no type at all
            self.fail(self.unknown.format(item=value) if self.unknown else str(exc), param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        """'jks,p' -> 'jks,pkcs12': the types not given yet, after those given."""
        from click.shell_completion import CompletionItem

        done, _, last = incomplete.rpartition(",")
        given = done.split(",") if done else []
        prefix = done + "," if done else ""
        return [CompletionItem(prefix + t) for t in STORE_TYPES if t.startswith(last) and t not in given]


class PasswordSource(click.ParamType):
    """Where a password comes from (pass:TEXT, env:VAR, file:PATH, prompt, generate:PATH): kept
    as typed and resolved by secret() when the command needs it, so a prompt comes only after
    the cheap checks; the shell completes the forms."""

    name = "SRC"
    FORMS = ("pass:", "env:", "file:", "prompt", "generate:")

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(form) for form in self.FORMS if form.startswith(incomplete)]


KEY_TYPE = click.Choice(KEY_TYPES)
PASSWORD_SOURCE = PasswordSource()


def password_option(name: str, help: str, dest: str | None = None):
    """An option naming a password source: --storepass SRC and its kin, with the forms in its help."""
    decls = (name, dest) if dest else (name,)
    return click.option(*decls, metavar="SRC", type=PASSWORD_SOURCE, help=f"{help} {SECRET_HELP}")


def storepass_option(help: str = "Store password."):
    return password_option("--storepass", help)


def keypass_option(help: str = "Key password, if it differs from the store password."):
    return password_option("--keypass", help)


def key_password_option(help: str = "Password of an encrypted --key."):
    return password_option("--key-password", help)


def ca_password_option(help: str = "Password of ca.key."):
    return password_option("--ca-password", help)


def alias_option(help: str = "Which keystore entry (default: the only key entry).", dest: str | None = None,
                 **kwargs):
    decls = ("--alias", dest) if dest else ("--alias",)
    return click.option(*decls, help=help, **kwargs)


def ca_dir_option(help: str = "The CA folder.", required: bool = True):
    return click.option("--ca", "ca_dir", required=required, type=click.Path(file_okay=False), help=help)


def compat_option(f):
    return click.option("--compat", type=click.Choice(["java8"]),
                        help="PKCS12 readable by Java 8 before 8u301 (PBES1 SHA1/3DES, SHA-1 MAC).")(f)


def key_type_option(default: str, help: str):
    return click.option("--key-type", type=KEY_TYPE, default=default, show_default=True, help=help)


def days_option(help: str, default: int | None = None):
    if default is None:
        return click.option("--days", type=click.IntRange(min=1), help=help)
    return click.option("--days", type=click.IntRange(min=1), default=default, show_default=True, help=help)


def san_option(help: str):
    return click.option("--san", multiple=True, metavar="TYPE:VALUE", help=help)


def json_option(help: str):
    return click.option("--json", "as_json", is_flag=True, help=help)


def force_option(f):
    return click.option("--force", is_flag=True, help="Replace output files that already exist.")(f)


def allow_expired_option(f):
    return click.option("--allow-expired", is_flag=True,
                        help="Package an expired certificate anyway (refused by default).")(f)


def no_storepass_option(f):
    return click.option("--no-storepass", is_flag=True,
                        help="The store has no password (a password-less PKCS12 truststore): read it as "
                             "Java does without one, so its integrity is not checked.")(f)


# --- reading inputs: passwords, certificates, keys, keystores, the CA folder --------------------

def secret(spec, option, *, confirm=False, label=None, allow_empty=False):
    from .. import passwords

    return passwords.resolve(spec, option=option, confirm=confirm, label=label, allow_empty=allow_empty)


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


def read_certificates(path, what: str = "certificate"):
    """Every certificate in a PEM or DER file (a bundle in its order); an error names the file."""
    from .. import certs, files

    return certs.load_certificates(files.read(path, what=what), what=str(path))


def read_key(path, password_spec: str | None, *, option: str = "--key-password", label: str | None = None,
             refuse_encrypted: str | None = None):
    """A private key file; its password (from password_spec) is asked for only when it is
    encrypted, or an encrypted key is refused with the message `refuse_encrypted`."""
    from .. import files, keys

    data = files.read(path, what="key")
    password = None
    if keys.is_encrypted(data):
        if refuse_encrypted is not None:
            raise KtpyError(refuse_encrypted)
        password = secret(password_spec, option, label=label).value
    return keys.load_private_key(data, password, what=f"the key {path}")


def read_key_and_chain(key_path: str, key_password: str | None, cert_path: str, chain_paths=(), *,
                       pool: bool = False):
    """(key, chain leaf first) from a key file and certificate files, the key matched with its
    certificate among them and the rest ordered as its issuers (all of them must be; with
    pool, certificates not on the key's path are left out)."""
    from .. import certs, keys
    from ..errors import MismatchError

    key = read_key(key_path, key_password, label="password of the key file")
    given = read_certificates(cert_path)
    for path in chain_paths:
        given += read_certificates(path, what="chain file")
    leaf = next((c for c in given if keys.same_public_key(c.public_key(), key.public_key())), None)
    if leaf is None:
        raise MismatchError(f"the private key {key_path} does not match the certificate in {cert_path}")
    others = [c for c in given if c is not leaf]
    return key, (certs.split_chain(leaf, others)[0] if pool else certs.order_chain(leaf, others))


def open_keystore(where, storepass_spec: str | None, keypass_spec: str | None = None, *,
                  label: str = "store password", alias: str | None = None, no_storepass: bool = False,
                  carry: bool = False, sealed: bool = False, what: str = "keystore"):
    """(keystore, store password) for a keystore file (a path, or an opener.Source already read),
    through the one opener: the store password from storepass_spec (store_password), asked for
    only once the file is known to be a keystore; keys decrypted with the --keypass password when
    given, else with the store password (with `alias`, only that entry's key), unless `sealed`.
    With no_storepass the password is None and keys stay sealed. With carry and no --keypass, a
    key the store password does not open stays sealed instead of failing (a rewrite in the same
    type carries it; another type refuses it, naming it)."""
    from .. import opener
    from ..passwords import Password

    opened = opener.open_store(
        where, lambda: store_password(storepass_spec, no_storepass, label=label),
        keypass=(lambda: secret(keypass_spec, "--keypass", label="key password", allow_empty=True).value)
        if keypass_spec else None,
        mode=opener.Mode.SEALED if sealed else opener.Mode.READ, alias=alias, carry=carry, what=what)
    return opened.store, None if opened.storepass is None else Password(opened.storepass)


def store_alias(alias: str, verb: str = "stored") -> str:
    """The alias as Java will read it (lowercase), with a notice when that differs from `alias`."""
    from .. import keystore

    lowered = keystore.normalize_alias(alias)
    alias_notice(alias, lowered, verb)
    return lowered


def alias_notice(given: str, stored: str, verb: str = "stored") -> None:
    """The notice that an alias is kept in lowercase, when it was given otherwise."""
    if given != stored:
        note(f"Notice: alias {given!r} is {verb} as {stored!r} {LOWERCASE_WHY}")


LOWERCASE_WHY = "(Java lowercases aliases and Mule matches them exactly; use the lowercase form in Mule)"


def load_ca_dir(ca_dir: str, password_spec: str | None, option: str):
    """The CA in a folder made by create-ca (ca.CA keeps the layout); the password is asked for
    only when its key is encrypted."""
    from .. import ca, files

    folder = Path(ca_dir)
    if not folder.is_dir():
        raise KtpyError(f"CA folder {folder} does not exist")

    def read(name: str, what: str) -> bytes | None:
        path = folder / name
        return files.read(path, what=what) if name != ca.CHAIN_FILE or path.exists() else None

    return ca.CA.from_files(read, lambda: secret(password_spec, option, label="CA key password").value,
                            folder=folder)


def record_issued(ca_dir, certificates, *, by: str, renews: int | None = None) -> None:
    """Record each certificate the CA of ca_dir issued in its ledger (ledger.LedgerFile), before
    the certificate's own files are written."""
    from .. import issue, ledger

    ledger.LedgerFile.of(ca_dir).record_issued(certificates, by=by, now=issue.utcnow(), renews=renews)


# --- packaging: warn before expiry, refuse an expired certificate ---

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
