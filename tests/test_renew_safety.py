"""renew is all or nothing across a kill, and will not certify a compromised key again.

A real SIGKILL while `renew --force` replaces a kit's files one by one (each placement slowed
down so the kill lands between two of them): the folder is then half old, half new. The next
renew into the folder undoes the interrupted one before anything else (its journal names every
new file and its hash), so a run that then stops (no --force) leaves the old kit byte for byte,
and a run with --force makes a whole new one. Judges: OpenSSL (the key matches the certificate)
and keytool (the keystore holds that certificate).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ktpy as run_ktpy
from interop import describe, run_keytool, run_openssl

PW = "store-password-1"
ENV = {"KTPY_STORE_PW": PW}
# ktpy with every file placement slowed down: a kill then lands between two placements.
SLOW_PLACE = """
import sys, time
import keytool_py.files as files
original = files._place
def slow(*args, **kwargs):
    result = original(*args, **kwargs)
    time.sleep(0.5)
    return result
files._place = slow
from keytool_py.cli import main
sys.argv[0] = "ktpy"
main()
"""


def ktpy(*args, code=0):
    return run_ktpy(*args, env=ENV, code=code)


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def kit(tmp_path):
    folder = tmp_path / "kit"
    ktpy("kit", "--out-dir", folder, "--subject", "CN=renewed,O=Acme", "--key-type", "ec-p256", "--types",
         "jks,pkcs12", "--storepass", "env:KTPY_STORE_PW")
    return folder


def _pubkey_of_cert(path: Path) -> str:
    proc = run_openssl("x509", "-in", path, "-noout", "-pubkey")
    assert proc.returncode == 0, describe(proc)
    return proc.stdout


def _pubkey_of_key(path: Path) -> str:
    proc = run_openssl("pkey", "-in", path, "-pubout")
    assert proc.returncode == 0, describe(proc)
    return proc.stdout


def test_a_renewal_killed_half_way_is_undone_by_the_next_one(kit):
    before = contents(kit)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_PLACE, "renew", str(kit), "--out-dir", str(kit), "--force",
                             "--storepass", "env:KTPY_STORE_PW"], env={**os.environ, **ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (kit / "client.key").read_bytes() == before["client.key"]:  # the first new file is in place
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    half = contents(kit)
    assert half["client.key"] != before["client.key"] and half["keystore.p12"] == before["keystore.p12"]
    assert any(name.startswith(".") for name in half)  # the journal and the old files kept aside
    # the next renew undoes it first: without --force it then stops, and the old kit is back whole
    stopped = ktpy("renew", kit, "--out-dir", kit, "--storepass", "env:KTPY_STORE_PW", code=1)
    assert stopped.stderr.startswith(f"Recovered from an interrupted renewal in {kit}: ")
    assert contents(kit) == before
    # with --force, a whole new kit
    ktpy("renew", kit, "--out-dir", kit, "--force", "--storepass", "env:KTPY_STORE_PW")
    after = contents(kit)
    assert sorted(after) == sorted(before) and after["client.key"] != before["client.key"]
    assert _pubkey_of_key(kit / "client.key") == _pubkey_of_cert(kit / "client.pem")
    listed = run_keytool("-exportcert", "-rfc", "-alias", "mule-client", "-keystore", kit / "keystore.jks",
                         "-storepass", PW)
    assert listed.returncode == 0, describe(listed)
    (kit.parent / "from-store.pem").write_text(listed.stdout)
    assert _pubkey_of_cert(kit.parent / "from-store.pem") == _pubkey_of_cert(kit / "client.pem")
    assert not [p for p in os.listdir(kit) if p.startswith(".")]  # no journal, temp or kept-aside file left


def test_reuse_key_refuses_a_key_revoked_for_key_compromise(kit):
    from keytool_py.certs import load_certificates

    serial = format(load_certificates((kit / "client.pem").read_bytes())[0].serial_number, "X")
    ca_pw = f"file:{kit / 'ca/ca-password.txt'}"
    ktpy("revoke", "--ca", kit / "ca", "--serial", serial, "--reason", "key-compromise", "--ca-password", ca_pw)
    refused = ktpy("renew", kit, "--out-dir", kit.parent / "new", "--reuse-key", "--storepass",
                   "env:KTPY_STORE_PW", code=1)
    assert refused.stderr.startswith(f"Error: the key of CN=renewed,O=Acme (serial {serial}) was revoked for key "
                                     "compromise on ")
    assert refused.stderr.endswith(f" UTC ({kit / 'ca/issued.jsonl'}); renew it without --reuse-key, which makes "
                                   "a new key\n")
    assert not (kit.parent / "new").exists()
    ktpy("renew", kit, "--out-dir", kit.parent / "new", "--storepass", "env:KTPY_STORE_PW")  # a new key: fine
