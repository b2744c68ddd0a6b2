"""Running ktpy as another user than root: a system user made for the tests, and
setpriv to drop to it. The tests run as root here and in CI; elsewhere they are skipped, except
under KTPY_REQUIRE_INTEROP=1, where not being able to is a failure."""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
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
    """ktpy run by another user: setpriv drops to uid/gid. The interpreter and the code must be
    ones that user may read (a pyenv under /root is not, nor a checkout under /root): see _runnable."""
    drop = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    python, path = _runnable(drop)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": path, "LC_ALL": "C.UTF-8", **(env or {})}
    return subprocess.run([str(a) for a in [*drop, python, "-m", "keytool_py", *args]], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)


_RUNNABLE: dict[str, tuple[str, str]] = {}


def _runnable(drop: list[str]) -> tuple[str, str]:
    """(interpreter, PYTHONPATH) with which the dropped user imports ktpy: this interpreter, else
    the system's python3 of the same version; with this checkout and its venv on the path, else
    (a checkout the user cannot enter, as under /root) a world-readable copy of keytool_py and the
    venv's packages, made once per session."""
    key = " ".join(drop)
    if key in _RUNNABLE:
        return _RUNNABLE[key]
    purelib, platlib = sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    in_place = os.pathsep.join(dict.fromkeys([str(REPO), purelib, platlib]))
    tried = []
    for path in (in_place, None):
        if path is None:
            path = _readable_copy(purelib, platlib)
        for python in dict.fromkeys([sys.executable, system]):
            probe = subprocess.run([*drop, python, "-c", "import keytool_py.cli"], capture_output=True, text=True,
                                   env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"}, check=False)
            if probe.returncode == 0:
                _RUNNABLE[key] = (python, path)
                return python, path
            tried.append(f"{python}: {probe.stderr.strip().splitlines()[-1:] or probe.returncode}")
    raise AssertionError("the other user cannot run ktpy: " + "; ".join(tried))


def _readable_copy(*site_dirs: str) -> str:
    """keytool_py and the site packages copied into a fresh world-readable folder (0755 dirs,
    0644/0755 files), for a user who cannot enter the checkout."""
    root = Path(tempfile.mkdtemp(prefix="ktpy-other-user-"))
    atexit.register(shutil.rmtree, root, True)
    for site in dict.fromkeys(site_dirs):
        shutil.copytree(site, root, dirs_exist_ok=True, symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", "__editable__*", "*.pth", "keytool_py*"))
    shutil.copytree(REPO / "keytool_py", root / "keytool_py", ignore=shutil.ignore_patterns("__pycache__"))
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            file = Path(folder, name)
            file.chmod(0o755 if os.access(file, os.X_OK) else 0o644)
    root.chmod(0o755)
    return str(root)
