"""`make mutants`: plant each fault of tests/mutants/catalogue.py in a copy of the tree and require
the tests it names to fail there.

The copy (keytool_py/, tests/, fixtures/ and the files beside them, in a temporary folder) comes
first on PYTHONPATH, so the mutated package is the one imported, also by the `python -m
keytool_py` and `ktpy` subprocesses the tests start; the runner checks that before the first
mutant. A mutant is killed when its tests fail (pytest exit 1); it survives when they pass; any
other outcome (it no longer applies, the mutated module does not compile, pytest could not
collect) is an error. Exit 0 only when every mutant is killed.

    python tests/mutants/run.py [--jobs N] [--list | --check] [NAME...]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalogue import MUTANTS, Mutant  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("keytool_py", "tests", "fixtures", "docs", "setup.cfg", "pyproject.toml", "README.md", "mypy.ini",
          "ruff.toml")
PER_MUTANT_TIMEOUT = 240.0


class NoLongerApplies(Exception):
    pass


def locate(root: Path, mutant: Mutant) -> tuple[Path, str]:
    """The file holding the mutant's snippet exactly once: its named path, or the one module of
    keytool_py/ holding it (code moves); NoLongerApplies otherwise."""
    named = root / mutant.path
    if named.is_file() and named.read_text(encoding="utf-8").count(mutant.old) == 1:
        return named, ""
    found = {p: p.read_text(encoding="utf-8").count(mutant.old) for p in sorted((root / "keytool_py").rglob("*.py"))}
    found = {p: n for p, n in found.items() if n}
    if len(found) == 1 and next(iter(found.values())) == 1:
        path = next(iter(found))
        return path, f" (moved: found in {path.relative_to(root)}, not {mutant.path})"
    where = ", ".join(f"{p.relative_to(root)} x{n}" for p, n in found.items()) or "nowhere in keytool_py/"
    raise NoLongerApplies(f"mutant {mutant.name} no longer applies: its snippet is {where}; "
                          f"re-target it in tests/mutants/catalogue.py\n--- snippet\n{mutant.old}")


def copy_tree(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore, symlinks=True)
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest


def environment(copy: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "JAVA_TOOL_OPTIONS")}
    env.update(PYTHONPATH=str(copy), KTPY_REQUIRE_INTEROP="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def check_the_copy_is_imported(copy: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "import keytool_py; print(keytool_py.__file__)"],
                          env=environment(copy, {}), cwd=copy, capture_output=True, text=True, check=False)
    imported = Path(proc.stdout.strip()).resolve()
    if copy.resolve() not in imported.parents:
        sys.exit(f"mutants: the tests would import keytool_py from {imported}, not from the copy {copy}")


def run_one(mutant: Mutant, copy: Path) -> tuple[str, str]:
    """('killed' | 'SURVIVED' | 'ERROR', detail) for one mutant planted in `copy` (then removed)."""
    try:
        path, moved = locate(copy, mutant)
    except NoLongerApplies as exc:
        return "ERROR", str(exc)
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as exc:
            return "ERROR", f"the mutated {path.relative_to(copy)} does not compile: {exc}"
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rf", "--no-header", "-p", "no:cacheprovider",
               "-p", "no:randomly", *mutant.tests]
        try:
            proc = subprocess.run(cmd, cwd=copy, env=environment(copy, mutant.env), capture_output=True, text=True,
                                  timeout=PER_MUTANT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return "ERROR", f"its tests ran over {PER_MUTANT_TIMEOUT:g} s"
        if proc.returncode == 1 and "skipped where nothing may be skipped" in proc.stdout:
            return "ERROR", f"a test could not run, so the fault was not judged{moved}\n{proc.stdout[-3000:]}"
        if proc.returncode == 1:
            failed = re.search(r"^FAILED (\S+)", proc.stdout, re.M)
            return "killed", (failed[1] if failed else "a test failed") + moved
        if proc.returncode == 0:
            return "SURVIVED", f"{' '.join(mutant.tests)} passed with the fault planted{moved}"
        return "ERROR", f"pytest exited {proc.returncode}{moved}\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    finally:
        path.write_text(original, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--jobs", "-j", type=int, default=int(os.environ.get("KTPY_MUTANT_JOBS", "2")))
    parser.add_argument("--list", action="store_true", help="list the mutants and the tests that must catch each")
    parser.add_argument("--check", action="store_true", help="only check that each mutant still applies")
    args = parser.parse_args()
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"no mutant named {', '.join(sorted(unknown))}")
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list:
        for m in chosen:
            print(f"{m.name}: {m.fault}\n    caught by {' '.join(m.tests)}")
        return 0
    if args.check:
        problems = []
        for m in chosen:
            try:
                path, moved = locate(ROOT, m)
                print(f"applies  {m.name}: {path.relative_to(ROOT)}{moved}")
            except NoLongerApplies as exc:
                problems.append(str(exc))
        if problems:
            print("\n".join(problems))
        return 1 if problems else 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ktpy-mutants-") as tmp:
        jobs = max(1, min(args.jobs, len(chosen)))
        copies = [copy_tree(Path(tmp) / f"tree{n}") for n in range(jobs)]
        check_the_copy_is_imported(copies[0])
        free = list(copies)
        results: dict[str, tuple[str, str, float]] = {}

        def planted(mutant: Mutant) -> None:
            copy = free.pop()
            began = time.monotonic()
            try:
                status, detail = run_one(mutant, copy)
            finally:
                free.append(copy)
            results[mutant.name] = (status, detail, time.monotonic() - began)
            print(f"{status:8} {mutant.name} ({time.monotonic() - began:.0f} s): {detail}", flush=True)

        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            list(pool.map(planted, sorted(chosen, key=lambda m: not m.slow)))
    killed = sum(1 for status, _, _ in results.values() if status == "killed")
    print(f"mutants: {killed} of {len(chosen)} killed in {time.monotonic() - start:.0f} s"
          + ("" if killed == len(chosen) else
             f"; not killed: {', '.join(n for n, r in results.items() if r[0] != 'killed')}"))
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
