"""Commands that change a keystore in place: delete, rename, passwd, import, merge, and
export-key, which takes a key out of one.

Each locks the store (files.locked, --wait), reads it (remembering which version it read), works the edit out as a value
(keytool_py.edit), and replaces the file atomically through files.replace_in_place: on any
failure the file is left byte for byte as it was, and a file that changed meanwhile is not
replaced. --backup keeps the old file as STORE.bak (0600); --dry-run prints the plan.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from . import inputs, options
from ._wait import wait_option, wait_seconds
from .app import EXIT_CODES, cli, echo_lines, note


def store_argument(f):
    return click.argument("store", metavar="STORE", type=click.Path(dir_okay=False))(f)


_storepass = options.storepass_option("The keystore's password.")


def edit_options(f):
    f = wait_option(f)
    f = click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")(f)
    return click.option("--backup", is_flag=True, help="Keep the old file as STORE.bak (mode 0600).")(f)


def _read_store(path: str, storepass: str | None, *, label: str = "store password", option: str = "--storepass"):
    """(snapshot of the file, store password, the store read sealed) through opener.editing: the
    store is read once, its identity kept, under its lock (files.locked, --wait), held until the
    command ends: read, edit and replace are one step for other ktpy."""
    from .. import opener
    from ..passwords import Password

    opened = click.get_current_context().with_resource(
        opener.editing(path, lambda: inputs.secret(storepass, option, label=label).value, wait=wait_seconds()))
    return opened.source.snapshot, Password(opened.storepass or ""), opened.store


def _kept(snapshot, store):
    """(compat, protected) of the store as it is, for the Plan: a PKCS12 keeps the Java it was
    readable by, and a password-less one (no MAC, certificates in the clear) stays so."""
    from .. import edit
    from ..keystore import StoreType
    from ..keystore.pkcs12 import compat_of

    if store.type is not StoreType.PKCS12:
        return None, True
    return compat_of(snapshot.data), edit.pkcs12_protected(snapshot.data)


def _apply(snapshot, plan, *, backup: bool, dry_run: bool, done: str, new_passwords=()) -> None:
    """Write the plan over the file it was read from (or print it, with --dry-run)."""
    from .. import files
    from ..keystore import EntryKind

    if dry_run:
        echo_lines(plan.changes() or ["no entry changes (passwords only)"])
        note(f"Dry run: {snapshot.path} was not changed")
        return
    data = plan.encode()
    generated = inputs.secret_outputs(*new_passwords)
    files.write_all(generated)  # a new password file first: never a store whose password is lost
    try:
        replaced = files.replace_in_place(snapshot, data, backup=backup,
                                          secret=any(e.kind is not EntryKind.TRUSTED_CERT for e in plan.after.entries))
    except BaseException:
        for out in generated:
            with contextlib.suppress(OSError):
                os.unlink(out.path)
        raise
    kept = f"; the old file is {replaced.backup}" if replaced.backup else ""
    count = len(plan.after.entries)
    through = f" (through the link to {replaced.path})" if replaced.path != snapshot.path.absolute() else ""
    mode = replaced.path.stat().st_mode & 0o777
    note(f"{done}: {snapshot.path}{through} ({plan.after.type.value.upper()}, {count} "
         f"{'entry' if count == 1 else 'entries'}, mode {mode:04o}){kept}")
    for line in replaced.notices:
        note(f"Notice: {line}")


# --- delete ----------------------------------------------------------------------------------

@cli.command("delete", epilog=EXIT_CODES)
@store_argument
@options.alias_option("The entry to remove.", required=True)
@_storepass
@edit_options
def delete_cmd(store, alias, storepass, backup, dry_run):
    """Remove one entry from a keystore, in place (keytool -delete). Every other entry stays
    as it was, keys under their own passwords.

    \b
    EXAMPLES
      ktpy delete keystore.jks --alias old-client --storepass env:STOREPASS
      ktpy delete truststore.p12 --alias expired-root --storepass file:pass.txt --backup
    """
    from .. import edit

    snapshot, pw, before = _read_store(store, storepass)
    entry = edit.find(before, alias)
    plan = edit.Plan(before, edit.delete(before, alias), pw.value, *_kept(snapshot, before))
    _apply(snapshot, plan, backup=backup, dry_run=dry_run, done=f"Deleted {entry.alias!r} ({entry.kind.value})")


# --- rename ----------------------------------------------------------------------------------

@cli.command("rename", epilog=EXIT_CODES)
@store_argument
@options.alias_option("The entry's current alias.", required=True)
@click.option("--to", "new_alias", required=True, help="Its new alias (stored in lowercase).")
@_storepass
@options.keypass_option("The key's password, to check it (the key itself is carried unchanged).")
@edit_options
def rename_cmd(store, alias, new_alias, storepass, keypass, backup, dry_run):
    """Give an entry a new alias, in place (keytool -changealias). The key keeps its password.
    A mixed-case alias that Java cannot look up can be renamed by its exact spelling.

    \b
    EXAMPLES
      ktpy rename keystore.jks --alias Mule-Client --to mule-client --storepass env:STOREPASS
    """
    from .. import edit

    snapshot, pw, before = _read_store(store, storepass)
    entry = edit.find(before, alias)
    if keypass:
        edit.open_entry(before, entry.alias, inputs.secret(keypass, "--keypass", label="key password").value)
    after = edit.rename(before, alias, new_alias)
    stored = next(e.alias for e in after.entries if e not in before.entries)
    inputs.alias_notice(new_alias.strip(), stored)
    plan = edit.Plan(before, after, pw.value, *_kept(snapshot, before))
    _apply(snapshot, plan, backup=backup, dry_run=dry_run, done=f"Renamed {entry.alias!r} to {stored!r}")


# --- passwd ----------------------------------------------------------------------------------

@cli.command("passwd", epilog=EXIT_CODES)
@store_argument
@_storepass
@options.password_option("--new-storepass", "The new store password.")
@options.alias_option("The entry whose key password changes (with --new-keypass).")
@options.keypass_option("That key's password now (default: the store password).")
@options.password_option("--new-keypass", "That key's new password (JKS, JCEKS).")
@edit_options
def passwd_cmd(store, storepass, new_storepass, alias, keypass, new_keypass, backup, dry_run):
    """Change the store password (keytool -storepasswd), or one key's password (keytool
    -keypasswd), in place.

    Keys whose password was the store password get the new one too, so they stay equal: PKCS12
    needs that, and so does the Salesforce connector's JWT connection, which has no key
    password field. Keys with their own password keep it.

    \b
    EXAMPLES
      ktpy passwd keystore.jks --storepass file:old.txt --new-storepass generate:new.txt
      ktpy passwd keystore.jks --storepass env:STOREPASS --alias mule-client \\
          --keypass env:OLD_KEYPASS --new-keypass env:KEYPASS
    """
    from .. import edit

    if not new_storepass and not new_keypass:
        raise click.UsageError("give --new-storepass, or --alias with --new-keypass")
    if (keypass or new_keypass) and not alias:
        raise click.UsageError("--keypass and --new-keypass go with --alias (the entry whose key password changes)")
    if alias and not new_keypass:
        raise click.UsageError("--alias names the entry whose key password changes: give --new-keypass")
    snapshot, pw, before = _read_store(store, storepass)
    new_pw = (inputs.secret(new_storepass, "--new-storepass", confirm=True, label="new store password")
              if new_storepass else pw)
    changed = new_pw.value != pw.value
    after = edit.for_new_storepass(before, pw.value, new_pw.value)
    notes = edit.key_password_notes(after, storepass_changed=changed, skip=alias)
    new_key_pw = None
    if alias:
        old_key = inputs.secret(keypass, "--keypass", label="key password").value if keypass else pw.value
        entry = edit.open_entry(before, alias, old_key)
        new_key_pw = inputs.secret(new_keypass, "--new-keypass", confirm=True, label="new key password")
        after = edit.set_key_password(after, entry, new_key_pw.value, storepass=new_pw.value)
        same = new_key_pw.value == new_pw.value
        notes.append(f"the key password of {entry.alias!r} is now "
                     + ("the store password" if same else "its own (the one given by --new-keypass)"))
    plan = edit.Plan(before, after, new_pw.value, _kept(snapshot, before)[0])  # a new password protects
    done = "Changed the store password" if changed else "Changed a key password"
    if dry_run and notes:
        echo_lines(notes)
    _apply(snapshot, plan, backup=backup, dry_run=dry_run, done=done,
           new_passwords=(new_pw if changed else None, new_key_pw))
    if not dry_run:
        for line in notes:
            note(f"  {line}")


# --- import ----------------------------------------------------------------------------------

@cli.command("import", epilog=EXIT_CODES)
@store_argument
@click.option("--trusted", "trusted_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Certificate(s) to add as trusted entries (PEM, several blocks allowed, or DER; repeatable).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False), help="Private key of a key entry to add.")
@options.key_password_option()
@click.option("--cert", "cert_path", type=click.Path(dir_okay=False), help="The --key's certificate (and chain).")
@click.option("--chain", "chain_paths", multiple=True, type=click.Path(dir_okay=False),
              help="PEM file(s) with issuer certificates for --key (repeatable).")
@click.option("--reply", "reply_path", type=click.Path(dir_okay=False),
              help="A CA's reply (PEM bundle, .p7b or one certificate) for the key entry --alias.")
@options.alias_option("The entry's alias (for --reply: the existing key entry).")
@_storepass
@options.keypass_option("Key password of the new --key entry (JKS, JCEKS); default: the store password.")
@options.allow_expired_option
@edit_options
def import_cmd(store, trusted_paths, key_path, key_password, cert_path, chain_paths, reply_path, alias,
               storepass, keypass, backup, dry_run, allow_expired=False):
    """Add trusted certificates, a key entry, or a CA's reply to a keystore, in place
    (keytool -importcert, -importkeystore of one key).

    --reply is keytool's -importcert of a CA reply: the renewal path. The reply's certificate
    must be for the key of entry --alias (same public key) and each certificate must be signed
    by the next; the chain replaces the entry's chain, and alias and key stay as they are.

    \b
    EXAMPLES
      ktpy import truststore.jks --trusted partner-root.pem --alias partner-root --storepass env:STOREPASS
      ktpy import keystore.jks --key c.key --cert c.pem --chain ca.pem --alias second --storepass env:STOREPASS
      ktpy create-csr --keystore keystore.jks --alias mule-client --storepass env:STOREPASS --out renew.csr
      ktpy import keystore.jks --reply signed-chain.pem --alias mule-client --storepass env:STOREPASS
    """
    from .. import edit, files

    modes = [m for m, on in (("--trusted", trusted_paths), ("--key", key_path), ("--reply", reply_path)) if on]
    if len(modes) != 1:
        raise click.UsageError("give exactly one of --trusted, --key (with --cert) or --reply")
    if key_path and not cert_path:
        raise click.UsageError("--key needs --cert (the key's certificate)")
    if (cert_path or chain_paths) and not key_path:
        raise click.UsageError("--cert and --chain go with --key")
    if (key_path or reply_path) and not alias:
        raise click.UsageError(f"{modes[0]} needs --alias")
    if keypass and not key_path:
        raise click.UsageError("--keypass goes with --key")
    snapshot, pw, before = _read_store(store, storepass)
    new_key_pw = None
    if trusted_paths:
        found = [c for path in trusted_paths for c in inputs.read_certificates(path)]
        after = edit.add_trusted(before, found, alias=alias)
        added = [e.alias for e in after.entries[len(before.entries):]]
        more = f" and {len(added) - 5} more" if len(added) > 6 else ""
        done = f"Added trusted {', '.join(repr(a) for a in (added[:5] if more else added))}{more}"
    elif key_path:
        key, chain = inputs.read_key_and_chain(key_path, key_password, cert_path, chain_paths)
        inputs.guard_expiry(chain[0], allow_expired=allow_expired)
        new_key_pw = inputs.secret(keypass, "--keypass", confirm=True, label="new key password") if keypass else None
        after = edit.add_key(before, key, chain, alias=alias, storepass=pw.value,
                             keypass=new_key_pw.value if new_key_pw else None)
        entry = after.entries[-1]
        inputs.alias_notice(alias.strip(), entry.alias)
        done = f"Added key entry {entry.alias!r} ({edit.describe_entry(entry)})"
    else:
        reply = edit.read_reply(files.read(reply_path, what="reply"), what=reply_path)
        after = edit.apply_reply(before, alias, reply)
        entry = edit.find(after, alias)
        inputs.guard_expiry(entry.chain[0], allow_expired=allow_expired, what="the reply's certificate")
        done = (f"Installed the CA reply in {entry.alias!r} ({edit.describe_entry(entry)}; "
                f"valid until {entry.chain[0].not_valid_after_utc:%Y-%m-%d}; the key is unchanged)")
    plan = edit.Plan(before, after, pw.value, *_kept(snapshot, before))
    _apply(snapshot, plan, backup=backup, dry_run=dry_run, done=done, new_passwords=(new_key_pw,))


# --- merge -----------------------------------------------------------------------------------

@cli.command("merge", epilog=EXIT_CODES)
@click.argument("dest", metavar="DEST", type=click.Path(dir_okay=False))
@click.argument("sources", metavar="SRC...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--src-alias", help="Take only this entry from the sources.")
@click.option("--dest-alias", help="The alias it gets in DEST (with --src-alias).")
@options.password_option("--dest-storepass", "DEST's password.")
@options.password_option("--src-storepass", "The sources' password (default: DEST's).")
@options.password_option("--src-keypass", "Password of source keys that have their own, when they must be re-protected "
                 "(a source of another type).")
@edit_options
def merge_cmd(dest, sources, src_alias, dest_alias, dest_storepass, src_storepass, src_keypass, backup, dry_run):
    """Add the entries of other keystores to DEST, in place (keytool -importkeystore). An alias
    DEST already has is refused, never overwritten: take that entry under another name with
    --src-alias A --dest-alias B. Source keys whose password was their store's password get
    DEST's store password; keys with their own password keep it (same type) or get DEST's.

    \b
    EXAMPLES
      ktpy merge keystore.jks partner.jks --dest-storepass env:STOREPASS --src-storepass env:PARTNER_PASS
      ktpy merge truststore.p12 old.jks --src-alias root --dest-alias old-root --dest-storepass env:PASS
    """
    from .. import edit, opener

    if dest_alias and not src_alias:
        raise click.UsageError("--dest-alias goes with --src-alias (the entry it renames)")
    for source in sources:
        if Path(source).resolve() == Path(dest).resolve():
            raise click.UsageError(f"{source} is the destination itself")
    snapshot, dest_pw, before = _read_store(dest, dest_storepass, label="destination store password",
                                            option="--dest-storepass")
    src_pw = (inputs.secret(src_storepass, "--src-storepass", label="source store password")
              if src_storepass else dest_pw)
    loaded = []
    for source in sources:
        read = opener.open_store(source, lambda: src_pw.value, mode=opener.Mode.SEALED, what="source keystore")
        src_key_pw = (lambda: inputs.secret(src_keypass, "--src-keypass", label="source key password").value) \
            if src_keypass else None
        loaded.append(edit.merge_source(read.store, before, src_storepass=src_pw.value,
                                        dest_storepass=dest_pw.value, src_keypass=src_key_pw))
    after = edit.merge(before, loaded, src_alias=src_alias, dest_alias=dest_alias)
    added = ", ".join(repr(e.alias) for e in after.entries[len(before.entries):])
    plan = edit.Plan(before, after, dest_pw.value, *_kept(snapshot, before))
    _apply(snapshot, plan, backup=backup, dry_run=dry_run, done=f"Merged {added} from {len(sources)} keystore(s)")


# --- export-key ------------------------------------------------------------------------------

@cli.command("export-key", epilog=EXIT_CODES)
@store_argument
@options.alias_option("The key entry (default: the only one).")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="The key file to write (PEM).")
@options.key_password_option("Encrypt the exported key with this password.")
@click.option("--no-encrypt", is_flag=True, help="Write the key unencrypted (what sf org login jwt reads).")
@_storepass
@options.keypass_option("The key's password in the store (default: the store password).")
@options.force_option
def export_key_cmd(store, alias, out, key_password, no_encrypt, storepass, keypass, force):
    """Write a key entry's private key as PKCS#8 PEM, mode 0600: encrypted with --key-password
    (PBES2, AES-256), or unencrypted with --no-encrypt, which is what the Salesforce CLI's
    `sf org login jwt --jwt-key-file` reads.

    \b
    EXAMPLES
      ktpy export-key keystore.jks --alias mule-client --storepass env:STOREPASS \\
          --key-password prompt -o mule-client.key
      ktpy export-key keystore.jks --alias mule-client --storepass env:STOREPASS --no-encrypt -o server.key
    """
    from .. import files, keys, keystore

    if no_encrypt and key_password:
        raise click.UsageError("--key-password and --no-encrypt exclude each other")
    files.check_writable([files.Output(Path(out), b"")], force=force)
    stored, pw, entry = inputs.stored_entry(store, alias, storepass)
    if entry.kind is not keystore.EntryKind.PRIVATE_KEY:
        from ..errors import BadInputError

        raise BadInputError(f"the entry {entry.alias!r} is a {entry.kind.value}, not a private key entry")
    key = inputs.open_stored_entry(stored, pw, entry, keypass).key
    out_pw = None if no_encrypt else inputs.secret(key_password, "--key-password", confirm=True,
                                            label="password for the exported key")
    files.write_all([files.Output(Path(out), keys.private_key_to_pem(key, out_pw.value if out_pw else None),
                                  secret=True)] + inputs.secret_outputs(out_pw), force=force)
    how = ("encrypted (PBES2, AES-256)" if out_pw else
           "NOT encrypted, as sf org login jwt --jwt-key-file needs: keep it private")
    note(f"Wrote {out} (PKCS#8 private key of {entry.alias!r}, {keys.describe_key(key)}, {how}, mode 0600)")
