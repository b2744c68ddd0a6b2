"""What the benchmark scripts share: the inputs every variant gets, running and timing commands,
medians, and a description of the machine.

Every variant gets the same subjects, passwords and key sizes. Passwords reach every tool the
same way, through environment variables (ktpy env:VAR, openssl -pass env:VAR, keytool
-storepass:env VAR), so none of them is on a command line.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent

CA_SUBJECT = "CN=Bench Root CA,O=Acme"  # ktpy's order (most specific first)
CA_SUBJECT_OPENSSL = "/O=Acme/CN=Bench Root CA"  # the same name in OpenSSL's order
CLIENT_SUBJECT = "CN=mule-client,O=Acme"
CLIENT_SUBJECT_OPENSSL = "/O=Acme/CN=mule-client"
ALIAS = "mule-client"
CA_PASSWORD = "bench-ca-pass-1"
STOREPASS = "bench-store-pass-1"
CA_PW_VAR = "KTPY_BENCH_CA_PW"
STORE_PW_VAR = "KTPY_BENCH_STORE_PW"

# The sizes ktpy uses (keytool_py.ca.CA_KEY_TYPE / CLIENT_KEY_TYPE).
CA_BITS = 3072
CLIENT_BITS = 2048
# Java 17's JCEKS iteration count, which keytool_py.keystore.jceks.ITERATIONS also uses.
JCEKS_ITERATIONS = 200_000
# Java 17's PKCS12 encryption iteration count, which keytool_py.keystore.pkcs12 uses.
PKCS12_ITERATIONS = 10_000


def python() -> str:
    """The interpreter the benchmark runs under: the project's venv one under `make bench`."""
    return sys.executable


def ktpy() -> str:
    """The installed `ktpy` console script next to this interpreter, as a user runs it."""
    path = Path(sys.executable).parent / "ktpy"
    if not path.exists():
        sys.exit(f"{path} is missing: install the project first (make test, or pip install -e .)")
    return str(path)


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing on PATH: {', '.join(missing)}")


def child_env() -> dict[str, str]:
    """The environment every timed command runs in: the passwords, and bytecode caching on.

    PYTHONDONTWRITEBYTECODE is dropped so ktpy's modules are compiled once and then read from
    __pycache__, as in a pip install (which compiles them at install time). Left set, a source
    tree without __pycache__ recompiles every module on every run.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env[CA_PW_VAR] = CA_PASSWORD
    env[STORE_PW_VAR] = STOREPASS
    return env


def run(argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> None:
    """Run one command; stop the benchmark with its output if it fails."""
    done = subprocess.run(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace"))
        sys.exit(f"command failed ({done.returncode}): {' '.join(argv)}")


def time_steps(steps: Sequence[Sequence[str]], *, cwd: Path, env: dict[str, str]) -> float:
    """Wall time of running the commands one after another, as a shell script would."""
    start = time.perf_counter()
    for argv in steps:
        run(argv, cwd=cwd, env=env)
    return time.perf_counter() - start


def rotations(names: Sequence[str], rounds: int) -> list[list[str]]:
    """Round r runs the variants starting at the r-th: every variant takes every position."""
    n = len(names)
    return [[names[(r + i) % n] for i in range(n)] for r in range(rounds)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratios(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True)]


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def machine() -> list[str]:
    """nproc, CPU model, RAM, load and the versions of Python, cryptography, Java and OpenSSL."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass

    def first_line(argv: Sequence[str]) -> str:
        try:
            done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return "not found"
        return ((done.stdout or "") + (done.stderr or "")).strip().splitlines()[0]

    import cryptography

    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- nproc: {os.cpu_count()}; CPU: {cpu}; RAM: {ram}; load average as the rounds start: {load}",
        f"- {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python {platform.python_version()}, cryptography {cryptography.__version__}",
        f"- Java: {first_line(['java', '-version'])}",
        f"- OpenSSL: {first_line(['openssl', 'version'])}",
    ]
