"""The crypto floor: only the cryptography a kit or a batch needs, with no CLI, no file checks and
no library layers; the lowest time any tool could reach doing the same work in Python.

    python bench/floor.py kit [--out DIR]
        one process, one step after another: CA key (RSA 3072) and certificate, the CA key
        encrypted as ktpy writes it, client key (RSA 2048) and certificate, PKCS12, JKS and JCEKS
        (key protection at 200000 iterations, as Java 17 and ktpy)
    python bench/floor.py batch --ca DIR --count 200 --workers 2 [--out DIR]
        per client, in a pool of WORKERS processes: RSA 2048 key, certificate signed by the CA,
        JKS keystore

Nothing is written unless --out is given (the benchmarks time it without --out; a check run
writes the files once and loads them with ktpy and keytool to show the floor does the real
work). The passwords come from the same variables as the other variants.

JKS and JCEKS are encoded here directly (pyjks alone takes about 0.1 s to import) and the JCEKS
derivation uses CPython's built-in MD5 constructor, the fastest way to run 400000 tiny MD5s in
Python: the floor must not be slower than the best known implementation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import struct
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

try:  # CPython's own MD5: a third of the cost of an OpenSSL-backed hashlib.md5 object
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover
    _md5 = hashlib.md5

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM


# --- keys and certificates ----------------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names})


def make_ca(now: dt.datetime):
    key = rsa.generate_private_key(public_exponent=65537, key_size=c.CA_BITS)
    name = _name("Bench Root CA")
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_client(ca_key, ca_cert, cn: str, now: dt.datetime, *, email: str | None = None):
    key = rsa.generate_private_key(public_exponent=65537, key_size=c.CLIENT_BITS)
    builder = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, key_encipherment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    cert = (
        builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def pkcs8(key) -> bytes:
    return key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


# --- keystores ----------------------------------------------------------------------------------

def pkcs12_store(key, chain, alias: str, password: str) -> bytes:
    """What ktpy writes by default: PBES2 SHA-256/AES-256 at 10000 rounds, SHA-256 MAC."""
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(c.PKCS12_ITERATIONS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
        .build(password.encode())
    )
    return pkcs12.serialize_key_and_certificates(alias.encode(), key, chain[0], list(chain[1:]), encryption)


def _tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + value


JKS_PROTECTOR_OID = bytes.fromhex("06 0a 2b 06 01 04 01 2a 02 11 01 01")  # 1.3.6.1.4.1.42.2.17.1.1
JCEKS_PBE_OID = bytes.fromhex("06 09 2b 06 01 04 01 2a 02 13 01")  # 1.3.6.1.4.1.42.2.19.1


def _utf(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">H", len(raw)) + raw


def _container(magic: bytes, alias: str, protected: bytes, chain, password: str, millis: int) -> bytes:
    body = magic + struct.pack(">II", 2, 1) + struct.pack(">I", 1) + _utf(alias) + struct.pack(">q", millis)
    body += struct.pack(">I", len(protected)) + protected + struct.pack(">I", len(chain))
    for cert in chain:
        der = cert.public_bytes(DER)
        body += _utf("X.509") + struct.pack(">I", len(der)) + der
    return body + hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()


def jks_store(key, chain, alias: str, password: str, millis: int) -> bytes:
    """Sun's JKS key protection: a SHA-1 keystream over the UTF-16BE password, XOR, SHA-1 check."""
    plain = pkcs8(key)
    secret = password.encode("utf-16-be")
    salt = os.urandom(20)
    stream, digest = bytearray(), salt
    while len(stream) < len(plain):
        digest = hashlib.sha1(secret + digest).digest()
        stream += digest
    xored = (int.from_bytes(plain, "big") ^ int.from_bytes(stream[:len(plain)], "big")).to_bytes(len(plain), "big")
    protected = salt + xored + hashlib.sha1(secret + plain).digest()
    epki = _tlv(0x30, _tlv(0x30, JKS_PROTECTOR_OID + b"\x05\x00") + _tlv(0x04, protected))
    return _container(b"\xfe\xed\xfe\xed", alias, epki, chain, password, millis)


