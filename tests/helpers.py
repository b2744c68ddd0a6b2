"""What the tests share that is not an outside judge (tests/interop.py holds those): the fixed
clock and passwords of the session, the one way to run a ktpy command in-process, the rule for a
missing tool, and assertions on certificate profiles.

Test modules import from here, never from one another (nor from conftest.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from keytool_py import KeyType

# The session's clock, fixed at its start (not a constant date) because the interop tests hand
# certificates made at this time to a real JVM, which checks them against the real time. Tests
# take it from the `now` fixture (conftest.py).
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
STOREPASS = "changeit"
KEYPASS = "keypass-1"

# Key types the keystore tests run over: RSA because the JWT flow needs it, EC because
# Salesforce accepts EC client certificates for mutual TLS.
LEAF_KEY_TYPES = [KeyType.RSA2048, KeyType.EC_P256]


def required() -> bool:
    """True where every outside judge must run (KTPY_REQUIRE_INTEROP=1, as in CI)."""
    return os.environ.get("KTPY_REQUIRE_INTEROP") == "1"


def missing(reason: str) -> None:
    """A test cannot get what it needs: skip it, or fail it with the reason where judges are
    required (KTPY_REQUIRE_INTEROP=1). Never returns."""
    if required():
        pytest.fail(f"{reason} (KTPY_REQUIRE_INTEROP=1: nothing may be skipped)")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The tool's path, or skip; with KTPY_REQUIRE_INTEROP=1 (CI) a missing tool fails instead."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed")
    assert path is not None
    return path


def chattr(flag: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)


@contextlib.contextmanager
def immutable_folder(parent: Path) -> Iterator[Path]:
    """A folder under `parent` in which `chattr +i` works: `parent` itself when its filesystem
    has the immutable flag (ext4, xfs, btrfs; tmpfs since Linux 6.0), else a tmpfs mounted there
    for the block. Needs root (CAP_LINUX_IMMUTABLE); without it the test cannot have a write
    that fails for root, and says so (missing())."""
    require_tool("chattr")
    if os.geteuid() != 0:
        missing("chattr +i needs root (CAP_LINUX_IMMUTABLE)")
    probe = parent / ".immutable-probe"
    probe.write_bytes(b"")
    tried = chattr("+i", probe)
    if tried.returncode == 0:
        chattr("-i", probe)
        probe.unlink()
        yield parent
        return
    probe.unlink()
    if "not supported" not in tried.stderr.lower():
        missing(f"chattr +i failed: {tried.stderr.strip()}")
    mounted = parent / "tmpfs"
    mounted.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "ktpy-test", str(mounted)],
                           capture_output=True, text=True, check=False)
    if mount.returncode != 0:
        missing(f"{parent}'s filesystem has no immutable flag and no tmpfs could be mounted: "
                f"{mount.stderr.strip()}")
    try:
        yield mounted
    finally:
        subprocess.run(["umount", "-l", str(mounted)], check=False)


def ktpy(*args: object, env: Mapping[str, str] | None = None, code: int | None = 0,
         input: str | bytes | None = None) -> Result:
    """Run `ktpy ARGS` in-process (click's CliRunner; stdout and stderr kept apart). The exit code
    must be `code` (None: any), and no traceback may reach the user whatever the code."""
    from keytool_py.cli import cli

    result = CliRunner(env=dict(env or {})).invoke(cli, [str(a) for a in args], input=input)
    assert "Traceback" not in result.output, result.output
    if code is not None:
        assert result.exit_code == code, (f"ktpy {' '.join(str(a) for a in args)}: exit {result.exit_code}, "
                                          f"expected {code}\n--- stdout\n{result.stdout}\n--- stderr\n"
                                          f"{result.stderr}", result.exception)
    return result


def urlsafe_b64decode(part: str) -> bytes:
    """Base64url without padding (JWT parts)."""
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def ext(cert: x509.Certificate, cls):
    return cert.extensions.get_extension_for_class(cls)


def assert_is_ca(cert: x509.Certificate, path_length=None) -> None:
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca is True
    assert bc.value.path_length == path_length
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical
    assert ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature and not ku.value.key_encipherment
    ext(cert, x509.SubjectKeyIdentifier)


def assert_is_client(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    bc = ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    ku = ext(cert, x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert ku.value.key_encipherment == isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert not ku.value.key_cert_sign
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    ski = ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(issuer, x509.SubjectKeyIdentifier).value.digest
    assert cert.issuer == issuer.subject
    cert.verify_directly_issued_by(issuer)


def with_key_derivation(pem: bytes, **changes) -> bytes:
    """An encrypted PKCS#8 PEM with its key derivation changed: rounds=N (the PBKDF2 count) or
    scrypt_n=N. No real tool makes these quickly: OpenSSL would derive 2^31-1 rounds for hours."""
    import base64

    from pyasn1.codec.der import decoder, encoder
    from pyasn1_modules import rfc5208, rfc7914, rfc8018

    info, _ = decoder.decode(base64.b64decode(b"".join(pem.splitlines()[1:-1])),
                             asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
    params, _ = decoder.decode(info["encryptionAlgorithm"]["parameters"], asn1Spec=rfc8018.PBES2_params())
    if "scrypt_n" in changes:
        scrypt = rfc7914.Scrypt_params()
        scrypt["salt"] = b"12345678"
        scrypt["costParameter"] = changes["scrypt_n"]
        scrypt["blockSize"] = 8
        scrypt["parallelizationParameter"] = 1
        params["keyDerivationFunc"]["algorithm"] = rfc7914.id_scrypt
        params["keyDerivationFunc"]["parameters"] = encoder.encode(scrypt)
    else:
        kdf, _ = decoder.decode(params["keyDerivationFunc"]["parameters"], asn1Spec=rfc8018.PBKDF2_params())
        kdf["iterationCount"] = changes["rounds"]
        params["keyDerivationFunc"]["parameters"] = encoder.encode(kdf)
    info["encryptionAlgorithm"]["parameters"] = encoder.encode(params)
    return (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + base64.encodebytes(encoder.encode(info))
            + b"-----END ENCRYPTED PRIVATE KEY-----\n")
