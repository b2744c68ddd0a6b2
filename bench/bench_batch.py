"""Batch issuance: 200 client certificates with a JKS keystore each.

    .venv/bin/python bench/bench_batch.py [--count 200] [--rounds 5] [--loop-rounds 2]

Variants, all from the same CA (RSA 3072, key encrypted, made once by ktpy create-ca) and the
same subjects (CN=client-NNN,O=Acme, an email SAN each), timed as wall clock:
  ktpy    ktpy issue-client --batch clients.csv --types jks (one process, a worker per core)
  loop    a shell loop of OpenSSL + keytool per client: genpkey (RSA 2048), req -new, x509 -req
          (CA-signed, clientAuth), pkcs12 -export, keytool -importkeystore to JKS; 5 commands,
          one client after another
  floor2  bench/floor.py batch --workers 2: a 2-process pool doing only the crypto per client
          (RSA 2048 key, CA signature, JKS encoding), nothing written
  floor1  the same in one process: the sequential floor, for reference

The loop takes minutes per round, so it runs in the first --loop-rounds rounds only (2 by
default); the others run every round. Orders rotate from round to round. Reported: medians and
the medians of per-round ratios (ktpy/floor2, loop/ktpy, ...).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

VARIANTS = {
    "ktpy": "ktpy issue-client --batch (2 workers)",
    "loop": "OpenSSL + keytool shell loop (5 commands per client)",
    "floor2": "floor, 2-process pool (crypto only)",
    "floor1": "floor, 1 process (crypto only)",
}

# $ENV:: takes the SAN from the environment of each openssl x509 call: one file for every client.
CLIENT_EXT = """\
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = email:$ENV::KTPY_BENCH_EMAIL
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def client_name(n: int) -> str:
    return f"client-{n:03d}"


def write_csv(path: Path, count: int) -> None:
    lines = ["subject,name,sans,alias"]
    for n in range(1, count + 1):
        name = client_name(n)
        lines.append(f'"CN={name},O=Acme",{name},email:{name}@example.com,{name}')
    path.write_text("\n".join(lines) + "\n")


def run_ktpy(root: Path, work: Path, env: dict[str, str]) -> float:
    return c.time_steps([[c.ktpy(), "issue-client", "--ca", str(root / "ca"), "--ca-password", f"env:{c.CA_PW_VAR}",
                          "--batch", str(root / "clients.csv"), "--types", "jks",
                          "--storepass", f"env:{c.STORE_PW_VAR}", "--out-dir", "out"]], cwd=work, env=env)


def run_floor(root: Path, work: Path, env: dict[str, str], count: int, workers: int, out: bool = False) -> float:
    return c.time_steps([[c.python(), str(c.BENCH_DIR / "floor.py"), "batch", "--ca", str(root / "ca"),
                          "--count", str(count), "--workers", str(workers), *(["--out", "out"] if out else [])]],
                        cwd=work, env=env)


def run_loop(root: Path, work: Path, env: dict[str, str], count: int) -> float:
    """One client after another, as `for n in ...; do openssl ...; keytool ...; done` runs."""
    ca_pw, store_pw = f"env:{c.CA_PW_VAR}", f"env:{c.STORE_PW_VAR}"
    (work / "client.ext").write_text(CLIENT_EXT)
    ca_pem, ca_key = str(root / "ca" / "ca.pem"), str(root / "ca" / "ca.key")
    start = time.perf_counter()
    for n in range(1, count + 1):
        name = client_name(n)
        client_env = {**env, "KTPY_BENCH_EMAIL": f"{name}@example.com"}
        for argv in (
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{c.CLIENT_BITS}",
             "-out", f"{name}.key"],
            ["openssl", "req", "-new", "-key", f"{name}.key", "-subj", f"/O=Acme/CN={name}", "-out", f"{name}.csr"],
            ["openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", ca_pem, "-CAkey", ca_key, "-passin", ca_pw,
             "-CAcreateserial", "-CAserial", "ca.srl", "-days", "365", "-sha256",
             "-extfile", "client.ext", "-extensions", "client", "-out", f"{name}.pem"],
            ["openssl", "pkcs12", "-export", "-inkey", f"{name}.key", "-in", f"{name}.pem", "-certfile", ca_pem,
             "-name", name, "-iter", str(c.PKCS12_ITERATIONS), "-passout", store_pw, "-out", f"{name}.p12"],
            ["keytool", "-importkeystore", "-noprompt", "-srckeystore", f"{name}.p12", "-srcstoretype", "PKCS12",
             "-srcstorepass:env", c.STORE_PW_VAR, "-destkeystore", f"{name}.jks", "-deststoretype", "JKS",
             "-deststorepass:env", c.STORE_PW_VAR],
        ):
            c.run(argv, cwd=work, env=client_env)
    return time.perf_counter() - start


