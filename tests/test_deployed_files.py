"""An edited store keeps what its deployment gave it: a symlink stays a link and its
target changes; owner, group and mode stay (root editing the Mule user's store, and that user
editing it); --backup appears only once the new file is in place; a password-less truststore
stays password-less. Judges: the kernel (lstat, stat), keytool listing the store, and keytool
listing a password-less store without any password.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import ktpy as run_ktpy
from interop import describe, run_keytool, run_keytool_list
from other_user import OTHER_USER, as_user, require_root_and_user

from keytool_py import KeyType, build_keystore, create_ca, files
from keytool_py.certs import to_pem

PW = "store-password-1"
REPO = Path(__file__).resolve().parent.parent


def ktpy(*args, code=0):
    return run_ktpy(*args, env={"SP": PW}, code=code)


@pytest.fixture(scope="module")
def material(tmp_path_factory, key_pool, now):
    root = tmp_path_factory.mktemp("deployed")
    ca = create_ca("CN=Deployed Root", key=key_pool(KeyType.EC_P256, 80), now=now)
    leaf = ca.issue_client("CN=mule-client", key=key_pool(KeyType.EC_P256, 81), now=now)
    extra = [create_ca(f"CN=Partner {n}", key=key_pool(KeyType.EC_P256, 82 + n), now=now).cert for n in range(3)]
    pems = []
    for n, cert in enumerate(extra):
        pems.append(root / f"partner-{n}.pem")
        pems[-1].write_bytes(to_pem([cert]))
    (root / "ca.pem").write_bytes(to_pem([ca.cert]))
    store = build_keystore("jks", leaf.key, leaf.chain, alias="mule-client", storepass=PW)
    return store, pems, root / "ca.pem"


def aliases(path: Path, store_type: str = "jks") -> list[str]:
    return sorted(re.findall(r"^Alias name: (\S+)$", run_keytool_list(path, store_type, PW), re.M))


def test_an_edit_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path, material):
    data, pems, _ = material
    (tmp_path / "secrets").mkdir()
    (tmp_path / "app").mkdir()
    target = tmp_path / "secrets/keystore.jks"
    target.write_bytes(data)
    os.chmod(target, 0o600)
    link = tmp_path / "app/keystore.jks"
    link.symlink_to("../secrets/keystore.jks")
    result = ktpy("import", link, "--trusted", pems[0], "--alias", "partner", "--storepass", "env:SP", "--backup")
    assert link.is_symlink() and os.readlink(link) == "../secrets/keystore.jks"
    assert aliases(target) == ["mule-client", "partner"]  # keytool reads the target...
    assert aliases(link) == ["mule-client", "partner"]  # ...and through the link
    assert (tmp_path / "secrets/keystore.jks.bak").read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "secrets").iterdir()) == ["keystore.jks", "keystore.jks.bak"]
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["keystore.jks"]
    assert f"{link} (through the link to {target}) (JKS, 2 entries, mode 0600)" in result.stderr


def test_root_and_the_owner_edit_the_mule_users_store_and_it_stays_theirs(material):
    uid, gid = require_root_and_user()
    data, pems, _ = material
    folder = Path(tempfile.mkdtemp(prefix="ktpy-owner-", dir="/tmp"))  # pytest's tmp is root's alone
    try:
        os.chmod(folder, 0o755)
        os.chown(folder, uid, gid)
        store = folder / "keystore.jks"
        store.write_bytes(data)
        os.chown(store, uid, gid)
        os.chmod(store, 0o640)
        ktpy("import", store, "--trusted", pems[0], "--alias", "by-root", "--storepass", "env:SP")  # as root
        info = store.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (uid, gid, 0o640)
        partner = folder / "partner.pem"
        shutil.copyfile(pems[1], partner)
        os.chmod(partner, 0o644)
        proc = as_user(uid, gid, "import", store, "--trusted", partner, "--alias", "by-mule", "--storepass",
                       "env:SP", "--backup", env={"SP": PW})
        assert proc.returncode == 0, describe(proc)
        info = store.stat()
        assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (uid, gid, 0o640)
        bak = folder / "keystore.jks.bak"
        assert (bak.stat().st_uid, bak.stat().st_mode & 0o777) == (uid, 0o600)
        assert aliases(store) == ["by-mule", "by-root", "mule-client"]
        assert sorted(p.name for p in folder.iterdir()) == ["keystore.jks", "keystore.jks.bak",
                                                             "partner.pem"]  # no lock file, no temp left
        assert pwd.getpwuid(info.st_uid).pw_name == OTHER_USER and grp.getgrgid(info.st_gid).gr_name == OTHER_USER
    finally:
        shutil.rmtree(folder)


def test_a_failed_replace_leaves_an_older_backup_alone(tmp_path, material, monkeypatch):
    data, pems, _ = material
    store = tmp_path / "keystore.jks"
    store.write_bytes(data)
    bak = tmp_path / "keystore.jks.bak"
    bak.write_bytes(b"yesterday's backup")
    real_replace = os.replace

    def fail_on_the_store(src, dst):
        if Path(dst) == store:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", fail_on_the_store)
    result = ktpy("import", store, "--trusted", pems[0], "--storepass", "env:SP", "--backup", code=1)
    assert result.stderr == f"Error: cannot write {store}: No space left on device; the file is unchanged\n"
    assert bak.read_bytes() == b"yesterday's backup" and store.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keystore.jks", "keystore.jks.bak"]


def _keytool(*args: str | Path) -> subprocess.CompletedProcess:
    return run_keytool(*args)


def test_a_passwordless_keytool_truststore_stays_passwordless(tmp_path, material):
    _, pems, ca_pem = material
    store = tmp_path / "truststore.p12"
    made = _keytool("-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE", "-J-Dkeystore.pkcs12.macAlgorithm=NONE",
                    "-importcert", "-noprompt", "-storetype", "PKCS12", "-keystore", store, "-storepass", "changeit",
                    "-alias", "root", "-file", ca_pem)
    assert made.returncode == 0, describe(made)
    ktpy("import", store, "--trusted", pems[0], "--alias", "partner", "--storepass", "pass:changeit")
    ktpy("delete", store, "--alias", "root", "--storepass", "pass:changeit")
    # any password opens it
    ktpy("import", store, "--trusted", pems[1], "--trusted", pems[2], "--storepass", "pass:anything")
    listed = _keytool("-list", "-storetype", "PKCS12", "-keystore", store)  # no -storepass; stdin closed
    assert listed.returncode == 0, describe(listed)
    assert "Your keystore contains 3 entries" in listed.stdout, describe(listed)
    found = sorted(re.findall(r"^(\S+), .*, trustedCertEntry, *$", listed.stdout, re.M))
    assert len(found) == 3 and "partner" in found and "root" not in found, describe(listed)
    info = subprocess.run(["openssl", "pkcs12", "-in", store, "-info", "-noout", "-passin", "pass:"],
                          capture_output=True, text=True, check=False)
    assert "MAC:" not in info.stdout + info.stderr and "Encrypted data" not in info.stdout + info.stderr
