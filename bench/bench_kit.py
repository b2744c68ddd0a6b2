"""From nothing to loadable keystores: OpenSSL + keytool against ktpy, side by side.

    .venv/bin/python bench/bench_kit.py [--rounds 11]

Variants, each in a fresh temporary folder, timed as wall clock from the first command's start
to the last one's end:
  a  OpenSSL + keytool: CA key (RSA 3072, encrypted) and certificate, client key (RSA 2048),
     CSR and CA-signed certificate, the leaf PEM, PKCS12 by openssl, JKS and JCEKS by
     keytool -importkeystore (9 commands)
  b  ktpy's separate commands: create-ca, issue-client, export-pem, build-keystore x3
  c  ktpy kit alone
  d  the floor: bench/floor.py kit, one Python process doing only the cryptography, in order
  m  (b) with one build-keystore --type jks,pkcs12,jceks instead of three (4 commands)

Each round runs all of them, starting with a different one each time (a b c d, b c d a, ...), so
drift in the machine's load touches every variant alike. Reported: each variant's median, and
the median of the per-round ratios b/a, c/a, d/a, c/d (and c/b, m/a). Before the timed rounds,
an untimed run of each variant warms the caches, and its keystores are opened with their keys by
keytool_py and listed by keytool.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

VARIANTS = {
    "a": "OpenSSL + keytool (9 commands)",
    "b": "ktpy separate commands (6)",
    "c": "ktpy kit",
    "d": "floor (crypto only, sequential)",
    "m": "ktpy separate commands, one build-keystore --type jks,pkcs12,jceks (4)",
}

CLIENT_EXT = """\
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def openssl_keytool_steps(work: Path) -> list[list[str]]:
    """What a shell script of OpenSSL and keytool commands runs; client.ext is written first."""
    (work / "ca").mkdir()
    (work / "client.ext").write_text(CLIENT_EXT)
    ca_pw, store_pw = f"env:{c.CA_PW_VAR}", f"env:{c.STORE_PW_VAR}"

    def import_to(store_type: str, out: str) -> list[str]:
        return ["keytool", "-importkeystore", "-noprompt",
                "-srckeystore", "keystore.p12", "-srcstoretype", "PKCS12", "-srcstorepass:env", c.STORE_PW_VAR,
                "-destkeystore", out, "-deststoretype", store_type, "-deststorepass:env", c.STORE_PW_VAR]

    return [
        # the CA key encrypted as ktpy writes it: PKCS#8, PBES2 with PBKDF2-SHA256 (2048 rounds), AES-256
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{c.CA_BITS}",
         "-aes-256-cbc", "-pass", ca_pw, "-out", "ca/ca.key"],
        ["openssl", "req", "-new", "-x509", "-key", "ca/ca.key", "-passin", ca_pw,
         "-subj", c.CA_SUBJECT_OPENSSL, "-days", "3650", "-sha256",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-out", "ca/ca.pem"],
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{c.CLIENT_BITS}",
         "-out", "client.key"],
        ["openssl", "req", "-new", "-key", "client.key", "-subj", c.CLIENT_SUBJECT_OPENSSL, "-out", "client.csr"],
        ["openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca/ca.pem", "-CAkey", "ca/ca.key",
         "-passin", ca_pw, "-CAcreateserial", "-days", "365", "-sha256",
         "-extfile", "client.ext", "-extensions", "client", "-out", "client.pem"],
        ["openssl", "x509", "-in", "client.pem", "-out", "salesforce-upload.pem"],
        # the same encryption and iteration count as ktpy's PKCS12 (OpenSSL 3's default is 2048)
        ["openssl", "pkcs12", "-export", "-inkey", "client.key", "-in", "client.pem", "-certfile", "ca/ca.pem",
         "-name", c.ALIAS, "-iter", str(c.PKCS12_ITERATIONS), "-passout", store_pw, "-out", "keystore.p12"],
        import_to("JKS", "keystore.jks"),
        import_to("JCEKS", "keystore.jceks"),
    ]


def ktpy_steps(work: Path) -> list[list[str]]:
    ktpy = c.ktpy()
    store = ["--key", "client/mule-client.key", "--cert", "client/mule-client-chain.pem",
             "--alias", c.ALIAS, "--storepass", f"env:{c.STORE_PW_VAR}"]
    return [
        [ktpy, "create-ca", "--dir", "ca", "--subject", c.CA_SUBJECT, "--password", f"env:{c.CA_PW_VAR}"],
        [ktpy, "issue-client", "--ca", "ca", "--ca-password", f"env:{c.CA_PW_VAR}", "--subject", c.CLIENT_SUBJECT,
         "--out-dir", "client", "--name", "mule-client"],
        [ktpy, "export-pem", "client/mule-client-chain.pem", "-o", "salesforce-upload.pem"],
        [ktpy, "build-keystore", "--type", "jks", *store, "-o", "keystore.jks"],
        [ktpy, "build-keystore", "--type", "pkcs12", *store, "-o", "keystore.p12"],
        [ktpy, "build-keystore", "--type", "jceks", *store, "-o", "keystore.jceks"],
    ]


