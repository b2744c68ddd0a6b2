"""Round trips of every keystore type, and the rules the formats impose."""

import hashlib

import jks as pyjks
import pytest
from helpers import KEYPASS, LEAF_KEY_TYPES, NOW, STOREPASS

from keytool_py import (
    BadInputError,
    KeyType,
    MismatchError,
    StoreType,
    UnsupportedError,
    WrongPasswordError,
    build_keystore,
    load_keystore,
)
from keytool_py.keystore import detect_type, jceks

# (store type, compat, distinct key password?)
STORE_KINDS = [
    ("jks", None, False), ("jks", None, True),
    ("jceks", None, False), ("jceks", None, True),
    ("pkcs12", None, False), ("pkcs12", "java8", False),
]


def _kind_id(kind):
    store, compat, distinct = kind
    return store + (f"-{compat}" if compat else "") + ("-keypass" if distinct else "")


@pytest.fixture(scope="module")
def stores(clients):
    """Every kind of store for every leaf key type, built once (JCEKS derivation is slow)."""
    out = {}
    for key_type in LEAF_KEY_TYPES:
        leaf = clients[key_type]
        for kind in STORE_KINDS:
            store, compat, distinct = kind
            out[(key_type, kind)] = build_keystore(
                store, leaf.key, leaf.chain, alias="Mule-Client", storepass=STOREPASS,
                keypass=KEYPASS if distinct else None, compat=compat, now=NOW)
    return out


@pytest.mark.parametrize("kind", STORE_KINDS, ids=_kind_id)
@pytest.mark.parametrize("key_type", LEAF_KEY_TYPES, ids=lambda k: k.value)
def test_round_trip(stores, clients, key_type, kind):
    store, _, distinct = kind
    leaf = clients[key_type]
    data = stores[(key_type, kind)]
    assert detect_type(data) is StoreType(store)
    loaded = load_keystore(data, STOREPASS, keypass=KEYPASS if distinct else None)
    assert loaded.type is StoreType(store)
    (entry,) = loaded.entries
    assert entry.alias == "mule-client"  # lowercased: Java lowercases, Mule matches exactly
    assert entry.is_key_entry
    assert entry.chain == leaf.chain
    assert entry.key.private_numbers() == leaf.key.private_numbers()


@pytest.mark.parametrize("kind", [k for k in STORE_KINDS if k[2]], ids=_kind_id)
def test_distinct_key_password_is_needed(stores, kind):
    data = stores[(KeyType.RSA2048, kind)]
    with pytest.raises(WrongPasswordError, match="^wrong key password for entry 'mule-client' in the"):
        load_keystore(data, STOREPASS)
    # certificates are readable without the key password
    (entry,) = load_keystore(data, STOREPASS, decrypt_keys=False).entries
    assert entry.key is None and len(entry.chain) == 2


@pytest.mark.parametrize("kind", STORE_KINDS, ids=_kind_id)
def test_wrong_store_password(stores, kind):
    with pytest.raises(WrongPasswordError, match="^wrong store password for the"):
        load_keystore(stores[(KeyType.EC_P256, kind)], "wrong-pass")


