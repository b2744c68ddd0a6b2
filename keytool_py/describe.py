"""Describing certificates, requests, keys and keystores as plain data, for text and JSON output.

The JSON form is documented in docs/inspect-json.md; its field names are a contract. A private
key is described (type, size, encrypted or not), never its value.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning

from . import certs, keys, keystore
from .errors import BadInputError

if TYPE_CHECKING:
    from .ledger import Ledger

JSON_FORMAT = 1

# What describe_* return and *_lines read: JSON-shaped data whose field names and value types are
# the contract in docs/inspect-json.md, not a Python type.
Info = dict[str, Any]
_Ext = TypeVar("_Ext", bound=x509.ExtensionType)

_KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
               "key_agreement", "key_cert_sign", "crl_sign")
_EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth", "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection", "1.3.6.1.5.5.7.3.8": "timeStamping", "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}


def _time(value: dt.datetime) -> str:
    # (what strftime("%Y-%m-%dT%H:%M:%SZ") gives, at a third of its cost: a truststore has 100000)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z"


def _key_info(public_key: PublicKeyTypes | PrivateKeyTypes) -> Info:
    if isinstance(public_key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return {"type": "RSA", "size": public_key.key_size}
    if isinstance(public_key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return {"type": "EC", "size": public_key.curve.key_size, "curve": keys.describe_key(public_key)[3:]}
    return {"type": type(public_key).__name__.lstrip("_"), "size": None}


def _sans(extensions: x509.Extensions) -> list[str]:
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    prefixes: dict[type[x509.GeneralName], str] = {
        x509.DNSName: "dns", x509.RFC822Name: "email", x509.UniformResourceIdentifier: "uri", x509.IPAddress: "ip"}
    return [f"{prefixes.get(type(n), type(n).__name__)}:{n.value}" for n in san]


def _ext(cert: x509.Certificate, cls: type[_Ext]) -> _Ext | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def describe_certificate(cert: x509.Certificate) -> Info:
    # Real stores hold old certificates cryptography warns about (negative serials): describe them quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _describe_certificate(cert)


def _describe_certificate(cert: x509.Certificate) -> Info:
    usage = _ext(cert, x509.KeyUsage)
    eku = _ext(cert, x509.ExtendedKeyUsage)
    bc = _ext(cert, x509.BasicConstraints)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "X"),
        "not_before": _time(cert.not_valid_before_utc),
        "not_after": _time(cert.not_valid_after_utc),
        "key": _key_info(cert.public_key()),
        "key_usage": [u for u in _KEY_USAGES if usage is not None and getattr(usage, u)],
        "extended_key_usage": [_EKU_NAMES.get(o.dotted_string, o.dotted_string) for o in eku] if eku else [],
        "ca": bool(bc and bc.ca),
        "path_length": bc.path_length if bc and bc.ca else None,
        "san": _sans(cert.extensions),
        "self_signed": certs.is_self_issued(cert) and certs.issued_by(cert, cert),
        "sha256": certs.fingerprint(cert),
    }


def describe_store(store: keystore.Keystore) -> Info:
    with keystore.without_gc():
        return _describe_store(store)


def _describe_store(store: keystore.Keystore) -> Info:
    entries = []
    for entry in store.entries:
        described: Info = {
            "alias": entry.alias,
            "kind": entry.kind.value,
            "created": _time(entry.timestamp) if entry.timestamp else None,
            "chain": [describe_certificate(c) for c in entry.chain],
        }
        if store.find(entry.alias) is not entry:
            # a mixed-case alias in a JKS/JCEKS file: Java looks it up in lowercase, so never finds it
            described["unreachable"] = True
        if entry.kind is keystore.EntryKind.SECRET_KEY:
            # the algorithm only when the store password opened it; never the key or a hash of it
            described["secret_key"] = ({"algorithm": entry.secret.algorithm, "size": 8 * len(entry.secret.value)}
                                       if entry.secret else None)
        entries.append(described)
    return {"format": JSON_FORMAT, "kind": "keystore", "type": store.type.value, "entries": entries}


def describe_data(data: bytes, *, source: str, storepass: Callable[[], str | None],
                  store_type: str | None = None) -> Info:
    """Whatever `data` is: keystore, certificate(s), CSR or private key (`store_type`: read it
    as that keystore type, whatever its content). `storepass` is called only for a keystore, so
    a PEM never prompts for a password."""
    from . import opener

    read = opener.Source.of(data, source)
    if store_type is not None or read.type is not None:
        return describe_store(opener.open_store(
            read, storepass, mode=opener.Mode.SEALED, decrypt_secrets=True,
            store_type=keystore.StoreType.parse(store_type) if store_type is not None else None).store)
    if b"CERTIFICATE REQUEST-----" in data:
        from .csr import load_csr

        return _describe_csr(load_csr(data, what=source))
    if b"PRIVATE KEY-----" in data:
        return _describe_key_file(data, source)
    try:
        found = certs.load_certificates(data, what=source)
    except BadInputError:
        if b"-----BEGIN" in data:
            raise
        return _describe_der_guess(data, source)
    return {"format": JSON_FORMAT, "kind": "certificates", "certificates": [describe_certificate(c) for c in found]}


def to_json(info: Info) -> str:
    """describe_data's result as JSON, indented, with each keystore entry or certificate on one
    line: json's C encoder writes those (its indenting encoder is pure Python, and a 100000-entry
    truststore took seconds)."""
    import json

    from .escaping import escape_data

    info = escape_data(info)  # type: ignore[assignment]  # names and file names as safe as in text
    items_key = "entries" if info["kind"] == "keystore" else "certificates" if info["kind"] == "certificates" else None
    if items_key is None:
        return json.dumps(info, indent=2)
    head = {k: v for k, v in info.items() if k != items_key}
    lines = [json.dumps(item) for item in info[items_key]]
    body = ",\n    ".join(lines)
    outer = json.dumps({**head, items_key: []}, indent=2)
    return outer.replace(f'"{items_key}": []', f'"{items_key}": [\n    {body}\n  ]' if lines else f'"{items_key}": []')


def _describe_csr(csr: x509.CertificateSigningRequest) -> Info:
    return {"format": JSON_FORMAT, "kind": "csr", "subject": csr.subject.rfc4514_string(),
            "key": _key_info(csr.public_key()), "san": _sans(csr.extensions),
            "signature_valid": csr.is_signature_valid}


def _describe_key_file(data: bytes, source: str) -> Info:
    if keys.is_encrypted(data):
        return {"format": JSON_FORMAT, "kind": "private-key", "encrypted": True, "key": None}
    key = keys.load_private_key(data, what=source)
    return {"format": JSON_FORMAT, "kind": "private-key", "encrypted": False, "key": _key_info(key)}


def _describe_der_guess(data: bytes, source: str) -> Info:
    """DER that is not a certificate: a CSR or an unencrypted key, else an error."""
    from .csr import load_csr

    try:
        return _describe_csr(load_csr(data, what=source))
    except BadInputError:
        pass
    try:
        return {"format": JSON_FORMAT, "kind": "private-key", "encrypted": False,
                "key": _key_info(keys.load_private_key(data, what=source))}
    except Exception:  # noqa: BLE001
        raise BadInputError(
            f"{source} is not a certificate, CSR, private key or JKS/JCEKS/PKCS12 keystore"
        ) from None


def _ca_text(info: Info) -> str:
    if not info["ca"]:
        return "no"
    return "yes" if info["path_length"] is None else f"yes (pathlen {info['path_length']})"


def certificate_lines(info: Info, indent: str = "  ") -> list[str]:
    key = info["key"]
    key_text = f"{key['type']} {key.get('curve') or key['size']}"
    lines = [
        f"Subject:     {info['subject']}",
        f"Issuer:      {info['issuer']}" + ("  (self-signed)" if info["self_signed"] else ""),
        f"Serial:      {info['serial']}",
        f"Valid:       {info['not_before']} to {info['not_after']}",
        f"Key:         {key_text}",
        f"Key usage:   {', '.join(info['key_usage']) or '-'}",
        f"EKU:         {', '.join(info['extended_key_usage']) or '-'}",
        f"CA:          {_ca_text(info)}",
        f"SAN:         {', '.join(info['san']) or '-'}",
        f"SHA-256:     {info['sha256']}",
    ]
    return [indent + line for line in lines]


def text_lines(info: Info) -> list[str]:
    """The human form of describe_data's result."""
    kind = info["kind"]
    if kind == "keystore":
        count = len(info["entries"])
        out = [f"Keystore type: {info['type'].upper()}, {count} {'entry' if count == 1 else 'entries'}"]
        for entry in info["entries"]:
            out.append("")
            if entry.get("unreachable"):
                out.append(f"Alias: {entry['alias']}  (unreachable: Java looks up {entry['alias'].lower()!r} "
                           "instead, as it lowercases aliases)")
                continue
            if entry["kind"] == "SecretKeyEntry":
                secret = entry.get("secret_key")
                what = f"{secret['algorithm']}, {secret['size']} bits" if secret else "not decrypted"
                out.append(f"Alias: {entry['alias']}  (SecretKeyEntry, {what})")
                continue
            out.append(f"Alias: {entry['alias']}  ({entry['kind']}, chain of {len(entry['chain'])})")
            for n, cert in enumerate(entry["chain"]):
                out.append(f"  [{n}]")
                out += certificate_lines(cert, "    ")
        return out
    if kind == "certificates":
        out = []
        for n, cert in enumerate(info["certificates"]):
            out.append(f"Certificate [{n}]")
            out += certificate_lines(cert)
        return out
    if kind == "csr":
        key = info["key"]
        return ["Certificate signing request", f"  Subject:   {info['subject']}",
                f"  Key:       {key['type']} {key.get('curve') or key['size']}",
                f"  SAN:       {', '.join(info['san']) or '-'}",
                f"  Signature: {'valid' if info['signature_valid'] else 'INVALID'}"]
    key = info["key"]
    if info["encrypted"]:
        return ["Private key (encrypted PKCS#8; its type is inside the encryption)"]
    return [f"Private key: {key['type']} {key.get('curve') or key['size']} (not shown)"]


