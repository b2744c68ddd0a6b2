"""Several ktpy processes at once on one keystore and one CA folder: real processes,
never threads, each slowed down between reading and writing so that they overlap for sure.
The judges: keytool lists the store, `openssl crl` reads the CRL numbers, the ledger file itself.

To see these tests fail, make files.locked a no-op (contextlib.nullcontext): the imports then
fail with "changed since ktpy read it", three revocations are recorded, and CRL numbers repeat.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from interop import describe, run_keytool_list, run_openssl

from keytool_py import KeyType, build_keystore, create_ca, files, ledger
from keytool_py.certs import to_pem

PW = "store-password-1"
ENV_PW = {"STOREPASS": PW}
# A process that pauses after the named read (module attribute), then runs ktpy's CLI: the
# pause keeps every racer's read-decide-write window open at the same time.
SLOW_AFTER = """
import sys, time
import keytool_py.{module} as target
original = target.{name}
def slow(*args, **kwargs):
    result = original(*args, **kwargs)
    time.sleep({pause})
    return result
target.{name} = slow
from keytool_py.cli import main
sys.argv[0] = "ktpy"
main()
"""


def racers(commands: list[list[str]], *, module: str, name: str, pause: float = 0.4,
           env: dict[str, str] | None = None) -> list[subprocess.CompletedProcess]:
    """Start every command at once, each as its own Python process, and wait for all of them."""
    code = SLOW_AFTER.format(module=module, name=name, pause=pause)
    procs = [subprocess.Popen([sys.executable, "-c", code, *map(str, cmd)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **(env or {})}) for cmd in commands]
    done = []
    for cmd, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess([*map(str, cmd)], proc.returncode, out, err))
    return done


@pytest.fixture(scope="module")
def certs_to_import(tmp_path_factory, key_pool, now):
    root = tmp_path_factory.mktemp("racecerts")
    ca = create_ca("CN=Race Root", key=key_pool(KeyType.EC_P256, 60), now=now)
    paths = []
    for n in range(4):
        leaf = ca.issue_client(f"CN=race-{n}", key=key_pool(KeyType.EC_P256, 61 + n), now=now)
        path = root / f"race-{n}.pem"
        path.write_bytes(to_pem([leaf.cert]))
        paths.append(path)
    return ca, paths


@pytest.mark.parametrize("store_type", ["jks", "pkcs12"])
def test_racing_imports_with_wait_all_succeed_and_every_entry_stays(tmp_path, certs_to_import, store_type):
    ca, paths = certs_to_import
    store = tmp_path / f"trust.{store_type}"
    store.write_bytes(build_keystore(store_type, ca.key, [ca.cert], alias="root", storepass=PW))
    commands = [["import", store, "--trusted", path, "--alias", f"a{n}", "--storepass", "env:STOREPASS",
                 "--wait", "60"] for n, path in enumerate(paths)]
    results = racers(commands, module="files", name="read_for_edit", env=ENV_PW)
    for proc in results:
        assert proc.returncode == 0, describe(proc)
    listing = run_keytool_list(store, store_type, PW)
    assert sorted(re.findall(r"^Alias name: (\S+)$", listing, re.M)) == ["a0", "a1", "a2", "a3", "root"]


def test_racing_edits_without_wait_lose_no_reported_success(tmp_path, certs_to_import):
    ca, paths = certs_to_import
    store = tmp_path / "trust.jks"
    store.write_bytes(build_keystore("jks", ca.key, [ca.cert], alias="root", storepass=PW))
    commands = [["import", store, "--trusted", path, "--alias", f"a{n}", "--storepass", "env:STOREPASS"]
                for n, path in enumerate(paths)]
    results = racers(commands, module="files", name="read_for_edit", pause=1.0, env=ENV_PW)
    succeeded = {f"a{n}" for n, proc in enumerate(results) if proc.returncode == 0}
    refused = [proc for proc in results if proc.returncode != 0]
    assert succeeded and refused, [describe(p) for p in results]  # they did overlap
    for proc in refused:
        assert proc.returncode == 1 and proc.stderr == (
            f"Error: {store} is locked by another ktpy; try again when it is done, or pass --wait SECONDS\n"), \
            describe(proc)
    listing = run_keytool_list(store, "jks", PW)
    assert set(re.findall(r"^Alias name: (\S+)$", listing, re.M)) == succeeded | {"root"}


@pytest.fixture
def ca_folder(tmp_path, key_pool, now):
    """A CA folder (no key password) with one issued certificate in its ledger; (folder, serial)."""
    ca = create_ca("CN=Race Ledger Root", key=key_pool(KeyType.EC_P256, 70), now=now)
    folder = tmp_path / "ca"
    files.write_all([files.Output(folder / name, data, secret=name.endswith(".key"))
                     for name, data in ca.files(password=None).items()])
    leaf = ca.issue_client("CN=revoked-once", key=key_pool(KeyType.EC_P256, 71), now=now)
    files.append_record(folder / ledger.LEDGER_FILE, ledger.issued_record(leaf.cert, by="test", now=now))
    return folder, ledger.serial_hex(leaf.cert.serial_number)


def test_racing_revocations_record_one_line_and_all_succeed(ca_folder):
    folder, serial = ca_folder
    commands = [["revoke", "--ca", folder, "--serial", serial, "--reason", "key-compromise", "--wait", "60"]
                for _ in range(3)]
    results = racers(commands, module="ledger", name="parse")
    for proc in results:
        assert proc.returncode == 0, describe(proc)
    said = sorted(proc.stderr.split(" ")[0] for proc in results)
    assert said == [serial, serial, "Revoked"]  # twice "SERIAL (...) was already revoked on ..."
    records = [line for line in (folder / ledger.LEDGER_FILE).read_bytes().splitlines() if b'"revoked"' in line]
    assert len(records) == 1


def test_racing_crls_get_distinct_increasing_numbers(ca_folder, tmp_path):
    folder, _ = ca_folder
    commands = [["crl", "--ca", folder, "-o", tmp_path / f"crl{n}.pem", "--pem", "--wait", "60"] for n in range(3)]
    results = racers(commands, module="ledger", name="parse")
    for proc in results:
        assert proc.returncode == 0, describe(proc)
    numbers = []
    for n in range(3):
        text = run_openssl("crl", "-in", tmp_path / f"crl{n}.pem", "-noout", "-text")
        assert text.returncode == 0, describe(text)
        numbers.append(int(re.search(r"X509v3 CRL Number: \n\s+(\d+)", text.stdout).group(1)))
    assert sorted(numbers) == [1, 2, 3]
    assert ledger.parse((folder / ledger.LEDGER_FILE).read_bytes()).crl_number == 3


def test_lock_waits_then_gives_up_with_one_sentence(tmp_path):
    import time

    from keytool_py.errors import KtpyError

    target = tmp_path / "store.jks"
    target.write_bytes(b"x")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from keytool_py import files\n"
        f"with files.locked({str(target)!r}):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with pytest.raises(KtpyError, match=r"^.*store\.jks is locked by another ktpy after waiting 0\.5 s; "):
            with files.locked(target, wait=0.5):
                pass
        assert 0.4 < time.monotonic() - started < 5
        with pytest.raises(KtpyError, match=r"is locked by another ktpy; try again when it is done, or pass "
                                            r"--wait SECONDS$"):
            with files.locked(target):
                pass
    finally:
        holder.kill()
        holder.wait()
    with files.locked(target), files.locked(target):  # free again; nested in one process: no self-deadlock
        assert (tmp_path / ".store.jks.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.jks"]  # the lock file goes with the lock


def test_a_file_system_without_flock_is_refused_unless_told(tmp_path, monkeypatch):
    """Some FUSE and SMB mounts answer flock with ENOLCK: the edit stops with a sentence naming the
    way out; KTPY_NO_LOCK=1 edits without the lock (the changed-since-read check still runs)."""
    import errno
    import fcntl

    from keytool_py.errors import KtpyError

    def no_flock(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    target = tmp_path / "store.jks"
    target.write_bytes(b"x")
    monkeypatch.setattr(fcntl, "flock", no_flock)
    with pytest.raises(KtpyError, match=r"^cannot lock .*store\.jks: the file system does not support flock "
                                        r"\(No locks available\); set KTPY_NO_LOCK=1 to edit without a lock when "
                                        r"no other ktpy runs$"):
        with files.locked(target):
            pass
    monkeypatch.setenv("KTPY_NO_LOCK", "1")
    with files.locked(target):
        ran = True
    assert ran and sorted(p.name for p in tmp_path.iterdir()) == ["store.jks"]
