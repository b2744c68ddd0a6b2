"""Checks of a certificate, its chain and its key, returning findings rather than raising.

Each finding names its check, so a user (and a test) can tell an expired certificate from a
missing intermediate. Profiles add the rules of the place the certificate will be used.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from . import certs
from .choices import Choice
from .errors import BadInputError
from .issue import utcnow
from .keys import PrivateKey, describe_key, same_public_key

if TYPE_CHECKING:
    from .keystore import Entry

# The key types that can sign a CRL (cryptography's is_signature_valid takes these).
CRL_SIGNER_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, dsa.DSAPublicKey,
                   ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)


class VerifyProfile(Choice, label="profile", default="none"):
    NONE = "none"
    CLIENT = "client"
    SALESFORCE_MTLS = "salesforce-mtls"
    SALESFORCE_JWT = "salesforce-jwt"


@dataclass(frozen=True)
class Finding:
    check: str
    message: str
    warning: bool = False


@dataclass(frozen=True)
class Report:
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    profile: VerifyProfile
    findings: tuple[Finding, ...] = field(default=())

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.warning)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.warning)

    @property
    def ok(self) -> bool:
        return not self.problems


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def build_path(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate],
               roots: Sequence[x509.Certificate]) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    """The path from the leaf up to a root, and what stopped it if it does not get there.

    With roots given, the path must end at one of them; without, at a self-signed certificate
    (the chain is then checked against its own root)."""
    path = [leaf]
    pool = [c for c in intermediates if c != leaf]
    while True:
        current = path[-1]
        anchor = next((r for r in roots if certs.issued_by(current, r)), None)
        if anchor is not None:
            if anchor != current:
                path.append(anchor)
            return tuple(path), []
        if certs.is_self_issued(current) and certs.issued_by(current, current):
            if roots:
                return tuple(path), [Finding("wrong-root", f"the chain ends at {_name(current)}, which is not "
                                                           "one of the roots given with --ca")]
            return tuple(path), []
        parent = next((c for c in pool if certs.issued_by(current, c)), None)
        if parent is not None:
            path.append(parent)
            pool.remove(parent)
            continue
        issuer = current.issuer.rfc4514_string()
        named = [c for c in [*pool, *roots] if c.subject == current.issuer]
        if any(_same_key_id(current, c) for c in named):
            return tuple(path), [Finding("bad-signature", f"the signature on {_name(current)} does not verify "
                                                          f"with the key of its issuer {issuer}: the certificate "
                                                          "was altered after it was signed")]
        if named:
            return tuple(path), [Finding("wrong-root", f"{_name(current)} names {issuer} as its issuer, but "
                                                       "the certificate of that name given did not sign it")]
        return tuple(path), [Finding("missing-intermediate", f"no certificate for {issuer}, the issuer of "
                                                             f"{_name(current)}; add it with --chain")]


def _same_key_id(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when cert's authority key identifier is issuer's subject key identifier: the issuer
    of that name and key was meant, so a failing signature means an altered certificate."""
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return False
    return aki is not None and aki == ski


