"""Running ktpy as another user than root: a system user made for the tests, and
setpriv to drop to it. The tests run as root here and in CI; elsewhere they are skipped, except
under KTPY_REQUIRE_INTEROP=1, where not being able to is a failure."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from helpers import missing

REPO = Path(__file__).resolve().parent.parent
OTHER_USER = "ktpy-mule"  # no home, no shell


def require_root_and_user() -> tuple[int, int]:
    """(uid, gid) of OTHER_USER, made when missing. Needs root: without it the test is skipped,
    except under KTPY_REQUIRE_INTEROP=1 (CI runs as root), where that is a failure."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        missing("editing another user's store needs root and setpriv (util-linux)")
    try:
        entry = pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                        OTHER_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(OTHER_USER)
    return entry.pw_uid, entry.pw_gid


def as_user(uid: int, gid: int, *args: str | Path, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess:
    """ktpy run by another user: setpriv drops to uid/gid. The interpreter must be one that user
    may run (a pyenv under /root is not): this one if so, else the system's python3 of the same
    version, finding ktpy and its dependencies through PYTHONPATH."""
    drop = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    path = os.pathsep.join(dict.fromkeys([str(REPO), sysconfig.get_paths()["purelib"],
                                          sysconfig.get_paths()["platlib"]]))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": path, "LC_ALL": "C.UTF-8", **(env or {})}
    python = sys.executable
    probe = subprocess.run([*drop, python, "-c", "import keytool_py.cli"], env=env, capture_output=True, check=False)
    if probe.returncode != 0:
        python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    return subprocess.run([str(a) for a in [*drop, python, "-m", "keytool_py", *args]], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
