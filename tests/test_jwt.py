"""The Salesforce JWT bearer assertion: library (fixed clock) and `ktpy sign-jwt`."""

from __future__ import annotations

import datetime as dt
import functools
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from helpers import STOREPASS, ktpy, urlsafe_b64decode

from keytool_py import BadInputError, KeyType, UnsupportedError, build_keystore
from keytool_py.jwt_assertion import sign_assertion

ISS = "3MVG9consumer.key"
SUB = "integration@acme.example"
AUD = "https://login.salesforce.com"
FIXED = dt.datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=dt.timezone.utc)
ENV = {"KTPY_STORE_PW": STOREPASS}


def b64decode(part: str) -> bytes:
    return urlsafe_b64decode(part)


def split(token: str):
    header, claims, signature = token.split(".")
    return json.loads(b64decode(header)), json.loads(b64decode(claims)), signature


def assert_signed_by(token: str, cert) -> None:
    """RS256: RSASSA-PKCS1-v1_5 with SHA-256 over 'header.claims', checked with the certificate."""
    signing_input, _, signature = token.rpartition(".")
    cert.public_key().verify(b64decode(signature), signing_input.encode("ascii"),
                             padding.PKCS1v15(), hashes.SHA256())


run = functools.partial(ktpy, env=ENV, code=None)


@pytest.fixture(scope="module")
def stores(clients, tmp_path_factory):
    """A JKS with the RSA client and one with the EC client, alias mule-client."""
    folder = tmp_path_factory.mktemp("jwt")
    out = {}
    for key_type, name in ((KeyType.RSA2048, "rsa.jks"), (KeyType.EC_P256, "ec.jks")):
        leaf = clients[key_type]
        path = folder / name
        path.write_bytes(build_keystore("jks", leaf.key, leaf.chain, alias="mule-client", storepass=STOREPASS))
        out[key_type] = path
    return out


def test_assertion_verifies_with_the_certificate_and_carries_the_claims(client):
    token = sign_assertion(client.key, issuer=ISS, subject=SUB, audience=AUD, exp_seconds=120, now=FIXED)
    header, claims, _ = split(token)
    assert header == {"alg": "RS256"}
    assert claims == {"iss": ISS, "sub": SUB, "aud": AUD, "exp": int(FIXED.timestamp()) + 120}
    assert claims["exp"] == 1893553445 + 120  # 2030-01-02T03:04:05Z, fraction dropped
    assert "=" not in token  # base64url without padding
    assert_signed_by(token, client.cert)
    tampered = token.replace(token.split(".")[1], token.split(".")[1][:-2] + "AA")
    with pytest.raises(InvalidSignature):
        assert_signed_by(tampered, client.cert)


def test_assertion_default_exp_is_180_seconds(client):
    token = sign_assertion(client.key, issuer=ISS, subject=SUB, audience=AUD, now=FIXED)
    assert split(token)[1]["exp"] == int(FIXED.timestamp()) + 180


def test_pyjwt_accepts_the_assertion(client, now):
    import jwt  # PyJWT, in the test and dev extras: an independent implementation

    # the wall clock, not the session's: PyJWT checks exp (180 s ahead) against the real time
    token = sign_assertion(client.key, issuer=ISS, subject=SUB, audience=AUD, now=dt.datetime.now(dt.timezone.utc))
    decoded = jwt.decode(token, client.cert.public_key(), algorithms=["RS256"], audience=AUD, issuer=ISS)
    assert decoded["sub"] == SUB
    assert jwt.get_unverified_header(token) == {"alg": "RS256"}


def test_assertion_refuses_ec_keys_and_far_exp(clients, client):
    with pytest.raises(UnsupportedError) as info:
        sign_assertion(clients[KeyType.EC_P256].key, issuer=ISS, subject=SUB, audience=AUD, now=FIXED)
    assert str(info.value) == ("the key is EC P-256; the Salesforce JWT bearer flow signs with RS256, "
                               "which needs an RSA key")
    for seconds in (181, 0, -5):
        with pytest.raises(BadInputError) as info:
            sign_assertion(client.key, issuer=ISS, subject=SUB, audience=AUD, exp_seconds=seconds, now=FIXED)
        assert str(info.value) == (f"the assertion's exp must be 1 to 180 seconds ahead, not {seconds} "
                                   "(Salesforce rejects an exp more than 3 minutes away)")
    with pytest.raises(BadInputError, match="the subject"):
        sign_assertion(client.key, issuer=ISS, subject=" ", audience=AUD, now=FIXED)
    with pytest.raises(TypeError):
        sign_assertion(client.key, issuer=ISS, subject=SUB, audience=AUD, now=dt.datetime(2030, 1, 1))


