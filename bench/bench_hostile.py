"""Hostile and large inputs: crafted files ktpy must refuse or read in bounded time, and
export-pem of long certificate bundles, each side by side with OpenSSL doing the same job.

    .venv/bin/python bench/bench_hostile.py                  # crafted inputs, and 10,000 certificates
    .venv/bin/python bench/bench_hostile.py --sizes 10000,100000

Crafted inputs (made here, in a temporary folder):
  pem-begin-100k / -1m  100 KB / 1 MB of BEGIN CERTIFICATE lines and no END line
  pkcs8-rounds          an encrypted PKCS#8 key whose PBKDF2 count is 2^31-1
  storepass-dev-zero    --storepass file:/dev/zero (OpenSSL: -passin file:/dev/zero)

Bundles: a chain of N certificates (the leaf first, then each issuer: one EC key signs them all,
so making them is cheap). ktpy export-pem --with-chain reads, checks and orders every certificate;
`openssl storeutl -certs` reads and prints every one (OpenSSL has no command that orders a chain).

Each command runs under a time limit (--limit, 30 s); one that reaches it shows as "> limit".
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import STORE_PW_VAR, STOREPASS, child_env, ktpy, machine, require  # noqa: E402


def timed(argv, *, cwd: Path, env: dict, limit: float) -> tuple[float | None, float, str]:
    """(wall seconds, or None past the limit; CPU seconds (user + system); the last line of
    stderr). CPU time is the fairer figure on a machine others share: wall time grows with load."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None, 0.0, ""
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    return wall, cpu, (lines[-1] if lines else "")


def make_chain(path: Path, count: int) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    def name(i):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench {i}")])

    with path.open("wb") as out:
        for i in range(count):
            builder = (x509.CertificateBuilder().subject_name(name(i)).issuer_name(name(min(i + 1, count - 1)))
                       .public_key(key.public_key()).serial_number(i + 1).not_valid_before(start)
                       .not_valid_after(start + dt.timedelta(days=3650)))
            if i:
                builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            out.write(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def make_crafted(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from pyasn1.codec.der import decoder, encoder
    from pyasn1_modules import rfc5208, rfc8018

    line = b"-----BEGIN CERTIFICATE-----\n"
    (folder / "pem-begin-100k.pem").write_bytes(line * (100_000 // len(line)))
    (folder / "pem-begin-1m.pem").write_bytes(line * (1_000_000 // len(line)))
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b"bench-key-pw"))
    info, _ = decoder.decode(der, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
    params, _ = decoder.decode(info["encryptionAlgorithm"]["parameters"], asn1Spec=rfc8018.PBES2_params())
    kdf, _ = decoder.decode(params["keyDerivationFunc"]["parameters"], asn1Spec=rfc8018.PBKDF2_params())
    kdf["iterationCount"] = 2**31 - 1
    params["keyDerivationFunc"]["parameters"] = encoder.encode(kdf)
    info["encryptionAlgorithm"]["parameters"] = encoder.encode(params)
    body = base64.encodebytes(encoder.encode(info))
    (folder / "pkcs8-rounds.key").write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + body
                                              + b"-----END ENCRYPTED PRIVATE KEY-----\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=bench", "-keyout", "p12.key", "-out", "p12.pem", "-days", "30"],
                   cwd=folder, check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", "p12.key", "-in", "p12.pem", "-out", "ks.p12",
                    "-passout", f"env:{STORE_PW_VAR}"], cwd=folder, check=True, capture_output=True,
                   env=child_env())


def fmt(seconds: float | None, limit: float, cpu: float = 0.0) -> str:
    """'1.23 s (cpu 0.98 s)', or '> 30 s' past the limit."""
    return f"> {limit:.0f} s" if seconds is None else f"{seconds:.2f} s (cpu {cpu:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000", help="bundle sizes, comma-separated (default 10000)")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds before a command is stopped")
    args = parser.parse_args()
    require("openssl")
    env = child_env()
    env["KTPY_BENCH_KEY_PW"] = "bench-key-pw"
    print("\n".join(machine()))
    with tempfile.TemporaryDirectory(prefix="ktpy-bench-hostile-") as tmp:
        folder = Path(tmp)
        make_crafted(folder)
        print(f"\nSTORE password {STOREPASS!r} via env:{STORE_PW_VAR}\n")
        print("| crafted input | size | ktpy | ktpy says | OpenSSL | OpenSSL command |")
        print("|---|---|---|---|---|---|")
        cases = [
            ("pem-begin-100k.pem", [ktpy(), "export-pem", "pem-begin-100k.pem", "-o", "out1.pem"],
             ["openssl", "x509", "-in", "pem-begin-100k.pem", "-noout"]),
            ("pem-begin-1m.pem", [ktpy(), "export-pem", "pem-begin-1m.pem", "-o", "out2.pem"],
             ["openssl", "x509", "-in", "pem-begin-1m.pem", "-noout"]),
            ("pkcs8-rounds.key", [ktpy(), "verify", "p12.pem", "--key", "pkcs8-rounds.key", "--key-password",
                                  "env:KTPY_BENCH_KEY_PW"],
             ["openssl", "pkey", "-in", "pkcs8-rounds.key", "-passin", "env:KTPY_BENCH_KEY_PW", "-noout"]),
            ("ks.p12", [ktpy(), "export-pem", "ks.p12", "--storepass", "file:/dev/zero", "-o", "out3.pem"],
             ["openssl", "pkcs12", "-in", "ks.p12", "-passin", "file:/dev/zero", "-nokeys", "-noout"]),
        ]
        for name, ours, theirs in cases:
            size = (folder / name).stat().st_size
            label = "storepass-dev-zero" if name == "ks.p12" else name.rsplit(".", 1)[0]
            mine, mine_cpu, said = timed(ours, cwd=folder, env=env, limit=args.limit)
            other, other_cpu, _ = timed(theirs, cwd=folder, env=env, limit=args.limit)
            print(f"| {label} | {size:,} B | {fmt(mine, args.limit, mine_cpu)} | {said} | "
                  f"{fmt(other, args.limit, other_cpu)} | "
                  f"`{' '.join(theirs[:2])}` |")
        print("\n| certificates | bundle | make | ktpy export-pem --with-chain | openssl storeutl -certs | "
              "ktpy / OpenSSL (cpu) |")
        print("|---|---|---|---|---|---|")
        for count in (int(s) for s in args.sizes.split(",")):
            bundle = folder / f"chain-{count}.pem"
            start = time.perf_counter()
            make_chain(bundle, count)
            made = time.perf_counter() - start
            mine, mine_cpu, _ = timed([ktpy(), "export-pem", bundle.name, "--with-chain", "-o", f"out-{count}.pem"],
                                      cwd=folder, env=env, limit=args.limit * 10)
            other, other_cpu, _ = timed(["openssl", "storeutl", "-certs", "-out", f"openssl-{count}.txt",
                                         bundle.name], cwd=folder, env=env, limit=args.limit * 10)
            ratio = f"{mine_cpu / other_cpu:.2f}" if mine and other else "-"
            print(f"| {count:,} | {bundle.stat().st_size / 1e6:.1f} MB | {made:.1f} s | "
                  f"{fmt(mine, args.limit * 10, mine_cpu)} | {fmt(other, args.limit * 10, other_cpu)} | {ratio} |")
            bundle.unlink()


if __name__ == "__main__":
    main()
