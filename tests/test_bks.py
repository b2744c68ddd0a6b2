"""Bouncy Castle's BKS and UBER, read through pyjks inside ktpy's bounds. What ktpy sees in them is
judged by Java with the Bouncy Castle provider in test_java_view.py (the corpus holds BKS v1, v2
and UBER stores written by Bouncy Castle's KeyStore); here: damage and hostile counts give one
sentence, fast, whatever pyjks would have done; and keytool with the Bouncy Castle provider lists
what ktpy lists."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest
from helpers import ktpy, require_tool
from hostile import bks_with_rounds
from interop import parse_keytool_list, run_keytool

from keytool_py import keystore
from keytool_py.certs import fingerprint
from keytool_py.errors import BadInputError, KtpyError, UnsupportedError, WrongPasswordError
from keytool_py.keystore import StoreType

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STORES = {"bc-v2.bks": StoreType.BKS, "bc-v1.bks": StoreType.BKS, "bc.uber": StoreType.UBER}
PASSWORD = "changeit"
# Bouncy Castle writes aliases with writeUTF, as given: this one in modified UTF-8 (pyjks alone refuses it)
MIXED = "Client-\U0001F600-Trusted"


def _data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_corpus_holds_every_bouncy_castle_format():
    corpus = json.loads((FIXTURES / "corpus.json").read_text(encoding="utf-8"))
    made = {name: info["made_by"] for name, info in corpus.items() if info["type"] in ("bks", "uber")}
    assert set(made) == set(STORES)
    assert all(how.startswith("Bouncy Castle") for how in made.values())


@pytest.mark.parametrize("name", sorted(STORES))
def test_type_from_content(name):
    data = _data(name)
    assert keystore.detect_type(data) is STORES[name]
    assert data[:4] == (b"\x00\x00\x00\x02" if name == "bc-v2.bks" else b"\x00\x00\x00\x01")


@pytest.mark.parametrize("name", sorted(STORES))
def test_keys_and_secrets_open_with_the_store_password(name):
    store = keystore.load(_data(name), PASSWORD, decrypt_secrets=True)
    kinds = {e.alias: e.kind for e in store.entries}
    assert kinds == {"bc-client": keystore.EntryKind.PRIVATE_KEY, "bc-root": keystore.EntryKind.TRUSTED_CERT,
                     "bc-aes": keystore.EntryKind.SECRET_KEY, MIXED: keystore.EntryKind.TRUSTED_CERT}
    client, aes = store.entry("bc-client"), store.entry("bc-aes")
    assert client.key is not None and len(client.chain) == 2
    assert aes.secret is not None and aes.secret.algorithm == "AES" and len(aes.secret.value) == 32


def test_bks_without_a_password_lists_as_bouncy_castle_does():
    """BcKeyStoreSpi.engineLoad checks the HMAC only with a password; UBER cannot be read without one."""
    store = keystore.load(_data("bc-v2.bks"), None, decrypt_keys=False)
    assert sorted(e.alias for e in store.entries) == sorted(["bc-aes", "bc-client", "bc-root", MIXED])
    with pytest.raises(BadInputError, match="^a UBER keystore is encrypted as a whole: give its store password$"):
        keystore.load(_data("bc.uber"), None, decrypt_keys=False)


def test_aliases_are_looked_up_as_given():
    """Bouncy Castle keys its table by the exact alias: no lowercasing, unlike JKS/JCEKS/PKCS12."""
    store = keystore.load(_data("bc-v2.bks"), PASSWORD, decrypt_keys=False)
    assert store.find("bc-root") is not None and store.find(MIXED) is not None
    assert store.find("BC-ROOT") is None and store.find(MIXED.lower()) is None
    with pytest.raises(BadInputError, match="^no entry with alias 'BC-ROOT' in the BKS keystore: its aliases are "
                                            "case-sensitive; the entry is 'bc-root'$"):
        store.entry("BC-ROOT")


@pytest.mark.parametrize("name", sorted(STORES))
def test_wrong_password(name):
    with pytest.raises(WrongPasswordError, match=f"^wrong store password for the {STORES[name].value.upper()} "):
        keystore.load(_data(name), "wrong-password")


def test_bks_and_uber_are_not_written():
    store = keystore.load(_data("bc-v2.bks"), PASSWORD)
    with pytest.raises(UnsupportedError, match="^ktpy reads BKS and UBER keystores but does not write them; "
                                               "choose jks, pkcs12 or jceks$"):
        keystore.build_store("bks", store.entries, storepass=PASSWORD)
    with pytest.raises(UnsupportedError):
        keystore.parse_types("jks,uber")


@pytest.mark.parametrize(("in_entries", "message"), [
    (False, "the BKS keystore claims 2,147,483,647 key derivation rounds; ktpy reads at most 5,000,000 "
            "(Bouncy Castle writes 1024 to 2047)"),
    (True, "the key of entry 'bc-client' in the BKS keystore claims 2,147,483,647 key derivation rounds; "
           "ktpy reads at most 5,000,000"),
])
def test_hostile_iteration_counts_are_refused_at_once(in_entries, message):
    """pyjks would run the PKCS#12 KDF 2^31 times (hours); the bound answers first."""
    hostile = bks_with_rounds(_data("bc-v2.bks"), 2**31 - 1, in_entries=in_entries)
    started = time.perf_counter()
    with pytest.raises(BadInputError) as caught:
        keystore.load(hostile, PASSWORD)
    assert time.perf_counter() - started < 2
    assert str(caught.value) == message


