import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from helpers import assert_is_ca, assert_is_client, ext

from keytool_py import BadInputError, KeyType, MismatchError, create_ca, load_ca
from keytool_py.issue import BACKDATE

FIXED = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def fixed_ca(key_pool):
    return create_ca("CN=Fixed Root,O=Acme", key=key_pool(KeyType.RSA3072), now=FIXED)


def test_root_ca_profile(fixed_ca):
    cert = fixed_ca.cert
    assert_is_ca(cert, path_length=None)
    assert cert.issuer == cert.subject
    assert cert.not_valid_before_utc == FIXED - BACKDATE
    assert cert.not_valid_after_utc == FIXED + dt.timedelta(days=3650)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    assert cert.public_key().key_size == 3072
    cert.verify_directly_issued_by(cert)


def test_default_ca_key_is_rsa3072():
    from keytool_py.ca import CA_KEY_TYPE, CLIENT_KEY_TYPE

    assert CA_KEY_TYPE is KeyType.RSA3072 and CLIENT_KEY_TYPE is KeyType.RSA2048


@pytest.mark.parametrize("key_type", [KeyType.RSA2048, KeyType.EC_P256])
def test_client_profile(fixed_ca, key_pool, key_type):
    leaf = fixed_ca.issue_client("CN=mule-client,O=Acme", key=key_pool(key_type),
                                 sans=["email:ops@example.com"], now=FIXED)
    assert_is_client(leaf.cert, fixed_ca.cert)
    assert leaf.chain == (leaf.cert, fixed_ca.cert)
    assert leaf.cert.not_valid_before_utc == FIXED - BACKDATE
    assert leaf.cert.not_valid_after_utc == FIXED + dt.timedelta(days=365)
    assert leaf.cert.signature_hash_algorithm.name == "sha256"
    sans = ext(leaf.cert, x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.RFC822Name) == ["ops@example.com"]


def test_client_default_key_is_rsa2048(fixed_ca):
    leaf = fixed_ca.issue_client("CN=default", now=FIXED)
    assert isinstance(leaf.key, rsa.RSAPrivateKey) and leaf.key.key_size == 2048


def test_serials_are_random_and_positive(fixed_ca, key_pool):
    serials = {fixed_ca.issue_client("CN=s", key=key_pool(KeyType.EC_P256), now=FIXED).cert.serial_number
               for _ in range(3)}
    assert len(serials) == 3 and all(s > 2**64 for s in serials)


def test_client_never_outlives_its_ca(key_pool):
    short_ca = create_ca("CN=Short CA", key=key_pool(KeyType.EC_P256, 1), days=30, now=FIXED)
    leaf = short_ca.issue_client("CN=c", key=key_pool(KeyType.EC_P256), days=365, now=FIXED)
    assert leaf.cert.not_valid_after_utc == short_ca.cert.not_valid_after_utc


def test_expired_ca_cannot_issue(key_pool):
    old = create_ca("CN=Old CA", key=key_pool(KeyType.EC_P256, 1), days=1, now=FIXED)
    with pytest.raises(BadInputError, match="expired on 2026-11-02"):
        old.issue_client("CN=c", key=key_pool(KeyType.EC_P256), now=FIXED + dt.timedelta(days=2))


def test_p384_ca_signs_with_sha384(key_pool):
    ca = create_ca("CN=EC CA", key=key_pool(KeyType.EC_P384), now=FIXED)
    leaf = ca.issue_client("CN=c", key=key_pool(KeyType.EC_P256), now=FIXED)
    assert leaf.cert.signature_hash_algorithm.name == "sha384"
    assert isinstance(leaf.cert.public_key(), ec.EllipticCurvePublicKey)


def test_intermediate_ca(fixed_ca, key_pool):
    inter = create_ca("CN=Issuing CA,O=Acme", parent=fixed_ca, key=key_pool(KeyType.EC_P256, 2), now=FIXED)
    assert_is_ca(inter.cert, path_length=0)
    assert inter.chain == (inter.cert, fixed_ca.cert)
    leaf = inter.issue_client("CN=c", key=key_pool(KeyType.EC_P256), now=FIXED)
    assert leaf.chain == (leaf.cert, inter.cert, fixed_ca.cert)
    assert_is_client(leaf.cert, inter.cert)
    with pytest.raises(BadInputError, match="pathLenConstraint is 0"):
        create_ca("CN=Too Deep", parent=inter, key=key_pool(KeyType.EC_P256, 3), now=FIXED)


def test_load_ca_checks(fixed_ca, key_pool):
    assert load_ca(fixed_ca.cert, fixed_ca.key, now=FIXED).chain == (fixed_ca.cert,)
    with pytest.raises(MismatchError, match="the key does not match the certificate"):
        load_ca(fixed_ca.cert, key_pool(KeyType.EC_P256), now=FIXED)
    leaf = fixed_ca.issue_client("CN=not a ca", key=key_pool(KeyType.EC_P256), now=FIXED)
    with pytest.raises(BadInputError, match="is not a CA"):
        load_ca(leaf.cert, leaf.key, now=FIXED)
    with pytest.raises(BadInputError, match="expired on 2036"):
        load_ca(fixed_ca.cert, fixed_ca.key, now=FIXED + dt.timedelta(days=4000))
    with pytest.raises(BadInputError, match="is not valid before 2026-11-01"):
        load_ca(fixed_ca.cert, fixed_ca.key, now=FIXED - dt.timedelta(days=1))


def test_ca_files(fixed_ca):
    files = fixed_ca.files("pw123456")
    assert set(files) == {"ca.pem", "ca.key"}
    assert b"ENCRYPTED PRIVATE KEY" in files["ca.key"]
    assert b"BEGIN PRIVATE KEY" in fixed_ca.files(None)["ca.key"]
