"""Commands that package, convert and export: export-pem, build-keystore, convert, build-truststore."""

from __future__ import annotations

from pathlib import Path

import click

from . import inputs, options
from .app import EXIT_CODES, cli, note

# --- export-pem ------------------------------------------------------------------------------

@cli.command("export-pem", epilog=EXIT_CODES)
@click.argument("source", type=click.Path(dir_okay=True))
@click.option("-o", "--out", default="-", show_default=True, type=click.Path(),
              help="Output file, or - for stdout.")
@click.option("--with-chain", is_flag=True,
              help="Add each issuer after the certificate, in order, without the root (what Salesforce asks for).")
@click.option("--with-root", is_flag=True, help="With --with-chain: add the root as well.")
@options.storepass_option("Store password when SOURCE is a keystore.")
@options.no_storepass_option
@options.alias_option()
@options.allow_expired_option
@options.force_option
def export_pem_cmd(source, out, with_chain, with_root, storepass, no_storepass, alias, force, allow_expired=False):
    """Export the certificate to upload to Salesforce as PEM: exactly one CERTIFICATE
    block by default (the leaf); with --with-chain the leaf, then the certificate that signed
    it, then each further intermediate, without the root (--with-root adds it). A bundle given
    out of order is written in order. Never a key.

    SOURCE is a PEM or DER certificate or chain, or a JKS, JCEKS or PKCS12 keystore (the type
    is read from the content). Upload the result in Setup > Certificate and Key Management >
    Upload Mutual Authentication Certificate: Salesforce's help asks for the chain (client
    certificate first, then each intermediate; the root optional, generally left out).

    \b
    EXAMPLES
      ktpy export-pem client/mule-client-chain.pem --with-chain -o salesforce-upload.pem
      ktpy export-pem keystore.jks --storepass env:STOREPASS --alias mule-client -o upload.pem
      ktpy export-pem keystore.p12 --storepass file:pass.txt --with-chain
    """
    from .. import certs, files, opener, upload

    if with_root and not with_chain:
        raise click.UsageError("--with-root goes with --with-chain")
    read = opener.read_source(source, what="source")
    if read.type is not None:
        store, _ = inputs.open_keystore(read, storepass, sealed=True, no_storepass=no_storepass)
        found = store.entry(alias).chain_for("so there is no certificate to export")
    else:
        found = certs.load_certificates(read.data, what=source)
        if alias:
            raise click.UsageError("--alias applies to keystores only")
    # ordered (and a certificate off the leaf's path refused) even when only the leaf is written
    chain = upload.upload_chain(found, with_root=with_root)
    if not with_chain:
        chain = chain[:1]
    inputs.guard_expiry(chain[0], allow_expired=allow_expired)
    pem = certs.to_pem(chain)
    if out == "-":
        click.echo(pem.decode("ascii"), nl=False)
    else:
        files.write_all([files.Output(Path(out), pem)], force=force)
        note(f"Wrote {out}: {len(chain)} certificate(s), {chain[0].subject.rfc4514_string()}, "
              f"valid until {chain[0].not_valid_after_utc:%Y-%m-%d}")
    for warning in upload.upload_warnings(chain[0]):
        note(f"Warning: {warning}")


# --- build-keystore --------------------------------------------------------------------------

def _keystore_paths(out: str, store_types: list[str]) -> list[Path]:
    """One type: -o is the file. Several: -o is a stem (OUT.jks, OUT.p12, OUT.jceks) or a folder
    (an existing one, or a name ending in '/': DIR/keystore.jks...)."""
    from ..keystore import StoreType

    suffixes = [StoreType(t).suffix for t in store_types]
    if len(store_types) == 1:
        return [Path(out)]
    if out.endswith(("/", "\\")) or Path(out).is_dir():
        return [Path(out) / f"keystore{suffix}" for suffix in suffixes]
    known = {".jks", ".p12", ".pfx", ".jceks"}
    if Path(out).suffix.lower() in known:
        raise click.UsageError(f"with several --type values, -o is a stem or a folder, not a file name: "
                               f"-o {Path(out).with_suffix('')} writes "
                               f"{', '.join(str(Path(out).with_suffix(s)) for s in suffixes)}")
    return [Path(out + suffix) for suffix in suffixes]


