"""Chains and bring-your-own CA, proven with the real JDK and OpenSSL:
intermediates in the handshake, a CSR signed by an OpenSSL CA, keytool's own stores read and
converted, truststores keytool lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import STOREPASS, require_tool
from helpers import ktpy as run_ktpy
from interop import (
    JAVA_OK,
    JAVA_TLS_FAILED,
    MtlsServer,
    describe,
    java_handshake,
    parse_keytool_list,
    run_keytool_list,
    run_openssl,
)

from keytool_py import KeyType, build_keystore, create_ca
from keytool_py.certs import fingerprint, load_certificates, to_pem

pytestmark = pytest.mark.interop
KEYTOOL_TYPES = {"jks": "JKS", "jceks": "JCEKS", "pkcs12": "PKCS12"}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def ktpy(*args, env=None):
    return run_ktpy(*args, env={"KTPY_PW": STOREPASS, **(env or {})})


def keytool_entries(listing: str) -> list[tuple[str, str, list[str]]]:
    """(alias, entry type, SHA-256 fingerprints) for each entry of keytool -list -v, sorted."""
    return sorted((e.alias, e.kind, list(e.sha256)) for e in parse_keytool_list(listing))


# --- root -> intermediate -> client in the handshake ---

@pytest.fixture(scope="module")
def intermediate_client(ca, key_pool, now):
    inter = create_ca("CN=ktpy Test Issuing CA,O=Acme", parent=ca, key=key_pool(KeyType.EC_P256, 30), now=now)
    return inter.issue_client("CN=chained-client,O=Acme", key=key_pool(KeyType.RSA2048, 1), now=now)


@pytest.mark.parametrize("store_type", ["jks", "pkcs12", "jceks"])
def test_intermediate_in_the_store_completes_the_handshake(store_type, intermediate_client, tmp_path,
                                                           java_classes, server_root_pem, mtls_server):
    leaf = intermediate_client
    assert len(leaf.chain) == 3
    path = tmp_path / "chained.store"
    path.write_bytes(build_keystore(store_type, leaf.key, leaf.chain, alias="mule", storepass=STOREPASS))
    listing = run_keytool_list(path, KEYTOOL_TYPES[store_type], STOREPASS)
    assert keytool_entries(listing) == [("mule", "PrivateKeyEntry", [fingerprint(c) for c in leaf.chain])]
    code, output, outcome = java_handshake(java_classes, server_root_pem, mtls_server, KEYTOOL_TYPES[store_type],
                                           path, storepass=STOREPASS, keypass=STOREPASS)
    assert code == JAVA_OK, output
    assert outcome.accepted and outcome.subject == "CN=chained-client,O=Acme"


def test_store_without_the_intermediate_is_rejected(intermediate_client, tmp_path, java_classes,
                                                    server_root_pem, mtls_server):
    """Salesforce's rule: the client must send every intermediate; the leaf alone fails."""
    leaf = intermediate_client
    path = tmp_path / "leaf-only.jks"
    path.write_bytes(build_keystore("jks", leaf.key, leaf.chain[:1], alias="mule", storepass=STOREPASS))
    code, output, outcome = java_handshake(java_classes, server_root_pem, mtls_server, "JKS", path,
                                           storepass=STOREPASS, keypass=STOREPASS)
    assert code == JAVA_TLS_FAILED, output
    assert not outcome.accepted
    assert "unable to get local issuer certificate" in outcome.error


# --- a CSR from ktpy signed by an OpenSSL CA (standing in for a public CA) ---