def check_jks(folder: Path, names: list[str]) -> None:
    """Each named JKS opens, with its key, in keytool_py, and keytool lists it."""
    from keytool_py import load_keystore

    for name in names:
        path = folder / f"{name}.jks"
        entry = load_keystore(path.read_bytes(), c.STOREPASS).entry(name)
        assert entry.key is not None and len(entry.chain) == 2, path
        listed = subprocess.run(["keytool", "-list", "-keystore", str(path), "-storepass", c.STOREPASS],
                                capture_output=True, text=True)
        assert "PrivateKeyEntry" in listed.stdout, (path, listed.stdout + listed.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loop-rounds", type=int, default=2)
    parser.add_argument("--variants", default="ktpy,loop,floor2,floor1")
    args = parser.parse_args()
    c.require("openssl", "keytool")
    env = c.child_env()
    names = [v for v in VARIANTS if v in args.variants.split(",")]

    with tempfile.TemporaryDirectory(prefix="ktpy-bench-batch-") as tmp:
        root = Path(tmp)
        c.run([c.ktpy(), "create-ca", "--dir", "ca", "--subject", c.CA_SUBJECT, "--password", f"env:{c.CA_PW_VAR}"],
              cwd=root, env=env)
        write_csv(root / "clients.csv", args.count)
        # Warm-up and check (not timed): a few clients per variant, their keystores opened.
        warm = root / "warm"
        for v in names:
            work = warm / v
            work.mkdir(parents=True)
            if v == "ktpy":
                write_csv(work / "few.csv", 3)
                c.run([c.ktpy(), "issue-client", "--ca", str(root / "ca"), "--ca-password", f"env:{c.CA_PW_VAR}",
                       "--batch", "few.csv", "--types", "jks", "--storepass", f"env:{c.STORE_PW_VAR}",
                       "--out-dir", "out"], cwd=work, env=env)
                check_jks(work / "out", [client_name(n) for n in (1, 2, 3)])
            elif v == "loop":
                run_loop(root, work, env, 1)
                check_jks(work, [client_name(1)])
            else:
                run_floor(root, work, env, 3, int(v[-1]), out=True)
                check_jks(work / "out", [client_name(n) for n in (1, 2, 3)])
        print(f"warm-up done, keystores checked; {args.count} clients, {args.rounds} rounds "
              f"(the loop in {min(args.loop_rounds, args.rounds)})", file=sys.stderr)

        info = c.machine()  # the load average as the timed rounds start
        times: dict[str, list[float | None]] = {v: [] for v in names}
        for r in range(args.rounds):
            present = [v for v in names if v != "loop" or r < args.loop_rounds]
            order = c.rotations(present, r + 1)[r]
            line = []
            for v in order:
                work = Path(tempfile.mkdtemp(prefix=f"{v}-", dir=root))
                if v == "ktpy":
                    t = run_ktpy(root, work, env)
                    produced = len(list((work / "out").glob("*.jks")))
                    assert produced == args.count, f"ktpy wrote {produced} keystores, not {args.count}"
                elif v == "loop":
                    t = run_loop(root, work, env, args.count)
                else:
                    t = run_floor(root, work, env, args.count, int(v[-1]))
                shutil.rmtree(work, ignore_errors=True)
                times[v].append(t)
                line.append(f"{v} {t:.2f}")
            for v in names:
                if v not in present:
                    times[v].append(None)
            print(f"round {r + 1}: " + ", ".join(line), file=sys.stderr)

    print("\n".join(info))
    print()
    loop_note = (f" (the OpenSSL + keytool loop in the first {min(args.loop_rounds, args.rounds)} only)"
                 if "loop" in names else "")
    print(f"{args.count} clients with a JKS each; {args.rounds} rounds, rotating order{loop_note}; "
          "wall time (seconds)\n")
    print("| variant | median | min | max | per client (median) | runs |")
    print("|---|---|---|---|---|---|")
    for v in names:
        ts = [t for t in times[v] if t is not None]
        print(f"| {v}: {VARIANTS[v]} | {c.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} | "
              f"{c.median(ts) / args.count * 1000:.1f} ms | " + " ".join(f"{t:.2f}" for t in ts) + " |")
    print()
    print("| ratio (median of the per-round ratios) | value | per round |")
    print("|---|---|---|")
    for top, bottom in (("loop", "ktpy"), ("ktpy", "floor2"), ("ktpy", "floor1"), ("floor1", "floor2")):
        if top in times and bottom in times:
            pairs = [(a, b) for a, b in zip(times[top], times[bottom], strict=True) if a is not None and b is not None]
            rs = [a / b for a, b in pairs]
            if rs:
                print(f"| {top}/{bottom} | {c.median(rs):.2f} | " + " ".join(f"{x:.2f}" for x in rs) + " |")


if __name__ == "__main__":
    main()
