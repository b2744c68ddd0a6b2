"""Crafted keystores cost bounded work, Java's alias rules, and the one
sentence for an alias too long for a Java keystore. Timings of the same files: bench/RESULTS.md."""

from __future__ import annotations

import pytest
from helpers import ktpy
from hostile import STOREPASS, jceks_back_reference_bomb, jceks_keys_at_max_rounds, pkcs12_parts_at_max_rounds

from keytool_py import BadInputError, WrongPasswordError
from keytool_py import keystore as ks
from keytool_py.keystore import javaser, jceks, p12codec
from keytool_py.pbe import MAX_ROUNDS


def test_jceks_back_reference_bomb_is_refused_as_java_refuses_it(tmp_path):
    data = jceks_back_reference_bomb()
    assert len(data) < 1500
    with pytest.raises(BadInputError, match=r"^the secret key entry 'bomb' in the JCEKS keystore is damaged or "
                                            r"holds objects other than a sealed key \(Java refuses such a store\)$"):
        ks.load(data, STOREPASS)
    path = tmp_path / "bomb.jceks"
    path.write_bytes(data)
    result = ktpy("inspect", str(path), "--storepass", "env:PW", env={"PW": STOREPASS}, code=None)
    assert result.exit_code == 1 and result.stderr.startswith("Error: the secret key entry 'bomb'")


def test_back_references_are_shared_not_copied():
    """Without the class filter, the parse still touches each byte once: 60 levels of doubled
    references would be 2^60 objects if copied."""
    data = jceks_back_reference_bomb(levels=60)
    stream_start = data.index(javaser.MAGIC)
    value, _ = javaser.read_object(data, stream_start)
    assert len(value) == 60 and value[59][0] is value[58]


def test_serialization_limits():
    data = jceks_back_reference_bomb(levels=javaser.MAX_HANDLES + 5)
    with pytest.raises(javaser.SerialError, match="too many objects"):
        javaser.read_object(data, data.index(javaser.MAGIC))


def test_wrong_password_never_probes_parts_at_hostile_counts(monkeypatch):
    """After a failed MAC one part may be decrypted to tell "altered" from "wrong password", but
    not one that claims more rounds than any real writer uses: 30 parts at 5,000,000 rounds cost
    nothing."""
    calls = []
    real = p12codec._decrypt
    monkeypatch.setattr(p12codec, "_decrypt", lambda *a: calls.append(a) or real(*a))
    with pytest.raises(WrongPasswordError, match=r"^wrong store password for the PKCS12 keystore"):
        ks.load(pkcs12_parts_at_max_rounds(parts=30), "not-the-password")
    assert calls == []


def test_wrong_password_never_derives_jceks_keys_at_hostile_counts(monkeypatch, clients):
    from keytool_py import KeyType

    calls = []
    monkeypatch.setattr(jceks, "derive_key_iv", lambda *a, **k: calls.append(a))
    data = jceks_keys_at_max_rounds(clients[KeyType.EC_P256].cert, count=5)
    with pytest.raises(WrongPasswordError, match=r"^wrong store password for the JCEKS keystore"):
        ks.load(data, "not-the-password")
    assert calls == []


def test_jceks_rounds_over_javas_limit_are_refused(clients):
    from keytool_py import KeyType

    data = jceks_keys_at_max_rounds(clients[KeyType.EC_P256].cert, count=1, rounds=MAX_ROUNDS + 1)
    with pytest.raises(BadInputError, match=r"claims 5000001 protection rounds; Java reads at most 5000000$"):
        ks.load(data, STOREPASS)


# --- aliases: Java's lookup, Java's limit ---

ALIAS_65535 = "€" * 21845  # 3 bytes each in modified UTF-8: exactly 65535


def test_alias_over_65535_bytes_is_one_sentence(client, tmp_path, pem_files):
    result = ktpy("build-keystore", "--type", "jks", "--key", str(pem_files["key"]), "--cert", str(pem_files["chain"]),
                  "--alias", ALIAS_65535 + "x", "--storepass", "env:PW", "-o", str(tmp_path / "k.jks"),
                  env={"PW": STOREPASS}, code=None)
    assert result.exit_code == 1
    assert result.stderr == ("Error: the alias is 65536 bytes in Java's encoding; Java keystores hold aliases "
                             "of at most 65535 bytes\n")
    assert not (tmp_path / "k.jks").exists()


def test_entry_lookup_is_javas(client):
    """Java lowercases the name it looks up; JKS/JCEKS keep stored aliases as written."""
    from keytool_py.keystore import Entry, EntryKind

    a = Entry(alias="twin-a", chain=(client.chain[-1],), kind=EntryKind.TRUSTED_CERT)
    b = Entry(alias="TWIN-A", chain=(client.chain[0],), kind=EntryKind.TRUSTED_CERT)
    store = ks.Keystore(ks.StoreType.JKS, (b, a))
    assert store.entry("TWIN-A") is a and store.entry("Twin-A") is a
    lonely = ks.Keystore(ks.StoreType.JKS, (b,))
    with pytest.raises(BadInputError, match=r"^the entry 'TWIN-A' has a mixed-case alias, which Java cannot "
                                            r"look up \(it lowercases the name it looks for\)"):
        lonely.entry("TWIN-A")


@pytest.fixture
def pem_files(client, tmp_path):
    from keytool_py.certs import to_pem
    from keytool_py.keys import private_key_to_pem

    (tmp_path / "k.pem").write_bytes(private_key_to_pem(client.key))
    (tmp_path / "c.pem").write_bytes(to_pem(client.chain))
    return {"key": tmp_path / "k.pem", "chain": tmp_path / "c.pem"}
