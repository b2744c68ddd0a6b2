"""Reading a command's inputs: passwords (from their sources), certificates, keys, keystores (through
the one opener), the CA folder; and the notices about what was read (an alias lowered, a
certificate about to expire). Everything here returns library objects; nothing decides policy.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import KtpyError
from .app import note
from .options import SALESFORCE_KIT_FOLDER


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
                  carry: bool = False, sealed: bool = False, what: str = "keystore", store_type: str | None = None):
    """(keystore, store password) for a keystore file (a path, or an opener.Source already read),
    through the one opener: the store password from storepass_spec (store_password), asked for
    only once the file is known to be a keystore; keys decrypted with the --keypass password when
    given, else with the store password (with `alias`, only that entry's key), unless `sealed`.
    With no_storepass the password is None and keys stay sealed. With carry and no --keypass, a
    key the store password does not open stays sealed instead of failing (a rewrite in the same
    type carries it; another type refuses it, naming it)."""
    from .. import opener
    from ..keystore import StoreType
    from ..passwords import Password

    opened = opener.open_store(
        where, lambda: store_password(storepass_spec, no_storepass, label=label),
        keypass=(lambda: secret(keypass_spec, "--keypass", label="key password", allow_empty=True).value)
        if keypass_spec else None,
        mode=opener.Mode.SEALED if sealed else opener.Mode.READ, alias=alias, carry=carry, what=what,
        store_type=StoreType.parse(store_type) if store_type is not None else None)
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
        optional = name in (ca.CHAIN_FILE, ca.TOKEN_FILE)
        return files.read(path, what=what) if not optional or path.exists() else None

    return ca.CA.from_files(read, lambda: secret(password_spec, option, label="CA key password").value,
                            folder=folder, pin=token_pin)


def token_pin(uri) -> str:
    """The PIN of the token `uri` names: from --pin, else the URI's pin-source, else a prompt."""
    from .. import hsm
    from .options import PIN_KEY

    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(PIN_KEY) if ctx else None
    return secret(hsm.pin_spec(given, uri), "--pin", label=f"PIN of token {uri.token or uri.serial}").value


def record_issued(ca_dir, certificates, *, by: str, renews: int | None = None) -> None:
    """Record each certificate the CA of ca_dir issued in its ledger (ledger.LedgerFile), before
    the certificate's own files are written."""
    from .. import issue, ledger

    ledger.LedgerFile.of(ca_dir).record_issued(certificates, by=by, now=issue.utcnow(), renews=renews)


def guard_expiry(cert, *, allow_expired: bool, what: str = "the certificate") -> None:
    """issue.packaging_expiry: refuse an expired certificate (unless allow_expired), warn when it
    expires soon."""
    from .. import issue

    warning = issue.packaging_expiry(cert, now=issue.utcnow(), allow_expired=allow_expired, what=what)
    if warning:
        note(f"Warning: {warning}")


# --- a key entry of a keystore file (export-key, create-csr --keystore)

def stored_entry(store, alias, storepass):
    """(keystore read sealed, store password, entry `alias` with its key still sealed) of a keystore file."""
    from .. import opener
    from ..passwords import Password

    opened = opener.open_store(store, lambda: secret(storepass, "--storepass", label="store password").value,
                               mode=opener.Mode.SEALED)
    return opened.store, Password(opened.storepass), opened.store.entry(alias)


def open_stored_entry(stored, pw, entry, keypass):
    """The entry with its key opened by --keypass (default: the store password)."""
    from .. import edit

    key_pw = secret(keypass, "--keypass", label="key password").value if keypass else pw.value
    return edit.open_entry(stored, entry.alias, key_pw)


def existing_key(key_path, key_password, store, alias, storepass, keypass):
    """(key, its certificate or None) for a renewal CSR: from a key file, or a keystore entry."""
    if key_path:
        return read_key(key_path, key_password, label="password of the key file"), None
    stored, pw, entry = stored_entry(store, alias, storepass)
    opened = open_stored_entry(stored, pw, entry, keypass)
    if opened.key is None:
        raise click.ClickException(f"the entry {entry.alias!r} holds no private key")
    return opened.key, opened.chain_for("so there is no certificate to renew from")[0]


# --- inputs commands share with a command of another module ---

def fetch(target: str, servername: str | None, proxy: str | None, no_proxy: bool, timeout: float):
    """The server's chain as sent (server_chain.fetch_chain), the proxy from --proxy or the environment."""
    from .. import server_chain

    host, port = server_chain.parse_server(target)
    if proxy and no_proxy:
        raise click.UsageError("give --proxy or --no-proxy, not both")
    via = server_chain.parse_proxy(proxy) if proxy else None if no_proxy else server_chain.proxy_for(host)
    return server_chain.fetch_chain(host, port, servername=servername, proxy=via, timeout=timeout)


def open_truststore(path: str, storepass, store_type: str | None, no_storepass: bool, option: str = "--storepass"):
    """The anchors Java would take from a truststore file (trust.anchors_of)."""
    from .. import opener, trust
    from ..errors import KtpyError
    from ..keystore import StoreType

    store = opener.open_store(
        path, lambda: store_password(storepass, no_storepass, label="truststore password", option=option),
        mode=opener.Mode.SEALED, what="truststore",
        store_type=StoreType.parse(store_type) if store_type is not None else None).store
    anchors = trust.anchors_of(store)
    if not anchors:
        raise KtpyError(f"the truststore {path} holds no certificate Java would trust")
    return anchors


def salesforce_kit_planned(salesforce_app: bool, app_name: str, contact_email: str | None) -> list[str]:
    """The kit's salesforce/ files (names relative to the kit), checked before any work is done."""
    if not salesforce_app:
        return []
    from ..salesforce_app import components

    spec = _kit_spec(app_name, contact_email)  # a bad name is refused here, before any key is made
    names = ["sfdx-project.json", "manifest/package.xml", ".gitignore", ".forceignore", "README.txt",
             *(c.path for c in components(spec))]
    return [f"{SALESFORCE_KIT_FOLDER}/{n}" for n in names]


def _kit_spec(app_name: str, contact_email: str | None):
    from ..salesforce_app import AppSpec

    return AppSpec(name=app_name, contact_email=contact_email)


def salesforce_kit_outputs(folder: Path, leaf, salesforce_app: bool, app_name: str, contact_email: str | None):
    """The files.Output list of the kit's salesforce/ folder for the kit's client certificate."""
    if not salesforce_app:
        return []
    from .. import files
    from ..salesforce_app import build_project

    project = build_project(leaf, _kit_spec(app_name, contact_email))
    return [files.Output(folder / SALESFORCE_KIT_FOLDER / f.name, f.data) for f in project]
