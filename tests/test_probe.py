"""`ktpy probe` against real servers on loopback: nginx from Debian (requiring a client certificate
once naming the client CA and once naming none, as Salesforce's port 8443 does), openssl s_server
(which refuses in the handshake), and the Python mutual-TLS server of tests/interop.py, which
answers nothing after the handshake: the probe must say it gave no verdict."""

from __future__ import annotations

import functools
import socket
import subprocess
import time
from pathlib import Path

import pytest
from helpers import STOREPASS, ktpy, require_tool
from interop import describe, run_java, run_keytool
from tls_servers import find_nginx, free_ports, stop, wait_for_ports

from keytool_py import KeyType, build_keystore, create_ca
from keytool_py.certs import to_pem
from keytool_py.keys import private_key_to_pem
from keytool_py.probe import ProbeResult, hostname_matches, judge_answer, parse_target

ENV = {"KTPY_STORE_PW": STOREPASS}


probe = functools.partial(ktpy, "probe", env=ENV, code=None)


@pytest.fixture(scope="module")
def store(client, tmp_path_factory):
    """A JKS made by ktpy from the session's client: key, leaf and root (chain of 2)."""
    path = tmp_path_factory.mktemp("probe") / "keystore.jks"
    path.write_bytes(build_keystore("jks", client.key, client.chain, alias="mule-client", storepass=STOREPASS))
    return path


def test_probe_no_verdict_from_a_server_that_answers_nothing(store, client, mtls_server, server_root_pem):
    """The Python server accepts the handshake, reads the request and closes without a word: that is
    no verdict (it used to be reported as ACCEPTED), exit 3."""
    mark = mtls_server.mark()
    result = probe(f"127.0.0.1:{mtls_server.port}", "--keystore", store, "--storepass", "env:KTPY_STORE_PW",
                   "--ca", server_root_pem)
    assert result.exit_code == 3, result.output
    out = result.stdout.splitlines()
    assert out[0] == f"Connected to 127.0.0.1:{mtls_server.port} (no SNI: an IP address)"
    assert "  protocol: TLSv1.3" in out
    assert "  server chain (1):" in out and "    CN=localhost,O=Test" in out
    assert (f"  server verified against {server_root_pem}: root CN=ktpy Interop Server Root,O=Test") in out
    assert "  CA names asked for: none (as Salesforce does: the client must send its whole chain)" in out
    assert "  chain sent: 2 certificate(s)" in out
    assert out[out.index("  chain sent: 2 certificate(s)") + 1:][:2] == [
        f"    {c.subject.rfc4514_string()}" for c in client.chain]
    assert out[-1] == ("Result: NO VERDICT on the client certificate: the server closed the connection cleanly "
                       "without answering the request, so it did not say whether it accepts the client certificate")
    assert "Java would send NO certificate" not in result.stdout  # no CA names: Java sends its chain
    assert result.stderr == ""
    outcome = mtls_server.outcome_after(mark)
    assert outcome.accepted and outcome.subject == client.cert.subject.rfc4514_string()
    assert outcome.request == b"GET / HTTP/1.1"  # a real request was sent


@pytest.mark.interop
def test_probe_rejected_self_signed_keytool_store(mtls_server, server_root_pem, tmp_path):
    require_tool("keytool")
    path = tmp_path / "self-signed.p12"
    made = run_keytool("-genkeypair", "-alias", "selfsigned", "-keyalg", "RSA", "-keysize", "2048",
                       "-dname", "CN=Self Signed,O=Nobody", "-validity", "30", "-storetype", "PKCS12",
                       "-keystore", path, "-storepass", STOREPASS, "-keypass", STOREPASS)
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
    assert codes["full"] == (3, "Result: NO VERDICT on the client certificate: the server closed the connection "
                                "cleanly without answering the request, so it did not say whether it accepts "
                                "the client certificate")


def test_probe_refuses_a_file_that_is_not_a_keystore():
    # the keystore is opened (and its password asked for) before any connection is tried
    result = probe("127.0.0.1:1", "--keystore", __file__, "--storepass", "env:KTPY_STORE_PW")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {__file__} is not a JKS, JCEKS, PKCS12, BKS or UBER keystore\n"


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
    assert result.exit_code == 3, result.output  # no verdict from this server; the name check passed
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


# --- real servers: nginx (refuses after the handshake) and openssl s_server (in the handshake) ---