def _dates(path: Sequence[x509.Certificate], now: dt.datetime) -> list[Finding]:
    out = []
    for cert in path:
        if cert.not_valid_after_utc < now:
            out.append(Finding("expired", f"{_name(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"))
        elif cert.not_valid_before_utc > now:
            out.append(Finding("not-yet-valid", f"{_name(cert)} is not valid before "
                                                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"))
    return out


def _constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _issuers_are_cas(path: Sequence[x509.Certificate]) -> list[Finding]:
    out = []
    for cert in path[1:]:
        bc = _constraints(cert)
        if bc is None or not bc.ca:
            out.append(Finding("issuer-not-ca", f"{_name(cert)} signs other certificates but is not a CA"))
    return out


def _issuer_rules(path: Sequence[x509.Certificate]) -> list[Finding]:
    """keyCertSign on every issuer that has a key usage, and each pathLenConstraint (RFC 5280
    6.1.4 (k)-(n), the checks OpenSSL reports as "key usage does not include certificate
    signing" and "path length constraint exceeded")."""
    out = []
    for index, cert in enumerate(path[1:], start=1):
        try:
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            if not usage.key_cert_sign:
                out.append(Finding("no-key-cert-sign", f"{_name(cert)} signs certificates but its key usage "
                                                       "does not allow keyCertSign"))
        except x509.ExtensionNotFound:
            pass
        bc = _constraints(cert)
        if bc is None or not bc.ca or bc.path_length is None:
            continue
        # the CA certificates below this one, a self-issued one not counted (RFC 5280 6.1.4 (l))
        below = sum(1 for c in path[1:index] if not certs.is_self_issued(c))
        if below > bc.path_length:
            out.append(Finding("path-length", f"{_name(cert)} allows {bc.path_length} CA certificate(s) below it "
                                              f"(pathLenConstraint), but the chain has {below}"))
    return out


# Signature hashes no longer safe against collisions (SHA-1: SHAttered, 2017; MD5: 2008).
# Browsers and OpenSSL 3 at its default security level refuse them in a chain.
WEAK_HASHES = {"md5": "MD5", "sha1": "SHA-1", "md2": "MD2", "md4": "MD4"}


def _signatures(path: Sequence[x509.Certificate]) -> list[Finding]:
    """A weak signature hash anywhere it is relied on (a root's own self-signature is not)."""
    out = []
    for cert in path:
        if cert is path[-1] and len(path) > 1 and certs.is_self_issued(cert):
            continue
        weak = WEAK_HASHES.get(certs.signature_hash_name(cert) or "")
        if weak:
            out.append(Finding("weak-signature", f"{_name(cert)} is signed with {weak}, which is broken; "
                                                 "reissue it with SHA-256"))
    return out


def _client_rules(leaf: x509.Certificate) -> list[Finding]:
    out = []
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        has_client_auth = ExtendedKeyUsageOID.CLIENT_AUTH in eku
    except x509.ExtensionNotFound:
        has_client_auth = False
    if not has_client_auth:
        out.append(Finding("no-client-auth", f"{_name(leaf)} lacks the clientAuth extended key usage"))
    bc = _constraints(leaf)
    if bc is not None and bc.ca:
        out.append(Finding("leaf-is-ca", f"{_name(leaf)} is a CA certificate, not a client certificate"))
    return out


def _key_strength(path: Sequence[x509.Certificate]) -> list[Finding]:
    """Every certificate of the chain, not only the leaf: a weak CA key forges any leaf."""
    out = []
    for cert in path:
        public = cert.public_key()
        if isinstance(public, rsa.RSAPublicKey) and public.key_size < 2048:
            out.append(Finding("weak-key", f"{_name(cert)} has an RSA key of {public.key_size} bits; 2048 is the "
                                           "minimum"))
        elif not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            out.append(Finding("key-type", f"{_name(cert)} has a {describe_key(public)} key; use RSA or EC"))
    return out


def public_roots(bundle: Path | None = None) -> list[x509.Certificate]:
    """The roots of the system's public trust bundle (empty when there is none)."""
    if bundle is None:
        paths = ssl.get_default_verify_paths()
        candidates = [paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"]
        bundle = next((Path(p) for p in candidates if p and Path(p).is_file()), None)
    if bundle is None:
        return []
    try:
        return certs.load_certificates(bundle.read_bytes(), what=str(bundle))
    except (OSError, BadInputError):
        return []


def _private_root_warning(path: Sequence[x509.Certificate],
                          trusted_public: Sequence[x509.Certificate]) -> list[Finding]:
    top = path[-1]
    if not certs.is_self_issued(top):
        return []
    if any(r.subject == top.subject and same_public_key(r.public_key(), top.public_key()) for r in trusted_public):
        return []
    return [Finding("private-root", f"the root {_name(top)} is not in the public trust bundle: Salesforce's "
                                    "production endpoint refuses private roots unless Salesforce support has "
                                    "added that root", warning=True)]


# --- the file uploaded to Salesforce, and the 2026 clientAuth rule ---
# Salesforce Help, "Configure Your API Client to Use Mutual Authentication": the chain in one PEM,
# client certificate first, then the certificate that signed it, then each further intermediate;
# the root optional and generally not included. From June 2026 public CAs no longer issue
# certificates with both clientAuth and serverAuth (Chrome Root Program policy 1.7).

def upload_findings(upload: Sequence[x509.Certificate], path: Sequence[x509.Certificate]) -> list[Finding]:
    """The PEM meant for upload (`upload`, as given) against the leaf's path: order, every
    intermediate present, root left out."""
    out = []
    for cert, after in zip(upload, upload[1:], strict=False):
        if not certs.issued_by(cert, after):
            out.append(Finding("upload-order", f"the file is not in order: {_name(cert)} is not signed by "
                                               f"{_name(after)}, the certificate after it; Salesforce wants the "
                                               "client certificate first, then the certificate that signed it, "
                                               "then each further intermediate (ktpy export-pem --with-chain "
                                               "writes them in order)"))
            break
    for cert in path[1:]:
        if not certs.is_self_issued(cert) and cert not in upload:
            out.append(Finding("missing-intermediate", f"the file lacks the intermediate {_name(cert)}: "
                                                       "Salesforce needs the client certificate followed by "
                                                       "every intermediate"))
    roots = [c for c in upload[1:] if certs.is_self_issued(c)]
    if roots:
        out.append(Finding("upload-holds-root", f"the file holds the root {_name(roots[0])}: Salesforce calls "
                                                "the root optional and generally not included (ktpy "
                                                "export-pem --with-chain leaves it out)", warning=True))
    return out


def _is_public(cert: x509.Certificate, trusted_public: Sequence[x509.Certificate]) -> bool:
    return any(r.subject == cert.subject and same_public_key(r.public_key(), cert.public_key())
               for r in trusted_public)


def _from_public_ca(path: Sequence[x509.Certificate], trusted_public: Sequence[x509.Certificate]) -> bool:
    """The path ends at a public root, or at a certificate a public root signed."""
    top = path[-1]
    return _is_public(top, trusted_public) or any(certs.issued_by(top, r) for r in trusted_public
                                                  if r.subject == top.issuer)


def end_at_public_root(path: tuple[x509.Certificate, ...], findings: list[Finding],
                       trusted_public: Sequence[x509.Certificate],
                       ) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    """A path that stops below a public root (the upload file leaves the root out, as Salesforce
    advises) ends at that root, found in the public trust bundle, instead of missing it."""
    top = path[-1]
    root = next((r for r in trusted_public if r.subject == top.issuer and certs.issued_by(top, r)), None)
    if root is None or [f.check for f in findings] != ["missing-intermediate"]:
        return path, findings
    return (*path, root), []


def server_and_client_auth(leaf: x509.Certificate, public: bool) -> list[Finding]:
    """serverAuth beside clientAuth: a problem from a public CA (the June 2026 rule), a warning
    from a private one."""
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    if ExtendedKeyUsageOID.CLIENT_AUTH not in eku or ExtendedKeyUsageOID.SERVER_AUTH not in eku:
        return []
    if public:
        return [Finding("server-and-client-auth", f"{_name(leaf)} has serverAuth as well as clientAuth, from a "
                                                  "public CA: since June 2026 public CAs no longer issue such "
                                                  "certificates; ask the CA for a clientAuth-only certificate")]
    return [Finding("server-and-client-auth", f"{_name(leaf)} has serverAuth as well as clientAuth: public CAs "
                                              "no longer issue such certificates since June 2026; issue client "
                                              "certificates with clientAuth only (ktpy issue-client does)",
                    warning=True)]


def verify(leaf: x509.Certificate, *, intermediates: Sequence[x509.Certificate] = (),
           roots: Sequence[x509.Certificate] = (), key: PrivateKey | None = None,
           profile: VerifyProfile | str | None = None, now: dt.datetime | None = None,
           trusted_public: Sequence[x509.Certificate] | None = None,
           upload: Sequence[x509.Certificate] | None = None) -> Report:
    """Every check that applies, as findings: chain to a root, dates, key match, profile rules.
    `upload` is a PEM meant for Salesforce's upload, as given, checked with salesforce-mtls."""
    profile = VerifyProfile.parse(profile)
    now = now or utcnow()
    path, findings = build_path(leaf, intermediates, roots)
    trusted: Sequence[x509.Certificate] = ()
    if profile is VerifyProfile.SALESFORCE_MTLS:
        trusted = public_roots() if trusted_public is None else trusted_public
        if not roots:
            path, findings = end_at_public_root(path, findings, trusted)
    findings += _dates(path, now)
    findings += _issuers_are_cas(path)
    findings += _issuer_rules(path)
    findings += _signatures(path)
    if key is not None and not same_public_key(key.public_key(), leaf.public_key()):
        findings.append(Finding("key-mismatch", f"the private key does not match {_name(leaf)}"))
    if profile in (VerifyProfile.CLIENT, VerifyProfile.SALESFORCE_MTLS):
        findings += _client_rules(leaf)
    if profile is VerifyProfile.SALESFORCE_MTLS:
        if certs.is_self_issued(leaf):
            findings.append(Finding("self-signed", f"{_name(leaf)} is self-signed: Salesforce refuses "
                                                   "self-signed mutual authentication certificates"))
        findings += _key_strength(path)
        findings += server_and_client_auth(leaf, _from_public_ca(path, trusted))
        if upload is not None and not any(f.check == "missing-intermediate" for f in findings):
            findings += upload_findings(upload, path)
        if not any(f.check in ("missing-intermediate", "wrong-root", "bad-signature") for f in findings):
            findings += _private_root_warning(path, trusted)
    if profile is VerifyProfile.SALESFORCE_JWT and not isinstance(leaf.public_key(), rsa.RSAPublicKey):
        findings.append(Finding("not-rsa", f"{_name(leaf)} has a {describe_key(leaf.public_key())} key; the JWT "
                                           "bearer flow signs with RS256 and needs an RSA key"))
    return Report(leaf=leaf, chain=path, profile=profile, findings=tuple(findings))


# --- lifecycle checks (verify --expires-within, verify --crl) ---

def expires_soon(path: Sequence[x509.Certificate], now: dt.datetime, days: int) -> list[Finding]:
    """`expires-soon` for each certificate of the path still valid now that ends within `days`."""
    limit = now + dt.timedelta(days=days)
    return [Finding("expires-soon", f"{_name(cert)} expires on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, "
                                    f"in {(cert.not_valid_after_utc - now).days} day(s) (within {days})")
            for cert in path if now <= cert.not_valid_after_utc <= limit]


def revoked(path: Sequence[x509.Certificate], crl: x509.CertificateRevocationList,
            now: dt.datetime) -> list[Finding]:
    """`revoked` when the CRL, signed by an issuer on the path, lists the certificate below it;
    `crl-issuer` when no certificate of the path signed the CRL (so it proves nothing);
    `crl-expired` when its next update has passed."""
    from .revocation import reason_of

    out = []
    for cert, issuer in zip(path, path[1:], strict=False):
        issuer_key = issuer.public_key()
        if not isinstance(issuer_key, CRL_SIGNER_KEYS):
            continue
        if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer_key):
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            out.append(Finding("revoked", f"{_name(cert)} was revoked on "
                                          f"{entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC "
                                          f"(reason: {reason_of(entry)})"))
        if crl.next_update_utc is not None and crl.next_update_utc < now:
            out.append(Finding("crl-expired", f"the CRL of {_name(issuer)} was due for renewal on "
                                              f"{crl.next_update_utc:%Y-%m-%d %H:%M} UTC"))
        return out
    return [Finding("crl-issuer", f"the CRL was issued by {crl.issuer.rfc4514_string()}, which signed no "
                                  "certificate of the chain (or its signature does not verify)")]


# --- renderers: the report as JSON and as text lines -------------------------------------------

JSON_FORMAT = 1


def as_json(report: Report) -> dict[str, object]:
    """The report as verify --json prints it: format, ok, profile, the chain's subjects, and the
    problems and warnings, each with its check and message."""
    return {
        "format": JSON_FORMAT, "ok": report.ok, "profile": report.profile.value,
        "chain": [c.subject.rfc4514_string() for c in report.chain],
        "problems": [{"check": f.check, "message": f.message} for f in report.problems],
        "warnings": [{"check": f.check, "message": f.message} for f in report.warnings],
    }


def text_lines(report: Report) -> list[str]:
    """The report as verify prints it: the chain, one FAIL or WARN line per finding, a verdict."""
    problems = report.problems
    return [
        "Chain: " + " -> ".join(c.subject.rfc4514_string() for c in report.chain),
        *(f"{'WARN' if f.warning else 'FAIL'} {f.check}: {f.message}" for f in report.findings),
        "OK: every check holds" if not problems else f"{len(problems)} problem(s) found",
    ]


def with_lifecycle_findings(report: Report, expires_within: int | None,
                            crl: x509.CertificateRevocationList | None, now: dt.datetime) -> Report:
    """The report with the expires-soon (within `expires_within` days) and revoked (by `crl`)
    checks added: verify --expires-within and --crl."""
    import dataclasses

    extra: list[Finding] = []
    if expires_within is not None:
        extra += expires_soon(report.chain, now, expires_within)
    if crl is not None:
        extra += revoked(report.chain, crl, now)
    return dataclasses.replace(report, findings=(*report.findings, *extra))


def stored_key(entry: Entry, storepass: str | None, keypass: str | None, *,
               profile: VerifyProfile | str) -> tuple[PrivateKey | None, list[Finding]]:
    """The key of a keystore's key entry (read sealed) to verify against its certificate, opened
    with keypass (default: the store password), and the findings about its password: not
    checked (no store password, or the store password does not open it), and, for the
    salesforce-jwt profile, a key password that differs from the store password (the
    Salesforce connector's JWT connection has no key password field)."""
    from . import keystore
    from .errors import WrongPasswordError

    notes: list[Finding] = []
    key = None
    password = storepass if keypass is None else keypass
    if password is None:  # --no-storepass: the key stays sealed
        notes.append(Finding("key-not-checked", "without a store password the key is not opened; "
                                                "pass --keypass to check the key", warning=True))
    else:
        try:
            key = keystore.open_entry(entry, password).key
        except WrongPasswordError:
            notes.append(Finding("key-not-checked", "the key's password differs from the store password; "
                                                    "pass --keypass to check the key", warning=True))
            keypass = keypass or ""  # (not the store password)
    if VerifyProfile.parse(profile) is VerifyProfile.SALESFORCE_JWT and keypass is not None and keypass != storepass:
        notes.append(Finding("key-password-differs", "the key's password differs from the store password; "
                             "the Salesforce connector's JWT connection has no key password field and "
                             "cannot open this key"))
    return key, notes
