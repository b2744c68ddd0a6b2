"""Encrypting a file of Mule secure properties: ktpy against OpenSSL and Java, side by side.

    .venv/bin/python bench/bench_secure_props.py [--values 50] [--rounds 3]

Variants, each timed as wall clock over the commands a user would run, AES-256/CBC with a random
IV per value:
  a  OpenSSL: one `openssl enc -aes-256-cbc -K .. -iv ..` per value (a shell loop)
  b  ktpy: one `ktpy secure-props encrypt --in plain.properties --out secure.properties`
  c  Java, one JVM for the whole file (tests/java/SecureProps.java, compiled once beforehand),
     as MuleSoft's Secure Properties Tool does in its file mode
  d  Java, one JVM per value, as the Secure Properties Tool's string mode is used from a script
Each round runs all of them, starting with a different one. Reported: medians and ratios.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

KEY = "bench-secure-key-of-32-character"
JAVA_SOURCE = c.REPO / "tests" / "java" / "SecureProps.java"
JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    c.require("openssl", "java", "javac")
    env = c.child_env()
    env["KTPY_BENCH_SECURE_KEY"] = KEY
    values = [f"secret-value-{i:04d}-{'x' * (i % 20)}" for i in range(args.values)]
    with tempfile.TemporaryDirectory(prefix="ktpy-bench-sp-") as tmp:
        work = Path(tmp)
        (work / "plain.properties").write_text("".join(f"prop.{i}={v}\n" for i, v in enumerate(values)))
        classes = work / "classes"
        c.run(["javac", "-d", str(classes), str(JAVA_SOURCE)], cwd=work, env=env)
        b64_key = KEY.encode()
        cases = work / "cases.tsv"
        cases.write_text("".join(f"E\tAES\tCBC\ttrue\t{KEY}\t{base64.b64encode(v.encode()).decode()}\n"
                                 for v in values))
        for i, v in enumerate(values):
            (work / f"case{i}.tsv").write_text(f"E\tAES\tCBC\ttrue\t{KEY}\t{base64.b64encode(v.encode()).decode()}\n")
        ivs = [os.urandom(16).hex() for _ in values]

        def steps(variant: str) -> list[list[str]]:
            if variant == "a":
                return [["openssl", "enc", "-aes-256-cbc", "-K", b64_key.hex(), "-iv", iv, "-base64", "-A",
                         "-in", str(work / f"v{i}.txt"), "-out", str(work / f"v{i}.enc")]
                        for i, iv in enumerate(ivs)]
            if variant == "b":
                return [[c.ktpy(), "secure-props", "encrypt", "--key", "env:KTPY_BENCH_SECURE_KEY", "--force",
                         "--in", str(work / "plain.properties"), "--out", str(work / "secure.properties")]]
            if variant == "c":
                return [["java", *JVM, "-cp", str(classes), "SecureProps", str(cases)]]
            return [["java", *JVM, "-cp", str(classes), "SecureProps", str(work / f"case{i}.tsv")]
                    for i in range(len(values))]

        for i, v in enumerate(values):
            (work / f"v{i}.txt").write_text(v)
        names = ["a", "b", "c", "d"]
        for name in names:  # untimed warm-up, and proof that each variant runs
            c.time_steps(steps(name), cwd=work, env=env)
        check = subprocess.run(["java", *JVM, "-cp", str(classes), "SecureProps", str(cases)], capture_output=True,
                               text=True, check=True)
        assert len(check.stdout.splitlines()) == len(values)
        times: dict[str, list[float]] = {n: [] for n in names}
        for order in c.rotations(names, args.rounds):
            for name in order:
                times[name].append(c.time_steps(steps(name), cwd=work, env=env))
    labels = {"a": f"OpenSSL, one enc per value ({args.values})", "b": "ktpy secure-props encrypt --in",
              "c": "Java, one JVM for the file", "d": f"Java, one JVM per value ({args.values})"}
    print(f"{args.values} values, AES-256/CBC, random IVs; {args.rounds} rounds")
    for name in names:
        print(f"  ({name}) {labels[name]:<40} median {c.fmt_s(c.median(times[name]))}")
    for top, bottom in (("b", "a"), ("b", "c"), ("b", "d")):
        print(f"  {top}/{bottom}: {c.median(c.ratios(times[top], times[bottom])):.2f}")
    print("  " + "; ".join(c.machine()))


if __name__ == "__main__":
    main()