def test_csr_signed_by_openssl_ca_becomes_a_working_keystore(tmp_path, java_classes, server_root_pem,
                                                             server_pki):
    require_tool("openssl")
    ca_key, ca_pem = tmp_path / "pubca.key", tmp_path / "pubca.pem"
    proc = run_openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem,
                       "-days", "30", "-subj", "/O=Public Test CA/CN=Public Test Root",
                       "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    assert proc.returncode == 0, describe(proc)
    ktpy("create-csr", "--subject", "CN=csr-client,O=Acme", "--key-out", tmp_path / "c.key",
         "--out", tmp_path / "c.csr")
    ext = tmp_path / "ext.cnf"
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=clientAuth\n")
    proc = run_openssl("x509", "-req", "-in", tmp_path / "c.csr", "-CA", ca_pem, "-CAkey", ca_key,
                       "-CAcreateserial", "-days", "10", "-extfile", ext, "-out", tmp_path / "c.pem")
    assert proc.returncode == 0, describe(proc)
    store = tmp_path / "c.p12"
    ktpy("build-keystore", "--type", "pkcs12", "--key", tmp_path / "c.key", "--cert", tmp_path / "c.pem",
         "--chain", ca_pem, "--alias", "csr-client", "--storepass", "env:KTPY_PW", "-o", store)
    root = load_certificates(ca_pem.read_bytes())[0]
    with MtlsServer(server=server_pki[1], client_root=root, workdir=tmp_path / "srv") as server:
        code, output, outcome = java_handshake(java_classes, server_root_pem, server, "PKCS12", store,
                                               storepass=STOREPASS, keypass=STOREPASS)
    assert code == JAVA_OK, output
    assert outcome.accepted and outcome.subject == "CN=csr-client,O=Acme"


# --- the fixtures: inspect and convert agree with keytool ---

def _keypass(name):
    return next((e["keypass"] for e in EXPECTED[name]["entries"] if "keypass" in e), None)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspect_matches_live_keytool(name):
    require_tool("keytool")
    info = EXPECTED[name]
    listing = run_keytool_list(FIXTURES / name, KEYTOOL_TYPES[info["type"]], info["storepass"])
    inspected = json.loads(ktpy("inspect", FIXTURES / name, "--storepass", "env:KTPY_PW", "--json").stdout)
    ours = sorted((e["alias"], e["kind"], [c["sha256"] for c in e["chain"]]) for e in inspected["entries"])
    assert ours == keytool_entries(listing)


@pytest.mark.parametrize("dest", ["jks", "pkcs12", "jceks"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_convert_keeps_aliases_and_fingerprints(name, dest, tmp_path):
    require_tool("keytool")
    info = EXPECTED[name]
    out = tmp_path / f"converted.{dest}"
    args = ["convert", FIXTURES / name, "--to", dest, "--storepass", "env:KTPY_PW", "-o", out]
    if _keypass(name):
        args += ["--keypass", "env:KTPY_KEYPASS"]
    ktpy(*args, env={"KTPY_KEYPASS": _keypass(name) or ""})
    listing = run_keytool_list(out, KEYTOOL_TYPES[dest], info["storepass"])
    source = run_keytool_list(FIXTURES / name, KEYTOOL_TYPES[info["type"]], info["storepass"])
    assert keytool_entries(listing) == keytool_entries(source)


# --- truststores ---

@pytest.mark.parametrize("store_type", ["jks", "pkcs12", "jceks"])
def test_truststore_entries_are_trusted_cert_entries(store_type, tmp_path, ca, other_ca):
    require_tool("keytool")
    (tmp_path / "a.pem").write_bytes(to_pem([ca.cert]))
    (tmp_path / "b.pem").write_bytes(to_pem([other_ca.cert]))
    out = tmp_path / f"trust.{store_type}"
    ktpy("build-truststore", "--type", store_type, tmp_path / "a.pem", tmp_path / "b.pem",
         "--alias-prefix", "root", "--storepass", "env:KTPY_PW", "-o", out)
    listing = run_keytool_list(out, KEYTOOL_TYPES[store_type], STOREPASS)
    assert keytool_entries(listing) == [("root1", "trustedCertEntry", [fingerprint(ca.cert)]),
                                        ("root2", "trustedCertEntry", [fingerprint(other_ca.cert)])]
