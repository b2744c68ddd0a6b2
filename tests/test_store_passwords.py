"""Opening stores made with the empty password (through pass:, env: and file:) and password-less
stores (--no-storepass), as keytool -storepass "" and Java's load(stream, null) do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from helpers import STOREPASS, ktpy, require_tool, urlsafe_b64decode
from interop import describe, run_keytool

from keytool_py import build_keystore

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EMPTY_PASS_STORE = FIXTURES / "openssl-emptypass.p12"  # openssl pkcs12 -export -passout pass:


def _aliases(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [e["alias"] for e in json.loads(result.stdout)["entries"]]


@pytest.mark.parametrize("source", ["pass:", "env:EMPTY", "file:{empty}", "file:{newline}"])
def test_empty_store_password_through_every_source(source, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "newline.txt").write_bytes(b"\n")
    spec = source.format(empty=tmp_path / "empty.txt", newline=tmp_path / "newline.txt")
    result = ktpy("inspect", str(EMPTY_PASS_STORE), "--storepass", spec,
                  "--json", env={"EMPTY": ""}, code=None)
    assert _aliases(result) == ["openssl-client"]


def test_a_wrong_password_is_still_wrong():
    result = ktpy("inspect", str(EMPTY_PASS_STORE), "--storepass",
                  "env:PW", env={"PW": "not-empty"}, code=None)
    assert result.exit_code == 1
    assert result.stderr == "Error: wrong store password for the PKCS12 keystore (its MAC does not verify)\n"


@pytest.mark.parametrize("name", ["keytool-nopass.p12", "pyca-truststore-nopass.p12"])
def test_password_less_truststores(name):
    result = ktpy("inspect", str(FIXTURES / name), "--no-storepass", "--json", code=None)
    assert _aliases(result) == ["fixture-root", "other-root"]
    assert result.stderr == "Notice: without a store password the store's integrity is not checked\n"


def test_no_storepass_on_a_jks_reads_it_unchecked_as_java_does():
    result = ktpy("inspect", str(FIXTURES / "keytool-rsa.jks"), "--no-storepass", "--json", code=None)
    assert sorted(_aliases(result)) == ["fixture-root", "rsa-client"]


def test_no_storepass_with_storepass_is_a_usage_error():
    result = ktpy("inspect", str(FIXTURES / "keytool-nopass.p12"), "--no-storepass",
                  "--storepass", "pass:x", code=None)
    assert result.exit_code == 2 and "give --storepass or --no-storepass, not both" in result.stderr


def test_convert_from_password_less_needs_a_new_password(tmp_path):
    out = tmp_path / "t.jks"
    result = ktpy("convert", str(FIXTURES / "keytool-nopass.p12"), "--no-storepass",
                  "--to", "jks", "-o", str(out), code=None)
    assert result.exit_code == 2
    assert "with --no-storepass, give the new store's password with --dest-storepass" in result.stderr
    assert not out.exists()
    result = ktpy("convert", str(FIXTURES / "keytool-nopass.p12"), "--no-storepass", "--to", "jks",
                  "--dest-storepass", "env:PW", "-o", str(out), env={"PW": "changeit"}, code=None)
    assert result.exit_code == 0, result.output
    assert out.is_file()


def test_writing_still_needs_six_characters(tmp_path):
    result = ktpy("convert", str(EMPTY_PASS_STORE), "--storepass", "env:EMPTY", "--to", "jks", "-o",
                  str(tmp_path / "o.jks"), env={"EMPTY": ""}, code=None)
    assert result.exit_code == 1
    assert result.stderr == "Error: the store password must be at least 6 characters (keytool refuses shorter ones)\n"


# --- --no-storepass on verify, sign-jwt and probe ---------------------------------------------

NOTICE = "Notice: without a store password the store's integrity is not checked\n"
JWT_ARGS = ["--iss", "3MVG9consumer.key", "--sub", "integration@acme.example", "--aud", "https://login.salesforce.com"]


def _run(args, **env):
    return ktpy(*args, env=env, code=None)


@pytest.mark.parametrize(("name", "alias", "subject"), [
    ("keytool-nopass.p12", "fixture-root", "CN=Fixture Root CA,O=Fixtures"),
    ("pyca-truststore-nopass.p12", "other-root", "CN=Other Root CA,O=Fixtures"),
])
def test_verify_a_password_less_truststore_entry(name, alias, subject):
    result = _run(["verify", FIXTURES / name, "--no-storepass", "--alias", alias])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Chain: {subject}\nOK: every check holds\n"
    assert result.stderr == NOTICE


def test_verify_with_no_storepass_leaves_a_key_unchecked_unless_keypass():
    store = FIXTURES / "keytool-rsa.jks"  # keytool -storepass changeit, key password the same
    result = _run(["verify", store, "--no-storepass", "--alias", "rsa-client"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Chain: CN=rsa-client,O=Fixtures\n"
                             "WARN key-not-checked: without a store password the key is not opened; "
                             "pass --keypass to check the key\nOK: every check holds\n")
    result = _run(["verify", store, "--no-storepass", "--keypass", "env:PW", "--alias", "rsa-client"],
                  PW="changeit")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Chain: CN=rsa-client,O=Fixtures\nOK: every check holds\n"
    result = _run(["verify", store, "--no-storepass", "--keypass", "env:PW", "--alias", "rsa-client"],
                  PW="wrong-pass")
    assert result.exit_code == 0, result.output
    assert "WARN key-not-checked: the key's password differs from the store password" in result.stdout


@pytest.mark.parametrize("command", [
    ["verify", FIXTURES / "keytool-nopass.p12"],
    ["sign-jwt", "--keystore", FIXTURES / "keytool-nopass.p12", "--alias", "fixture-root", *JWT_ARGS],
    ["probe", "127.0.0.1:1", "--keystore", FIXTURES / "keytool-nopass.p12"],
])
def test_no_storepass_with_storepass_is_a_usage_error_everywhere(command):
    result = _run([*command, "--no-storepass", "--storepass", "env:PW"], PW="changeit")
    assert result.exit_code == 2
    assert result.stderr.endswith("\nError: give --storepass or --no-storepass, not both\n")


@pytest.mark.parametrize("command", [
    ["sign-jwt", "--keystore", FIXTURES / "keytool-nopass.p12", "--alias", "fixture-root", *JWT_ARGS],
    ["probe", "127.0.0.1:1", "--keystore", FIXTURES / "keytool-nopass.p12", "--alias", "fixture-root"],
])
def test_sign_jwt_and_probe_on_a_password_less_truststore_name_the_entry(command):
    result = _run([*command, "--no-storepass"])
    assert result.exit_code == 1
    assert result.stderr == NOTICE + (f"Error: entry 'fixture-root' in {FIXTURES / 'keytool-nopass.p12'} "
                                      "is a trusted certificate, not a key entry\n")


def test_probe_on_a_password_less_truststore_without_alias():
    store = FIXTURES / "pyca-truststore-nopass.p12"
    result = _run(["probe", "127.0.0.1:1", "--keystore", store, "--no-storepass"])
    assert result.exit_code == 1
    assert result.stderr == NOTICE + (f"Error: {store} holds no key entry, only trusted certificates "
                                      "(fixture-root, other-root)\n")


@pytest.mark.parametrize("command", [
    ["sign-jwt", "--keystore", FIXTURES / "keytool-rsa.jks", "--alias", "rsa-client", *JWT_ARGS],
    ["probe", "127.0.0.1:1", "--keystore", FIXTURES / "keytool-rsa.jks"],
])
def test_sign_jwt_and_probe_with_no_storepass_need_the_key_password(command):
    result = _run([*command, "--no-storepass"])
    assert result.exit_code == 1
    assert result.stderr == NOTICE + (f"Error: the key of entry 'rsa-client' in {FIXTURES / 'keytool-rsa.jks'} "
                                      "is sealed with a password: with --no-storepass, give it with --keypass\n")


def test_sign_jwt_with_no_storepass_and_keypass_signs_with_the_key(tmp_path):
    """Java's load(stream, null) then getKey(alias, keypass): the token verifies with the
    certificate keytool exports from the store."""
    store = FIXTURES / "keytool-rsa.jks"
    result = _run(["sign-jwt", "--keystore", store, "--no-storepass", "--keypass", "env:PW", "--alias",
                   "rsa-client", *JWT_ARGS], PW="changeit")
    assert result.exit_code == 0, result.output
    assert result.stderr == NOTICE
    require_tool("keytool")
    exported = run_keytool("-exportcert", "-rfc", "-keystore", store, "-storepass", "changeit", "-alias", "rsa-client")
    assert exported.returncode == 0, describe(exported)
    pem = exported.stdout
    cert = x509.load_pem_x509_certificate(pem.encode())
    signing_input, _, signature = result.stdout.strip().rpartition(".")
    cert.public_key().verify(urlsafe_b64decode(signature), signing_input.encode("ascii"), padding.PKCS1v15(),
                             hashes.SHA256())


def test_probe_with_no_storepass_and_keypass_presents_the_key(client, mtls_server, server_root_pem, tmp_path):
    store = tmp_path / "keystore.jks"
    store.write_bytes(build_keystore("jks", client.key, client.chain, alias="mule-client", storepass=STOREPASS))
    mark = mtls_server.mark()
    result = _run(["probe", f"127.0.0.1:{mtls_server.port}", "--keystore", store, "--no-storepass",
                   "--keypass", "env:PW", "--ca", server_root_pem], PW=STOREPASS)
    assert result.exit_code == 3, result.output  # this server answers nothing: no verdict
    assert "  chain sent: 2 certificate(s)" in result.stdout
    assert result.stderr == NOTICE
    outcome = mtls_server.outcome_after(mark)
    assert outcome.accepted and outcome.subject == client.cert.subject.rfc4514_string()
