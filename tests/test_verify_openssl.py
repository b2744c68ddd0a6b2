"""verify against OpenSSL: chains made by the openssl CLI that break one rule each. OpenSSL's
`openssl verify` is the oracle: it refuses each chain, and ktpy names the same problem."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from helpers import ktpy, require_tool

EXT = """[req]
distinguished_name=dn
[dn]
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ca0]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[nosign]
basicConstraints=critical,CA:TRUE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
"""


def _openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=True)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """root (and root0 with pathlen:0), inter, an inter without keyCertSign, an inter with an RSA
    1024 key, and leaves: good, SHA-1 signed, MD5 signed (RSA), tampered, below each inter."""
    require_tool("openssl")
    d = tmp_path_factory.mktemp("openssl-chains")
    (d / "ext.cnf").write_text(EXT)
    for name in ("root", "root0", "inter", "nosign", "leaf"):
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key", cwd=d)
    for name, bits in (("weak", "1024"), ("rsaleaf", "2048")):
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", f"{name}.key", cwd=d)
    for name, ext in (("root", "ca"), ("root0", "ca0")):
        _openssl("req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/CN=O {name}", "-days", "30",
                 "-config", "ext.cnf", "-extensions", ext, "-out", f"{name}.pem", cwd=d)

    def sign(out, key, subject, issuer, ext, digest="sha256"):
        _openssl("req", "-new", "-key", f"{key}.key", "-subj", f"/CN={subject}", "-config", "ext.cnf",
                 "-out", f"{out}.csr", cwd=d)
        _openssl("x509", "-req", "-in", f"{out}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
                 "-days", "10", "-extfile", "ext.cnf", "-extensions", ext, f"-{digest}", "-out", f"{out}.pem", cwd=d)

    sign("inter", "inter", "O Inter", "root", "ca")
    sign("inter-under-root0", "inter", "O Inter", "root0", "ca")
    sign("nosign", "nosign", "O NoSign", "root", "nosign")
    sign("weak", "weak", "O Weak", "root", "ca")
    sign("leaf", "leaf", "o-leaf", "inter", "leaf")
    sign("sha1-leaf", "leaf", "o-leaf", "inter", "leaf", "sha1")
    sign("nosign-leaf", "leaf", "o-leaf", "nosign", "leaf")
    sign("weak-leaf", "leaf", "o-leaf", "weak", "leaf")
    sign("rsa-leaf", "rsaleaf", "o-rsa-leaf", "weak", "leaf")
    (d / "tampered.pem").write_bytes(_tampered((d / "leaf.pem").read_bytes()))
    (d / "md5-leaf.pem").write_bytes(_md5_signed((d / "rsa-leaf.pem").read_bytes(), (d / "weak.key").read_bytes()))
    return d


def _tampered(pem: bytes) -> bytes:
    """The certificate with one letter of its subject changed after signing."""
    der = bytearray(base64.b64decode(b"".join(pem.splitlines()[1:-1])))
    der[der.rindex(b"o-leaf")] = ord("x")
    return _pem(bytes(der))


def _pem(der: bytes) -> bytes:
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"


def _md5_signed(pem: bytes, issuer_key_pem: bytes) -> bytes:
    """The certificate re-signed with md5WithRSAEncryption (OpenSSL 3 no longer signs with MD5)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280

    cert, _ = decoder.decode(base64.b64decode(b"".join(pem.splitlines()[1:-1])), asn1Spec=rfc5280.Certificate())
    md5_rsa = univ.ObjectIdentifier("1.2.840.113549.1.1.4")
    cert["tbsCertificate"]["signature"]["algorithm"] = md5_rsa
    cert["signatureAlgorithm"]["algorithm"] = md5_rsa
    key = serialization.load_pem_private_key(issuer_key_pem, None)
    signature = key.sign(encoder.encode(cert["tbsCertificate"]), padding.PKCS1v15(), hashes.MD5())
    cert["signature"] = univ.BitString.fromOctetString(signature)
    return _pem(encoder.encode(cert))


CASES = [
    # id, leaf, intermediate, root, ktpy's finding, what OpenSSL says
    ("path-length", "leaf", "inter-under-root0", "root0", "path-length", "path length constraint exceeded"),
    ("no-key-cert-sign", "nosign-leaf", "nosign", "root", "no-key-cert-sign",
     "key usage does not include certificate signing"),
    ("bad-signature", "tampered", "inter", "root", "bad-signature", "certificate signature failure"),
    ("weak-signature-sha1", "sha1-leaf", "inter", "root", "weak-signature", "CA signature digest algorithm too weak"),
    ("weak-signature-md5", "md5-leaf", "weak", "root", "weak-signature", "verification failed"),
    ("weak-key-intermediate", "weak-leaf", "weak", "root", "weak-key", "CA certificate key too weak"),
]


def _openssl_verify(d: Path, leaf, inter, root):
    # -auth_level 2: 112-bit security, what OpenSSL 3 asks of a chain for TLS 1.2 (SHA-1, RSA 1024 refused)
    return subprocess.run(["openssl", "verify", "-auth_level", "2", "-CAfile", f"{root}.pem", "-untrusted",
                           f"{inter}.pem", f"{leaf}.pem"], cwd=d, capture_output=True, text=True)


def test_openssl_accepts_the_good_chain_and_so_does_ktpy(made):
    assert _openssl_verify(made, "leaf", "inter", "root").returncode == 0
    result = ktpy("verify", str(made / "leaf.pem"), "--chain", str(made / "inter.pem"),
                  "--ca", str(made / "root.pem"), "--profile", "salesforce-mtls", code=None)
    assert result.exit_code == 0, result.output
    assert "OK: every check holds" in result.stdout


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_ktpy_names_what_openssl_refuses(made, case):
    _, leaf, inter, root, check, openssl_says = case
    oracle = _openssl_verify(made, leaf, inter, root)
    assert oracle.returncode != 0 and openssl_says in oracle.stdout + oracle.stderr
    result = ktpy("verify", str(made / f"{leaf}.pem"), "--chain", str(made / f"{inter}.pem"),
                  "--ca", str(made / f"{root}.pem"), "--profile", "salesforce-mtls", code=None)
    assert result.exit_code == 3, result.output
    failed = [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert f"FAIL {check}" in failed
    assert "FAIL wrong-root" not in failed


def test_messages(made):
    def problems(leaf, inter, root):
        result = ktpy("verify", str(made / f"{leaf}.pem"), "--chain", str(made / f"{inter}.pem"),
                      "--ca", str(made / f"{root}.pem"), code=None)
        return [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]

    assert problems("leaf", "inter-under-root0", "root0") == [
        "FAIL path-length: CN=O root0 allows 0 CA certificate(s) below it (pathLenConstraint), but the chain has 1"]
    assert problems("nosign-leaf", "nosign", "root") == [
        "FAIL no-key-cert-sign: CN=O NoSign signs certificates but its key usage does not allow keyCertSign"]
    assert problems("tampered", "inter", "root") == [
        "FAIL bad-signature: the signature on CN=x-leaf does not verify with the key of its issuer CN=O Inter: "
        "the certificate was altered after it was signed"]
    assert problems("sha1-leaf", "inter", "root") == [
        "FAIL weak-signature: CN=o-leaf is signed with SHA-1, which is broken; reissue it with SHA-256"]
    assert problems("md5-leaf", "weak", "root") == [
        "FAIL weak-signature: CN=o-rsa-leaf is signed with MD5, which is broken; reissue it with SHA-256"]
