"""`ktpy probe` against the loopback mutual-TLS server (tests/interop.py), which behaves as
Salesforce's port 8443: it requires a client certificate, names no CAs, trusts one root."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner
from conftest import STOREPASS, require_tool
from interop import describe
from interop import run as run_tool

from keytool_py import KeyType, build_keystore, create_ca
from keytool_py.cli import cli
from keytool_py.probe import hostname_matches, parse_target

ENV = {"KTPY_STORE_PW": STOREPASS}


def probe(*args):
    result = CliRunner(env=ENV).invoke(cli, ["probe", *map(str, args)])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def store(client, tmp_path_factory):
    """A JKS made by ktpy from the session's client: key, leaf and root (chain of 2)."""
    path = tmp_path_factory.mktemp("probe") / "keystore.jks"
    path.write_bytes(build_keystore("jks", client.key, client.chain, alias="mule-client", storepass=STOREPASS))
    return path


def test_probe_accepted(store, client, mtls_server, server_root_pem):
    mark = mtls_server.mark()
    result = probe(f"127.0.0.1:{mtls_server.port}", "--keystore", store, "--storepass", "env:KTPY_STORE_PW",
                   "--ca", server_root_pem)
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0] == f"Connected to 127.0.0.1:{mtls_server.port} (no SNI: an IP address)"
    assert "  protocol: TLSv1.3" in out
    assert "  server chain (1):" in out and "    CN=localhost,O=Test" in out
    assert (f"  server verified against {server_root_pem}: root CN=ktpy Interop Server Root,O=Test") in out
    assert "  CA names asked for: none (as Salesforce does: the client must send its whole chain)" in out
    assert "  chain sent: 2 certificate(s)" in out
    assert out[out.index("  chain sent: 2 certificate(s)") + 1:][:2] == [
        f"    {c.subject.rfc4514_string()}" for c in client.chain]
    assert out[-1] == "Result: client certificate ACCEPTED: the server closed the connection cleanly without refusing"
    assert result.stderr == ""
    outcome = mtls_server.outcome_after(mark)
    assert outcome.accepted and outcome.subject == client.cert.subject.rfc4514_string()


@pytest.mark.interop
def test_probe_rejected_self_signed_keytool_store(mtls_server, server_root_pem, tmp_path):
    require_tool("keytool")
    path = tmp_path / "self-signed.p12"
    made = run_tool(["keytool", "-J-XX:TieredStopAtLevel=1", "-genkeypair", "-alias", "selfsigned",
                     "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=Self Signed,O=Nobody",
                     "-validity", "30", "-storetype", "PKCS12", "-keystore", path,
                     "-storepass", STOREPASS, "-keypass", STOREPASS])
    assert made.returncode == 0, describe(made)
    mark = mtls_server.mark()
    result = probe(f"127.0.0.1:{mtls_server.port}", "--keystore", path, "--storepass", "env:KTPY_STORE_PW",
                   "--ca", server_root_pem)
    assert result.exit_code == 3, result.output
    assert "  chain sent: 1 certificate(s)\n    CN=Self Signed,O=Nobody\n" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("Result: client certificate REJECTED: the server sent the alert")
    assert not mtls_server.outcome_after(mark).accepted


def test_probe_rejected_leaf_without_intermediate(ca, key_pool, now, mtls_server, server_root_pem, tmp_path):
    """Salesforce's case: the server names no CAs and knows only the root, so a store holding the
    leaf without its intermediate is refused; the same store with the intermediate is accepted."""
    intermediate = create_ca("CN=ktpy Probe Intermediate,O=Acme", parent=ca, key=key_pool(KeyType.EC_P256, 30),
                             now=now)
    leaf = intermediate.issue_client("CN=probe-client,O=Acme", key=key_pool(KeyType.EC_P256, 31), now=now)
    codes = {}
    for name, chain in (("leaf-only", leaf.chain[:1]), ("full", leaf.chain)):
        path = tmp_path / f"{name}.p12"
        path.write_bytes(build_keystore("pkcs12", leaf.key, chain, alias="mule-client", storepass=STOREPASS))
        result = probe(f"127.0.0.1:{mtls_server.port}", "--keystore", path, "--storepass", "env:KTPY_STORE_PW",
                       "--ca", server_root_pem)
        codes[name] = (result.exit_code, result.stdout.splitlines()[-1])
    assert codes["leaf-only"][0] == 3
    assert codes["leaf-only"][1].startswith("Result: client certificate REJECTED: the server sent the alert")
    assert codes["full"] == (0, "Result: client certificate ACCEPTED: "
                                "the server closed the connection cleanly without refusing")


def test_probe_refuses_a_file_that_is_not_a_keystore():
    # the keystore is opened (and its password asked for) before any connection is tried
    result = probe("127.0.0.1:1", "--keystore", __file__, "--storepass", "env:KTPY_STORE_PW")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {__file__} is not a JKS, JCEKS or PKCS12 keystore\n"


def test_probe_cannot_connect(store):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe(f"127.0.0.1:{port}", "--keystore", store, "--storepass", "env:KTPY_STORE_PW")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: could not connect to 127.0.0.1:{port}: connection refused\n"


def test_probe_refuses_a_server_it_cannot_verify(store, mtls_server):
    # without --ca the system trust store is used, which does not know the test server's root
    result = probe(f"127.0.0.1:{mtls_server.port}", "--keystore", store, "--storepass", "env:KTPY_STORE_PW",
                   "--timeout", "5")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: the server certificate of 127.0.0.1:{mtls_server.port} does not verify "
                             "against the system trust store: unable to get local issuer certificate (at depth 0)\n")


def test_probe_checks_the_host_name(store, mtls_server, server_root_pem):
    # the server certificate is for localhost and 127.0.0.1; "localhost" also sends SNI
    result = probe(f"localhost:{mtls_server.port}", "--keystore", store, "--storepass", "env:KTPY_STORE_PW",
                   "--ca", server_root_pem)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Connected to localhost:{mtls_server.port} (SNI localhost)\n")


def test_hostname_matching(mtls_server, server_pki):
    cert = server_pki[1].cert  # SANs dns:localhost, ip:127.0.0.1
    assert hostname_matches(cert, "localhost") and hostname_matches(cert, "LOCALHOST.")
    assert hostname_matches(cert, "127.0.0.1")
    assert not hostname_matches(cert, "127.0.0.2") and not hostname_matches(cert, "example.com")


@pytest.mark.parametrize("text, expected", [
    ("mydomain.my.salesforce.com:8443", ("mydomain.my.salesforce.com", 8443)),
    ("127.0.0.1:1", ("127.0.0.1", 1)),
    ("[::1]:8443", ("::1", 8443)),
])
def test_parse_target(text, expected):
    assert parse_target(text) == expected


def test_probe_needs_a_port(store):
    result = probe("mydomain.my.salesforce.com", "--keystore", store, "--storepass", "env:KTPY_STORE_PW")
    assert result.exit_code == 1
    assert result.stderr == ("Error: give the server as HOST:PORT, e.g. mydomain.my.salesforce.com:8443, "
                             "not 'mydomain.my.salesforce.com'\n")
