"""Mule secure properties: secure-props encrypt and secure-props decrypt."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import KtpyError
from . import inputs, options
from .app import EXIT_CODES, cli, note


@cli.group("secure-props", epilog=EXIT_CODES)
def secure_props():
    """Encrypt and decrypt Mule secure properties (${secure::name}) the way Mule's
    secure-properties module and MuleSoft's Secure Properties Tool do: one value, every value of
    a .yaml or .properties file (comments kept), or a whole file (file-level encryption).

    \b
    EXAMPLES
      ktpy secure-props encrypt --key generate:secure.key "s3cret"
      ktpy secure-props encrypt --key file:secure.key --in plain.yaml --out secure.yaml
      ktpy secure-props decrypt --key env:SECURE_KEY "![...]"
    """


def _options(f):
    f = options.force_option(f)
    f = click.option("--file-level", is_flag=True,
                     help="With --in: the whole file as one Base64 line (Mule's fileLevelEncryption=\"true\").")(f)
    f = click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Output file (with --in).")(f)
    f = click.option("--in", "in_path", type=click.Path(dir_okay=False),
                     help="A .yaml or .properties file: every value in it (or the whole file with --file-level).")(f)
    f = click.option("--random-iv/--no-random-iv", default=True, show_default=True,
                     help="A random IV before each ciphertext (Mule's useRandomIVs=\"true\"). Mule's own "
                          "default is off: pass --no-random-iv for values made without it.")(f)
    f = click.option("--mode", type=click.Choice(["CBC", "CFB", "ECB", "OFB"], case_sensitive=False),
                     default="CBC", show_default=True, help="Block cipher mode.")(f)
    f = click.option("--algorithm", type=click.Choice(["AES", "Blowfish", "DES", "DESede"], case_sensitive=False),
                     default="AES", show_default=True, help="Cipher (the key's length picks AES-128/192/256).")(f)
    f = options.password_option(
        "--key", "The encryption key, the same string Mule gets as its key; generate:PATH makes "
                 "a random key of the longest length the cipher takes (AES: 32 characters, AES-256) into "
                 "PATH (mode 0600).", dest="key_spec")(f)
    return click.argument("value", required=False)(f)


def _settings(algorithm, mode, random_iv):
    from ..secure_properties import Settings, warnings

    settings = Settings(algorithm=algorithm, mode=mode, random_iv=random_iv)
    for warning in warnings(settings):
        note(f"Warning: {warning}")
    return settings


def _key(spec, settings, *, creating: bool):
    """The key password; generate:PATH makes a key of the right length for the cipher."""
    from .. import secure_properties
    from ..passwords import Password

    if spec and spec.startswith("generate:") and not creating:
        raise click.UsageError("--key generate: makes a new key, which cannot decrypt anything; "
                               "pass the key the values were encrypted with")
    key = inputs.secret(spec, "--key", confirm=creating, label="secure properties key")
    if key.generated_file is not None:
        key = Password(secure_properties.generate_key(settings.algorithm), generated_file=key.generated_file)
    secure_properties.key_bytes(key.value, settings)  # a wrong length fails before any work
    return key


def _key_name(spec: str | None) -> str:
    """The key as an error names it: its source, never a pass: value."""
    if not spec or spec == "prompt":
        return "the key typed at the prompt"
    if spec.startswith("pass:"):
        return "the key given by --key pass:..."
    if spec.startswith("generate:"):
        return f"the new key (--key {spec})"
    return f"the key --key {spec}"


def _check_usage(value, in_path, out_path, file_level):
    if value is not None and in_path:
        raise click.UsageError("give either VALUE or --in FILE, not both")
    if value is None and not in_path:
        raise click.UsageError("give a VALUE to encrypt or decrypt, or --in FILE --out FILE")
    if in_path and not out_path:
        raise click.UsageError("--in needs --out (the file to write)")
    if out_path and not in_path:
        raise click.UsageError("--out goes with --in")
    if file_level and not in_path:
        raise click.UsageError("--file-level goes with --in")


def _read_value(value: str) -> str:
    """VALUE, or one line from stdin for '-' (keeps the value out of the process list)."""
    if value != "-":
        return value
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _mule_hint(settings) -> str:
    iv = "true" if settings.random_iv else "false"
    return (f'Mule: <secure-properties:encrypt algorithm="{settings.algorithm}" mode="{settings.mode}" '
            f'useRandomIVs="{iv}"/>')


def _run(encrypt: bool, value, key_spec, algorithm, mode, random_iv, in_path, out_path, file_level, force):
    from .. import files
    from .. import secure_properties as sp

    _check_usage(value, in_path, out_path, file_level)
    settings = _settings(algorithm, mode, random_iv)
    outputs = [files.Output(Path(out_path), b"")] if out_path else []
    files.check_writable(outputs, force=force)
    key = _key(key_spec, settings, creating=encrypt)
    extra = inputs.secret_outputs(key)
    if in_path is None:
        if encrypt and value != "-":
            note("Warning: a VALUE on the command line shows in the process list and shell history; "
                 "pass - to read it from stdin")
        text = _read_value(value)
        if encrypt:
            shown = sp.encrypt_value(text, key.value, settings)
        else:
            try:
                shown = sp.decrypt_value(text, key.value, settings).decode("utf-8")
            except UnicodeDecodeError:
                raise KtpyError("the decrypted value is not UTF-8 text") from None
        if extra:
            files.write_all(extra, force=force)
            note(f"Wrote the new key to {key.generated_file} (mode 0600)")
        click.echo(shown)
        return
    data = files.read(in_path, what="input file")
    if file_level:
        result = (sp.encrypt_file_level if encrypt else sp.decrypt_file_level)(data, key.value, settings)
        what = "the whole file (file-level: fileLevelEncryption=\"true\")"
    else:
        kind = sp.file_kind(in_path)
        if encrypt:
            result, count = sp.encrypt_file(data, kind, key.value, settings, key_name=_key_name(key_spec))
        else:
            result, count = sp.decrypt_file(data, kind, key.value, settings)
        what = f"{count} value(s)"
    # decrypted output holds the secrets themselves: 0600 like a key
    files.write_all([files.Output(Path(out_path), result, secret=not encrypt)] + extra, force=force)
    note(f"{'Encrypted' if encrypt else 'Decrypted'} {what} of {in_path} into {out_path} "
         f"({settings.transformation}{', random IVs' if settings.random_iv else ''})")
    if extra:
        note(f"Wrote the new key to {key.generated_file} (mode 0600)")
    if encrypt:
        note(_mule_hint(settings))


@secure_props.command("encrypt", epilog=EXIT_CODES)
@_options
def encrypt_cmd(value, key_spec, algorithm, mode, random_iv, in_path, out_path, file_level, force):
    """Encrypt VALUE (or '-' for one line from stdin) and print ![...], or encrypt every value of
    --in FILE (.yaml or .properties; comments kept, values already ![...] left alone) into --out.
    Defaults: AES, CBC, random IVs; ECB and DES are warned about.

    \b
    EXAMPLES
      ktpy secure-props encrypt --key generate:secure.key "s3cret"
      ktpy secure-props encrypt --key file:secure.key --in plain.properties --out secure.properties
      ktpy secure-props encrypt --key env:SECURE_KEY --in app.yaml --out app.yaml.enc --file-level
    """
    _run(True, value, key_spec, algorithm, mode, random_iv, in_path, out_path, file_level, force)


@secure_props.command("decrypt", epilog=EXIT_CODES)
@_options
def decrypt_cmd(value, key_spec, algorithm, mode, random_iv, in_path, out_path, file_level, force):
    """Decrypt VALUE (![...] or bare Base64) and print it, or decrypt every ![...] value of --in
    FILE into --out (written with mode 0600: it holds the secrets).

    \b
    EXAMPLES
      ktpy secure-props decrypt --key file:secure.key "![...]"
      ktpy secure-props decrypt --key env:SECURE_KEY --no-random-iv --algorithm Blowfish "![...]"
      ktpy secure-props decrypt --key file:secure.key --in secure.yaml --out plain.yaml
    """
    _run(False, value, key_spec, algorithm, mode, random_iv, in_path, out_path, file_level, force)
