"""The empty PKCS12 password both ways, and a PKCS12 key without a certificate. Java's view of the
corpus stores that hold them (capi-nullpass.p12, api-emptypass.p12, openssl-emptypass-legacy.p12,
openssl-keyonly.p12) is compared in test_java_view.py; here, the behaviour around it: which
convention each writer used, and the per-entry refusals where a chain is needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ktpy
from pyasn1.codec.ber import decoder
from pyasn1.type import univ
from pyasn1_modules import rfc7292

from keytool_py import keystore, pbe

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ENV = {"PW": "changeit", "EMPTY": ""}


def _mac_password(name: str) -> str:
    """Which spelling of the empty password the file's MAC was made with: "" (the two-byte BMP
    terminator) or "\\0" (no bytes at all, in pbe.pkcs12_kdf as in Java's derive)."""
    pfx, _ = decoder.decode((FIXTURES / name).read_bytes(), asn1Spec=rfc7292.PFX())
    content = bytes(decoder.decode(pfx["authSafe"]["content"], asn1Spec=univ.OctetString())[0])
    mac = pfx["macData"]
    hash_new = pbe.HASHES[mac["mac"]["digestAlgorithm"]["algorithm"]]
    for spelling in ("", "\0"):
        if pbe.mac(hash_new, content, spelling, bytes(mac["macSalt"]), int(mac["iterations"])) == \
                bytes(mac["mac"]["digest"]):
            return spelling
    raise AssertionError(name)


@pytest.mark.parametrize(("name", "spelling"), [
    ("api-emptypass.p12", ""),  # Java's writer
    ("openssl-emptypass.p12", ""), ("openssl-emptypass-legacy.p12", ""),  # OpenSSL's CLI
    ("capi-nullpass.p12", "\0"),  # OpenSSL's C API with a NULL password
])
def test_the_corpus_holds_both_conventions_and_ktpy_reads_each(name, spelling):
    assert _mac_password(name) == spelling
    store = keystore.load((FIXTURES / name).read_bytes(), "")
    (entry,) = store.entries
    assert entry.key is not None and len(entry.chain) == 2


def test_the_empty_password_opens_the_zero_byte_store_from_the_cli():
    result = ktpy("inspect", FIXTURES / "capi-nullpass.p12", "--storepass", "env:EMPTY", env=ENV)
    assert "Alias: capi-client  (PrivateKeyEntry, chain of 2)" in result.stdout


def test_a_wrong_password_is_still_wrong_for_the_zero_byte_store():
    result = ktpy("inspect", FIXTURES / "capi-nullpass.p12", "--storepass", "env:BAD", env={"BAD": "not-empty"},
                  code=1)
    assert result.stderr == "Error: wrong store password for the PKCS12 keystore (its MAC does not verify)\n"


KEY_ONLY = str(FIXTURES / "openssl-keyonly.p12")
WITHOUT = "Error: the entry 'key-only' holds a key without a certificate, "


@pytest.mark.parametrize(("args", "message"), [
    (["export-pem", KEY_ONLY, "--storepass", "env:PW"], WITHOUT + "so there is no certificate to export\n"),
    (["verify", KEY_ONLY, "--storepass", "env:PW"], WITHOUT + "so there is no certificate to check\n"),
    (["sign-jwt", "--keystore", KEY_ONLY, "--storepass", "env:PW", "--alias", "key-only", "--iss", "k",
      "--sub", "u@x", "--aud", "https://login.salesforce.com"],
     WITHOUT + "which Salesforce needs beside the key (for the JWT bearer flow and for mutual TLS)\n"),
    (["probe", "127.0.0.1:9", "--keystore", KEY_ONLY, "--storepass", "env:PW"],
     WITHOUT + "which Salesforce needs beside the key (for the JWT bearer flow and for mutual TLS)\n"),
    (["convert", KEY_ONLY, "--storepass", "env:PW", "--to", "jks", "-o", "{tmp}/out.jks"],
     "Error: the key entry 'key-only' has no certificate, and a JKS keystore needs one with every key (Java "
     "refuses it); keep it in PKCS12, or add its certificate\n"),
])
def test_a_key_without_a_certificate_is_refused_by_name_where_a_chain_is_needed(args, message, tmp_path):
    result = ktpy(*[a.format(tmp=tmp_path) for a in args], env=ENV, code=1)
    assert result.stderr == message
    assert list(tmp_path.iterdir()) == []


def test_a_key_without_a_certificate_is_listed_and_kept():
    listed = ktpy("inspect", KEY_ONLY, "--storepass", "env:PW", env=ENV)
    assert "Alias: key-only  (PrivateKeyEntry, chain of 0)" in listed.stdout
    store = keystore.load((FIXTURES / "openssl-keyonly.p12").read_bytes(), "changeit")
    again = keystore.load(keystore.build_store("pkcs12", store.entries, storepass="changeit"), "changeit")
    assert [(e.alias, e.chain, e.key is not None) for e in again.entries] == [("key-only", (), True)]
