"""Expiry watch: `ktpy expiry` over 1,000 keystores against the shell loop of `keytool -list -v`.

    .venv/bin/python bench/bench_expiry.py [--count 1000] [--rounds 5] [--loop-files 30]

The tree: COUNT keystores in two folders (team-a/, team-b/), a third each JKS, JCEKS and
PKCS12, each holding one client (RSA 2048, from a pool of 8 keys) and its CA (RSA 3072) under
the alias mule-client; the PKCS12 files of each folder have their own password, given to ktpy
by a password map (`team-a/*.p12 env:...`). Written by ktpy's library, as Java 17 writes them
(PKCS12 with PBES2/AES-256 at 10000 iterations; JCEKS keys at 200000).

Variants, timed as wall clock, side by side in each round (orders rotate):
  ktpy    ktpy expiry ROOT --passwords MAP (every core; output to /dev/null)
  loop    the usual shell loop: for each file, keytool -list -v -keystore F -storetype T
          -storepass P (one JVM per file). It takes about half a second per file, so it runs on
          the first --loop-files files (a third of each type) and the time is scaled to COUNT,
          as the report says
  floor2  only the parsing, on a 2-process pool: this script's `floor` mode reads each file and
          takes the certificates out (JKS/JCEKS by their layout, PKCS12 with the fastest parser
          at hand, ktpy's p12codec: about 15 ms a file here against 110 ms for cryptography's
          load_pkcs12, whose PKCS12 key derivation is slow) and their notAfter; no sorting,
          no output, no command line
The ratios asked for: loop/ktpy >= 30, ktpy/floor2 <= 1.5.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PW_A, PW_B = "bench-team-a-1", "bench-team-b-1"
VAR_A, VAR_B = "KTPY_BENCH_PW_A", "KTPY_BENCH_PW_B"
KINDS = (("jks", ".jks", "JKS"), ("jceks", ".jceks", "JCEKS"), ("pkcs12", ".p12", "PKCS12"))


def make_tree(root: Path, count: int) -> list[tuple[Path, str, str]]:
    """COUNT keystores; returns (path, keytool type, password) for each, interleaved by type."""
    from keytool_py import KeyType, create_ca, generate_key, keystore
    from keytool_py.keystore import Entry, jceks

    now = dt.datetime.now(dt.timezone.utc)
    ca = create_ca("CN=Bench Expiry Root,O=Acme", key_type=KeyType.RSA3072, now=now)
    keys = [generate_key(KeyType.RSA2048) for _ in range(8)]
    # One JCEKS key derivation per password (200000 MD5 rounds each): the salt is shared, which
    # changes nothing for reading certificates, and saves an hour of setup.
    protection = {pw: jceks.prepare(pw) for pw in (PW_A, PW_B)}
    out = []
    for n in range(count):
        team, password = ("team-a", PW_A) if n % 2 == 0 else ("team-b", PW_B)
        kind, suffix, keytool_type = KINDS[n % 3]
        days = 30 + (n * 7) % 700  # spread over two years, a few inside the 30-day window
        leaf = ca.issue_client(f"CN=client-{n:04d},O=Acme", key=keys[n % len(keys)], days=days, now=now)
        path = root / team / f"client-{n:04d}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "jceks":
            entry = Entry(alias="mule-client", chain=leaf.chain, key=leaf.key, timestamp=now)
            data = jceks.build([entry], password, password, protection=protection[password])
        else:
            data = keystore.build(kind, leaf.key, leaf.chain, alias="mule-client", storepass=password, now=now)
        path.write_bytes(data)
        out.append((path, keytool_type, password))
    (root.parent / "passwords.txt").write_text(f"team-a/*.p12 env:{VAR_A}\nteam-b/*.p12 env:{VAR_B}\n")
    return out


# --- the floor: parsing only ---

def _java_certs(data: bytes) -> list[bytes]:
    _, version, count = struct.unpack_from(">IIi", data, 0)
    pos, out = 12, []

    def utf(pos):
        (n,) = struct.unpack_from(">H", data, pos)
        return pos + 2 + n

    def blob(pos):
        (n,) = struct.unpack_from(">i", data, pos)
        return data[pos + 4:pos + 4 + n], pos + 4 + n

    for _ in range(count):
        (tag,) = struct.unpack_from(">I", data, pos)
        pos = utf(pos + 4) + 8
        if tag == 1:
            _, pos = blob(pos)
            (n,) = struct.unpack_from(">i", data, pos)
            pos += 4
            for _ in range(n):
                pos = utf(pos) if version == 2 else pos
                der, pos = blob(pos)
                out.append(der)
        else:
            pos = utf(pos) if version == 2 else pos
            der, pos = blob(pos)
            out.append(der)
    return out


def _floor_file(job):
    from cryptography import x509

    from keytool_py.keystore import p12codec

    path, password = job
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:4] in (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce"):
        found = [x509.load_der_x509_certificate(der) for der in _java_certs(data)]
    else:
        found = [x509.load_der_x509_certificate(b.der) for b in p12codec.parse(data, password) if b.kind == "cert"]
    return [cert.not_valid_after_utc for cert in found]


def floor_main(root: str, workers: int) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    passwords = {"team-a": os.environ[VAR_A], "team-b": os.environ[VAR_B]}
    jobs = []
    for folder, _, names in os.walk(root):
        jobs += [(os.path.join(folder, n), passwords[os.path.basename(folder)]) for n in names]
    size = max(1, len(jobs) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        total = sum(len(r) for r in pool.map(_floor_file, jobs, chunksize=size))
    print(total)


# --- the benchmark ---

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loop-files", type=int, default=30, help="files the keytool loop runs on per round")
    parser.add_argument("--loop-rounds", type=int, default=2)
    args = parser.parse_args()
    c.require("keytool")
    env = c.child_env() | {VAR_A: PW_A, VAR_B: PW_B}
    work = Path(tempfile.mkdtemp(prefix="ktpy-bench-expiry-"))
    try:
        start = time.perf_counter()
        tree = make_tree(work / "stores", args.count)
        print(f"made {len(tree)} keystores in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        sample = tree[:args.loop_files]
        ktpy_cmd = [c.ktpy(), "expiry", str(work / "stores"), "--passwords", str(work / "passwords.txt")]
        floor_cmd = [c.python(), str(Path(__file__).resolve()), "floor", str(work / "stores"), "--workers", "2"]
        times: dict[str, list[float]] = {"ktpy": [], "loop": [], "floor2": []}
        machine = c.machine()  # the load average as the rounds start

        def timed(argv, ok=(0, 3)) -> float:
            t0 = time.perf_counter()
            done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            elapsed = time.perf_counter() - t0
            if done.returncode not in ok:
                sys.exit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stderr.decode()}")
            return elapsed

        for number, order in enumerate(c.rotations(list(times), args.rounds)):
            for name in order:
                if name == "ktpy":
                    times[name].append(timed(ktpy_cmd))
                elif name == "floor2":
                    times[name].append(timed(floor_cmd, ok=(0,)))
                elif number < args.loop_rounds:
                    spent = sum(timed(["keytool", "-list", "-v", "-keystore", str(p), "-storetype", t,
                                       "-storepass", pw], ok=(0,)) for p, t, pw in sample)
                    times[name].append(spent * args.count / len(sample))
            print(f"round {number + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v),
                  file=sys.stderr)
        med = {k: c.median(v) for k, v in times.items()}
        print(f"\n## Expiry watch (`bench_expiry.py --count {args.count} --rounds {args.rounds} "
              f"--loop-files {args.loop_files}`)\n")
        print("\n".join(machine))
        print("\n| variant | median (s) | per file |\n|---|---|---|")
        labels = {"ktpy": "`ktpy expiry` (every core)",
                  "loop": f"keytool -list -v loop (run on {len(sample)} files, scaled to {args.count})",
                  "floor2": "floor: parsing only, 2-process pool"}
        for k, v in med.items():
            print(f"| {labels[k]} | {v:.2f} | {v / args.count * 1000:.2f} ms |")
        print(f"\nloop/ktpy = **{med['loop'] / med['ktpy']:.0f}x** (target >= 30); "
              f"ktpy/floor2 = **{c.median(c.ratios(times['ktpy'], times['floor2'])):.2f}** (target <= 1.5)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "floor":
        floor_main(sys.argv[2], int(sys.argv[4]) if len(sys.argv) > 4 else 2)
    else:
        main()
