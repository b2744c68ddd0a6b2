"""Revocation and renewal, judged by real consumers.

- `openssl verify -crl_check -CRLfile` and Java's PKIX CertPathValidator (revocation enabled,
  the CRL in a CertStore; tests/java/PkixCrlCheck.java, one JVM for every chain) reject the
  revoked certificate and accept another one from the same CA.
- `openssl s_server` requiring a client certificate and checking the CRL refuses the revoked
  client's handshake: the Java mTLS client (tests/java/MtlsClient.java) and `ktpy probe` both
  see the rejection; the other client is accepted.
- kit -> renew (new key) and renew --reuse-key: the Java client completes a handshake with the
  new stores, and the old certificate still verifies and still works until it expires.
"""

from __future__ import annotations

import functools
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from helpers import ktpy as run_ktpy
from helpers import require_tool
from interop import JAVA_OK, JAVA_TLS_FAILED, MtlsServer, describe, run_java, run_java_client, run_openssl

from keytool_py.certs import load_certificates, to_pem
from keytool_py.keys import private_key_to_pem, same_public_key

pytestmark = pytest.mark.interop

STORE_PW = "store-password-1"
ENV = {"KTPY_STORE_PW": STORE_PW}
PKIX_SOURCE = Path(__file__).parent / "java" / "PkixCrlCheck.java"
SAN = "email:integration@example.com"


ktpy = functools.partial(run_ktpy, env=ENV)


def cert_of(path: Path) -> x509.Certificate:
    return load_certificates(path.read_bytes())[0]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A kit (its own CA), two more clients of that CA with JKS keystores, the first revoked,
    and the CA's CRL."""
    root = tmp_path_factory.mktemp("lifecycle")
    kit = root / "kit"
    ktpy("kit", "--out-dir", kit, "--subject", "CN=mule-client,O=Acme", "--storepass", "env:KTPY_STORE_PW",
         "--alias", "mule-client", "--compat", "java8")
    ca_args = ["--ca", kit / "ca", "--ca-password", f"file:{kit / 'ca/ca-password.txt'}"]
    for name in ("revoked", "good"):
        ktpy("issue-client", *ca_args, "--subject", f"CN={name},O=Acme", "--key-type", "ec-p256",
             "--out-dir", root / name, "--san", SAN)
        ktpy("build-keystore", "--type", "jks", "--key", root / name / f"{name}.key", "--cert",
             root / name / f"{name}-chain.pem", "--alias", name, "--storepass", "env:KTPY_STORE_PW",
             "-o", root / name / "keystore.jks")
    ktpy("revoke", *ca_args, root / "revoked/revoked.pem", "--reason", "key-compromise")
    ktpy("crl", *ca_args, "--pem", "-o", root / "crl.pem")
    return root


# --- revocation ---

def test_openssl_verify_with_the_crl_rejects_the_revoked_certificate_only(pki):
    require_tool("openssl")
    ca = pki / "kit/ca/ca.pem"
    revoked = run_openssl("verify", "-crl_check", "-CRLfile", pki / "crl.pem", "-CAfile", ca,
                          pki / "revoked/revoked.pem")
    assert revoked.returncode != 0, describe(revoked)
    assert "certificate revoked" in revoked.stdout + revoked.stderr
    good = run_openssl("verify", "-crl_check", "-CRLfile", pki / "crl.pem", "-CAfile", ca, pki / "good/good.pem",
                       pki / "kit/client.pem")
    assert good.returncode == 0, describe(good)
    assert good.stdout == f"{pki / 'good/good.pem'}: OK\n{pki / 'kit/client.pem'}: OK\n"


