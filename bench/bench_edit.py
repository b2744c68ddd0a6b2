"""Edits in place, ktpy against keytool, side by side (issue 12).

For each store type, one store made by keytool (a key entry and a trusted entry) is copied fresh
for every variant and round; then the same three edits run as a user runs them:
    keytool -delete, -changealias, -storepasswd (+ -keypasswd for JKS/JCEKS, whose key keeps the
    store password only that way)
    ktpy delete, rename, passwd (which keeps the key password equal to the store password itself)
Reported: each variant's median wall time for the three edits and the median per-round ratio.

    .venv/bin/python bench/bench_edit.py --rounds 5
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import STORE_PW_VAR, STOREPASS, child_env, fmt_s, ktpy, machine, median, ratios, require, rotations, run
from _common import time_steps as timed

NEW_PW_VAR = "KTPY_BENCH_NEW_PW"
TYPES = {"jks": "JKS", "pkcs12": "PKCS12", "jceks": "JCEKS"}


def make_store(folder: Path, store_type: str, env) -> Path:
    path = folder / f"base.{store_type}"
    kt = ["keytool", "-keystore", str(path), "-storetype", TYPES[store_type], "-storepass:env", STORE_PW_VAR]
    run([*kt, "-genkeypair", "-alias", "client", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=client",
         "-keypass:env", STORE_PW_VAR], cwd=folder, env=env)
    run([*kt, "-exportcert", "-alias", "client", "-file", str(folder / "c.der")], cwd=folder, env=env)
    run([*kt, "-importcert", "-noprompt", "-alias", "partner", "-file", str(folder / "c.der")], cwd=folder, env=env)
    return path


def keytool_steps(path: Path, store_type: str) -> list[list[str]]:
    kt = ["keytool", "-keystore", str(path), "-storetype", TYPES[store_type]]
    steps = [[*kt, "-storepass:env", STORE_PW_VAR, "-delete", "-alias", "partner"],
             [*kt, "-storepass:env", STORE_PW_VAR, "-changealias", "-alias", "client", "-destalias", "mule-client"],
             [*kt, "-storepass:env", STORE_PW_VAR, "-storepasswd", "-new:env", NEW_PW_VAR]]
    if store_type != "pkcs12":
        steps.append([*kt, "-storepass:env", NEW_PW_VAR, "-keypasswd", "-alias", "mule-client",
                      "-keypass:env", STORE_PW_VAR, "-new:env", NEW_PW_VAR])
    return steps


def ktpy_steps(path: Path) -> list[list[str]]:
    k = ktpy()
    return [[k, "delete", str(path), "--alias", "partner", "--storepass", f"env:{STORE_PW_VAR}"],
            [k, "rename", str(path), "--alias", "client", "--to", "mule-client", "--storepass", f"env:{STORE_PW_VAR}"],
            [k, "passwd", str(path), "--storepass", f"env:{STORE_PW_VAR}", "--new-storepass", f"env:{NEW_PW_VAR}"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    require("keytool")
    env = child_env()
    env[NEW_PW_VAR] = STOREPASS + "-new"
    print("\n".join(machine()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for store_type in TYPES:
            base = make_store(folder, store_type, env)
            times: dict[str, list[float]] = {"keytool": [], "ktpy": []}
            for order in rotations(list(times), args.rounds):
                for name in order:
                    path = folder / f"{name}.{store_type}"
                    shutil.copyfile(base, path)
                    steps = keytool_steps(path, store_type) if name == "keytool" else ktpy_steps(path)
                    times[name].append(timed(steps, cwd=folder, env=env))
            ratio = median(ratios(times["keytool"], times["ktpy"]))
            print(f"{store_type:7} keytool {fmt_s(median(times['keytool']))}  ktpy {fmt_s(median(times['ktpy']))}"
                  f"  keytool/ktpy {ratio:.2f}x  ({args.rounds} rounds)")


if __name__ == "__main__":
    main()