@cli.command("build-keystore", epilog=EXIT_CODES)
@click.option("--type", "store_types", required=True, metavar="TYPE[,TYPE...]",
              type=options.StoreTypes("{item!r} is not one of 'jks', 'pkcs12', 'jceks' (several may be given separated "
                              "by commas)"),
              help="Keystore type: jks, pkcs12 or jceks; several separated by commas write one of each.")
@click.option("--key", "key_paths", required=True, multiple=True, type=click.Path(dir_okay=True),
              help="Private key (PEM or DER; PKCS#8, PKCS#1 or SEC1). Repeat --key, --cert and --alias "
                   "together for several key entries (the n-th of each make one entry).")
@options.key_password_option()
@click.option("--cert", "cert_paths", required=True, multiple=True, type=click.Path(dir_okay=True),
              help="The certificate, optionally followed by its chain (one per --key).")
@click.option("--chain", "chain_paths", multiple=True, type=click.Path(dir_okay=True),
              help="PEM file(s) with issuer certificates (repeatable).")
@options.alias_option("Entry name; stored in lowercase (one per --key).", dest="aliases", required=True, multiple=True)
@options.storepass_option()
@options.keypass_option("Key password (JKS, JCEKS); default: the store password, which the "
                "Salesforce connector's JWT setup requires.")
@options.compat_option
@click.option("-o", "--out", required=True, type=click.Path(),
              help="Keystore file to write. With several types: a stem (OUT.jks, OUT.p12, OUT.jceks) "
                   "or a folder (an existing one, or ending in '/': DIR/keystore.jks ...).")
@options.allow_expired_option
@options.force_option
def build_keystore_cmd(store_types, key_paths, key_password, cert_paths, chain_paths, aliases,
                       storepass, keypass, compat, out, force, allow_expired=False):
    """Package a private key and its certificate chain into a JKS, PKCS12 or JCEKS keystore
    for Mule's TLS context and the Salesforce connector; with --type jks,pkcs12,jceks, one of
    each in one run (all written, or none).

    The keystore holds the leaf and every issuer given: Salesforce's port 8443 needs the
    client to send each intermediate. Aliases are stored in lowercase, because Java lowercases
    them when it reads and Mule matches exactly.

    \b
    EXAMPLES
      ktpy build-keystore --type jks --key client/mule-client.key \\
          --cert client/mule-client-chain.pem --alias mule-client \\
          --storepass env:STOREPASS -o keystore.jks
      ktpy build-keystore --type pkcs12 --compat java8 --key c.key --cert c.pem --chain ca.pem \\
          --alias mule-client --storepass file:pass.txt -o keystore.p12
      ktpy build-keystore --type jks,pkcs12,jceks --key c.key --cert c-chain.pem \\
          --alias mule-client --storepass env:STOREPASS -o stores/
    """
    from .. import certs, files, keystore

    if not len(key_paths) == len(cert_paths) == len(aliases):
        raise click.UsageError(f"give one --cert and one --alias for each --key ({len(key_paths)} --key, "
                               f"{len(cert_paths)} --cert, {len(aliases)} --alias): the n-th of each make "
                               "one key entry")
    paths = _keystore_paths(out, store_types)
    files.check_writable([files.Output(p, b"") for p in paths], force=force)
    entries = []
    for key_path, cert_path, alias in zip(key_paths, cert_paths, aliases, strict=True):
        # with several entries the --chain files are a shared pool: each takes the issuers on its path
        key, chain = inputs.read_key_and_chain(key_path, key_password, cert_path, chain_paths, pool=len(aliases) > 1)
        inputs.guard_expiry(chain[0], allow_expired=allow_expired)
        entries.append(keystore.Entry(alias=inputs.store_alias(alias), chain=chain, key=key))
    lowered, chain, leaf = entries[0].alias, entries[0].chain, entries[0].chain[0]
    store_pw = inputs.secret(storepass, "--storepass", confirm=True, label="new store password")
    key_pw_new = inputs.secret(keypass, "--keypass", confirm=True, label="new key password") if keypass else None
    # JCEKS last: its key protection is the slow part, and a refusal by another type comes first.
    order = sorted(range(len(store_types)), key=lambda i: store_types[i] is keystore.StoreType.JCEKS)
    data = {}
    for i in order:
        data[i] = keystore.build_store(store_types[i], entries, storepass=store_pw.value,
                                       keypass=key_pw_new.value if key_pw_new else None, compat=compat)
    files.write_all([files.Output(paths[i], data[i], secret=True) for i in range(len(paths))]
                    + inputs.secret_outputs(store_pw, key_pw_new), force=force)
    java8 = ", Java 8 compatible" if compat and keystore.StoreType.PKCS12 in store_types else ""
    if len(entries) > 1:
        described = "; ".join(f"{e.alias!r} (chain of {len(e.chain)}: {e.chain[0].subject.rfc4514_string()})"
                              for e in entries)
        written = ", ".join(f"{p} ({t.value.upper()})" for p, t in zip(paths, store_types, strict=True))
        note(f"Wrote {written}{java8}, mode 0600: {len(entries)} key entries: {described}")
        note("  key password: " + ("its own (given by --keypass)" if key_pw_new else "the store password"))
        note("  Mule uses one key per keystore: name the entry with the alias attribute of tls:key-store")
        return
    names = ", ".join(c.subject.rfc4514_string() for c in chain)
    if len(paths) == 1:
        note(f"Wrote {out} ({store_types[0].value.upper()}{java8}, mode 0600): "
              f"alias {lowered!r}, chain of {len(chain)}: {names}")
    else:
        written = ", ".join(f"{p} ({t.value.upper()})" for p, t in zip(paths, store_types, strict=True))
        note(f"Wrote {written}{java8 and ' (PKCS12' + java8 + ')'}, mode 0600: "
             f"alias {lowered!r}, chain of {len(chain)}: {names}")
    note("  key password: " + ("its own (given by --keypass)" if key_pw_new else "the store password"))
    if len(chain) == 1 and not certs.is_self_issued(leaf):
        note("Warning: the keystore holds no issuer certificate; if the CA is an intermediate, "
              "add it with --chain (Salesforce needs every intermediate in the handshake)")