def test_uber_keeps_bouncy_castles_own_bound():
    data = bytearray(_data("bc.uber"))
    data[28:32] = (65537).to_bytes(4, "big")  # after version (4), salt length (4) and the 20-byte salt
    with pytest.raises(BadInputError, match="^the UBER keystore claims 65,537 key derivation rounds; "
                                            "ktpy reads at most 65,536"):
        keystore.load(bytes(data), PASSWORD)


@pytest.mark.parametrize("name", sorted(STORES))
def test_damage_gives_one_sentence(name):
    """Truncations and flipped bytes anywhere: only ktpy's errors (pyjks raises its own, and also
    NameError and struct.error on some damaged files), each quickly."""
    data = _data(name)
    rng = random.Random(f"{name}-damage")
    variants = [data[:cut] for cut in sorted(rng.sample(range(1, len(data)), 20))]
    for _ in range(20):
        flipped = bytearray(data)
        flipped[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        variants.append(bytes(flipped))
    for variant in variants:
        started = time.perf_counter()
        try:
            keystore.load(variant, PASSWORD, store_type=STORES[name])
        except KtpyError as exc:
            assert "\n" not in str(exc) and str(exc)
        assert time.perf_counter() - started < 2


@pytest.mark.parametrize("command", [["delete", "--alias", "bc-root"], ["rename", "--alias", "bc-root", "--to", "x"],
                                     ["passwd", "--new-storepass", "env:PW"]])
def test_edits_refuse_a_store_ktpy_does_not_write(command, tmp_path):
    store = tmp_path / "android.bks"
    store.write_bytes(_data("bc-v2.bks"))
    result = ktpy(command[0], store, "--storepass", "env:PW", *command[1:], env={"PW": PASSWORD}, code=1)
    assert result.stderr == (f"Error: {store} is a BKS keystore, which ktpy reads but does not write; convert it "
                             "to JKS, JCEKS or PKCS12 first (ktpy convert)\n")
    assert store.read_bytes() == _data("bc-v2.bks")


def test_the_cli_reads_them_by_content_or_by_type(tmp_path):
    """inspect and convert find the type in the content, or take --type; expiry reads BKS without a
    password (as keytool -list would with the provider) and UBER with one."""
    env = {"PW": PASSWORD}
    listed = ktpy("inspect", FIXTURES / "bc.uber", "--storepass", "env:PW", "--type", "uber", env=env)
    assert listed.stdout.startswith("Keystore type: UBER, 4 entries\n")
    mislabelled = ktpy("inspect", FIXTURES / "bc.uber", "--storepass", "env:PW", "--type", "jks", env=env, code=1)
    assert mislabelled.stderr == "Error: the file is a UBER keystore, not JKS\n"
    out = tmp_path / "android.p12"
    converted = ktpy("convert", FIXTURES / "bc-v1.bks", "--to", "pkcs12", "--storepass", "env:PW", "-o", out,
                     env=env)
    lowered = MIXED.lower()
    assert converted.stderr.endswith(
        f"from BKS {FIXTURES / 'bc-v1.bks'}: bc-client (key), bc-aes (secret key), {lowered} (trusted), bc-root "
        f"(trusted)\nNotice: alias {MIXED!r} is written as {lowered!r} (Java lowercases aliases and Mule matches "
        "them exactly; use the lowercase form in Mule)\n")
    assert keystore.load(out.read_bytes(), PASSWORD).find(lowered) is not None
    scanned = ktpy("expiry", FIXTURES / "bc-v2.bks", "--within", "1d", "--json")
    assert {(c["alias"], c["type"]) for c in json.loads(scanned.stdout)["certificates"]} == \
        {("bc-client", "bks"), ("bc-root", "bks"), (MIXED, "bks")}
    refused = ktpy("expiry", FIXTURES / "bc.uber", "--within", "1d", code=1)
    assert "a UBER keystore is encrypted as a whole: give its store password" in refused.stdout


BCPROV = Path("/usr/share/java/bcprov.jar")


@pytest.mark.parametrize("name", sorted(STORES))
def test_keytool_with_the_bouncy_castle_provider_lists_what_ktpy_lists(name):
    """A second judge beside JavaView: keytool itself, given Bouncy Castle's provider as a user
    would (-providerpath bcprov.jar), lists the same aliases, entry types and chains."""
    require_tool("keytool")
    assert BCPROV.is_file(), "Bouncy Castle's provider (Debian libbcprov-java) is needed"
    proc = run_keytool("-list", "-v", "-keystore", FIXTURES / name, "-storetype", STORES[name].value.upper(),
                       "-storepass", PASSWORD, "-providerpath", BCPROV,
                       "-provider", "org.bouncycastle.jce.provider.BouncyCastleProvider")
    assert proc.returncode == 0, proc.stderr
    listed = {(e.alias, e.kind, e.sha256) for e in parse_keytool_list(proc.stdout)}
    store = keystore.load(_data(name), PASSWORD, decrypt_keys=False)
    ours = {(e.alias, e.kind.value, tuple(fingerprint(c) for c in e.chain)) for e in store.entries}
    # keytool prints no chain for a secret key entry, and one certificate for a trusted one
    assert listed == ours
