"""DSA certificates whose key takes its parameters from the issuer (RFC 3279 2.3.2). Java reads
them (the differential test in test_java_view.py compares fingerprints with Java's view of
fixtures/dsa-inherited.p12 and of every conversion of it); here, what ktpy does with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from keytool_py import certs, keystore
from keytool_py.errors import BadInputError
from keytool_py.keys import same_public_key
from keytool_py.keystore.certificate import InheritedDsaCertificate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ID_DSA_WITHOUT_PARAMETERS = bytes.fromhex("300906072a8648ce380401")  # AlgorithmIdentifier { id-dsa }


@pytest.fixture(scope="module")
def store():
    return keystore.load((FIXTURES / "dsa-inherited.p12").read_bytes(), "changeit")


def test_read_with_the_issuers_parameters_and_kept_byte_for_byte(store):
    entry = store.entry("dsa-inherited")
    leaf, ca = entry.chain
    assert isinstance(leaf, InheritedDsaCertificate)
    assert ID_DSA_WITHOUT_PARAMETERS in certs.to_der(leaf)  # the original bytes, parameters still absent
    assert leaf.public_key().parameters().parameter_numbers() == ca.public_key().parameters().parameter_numbers()
    assert same_public_key(entry.key.public_key(), leaf.public_key())
    assert certs.issued_by(leaf, ca)


def test_rewritten_as_read_and_read_again(store):
    for target in ("jks", "jceks", "pkcs12"):
        data = keystore.build_store(target, store.entries, storepass="changeit")
        again = keystore.load(data, "changeit").entry("dsa-inherited")
        assert [certs.to_der(c) for c in again.chain] == [certs.to_der(c) for c in store.entry("dsa-inherited").chain]
        assert same_public_key(again.key.public_key(), again.chain[0].public_key())


def test_without_its_issuer_the_key_is_refused_in_one_sentence(store):
    leaf = store.entry("dsa-inherited").chain[0]
    alone = keystore.Entry(alias="alone", chain=(leaf,), kind=keystore.EntryKind.TRUSTED_CERT)
    data = keystore.build_store("jks", [alone], storepass="changeit")
    read = keystore.load(data, "changeit").entry("alone").chain[0]
    assert certs.fingerprint(read) == certs.fingerprint(leaf)
    with pytest.raises(BadInputError, match="^the certificate O=Fixtures,CN=dsa-inherited takes its DSA parameters "
                                            "from its issuer's key, and the keystore holds no DSA issuer for it$"):
        read.public_key()
