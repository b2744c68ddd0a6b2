"""Keystores at scale and crafted keystores (tracker issue 10): time linear in the number of
certificates, and every crafted file refused or read in bounded time.

    .venv/bin/python bench/bench_keystores.py [--count 100000] [--keytool-count 50]

(1) `ktpy build-truststore` then `ktpy inspect --json` of a truststore of N/4, N/2 and N
    certificates, for each type (jks, pkcs12, jceks): the seconds, and seconds per 1000
    certificates (constant when time is linear).
(2) keytool doing the same jobs: `keytool -list` of ktpy-built JKS stores of N/40, N/20 and N/10
    certificates (reading them all, as inspect does; keytool grows faster than linearly and took
    over 8 minutes for 100000), and `keytool -importcert` one certificate at a time, the only way
    keytool builds a truststore from PEM files: a JVM per certificate, so it is timed on
    --keytool-count certificates and reported per 1000 (100000 would take hours).
(3) The crafted files of tests/hostile.py: `ktpy inspect` and `keytool -list` on each.
The certificates (Ed25519, one issuer, distinct subjects) are made once into a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

sys.path.insert(0, str(c.REPO / "tests"))
TYPES = {"jks": ".jks", "pkcs12": ".p12", "jceks": ".jceks"}


def make_bundle(path: Path, count: int) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    key = ed25519.Ed25519PrivateKey.generate()
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Issuer")])
    start = dt.datetime(2026, 1, 1)
    with path.open("wb") as out:
        for i in range(count):
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench-{i}")])
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
                    .serial_number(i + 1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
                    .sign(key, None))
            out.write(cert.public_bytes(serialization.Encoding.PEM))


def timed(argv, *, cwd: Path, env, ok=(0,)) -> tuple[float, int, bytes]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
        sys.exit(f"command failed ({done.returncode}): {' '.join(map(str, argv))[:200]}")
    return elapsed, done.returncode, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--keytool-count", type=int, default=50)
    args = parser.parse_args()
    env = c.child_env()
    pw = f"env:{c.STORE_PW_VAR}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("\n".join(c.machine()))
        sizes = [args.count // 4, args.count // 2, args.count]
        for n in sizes:
            make_bundle(work / f"{n}.pem", n)
        print("\n| certificates | type | build-truststore | per 1000 | inspect --json | per 1000 |")
        print("|---|---|---|---|---|---|")
        for store_type, suffix in TYPES.items():
            for n in sizes:
                out = work / f"ts{n}{suffix}"
                build, _, _ = timed([c.ktpy(), "build-truststore", "--type", store_type, f"{n}.pem",
                                     "--alias-prefix", "c", "--storepass", pw, "-o", out.name], cwd=work, env=env)
                with (work / "inspect.json").open("wb") as sink:
                    start = time.perf_counter()
                    subprocess.run([c.ktpy(), "inspect", out.name, "--storepass", pw, "--json"], cwd=work, env=env,
                                   stdout=sink, stderr=subprocess.DEVNULL, check=True)
                    inspect = time.perf_counter() - start
                print(f"| {n} | {store_type} | {c.fmt_s(build)} | {1000 * build / n:.3f} s | {c.fmt_s(inspect)} "
                      f"| {1000 * inspect / n:.3f} s |")
        print("\n| keytool, same job | certificates | seconds | per 1000 |")
        print("|---|---|---|---|")
        # keytool -list grows faster than linearly (over 8 minutes for 100000 entries): smaller stores
        for n in (args.count // 40, args.count // 20, args.count // 10):
            make_bundle(work / f"{n}.pem", n)
            timed([c.ktpy(), "build-truststore", "--type", "jks", f"{n}.pem", "--alias-prefix", "c",
                   "--storepass", pw, "-o", f"kt{n}.jks"], cwd=work, env=env)
            t, _, _ = timed(["keytool", "-list", "-keystore", f"kt{n}.jks", "-storetype", "jks",
                             "-storepass:env", c.STORE_PW_VAR], cwd=work, env=env)
            print(f"| `keytool -list` of ktpy's jks | {n} | {c.fmt_s(t)} | {1000 * t / n:.3f} s |")
        first = work / "one-by-one"
        first.mkdir()
        subprocess.run(["csplit", "-s", "-z", "-f", str(first / "c"), "-b", "%06d.pem",
                        str(work / f"{sizes[0]}.pem"), "/-----BEGIN CERTIFICATE-----/", "{*}"], check=True)
        pems = sorted(first.glob("c*.pem"))[:args.keytool_count]
        start = time.perf_counter()
        for n, pem in enumerate(pems):
            timed(["keytool", "-importcert", "-noprompt", "-keystore", "kt.jks", "-storetype", "jks",
                   "-storepass:env", c.STORE_PW_VAR, "-alias", f"c{n}", "-file", str(pem)], cwd=work, env=env)
        t = time.perf_counter() - start
        print(f"| `keytool -importcert` one by one (jks) | {len(pems)} | {c.fmt_s(t)} | "
              f"{1000 * t / len(pems):.0f} s |")

        import hostile

        from keytool_py import create_ca

        ca = create_ca("CN=Bench Hostile,O=Acme", key_type="ec-p256")
        crafted = {
            "jceks-back-reference-bomb.jceks": ("jceks", hostile.jceks_back_reference_bomb()),
            "jceks-5-keys-5M-rounds.jceks": ("jceks", hostile.jceks_keys_at_max_rounds(ca.cert, count=5)),
            "pkcs12-30-parts-5M-rounds.p12": ("pkcs12", hostile.pkcs12_parts_at_max_rounds(parts=30)),
        }
        print("\n| crafted file (wrong password where it matters) | bytes | ktpy inspect | answer | keytool -list |")
        print("|---|---|---|---|---|")
        env["KTPY_BENCH_WRONG"] = "wrong-password"
        for name, (store_type, data) in crafted.items():
            (work / name).write_bytes(data)
            var = c.STORE_PW_VAR if "bomb" in name else "KTPY_BENCH_WRONG"
            t, code, err = timed([c.ktpy(), "inspect", name, "--storepass", f"env:{var}"], cwd=work, env=env,
                                 ok=(0, 1))
            kt, _, _ = timed(["keytool", "-list", "-keystore", name, "-storetype", store_type, "-storepass:env",
                              var], cwd=work, env=env, ok=(0, 1))
            answer = err.decode().strip().splitlines()[-1][:90] if code else "read"
            print(f"| {name} | {len(data)} | {c.fmt_s(t)} | {answer} | {c.fmt_s(kt)} |")


if __name__ == "__main__":
    main()