# --- a CA folder: the CA and what its ledger says it issued (inspect CA_DIR) ----------------------

def describe_ca_folder(cert: x509.Certificate, book: Ledger, *, ledger_path: str, now: dt.datetime,
                       key: Info | None = None) -> Info:
    """The CA and each certificate of its ledger (ledger.Ledger) with its state at `now`
    (valid, expired, revoked), as inspect CA_DIR --json prints it. `key` says where the CA's
    key is (ca_key_info)."""
    from .ledger import serial_hex

    rows = []
    for item in book.issued:
        revoked = book.revocation(item.serial)
        rows.append({"serial": serial_hex(item.serial), "subject": item.subject,
                     "profile": item.profile, "not_before": _time(item.not_before),
                     "not_after": _time(item.not_after), "state": book.state(item, now),
                     "issued_by": item.by, "sha256": item.sha256,
                     "renews": serial_hex(item.renews) if item.renews is not None else None,
                     "revoked_at": _time(revoked.at) if revoked else None,
                     "reason": revoked.reason.value if revoked else None})
    return {"format": JSON_FORMAT, "kind": "ca-folder", "ca": describe_certificate(cert),
            "key": key, "ledger": ledger_path, "crl_number": book.crl_number, "issued": rows}


def ca_key_info(key_file: bytes | None, token_file: bytes | None, *, folder: str) -> Info | None:
    """Where a CA folder's key is, from its files alone (no PIN, no token): {"kind": "pkcs11",
    "uri", "token", "object"} for ca.pkcs11, {"kind": "file", "encrypted"} for ca.key, None for neither."""
    if token_file is not None:
        from .hsm import read_token_file

        uri = read_token_file(token_file, what=f"{folder}/ca.pkcs11")
        return {"kind": "pkcs11", "uri": str(uri), "token": uri.token, "object": uri.object}
    if key_file is not None:
        from .keys import is_encrypted

        return {"kind": "file", "encrypted": is_encrypted(key_file)}
    return None