# --- convert ---------------------------------------------------------------------------------

@cli.command("convert", epilog=EXIT_CODES)
@click.argument("source", type=click.Path(dir_okay=True))
@click.option("--to", "dest_type", required=True, type=click.Choice(options.STORE_TYPES), help="Type to write.")
@options.storepass_option("Password of SOURCE.")
@options.no_storepass_option
@options.password_option("--dest-storepass", "Password of the new store (default: SOURCE's).")
@options.keypass_option("Key password in SOURCE, if it differs from its store password.")
@options.password_option("--dest-keypass", "Key password in the new JKS/JCEKS store (default: its store password).")
@options.compat_option
@click.option("-o", "--out", required=True, type=click.Path(), help="Keystore file to write.")
@options.source_type_option
@options.force_option
def convert_cmd(source, dest_type, storepass, no_storepass, dest_storepass, keypass, dest_keypass, compat, out,
                source_type, force):
    """Convert a JKS, JCEKS, PKCS12, BKS or UBER keystore into JKS, JCEKS or PKCS12. Every
    private key entry (with its chain), secret key and trusted certificate entry carries over
    with its alias; an entry the target type cannot hold is refused, by name.

    \b
    EXAMPLES
      ktpy convert keystore.jks --to pkcs12 --storepass env:STOREPASS -o keystore.p12
      ktpy convert old.jceks --to jks --storepass file:old.txt --keypass file:oldkey.txt \\
          --dest-storepass generate:new-pass.txt -o new.jks
      ktpy convert android.bks --to pkcs12 --storepass env:STOREPASS -o android.p12
    """
    from .. import files, keystore
    from ..errors import KtpyError

    files.check_writable([files.Output(Path(out), b"")], force=force)
    if no_storepass and not dest_storepass:
        raise click.UsageError("with --no-storepass, give the new store's password with --dest-storepass")
    store, src_pw = inputs.open_keystore(source, storepass, keypass, label="source store password",
                                         no_storepass=no_storepass, carry=True, store_type=source_type)
    if not store.entries:
        raise KtpyError(f"{source} holds no entry that Java sees (Java ignores unencrypted key bags), "
                        "so there is nothing to convert")
    lowered: list[tuple[str, str]] = []
    if store.type.bouncy_castle:  # Bouncy Castle keeps aliases as written; the target's Java lowercases
        store, lowered = keystore.with_java_aliases(store)
    dest_pw = inputs.secret(dest_storepass, "--dest-storepass", confirm=True) if dest_storepass else src_pw
    dest_key_pw = inputs.secret(dest_keypass, "--dest-keypass", confirm=True) if dest_keypass else None
    result = keystore.build_store(dest_type, store.entries, storepass=dest_pw.value,
                                  keypass=dest_key_pw.value if dest_key_pw else None, compat=compat)
    files.write_all([files.Output(Path(out), result, secret=True)]
                    + inputs.secret_outputs(dest_pw if dest_storepass else None, dest_key_pw), force=force)
    kinds = ", ".join(f"{e.alias} ({_kind_note(e)})" for e in store.entries)
    note(f"Wrote {out} ({dest_type.upper()}, mode 0600) from {store.type.value.upper()} {source}: {kinds}")
    for given, stored in lowered:
        inputs.alias_notice(given, stored, "written")


