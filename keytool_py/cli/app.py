"""The `ktpy` group: which module defines each command, the exit codes and the one place that
maps library errors to them (a KtpyError is one line `Error: ...` on stderr; tracebacks only
with --debug), and how messages reach stderr (note) and text stdout (echo_lines).

Command modules (*_cmds.py) import this, options.py and inputs.py, never each other.
"""

from __future__ import annotations

import enum
import errno
import os
import warnings

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
COMMAND_MODULES.update({"salesforce-app": "salesforce_cmds"})
COMMAND_MODULES.update({"fetch-chain": "trust_cmds", "verify-trust": "trust_cmds"})  # the server side
COMMAND_MODULES.update({name: "edit_cmds" for name in  # changing a keystore in place
                        ("delete", "rename", "passwd", "import", "merge", "export-key")})


# `ktpy --help` lists the commands by what the user is doing (as git help and step group theirs).
# A command added to COMMAND_MODULES belongs under one of these headings: until it is, --help
# lists it under "Other" and tests/test_cli_shared.py fails, saying so.
COMMAND_GROUPS = {
    "Make": ("kit", "create-ca", "issue-client", "create-csr", "sign-csr"),
    "Package": ("build-keystore", "build-truststore", "convert", "export-pem", "export-key"),
    "Change a store": ("delete", "rename", "passwd", "import", "merge"),
    "Check": ("inspect", "verify", "probe", "fetch-chain", "verify-trust"),
    "Mule and Salesforce": ("mule-config", "sign-jwt", "secure-props", "salesforce-app"),
    "Over time": ("expiry", "renew", "revoke", "crl"),
}


class _Group(click.Group):
    """Loads commands on demand; lists them under COMMAND_GROUPS' headings; turns library errors
    into one line on stderr and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = {name: self.get_command(ctx, name) for name in self.list_commands(ctx)}
        shown = {name: command for name, command in commands.items() if command is not None and not command.hidden}
        if not shown:
            return
        grouped = {name for names in COMMAND_GROUPS.values() for name in names}
        sections = [(title, [n for n in names if n in shown]) for title, names in COMMAND_GROUPS.items()]
        sections.append(("Other", [n for n in shown if n not in grouped]))
        width = max(len(name) for name in shown)  # one column for every heading
        limit = formatter.width - 6 - width
        for title, names in sections:
            if names:
                with formatter.section(title):
                    formatter.write_dl([(n.ljust(width), shown[n].get_short_help_str(limit)) for n in names])

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
      ktpy kit --out-dir kit --subject "CN=mule-client,O=Acme" \\
          --storepass generate:kit/storepass.txt
      ktpy create-ca --dir ca --subject "CN=Dev Root CA,O=Acme" --password prompt
      ktpy issue-client --ca ca --subject "CN=mule-client,O=Acme" --out-dir client
      ktpy export-pem client/mule-client.pem -o salesforce-upload.pem
      ktpy build-keystore --type jks --key client/mule-client.key \\
          --cert client/mule-client-chain.pem --alias mule-client \\
          --storepass env:STOREPASS -o keystore.jks
    """
