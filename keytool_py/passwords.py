"""The only place passwords come from: pass:TEXT, env:VAR, file:PATH, prompt, generate:PATH.

A password is never printed, logged or put in an error message; Password's repr hides it.
"""

from __future__ import annotations

import getpass
import os
import secrets as _random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInputError, OutputExistsError

FORMS = "pass:TEXT, env:VAR, file:PATH, prompt or generate:PATH"
PASS_WARNING = (
    "Warning: {option} pass:... shows the password in the process list and shell history; "
    "prefer env:VAR, file:PATH or prompt"
)
# The most a password file may hold. Passwords are short; keytool's own -storepass:file and
# OpenSSL's file: read one line. A bound keeps file:/dev/zero from eating memory.
MAX_PASSWORD_FILE = 4096
# 18 random bytes -> 24 URL-safe characters: 144 bits, printable ASCII so JCEKS takes it too.
GENERATED_BYTES = 18


class MissingSecretError(BadInputError):
    """No password source was given and there is no terminal to ask on: a usage error."""


@dataclass(frozen=True)
class Password:
    value: str = field(repr=False)
    # For generate:PATH, the file the caller must write (0600) with its other outputs, so
    # that a failed command leaves no password file for a store that was never written.
    generated_file: Path | None = None

    def __str__(self) -> str:  # an accidental print shows nothing secret
        return "********"


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _ask(label: str, confirm: bool) -> str:
    first = getpass.getpass(f"{label}: ", stream=sys.stderr)
    if confirm:
        again = getpass.getpass(f"{label} (again): ", stream=sys.stderr)
        if again != first:
            raise BadInputError("the two passwords typed do not match")
    return first


def resolve(spec: str | None, *, option: str, label: str | None = None, confirm: bool = False,
            allow_empty: bool = False,
            is_terminal: Callable[[], bool] = _stdin_is_terminal,
            ask: Callable[[str, bool], str] = _ask,
            warn: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> Password:
    """The password `spec` points at. `option` names the command-line option in messages;
    `confirm` asks twice when prompting (for a password that protects something new);
    `allow_empty` accepts the empty password (to open a store someone made with one)."""
    def _non_empty(value: str, option: str) -> str:
        return value if allow_empty else _refuse_empty(value, option)

    label = label or option.lstrip("-").replace("-", " ")
    if spec is None or spec == "prompt":
        if not is_terminal():
            raise MissingSecretError(
                f"no password given and stdin is not a terminal; "
                f"pass {option} env:VAR, file:PATH or pass:TEXT"
            )
        value = ask(f"Enter {label}", confirm)
        return Password(_non_empty(value, option))
    kind, sep, rest = spec.partition(":")
    # never echo any of the text: it may be the password itself ("S3cret:rest" without pass:)
    not_a_source = BadInputError(f"{option} takes {FORMS} (to give the password itself, write pass:...)")
    if not sep:
        raise not_a_source
    if kind == "pass":
        warn(PASS_WARNING.format(option=option))
        return Password(_non_empty(rest, option))
    if kind == "env":
        if rest not in os.environ:
            raise BadInputError(f"environment variable {rest} is not set (named by {option})")
        return Password(_non_empty(os.environ[rest], option))
    if kind == "file":
        return Password(_non_empty(_read_password_file(Path(rest), option), option))
    if kind == "generate":
        path = Path(rest)
        if not rest:
            raise BadInputError(f"{option} generate: needs a file to write the password to")
        if path.exists():
            raise OutputExistsError(
                f"{path} already exists; to use the password in it, pass {option} file:{path}"
            )
        return Password(new_password(), generated_file=path)
    raise not_a_source


def _read_password_file(path: Path, option: str) -> str:
    from .files import read

    try:
        data = read(path, what="password file", limit=MAX_PASSWORD_FILE)
        text = data.decode("utf-8")
    except BadInputError as exc:
        raise BadInputError(f"{exc} (named by {option})") from None
    except UnicodeDecodeError:
        raise BadInputError(f"password file {path} is not UTF-8 text (named by {option})") from None
    if text.startswith("\ufeff"):
        # Refused, not stripped: OpenSSL's -passin file: keeps the mark as part of the password,
        # so a store made with it stripped would not open there with the same file, nor the reverse.
        raise BadInputError(f"password file {path} begins with a UTF-8 byte-order mark (as Notepad may write); "
                            f"save it without one (named by {option})")
    # one trailing newline is how editors and `echo` end a file; it is not part of the password
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def _refuse_empty(value: str, option: str) -> str:
    if not value:
        raise BadInputError(f"the password given by {option} is empty")
    return value


def new_password() -> str:
    """A new random password (generate:PATH, a kit's CA key, each client of a batch)."""
    return _random.token_urlsafe(GENERATED_BYTES)
