"""The Java view: what the JDK's KeyStore API sees in keystores (tests/java/JavaView.java), for
many stores in one JVM run, and the same view computed from ktpy, to compare the two."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interop import JVM_FAST_START, describe

JAVA_SOURCE = Path(__file__).parent / "java" / "JavaView.java"
# Bouncy Castle's provider (Debian libbcprov-java; .ci/run installs it): Java's view of BKS and UBER
BCPROV = Path("/usr/share/java/bcprov.jar")


@dataclass(frozen=True)
class Request:
    store_type: str
    path: Path
    storepass: str | None
    keypass: str | None = None
    lookups: tuple[str, ...] = ()

    def line(self) -> str:
        def hexed(p):
            return "-" if p is None else p.encode("utf-8").hex()
        return "\t".join([self.store_type.upper(), str(self.path), hexed(self.storepass), hexed(self.keypass),
                          *self.lookups])


def compile_view(outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["javac", "-d", str(outdir), str(JAVA_SOURCE)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, describe(proc)
    return outdir


def java_view(classdir: Path, requests: Sequence[Request]) -> list[dict]:
    """One JVM over every request: one dict per request, in order."""
    stdin = "".join(r.line() + "\n" for r in requests)
    classpath = os.pathsep.join([str(classdir), *([str(BCPROV)] if BCPROV.is_file() else [])])
    proc = subprocess.run(["java", *JVM_FAST_START, "-cp", classpath, "JavaView"], input=stdin,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, describe(proc)
    views = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(views) == len(requests), describe(proc)
    return views


def normalized(view: dict) -> list[tuple]:
    """A view as sorted (alias, kind, chain, key algorithm, secret sha256) rows."""
    return sorted((e["alias"], e["kind"], tuple(e["chain"]), e.get("key_algorithm"), e.get("secret_sha256"))
                  for e in view["entries"])


# Java's getAlgorithm() for the keys cryptography loads
def java_key_algorithm(key, pkcs8: bytes | None = None) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        rsassa_pss = bytes.fromhex("06092a864886f70d01010a")
        return "RSASSA-PSS" if pkcs8 is not None and rsassa_pss in pkcs8[:40] else "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC"
    if isinstance(key, dsa.DSAPrivateKey):
        return "DSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return "EdDSA"
    return type(key).__name__


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