def _kind_note(entry) -> str:
    from ..keystore import EntryKind

    what = {EntryKind.PRIVATE_KEY: "key", EntryKind.TRUSTED_CERT: "trusted", EntryKind.SECRET_KEY: "secret key"}
    carried = entry.kind is not EntryKind.TRUSTED_CERT and not entry.decrypted
    return what[entry.kind] + (", kept under its own password" if carried else "")


# --- build-truststore ------------------------------------------------------------------------

@cli.command("build-truststore", epilog=EXIT_CODES)
@click.argument("cert_paths", metavar="[CERT.pem...]", nargs=-1, type=click.Path(dir_okay=True))
@click.option("--type", "store_type", required=True, type=click.Choice(options.STORE_TYPES), help="Truststore type.")
@options.storepass_option()
@click.option("--alias-prefix", help="Alias entries PREFIX1, PREFIX2... (default: from each CN).")
@options.compat_option
@click.option("-o", "--out", required=True, type=click.Path(), help="Truststore file to write.")
@options.force_option
@click.option("--from-server", "server", metavar="HOST[:PORT]",
              help="Instead of CERT.pem files: the root of the chain this server presents (port 443 by default).")
@click.option("--leaf", is_flag=True, help="With --from-server: trust the server's own certificate too (a pin "
                                           "that breaks when the server renews it).")
@options.server_options
def build_truststore_cmd(cert_paths, store_type, storepass, alias_prefix, compat, out, force, server=None,
                         leaf=False, servername=None, proxy=None, no_proxy=False, timeout=10.0, system_bundle=None):
    """Build a truststore of trusted certificate entries, e.g. the CA that signs a server's
    certificate, for a Mule tls:trust-store. PKCS12 entries carry the attribute Java needs to
    see them as trusted (without it keytool lists 0 entries).

    With --from-server, the root the server's chain ends in: sent by the server, or taken from
    the system trust bundle when it is not sent (named in the output); never the server's own
    certificate unless --leaf is given. A chain that does not verify (a missing intermediate,
    an expired certificate, a root not in the bundle) is refused, saying why.

    \b
    EXAMPLES
      ktpy build-truststore --type jks ca/ca.pem --storepass env:STOREPASS -o truststore.jks
      ktpy build-truststore --type pkcs12 root1.pem root2.pem --alias-prefix root \\
          --storepass file:pass.txt -o truststore.p12
      ktpy build-truststore --from-server mydomain.my.salesforce.com --type jks \\
          --storepass env:STOREPASS -o truststore.jks
    """
    import datetime as dt

    from .. import files, keystore

    if bool(server) == bool(cert_paths):
        raise click.UsageError("give CERT.pem files or --from-server HOST[:PORT] (one of them)")
    if leaf and not server:
        raise click.UsageError("--leaf goes with --from-server")
    files.check_writable([files.Output(Path(out), b"")], force=force)
    if server:
        from .. import trust
        chain = inputs.fetch(server, servername, proxy, no_proxy, timeout)
        plan = trust.truststore_plan(chain.certificates, bundle=trust.system_bundle(system_bundle),
                                     now=dt.datetime.now(dt.timezone.utc), host=chain.host, sni=chain.sni, leaf=leaf)
        unique = list(plan.certificates)
        for line in plan.notes:
            warning = line.startswith("warning: ")
            note(f"Warning: {line[len('warning: '):]}" if warning else f"From {chain.where}: {line}")
    else:
        found = [c for p in cert_paths for c in inputs.read_certificates(p)]
        unique = list(dict.fromkeys(found))
    entries = keystore.trusted_entries(unique, alias_prefix=alias_prefix)
    password = inputs.secret(storepass, "--storepass", confirm=True, label="new store password")
    data = keystore.build_store(store_type, entries, storepass=password.value, compat=compat)
    files.write_all([files.Output(Path(out), data, secret=True)] + inputs.secret_outputs(password), force=force)
    note(f"Wrote {out} ({store_type.upper()}): " + ", ".join(e.alias for e in entries))
