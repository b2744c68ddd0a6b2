"""The ktpy commands through click's CliRunner: exit codes, exact messages, files written."""

from __future__ import annotations

import functools
import os
import stat

import pytest
from cryptography import x509
from helpers import assert_is_ca, assert_is_client, ktpy

from keytool_py import load_keystore
from keytool_py.certs import load_certificates
from keytool_py.cli import cli

CA_PW = "ca-password-1"
STORE_PW = "store-password-1"
ENV = {"KTPY_CA_PW": CA_PW, "KTPY_STORE_PW": STORE_PW, "KTPY_KEY_PW": "key-password-1"}


run = functools.partial(ktpy, env=ENV)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A CA (EC, to keep the suite fast) and a client issued by the CLI."""
    root = tmp_path_factory.mktemp("kit")
    run("create-ca", "--dir", str(root / "ca"), "--subject", "CN=CLI Root CA,O=Acme",
        "--key-type", "ec-p256", "--password", "env:KTPY_CA_PW")
    run("issue-client", "--ca", str(root / "ca"), "--ca-password", "env:KTPY_CA_PW",
        "--subject", "CN=Mule Client,O=Acme", "--out-dir", str(root / "client"),
        "--san", "email:ops@example.com")
    return root


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_every_command_has_help_with_examples_and_exit_codes():
    import click

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    # the first 14, secure-props, the lifecycle (expiry, renew, revoke, crl),
    # the edits (delete, rename, passwd, import, merge, export-key), salesforce-app,
    # the server side (fetch-chain, verify-trust)
    assert len(names) == 14 + 1 + 4 + 6 + 1 + 2
    for name in names:
        result = run(name, "--help")
        assert "EXAMPLES" in result.output, name
        assert "EXIT CODES" in result.output, name
        assert cli.get_command(ctx, name).help, name
    assert sorted(cli.commands) == names  # every module registers exactly the commands mapped to it


def test_version_and_usage():
    from keytool_py import __version__

    assert run("--version").output.strip() == f"ktpy, version {__version__}"
    assert "EXAMPLES" in run("--help").output


def test_create_ca_default_profile(tmp_path):
    result = run("create-ca", "--dir", str(tmp_path / "ca"), "--subject", "CN=Default Root,O=Acme",
                 "--password", "env:KTPY_CA_PW")
    assert "Created root CA CN=Default Root,O=Acme, valid until" in result.stderr
    cert = load_certificates((tmp_path / "ca" / "ca.pem").read_bytes())[0]
    assert_is_ca(cert)
    assert cert.public_key().key_size == 3072
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 3650
    key_pem = (tmp_path / "ca" / "ca.key").read_bytes()
    assert key_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert mode(tmp_path / "ca" / "ca.key") == 0o600
    assert mode(tmp_path / "ca") == 0o700
    assert CA_PW not in result.output


def test_create_ca_no_password(tmp_path):
    run("create-ca", "--dir", str(tmp_path / "ca"), "--subject", "CN=Open", "--key-type", "ec-p256",
        "--no-password")
    assert (tmp_path / "ca" / "ca.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_issue_client_files_and_profile(kit):
    client = kit / "client"
    leaf = load_certificates((client / "mule-client.pem").read_bytes())
    chain = load_certificates((client / "mule-client-chain.pem").read_bytes())
    ca_cert = load_certificates((kit / "ca" / "ca.pem").read_bytes())[0]
    assert len(leaf) == 1 and chain == [leaf[0], ca_cert]
    assert_is_client(leaf[0], ca_cert)
    assert leaf[0].issuer != leaf[0].subject  # not self-signed
    assert mode(client / "mule-client.key") == 0o600
    assert mode(client / "mule-client.pem") == 0o644
    assert (leaf[0].not_valid_after_utc - leaf[0].not_valid_before_utc).days == 365


def test_export_pem_is_one_certificate_without_key(kit, tmp_path):
    out = tmp_path / "upload.pem"
    result = run("export-pem", str(kit / "client" / "mule-client-chain.pem"), "-o", str(out))
    data = out.read_bytes()
    assert data.count(b"-----BEGIN CERTIFICATE-----") == 1
    assert b"PRIVATE KEY" not in data
    assert "Warning" not in result.stderr
    cert = load_certificates(data)[0]
    cert.verify_directly_issued_by(load_certificates((kit / "ca" / "ca.pem").read_bytes())[0])


def test_export_pem_with_chain_to_stdout(kit):
    # --with-chain leaves the root out (the leaf here is signed by the root itself);
    # --with-root adds it
    chain = load_certificates((kit / "client" / "mule-client-chain.pem").read_bytes())
    result = run("export-pem", str(kit / "client" / "mule-client-chain.pem"), "--with-chain")
    assert load_certificates(result.stdout.encode()) == chain[:1]
    result = run("export-pem", str(kit / "client" / "mule-client-chain.pem"), "--with-chain", "--with-root")
    assert load_certificates(result.stdout.encode()) == chain and len(chain) == 2


@pytest.mark.parametrize("store_type", ["jks", "pkcs12", "jceks"])
def test_build_keystore_and_export_from_it(kit, tmp_path, store_type):
    out = tmp_path / f"ks.{store_type}"
    result = run("build-keystore", "--type", store_type, "--key", str(kit / "client" / "mule-client.key"),
                 "--cert", str(kit / "client" / "mule-client.pem"), "--chain", str(kit / "ca" / "ca.pem"),
                 "--alias", "Mule-Client", "--storepass", "env:KTPY_STORE_PW", "-o", str(out))
    assert ("Notice: alias 'Mule-Client' is stored as 'mule-client' (Java lowercases aliases and "
            "Mule matches them exactly; use the lowercase form in Mule)") in result.stderr
    assert mode(out) == 0o600
    store = load_keystore(out.read_bytes(), STORE_PW)
    assert [e.alias for e in store.entries] == ["mule-client"]
    assert len(store.entries[0].chain) == 2
    assert STORE_PW not in result.output
    exported = run("export-pem", str(out), "--storepass", "env:KTPY_STORE_PW")
    assert exported.stdout.encode() == (kit / "client" / "mule-client.pem").read_bytes()


def test_build_keystore_distinct_keypass_jks(kit, tmp_path):
    out = tmp_path / "ks.jks"
    result = run("build-keystore", "--type", "jks", "--key", str(kit / "client" / "mule-client.key"),
                 "--cert", str(kit / "client" / "mule-client-chain.pem"), "--alias", "m",
                 "--storepass", "env:KTPY_STORE_PW", "--keypass", "env:KTPY_KEY_PW", "-o", str(out))
    assert "key password: its own (given by --keypass)" in result.stderr
    assert load_keystore(out.read_bytes(), STORE_PW, keypass="key-password-1").entries[0].key is not None


def test_generated_store_password(kit, tmp_path):
    out, pw_file = tmp_path / "ks.p12", tmp_path / "storepass.txt"
    result = run("build-keystore", "--type", "pkcs12", "--key", str(kit / "client" / "mule-client.key"),
                 "--cert", str(kit / "client" / "mule-client-chain.pem"), "--alias", "m",
                 "--storepass", f"generate:{pw_file}", "-o", str(out))
    password = pw_file.read_text().strip()
    assert mode(pw_file) == 0o600 and len(password) == 24
    assert password not in result.output
    assert load_keystore(out.read_bytes(), password).entries[0].alias == "m"


# --- errors: exit code, exact message, no traceback, nothing written -------------------------

def _error(result, code, message):
    assert result.exit_code == code, result.output
    assert result.stderr.strip().splitlines()[-1] == f"Error: {message}"


def test_existing_output_is_not_replaced(kit, tmp_path):
    out = tmp_path / "ks.jks"
    out.write_bytes(b"precious")
    args = ["build-keystore", "--type", "jks", "--key", str(kit / "client" / "mule-client.key"),
            "--cert", str(kit / "client" / "mule-client-chain.pem"), "--alias", "m",
            "--storepass", "env:KTPY_STORE_PW", "-o", str(out)]
    _error(run(*args, code=None), 1, f"{out} already exists; pass --force to replace it")
    assert out.read_bytes() == b"precious"
    run(*args, "--force")
    assert out.read_bytes()[:4] == b"\xfe\xed\xfe\xed"


def test_create_ca_refuses_existing_folder_contents(kit):
    result = run("create-ca", "--dir", str(kit / "ca"), "--subject", "CN=x", "--no-password", code=None)
    _error(result, 1, f"{kit / 'ca' / 'ca.pem'} already exists; pass --force to replace it")


def test_wrong_ca_password(kit, tmp_path):
    result = run("issue-client", "--ca", str(kit / "ca"), "--ca-password", "pass:wrong-password",
                 "--subject", "CN=x", "--out-dir", str(tmp_path / "out"), code=None)
    _error(result, 1, f"wrong password for the CA key {kit / 'ca' / 'ca.key'}")
    assert not (tmp_path / "out").exists()


def test_missing_ca_folder(tmp_path):
    result = run("issue-client", "--ca", str(tmp_path / "nope"), "--subject", "CN=x",
                 "--out-dir", str(tmp_path / "out"), code=None)
    _error(result, 1, f"CA folder {tmp_path / 'nope'} does not exist")


def test_no_password_source_and_no_terminal(kit, tmp_path):
    result = run("build-keystore", "--type", "jks", "--key", str(kit / "client" / "mule-client.key"),
                 "--cert", str(kit / "client" / "mule-client.pem"), "--alias", "m",
                 "-o", str(tmp_path / "ks.jks"), code=None)
    _error(result, 2, "no password given and stdin is not a terminal; "
                      "pass --storepass env:VAR, file:PATH or pass:TEXT")
    assert not (tmp_path / "ks.jks").exists()


def test_mismatched_key_and_cert(kit, tmp_path):
    run("issue-client", "--ca", str(kit / "ca"), "--ca-password", "env:KTPY_CA_PW", "--subject", "CN=other",
        "--out-dir", str(tmp_path), "--key-type", "ec-p256")
    result = run("build-keystore", "--type", "jks", "--key", str(tmp_path / "other.key"),
                 "--cert", str(kit / "client" / "mule-client.pem"), "--alias", "m",
                 "--storepass", "env:KTPY_STORE_PW", "-o", str(tmp_path / "ks.jks"), code=None)
    _error(result, 1, f"the private key {tmp_path / 'other.key'} does not match the certificate in "
                      f"{kit / 'client' / 'mule-client.pem'}")
    assert not (tmp_path / "ks.jks").exists()


def test_pkcs12_distinct_keypass_refused(kit, tmp_path):
    result = run("build-keystore", "--type", "pkcs12", "--key", str(kit / "client" / "mule-client.key"),
                 "--cert", str(kit / "client" / "mule-client-chain.pem"), "--alias", "m",
                 "--storepass", "env:KTPY_STORE_PW", "--keypass", "env:KTPY_KEY_PW",
                 "-o", str(tmp_path / "ks.p12"), code=None)
    _error(result, 1, "a PKCS12 keystore cannot have a key password different from its store password "
                      "(Java cannot read it); use the same password, or a JKS or JCEKS keystore")
    assert not (tmp_path / "ks.p12").exists()


def test_garbage_certificate(kit, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("hello\n")
    result = run("export-pem", str(bad), code=None)
    _error(result, 1, f"{bad} is neither a PEM nor a DER certificate")


def test_wrong_store_password_on_export(kit, tmp_path):
    out = tmp_path / "ks.jks"
    run("build-keystore", "--type", "jks", "--key", str(kit / "client" / "mule-client.key"),
        "--cert", str(kit / "client" / "mule-client-chain.pem"), "--alias", "m",
        "--storepass", "env:KTPY_STORE_PW", "-o", str(out))
    result = run("export-pem", str(out), "--storepass", "pass:not-the-password", code=None)
    _error(result, 1, "wrong store password for the JKS keystore (or the file was altered: "
                      "its integrity hash does not match)")
    assert "not-the-password" not in result.output


def test_self_signed_export_warns(tmp_path):
    run("create-ca", "--dir", str(tmp_path / "ca"), "--subject", "CN=Self", "--key-type", "ec-p256",
        "--no-password")
    result = run("export-pem", str(tmp_path / "ca" / "ca.pem"))
    assert "Warning: the certificate is self-signed: Salesforce refuses it" in result.stderr


def test_unexpected_errors_show_no_traceback(monkeypatch, tmp_path):
    import keytool_py.ca as ca_mod

    def boom(*a, **k):
        raise RuntimeError("internal")

    monkeypatch.setattr(ca_mod, "create_ca", boom)
    result = run("create-ca", "--dir", str(tmp_path / "ca"), "--subject", "CN=x", "--no-password", code=None)
    _error(result, 1, "unexpected failure (RuntimeError); rerun with --debug to see where")
    debug = ktpy("--debug", "create-ca", "--dir", str(tmp_path / "ca2"),
                 "--subject", "CN=x", "--no-password", code=None)
    assert isinstance(debug.exception, RuntimeError)


def test_subject_parsed_before_any_work(tmp_path):
    result = run("create-ca", "--dir", str(tmp_path / "ca"), "--subject", "O=NoCN", "--no-password", code=None)
    _error(result, 1, "subject 'O=NoCN' has no CN; add one, for example CN=mule-client")
    assert not (tmp_path / "ca").exists()


def test_client_cert_extension_is_client_auth_only(kit):
    from cryptography.x509.oid import ExtendedKeyUsageOID

    cert = load_certificates((kit / "client" / "mule-client.pem").read_bytes())[0]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]


# --- chains, CSRs, inspect, verify, convert, truststores ------------------------------------

def test_intermediate_ca_and_client_chain(kit, tmp_path):
    inter = tmp_path / "inter"
    result = run("create-ca", "--dir", str(inter), "--subject", "CN=CLI Issuing CA,O=Acme", "--key-type", "ec-p256",
                 "--parent", str(kit / "ca"), "--parent-password", "env:KTPY_CA_PW", "--no-password")
    assert "Created intermediate CA CN=CLI Issuing CA,O=Acme" in result.stderr
    root = load_certificates((kit / "ca" / "ca.pem").read_bytes())[0]
    chain = load_certificates((inter / "ca-chain.pem").read_bytes())
    assert_is_ca(chain[0], path_length=0)
    assert chain[1] == root
    run("issue-client", "--ca", str(inter), "--subject", "CN=deep", "--out-dir", str(tmp_path / "c"),
        "--key-type", "ec-p256")
    leaf_chain = load_certificates((tmp_path / "c" / "deep-chain.pem").read_bytes())
    assert leaf_chain[1:] == chain and len(leaf_chain) == 3
    ok = run("verify", str(tmp_path / "c" / "deep-chain.pem"), "--ca", str(kit / "ca" / "ca.pem"),
             "--key", str(tmp_path / "c" / "deep.key"), "--profile", "client")
    assert ok.stdout.splitlines()[-1] == "OK: every check holds"
    missing = run("verify", str(tmp_path / "c" / "deep.pem"), "--ca", str(kit / "ca" / "ca.pem"), code=None)
    assert missing.exit_code == 3
    assert ("FAIL missing-intermediate: no certificate for CN=CLI Issuing CA,O=Acme, the issuer of CN=deep; "
            "add it with --chain") in missing.stdout


def test_csr_and_sign_csr(kit, tmp_path):
    run("create-csr", "--subject", "CN=csr-user,O=Acme", "--key-type", "ec-p256", "--san", "email:u@example.com",
        "--key-out", str(tmp_path / "u.key"), "--out", str(tmp_path / "u.csr"))
    assert mode(tmp_path / "u.key") == 0o600
    run("sign-csr", str(tmp_path / "u.csr"), "--ca", str(kit / "ca"), "--ca-password", "env:KTPY_CA_PW",
        "--out", str(tmp_path / "u.pem"), "--with-chain")
    chain = load_certificates((tmp_path / "u.pem").read_bytes())
    assert_is_client(chain[0], chain[1])
    info = run("inspect", str(tmp_path / "u.csr"), "--json")
    assert '"kind": "csr"' in info.stdout and "email:u@example.com" in info.stdout


def test_verify_json_and_self_signed(kit):
    import json

    result = run("verify", str(kit / "ca" / "ca.pem"), "--profile", "salesforce-mtls", "--json", code=None)
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert [p["check"] for p in report["problems"]] == ["no-client-auth", "leaf-is-ca", "self-signed"]
    assert report["ok"] is False


def test_inspect_store_json_never_shows_secrets(kit, tmp_path):
    import json

    out = tmp_path / "ks.jks"
    run("build-keystore", "--type", "jks", "--key", str(kit / "client" / "mule-client.key"),
        "--cert", str(kit / "client" / "mule-client-chain.pem"), "--alias", "m",
        "--storepass", "env:KTPY_STORE_PW", "-o", str(out))
    result = run("inspect", str(out), "--storepass", "env:KTPY_STORE_PW", "--json")
    info = json.loads(result.stdout)
    assert info["type"] == "jks" and info["entries"][0]["alias"] == "m"
    assert info["entries"][0]["chain"][0]["extended_key_usage"] == ["clientAuth"]
    assert STORE_PW not in result.output and "PRIVATE" not in result.output


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "keytool_py", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("ktpy, version ")


def test_ktpy_debug_env_shows_the_traceback(monkeypatch, tmp_path):
    import keytool_py.ca as ca_mod

    def boom(*a, **k):
        raise RuntimeError("internal")

    monkeypatch.setattr(ca_mod, "create_ca", boom)
    result = ktpy("create-ca", "--dir", str(tmp_path / "ca"), "--subject", "CN=x", "--no-password",
                  env={"KTPY_DEBUG": "1"}, code=None)
    assert isinstance(result.exception, RuntimeError)


def test_cli_choice_lists_match_the_library():
    """The CLI spells the choices out (importing the enums would load cryptography for --help)."""
    from keytool_py import KeyType, StoreType
    from keytool_py.cli.options import KEY_TYPES, READ_STORE_TYPES, STORE_TYPES

    assert KEY_TYPES == [k.value for k in KeyType]
    assert STORE_TYPES == [s.value for s in StoreType if s.writable]
    assert READ_STORE_TYPES == [s.value for s in StoreType]