def multi_steps(work: Path) -> list[list[str]]:
    """(b) with the three build-keystore runs made one: --type jks,pkcs12,jceks -o keystore (a stem)."""
    steps = ktpy_steps(work)[:4]
    steps[3][steps[3].index("--type") + 1] = "jks,pkcs12,jceks"
    steps[3][-1] = "keystore"
    return steps


def kit_steps(work: Path) -> list[list[str]]:
    return [[c.ktpy(), "kit", "--out-dir", "kit", "--subject", c.CLIENT_SUBJECT, "--ca-subject", c.CA_SUBJECT,
             "--ca-password", f"env:{c.CA_PW_VAR}", "--storepass", f"env:{c.STORE_PW_VAR}"]]


def floor_steps(work: Path, *, out: bool = False) -> list[list[str]]:
    return [[c.python(), str(c.BENCH_DIR / "floor.py"), "kit", *(["--out", "floor"] if out else [])]]


STEPS = {"a": openssl_keytool_steps, "b": ktpy_steps, "c": kit_steps, "d": floor_steps, "m": multi_steps}
STORES = {  # where each variant leaves its keystores
    "a": ".", "b": ".", "c": "kit", "d": "floor", "m": ".",
}


def check(variant: str, work: Path) -> None:
    """Every keystore of the variant loads with its key, with keytool_py and with keytool."""
    from keytool_py import load_keystore

    folder = work / STORES[variant]
    for suffix, store_type in ((".jks", "JKS"), (".p12", "PKCS12"), (".jceks", "JCEKS")):
        path = folder / f"keystore{suffix}"
        entry = load_keystore(path.read_bytes(), c.STOREPASS).entry(c.ALIAS)
        assert entry.key is not None and len(entry.chain) == 2, (variant, path)
        listed = subprocess.run(["keytool", "-list", "-keystore", str(path), "-storetype", store_type,
                                 "-storepass", c.STOREPASS], capture_output=True, text=True)
        assert "PrivateKeyEntry" in listed.stdout, (variant, path, listed.stdout + listed.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--variants", default="abcdm", help="which variants to run (default: abcdm)")
    args = parser.parse_args()
    c.require("openssl", "keytool")
    env = c.child_env()
    names = [v for v in "abcdm" if v in args.variants]
    # Warm-up (not timed): compiles ktpy's bytecode, fills the page cache, and checks every variant.
    with tempfile.TemporaryDirectory(prefix="ktpy-bench-") as tmp:
        for v in names:
            work = Path(tmp) / f"warm-{v}"
            work.mkdir()
            steps = floor_steps(work, out=True) if v == "d" else STEPS[v](work)
            c.time_steps(steps, cwd=work, env=env)
            check(v, work)
    print(f"warm-up done; every variant's keystores load (keytool_py and keytool -list); "
          f"{args.rounds} rounds of {' '.join(names)}", file=sys.stderr)

    info = c.machine()  # the load average as the timed rounds start
    times: dict[str, list[float]] = {v: [] for v in names}
    for number, order in enumerate(c.rotations(names, args.rounds), start=1):
        line = []
        for v in order:
            work = Path(tempfile.mkdtemp(prefix=f"ktpy-bench-{v}-"))
            try:
                steps = STEPS[v](work)
                times[v].append(c.time_steps(steps, cwd=work, env=env))
            finally:
                shutil.rmtree(work, ignore_errors=True)
            line.append(f"{v} {times[v][-1]:.3f}")
        print(f"round {number}: " + ", ".join(line), file=sys.stderr)

    print("\n".join(info))
    print()
    print(f"{args.rounds} rounds, rotating order; wall time per variant (seconds)\n")
    print("| variant | median | min | max | runs |")
    print("|---|---|---|---|---|")
    for v in names:
        ts = times[v]
        print(f"| ({v}) {VARIANTS[v]} | {c.median(ts):.3f} | {min(ts):.3f} | {max(ts):.3f} | "
              + " ".join(f"{t:.2f}" for t in ts) + " |")
    print()
    print("| ratio (median of the per-round ratios) | value | per round |")
    print("|---|---|---|")
    for top, bottom in (("b", "a"), ("c", "a"), ("d", "a"), ("c", "d"), ("c", "b"), ("m", "a")):
        if top in times and bottom in times:
            rs = c.ratios(times[top], times[bottom])
            print(f"| {top}/{bottom} | {c.median(rs):.3f} | " + " ".join(f"{r:.2f}" for r in rs) + " |")


if __name__ == "__main__":
    main()
