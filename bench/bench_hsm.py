"""A CA key in a PKCS#11 token (SoftHSM2) against the same CA key type in ca.key, side by side.

    .venv/bin/python bench/bench_hsm.py [--count 200] [--rounds 5] [--signatures 2000]

Two CAs, both RSA 3072 made by ktpy create-ca: `file` (ca.key, encrypted) and `hsm` (the key made
in a SoftHSM2 token, ca.pkcs11). Timed as wall clock, rounds alternating which goes first:
  batch   ktpy issue-client --batch of --count clients with a JKS each (a worker per core, each
          worker opening its own session on the token)
  sign    --signatures CA signatures (SHA-256, PKCS#1 v1.5) in one process through the CA's
          key object: the signing cost alone, with no client key generation around it
Reported: medians and the median of the per-round ratios hsm/file. SoftHSM2 is a software
token: a network HSM adds its round trip per signature (a few ms), which `sign` shows the
weight of.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PIN = "bench-pin-1234"
PIN_VAR = "KTPY_BENCH_PIN"
MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")

SIGN_SCRIPT = """
import sys, time
from pathlib import Path
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from keytool_py.cli._common import load_ca_dir
import click
ctx = click.Context(click.Command("bench"))
ctx.meta["ktpy.pin"] = "env:KTPY_BENCH_PIN"
with ctx:
    ca = load_ca_dir(sys.argv[1], "env:KTPY_BENCH_CA_PW", "--ca-password")
n = int(sys.argv[2])
data = b"x" * 1200  # about a client certificate's TBS
start = time.perf_counter()
for _ in range(n):
    ca.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
print(time.perf_counter() - start)
"""


def write_csv(path: Path, count: int) -> None:
    lines = ["subject,name"] + [f'"CN=client-{n:03d},O=Acme",client-{n:03d}' for n in range(1, count + 1)]
    path.write_text("\n".join(lines) + "\n")


def batch(root: Path, kind: str, env: dict[str, str]) -> float:
    work = root / f"work-{kind}"
    if work.exists():
        subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir()
    secret = ["--pin", f"env:{PIN_VAR}"] if kind == "hsm" else ["--ca-password", f"env:{c.CA_PW_VAR}"]
    took = c.time_steps([[c.ktpy(), "issue-client", "--ca", str(root / f"ca-{kind}"), *secret, "--batch",
                          str(root / "clients.csv"), "--types", "jks", "--storepass", f"env:{c.STORE_PW_VAR}",
                          "--out-dir", "out"]], cwd=work, env=env)
    made = len(list((work / "out").glob("*.jks")))
    assert made == int(env["KTPY_BENCH_COUNT"]), f"{kind}: {made} keystores"
    return took


def sign(root: Path, kind: str, env: dict[str, str], count: int) -> float:
    done = subprocess.run([c.python(), "-c", SIGN_SCRIPT, str(root / f"ca-{kind}"), str(count)], env=env,
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--signatures", type=int, default=2000)
    args = parser.parse_args()
    c.require("softhsm2-util", "openssl")
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if module is None:
        sys.exit("libsofthsm2.so not found: apt-get install softhsm2")
    with tempfile.TemporaryDirectory(prefix="ktpy-bench-hsm-") as tmp:
        root = Path(tmp)
        (root / "tokens").mkdir()
        (root / "softhsm2.conf").write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\n"
                                            "log.level = ERROR\n")
        env = c.child_env()
        env.update({"SOFTHSM2_CONF": str(root / "softhsm2.conf"), PIN_VAR: PIN, "KTPY_BENCH_COUNT": str(args.count)})
        c.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PIN, "--so-pin", PIN],
              cwd=root, env=env)
        c.run([c.ktpy(), "create-ca", "--dir", "ca-file", "--subject", c.CA_SUBJECT, "--password",
               f"env:{c.CA_PW_VAR}"], cwd=root, env=env)
        c.run([c.ktpy(), "create-ca", "--dir", "ca-hsm", "--subject", c.CA_SUBJECT, "--pkcs11",
               "pkcs11:token=bench;object=ca", "--pkcs11-module", module, "--pin", f"env:{PIN_VAR}"], cwd=root, env=env)
        write_csv(root / "clients.csv", args.count)
        info = c.machine()
        times: dict[str, list[float]] = {f"{w}-{k}": [] for w in ("batch", "sign") for k in ("file", "hsm")}
        for r in range(args.rounds):
            for kind in c.rotations(["file", "hsm"], r + 1)[r]:
                times[f"batch-{kind}"].append(batch(root, kind, env))
                times[f"sign-{kind}"].append(sign(root, kind, env, args.signatures))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), file=sys.stderr)
    print("\n".join(info))
    print(f"\n{args.count} clients (RSA 2048 + JKS each) from an RSA 3072 CA; {args.signatures} CA signatures; "
          f"{args.rounds} rounds; cores {os.cpu_count()}\n")
    print("| what | file CA (ca.key) | HSM CA (SoftHSM2) | hsm/file (median of rounds) |")
    print("| --- | --- | --- | --- |")
    for what, unit in (("batch", args.count), ("sign", args.signatures)):
        f, h = times[f"{what}-file"], times[f"{what}-hsm"]
        label = f"issue-client --batch, {args.count} clients" if what == "batch" else f"{args.signatures} signatures"
        print(f"| {label} | {c.median(f):.2f} s ({c.median(f) / unit * 1000:.2f} ms each) | "
              f"{c.median(h):.2f} s ({c.median(h) / unit * 1000:.2f} ms each) | "
              f"{c.median(c.ratios(h, f)):.2f} |")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(bench took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
