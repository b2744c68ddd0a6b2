"""Commands about the server side of TLS: fetch-chain, verify-trust (and the server options that
build-truststore --from-server and probe --truststore share)."""

from __future__ import annotations

import click

from .app import EXIT_CODES, ExitCode, cli, echo_lines, exit_codes_help, note
from .inputs import fetch, open_truststore
from .options import STORE_TYPES, force_option, json_option, no_storepass_option, password_option, server_options

VERIFY_TRUST_EXIT_CODES = exit_codes_help({
    ExitCode.OK: "Java would trust the server with this truststore",
    ExitCode.PROBLEMS: "Java would not trust it (the output says why and which certificate to add)"})


def _now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


@cli.command("fetch-chain", epilog=EXIT_CODES)
@click.argument("target", metavar="HOST[:PORT]")
@server_options
@click.option("-o", "--out", type=click.Path(), help="Write the chain as sent (PEM, the server's order) to "
                                                     "this file, or - for stdout (then nothing else is printed).")
@force_option
@json_option("Print JSON: the connection, each certificate as inspect --json describes it, the notes.")
def fetch_chain_cmd(target, servername, proxy, no_proxy, timeout, system_bundle, out, force, as_json):
    """Show the certificate chain a TLS server presents, exactly as sent (order, duplicates),
    each certificate described as inspect does, with the TLS version and cipher negotiated, and
    notes: out of order, sent twice, the root sent or found in the system bundle, a missing
    intermediate (which Java does not fetch). No client certificate is sent, nothing is
    verified (verify-trust judges). The port defaults to 443.

    \b
    EXAMPLES
      ktpy fetch-chain mydomain.my.salesforce.com
      ktpy fetch-chain mydomain.my.salesforce.com:8443 -o chain.pem
      ktpy fetch-chain api.example.com --proxy proxy.corp:3128 --json
    """
    from pathlib import Path

    from .. import files, server_chain, trust

    if out and out != "-":
        files.check_writable([files.Output(Path(out), b"")], force=force)
    chain = fetch(target, servername, proxy, no_proxy, timeout)
    if out == "-":
        click.echo(server_chain.to_pem(chain).decode("ascii"), nl=False)
        return
    bundle = trust.system_bundle(system_bundle)
    info = server_chain.describe_chain(chain, server_chain.chain_notes(chain.certificates, bundle.roots,
                                                                       bundle.label))
    if out:
        files.write_all([files.Output(Path(out), server_chain.to_pem(chain))], force=force)
    if as_json:
        from ..describe import to_json

        click.echo(to_json(info))
    else:
        echo_lines(server_chain.chain_lines(info))
    if out:
        note(f"Wrote {out}: {len(chain.certificates)} certificate(s) as {chain.where} sent them")


@cli.command("verify-trust", epilog=VERIFY_TRUST_EXIT_CODES)
@click.argument("target", metavar="HOST[:PORT]", required=False)
@click.option("--truststore", "truststore_path", required=True, type=click.Path(dir_okay=False),
              help="The JKS, JCEKS or PKCS12 truststore (as Mule's tls:trust-store names it).")
@password_option("--storepass", "Truststore password.")
@no_storepass_option
@click.option("--truststore-type", type=click.Choice(STORE_TYPES), help="Refuse a truststore of another type "
                                                                         "(default: read from the content).")
@click.option("--chain", "chain_path", type=click.Path(dir_okay=False),
              help="Judge this PEM chain (as fetch-chain -o wrote it) instead of connecting.")
@click.option("--host", metavar="NAME", help="With --chain: the host name to check (default: none checked).")
@server_options
@json_option("Print the decision as JSON (trusted, path, anchor, reasons, advice).")
def verify_trust_cmd(target, truststore_path, storepass, no_storepass, truststore_type, chain_path, host,
                     servername, proxy, no_proxy, timeout, system_bundle, as_json=False):
    """Say whether Java's default trust manager, given this truststore, would accept the
    server's chain for that host, as Mule's tls:trust-store and HttpsURLConnection do: a path
    from the server's certificate through what it sent to a certificate in the truststore,
    every certificate below it valid now, and the host name in the certificate's SAN. When
    not, say why and which certificate to add and where it comes from (the server, or the
    system bundle). The port defaults to 443.

    \b
    EXAMPLES
      ktpy verify-trust mydomain.my.salesforce.com --truststore truststore.jks --storepass env:TSPASS
      ktpy verify-trust --chain chain.pem --host api.example.com --truststore ts.p12 --storepass file:pw
    """
    from .. import certs, files, trust

    if (target is None) == (chain_path is None):
        raise click.UsageError("give HOST[:PORT] or --chain FILE (one of them)")
    if host and target:
        raise click.UsageError("--host goes with --chain; with HOST[:PORT] the host is checked")
    anchors = open_truststore(truststore_path, storepass, truststore_type, no_storepass)
    bundle = trust.system_bundle(system_bundle)
    sni = None
    if chain_path:
        presented = certs.load_certificates(files.read(chain_path, what="chain file"), what=chain_path)
        server, name = chain_path, host
        lines = [f"Chain {chain_path}: {len(presented)} certificate(s)"]
    else:
        chain = fetch(target, servername, proxy, no_proxy, timeout)
        presented, server, name, sni = chain.certificates, chain.where, chain.host, chain.sni
        lines = [f"Server {chain.where} presented {len(presented)} certificate(s) ({chain.protocol}, {chain.cipher})"]
    lines += [f"  [{n}] {c.subject.rfc4514_string()}" for n, c in enumerate(presented)]
    lines.append(f"Truststore {truststore_path}: {len(anchors)} trusted certificate(s)")
    decision = trust.java_trusts(presented, anchors, host=name, sni=sni, now=_now(), bundle=bundle)
    if as_json:
        import json

        click.echo(json.dumps(trust.describe_decision(decision, truststore=truststore_path, server=server,
                                                      presented=presented), indent=2))
    else:
        echo_lines(lines + trust.decision_lines(decision, truststore=truststore_path, server=server))
    if not decision.trusted:
        click.get_current_context().exit(ExitCode.PROBLEMS)
