"""The keystores and certificates against the real tools: keytool, a Java 17 TLS client, OpenSSL.

keytool -list shows what Java sees in a store; keytool -importkeystore and the Java client prove
the private key decrypts with the password Mule would give; the loopback server (tests/interop.py)
requires a client certificate the way Salesforce's port 8443 does (no CA names, chain checked
against one root).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from helpers import KEYPASS, LEAF_KEY_TYPES, STOREPASS, require_tool
from interop import (
    JAVA_LOAD_FAILED,
    JAVA_OK,
    JAVA_TLS_FAILED,
    Listed,
    describe,
    java_handshake,
    keytool_import_to_pkcs12,
    parse_keytool_list,
    run_keytool_list,
    run_openssl,
)

from keytool_py import KeyType, build_keystore
from keytool_py.certs import fingerprint, to_pem
from keytool_py.keys import same_public_key

pytestmark = pytest.mark.interop

ALIAS = "mule-client"


@dataclass(frozen=True)
class StoreKind:
    id: str
    store_type: str  # ktpy's name for it
    keytool_type: str  # the name for keytool and KeyStore.getInstance
    keypass: str | None = None  # None: the key password is the store password
    compat: str | None = None

    @property
    def effective_keypass(self) -> str:
        return self.keypass or STOREPASS


JKS = StoreKind("jks", "jks", "JKS")
JKS_KEYPASS = StoreKind("jks-keypass", "jks", "JKS", keypass=KEYPASS)
JCEKS = StoreKind("jceks", "jceks", "JCEKS")
JCEKS_KEYPASS = StoreKind("jceks-keypass", "jceks", "JCEKS", keypass=KEYPASS)
PKCS12 = StoreKind("pkcs12", "pkcs12", "PKCS12")
PKCS12_JAVA8 = StoreKind("pkcs12-java8", "pkcs12", "PKCS12", compat="java8")

LISTED_KINDS = [JKS, JKS_KEYPASS, JCEKS, JCEKS_KEYPASS, PKCS12, PKCS12_JAVA8]
HANDSHAKE_KINDS = [JKS, JKS_KEYPASS, JCEKS, PKCS12, PKCS12_JAVA8]


def _kind_params(kinds):
    return [pytest.param(k, id=k.id) for k in kinds]


KEY_TYPE_PARAMS = [pytest.param(kt, id=kt.value) for kt in LEAF_KEY_TYPES]


# --- fixtures (java_classes, server_pki, server_root_pem, mtls_server: conftest.py) ---

@pytest.fixture(scope="module")
def store_files(clients, tmp_path_factory):
    """Builds each (key type, store kind) keystore once and shares it between tests."""
    folder = tmp_path_factory.mktemp("stores")
    cache: dict[tuple[KeyType, str], Path] = {}

    def get(key_type: KeyType, kind: StoreKind) -> Path:
        if (key_type, kind.id) not in cache:
            leaf = clients[key_type]
            data = build_keystore(kind.store_type, leaf.key, leaf.chain, alias=ALIAS,
                                  storepass=STOREPASS, keypass=kind.keypass, compat=kind.compat)
            path = folder / f"{key_type.value}-{kind.id}.store"
            path.write_bytes(data)
            cache[(key_type, kind.id)] = path
        return cache[(key_type, kind.id)]

    return get


# --- keytool sees a PrivateKeyEntry with the whole chain, and the key decrypts ---

def _certificate_sections(listing: str) -> dict[int, str]:
    """The text of each 'Certificate[n]:' block of keytool -list -v, by n."""
    parts = re.split(r"^Certificate\[(\d+)\]:\s*$", listing, flags=re.MULTILINE)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize("kind", _kind_params(LISTED_KINDS))
@pytest.mark.parametrize("key_type", KEY_TYPE_PARAMS)
def test_keytool_lists_private_key_entry_with_chain(key_type, kind, clients, ca, store_files,
                                                     tmp_path):
    require_tool("keytool")
    leaf = clients[key_type]
    path = store_files(key_type, kind)

    listing = run_keytool_list(path, kind.keytool_type, STOREPASS)

    assert f"Keystore type: {kind.keytool_type}" in listing
    expected = Listed(ALIAS, "PrivateKeyEntry", (fingerprint(leaf.cert), fingerprint(ca.root)))
    assert parse_keytool_list(listing) == [expected]
    sections = _certificate_sections(listing)
    assert sorted(sections) == [1, 2], listing
    assert f"SHA256: {fingerprint(leaf.cert)}" in sections[1]
    assert f"SHA256: {fingerprint(ca.root)}" in sections[2]
    assert f"CN=mule-client-{key_type.value}" in sections[1]
    assert "CN=ktpy Test Root CA" in sections[2]

    # keytool -list never decrypts the key: copying the entry does.
    copy = tmp_path / "copy.p12"
    proc = keytool_import_to_pkcs12(path, kind.keytool_type, STOREPASS, copy, alias=ALIAS,
                                    keypass=kind.keypass)
    assert proc.returncode == 0, describe(proc)
    copied = pkcs12.load_pkcs12(copy.read_bytes(), STOREPASS.encode())
    assert copied.key is not None and copied.cert is not None
    assert same_public_key(copied.key.public_key(), leaf.cert.public_key())
    assert copied.cert.certificate == leaf.cert


@pytest.mark.parametrize("kind", _kind_params([JKS_KEYPASS, JCEKS_KEYPASS]))
def test_keytool_import_fails_with_the_store_password_as_key_password(kind, store_files, tmp_path):
    """The converse of the -importkeystore check: with a distinct key password, the store
    password does not recover the key (so the check above can fail)."""
    require_tool("keytool")
    path = store_files(KeyType.EC_P256, kind)
    copy = tmp_path / "copy.p12"
    proc = keytool_import_to_pkcs12(path, kind.keytool_type, STOREPASS, copy, alias=ALIAS,
                                    keypass=STOREPASS)
    assert proc.returncode != 0, describe(proc)
    assert "java.security.UnrecoverableKeyException" in proc.stdout, describe(proc)
    assert not copy.exists()


# --- the Java client completes the mutual-TLS handshake ---

@pytest.mark.parametrize("kind", _kind_params(HANDSHAKE_KINDS))
@pytest.mark.parametrize("key_type", KEY_TYPE_PARAMS)
def test_java_client_handshake(key_type, kind, clients, store_files, java_classes,
                               server_root_pem, mtls_server):
    path = store_files(key_type, kind)
    code, output, outcome = java_handshake(java_classes, server_root_pem, mtls_server, kind.keytool_type,
                                           path, storepass=STOREPASS, keypass=kind.effective_keypass)

    assert code == JAVA_OK, output
    assert re.search(r"^OK TLSv1\.[23] TLS_\w+$", output, flags=re.MULTILINE), output
    assert f"key entry {ALIAS} chain length 2" in output
    assert outcome.accepted, outcome
    assert outcome.subject == clients[key_type].cert.subject.rfc4514_string()
    assert outcome.request == b"ping"
    assert outcome.protocol in ("TLSv1.3", "TLSv1.2")


# --- must fail ---

def test_java_client_cert_from_another_ca_is_rejected(other_ca, key_pool, java_classes,
                                                      server_root_pem, mtls_server, tmp_path):
    stranger = other_ca.issue_client("CN=mule-client-stranger,O=Elsewhere",
                                     key=key_pool(KeyType.EC_P256, 30))
    path = tmp_path / "stranger.jks"
    path.write_bytes(build_keystore("jks", stranger.key, stranger.chain, alias=ALIAS,
                                    storepass=STOREPASS))

    code, output, outcome = java_handshake(java_classes, server_root_pem, mtls_server, "JKS", path,
                                           storepass=STOREPASS, keypass=STOREPASS)

    assert code == JAVA_TLS_FAILED, output
    # The client reads the server's alert during the handshake or at its first read, or, when the
    # connection is already gone, fails writing (broken pipe, reset): all of them exit 3.
    assert re.search(r"^TLS-FAILED at (handshake|read|write): ", output, flags=re.MULTILINE), output
    assert not outcome.accepted, outcome
    assert "certificate verify failed" in outcome.error, outcome


def test_java_client_store_password_as_key_password_fails(store_files, java_classes,
                                                          server_root_pem, mtls_server):
    path = store_files(KeyType.EC_P256, JKS_KEYPASS)
    mark = mtls_server.mark()

    code, output, _ = java_handshake(java_classes, server_root_pem, mtls_server, "JKS", path,
                                     storepass=STOREPASS, keypass=STOREPASS)

    assert code == JAVA_LOAD_FAILED, output
    assert "java.security.UnrecoverableKeyException" in output, output
    assert mtls_server.outcomes_after(mark, timeout=0) == []


def test_java_client_wrong_store_password_fails(store_files, java_classes, server_root_pem,
                                                mtls_server):
    path = store_files(KeyType.EC_P256, JKS)
    mark = mtls_server.mark()

    code, output, _ = java_handshake(java_classes, server_root_pem, mtls_server, "JKS", path,
                                     storepass="wrong-pass", keypass="wrong-pass")

    assert code == JAVA_LOAD_FAILED, output
    assert "password was incorrect" in output, output
    assert mtls_server.outcomes_after(mark, timeout=0) == []


# --- the server itself: no client CA names, and no certificate means no connection ---

def test_server_sends_no_client_ca_names(mtls_server):
    require_tool("openssl")
    mark = mtls_server.mark()
    proc = run_openssl("s_client", "-connect", f"127.0.0.1:{mtls_server.port}",
                       "-servername", "localhost", timeout=20)
    output = proc.stdout + proc.stderr

    assert "No client certificate CA names sent" in output, describe(proc)
    assert "Acceptable client certificate CA names" not in output
    outcome = mtls_server.outcome_after(mark)
    assert not outcome.accepted, outcome
    assert "peer did not return a certificate" in outcome.error, outcome


# --- PKCS12 algorithms, as OpenSSL reads them ---

def _pkcs12_info(path: Path) -> str:
    proc = run_openssl("pkcs12", "-info", "-in", path, "-passin", f"pass:{STOREPASS}", "-noout")
    assert proc.returncode == 0, describe(proc)
    return proc.stdout + proc.stderr  # OpenSSL writes the -info lines to stderr


def test_pkcs12_java8_uses_sha1_mac_and_3des(store_files):
    require_tool("openssl")
    info = _pkcs12_info(store_files(KeyType.RSA2048, PKCS12_JAVA8))

    assert re.search(r"^MAC: sha1, Iteration \d+$", info, flags=re.MULTILINE), info
    assert "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC" in info, info
    assert "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC" in info, info
    assert "AES" not in info and "PBES2" not in info, info


def test_pkcs12_default_uses_sha256_mac_and_aes256(store_files):
    require_tool("openssl")
    info = _pkcs12_info(store_files(KeyType.RSA2048, PKCS12))

    assert re.search(r"^MAC: sha256, Iteration \d+$", info, flags=re.MULTILINE), info
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" in info, info
    assert "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" in info, info
    assert "TripleDES" not in info and "sha1" not in info.lower(), info


# --- every PEM passes OpenSSL ---

@pytest.mark.parametrize("key_type", KEY_TYPE_PARAMS)
def test_leaf_pem_passes_openssl(key_type, clients, ca, tmp_path):
    require_tool("openssl")
    leaf = clients[key_type]
    leaf_pem = tmp_path / "leaf.pem"
    root_pem = tmp_path / "root.pem"
    leaf_pem.write_bytes(to_pem([leaf.cert]))
    root_pem.write_bytes(to_pem([ca.root]))

    text = run_openssl("x509", "-noout", "-text", "-in", leaf_pem)
    assert text.returncode == 0, describe(text)
    assert f"CN = mule-client-{key_type.value}" in text.stdout, text.stdout
    assert "CA:FALSE" in text.stdout

    verify = run_openssl("verify", "-CAfile", root_pem, leaf_pem)
    assert verify.returncode == 0, describe(verify)
    assert verify.stdout.strip() == f"{leaf_pem}: OK"

    as_client = run_openssl("verify", "-purpose", "sslclient", "-CAfile", root_pem, leaf_pem)
    assert as_client.returncode == 0, describe(as_client)
    as_server = run_openssl("verify", "-purpose", "sslserver", "-CAfile", root_pem, leaf_pem)
    assert as_server.returncode != 0, describe(as_server)
    assert "unsuitable certificate purpose" in as_server.stdout + as_server.stderr

    eku = run_openssl("x509", "-noout", "-ext", "extendedKeyUsage", "-in", leaf_pem)
    assert eku.returncode == 0, describe(eku)
    assert "TLS Web Client Authentication" in eku.stdout, eku.stdout
    assert "Server Authentication" not in eku.stdout, eku.stdout


def test_root_pem_passes_openssl(ca, tmp_path):
    require_tool("openssl")
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(to_pem([ca.root]))
    text = run_openssl("x509", "-noout", "-text", "-in", root_pem)
    assert text.returncode == 0, describe(text)
    assert "CA:TRUE" in text.stdout
    verify = run_openssl("verify", "-CAfile", root_pem, root_pem)
    assert verify.returncode == 0, describe(verify)
    assert x509.load_pem_x509_certificate(root_pem.read_bytes()) == ca.root
