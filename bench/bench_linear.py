"""Costs that must grow linearly, each timed as a user runs it, at two sizes:

    import     `ktpy import STORE.jks --trusted BUNDLE.pem`: N certificates sharing one CN into a
               JKS (aliases cn, cn-2 ... cn-N; numbering was quadratic: 10,000 took 85 s)
    ledger     `ktpy inspect CA_DIR`: a ledger of N issued records and N/10 revocations (each
               certificate's revocation was a scan: 110,000 lines took 47 s)
    chain      `ktpy export-pem BUNDLE.pem --with-chain`: a chain N certificates deep, given
               leaf last (finding the leaf compared every pair: 10,000 took 114 s)
    unrelated  `ktpy export-pem BUNDLE.pem`: N unrelated self-signed CAs (refused in one sentence)

The rule: at 10,000 each runs under 5 s, and at 100,000 within 15x of its 10,000 time. Wall and
CPU time (user + system of the ktpy process) are both printed: on a shared machine the wall time
includes waiting for a core.

    .venv/bin/python bench/bench_linear.py                 # 10,000 and 100,000
    .venv/bin/python bench/bench_linear.py --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import tempfile
import time
from pathlib import Path

from _common import STORE_PW_VAR, STOREPASS, child_env, fmt_s, ktpy, machine

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _certificates(count: int, *, chain: bool, same_cn: bool = False) -> bytes:
    """PEM of `count` certificates made quickly (one EC key signs them all): a chain, leaf last,
    or unrelated self-signed certificates (same_cn: all named CN=partner)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    out = []
    issuer = None
    for n in range(count):
        cn = "partner" if same_cn else f"bench-{n}"
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                             x509.NameAttribute(NameOID.SERIAL_NUMBER, str(n))])
        cert = (x509.CertificateBuilder().subject_name(subject)
                .issuer_name(issuer if chain and issuer is not None else subject)
                .public_key(public).serial_number(n + 1)
                .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        out.append(cert.public_bytes(serialization.Encoding.PEM))
        issuer = subject
    return b"".join(out)


def _timed(argv: list[str], *, cwd: Path, expect: int = 0) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process: user + system). On a busy machine the wall
    time waits for a core; the CPU time is the work ktpy did."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_import(folder: Path, count: int) -> tuple[float, float]:
    (folder / "bundle.pem").write_bytes(_certificates(count, chain=False, same_cn=True))
    base = _certificates(1, chain=False)
    (folder / "base.pem").write_bytes(base)
    subprocess.run([ktpy(), "build-truststore", str(folder / "base.pem"), "--type", "jks", "--storepass",
                    f"env:{STORE_PW_VAR}", "-o", str(folder / "trust.jks")], env=child_env(), check=True,
                   capture_output=True)
    return _timed([ktpy(), "import", str(folder / "trust.jks"), "--trusted", str(folder / "bundle.pem"),
                   "--storepass", f"env:{STORE_PW_VAR}"], cwd=folder)


def bench_ledger(folder: Path, count: int) -> tuple[float, float]:
    ca = folder / "ca"
    subprocess.run([ktpy(), "create-ca", "--dir", str(ca), "--subject", "CN=Bench Ledger CA", "--key-type",
                    "ec-p256", "--no-password"], env=child_env(), check=True, capture_output=True)
    at = "2026-11-30T00:00:00Z"
    with open(ca / "issued.jsonl", "w") as ledger:
        for n in range(1, count + 1):
            ledger.write(json.dumps({"v": 1, "event": "issued", "serial": format(n, "X"),
                                     "subject": f"CN=client-{n},O=Acme", "not_before": at,
                                     "not_after": "2027-11-30T00:00:00Z", "sha256": "AB:CD", "profile": "client",
                                     "by": "bench", "at": at, "renews": None}) + "\n")
        for n in range(1, count + 1, 10):
            ledger.write(json.dumps({"v": 1, "event": "revoked", "serial": format(n, "X"),
                                     "reason": "superseded", "at": at}) + "\n")
    return _timed([ktpy(), "inspect", str(ca)], cwd=folder)


def bench_chain(folder: Path, count: int) -> tuple[float, float]:
    (folder / "chain.pem").write_bytes(_certificates(count, chain=True))
    return _timed([ktpy(), "export-pem", str(folder / "chain.pem"), "--with-chain", "--with-root",
                   "--allow-expired", "-o", str(folder / "out.pem")], cwd=folder)


def bench_unrelated(folder: Path, count: int) -> tuple[float, float]:
    (folder / "cas.pem").write_bytes(_certificates(count, chain=False))
    return _timed([ktpy(), "export-pem", str(folder / "cas.pem"), "-o", str(folder / "out.pem")], cwd=folder,
                  expect=1)


BENCHES = {"import": bench_import, "ledger": bench_ledger, "chain": bench_chain, "unrelated": bench_unrelated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    args = parser.parse_args()
    assert STOREPASS  # child_env() passes it as STORE_PW_VAR
    small, large = args.sizes
    print("\n".join(machine()))
    print(f"{'bench':10}  {'wall ' + format(small, ','):>13}  {'wall ' + format(large, ','):>13}  ratio   "
          f"{'cpu ' + format(small, ','):>12}  {'cpu ' + format(large, ','):>12}  ratio")
    for name, bench in BENCHES.items():
        if args.only and name not in args.only:
            continue
        runs = []
        for count in (small, large):
            with tempfile.TemporaryDirectory(prefix=f"ktpy-bench-{name}-") as tmp:
                runs.append(bench(Path(tmp), count))
        (wall0, cpu0), (wall1, cpu1) = runs
        print(f"{name:10}  {fmt_s(wall0):>13}  {fmt_s(wall1):>13}  {wall1 / wall0:4.1f}x  "
              f"{fmt_s(cpu0):>12}  {fmt_s(cpu1):>12}  {cpu1 / cpu0:4.1f}x", flush=True)


if __name__ == "__main__":
    main()
