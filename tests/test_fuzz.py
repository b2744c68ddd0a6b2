"""Mutated keystores, PEM and DER: loading either succeeds or raises a KtpyError, never another
exception and never a hang. Each unmutated seed must load through every reader first (a reader
that refused everything would pass the mutants), and the summary line counts accepted and
refused mutants. Bounded for `make test`; `make fuzz` runs it much longer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from fuzz_support import COUNTS, EXAMPLES, OUTCOMES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keytool_py import KeyType, KtpyError, load_keystore
from keytool_py.certs import load_certificates, to_der, to_pem
from keytool_py.csr import create_csr, load_csr
from keytool_py.describe import describe_data
from keytool_py.expiry import read_certificates
from keytool_py.keys import load_private_key, private_key_to_pem
from keytool_py.keystore import Entry, build_store, jceks, trusted_entries
from keytool_py.names import parse_subject

PW = "fuzz-password"


@pytest.fixture(scope="module")
def seeds(clients, ca, now):
    leaf = clients[KeyType.EC_P256]
    entry = Entry(alias="k", chain=leaf.chain, key=leaf.key, timestamp=now)
    mixed = [entry, *trusted_entries([ca.cert], now=now)]
    return {
        "jks": build_store("jks", mixed, storepass=PW, now=now),
        # few rounds, so that a mutated store decrypts in microseconds
        "jceks": jceks.build(mixed, PW, PW, iterations=3),
        "pkcs12": build_store("pkcs12", [entry], storepass=PW, now=now),
        "pkcs12-java8": build_store("pkcs12", [entry], storepass=PW, compat="java8", now=now),
        "pkcs12-mixed": build_store("pkcs12", mixed, storepass=PW, now=now),
        "pem-chain": to_pem(leaf.chain),
        "der-cert": to_der(leaf.cert),
        "pem-key": private_key_to_pem(leaf.key),
        "pem-key-encrypted": private_key_to_pem(leaf.key, PW),
        "der-key": leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()),
        "csr": create_csr("CN=fuzz", leaf.key).public_bytes(serialization.Encoding.PEM),
    }


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite", "zero-length"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[pos:pos + len(chunk)] = chunk
        elif op == "zero-length" and len(data) > pos + 4:
            data[pos] = 0x00  # a zeroed length or tag byte
    return bytes(data)


def _readers(name: str, data: bytes) -> dict[str, Callable[[], object]]:
    """Every reader a user's input of this kind can reach, by name."""
    readers: dict[str, Callable[[], object]] = {
        "describe": lambda: describe_data(data, source="fuzz", storepass=lambda: PW)}
    if name.startswith(("jks", "jceks", "pkcs12")):
        readers["load_keystore"] = lambda: load_keystore(data, PW)
    elif "key" in name:
        readers["load_private_key"] = lambda: load_private_key(data, PW if "encrypted" in name else None)
    elif name == "csr":
        readers["load_csr"] = lambda: load_csr(data)
    else:
        readers["load_certificates"] = lambda: load_certificates(data)
    if "key" not in name and name != "csr":  # ktpy expiry's reader: certificates and keystores
        readers["expiry"] = lambda: read_certificates(data, PW)
    return readers


def _load_all(name: str, data: bytes) -> None:
    """Each reader must load the input or refuse it with a KtpyError (counted), nothing else."""
    for load in _readers(name, data).values():
        try:
            load()
        except KtpyError:
            OUTCOMES["refused"] += 1
        else:
            OUTCOMES["accepted"] += 1


SEED_NAMES = ["jks", "jceks", "pkcs12", "pkcs12-java8", "pkcs12-mixed", "pem-chain", "der-cert", "pem-key",
              "pem-key-encrypted", "der-key", "csr"]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_mutated_inputs_raise_only_ktpy_errors(seeds, name):
    for reader, load in _readers(name, seeds[name]).items():  # the seed itself loads, through every reader
        assert load(), f"{reader} returned nothing for the unmutated {name}"

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 500,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=mutated(seeds[name]))
    def check(data):
        COUNTS[name] += 1
        _load_all(name, data)

    check()


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.text(max_size=80))
def test_subject_parsing_never_crashes(text):
    COUNTS["subject"] += 1
    try:
        parse_subject(text)
    except KtpyError:
        OUTCOMES["refused"] += 1
    else:
        OUTCOMES["accepted"] += 1


def test_bad_version_found_by_the_long_run(seeds):
    """`make fuzz` found certificates and CSRs whose version field was mutated (InvalidVersion, not a
    ValueError): they are bad input."""
    cert = bytearray(seeds["der-cert"])
    cert[cert.index(b"\xa0\x03\x02\x01\x02") + 4] = 0x0A  # version v3 (2) -> 10
    with pytest.raises(KtpyError, match="is neither a PEM nor a DER certificate"):
        load_certificates(bytes(cert), what="x")
    request = bytearray(create_csr("CN=v", load_private_key(seeds["pem-key"])).public_bytes(serialization.Encoding.DER))
    request[request.index(b"\x02\x01\x00")+2] = 0x20  # version 0 -> 32
    with pytest.raises(KtpyError, match="is not a PEM or DER certificate signing request"):
        load_csr(bytes(request))