NGINX_CONF = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    # what nginx made of each client certificate: NONE (none sent), SUCCESS or FAILED:reason
    log_format verdict '$server_port $ssl_client_verify "$ssl_client_s_dn" "$request"';
    access_log {dir}/access.log verdict;
    default_type text/plain;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    ssl_certificate {dir}/server-chain.pem;
    ssl_certificate_key {dir}/server-key.pem;
    ssl_verify_depth 4;

    # Requires a client certificate and names the client CA in its request.
    server {{
        listen 127.0.0.1:{names_port} ssl;
        ssl_verify_client on;
        ssl_client_certificate {dir}/client-root.pem;
        location / {{ return 200 "ok\\n"; }}
    }}

    # Names no CA, as Salesforce's port 8443: nginx before 1.27.2 cannot require a certificate
    # without naming CAs, so it asks for one (optional_no_ca), verifies it against
    # ssl_trusted_certificate, and the configuration refuses what did not verify.
    server {{
        listen 127.0.0.1:{no_names_port} ssl;
        ssl_verify_client optional_no_ca;
        ssl_trusted_certificate {dir}/client-root.pem;
        location / {{
            if ($ssl_client_verify != SUCCESS) {{ return 495; }}
            return 200 "ok\\n";
        }}
    }}
}}
"""
STORE_TYPES = ["jks", "pkcs12", "jceks"]
CHAINS = ["good", "other-ca", "leaf-only"]


def write_server_files(folder: Path, server_pki, client_root) -> None:
    server = server_pki[1]
    (folder / "server-chain.pem").write_bytes(to_pem(server.chain[:-1]))
    (folder / "server-key.pem").write_bytes(private_key_to_pem(server.key))
    (folder / "client-root.pem").write_bytes(to_pem([client_root]))


@pytest.fixture(scope="module")
def nginx(server_pki, ca, tmp_path_factory):
    """One nginx for the module, serving both configurations: {"names": port, "no-names": port,
    "log": its access log, which says what it made of each client certificate}."""
    binary = find_nginx()
    folder = tmp_path_factory.mktemp("nginx")
    write_server_files(folder, server_pki, ca.root)
    names_port, no_names_port = free_ports(2)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, names_port=names_port, no_names_port=no_names_port))
    log = folder / "error.log"
    proc = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-e", str(log)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(proc, [names_port, no_names_port], log)
        yield {"names": names_port, "no-names": no_names_port, "log": folder / "access.log"}
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chains(ca, other_ca, key_pool, now):
    """The good kit's chain (leaf, intermediate, root), one from another CA, a leaf without its
    intermediate; each with its key."""
    intermediate = create_ca("CN=ktpy Probe Intermediate,O=Acme", parent=ca, key=key_pool(KeyType.EC_P256, 30),
                             now=now)
    leaf = intermediate.issue_client("CN=probe-client,O=Acme", key=key_pool(KeyType.EC_P256, 31), now=now)
    stranger = other_ca.issue_client("CN=stranger,O=Elsewhere", key=key_pool(KeyType.EC_P256, 32), now=now)
    return {"good": (leaf.key, leaf.chain), "other-ca": (stranger.key, stranger.chain),
            "leaf-only": (leaf.key, leaf.chain[:1])}


@pytest.fixture(scope="module")
def stores(chains, tmp_path_factory):
    """{(chain name, store type): keystore file} written by ktpy."""
    folder = tmp_path_factory.mktemp("probe-stores")
    made = {}
    for name, (key, chain) in chains.items():
        for store_type in STORE_TYPES:
            path = folder / f"{name}.{store_type}"
            path.write_bytes(build_keystore(store_type, key, chain, alias="mule-client", storepass=STOREPASS))
            made[name, store_type] = path
    return made


NGINX_REFUSAL = ("Result: client certificate REJECTED: the server answered HTTP/1.1 400 Bad Request "
                 "('SSL certificate' in the answer)")
JAVA_NOTE = "  Java would send NO certificate here: none of the CA names the server asked for issued a"


@pytest.mark.interop
@pytest.mark.parametrize("store_type", STORE_TYPES)
@pytest.mark.parametrize("config", ["names", "no-names"])
@pytest.mark.parametrize("chain", CHAINS)
def test_probe_against_nginx(nginx, stores, server_root_pem, ca, config, chain, store_type):
    start = nginx["log"].stat().st_size
    result = probe(f"localhost:{nginx[config]}", "--keystore", stores[chain, store_type],
                   "--storepass", "env:KTPY_STORE_PW", "--ca", server_root_pem, "--timeout", "5")
    out = result.stdout.splitlines()
    assert result.stderr == ""
    if config == "names":
        assert "  CA names asked for (1):" in out and f"    {ca.root.subject.rfc4514_string()}" in out
    else:
        assert "  CA names asked for: none (as Salesforce does: the client must send its whole chain)" in out
    if chain == "good":
        assert (result.exit_code, out[-1]) == (0, "Result: client certificate ACCEPTED: the server answered "
                                                  "HTTP/1.1 200 OK after the handshake"), result.output
        assert "  chain sent: 3 certificate(s)" in out
        assert JAVA_NOTE not in out
    else:
        assert (result.exit_code, out[-1]) == (3, NGINX_REFUSAL), result.output
        assert "  server answered: HTTP/1.1 400 Bad Request" in out
        # with CA names, neither chain has a certificate issued by a named CA: Java would send nothing
        assert (JAVA_NOTE in out) == (config == "names")
    # nginx's own verdict on the certificate the probe sent, from its access log
    (line,) = log_lines_after(nginx["log"], start)
    verdict = line.split(" ")[1]
    assert (verdict == "SUCCESS") == (chain == "good") and verdict != "NONE", line


@pytest.fixture(scope="module")
def s_server(server_pki, ca, tmp_path_factory):
    """openssl s_server over TLS 1.2 that requires a client certificate and fails the handshake
    when it does not verify (-verify_return_error); -www answers a GET."""
    require_tool("openssl")
    folder = tmp_path_factory.mktemp("s_server")
    write_server_files(folder, server_pki, ca.root)
    (port,) = free_ports(1)
    log = folder / "s_server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-tls1_2",
                                 "-cert", folder / "server-chain.pem", "-key", folder / "server-key.pem",
                                 "-CAfile", folder / "client-root.pem", "-Verify", "4", "-verify_return_error",
                                 "-www", "-quiet"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(proc, [port], log)
        yield port
    finally:
        stop(proc)


@pytest.mark.interop
@pytest.mark.parametrize("store_type", STORE_TYPES)
def test_probe_against_s_server_refusing_in_the_handshake(s_server, stores, server_root_pem, store_type):
    result = probe(f"127.0.0.1:{s_server}", "--keystore", stores["leaf-only", store_type],
                   "--storepass", "env:KTPY_STORE_PW", "--ca", server_root_pem, "--timeout", "5")
    out = result.stdout.splitlines()
    assert result.exit_code == 3, result.output
    assert "  protocol: TLSv1.2" in out
    assert out[-1].startswith("Result: client certificate REJECTED: the server sent the alert 'unknown ca'"), out[-1]
    good = probe(f"127.0.0.1:{s_server}", "--keystore", stores["good", store_type],
                 "--storepass", "env:KTPY_STORE_PW", "--ca", server_root_pem, "--timeout", "5")
    assert good.exit_code == 0, good.output
    assert good.stdout.splitlines()[-1] == ("Result: client certificate ACCEPTED: the server answered "
                                            "HTTP/1.0 200 ok after the handshake")


@pytest.mark.parametrize("answer, verdict, reason", [
    (b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n<center>The SSL certificate error</center>", "rejected",
     "the server answered HTTP/1.1 400 Bad Request ('SSL certificate' in the answer)"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n<center>No required SSL certificate was sent</center>", "rejected",
     "the server answered HTTP/1.1 400 Bad Request ('SSL certificate' in the answer)"),
    (b"HTTP/1.1 495 SSL Certificate Error\r\n\r\n", "rejected",
     "the server answered HTTP/1.1 495 SSL Certificate Error ('SSL Certificate' in the answer)"),
    (b"HTTP/1.1 496 No Cert\r\n\r\n", "rejected", "the server answered HTTP/1.1 496 No Cert"),
    (b"HTTP/1.1 403 Forbidden\r\n\r\nclient certificate not allowed", "rejected",
     "the server answered HTTP/1.1 403 Forbidden ('client certificate' in the answer)"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\nmissing parameter", "accepted",
     "the server answered HTTP/1.1 400 Bad Request after the handshake"),
    (b"HTTP/1.1 404 Not Found\r\n\r\n", "accepted", "the server answered HTTP/1.1 404 Not Found after the handshake"),
    (b"pong\n", "no verdict",
     "the server answered, but not in HTTP, so its answer says nothing about the client certificate"),
])
def test_judge_answer(answer, verdict, reason):
    assert judge_answer(answer)[:2] == (verdict, reason)


def test_java_sends_no_certificate_when_no_named_ca_issued_the_chain(chains, ca, other_ca):
    _, chain = chains["good"]

    def result(names, sent=chain):
        return ProbeResult(host="h", port=1, sni=None, protocol=None, cipher=None, server_chain=(),
                           verified_chain=(), asked_for_certificate=True, ca_names=tuple(names),
                           sent_chain=sent, accepted=False, reason="", chain=sent)

    assert not result([]).java_sends_no_certificate  # no names: Java sends its chain
    assert not result([ca.root.subject]).java_sends_no_certificate  # the root issued the intermediate
    assert result([other_ca.root.subject]).java_sends_no_certificate
    assert result([ca.root.subject], sent=chain[:1]).java_sends_no_certificate  # leaf only: its issuer is not named


def log_lines_after(log: Path, start: int, timeout: float = 5.0) -> list[str]:
    """The access log's lines past byte `start`, once there is one: nginx writes the line just
    after sending its answer, so the client may have read the answer first."""
    deadline = time.monotonic() + timeout
    while log.stat().st_size <= start and time.monotonic() < deadline:
        time.sleep(0.02)
    return log.read_bytes()[start:].decode("utf-8").splitlines()


@pytest.mark.interop
def test_java_sends_no_certificate_where_the_probe_says_so(nginx, stores, java_classes, server_root_pem):
    """The report's claim, checked with real Java: against nginx naming the client CA, the Java
    client (tests/java/MtlsClient.java, SunX509 key manager, as Mule) sends no certificate for the
    kit from another CA, where the probe sends its chain; for the good kit, Java sends it."""
    log = nginx["log"]
    seen = {}
    for chain in ("other-ca", "good"):
        start = log.stat().st_size
        proc = run_java("-cp", java_classes, "MtlsClient", "JKS", stores[chain, "jks"], STOREPASS, STOREPASS,
                        server_root_pem, "localhost", str(nginx["names"]))
        # MtlsClient sends "ping", which nginx answers as a bad request after the handshake
        assert proc.returncode == 4 and "BAD-REPLY HTTP/1.1 400 Bad Request" in proc.stdout, describe(proc)
        seen[chain] = log_lines_after(log, start)
    port = nginx["names"]
    assert seen["other-ca"] == [f'{port} NONE "-" "ping"']  # Java sent no certificate
    assert seen["good"] == [f'{port} SUCCESS "CN=probe-client,O=Acme" "ping"']
    start = log.stat().st_size
    result = probe(f"localhost:{port}", "--keystore", stores["other-ca", "jks"],
                   "--storepass", "env:KTPY_STORE_PW", "--ca", server_root_pem, "--timeout", "5")
    assert JAVA_NOTE in result.stdout.splitlines()
    (line,) = log_lines_after(log, start)  # the probe sent its chain, which nginx refused
    assert line.startswith(f"{port} FAILED:") and line.endswith('"CN=stranger,O=Elsewhere" "GET / HTTP/1.1"')


@pytest.mark.interop
def test_probe_no_verdict_from_a_server_that_stays_silent(server_pki, ca, stores, server_root_pem, tmp_path):
    """openssl s_server without -www accepts the client certificate and never answers the request,
    holding the connection open: the probe waits --timeout seconds and says NO VERDICT, exit 3."""
    require_tool("openssl")
    write_server_files(tmp_path, server_pki, ca.root)
    (port,) = free_ports(1)
    log = tmp_path / "s_server.log"
    with log.open("wb") as out:
        # stdin a pipe never written: at end of input s_server would close the connection
        proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-tls1_2",
                                 "-cert", tmp_path / "server-chain.pem", "-key", tmp_path / "server-key.pem",
                                 "-CAfile", tmp_path / "client-root.pem", "-Verify", "4", "-verify_return_error",
                                 "-quiet"], stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(proc, [port], log)
        result = probe(f"127.0.0.1:{port}", "--keystore", stores["good", "jks"], "--storepass", "env:KTPY_STORE_PW",
                       "--ca", server_root_pem, "--timeout", "2")
    finally:
        stop(proc)
    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines()[-1] == (
        "Result: NO VERDICT on the client certificate: the server sent nothing within 2 s after the request, "
        "so it did not say whether it accepts the client certificate")
    assert "GET / HTTP/1.1" in log.read_text()  # s_server printed the request it never answered