def jceks_derive(password: bytes, salt: bytes, iterations: int = c.JCEKS_ITERATIONS) -> tuple[bytes, bytes]:
    out = b""
    for half in (salt[:4], salt[4:]):
        digest = half
        for _ in range(iterations):
            digest = _md5(digest + password).digest()
        out += digest
    return out[:24], out[24:]


def jceks_store(key, chain, alias: str, password: str, millis: int) -> bytes:
    """PBEWithMD5AndTripleDES at Java 17's 200000 iterations."""
    salt = os.urandom(8)
    while salt[:4] == salt[4:]:
        salt = os.urandom(8)
    des_key, iv = jceks_derive(password.encode("ascii"), salt)
    padder = padding.PKCS7(64).padder()
    plain = padder.update(pkcs8(key)) + padder.finalize()
    encryptor = Cipher(TripleDES(des_key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(plain) + encryptor.finalize()
    iterations = c.JCEKS_ITERATIONS.to_bytes(3, "big")
    params = _tlv(0x30, _tlv(0x04, salt) + _tlv(0x02, iterations))
    epki = _tlv(0x30, _tlv(0x30, JCEKS_PBE_OID + params) + _tlv(0x04, encrypted))
    return _container(b"\xce\xce\xce\xce", alias, epki, chain, password, millis)


# --- the two workloads --------------------------------------------------------------------------

def kit(now: dt.datetime, storepass: str, ca_password: str) -> dict[str, bytes]:
    """Everything a kit holds, one step after another."""
    millis = int(now.timestamp()) * 1000
    ca_key, ca_cert = make_ca(now)
    ca_key_pem = ca_key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(ca_password.encode()))
    key, cert = issue_client(ca_key, ca_cert, "mule-client", now)
    chain = (cert, ca_cert)
    return {
        "ca/ca.pem": ca_cert.public_bytes(PEM),
        "ca/ca.key": ca_key_pem,
        "client.key": key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "client.pem": cert.public_bytes(PEM),
        "keystore.p12": pkcs12_store(key, chain, c.ALIAS, storepass),
        "keystore.jks": jks_store(key, chain, c.ALIAS, storepass, millis),
        "keystore.jceks": jceks_store(key, chain, c.ALIAS, storepass, millis),
    }


_CA = None  # (key, cert) in each batch worker: inherited with fork, or set by the initializer


def _init_worker(key_der: bytes, cert_der: bytes) -> None:
    global _CA
    _CA = (serialization.load_der_private_key(key_der, None), x509.load_der_x509_certificate(cert_der))


def _one_client(job: tuple[int, dt.datetime, str]) -> tuple[str, bytes]:
    number, now, storepass = job
    ca_key, ca_cert = _CA
    name = f"client-{number:03d}"
    key, cert = issue_client(ca_key, ca_cert, name, now, email=f"{name}@example.com")
    return name, jks_store(key, (cert, ca_cert), name, storepass, int(now.timestamp()) * 1000)


def batch(ca_dir: Path, ca_password: str, storepass: str, count: int, workers: int):
    """(name, JKS bytes) per client; the CA key is decrypted once, in this process."""
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), ca_password.encode())
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    now = dt.datetime.now(dt.timezone.utc)
    jobs = [(n, now, storepass) for n in range(1, count + 1)]
    if workers <= 1:
        _init_worker(pkcs8(ca_key), ca_cert.public_bytes(DER))
        return [_one_client(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(pkcs8(ca_key), ca_cert.public_bytes(DER))) as pool:
        return list(pool.map(_one_client, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    kit_p = sub.add_parser("kit")
    kit_p.add_argument("--out", type=Path)
    batch_p = sub.add_parser("batch")
    batch_p.add_argument("--ca", type=Path, required=True)
    batch_p.add_argument("--count", type=int, default=200)
    batch_p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    batch_p.add_argument("--out", type=Path)
    args = parser.parse_args()
    storepass = os.environ.get(c.STORE_PW_VAR, c.STOREPASS)
    ca_password = os.environ.get(c.CA_PW_VAR, c.CA_PASSWORD)
    if args.what == "kit":
        outputs = kit(dt.datetime.now(dt.timezone.utc), storepass, ca_password)
    else:
        outputs = {f"{name}.jks": data
                   for name, data in batch(args.ca, ca_password, storepass, args.count, args.workers)}
    if args.out:
        for name, data in outputs.items():
            path = args.out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


if __name__ == "__main__":
    main()
