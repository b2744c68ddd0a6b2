"""Shared fixtures: one CA and a client per key type, built once per session with a fixed clock
(helpers.NOW, the `now` fixture). Shared code lives in helpers.py and interop.py: test modules
import from those, never from this file or from one another."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import LEAF_KEY_TYPES, NOW, require_tool, required
from interop import MtlsServer, compile_java_client, make_server_identity

from keytool_py import KeyType, create_ca, generate_key
from keytool_py.certs import to_pem


@pytest.fixture(scope="session")
def now():
    return NOW


@pytest.fixture(scope="session")
def key_pool():
    """Keys generated once and reused: RSA generation dominates the suite's time otherwise."""
    cache: dict[tuple[KeyType, int], object] = {}

    def get(key_type: KeyType, n: int = 0):
        if (key_type, n) not in cache:
            cache[(key_type, n)] = generate_key(key_type)
        return cache[(key_type, n)]

    return get


@pytest.fixture(scope="session")
def ca(key_pool):
    """A root CA with an RSA 3072 key, as `ktpy create-ca` makes by default."""
    return create_ca("CN=ktpy Test Root CA,O=Acme,C=US", key=key_pool(KeyType.RSA3072), now=NOW)


@pytest.fixture(scope="session")
def other_ca(key_pool):
    """A second, unrelated root: certificates it issues must be refused by servers trusting `ca`."""
    return create_ca("CN=Some Other Root CA,O=Elsewhere", key=key_pool(KeyType.EC_P256, 9), now=NOW)


@pytest.fixture(scope="session")
def clients(ca, key_pool):
    """One client certificate per leaf key type, issued by `ca`."""
    return {
        kt: ca.issue_client(f"CN=mule-client-{kt.value},O=Acme", key=key_pool(kt),
                            sans=["email:integration@example.com"], now=NOW)
        for kt in LEAF_KEY_TYPES
    }


@pytest.fixture(scope="session")
def client(clients):
    return clients[KeyType.RSA2048]


# --- PKCS#11: SoftHSM2 tokens for the whole session (tests/softhsm.py) ---

@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    """Three SoftHSM tokens in a temporary folder, SOFTHSM2_CONF set for the session."""
    import softhsm as softhsm_mod

    util = require_tool("softhsm2-util")
    before = os.environ.get("SOFTHSM2_CONF")
    yield softhsm_mod.start(util, tmp_path_factory.mktemp("softhsm"))
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


# --- interop fixtures: the Java client and the loopback mTLS server ---

@pytest.fixture(scope="session")
def java_classes(tmp_path_factory) -> Path:
    """MtlsClient compiled once per session."""
    require_tool("javac")
    require_tool("java")
    return compile_java_client(tmp_path_factory.mktemp("javac"))


@pytest.fixture(scope="module")
def server_pki(key_pool, now):
    """The server's own CA and certificate, both EC keys (cheap), unrelated to the client CA."""
    return make_server_identity(key_pool(KeyType.EC_P256, 20), key_pool(KeyType.EC_P256, 21), now)


@pytest.fixture(scope="module")
def server_root_pem(server_pki, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("trust") / "server-root.pem"
    path.write_bytes(to_pem([server_pki[0].cert]))
    return path


@pytest.fixture(scope="module")
def mtls_server(server_pki, ca, tmp_path_factory):
    """One loopback server for the whole module; it trusts only the client CA's root."""
    with MtlsServer(server=server_pki[1], client_root=ca.root,
                    workdir=tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With KTPY_REQUIRE_INTEROP=1 (CI) a skip is a failure, whatever raised it (a skipif mark,
    importorskip, pytest.skip): every test there must run its judge."""
    report = yield
    if report.skipped and required() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped where nothing may be skipped (KTPY_REQUIRE_INTEROP=1): {reason}"
    return report


def pytest_terminal_summary(terminalreporter):
    from fuzz_support import COUNTS, OUTCOMES

    skipped = len(terminalreporter.stats.get("skipped", []))
    terminalreporter.write_line(f"skipped: {skipped}" + (" (CI allows none)" if skipped else ""))
    if COUNTS:
        parts = ", ".join(f"{name} {count}" for name, count in sorted(COUNTS.items()))
        accepted, refused = OUTCOMES["accepted"], OUTCOMES["refused"]
        terminalreporter.write_line(f"fuzz: {sum(COUNTS.values())} mutated inputs tried ({parts}); "
                                    f"readers accepted {accepted}, refused {refused}")
