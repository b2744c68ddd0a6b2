"""The server side of TLS against real servers on loopback: Debian's nginx serving chains from
private roots (root sent and not, intermediate missing, expired, wrong host name, out of order
with duplicates, self-signed), reached directly and through Debian's tinyproxy as the CONNECT
proxy. The judges:
- `openssl s_client -showcerts`: fetch-chain prints the same certificates in the same order;
- a Java client (tests/java/TrustJudge.java: the JDK's default trust manager with the truststore,
  HttpsURLConnection, so the HTTPS host name check is on) connects exactly when verify-trust says
  Java would trust the server, and connects with each truststore built --from-server.
One JVM judges every (server, truststore) pair of the module."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from helpers import STOREPASS, require_tool
from helpers import ktpy as run_ktpy
from interop import describe, run_java
from tls_servers import nginx_serving, tinyproxy

from keytool_py import KeyType, create_ca
from keytool_py.certs import fingerprint, to_pem
from keytool_py.keys import private_key_to_pem
from keytool_py.server_chain import parse_proxy, parse_server, proxy_for

pytestmark = pytest.mark.interop

ENV = {"TS_PASS": STOREPASS}
JUDGE = Path(__file__).parent / "java" / "TrustJudge.java"
CASES = ["good", "root-sent", "no-intermediate", "expired", "wrong-host", "disorder", "self-signed", "cn-only"]


def ktpy(*args, env=None):
    return run_ktpy(*args, env={**ENV, **(env or {})}, code=None)


def _server_cert(key, now, *, issuer=None, san=True):
    """A server certificate for CN=localhost: self-signed, or signed by `issuer` (a CA); with no
    SAN when san is False (Java then matches the host name against the CN)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    builder = (x509.CertificateBuilder().subject_name(name).public_key(key.public_key())
               .issuer_name(issuer.cert.subject if issuer else name).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    return builder.sign(issuer.key if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(key_pool, now):
    """A private root, its intermediate and a server certificate per case; a second root that
    signs nothing here. The CAs start 60 days back so that an expired leaf can come from them."""
    back = now - dt.timedelta(days=60)
    root = create_ca("CN=Trust Test Root,O=Test", key=key_pool(KeyType.EC_P256, 60), now=back)
    inter = create_ca("CN=Trust Test Intermediate,O=Test", parent=root, key=key_pool(KeyType.EC_P256, 61), now=back)
    other = create_ca("CN=Unrelated Root,O=Elsewhere", key=key_pool(KeyType.EC_P256, 62), now=back)
    key = key_pool(KeyType.EC_P256, 63)
    here = ["dns:localhost", "ip:127.0.0.1"]
    good = inter.issue_server("CN=localhost,O=Test", key=key, sans=here, now=now)
    expired = inter.issue_server("CN=localhost,O=Test", key=key, sans=here, days=10, now=now - dt.timedelta(days=30))
    wrong = inter.issue_server("CN=elsewhere.example,O=Test", key=key, sans=["dns:elsewhere.example"], now=now)
    leaf, i, r = good.cert, inter.cert, root.cert
    sent = {
        "good": [leaf, i], "root-sent": [leaf, i, r], "no-intermediate": [leaf], "expired": [expired.cert, i],
        "wrong-host": [wrong.cert, i], "disorder": [leaf, r, i, i], "self-signed": [_server_cert(key, now)],
        "cn-only": [_server_cert(key, now, issuer=inter, san=False), i],
    }
    return {"root": r, "intermediate": i, "other": other.cert, "key": key, "sent": sent}


@pytest.fixture(scope="module")
def lab(pki, ca, tmp_path_factory):
    """nginx (one port per case) and tinyproxy allowing CONNECT to those ports; the system bundle
    is a file holding the private root and the unrelated one."""
    require_tool("openssl")
    folder = tmp_path_factory.mktemp("server-trust")
    bundle = folder / "bundle.pem"
    bundle.write_bytes(to_pem([pki["other"], pki["root"]]))
    key_pem = private_key_to_pem(pki["key"])
    chains = {case: (to_pem(pki["sent"][case]), key_pem) for case in CASES}
    chains["mutual"] = chains["good"]  # the good chain, asking for a client certificate from `ca`
    with nginx_serving(folder, chains, client_root=to_pem([ca.root]), mutual=["mutual"]) as ports, \
            tinyproxy(folder / "proxy", [ports[c] for c in CASES]) as proxy:
        yield {"ports": ports, "proxy": f"127.0.0.1:{proxy}", "bundle": bundle, "dir": folder}


def s_client_chain(port: int, proxy: str | None = None) -> list[str]:
    """The PEM blocks `openssl s_client -showcerts` prints, in its order."""
    args = ["openssl", "s_client", "-connect", f"localhost:{port}", "-servername", "localhost", "-showcerts"]
    if proxy:
        args += ["-proxy", proxy]
    proc = subprocess.run(args, input="", capture_output=True, text=True, timeout=30, check=False)
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", proc.stdout, re.S)
    assert blocks, describe(proc)
    return blocks


@pytest.mark.parametrize("via", ["direct", "proxy"])
@pytest.mark.parametrize("case", CASES)
def test_fetch_chain_equals_s_client(lab, pki, case, via):
    port, proxy = lab["ports"][case], lab["proxy"] if via == "proxy" else None
    expected = s_client_chain(port, proxy)
    result = ktpy("fetch-chain", f"localhost:{port}", "-o", "-", *(["--proxy", proxy] if proxy else []))
    assert result.exit_code == 0, result.output
    got = re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", result.stdout, re.S)
    assert got == expected
    assert got == [to_pem([c]).decode() for c in pki["sent"][case]]  # as nginx was told to send them


NOTES = {
    "good": ["the root is not sent (as usual): CN=Trust Test Root,O=Test, found in the system bundle {b}"],
    "root-sent": ["the root CN=Trust Test Root,O=Test is sent (it is also in the system bundle {b})"],
    "no-intermediate": ["missing intermediate: CN=Trust Test Intermediate,O=Test, the issuer of CN=localhost,O=Test, "
                        "is not sent and not in the system bundle {b}; Java does not fetch it"],
    "disorder": ["[3] CN=Trust Test Intermediate,O=Test is sent twice (also as [2])",
                 "out of order: CN=Trust Test Root,O=Test follows CN=localhost,O=Test but did not sign it (TLS "
                 "wants each certificate followed by its signer; Java sorts this out, some clients do not)",
                 "the root CN=Trust Test Root,O=Test is sent (it is also in the system bundle {b})"],
    "self-signed": ["the server's certificate CN=localhost is self-signed"],
}


@pytest.mark.parametrize("case", ["good", "root-sent", "no-intermediate", "disorder", "self-signed"])
def test_fetch_chain_notes_and_json(lab, pki, case):
    port = lab["ports"][case]
    result = ktpy("fetch-chain", f"localhost:{port}", "--json", "--system-bundle", lab["bundle"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["kind"], info["host"], info["port"], info["sni"], info["proxy"]) == (
        "server-chain", "localhost", port, "localhost", None)
    assert info["protocol"] in ("TLSv1.2", "TLSv1.3") and info["cipher"]
    assert [c["sha256"] for c in info["certificates"]] == [fingerprint(c) for c in pki["sent"][case]]
    assert info["notes"] == [n.format(b=lab["bundle"]) for n in NOTES[case]]
    # the text form: the same notes, each certificate as inspect prints it
    text = ktpy("fetch-chain", f"localhost:{port}", env={"SSL_CERT_FILE": str(lab["bundle"])})
    lines = text.stdout.splitlines()
    assert lines[0] == f"Server localhost:{port} (SNI localhost)"
    assert [line[len("Note: "):] for line in lines if line.startswith("Note: ")] == info["notes"]
    assert f"  SHA-256:     {fingerprint(pki['sent'][case][0])}" in lines


def test_fetch_chain_through_https_proxy_from_the_environment(lab):
    port = lab["ports"]["good"]
    log = lab["dir"] / "proxy" / "tinyproxy.log"
    before = log.read_text()
    result = ktpy("fetch-chain", f"localhost:{port}", "--json", env={"https_proxy": f"http://{lab['proxy']}"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["proxy"] == lab["proxy"]
    assert f"CONNECT localhost:{port}" in log.read_text()[len(before):]  # tinyproxy saw the tunnel
    direct = ktpy("fetch-chain", f"localhost:{port}", "--json", "--no-proxy",
                  env={"https_proxy": f"http://{lab['proxy']}"})
    assert json.loads(direct.stdout)["proxy"] is None


def test_fetch_chain_writes_the_chain_as_sent(lab, pki, tmp_path):
    out = tmp_path / "chain.pem"
    result = ktpy("fetch-chain", f"localhost:{lab['ports']['disorder']}", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == to_pem(pki["sent"]["disorder"])
    assert result.stderr.endswith(f"Wrote {out}: 4 certificate(s) as localhost:{lab['ports']['disorder']} sent them\n")
    again = ktpy("fetch-chain", f"localhost:{lab['ports']['good']}", "-o", out)
    assert again.exit_code == 1 and again.stderr == f"Error: {out} already exists; pass --force to replace it\n"


# --- truststores, and Java's verdict on each (server, truststore) pair ---

def _build(*args):
    result = ktpy("build-truststore", *args, "--storepass", "env:TS_PASS")
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def truststores(pki, lab):
    """{name: (Java store type, path)}: made from PEM files (the private root; the unrelated root;
    the intermediate alone; two server certificates, pinned) and --from-server (the root from the
    system bundle; the root sent; the root of an out-of-order chain; a self-signed certificate
    with --leaf)."""
    folder = lab["dir"] / "truststores"
    folder.mkdir()
    for name in ("root", "other", "intermediate"):
        (folder / f"{name}.pem").write_bytes(to_pem([pki[name]]))
    (folder / "pinned.pem").write_bytes(to_pem([pki["sent"]["expired"][0], pki["sent"]["wrong-host"][0]]))
    made = {}
    for name, store_type, source in (("root", "jks", "root.pem"), ("other", "pkcs12", "other.pem"),
                                     ("intermediate", "jceks", "intermediate.pem"),
                                     ("pinned", "jks", "pinned.pem")):
        path = folder / f"{name}.{store_type}"
        _build("--type", store_type, folder / source, "-o", path)
        made[name] = (store_type, path)
    port = lab["ports"]
    for name, store_type, case, extra in (("from-good", "jks", "good", ()),
                                          ("from-root-sent", "pkcs12", "root-sent", ()),
                                          ("from-disorder", "jceks", "disorder", ()),
                                          ("from-self-signed", "jks", "self-signed", ("--leaf",))):
        path = folder / f"{name}.{store_type}"
        made[name] = (store_type, path)
        made[name + "-output"] = _build("--from-server", f"localhost:{port[case]}", "--type", store_type, "-o", path,
                                        "--system-bundle", lab["bundle"], "--proxy", lab["proxy"], *extra)
    return made


STORES = ["root", "other", "intermediate", "pinned", "from-good", "from-root-sent", "from-disorder", "from-self-signed"]
JAVA_TYPES = {"jks": "JKS", "pkcs12": "PKCS12", "jceks": "JCEKS"}


@pytest.fixture(scope="module")
def java_verdicts(lab, truststores):
    """{(case, store, host): "OK 200" | "FAIL ..."} from one JVM: to localhost through tinyproxy
    with every truststore; to 127.0.0.1 directly (an IP address: no SNI, IP SANs) with the root."""
    require_tool("java")
    jobs = []
    for case in CASES:
        for store, host, proxy in [*((s, "localhost", lab["proxy"]) for s in STORES), ("root", "127.0.0.1", "-")]:
            store_type, path = truststores[store]
            jobs.append("\t".join([f"{case}/{store}/{host}", JAVA_TYPES[store_type], str(path), STOREPASS,
                                   f"https://{host}:{lab['ports'][case]}/", proxy]))
    proc = run_java(JUDGE, input="\n".join(jobs) + "\n", timeout=180)
    assert proc.returncode == 0, describe(proc)
    verdicts = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert len(verdicts) == len(jobs), describe(proc)
    return {tuple(k.split("/")): v for k, v in verdicts.items()}


# What Java must decide, written down so that a judge that says yes to everything fails too.
TRUSTED = {
    ("good", "root"), ("root-sent", "root"), ("disorder", "root"),
    # the intermediate as the anchor: even the leaf sent alone is trusted (its issuer is an anchor)
    ("good", "intermediate"), ("root-sent", "intermediate"), ("no-intermediate", "intermediate"),
    ("disorder", "intermediate"),
    *((case, store) for case in ("good", "root-sent", "disorder") for store in ("from-good", "from-root-sent",
                                                                                "from-disorder")),
    ("self-signed", "from-self-signed"),
    # no SAN at all: Java matches the CN
    *(("cn-only", store) for store in ("root", "intermediate", "from-good", "from-root-sent", "from-disorder")),
    # a server certificate in the truststore is trusted as it is, without its dates (PKIXValidator)
    ("expired", "pinned"),
}


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("case", CASES)
def test_verify_trust_agrees_with_java(lab, truststores, java_verdicts, case, store):
    store_type, path = truststores[store]
    result = ktpy("verify-trust", f"localhost:{lab['ports'][case]}", "--truststore", path,
                  "--storepass", "env:TS_PASS", "--system-bundle", lab["bundle"],
                  env={"https_proxy": lab["proxy"]})
    java = java_verdicts[case, store, "localhost"]
    assert result.stderr == ""
    assert (result.exit_code == 0) == java.startswith("OK "), f"{java}\n{result.output}"
    assert (result.exit_code == 0) == ((case, store) in TRUSTED), f"{java}\n{result.output}"
    assert result.exit_code in (0, 3)


@pytest.mark.parametrize("case", CASES)
def test_verify_trust_of_an_ip_address_agrees_with_java(lab, truststores, java_verdicts, case):
    """127.0.0.1, directly: no SNI, and the address must be an IP SAN (no CN fallback for it)."""
    result = ktpy("verify-trust", f"127.0.0.1:{lab['ports'][case]}", "--truststore", truststores["root"][1],
                  "--storepass", "env:TS_PASS", "--system-bundle", lab["bundle"])
    java = java_verdicts[case, "root", "127.0.0.1"]
    assert (result.exit_code == 0) == java.startswith("OK "), f"{java}\n{result.output}"
    assert (result.exit_code == 0) == (case in ("good", "root-sent", "disorder")), f"{java}\n{result.output}"


def test_verify_trust_says_what_to_add(lab, truststores, pki):
    """The unrelated root: the fix names the private root, from the system bundle (good) or as
    sent by the server (root-sent); a missing intermediate, an expired leaf and a wrong host name
    each say why, and that no truststore change helps where none does."""
    _, path = truststores["other"]

    def verdict(case, *extra):
        result = ktpy("verify-trust", f"localhost:{lab['ports'][case]}", "--truststore", path,
                      "--storepass", "env:TS_PASS", "--system-bundle", lab["bundle"], *extra)
        assert result.exit_code == 3, result.output
        return [line.strip() for line in result.stdout.splitlines()]

    root = f"CN=Trust Test Root,O=Test (SHA-256 {fingerprint(pki['root'])})"
    assert f"fix: add the root {root}: the server does not send it; it is in the system bundle {lab['bundle']}" \
        in verdict("good")
    assert f"fix: add the root {root}: the server sends it, and it is in the system bundle {lab['bundle']}" \
        in verdict("root-sent")
    lines = verdict("no-intermediate")
    assert ("why: the server does not send CN=Trust Test Intermediate,O=Test, the issuer of CN=localhost,O=Test, "
            "and Java does not fetch a missing certificate") in lines
    _, root_path = truststores["root"]
    expired = ktpy("verify-trust", f"localhost:{lab['ports']['expired']}", "--truststore", root_path,
                   "--storepass", "env:TS_PASS")
    leaf = pki["sent"]["expired"][0]
    assert expired.exit_code == 3
    assert (f"  why: CN=localhost,O=Test expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
            in expired.stdout.splitlines())
    assert "no truststore change helps; the server must replace that certificate" in expired.stdout
    wrong = ktpy("verify-trust", f"localhost:{lab['ports']['wrong-host']}", "--truststore", root_path,
                 "--storepass", "env:TS_PASS")
    assert wrong.exit_code == 3
    assert ("  why: CN=elsewhere.example,O=Test is for dns:elsewhere.example, not localhost"
            in wrong.stdout.splitlines())


def test_verify_trust_of_a_chain_file(lab, truststores, pki, tmp_path):
    chain = tmp_path / "chain.pem"
    chain.write_bytes(to_pem(pki["sent"]["good"]))
    _, path = truststores["root"]
    ok = ktpy("verify-trust", "--chain", chain, "--host", "localhost", "--truststore", path, "--storepass",
              "env:TS_PASS")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[-1].startswith(f"Java would TRUST {chain} with {path}: CN=localhost,O=Test -> ")
    other = ktpy("verify-trust", "--chain", chain, "--host", "elsewhere.example", "--truststore", path,
                 "--storepass", "env:TS_PASS")
    assert other.exit_code == 3
    as_json = json.loads(ktpy("verify-trust", "--chain", chain, "--host", "elsewhere.example", "--truststore", path,
                              "--storepass", "env:TS_PASS", "--json").stdout)
    assert (as_json["kind"], as_json["trusted"], as_json["anchor"]) == ("trust-decision", False, "trust-test-root")
    assert [c["sha256"] for c in as_json["path"]] == [fingerprint(c) for c in (*pki["sent"]["good"], pki["root"])]
    assert as_json["host_names_checked"] == ["elsewhere.example"]
    assert as_json["reasons"] == ["CN=localhost,O=Test is for dns:localhost, ip:127.0.0.1, not elsewhere.example"]
    both = ktpy("verify-trust", "localhost:1", "--chain", chain, "--truststore", path, "--storepass", "env:TS_PASS")
    assert both.exit_code == 2 and "give HOST[:PORT] or --chain FILE (one of them)" in both.stderr


def test_build_truststore_from_server_names_the_root(truststores, lab, pki):
    """The root not sent comes from the system bundle, named; never the leaf unless --leaf."""
    out = truststores["from-good-output"].stderr
    assert (f"From localhost:{lab['ports']['good']}: root CN=Trust Test Root,O=Test (from the system bundle "
            f"{lab['bundle']}; the server does not send it), SHA-256 {fingerprint(pki['root'])}") in out
    assert out.splitlines()[-1] == f"Wrote {truststores['from-good'][1]} (JKS): trust-test-root"
    assert "(sent by the server, also in the system bundle" in truststores["from-root-sent-output"].stderr
    leaf_out = truststores["from-self-signed-output"].stderr
    assert "Warning: trusting the server's self-signed certificate CN=localhost (--leaf)" in leaf_out


@pytest.mark.parametrize("case, message", [
    ("no-intermediate", "the chain does not verify: CN=Trust Test Intermediate,O=Test, the issuer of "
                        "CN=localhost,O=Test, is not sent by the server and not in the system bundle {b} (a missing "
                        "intermediate, or a root the bundle lacks)"),
    ("expired", "the chain does not verify: CN=localhost,O=Test expired on {end}"),
    ("self-signed", "the server's certificate CN=localhost is self-signed, so trusting it means trusting this one "
                    "certificate; pass --leaf to do so"),
])
def test_build_truststore_refuses_a_chain_that_does_not_verify(lab, pki, tmp_path, case, message):
    out = tmp_path / "ts.jks"
    result = ktpy("build-truststore", "--from-server", f"localhost:{lab['ports'][case]}", "--type", "jks",
                  "-o", out, "--storepass", "env:TS_PASS", "--system-bundle", lab["bundle"])
    end = f"{pki['sent'][case][0].not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    assert result.exit_code == 1, result.output
    assert result.stderr == "Error: " + message.format(b=lab["bundle"], end=end) + "\n"
    assert not out.exists()


def test_build_truststore_warns_on_a_wrong_host_name(lab, tmp_path):
    out = tmp_path / "ts.p12"
    result = ktpy("build-truststore", "--from-server", f"localhost:{lab['ports']['wrong-host']}", "--type", "pkcs12",
                  "-o", out, "--storepass", "env:TS_PASS", "--system-bundle", lab["bundle"])
    assert result.exit_code == 0, result.output
    assert ("Warning: CN=elsewhere.example,O=Test is for dns:elsewhere.example, not localhost: Java will refuse the "
            "host name whatever the truststore holds") in result.stderr


@pytest.mark.parametrize("store, trusted", [("root", True), ("other", False)])
def test_probe_with_a_truststore(lab, truststores, client, tmp_path, store, trusted):
    """probe --truststore judges the server as verify-trust does, and still tests the client
    certificate (nginx accepts it: 200)."""
    from keytool_py import build_keystore

    keystore = tmp_path / "client.p12"
    keystore.write_bytes(build_keystore("pkcs12", client.key, client.chain, alias="mule-client", storepass=STOREPASS))
    store_type, path = truststores[store]
    result = ktpy("probe", f"localhost:{lab['ports']['mutual']}", "--keystore", keystore, "--storepass",
                  "env:TS_PASS", "--truststore", path, "--truststore-pass", "env:TS_PASS", "--truststore-type",
                  store_type, "--timeout", "5", env={"SSL_CERT_FILE": str(lab["bundle"])})
    lines = result.stdout.splitlines()
    assert lines[-1] == ("Result: client certificate ACCEPTED: the server answered HTTP/1.1 200 OK after the "
                         "handshake"), result.output
    assert not any("server verified against" in line for line in lines)  # Java's verdict only
    if trusted:
        assert result.exit_code == 0, result.output
        assert lines[-2].startswith(f"  Java would TRUST localhost:{lab['ports']['mutual']} with {path}: ")
    else:
        assert result.exit_code == 3, result.output
        assert f"  Java would NOT trust localhost:{lab['ports']['mutual']} with {path}:" in lines
        assert any(line.startswith("    fix: add the root CN=Trust Test Root,O=Test") for line in lines)
    wrong_type = ktpy("probe", f"localhost:{lab['ports']['mutual']}", "--keystore", keystore, "--storepass",
                      "env:TS_PASS", "--truststore", path, "--truststore-pass", "env:TS_PASS", "--truststore-type",
                      "jceks")
    assert wrong_type.exit_code == 1
    assert wrong_type.stderr == f"Error: the file is a {store_type.upper()} keystore, not JCEKS\n"


def test_build_truststore_with_leaf_warns_and_keeps_the_root(lab, pki, tmp_path):
    out = tmp_path / "pinned.jks"
    result = ktpy("build-truststore", "--from-server", f"localhost:{lab['ports']['good']}", "--type", "jks",
                  "-o", out, "--storepass", "env:TS_PASS", "--system-bundle", lab["bundle"], "--leaf")
    assert result.exit_code == 0, result.output
    end = f"{pki['sent']['good'][0].not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    assert (f"Warning: the server's own certificate CN=localhost,O=Test is trusted too (--leaf): that pin breaks "
            f"when the server renews it (valid until {end})") in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1] == f"Wrote {out} (JKS): localhost, trust-test-root"


def test_timeout_bounds_a_stalled_handshake():
    """A server that accepts the connection and never answers the TLS hello: --timeout ends it."""
    import time

    from tls_servers import StallingServer

    with StallingServer() as stall:
        start = time.monotonic()
        result = ktpy("fetch-chain", f"127.0.0.1:{stall.port}", "--timeout", "0.5")
        elapsed = time.monotonic() - start
    assert result.exit_code == 1
    assert result.stderr == (f"Error: the TLS handshake with 127.0.0.1:{stall.port} did not finish within 0.5 s: "
                             "the server accepted the connection but stalled\n")
    assert elapsed < 2.0


@pytest.mark.parametrize("text, expected", [
    ("example.com", ("example.com", 443)), ("example.com:8443", ("example.com", 8443)),
    ("127.0.0.1", ("127.0.0.1", 443)), ("[::1]:8443", ("::1", 8443)), ("::1", ("::1", 443)),
])
def test_parse_server(text, expected):
    assert parse_server(text) == expected


def test_proxy_from_the_environment():
    assert parse_proxy("http://proxy.corp:3128/") == ("proxy.corp", 3128)
    assert parse_proxy("proxy.corp:3128") == ("proxy.corp", 3128)
    assert proxy_for("a.example.com", {"https_proxy": "http://p:1"}) == ("p", 1)
    assert proxy_for("a.example.com", {"HTTPS_PROXY": "p:2"}) == ("p", 2)
    assert proxy_for("a.example.com", {"https_proxy": "p:1", "no_proxy": "other.org,example.com"}) is None
    assert proxy_for("a.example.com", {"https_proxy": "p:1", "NO_PROXY": "*"}) is None
    assert proxy_for("badexample.com", {"https_proxy": "p:1", "no_proxy": "example.com"}) == ("p", 1)
    assert proxy_for("a.example.com", {}) is None
