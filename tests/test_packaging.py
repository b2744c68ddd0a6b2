"""The wheel stands alone. `python -m build` makes an sdist and a wheel (once per
session); the wheel goes into a fresh venv in a temporary folder, outside the source tree, where
`ktpy --version`, `ktpy kit` and the README's library snippet run, and where a consumer script
type-checks with `mypy --strict` against the installed package (PEP 561: py.typed).

Dependencies install with pip's own configuration (the indexes and find-links this machine
has, as `make` uses them), through the test venv's pip, so the new venv needs no pip of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import keytool_py

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT = 300  # an isolated build installs setuptools first; pip resolves the dependencies


def _run(cmd, *, cwd, env=None, timeout=BUILD_TIMEOUT, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH, no virtualenv of the test run: what a user's shell would have."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MYPYPATH")}
    return {**env, **extra}


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel, built once for the session from the source tree into a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, REPO], cwd=out)
    return out


@pytest.fixture(scope="session")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh venv (no pip, no site packages) outside the source tree, with the wheel installed."""
    venv = tmp_path_factory.mktemp("consumer") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    wheel = next(dist.glob("*.whl"))
    _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet",
          "--disable-pip-version-check", wheel], cwd=venv.parent)
    return venv


def test_public_names_are_listed_and_documented():
    """__all__ is what the API reference (make docs) shows: each name resolves and has a docstring."""
    assert keytool_py.__all__ == sorted(keytool_py._EXPORTS)

    def own_doc(obj: object) -> str | None:  # a class's own docstring, not one it inherits
        return vars(obj).get("__doc__") if isinstance(obj, type) else obj.__doc__

    assert [name for name in keytool_py.__all__ if not own_doc(getattr(keytool_py, name))] == []


def test_build_makes_an_sdist_and_a_wheel_holding_what_runs(dist):
    names = sorted(p.name for p in dist.iterdir())
    version = keytool_py.__version__
    assert names == [f"keytool_py-{version}-py3-none-any.whl", f"keytool_py-{version}.tar.gz"]
    with zipfile.ZipFile(dist / f"keytool_py-{version}-py3-none-any.whl") as wheel:
        files = set(wheel.namelist())
    package = {f for f in files if not f.startswith(f"keytool_py-{version}.dist-info/")}
    # every module of the source package, py.typed, and nothing else (no tests, fixtures, docs)
    source = {p.relative_to(REPO).as_posix() for p in (REPO / "keytool_py").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert "keytool_py/py.typed" in source
    assert package == source
    assert f"keytool_py-{version}.dist-info/entry_points.txt" in files


def test_wheel_runs_ktpy_outside_the_source_tree(installed):
    work = installed.parent
    version = _run([installed / "bin" / "ktpy", "--version"], cwd=work, env=_clean_env())
    assert version.stdout == f"ktpy, version {keytool_py.__version__}\n"
    kit = _run([installed / "bin" / "ktpy", "kit", "--out-dir", "kit", "--subject", "CN=wheel-client,O=Acme",
                "--types", "jks,pkcs12", "--storepass", "generate:kit/storepass.txt"],
               cwd=work, env=_clean_env())
    assert kit.stderr.startswith("Wrote the kit to kit/ for CN=wheel-client,O=Acme, valid until ")
    made = sorted(p.relative_to(work / "kit").as_posix() for p in (work / "kit").rglob("*") if p.is_file())
    assert {"salesforce-upload.pem", "keystore.jks", "keystore.p12", "storepass.txt", "README.txt"} <= set(made)
    # the package came from the venv, not from the source tree
    where = _run([installed / "bin" / "python", "-c", "import keytool_py; print(keytool_py.__file__)"],
                 cwd=work, env=_clean_env())
    assert where.stdout.strip().startswith(str(installed))


def test_readme_library_snippet_runs_against_the_wheel(installed):
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", readme.split("## Use it as a library", 1)[1], re.DOTALL).group(1)
    script = installed.parent / "snippet.py"
    script.write_text(snippet + "\nimport keytool_py\nprint(keytool_py.__file__)\nprint(len(jks))\n")
    proc = _run([installed / "bin" / "python", script], cwd=installed.parent, env=_clean_env())
    where, size = proc.stdout.splitlines()
    assert where.startswith(str(installed)) and int(size) > 1000


def test_readme_library_snippet_type_checks_strictly_against_the_wheel(installed):
    """The README's snippet, exactly as written (no assertion added), passes mypy --strict: the
    typed API needs none (issue_client returns a LeafCert whose key is not Optional)."""
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", readme.split("## Use it as a library", 1)[1], re.DOTALL).group(1)
    folder = installed.parent / "snippet_src"
    folder.mkdir(exist_ok=True)
    script = folder / "readme_snippet.py"
    script.write_text(snippet)
    checked = _mypy(installed, script)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("Success: no issues found in 1 source file")


CONSUMER = '''\
"""A tool of someone else's, using keytool_py as a typed library."""
from cryptography import x509

from keytool_py import CA, KeyType, Keystore, LeafCert, StoreType, build_keystore, create_ca, load_keystore


def issue_store(subject: str, storepass: str) -> tuple[bytes, tuple[x509.Certificate, ...]]:
    ca: CA = create_ca("CN=Consumer Root,O=Acme", key_type=KeyType.EC_P256)
    client: LeafCert = ca.issue_client(subject, key_type="ec-p256")
    assert client.key is not None
    data: bytes = build_keystore(StoreType.PKCS12, client.key, client.chain, alias="consumer",
                                 storepass=storepass)
    return data, client.chain


data, chain = issue_store("CN=consumer,O=Acme", "changeit")
store: Keystore = load_keystore(data, "changeit")
assert store.entries[0].chain == chain
print(store.type.value, store.entries[0].alias, len(chain))
'''

MISTAKES = '''\
from keytool_py import create_ca, load_keystore

ca = create_ca(42)
store = load_keystore("not bytes", "changeit")
name: int = ca.cert
'''


def _mypy(installed: Path, script: Path) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable",
                 installed / "bin" / "python", script], cwd=script.parent, env=_clean_env(), check=False)


def test_consumer_script_type_checks_strictly_against_the_wheel(installed):
    folder = installed.parent / "consumer_src"
    folder.mkdir(exist_ok=True)
    good = folder / "consumer.py"
    good.write_text(CONSUMER)
    checked = _mypy(installed, good)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("Success: no issues found in 1 source file")
    ran = _run([installed / "bin" / "python", good], cwd=folder, env=_clean_env())
    assert ran.stdout == "pkcs12 consumer 2\n"
    # the same check finds mistakes: the names are typed, not Any
    bad = folder / "mistakes.py"
    bad.write_text(MISTAKES)
    wrong = _mypy(installed, bad)
    assert wrong.returncode == 1
    assert 'mistakes.py:3: error: Argument 1 to "create_ca" has incompatible type "int"' in wrong.stdout
    assert 'mistakes.py:4: error: Argument 1 to "load" has incompatible type "str"; expected "bytes"' in wrong.stdout
    assert "mistakes.py:5: error: Incompatible types in assignment" in wrong.stdout