@pytest.mark.parametrize("kind", STORE_KINDS, ids=_kind_id)
def test_truncated_store_is_refused_cleanly(stores, kind):
    data = stores[(KeyType.EC_P256, kind)]
    with pytest.raises((BadInputError, WrongPasswordError)):
        load_keystore(data[: len(data) // 2], STOREPASS)


def test_pkcs12_refuses_a_distinct_key_password(client):
    with pytest.raises(UnsupportedError, match="cannot have a key password different from its store"):
        build_keystore("pkcs12", client.key, client.chain, alias="a", storepass=STOREPASS, keypass=KEYPASS)


def test_mismatched_key_and_certificate(client, clients):
    other = clients[KeyType.EC_P256]
    with pytest.raises(MismatchError, match="^the private key does not match the certificate$"):
        build_keystore("jks", other.key, client.chain, alias="a", storepass=STOREPASS)


@pytest.mark.parametrize("store", ["jks", "jceks", "pkcs12"])
def test_short_password_refused(client, store):
    with pytest.raises(BadInputError, match="at least 6 characters"):
        build_keystore(store, client.key, client.chain, alias="a", storepass="12345")


def test_jceks_refuses_non_ascii_password(client):
    with pytest.raises(UnsupportedError, match="must be printable ASCII"):
        build_keystore("jceks", client.key, client.chain, alias="a", storepass="pässwörd")


def test_empty_alias_refused(client):
    with pytest.raises(BadInputError, match="alias must not be empty"):
        build_keystore("jks", client.key, client.chain, alias="  ", storepass=STOREPASS)


def test_unknown_type_lists_choices(client):
    with pytest.raises(BadInputError, match="^unknown keystore type .pem.; choose one of jks, pkcs12, jceks$"):
        build_keystore("pem", client.key, client.chain, alias="a", storepass=STOREPASS)
    with pytest.raises(UnsupportedError, match="^ktpy reads BKS and UBER keystores but does not write them; "):
        build_keystore("bks", client.key, client.chain, alias="a", storepass=STOREPASS)


def test_jceks_is_read_by_pyjks(stores, clients):
    """pyjks, an independent reader, checks our JCEKS integrity hash and decrypts the key."""
    data = stores[(KeyType.RSA2048, ("jceks", None, True))]
    store = pyjks.KeyStore.loads(data, STOREPASS, try_decrypt_keys=False)
    assert store.store_type == "jceks"
    entry = store.private_keys["mule-client"]
    entry.decrypt(KEYPASS)
    from keytool_py.keys import private_key_to_der

    assert entry.pkey_pkcs8 == private_key_to_der(clients[KeyType.RSA2048].key)


def test_jceks_derivation_matches_the_definition():
    """D = MD5(half + pw), then count-1 times D = MD5(D + pw); key = D1 + D2[:8], iv = D2[8:]."""
    salt, pw = bytes(range(1, 9)), b"changeit"

    def chain(half):
        d = hashlib.md5(half + pw).digest()
        for _ in range(2):
            d = hashlib.md5(d + pw).digest()
        return d

    d1, d2 = chain(salt[:4]), chain(salt[4:])
    assert jceks.derive_key_iv(pw, salt, 3) == (d1 + d2[:8], d2[8:])


def test_jceks_never_uses_a_salt_with_equal_halves():
    with pytest.raises(ValueError, match="salt halves must differ"):
        jceks.derive_key_iv(b"changeit", b"abcdabcd", 1)
    assert all(s[:4] != s[4:] for s in (jceks.new_salt() for _ in range(200)))


def test_jceks_key_protection_parameters(stores):
    """The protected key names PBEWithMD5AndTripleDES with an 8-byte salt and 200000 rounds."""
    from jks import rfc2898
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5208

    data = stores[(KeyType.EC_P256, ("jceks", None, False))]
    entry = pyjks.KeyStore.loads(data, STOREPASS, try_decrypt_keys=False).private_keys["mule-client"]
    info = decoder.decode(entry._encrypted, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())[0]
    assert str(info["encryptionAlgorithm"]["algorithm"]) == "1.3.6.1.4.1.42.2.19.1"
    params = decoder.decode(info["encryptionAlgorithm"]["parameters"].asOctets(),
                            asn1Spec=rfc2898.PBEParameter())[0]
    assert len(params["salt"].asOctets()) == 8
    assert int(params["iterationCount"]) == 200_000


def test_pkcs12_friendly_name_is_the_alias(stores):
    from cryptography.hazmat.primitives.serialization import pkcs12

    bundle = pkcs12.load_pkcs12(stores[(KeyType.RSA2048, ("pkcs12", None, False))], STOREPASS.encode())
    assert bundle.cert.friendly_name == b"mule-client"
    assert len(bundle.additional_certs) == 1


def test_detect_type():
    assert detect_type(b"\xfe\xed\xfe\xed....") is StoreType.JKS
    assert detect_type(b"\xce\xce\xce\xce....") is StoreType.JCEKS
    assert detect_type(b"-----BEGIN CERTIFICATE-----") is None
    assert detect_type(b"") is None


def test_load_refuses_non_keystores():
    with pytest.raises(BadInputError, match="not a JKS, JCEKS, PKCS12, BKS or UBER keystore"):
        load_keystore(b"hello", STOREPASS)


def test_load_refuses_type_mismatch(stores):
    with pytest.raises(BadInputError, match="is a JKS keystore, not PKCS12"):
        load_keystore(stores[(KeyType.EC_P256, ("jks", None, False))], STOREPASS, store_type="pkcs12")


@pytest.mark.parametrize("kind", [("jks", None, False), ("jceks", None, False)], ids=_kind_id)
def test_altered_store_is_told_from_a_wrong_password(stores, kind):
    """A flipped byte in an entry's timestamp leaves the structure readable and the key
    decryptable: the password is right, so the message says the file was altered."""
    data = bytearray(stores[(KeyType.EC_P256, kind)])
    alias_length = int.from_bytes(data[16:18], "big")
    data[18 + alias_length + 7] ^= 0x01  # last byte of the entry's timestamp
    with pytest.raises(BadInputError, match="keystore was altered or damaged: its integrity hash does not match, "
                                            "though the password opens its key"):
        load_keystore(bytes(data), STOREPASS)
    with pytest.raises(WrongPasswordError, match="wrong store password"):
        load_keystore(bytes(data), "not-the-password")


def test_jks_key_protection_is_what_pyjks_decrypts(client):
    """Our JKS key protection, checked by an independent implementation (pyjks's Sun KeyProtector)."""
    from jks import sun_crypto
    from pyasn1.codec.der import decoder
    from pyasn1_modules import rfc5208

    from keytool_py.keys import private_key_to_der
    from keytool_py.keystore import jks

    plain = private_key_to_der(client.key)
    info = decoder.decode(jks.protect_key(plain, "key-pass-1"), asn1Spec=rfc5208.EncryptedPrivateKeyInfo())[0]
    assert str(info["encryptionAlgorithm"]["algorithm"]) == "1.3.6.1.4.1.42.2.17.1.1"
    assert sun_crypto.jks_pkey_decrypt(info["encryptedData"].asOctets(), "key-pass-1") == plain
    with pytest.raises(Exception, match="(?i)hash"):
        sun_crypto.jks_pkey_decrypt(info["encryptedData"].asOctets(), "other-pass")


def test_writing_a_jks_does_not_import_pyjks(client):
    import subprocess
    import sys

    code = ("import sys; from keytool_py import create_ca, build_keystore;"
            "ca = create_ca('CN=t', key_type='ec-p256'); c = ca.issue_client('CN=c', key_type='ec-p256');"
            "build_keystore('jks', c.key, c.chain, alias='a', storepass='changeit');"
            "build_keystore('jceks', c.key, c.chain, alias='a', storepass='changeit');"
            "print('jks' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_keys_with_different_passwords_in_one_store(clients, now):
    """keytool lets each key entry have its own password: picking an alias decrypts only that key.
    keystore.seal protects one entry with its own password; build_store carries it."""
    from keytool_py.keystore import Entry, build_store, seal

    entries = [seal(Entry(alias="one", chain=clients[KeyType.EC_P256].chain, key=clients[KeyType.EC_P256].key,
                          timestamp=now), "jks", "first-pass"),
               seal(Entry(alias="two", chain=clients[KeyType.RSA2048].chain, key=clients[KeyType.RSA2048].key,
                          timestamp=now), "jks", "second-pass")]
    data = build_store("jks", entries, storepass=STOREPASS)
    with pytest.raises(WrongPasswordError, match="entry 'two'"):
        load_keystore(data, STOREPASS, keypass="first-pass")
    store = load_keystore(data, STOREPASS, keypass="second-pass", alias="TWO")
    assert store.entry("two").key.private_numbers() == clients[KeyType.RSA2048].key.private_numbers()
    assert store.entry("one").key is None