def test_java_pkix_validation_with_the_crl_rejects_the_revoked_certificate_only(pki):
    require_tool("java")
    proc = run_java(PKIX_SOURCE, pki / "kit/ca/ca.pem", pki / "crl.pem", pki / "revoked/revoked.pem",
                    pki / "good/good.pem", pki / "kit/client.pem", timeout=120)
    assert proc.returncode == 0, describe(proc)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{pki / 'revoked/revoked.pem'} REJECTED REVOKED: Certificate has been revoked, "
                               "reason: KEY_COMPROMISE"), proc.stdout
    assert lines[1:] == [f"{pki / 'good/good.pem'} OK", f"{pki / 'kit/client.pem'} OK"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def crl_server(pki, server_pki, tmp_path_factory):
    """openssl s_server on loopback: requires a client certificate, verifies it against the kit's
    CA and checks it against the CRL (-crl_check), failing the handshake on any error."""
    require_tool("openssl")
    work = tmp_path_factory.mktemp("s_server")
    (work / "server.pem").write_bytes(to_pem(server_pki[1].chain[:-1]))
    (work / "server.key").write_bytes(private_key_to_pem(server_pki[1].key))
    port = _free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", work / "server.pem",
         "-key", work / "server.key", "-Verify", "1", "-verify_return_error", "-CAfile", pki / "kit/ca/ca.pem",
         "-CRL", pki / "crl.pem", "-crl_check", "-www", "-quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "s_server did not start"
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_tls_server_checking_the_crl_refuses_the_revoked_client(pki, crl_server, java_classes, server_root_pem):
    code, output = run_java_client(java_classes, store_type="JKS", store_path=pki / "revoked/keystore.jks",
                                   storepass=STORE_PW, keypass=STORE_PW, trust_pem=server_root_pem, port=crl_server)
    assert code == JAVA_TLS_FAILED, output
    assert re.search(r"certificate[_ ]revoked", output, re.IGNORECASE), output
    probe = ["probe", f"127.0.0.1:{crl_server}", "--storepass", "env:KTPY_STORE_PW", "--ca", server_root_pem,
             "--timeout", "5", "--keystore"]
    refused = ktpy(*probe, pki / "revoked/keystore.jks", code=3)
    assert "Result: client certificate REJECTED: " in refused.stdout
    assert "certificate revoked" in refused.stdout
    accepted = ktpy(*probe, pki / "good/keystore.jks")
    assert "Result: client certificate ACCEPTED" in accepted.stdout


# --- renewal ---

@pytest.fixture(scope="module")
def renewed(pki):
    kit = pki / "kit"
    new = ktpy("renew", kit, "--out-dir", pki / "kit-new", "--storepass", "env:KTPY_STORE_PW")
    ktpy("renew", kit, "--out-dir", pki / "kit-reuse", "--storepass", "env:KTPY_STORE_PW", "--reuse-key")
    return new


def test_renew_makes_the_certificate_as_the_old_one_was_made(pki, renewed):
    old, new, reuse = (cert_of(pki / f"{d}/client.pem") for d in ("kit", "kit-new", "kit-reuse"))
    for cert in (new, reuse):
        assert cert.subject == old.subject and cert.issuer == old.issuer
        assert cert.serial_number != old.serial_number
        for cls in (x509.ExtendedKeyUsage, x509.KeyUsage, x509.BasicConstraints):
            ext = cert.extensions.get_extension_for_class
            assert ext(cls).value == old.extensions.get_extension_for_class(cls).value, cls
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        assert lifetime == old.not_valid_after_utc - old.not_valid_before_utc
        assert cert.public_key().key_size == old.public_key().key_size
    assert not same_public_key(new.public_key(), old.public_key())
    assert same_public_key(reuse.public_key(), old.public_key())
    names = sorted(p.name for p in (pki / "kit-new").iterdir())
    assert names == ["README.txt", "client-chain.pem", "client.key", "client.pem", "keystore.jceks", "keystore.jks",
                     "keystore.p12", "mule-config.xml", "salesforce-upload.pem"]
    assert (pki / "kit-new/mule-config.xml").read_bytes() == (pki / "kit/mule-config.xml").read_bytes()
    # the old kit's PKCS12 was written for Java 8 (PBES1 3DES): so is the new one
    info = run_openssl("pkcs12", "-info", "-noout", "-in", pki / "kit-new/keystore.p12", "-passin",
                       f"pass:{STORE_PW}", "-legacy")
    assert "pbeWithSHA1And3-KeyTripleDES-CBC" in info.stdout + info.stderr, describe(info)
    readme = (pki / "kit-new/README.txt").read_text()
    steps = [readme.index(f"  {n}. ") for n in range(1, 5)]
    assert steps == sorted(steps)
    assert "upload salesforce-upload.pem" in readme and "FIRST" in readme
    assert "a connected app holds ONE certificate" in readme
    assert renewed.stderr.endswith("gives the order\n")
    book = ktpy("inspect", pki / "kit/ca", "--json").stdout
    import json

    rows = {r["serial"]: r for r in json.loads(book)["issued"]}
    # the --cert form keeps the SANs and the key type (EC P-256 here)
    ktpy("renew", "--cert", pki / "good/good.pem", "--ca", pki / "kit/ca", "--ca-password",
         f"file:{pki / 'kit/ca/ca-password.txt'}", "--out-dir", pki / "good-new")
    good, good_new = cert_of(pki / "good/good.pem"), cert_of(pki / "good-new/client.pem")
    san = x509.SubjectAlternativeName
    assert good_new.extensions.get_extension_for_class(san) == good.extensions.get_extension_for_class(san)
    assert good_new.public_key().curve.name == "secp256r1" and good_new.subject == good.subject
    assert rows[format(new.serial_number, "X")]["renews"] == format(old.serial_number, "X")
    assert rows[format(new.serial_number, "X")]["issued_by"] == "renew"


def test_the_java_client_connects_with_the_renewed_stores_and_the_old_one_still_works(
        pki, renewed, server_pki, server_root_pem, java_classes, tmp_path):
    with MtlsServer(server=server_pki[1], client_root=cert_of(pki / "kit/ca/ca.pem"), workdir=tmp_path) as server:
        for kind, path in (("JKS", pki / "kit-new/keystore.jks"), ("JCEKS", pki / "kit-reuse/keystore.jceks"),
                           ("PKCS12", pki / "kit/keystore.p12")):
            mark = server.mark()
            code, output = run_java_client(java_classes, store_type=kind, store_path=path, storepass=STORE_PW,
                                           keypass=STORE_PW, trust_pem=server_root_pem, port=server.port)
            assert code == JAVA_OK, (path, output)
            assert server.outcome_after(mark).accepted
    old = run_openssl("verify", "-CAfile", pki / "kit/ca/ca.pem", pki / "kit/client.pem")
    assert old.returncode == 0, describe(old)
    assert ktpy("verify", pki / "kit/client-chain.pem", "--crl", pki / "crl.pem").stdout.endswith(
        "OK: every check holds\n")
