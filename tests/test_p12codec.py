"""The PKCS#12 codec: round trips, what cryptography, OpenSSL and keytool write and read, damaged
input, and RC2 against RFC 2268."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from helpers import require_tool
from interop import (
    describe,
    keytool_recovers_the_key,
    parse_keytool_list,
    run_keytool,
    run_keytool_list,
    run_openssl,
)
from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5652, rfc5958, rfc7292

from keytool_py import BadInputError, KtpyError, UnsupportedError, WrongPasswordError, create_ca, rc2
from keytool_py import pbe as pbe_module
from keytool_py.keys import private_key_to_der
from keytool_py.keystore import p12codec
from keytool_py.keystore.p12codec import Bag, assemble, parse

PW = "changeit"
DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM
MODES = [pytest.param(False, id="modern"), pytest.param(True, id="legacy")]


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki():
    """A CA, a client it issued, and two unrelated roots to trust. EC keys: fast."""
    ca = create_ca("CN=P12 Test CA", key_type="ec-p256")
    leaf = ca.issue_client("CN=p12-client", key_type="ec-p256")
    trusted = [create_ca(f"CN=Trusted {n}", key_type="ec-p256") for n in (1, 2)]
    return ca, leaf, trusted


@pytest.fixture(scope="module")
def bags(pki):
    """A key entry (key + leaf sharing localKeyId and friendlyName, issuer bag) and two trusted certs."""
    ca, leaf, trusted = pki
    return [
        Bag("key", private_key_to_der(leaf.key), "mule-client", b"key-id-1"),
        Bag("cert", leaf.cert.public_bytes(DER), "mule-client", b"key-id-1"),
        Bag("cert", ca.cert.public_bytes(DER)),
        Bag("cert", trusted[0].cert.public_bytes(DER), "trusted-one", trusted=True),
        Bag("cert", trusted[1].cert.public_bytes(DER), "trusted-two", trusted=True),
    ]


@pytest.fixture(scope="module")
def stores(bags):
    """Our PKCS12 for each mode, keyed by legacy."""
    return {legacy: assemble(bags, PW, legacy=legacy) for legacy in (False, True)}


@pytest.fixture(scope="module")
def pem_files(pki, tmp_path_factory):
    ca, leaf, _ = pki
    folder = tmp_path_factory.mktemp("pem")
    (folder / "leaf.pem").write_bytes(leaf.cert.public_bytes(PEM))
    (folder / "ca.pem").write_bytes(ca.cert.public_bytes(PEM))
    (folder / "leaf.key").write_bytes(leaf.key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder


def _same_bags(got, want):
    """Equal bags, in any order (parse returns file order: certificates first)."""
    def order(bag):
        return bag.kind, bag.der
    got = [dataclasses.replace(b, sealed=None) for b in got]  # read keys keep their sealed form too
    assert sorted(got, key=order) == sorted(want, key=order)


def _strip_mac(data: bytes) -> bytes:
    """The same PFX without its MacData."""
    pfx, _ = decoder.decode(data, asn1Spec=rfc7292.PFX())
    bare = rfc7292.PFX()
    bare["version"] = pfx["version"]
    bare["authSafe"] = pfx["authSafe"]
    return encoder.encode(bare)


def _remac(data: bytes, password: str) -> bytes:
    """The same PFX with its SHA-256 MAC recomputed under `password`."""
    pfx, _ = decoder.decode(data, asn1Spec=rfc7292.PFX())
    content = bytes(decoder.decode(bytes(pfx["authSafe"]["content"]), asn1Spec=univ.OctetString())[0])
    mac_data = pfx["macData"]
    mac_data["mac"]["digest"] = pbe_module.mac(hashlib.sha256, content, password, bytes(mac_data["macSalt"]),
                                              int(mac_data["iterations"]))
    return encoder.encode(pfx)


# --- RC2 and the PKCS#12 KDF -----------------------------------------------------------------

# RFC 2268 section 5: (key, effective key bits, plaintext, ciphertext). The RFC has no 40-bit vector.
RFC2268_VECTORS = [
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
    ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
    ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ("88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e", 129, "0000000000000000",
     "5b78d3a43dfff1f1"),
]


@pytest.mark.parametrize("key, bits, plain, cipher", RFC2268_VECTORS)
def test_rc2_rfc2268_vectors(key, bits, plain, cipher):
    schedule = rc2.key_schedule(bytes.fromhex(key), bits)
    assert rc2.encrypt_block(schedule, bytes.fromhex(plain)).hex() == cipher
    assert rc2.decrypt_block(schedule, bytes.fromhex(cipher)).hex() == plain


def test_rc2_40_bit_cbc_matches_openssl():
    """40 effective bits, as pbeWithSHAAnd40BitRC2-CBC uses. The expected value is OpenSSL's:
    `openssl enc -rc2-40-cbc -K 0102030405 -iv 0000000000000000 -nopad -provider legacy
    -provider default` of the bytes 0..31."""
    key, iv, plain = bytes.fromhex("0102030405"), bytes(8), bytes(range(32))
    want = "811435a5bf3ea2f801b973ed213c8c31cd3c06b57eb09b7878a58b3b4b199cc9"
    assert rc2.cbc(key, 40, iv, plain, encrypt=True).hex() == want
    assert rc2.cbc(key, 40, iv, bytes.fromhex(want), encrypt=False) == plain


def test_pkcs12_kdf_vector():
    """The published SHA-1 vector (password "smeg", salt 0a58cf64530d823f, 1 iteration)."""
    salt = bytes.fromhex("0a58cf64530d823f")
    key = pbe_module.pkcs12_kdf(hashlib.sha1, "smeg", salt, 1, 1, 24)
    iv = pbe_module.pkcs12_kdf(hashlib.sha1, "smeg", salt, 1, 2, 8)
    assert key.hex() == "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
    assert iv.hex() == "79993dfe048d3b76"


# --- round trips and cryptography -------------------------------------------------------------

@pytest.mark.parametrize("legacy", MODES)
def test_round_trip(bags, stores, legacy):
    _same_bags(parse(stores[legacy], PW), bags)


@pytest.mark.parametrize("legacy", MODES)
def test_cryptography_reads_ours(pki, stores, legacy):
    ca, leaf, trusted = pki
    loaded = pkcs12.load_pkcs12(stores[legacy], PW.encode())
    assert private_key_to_der(loaded.key) == private_key_to_der(leaf.key)
    assert loaded.cert.certificate == leaf.cert
    assert loaded.cert.friendly_name == b"mule-client"
    extra = {c.certificate: c.friendly_name for c in loaded.additional_certs}
    assert extra == {ca.cert: None, trusted[0].cert: b"trusted-one", trusted[1].cert: b"trusted-two"}


def test_reads_ber_indefinite_lengths(bags, stores):
    """Windows writes BER: indefinite lengths and the authSafe content as a chunked OCTET STRING.
    The MAC covers the content octets, not their encoding, so it still verifies."""
    pfx, _ = decoder.decode(stores[False], asn1Spec=rfc7292.PFX())
    content = decoder.decode(bytes(pfx["authSafe"]["content"]), asn1Spec=univ.OctetString())[0]
    pfx["authSafe"]["content"] = ber_encoder.encode(content, defMode=False, maxChunkSize=100)
    ber = ber_encoder.encode(pfx, defMode=False)
    assert ber[:2] == b"\x30\x80" and ber != stores[False]
    _same_bags(parse(ber, PW), bags)


def test_trusted_attribute_encoded_as_cryptography_does(pki):
    """Oracle's attribute with the OID anyExtendedKeyUsage as its one value, byte for byte
    what serialize_java_truststore (and keytool) write."""
    _, _, trusted = pki
    theirs = pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(trusted[0].cert, None)], serialization.NoEncryption())
    ours = assemble([Bag("cert", trusted[0].cert.public_bytes(DER), trusted=True)], PW)
    attribute = "3016060c6086480186f966adca7b010131060604551d2500"
    assert bytes.fromhex(attribute) in theirs  # unencrypted, so visible
    assert parse(theirs, "") == parse(ours, PW) == [Bag("cert", trusted[0].cert.public_bytes(DER),
                                                        trusted=True)]
    safe_bag = p12codec._safe_bag(rfc7292.id_certBag, b"\x05\x00", Bag("cert", b"", trusted=True))
    assert encoder.encode(safe_bag["bagAttributes"][0]).hex() == attribute


def _cryptography_store(pki, encryption):
    ca, leaf, _ = pki
    return pkcs12.serialize_key_and_certificates(b"leaf", leaf.key, leaf.cert, [ca.cert], encryption)


def _check_key_and_chain(found, pki, *, name="leaf"):
    ca, leaf, _ = pki
    keys = [b for b in found if b.kind == "key"]
    certs = {b.der: b for b in found if b.kind == "cert"}
    assert len(keys) == 1 and keys[0].der == private_key_to_der(leaf.key)
    assert keys[0].friendly_name == name
    leaf_bag = certs[leaf.cert.public_bytes(DER)]
    assert (leaf_bag.friendly_name, leaf_bag.local_key_id) == (name, keys[0].local_key_id)
    assert keys[0].local_key_id
    assert ca.cert.public_bytes(DER) in certs
    assert len(certs) == 2 and not any(b.trusted for b in found)


def test_reads_cryptography_default(pki):
    data = _cryptography_store(pki, serialization.BestAvailableEncryption(b"secret1"))
    _check_key_and_chain(parse(data, "secret1"), pki)


def test_reads_cryptography_3des_sha1(pki):
    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                  .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                  .hmac_hash(hashes.SHA1()).build(b"secret1"))
    _check_key_and_chain(parse(_cryptography_store(pki, encryption), "secret1"), pki)


def test_reads_cryptography_java_truststore(pki):
    _, _, trusted = pki
    data = pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(t.cert, f"t{n}".encode()) for n, t in enumerate(trusted)],
        serialization.BestAvailableEncryption(b"secret1"))
    assert parse(data, "secret1") == [Bag("cert", t.cert.public_bytes(DER), f"t{n}", trusted=True)
                                      for n, t in enumerate(trusted)]


# --- OpenSSL ------------------------------------------------------------------------------------

@pytest.mark.parametrize("legacy", MODES)
def test_openssl_reads_ours(stores, legacy, tmp_path):
    """OpenSSL verifies the MAC and decrypts every bag (-nodes prints the key in clear)."""
    require_tool("openssl")
    path = tmp_path / "ours.p12"
    path.write_bytes(stores[legacy])
    proc = run_openssl("pkcs12", "-info", "-in", path, "-passin", f"pass:{PW}", "-nodes")
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.count("-----BEGIN CERTIFICATE-----") == 4
    assert proc.stdout.count("-----BEGIN PRIVATE KEY-----") == 1
    assert ("MAC: sha1" if legacy else "MAC: sha256") in proc.stderr


# What `openssl pkcs12 -export` options make, and so which of our decryption paths each exercises.
OPENSSL_EXPORTS = {
    "default": [],  # PBES2 AES-256-CBC, SHA-256 MAC
    "legacy": ["-legacy"],  # certs RC2-40, key 3DES, SHA-1 MAC
    "rc2-128-2des-sha384": ["-legacy", "-certpbe", "PBE-SHA1-RC2-128", "-keypbe", "PBE-SHA1-2DES",
                            "-macalg", "sha384"],
    "aes128-des3-sha512": ["-certpbe", "AES-128-CBC", "-keypbe", "DES-EDE3-CBC", "-macalg", "sha512"],
}


def test_unencrypted_key_bag_is_ignored_as_java_does(pki, pem_files, tmp_path):
    """`-keypbe NONE` writes a plain keyBag, which Java's PKCS12KeyStore skips (keytool lists 0
    entries): ktpy must not promise a key Mule will not see."""
    require_tool("openssl")
    out = tmp_path / "plain.p12"
    proc = run_openssl("pkcs12", "-export", "-certpbe", "NONE", "-keypbe", "NONE", "-nomac",
                       "-in", pem_files / "leaf.pem", "-inkey", pem_files / "leaf.key", "-name", "leaf",
                       "-passout", "pass:secret1", "-out", out)
    assert proc.returncode == 0, describe(proc)
    found = parse(out.read_bytes(), "secret1")
    assert [b.kind for b in found] == ["cert"]


@pytest.mark.parametrize("options", OPENSSL_EXPORTS.values(), ids=OPENSSL_EXPORTS.keys())
def test_reads_openssl_export(pki, pem_files, options, tmp_path):
    require_tool("openssl")
    out = tmp_path / "ossl.p12"
    proc = run_openssl("pkcs12", "-export", *options, "-in", pem_files / "leaf.pem",
                       "-inkey", pem_files / "leaf.key", "-certfile", pem_files / "ca.pem", "-name", "leaf",
                       "-passout", "pass:secret1", "-out", out)
    assert proc.returncode == 0, describe(proc)
    _check_key_and_chain(parse(out.read_bytes(), "secret1"), pki)


# `openssl pkcs8 -topk8` options: every row of the decryption tables on a shrouded key.
OPENSSL_PKCS8 = {
    "pbes2-aes192-sha1-default-prf": ["-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA1"],
    "pbes2-aes128-sha224": ["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA224"],
    "pbes2-aes256-sha512": ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"],
    "pbes2-des3-sha384": ["-v2", "des3", "-v2prf", "hmacWithSHA384"],
    "pkcs12-3des": ["-v1", "PBE-SHA1-3DES"],
    "pkcs12-2des": ["-v1", "PBE-SHA1-2DES"],
    "pkcs12-rc2-128": ["-v1", "PBE-SHA1-RC2-128", "-provider", "legacy", "-provider", "default"],
    "pkcs12-rc2-40": ["-v1", "PBE-SHA1-RC2-40", "-provider", "legacy", "-provider", "default"],
}


@pytest.mark.parametrize("options", OPENSSL_PKCS8.values(), ids=OPENSSL_PKCS8.keys())
def test_decrypts_openssl_pkcs8(pki, pem_files, options, tmp_path):
    require_tool("openssl")
    out = tmp_path / "key.der"
    proc = run_openssl("pkcs8", "-topk8", "-in", pem_files / "leaf.key", *options, "-passout", "pass:secret1",
                       "-outform", "DER", "-out", out)
    assert proc.returncode == 0, describe(proc)
    shrouded, _ = decoder.decode(out.read_bytes(), asn1Spec=rfc5958.EncryptedPrivateKeyInfo())
    plain = p12codec._decrypt(shrouded["encryptionAlgorithm"], bytes(shrouded["encryptedData"]), "secret1",
                              rfc5958.PrivateKeyInfo())
    assert plain == private_key_to_der(pki[1].key)


def test_openssl_rc4_is_unsupported(pem_files, tmp_path):
    require_tool("openssl")
    out = tmp_path / "rc4.p12"
    proc = run_openssl("pkcs12", "-export", "-legacy", "-certpbe", "PBE-SHA1-RC4-128",
                       "-in", pem_files / "leaf.pem", "-inkey", pem_files / "leaf.key",
                       "-passout", "pass:secret1", "-out", out)
    assert proc.returncode == 0, describe(proc)
    with pytest.raises(UnsupportedError) as caught:
        parse(out.read_bytes(), "secret1")
    assert str(caught.value) == ("the PKCS12 keystore uses pbeWithSHAAnd128BitRC4, which ktpy "
                                 "cannot read")


# --- keytool ------------------------------------------------------------------------------------

@pytest.mark.parametrize("legacy", MODES)
def test_keytool_reads_ours(stores, legacy, pki, tmp_path):
    """keytool sees the key entry under its alias with its chain and both trusted entries, and
    copies the key into another store, which needs the key decrypted (-list never decrypts)."""
    require_tool("keytool")
    path = tmp_path / "ours.p12"
    path.write_bytes(stores[legacy])
    with ThreadPoolExecutor(2) as pool:  # two JVMs at once: half the wait
        listed = pool.submit(run_keytool_list, path, "PKCS12", PW)
        copied = pool.submit(keytool_recovers_the_key, path, "PKCS12", PW, tmp_path / "copy.p12",
                             alias="mule-client")
    listing = listed.result()
    assert copied.result() == pki[1].cert
    entries = {e.alias: (e.kind, len(e.sha256)) for e in parse_keytool_list(listing)}
    assert entries == {"mule-client": ("PrivateKeyEntry", 2), "trusted-one": ("trustedCertEntry", 1),
                       "trusted-two": ("trustedCertEntry", 1)}, listing


def test_reads_keytool_store(pem_files, tmp_path):
    """Two key entries (EC and RSA) and a trusted certificate, as keytool writes them."""
    require_tool("keytool")
    path = tmp_path / "keytool.p12"
    store = ["-keystore", path, "-storetype", "PKCS12", "-storepass", "changeit"]
    for cmd in (
        ["-genkeypair", "-alias", "k1", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=k1",
         "-keypass", "changeit"],
        ["-genkeypair", "-alias", "k2", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=k2",
         "-keypass", "changeit"],
        ["-importcert", "-noprompt", "-alias", "trusted1", "-file", pem_files / "ca.pem"],
    ):
        proc = run_keytool(*cmd, *store)
        assert proc.returncode == 0, describe(proc)

    found = parse(path.read_bytes(), "changeit")
    keys = {b.friendly_name: b for b in found if b.kind == "key"}
    certs = [b for b in found if b.kind == "cert"]
    assert sorted(keys) == ["k1", "k2"]
    for alias, key in keys.items():
        leaf = next(b for b in certs if b.local_key_id == key.local_key_id)
        assert leaf.friendly_name == alias and not leaf.trusted
        subject = x509.load_der_x509_certificate(leaf.der).subject.rfc4514_string()
        assert subject == f"CN={alias}"
        assert serialization.load_der_private_key(key.der, None) is not None
    trusted = [b for b in certs if b.trusted]
    assert [(b.friendly_name, b.local_key_id) for b in trusted] == [("trusted1", None)]
    assert trusted[0].der == x509.load_pem_x509_certificate((pem_files / "ca.pem").read_bytes()).public_bytes(DER)


# --- wrong passwords and damaged input ---------------------------------------------------------

@pytest.mark.parametrize("legacy", MODES)
def test_wrong_password(stores, legacy):
    with pytest.raises(WrongPasswordError) as caught:
        parse(stores[legacy], "not-it")
    assert str(caught.value) == "wrong store password for the PKCS12 keystore (its MAC does not verify)"


def test_no_mac_still_parses(bags, stores):
    bare = _strip_mac(stores[False])
    assert len(bare) < len(stores[False])
    _same_bags(parse(bare, PW), bags)
    with pytest.raises(WrongPasswordError, match="it has no MAC, and its contents do not decrypt"):
        parse(bare, "not-it")


def test_undecryptable_bag_under_a_good_mac_is_corruption(bags):
    """The password opens the MAC but not the bags: the file is damaged, not the password wrong."""
    data = _remac(assemble(bags, "other-password", iterations=100), PW)
    with pytest.raises(BadInputError, match="^the PKCS12 keystore is corrupted or truncated$"):
        parse(data, PW)


@pytest.mark.parametrize("cut", [1, 10, 100, 0.5])
def test_truncated(stores, cut):
    data = stores[False]
    end = int(len(data) * cut) if isinstance(cut, float) else len(data) - cut
    with pytest.raises(BadInputError, match="^the PKCS12 keystore is corrupted or truncated$"):
        parse(data[:end], PW)


def test_flipped_byte_in_the_middle(stores):
    """The middle byte is inside the MAC-covered content: the MAC fails, but another part still
    decrypts with the password, so the file is reported as altered, not the password as wrong."""
    data = bytearray(stores[False])
    data[len(data) // 2] ^= 0x01
    with pytest.raises(BadInputError, match="^the PKCS12 keystore was altered or damaged: its MAC does not verify"):
        parse(bytes(data), PW)
    with pytest.raises(WrongPasswordError, match="MAC does not verify"):
        parse(bytes(data), "not-the-password")


def test_wrong_password_on_an_intact_file_is_a_wrong_password(stores):
    for legacy in (False, True):
        with pytest.raises(WrongPasswordError, match="^wrong store password for the PKCS12 keystore"):
            parse(stores[legacy], "not-the-password")


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"hello world" * 10, bytes(range(256)),
                                     b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"])
def test_garbage(garbage):
    with pytest.raises(BadInputError, match="^the PKCS12 keystore is corrupted or truncated$"):
        parse(garbage, PW)


def test_a_certificate_is_not_a_pkcs12(pki):
    with pytest.raises(BadInputError):
        parse(pki[0].cert.public_bytes(DER), PW)


def test_signed_authsafe_is_unsupported(stores):
    pfx, _ = decoder.decode(stores[False], asn1Spec=rfc7292.PFX())
    pfx["authSafe"]["contentType"] = rfc5652.id_signedData
    with pytest.raises(UnsupportedError, match="signedData"):
        parse(encoder.encode(pfx), PW)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    position = rng.randrange(len(out))
    action = rng.choice(["replace", "replace", "replace", "delete", "insert", "truncate"])
    if action == "replace":
        out[position] = (out[position] + rng.randrange(1, 256)) % 256
    elif action == "delete":
        del out[position]
    elif action == "insert":
        out.insert(position, rng.randrange(256))
    else:
        del out[position:]
    return bytes(out)


@pytest.mark.parametrize("mac", [True, False], ids=["with-mac", "without-mac"])
def test_random_mutations_raise_only_ktpy_errors(bags, mac):
    """200 mutations of a valid file; without a MAC the mutations reach the decryption and bag
    parsing. Any outcome is fine except an exception that is not a KtpyError."""
    valid = assemble(bags, PW, iterations=50)
    if not mac:
        valid = _strip_mac(valid)
    rng = random.Random(0)
    outcomes = set()
    for _ in range(200):
        try:
            parse(_mutate(valid, rng), PW)
            outcomes.add("parsed")
        except KtpyError as error:
            outcomes.add(type(error).__name__)
    assert "BadInputError" in outcomes


# --- API checks ---------------------------------------------------------------------------------

def test_bag_kinds_are_checked():
    with pytest.raises(BadInputError, match="'key', 'secret' or 'cert'"):
        Bag("crl", b"x")
    with pytest.raises(BadInputError, match="only a certificate bag"):
        Bag("key", b"x", trusted=True)


def test_password_must_be_text(stores):
    with pytest.raises(TypeError):
        parse(stores[False], PW.encode())
    with pytest.raises(TypeError):
        assemble([], PW.encode())


def test_assemble_writes_what_it_says(stores):
    """Modern: PBES2/AES-256 and an HMAC-SHA256 MAC at 10000 iterations (Java 17's choice);
    legacy: pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC. Certificates encrypted first,
    keys shrouded in a plain SafeContents after."""
    for legacy, mac_oid, pbe in [(False, "2.16.840.1.101.3.4.2.1", "1.2.840.113549.1.5.13"),
                                 (True, "1.3.14.3.2.26", "1.2.840.113549.1.12.1.3")]:
        pfx, _ = decoder.decode(stores[legacy], asn1Spec=rfc7292.PFX())
        assert str(pfx["macData"]["mac"]["digestAlgorithm"]["algorithm"]) == mac_oid
        assert int(pfx["macData"]["iterations"]) == 10_000
        content = decoder.decode(bytes(pfx["authSafe"]["content"]), asn1Spec=univ.OctetString())[0]
        infos = decoder.decode(bytes(content), asn1Spec=rfc7292.AuthenticatedSafe())[0]
        assert [info["contentType"] for info in infos] == [rfc5652.id_encryptedData, rfc5652.id_data]
        encrypted = decoder.decode(bytes(infos[0]["content"]), asn1Spec=rfc5652.EncryptedData())[0]
        algorithm = encrypted["encryptedContentInfo"]["contentEncryptionAlgorithm"]["algorithm"]
        assert str(algorithm) == pbe
