"""A CA whose key is in a PKCS#11 token (SoftHSM2): made there by create-ca --pkcs11, used by
issue-client, sign-csr, revoke, crl and a batch through --pin; judged by `openssl verify`
(-crl_check), Java's PKIX validation with the CRL, a Java mTLS client, and the token itself
(pkcs11-tool from OpenSC, and python-pkcs11 reading the key's attributes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import ktpy as run_ktpy
from helpers import require_tool
from interop import JAVA_OK, MtlsServer, describe, run, run_java, run_java_client, run_openssl
from softhsm import PIN, put_back, remove_token

from keytool_py import p11uri
from keytool_py.certs import load_certificates
from keytool_py.errors import BadInputError
from keytool_py.keys import same_public_key

STORE_PW = "store-password-1"
ENV = {"KTPY_PIN": PIN, "KTPY_STORE_PW": STORE_PW}
PKIX_SOURCE = Path(__file__).parent / "java" / "PkixCrlCheck.java"
PIN_ARGS = ("--pin", "env:KTPY_PIN")


def ktpy(*args, code=0):
    return run_ktpy(*args, env=ENV, code=code)


def cert_of(path: Path) -> x509.Certificate:
    return load_certificates(path.read_bytes())[0]


# --- URIs (RFC 7512) ---

def test_uri_reads_rfc7512_attributes_and_writes_them_back():
    uri = p11uri.parse("pkcs11:token=my%20ca;object=root;id=%01%A2;type=private"
                       "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin%20file")
    assert (uri.token, uri.object, uri.id, uri.type) == ("my ca", "root", b"\x01\xa2", "private")
    assert (uri.module_path, uri.pin_source) == ("/usr/lib/softhsm/libsofthsm2.so", "/run/pin file")
    assert str(uri) == ("pkcs11:token=my%20ca;object=root;id=%01%A2;type=private"
                        "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/pin%20file")
    assert p11uri.parse(str(uri)) == uri


@pytest.mark.parametrize(("text", "message"), [
    ("token=ca", "--pkcs11 takes a PKCS#11 URI such as pkcs11:token=ca;object=root (RFC 7512)"),
    ("pkcs11:object=root", "--pkcs11: the URI names no token; add token=LABEL (softhsm2-util --show-slots, "
                           "p11tool --list-tokens)"),
    ("pkcs11:token=ca;color=red", "--pkcs11: 'color' is not an attribute ktpy reads there (token, object, id, "
                                  "type, manufacturer, model, serial, library-manufacturer, library-description, "
                                  "library-version, slot-description, slot-manufacturer, slot-id)"),
    ("pkcs11:token=ca;object=a;object=b", "--pkcs11: attribute 'object' is given twice"),
    ("pkcs11:token=ca?module-name=softhsm2", "--pkcs11: module-name is not supported; give the library file with "
                                             "module-path=PATH or --pkcs11-module PATH"),
])
def test_uri_refusals_are_one_sentence(text, message):
    with pytest.raises(BadInputError) as caught:
        p11uri.parse(text)
    assert str(caught.value) == message


# --- one CA in the token, used by every command that signs ---

@pytest.fixture(scope="module")
def hsm_pki(softhsm, tmp_path_factory):
    """create-ca in the token (RSA 3072, the default), two clients (one revoked), a signed CSR,
    a CRL; keystores for the Java client."""
    root = tmp_path_factory.mktemp("hsm")
    ca = root / "ca"
    out = ktpy("create-ca", "--dir", ca, "--subject", "CN=HSM Root CA,O=Acme",
               "--pkcs11", softhsm.uri(object="root"), "--pkcs11-module", softhsm.module, *PIN_ARGS)
    (root / "create-ca.txt").write_text(out.stderr)
    for name in ("revoked", "good"):
        ktpy("issue-client", "--ca", ca, *PIN_ARGS, "--subject", f"CN={name},O=Acme", "--key-type", "ec-p256",
             "--out-dir", root / name)
        ktpy("build-keystore", "--type", "jks", "--key", root / name / f"{name}.key", "--cert",
             root / name / f"{name}-chain.pem", "--alias", name, "--storepass", "env:KTPY_STORE_PW",
             "-o", root / name / "keystore.jks")
    ktpy("create-csr", "--subject", "CN=from-csr,O=Acme", "--key-type", "ec-p256", "--key-out", root / "csr.key",
         "--out", root / "req.csr")
    ktpy("sign-csr", root / "req.csr", "--ca", ca, *PIN_ARGS, "--out", root / "csr.pem")
    ktpy("revoke", "--ca", ca, *PIN_ARGS, root / "revoked/revoked.pem", "--reason", "key-compromise")
    ktpy("crl", "--ca", ca, *PIN_ARGS, "--pem", "-o", root / "crl.pem")
    return root


def test_create_ca_writes_the_certificate_beside_a_token_reference(hsm_pki, softhsm):
    ca = hsm_pki / "ca"
    assert sorted(p.name for p in ca.iterdir()) == ["ca.pem", "ca.pkcs11", "issued.jsonl"]
    uri = [line for line in (ca / "ca.pkcs11").read_text().splitlines() if not line.startswith("#")]
    assert len(uri) == 1 and uri[0].startswith("pkcs11:token=ktpy-ca;object=root;id=%")
    assert uri[0].endswith(f";type=private?module-path={softhsm.module}")
    assert "(sensitive, not extractable)" in (hsm_pki / "create-ca.txt").read_text()
    inspected = ktpy("inspect", ca).stdout.splitlines()
    assert inspected[2] == f"Key: in PKCS#11 token 'ktpy-ca', object 'root' (ca.pkcs11: {uri[0]})"


def test_openssl_verifies_every_certificate_and_the_crl_refuses_the_revoked_one(hsm_pki):
    require_tool("openssl")
    ca = hsm_pki / "ca/ca.pem"
    self_signed = run_openssl("verify", "-CAfile", ca, ca)
    assert self_signed.returncode == 0, describe(self_signed)
    good = run_openssl("verify", "-crl_check", "-CRLfile", hsm_pki / "crl.pem", "-CAfile", ca,
                       hsm_pki / "good/good.pem", hsm_pki / "csr.pem")
    assert good.returncode == 0, describe(good)
    assert good.stdout == f"{hsm_pki / 'good/good.pem'}: OK\n{hsm_pki / 'csr.pem'}: OK\n"
    revoked = run_openssl("verify", "-crl_check", "-CRLfile", hsm_pki / "crl.pem", "-CAfile", ca,
                          hsm_pki / "revoked/revoked.pem")
    assert revoked.returncode != 0 and "certificate revoked" in revoked.stdout + revoked.stderr, describe(revoked)
    crl = run_openssl("crl", "-in", hsm_pki / "crl.pem", "-CAfile", ca, "-noout")
    assert crl.returncode == 0 and "verify OK" in crl.stdout + crl.stderr, describe(crl)


def test_java_pkix_with_the_crl_and_the_java_mtls_client_accept_the_chain(
        hsm_pki, server_pki, server_root_pem, java_classes, tmp_path):
    proc = run_java(PKIX_SOURCE, hsm_pki / "ca/ca.pem", hsm_pki / "crl.pem", hsm_pki / "revoked/revoked.pem",
                    hsm_pki / "good/good.pem", timeout=120)
    assert proc.returncode == 0, describe(proc)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{hsm_pki / 'revoked/revoked.pem'} REJECTED REVOKED"), proc.stdout
    assert lines[1:] == [f"{hsm_pki / 'good/good.pem'} OK"]
    with MtlsServer(server=server_pki[1], client_root=cert_of(hsm_pki / "ca/ca.pem"), workdir=tmp_path) as server:
        mark = server.mark()
        code, output = run_java_client(java_classes, store_type="JKS", store_path=hsm_pki / "good/keystore.jks",
                                       storepass=STORE_PW, keypass=STORE_PW, trust_pem=server_root_pem,
                                       port=server.port)
        assert code == JAVA_OK, output
        outcome = server.outcome_after(mark)
        assert outcome.accepted and outcome.subject == "CN=good,O=Acme", outcome


def test_no_file_in_the_ca_folder_holds_key_material_and_the_token_keeps_the_key(hsm_pki, softhsm):
    """The folder's files hold no private key in any form; the token's public key is the
    certificate's; the token (OpenSC's pkcs11-tool, and the key's own attributes) says the key is
    sensitive and was never extractable."""
    import pkcs11

    ca_cert = cert_of(hsm_pki / "ca/ca.pem")
    for path in (hsm_pki / "ca").iterdir():
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data, path
        for load in (serialization.load_pem_private_key, serialization.load_der_private_key):
            with pytest.raises((ValueError, TypeError)):
                load(data, None)
        modulus = ca_cert.public_key().public_numbers().n.to_bytes(384, "big")
        assert modulus not in data  # not even the public half is stored beside the certificate, only named
    token = pkcs11.lib(softhsm.module).get_token(token_label="ktpy-ca")
    try:
        session = token.open(user_pin=PIN)
    except pkcs11.UserAlreadyLoggedIn:  # this process signed with the token: its login holds for all sessions
        session = token.open()
    # left open: closing a logged-in session logs the whole process out (C_Logout)
    key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="root")
    assert key[pkcs11.Attribute.SENSITIVE] and key[pkcs11.Attribute.ALWAYS_SENSITIVE]
    assert not key[pkcs11.Attribute.EXTRACTABLE] and key[pkcs11.Attribute.NEVER_EXTRACTABLE]
    assert key[pkcs11.Attribute.TOKEN] and key[pkcs11.Attribute.PRIVATE]
    pub = session.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, label="root")
    numbers = ca_cert.public_key().public_numbers()
    assert int.from_bytes(pub[pkcs11.Attribute.MODULUS], "big") == numbers.n
    assert int.from_bytes(pub[pkcs11.Attribute.PUBLIC_EXPONENT], "big") == numbers.e
    tool = require_tool("pkcs11-tool")
    listed = run([tool, "--module", softhsm.module, "--token-label", "ktpy-ca", "--login", "--pin", PIN,
                  "--list-objects", "--type", "privkey"])
    assert listed.returncode == 0, describe(listed)
    block = listed.stdout.split('label:      root')[1].split("Private Key Object")[0]
    assert "Access:     sensitive, always sensitive, never extractable, local" in block, listed.stdout


def test_existing_key_makes_a_second_ca_with_the_same_key(hsm_pki, softhsm, tmp_path):
    made = ktpy("create-ca", "--dir", tmp_path / "again", "--subject", "CN=HSM Root CA 2,O=Acme", "--pkcs11",
                softhsm.uri(object="root") + f"?module-path={softhsm.module}", "--existing-key", *PIN_ARGS)
    first, second = cert_of(hsm_pki / "ca/ca.pem"), cert_of(tmp_path / "again/ca.pem")
    assert same_public_key(first.public_key(), second.public_key())
    assert "ca.pkcs11  names the key found in token 'ktpy-ca' (sensitive, not extractable)" in made.stderr
    verified = run_openssl("verify", "-CAfile", tmp_path / "again/ca.pem", tmp_path / "again/ca.pem")
    assert verified.returncode == 0, describe(verified)


def test_an_ec_ca_in_the_token_issues_a_batch_from_workers_with_their_own_sessions(softhsm, tmp_path):
    """create-ca --key-type ec-p256 in the token, then issue-client --batch: the workers are forked
    processes, each opening its own session; openssl verifies every certificate."""
    ktpy("create-ca", "--dir", tmp_path / "ca", "--subject", "CN=HSM EC CA", "--key-type", "ec-p256",
         "--pkcs11", softhsm.uri(object="ec-batch"), "--pkcs11-module", softhsm.module, *PIN_ARGS)
    rows = "".join(f'"CN=client-{i},O=Acme",client-{i}\n' for i in range(6))
    (tmp_path / "clients.csv").write_text("subject,name\n" + rows)
    ktpy("issue-client", "--ca", tmp_path / "ca", *PIN_ARGS, "--batch", tmp_path / "clients.csv", "--key-type",
         "ec-p256", "--storepass", "env:KTPY_STORE_PW", "--out-dir", tmp_path / "out")
    pems = [tmp_path / "out" / f"client-{i}.pem" for i in range(6)]
    verified = run_openssl("verify", "-CAfile", tmp_path / "ca/ca.pem", *pems)
    assert verified.returncode == 0, describe(verified)
    assert verified.stdout.count(": OK\n") == 6


def test_the_token_removed_during_a_batch_fails_those_rows_and_a_rerun_finishes(softhsm, tmp_path, monkeypatch):
    """Token `ktpy-gone` is taken away after the first client is signed (one worker, so the order
    is fixed): the other rows fail with one sentence, nothing of theirs is written; with the
    token back, the same command (a new process) finishes the batch."""
    from keytool_py import batch

    ca = tmp_path / "ca"
    ktpy("create-ca", "--dir", ca, "--subject", "CN=HSM Gone CA", "--key-type", "ec-p256",
         "--pkcs11", softhsm.uri("ktpy-gone", object="ca"), "--pkcs11-module", softhsm.module, *PIN_ARGS)
    (tmp_path / "clients.csv").write_text("subject,name\n" + "".join(f"CN=c{i},c{i}\n" for i in range(4)))
    real = batch.issue_all
    away = tmp_path / "token-away"
    taken: list[Path] = []

    def issue_then_pull_the_token(*args, **kwargs):
        for done in real(*args, **kwargs):
            yield done
            if not taken:
                taken.append(remove_token(softhsm, "ktpy-gone", away))

    monkeypatch.setattr(batch, "issue_all", issue_then_pull_the_token)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    args = ["issue-client", "--ca", ca, *PIN_ARGS, "--batch", tmp_path / "clients.csv", "--key-type", "ec-p256",
            "--storepass", "env:KTPY_STORE_PW", "--out-dir", tmp_path / "out"]
    try:
        failed = ktpy(*args, code=1)
    finally:  # the token back, and this process listing it again (C_Initialize rescans), whatever happened
        if taken:
            put_back(taken[0], away)
        import pkcs11

        pkcs11.lib(softhsm.module).reinitialize()
    assert taken, "the batch never signed a first client"
    gone = ("token 'ktpy-gone' stopped answering while signing (removed, or its module failed); nothing signed "
            "was written: put it back and run the command again")
    assert [line for line in failed.stderr.splitlines() if "stopped answering" in line] == [
        f"Error: line {n} (c{n - 2}): {gone}" for n in (3, 4, 5)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith("c")) == [
        "c0-chain.pem", "c0.jks", "c0.key", "c0.pem"]
    rerun = subprocess.run([sys.executable, "-m", "keytool_py", *map(str, args)], capture_output=True, text=True,
                           timeout=120, env={**os.environ, **ENV})
    assert rerun.returncode == 0, rerun.stderr
    assert "Skipped 1 row(s) already done" in rerun.stderr
    verified = run_openssl("verify", "-CAfile", ca / "ca.pem", *(tmp_path / "out" / f"c{i}.pem" for i in range(4)))
    assert verified.returncode == 0, describe(verified)
