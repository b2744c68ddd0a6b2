"""Opening stores made with the empty password (through pass:, env: and file:) and password-less
stores (--no-storepass), as keytool -storepass "" and Java's load(stream, null) do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from keytool_py.cli import cli

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
    result = CliRunner(env={"EMPTY": ""}).invoke(cli, ["inspect", str(EMPTY_PASS_STORE), "--storepass", spec,
                                                       "--json"])
    assert _aliases(result) == ["openssl-client"]


def test_a_wrong_password_is_still_wrong():
    result = CliRunner(env={"PW": "not-empty"}).invoke(cli, ["inspect", str(EMPTY_PASS_STORE), "--storepass",
                                                             "env:PW"])
    assert result.exit_code == 1
    assert result.stderr == "Error: wrong store password for the PKCS12 keystore (its MAC does not verify)\n"


@pytest.mark.parametrize("name", ["keytool-nopass.p12", "pyca-truststore-nopass.p12"])
def test_password_less_truststores(name):
    result = CliRunner().invoke(cli, ["inspect", str(FIXTURES / name), "--no-storepass", "--json"])
    assert _aliases(result) == ["fixture-root", "other-root"]
    assert result.stderr == "Notice: without a store password the store's integrity is not checked\n"


def test_no_storepass_on_a_jks_reads_it_unchecked_as_java_does():
    result = CliRunner().invoke(cli, ["inspect", str(FIXTURES / "keytool-rsa.jks"), "--no-storepass", "--json"])
    assert sorted(_aliases(result)) == ["fixture-root", "rsa-client"]


def test_no_storepass_with_storepass_is_a_usage_error():
    result = CliRunner().invoke(cli, ["inspect", str(FIXTURES / "keytool-nopass.p12"), "--no-storepass",
                                      "--storepass", "pass:x"])
    assert result.exit_code == 2 and "give --storepass or --no-storepass, not both" in result.stderr


def test_convert_from_password_less_needs_a_new_password(tmp_path):
    out = tmp_path / "t.jks"
    result = CliRunner().invoke(cli, ["convert", str(FIXTURES / "keytool-nopass.p12"), "--no-storepass",
                                      "--to", "jks", "-o", str(out)])
    assert result.exit_code == 2
    assert "with --no-storepass, give the new store's password with --dest-storepass" in result.stderr
    assert not out.exists()
    result = CliRunner(env={"PW": "changeit"}).invoke(cli, [
        "convert", str(FIXTURES / "keytool-nopass.p12"), "--no-storepass", "--to", "jks",
        "--dest-storepass", "env:PW", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()


def test_writing_still_needs_six_characters(tmp_path):
    result = CliRunner(env={"EMPTY": ""}).invoke(cli, [
        "convert", str(EMPTY_PASS_STORE), "--storepass", "env:EMPTY", "--to", "jks", "-o", str(tmp_path / "o.jks")])
    assert result.exit_code == 1
    assert result.stderr == "Error: the store password must be at least 6 characters (keytool refuses shorter ones)\n"
