"""The options and kinds of input every command shares: one click.ParamType each (store types,
password sources), and decorators for the options that mean the same everywhere (@force_option)
or whose help a command words (@storepass_option("...")).
"""

from __future__ import annotations

import click

from ..errors import KtpyError

SECRET_HELP = "SRC is pass:TEXT, env:VAR, file:PATH, prompt or generate:PATH."
# keys.KeyType and keystore.StoreType, spelled out so that `ktpy --help` loads no cryptography
# (tests/test_cli.py checks they agree).
KEY_TYPES = ["rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384"]
STORE_TYPES = ["jks", "pkcs12", "jceks"]
# ... and the ones ktpy reads too: Bouncy Castle's BKS and UBER (docs/formats.md)
READ_STORE_TYPES = [*STORE_TYPES, "bks", "uber"]


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
        from ..keystore import parse_types, writable_type

        for item in filter(None, (item.strip() for item in value.split(","))):
            try:
                writable_type(item)  # BKS and UBER are read, never written
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




class KeyTypeChoice(click.Choice):
    """KEY_TYPES, also spelled with a hyphen after rsa (`rsa-3072`), as KeyType reads them; help
    and completion show the one spelling each."""

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            from ..keys import KeyType

            value = KeyType._aliases().get(value.lower(), value)
        return super().convert(value, param, ctx)


KEY_TYPE = KeyTypeChoice(KEY_TYPES)
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
    """--ca CA_DIR, and --pin SRC for a CA whose key is in a PKCS#11 token (load_ca_dir reads it)."""
    def decorate(f):
        f = pin_option("PIN of the token that holds the CA key (a CA folder with ca.pkcs11).")(f)
        return click.option("--ca", "ca_dir", required=required, type=click.Path(file_okay=False), help=help)(f)

    return decorate


PIN_KEY = "ktpy.pin"


def pin_option(help: str):
    """--pin SRC, kept in the context for load_ca_dir (so the commands that take --ca need no
    parameter for it)."""
    def remember(ctx: click.Context, param: click.Parameter, value):
        if value is not None:
            ctx.meta[PIN_KEY] = value
        return value

    return click.option("--pin", metavar="SRC", type=PASSWORD_SOURCE, expose_value=False, callback=remember,
                        help=f"{help} {SECRET_HELP}")


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


def source_type_option(f):
    return click.option("--type", "source_type", type=click.Choice(READ_STORE_TYPES),
                        help="Read the keystore as this type (default: from its content; BKS and UBER, which "
                             "have no magic number, are recognised too).")(f)


def no_storepass_option(f):
    return click.option("--no-storepass", is_flag=True,
                        help="The store has no password (a password-less PKCS12 truststore): read it as "
                             "Java does without one, so its integrity is not checked.")(f)


# --- options commands share with a command of another module ---

DEFAULT_APP_NAME = "Mule_Integration"  # salesforce_app.DEFAULT_NAME, spelled out to keep --help light
SALESFORCE_KIT_FOLDER = "salesforce"  # where `kit --salesforce-app` writes the project


def server_options(f):
    """--servername, --proxy, --no-proxy, --timeout and --system-bundle, for every command that
    fetches a server's chain."""
    options = [
        click.option("--servername", metavar="NAME", help="The SNI name to send (default: the host, unless an IP "
                                                          "address)."),
        click.option("--proxy", metavar="HOST:PORT", help="HTTP proxy to CONNECT through (default: https_proxy "
                                                          "from the environment, honouring no_proxy)."),
        click.option("--no-proxy", is_flag=True, help="Connect directly even when https_proxy is set."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
                     help="Seconds the connection and the handshake may take in all."),
        click.option("--system-bundle", type=click.Path(dir_okay=False), metavar="FILE",
                     help="The trust bundle to take a root from when the server does not send it "
                          "(default: $SSL_CERT_FILE, else the system's, /etc/ssl/certs/ca-certificates.crt)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def salesforce_kit_options(f):
    """The options `kit` takes for its salesforce/ folder."""
    f = click.option("--contact-email", "sf_contact_email", metavar="ADDR",
                     help="With --salesforce-app: the app's contact email.")(f)
    f = click.option("--app-name", "sf_app_name", default=DEFAULT_APP_NAME, show_default=True,
                     help="With --salesforce-app: the app's API name.")(f)
    f = click.option("--salesforce-app", "salesforce_app", is_flag=True,
                     help=f"Also write {SALESFORCE_KIT_FOLDER}/: the SFDX project of the External Client App holding "
                          "the client certificate (see ktpy salesforce-app).")(f)
    return f