def ca_folder_lines(info: Info, folder: str) -> list[str]:
    """describe_ca_folder's data as inspect CA_DIR prints it: the CA, then one line per certificate."""
    lines = [f"CA folder {folder}: {info['ca']['subject']}, valid until {info['ca']['not_after'][:10]}",
             f"Issued: {len(info['issued'])} certificate(s) in {info['ledger']}"
             + (f"; last CRL number {info['crl_number']}" if info["crl_number"] else ""),
             _key_line(info.get("key"))]
    for row in info["issued"]:
        extra = f" on {row['revoked_at'][:10]} ({row['reason']})" if row["revoked_at"] else ""
        lines.append(f"  {row['serial']}  {row['state'].upper()}{extra}  until {row['not_after'][:10]}  "
                     f"{row['subject']}  ({row['profile']}, {row['issued_by']})")
    return lines


def _key_line(key: Info | None) -> str:
    if key is None:
        return "Key: none in the folder (no ca.key, no ca.pkcs11): it cannot issue"
    if key["kind"] == "pkcs11":
        return f"Key: in PKCS#11 token {key['token']!r}, object {key['object']!r} (ca.pkcs11: {key['uri']})"
    return f"Key: ca.key, {'encrypted' if key['encrypted'] else 'NOT encrypted'}"