def test_sign_jwt_prints_only_the_token(stores, client):
    before = int(dt.datetime.now(dt.timezone.utc).timestamp())
    result = run("sign-jwt", "--keystore", str(stores[KeyType.RSA2048]), "--storepass", "env:KTPY_STORE_PW",
                 "--alias", "Mule-Client", "--iss", ISS, "--sub", SUB, "--aud", AUD, "--exp-seconds", "60")
    after = int(dt.datetime.now(dt.timezone.utc).timestamp())
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.count(".") == 2
    header, claims, _ = split(token)
    assert header == {"alg": "RS256"}
    assert (claims["iss"], claims["sub"], claims["aud"]) == (ISS, SUB, AUD)
    assert before + 60 <= claims["exp"] <= after + 60
    assert_signed_by(token, client.cert)


def test_sign_jwt_refuses_an_ec_store(stores):
    result = run("sign-jwt", "--keystore", str(stores[KeyType.EC_P256]), "--storepass", "env:KTPY_STORE_PW",
                 "--alias", "mule-client", "--iss", ISS, "--sub", SUB, "--aud", AUD)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("Error: the key of entry 'mule-client' is EC P-256; the Salesforce JWT bearer "
                             "flow signs with RS256, which needs an RSA key\n")


@pytest.mark.parametrize("seconds", ["181", "0"])
def test_sign_jwt_refuses_exp_out_of_range(stores, seconds):
    result = run("sign-jwt", "--keystore", str(stores[KeyType.RSA2048]), "--storepass", "env:KTPY_STORE_PW",
                 "--alias", "mule-client", "--iss", ISS, "--sub", SUB, "--aud", AUD, "--exp-seconds", seconds)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith(
        f"Error: Invalid value for '--exp-seconds': the assertion's exp must be 1 to 180 seconds ahead, "
        f"not {seconds} (Salesforce rejects an exp more than 3 minutes away)\n")


def test_sign_jwt_unknown_alias(stores):
    result = run("sign-jwt", "--keystore", str(stores[KeyType.RSA2048]), "--storepass", "env:KTPY_STORE_PW",
                 "--alias", "other", "--iss", ISS, "--sub", SUB, "--aud", AUD)
    assert result.exit_code == 1
    assert result.stderr == "Error: no entry with alias 'other' in the keystore (aliases: mule-client)\n"


def test_sign_jwt_picks_its_key_in_a_store_whose_keys_have_different_passwords(clients, tmp_path, now):
    from keytool_py.keys import private_key_to_der
    from keytool_py.keystore import Entry, java_container, jks

    passwords = iter(["ec-key-pass", "rsa-key-pass"])
    entries = [Entry(alias="ec", chain=clients[KeyType.EC_P256].chain, key=clients[KeyType.EC_P256].key,
                     timestamp=now),
               Entry(alias="rsa", chain=clients[KeyType.RSA2048].chain, key=clients[KeyType.RSA2048].key,
                     timestamp=now)]
    path = tmp_path / "two-keys.jks"
    data = java_container.encode(jks.MAGIC, entries, STOREPASS,
                         lambda entry: jks.protect_key(private_key_to_der(entry.key), next(passwords)))
    path.write_bytes(data)
    result = ktpy("sign-jwt", "--keystore", str(path), "--storepass", "env:KTPY_STORE_PW", "--keypass",
                  "env:KTPY_KEY_PW", "--alias", "rsa", "--iss", ISS, "--sub", SUB, "--aud", AUD,
                  env={**ENV, "KTPY_KEY_PW": "rsa-key-pass"}, code=None)
    assert result.exit_code == 0, result.output
    assert_signed_by(result.stdout.strip(), clients[KeyType.RSA2048].cert)
