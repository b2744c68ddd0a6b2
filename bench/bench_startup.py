"""Startup: `ktpy --help` and `ktpy --version` against `python -c pass` (same interpreter).

    .venv/bin/python bench/bench_startup.py [--runs 30]

The three commands run in turn (pass, --help, --version, pass, ...), --runs times each, output
discarded. Reported: each median, and each ktpy median minus the python -c pass median (the
target: within 80 ms). Bytecode caching is on, as in a pip install (see _common.child_env).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

TARGET_MS = 80


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env = c.child_env()
    commands = {
        "python -c pass": [c.python(), "-c", "pass"],
        "ktpy --help": [c.ktpy(), "--help"],
        "ktpy --version": [c.ktpy(), "--version"],
    }
    for argv in commands.values():  # warm-up: bytecode written, files cached
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
            times[name].append((time.perf_counter() - start) * 1000)

    base = c.median(times["python -c pass"])
    print(f"{args.runs} runs each, interleaved; wall time in milliseconds\n")
    print("| command | median | min | max | median - python -c pass |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        extra = "" if name == "python -c pass" else f"{c.median(ts) - base:+.1f} ms"
        verdict = "" if not extra else (" (within 80 ms)" if c.median(ts) - base <= TARGET_MS else " (OVER 80 ms)")
        print(f"| `{name}` | {c.median(ts):.1f} | {min(ts):.1f} | {max(ts):.1f} | {extra}{verdict} |")


if __name__ == "__main__":
    main()
