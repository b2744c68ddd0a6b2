"""The Java view: what the JDK's KeyStore API sees in keystores (tests/java/JavaView.java), for
many stores in one JVM run, and the same view computed from ktpy, to compare the two."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interop import JVM_FAST_START, JVM_LONG_RUN, compile_java, describe, run_java

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
    return compile_java(JAVA_SOURCE, outdir)


def java_view(classdir: Path, requests: Sequence[Request], *, long_run: bool | None = None) -> list[dict]:
    """One JVM over every request: one dict per request, in order. `long_run`: the JIT's
    optimizing compiler on, for many stores (their key derivations): 2.5x faster over the 43
    corpus stores than the start-up flags. Default: on from 10 stores."""
    stdin = "".join(r.line() + "\n" for r in requests)
    long_run = len(requests) >= 10 if long_run is None else long_run
    classpath = os.pathsep.join([str(classdir), *([str(BCPROV)] if BCPROV.is_file() else [])])
    proc = run_java("-cp", classpath, "JavaView", jvm=JVM_LONG_RUN if long_run else JVM_FAST_START,
                    input=stdin, timeout=600)
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
