"""Would Java trust this server? The decision of the JDK's default trust manager, given a truststore,
and the truststore that makes it say yes.

    decision = java_trusts(chain.certificates, anchors_of(store), host="api.example.com", now=now)
    decision.trusted, decision.reasons, decision.advice

What Java 17 does (sun.security.ssl.X509TrustManagerImpl and sun.security.validator.PKIXValidator,
the default TrustManagerFactory "PKIX", as Mule's tls:trust-store and HttpsURLConnection use it):
- The trust anchors are the truststore's trusted certificate entries and the first certificate of
  each key entry (TrustStoreUtil.getTrustedCerts). An anchor's own dates are not checked (a
  PKIX TrustAnchor carries no validity), nor its CA flag.
- A server certificate that is itself an anchor (the very certificate: a renewed one with the same
  subject and key is not) is trusted at once, its dates unchecked (PKIXValidator.engineValidate
  returns it alone). Above the server certificate, a certificate with an anchor's subject and
  public key counts as that anchor.
- Otherwise a path is built from the server's certificate through the certificates it sent, in
  any order, duplicates and strays ignored, to a certificate that is an anchor or is signed by one
  (engineValidate, then SunCertPathBuilder when the chain is out of order). A missing intermediate
  is not fetched: AIA fetching (com.sun.security.enableAIAcaIssuers) is off by default.
- Every certificate on the path below the anchor must be valid now, intermediates must be CAs,
  and the server certificate's extended key usage, when present, must allow serverAuth
  (EndEntityChecker, TLS server variant).
- The host name (endpoint identification "HTTPS", sun.security.util.HostnameChecker): the SNI name
  is tried first, then the host connected to; an IP address must be an IP SAN; a name must match a
  DNS SAN (a wildcard stands for the leftmost label only), and only when the certificate has no
  DNS SAN at all, its most specific CN.

The system trust bundle (where a root the server does not send is looked up) is $SSL_CERT_FILE
when set, else OpenSSL's default file, else Debian's /etc/ssl/certs/ca-certificates.crt; a caller
may give another file (tests use a private root as "the system bundle").
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import certs
from .errors import BadInputError, KtpyError
from .keys import same_public_key
from .keystore import EntryKind, Keystore
from .probe import _is_ip, _name_matches
from .server_chain import ca_issuers_urls, find_issuer, path_from_leaf

# Environment variable naming the system bundle; OpenSSL and Python's ssl module read it too.
BUNDLE_ENV = "SSL_CERT_FILE"
DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class UntrustedChainError(KtpyError):
    """A server chain that does not verify, so no truststore is built from it."""


@dataclass(frozen=True)
class Bundle:
    """The system trust bundle: its file and its certificates (empty when there is none)."""

    path: str | None
    roots: tuple[x509.Certificate, ...]

    @property
    def label(self) -> str:
        return f"the system bundle {self.path}" if self.path else "the system bundle (none found)"


def system_bundle(path: str | Path | None = None) -> Bundle:
    """The bundle at `path`, else $SSL_CERT_FILE, else OpenSSL's default, else Debian's file."""
    if path is not None:
        from . import files

        data = files.read(path, what="system bundle")
        return Bundle(str(path), tuple(certs.load_certificates(data, what=str(path))))
    candidates = [os.environ.get(BUNDLE_ENV), ssl.get_default_verify_paths().openssl_cafile, DEBIAN_BUNDLE]
    found = next((p for p in candidates if p and Path(p).is_file()), None)
    if found is None:
        return Bundle(None, ())
    try:
        return Bundle(found, tuple(certs.load_certificates(Path(found).read_bytes(), what=found)))
    except (OSError, BadInputError):
        return Bundle(found, ())


@dataclass(frozen=True)
class Anchor:
    alias: str
    cert: x509.Certificate


def anchors_of(store: Keystore) -> tuple[Anchor, ...]:
    """What Java trusts in a truststore: each trusted certificate entry, and the first certificate
    of each key entry (TrustStoreUtil.getTrustedCerts)."""
    out = []
    for entry in store.entries:
        if entry.chain and entry.kind is not EntryKind.SECRET_KEY:
            out.append(Anchor(entry.alias, entry.chain[0]))
    return tuple(out)


@dataclass(frozen=True)
class Decision:
    trusted: bool
    path: tuple[x509.Certificate, ...]  # from the server's certificate up to (and with) the anchor
    anchor: Anchor | None
    reasons: tuple[str, ...]  # why not, one sentence each (empty when trusted)
    advice: tuple[str, ...]  # what to add, and where it comes from
    host_checked: tuple[str, ...] = field(default=())  # the names tried, in Java's order


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _same(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a == b or (a.subject == b.subject and same_public_key(a.public_key(), b.public_key()))


def _when(value: dt.datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _dates(cert: x509.Certificate, now: dt.datetime) -> str | None:
    if cert.not_valid_after_utc < now:
        return f"{_name(cert)} expired on {_when(cert.not_valid_after_utc)}"
    if cert.not_valid_before_utc > now:
        return f"{_name(cert)} is not valid before {_when(cert.not_valid_before_utc)}"
    return None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.version is x509.Version.v1  # PKIX takes an X.509 v1 intermediate as a CA


def _server_usage(leaf: x509.Certificate) -> str | None:
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    allowed = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
               x509.ObjectIdentifier("2.16.840.1.113730.4.1"), x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3")}
    if not allowed & set(eku):
        return f"{_name(leaf)} does not allow serverAuth in its extended key usage"
    return None


def host_matches(cert: x509.Certificate, host: str) -> bool:
    """Java's HostnameChecker for TLS: IP SANs for an address; DNS SANs for a name, or the most
    specific CN when the certificate has no DNS SAN."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = None
    if _is_ip(host):
        return sans is not None and ipaddress.ip_address(host) in sans.get_values_for_type(x509.IPAddress)
    dns = sans.get_values_for_type(x509.DNSName) if sans is not None else []
    if dns:
        return any(_name_matches(name, host) for name in dns)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return bool(cns) and _name_matches(str(cns[-1].value), host)


def _names_of(cert: x509.Certificate) -> str:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        listed = [f"dns:{n}" for n in sans.get_values_for_type(x509.DNSName)]
        listed += [f"ip:{n}" for n in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        listed = []
    return ", ".join(listed) or f"no SAN (CN {_name(cert)})"


def _paths(presented: Sequence[x509.Certificate], anchors: Sequence[Anchor],
           ) -> list[tuple[tuple[x509.Certificate, ...], Anchor]]:
    """Every path from the server's certificate through what it sent to an anchor, as the PKIX
    builder searches them (the certificates sent in any order)."""
    leaf = presented[0]
    pool = list(dict.fromkeys(presented[1:]))
    found: list[tuple[tuple[x509.Certificate, ...], Anchor]] = []

    def walk(path: tuple[x509.Certificate, ...]) -> None:
        current = path[-1]
        # (a certificate sent that is an anchor, or has its subject and key, needs no case of its
        # own: what it signed is then signed by that anchor too)
        for anchor in anchors:
            if anchor.cert.subject == current.issuer and certs.issued_by(current, anchor.cert):
                found.append(((*path, anchor.cert), anchor))
        for cert in pool:
            if cert not in path and cert.subject == current.issuer and certs.issued_by(current, cert):
                walk((*path, cert))

    walk((leaf,))
    return found


def java_trusts(presented: Sequence[x509.Certificate], anchors: Sequence[Anchor], *, host: str | None,
                now: dt.datetime, sni: str | None = None, bundle: Bundle | None = None,
                server_label: str = "the server") -> Decision:
    """Whether Java's default trust manager with these anchors accepts the chain for `host` (None:
    no host name check), and if not, why and what to add (looking in `bundle` for a root)."""
    if not presented:
        return Decision(False, (), None, (f"{server_label} sent no certificate",), ())
    leaf = presented[0]
    names = tuple(dict.fromkeys(n for n in (sni, host) if n))
    name_problem = None
    if names and not any(host_matches(leaf, n) for n in names):
        name_problem = (f"{_name(leaf)} is for {_names_of(leaf)}, not {names[-1]}"
                        + (f" (nor {names[0]}, the SNI name)" if len(names) > 1 else ""))
    direct = next((a for a in anchors if a.cert == leaf), None)
    if direct is not None:  # the server certificate itself is trusted: no path, no dates
        if name_problem:
            return Decision(False, (leaf,), direct, (name_problem,), (_name_advice(leaf, names),), names)
        return Decision(True, (leaf,), direct, (), (), names)
    best: tuple[tuple[x509.Certificate, ...], Anchor, list[str]] | None = None
    usage = _server_usage(leaf)
    for path, anchor in _paths(presented, anchors):
        below = path[:-1]  # the anchor's own dates and CA flag are not checked
        problems = [p for p in (_dates(c, now) for c in below) if p]
        problems += [f"{_name(c)} signs the certificate below it but is not a CA" for c in below[1:] if not _is_ca(c)]
        if usage:
            problems.append(usage)
        if best is None or len(problems) < len(best[2]):
            best = (path, anchor, problems)
        if not problems:
            break
    if best is None:
        return _no_path(presented, anchors, bundle, name_problem, names)
    path, anchor, problems = best
    if name_problem:
        problems.append(name_problem)
    advice = [f"{p}: no truststore change helps; the server must replace that certificate" for p in problems
              if "expired" in p or "not valid before" in p]
    if name_problem:
        advice.append(_name_advice(leaf, names))
    return Decision(not problems, path, anchor, tuple(problems), tuple(advice), names)


def _name_advice(leaf: x509.Certificate, names: Sequence[str]) -> str:
    return (f"connect with a name the certificate holds ({_names_of(leaf)}), or the server must present a "
            f"certificate for {names[-1]}; a truststore cannot fix a name mismatch")


def _no_path(presented: Sequence[x509.Certificate], anchors: Sequence[Anchor], bundle: Bundle | None,
             name_problem: str | None, names: tuple[str, ...]) -> Decision:
    """No path to an anchor: say what the chain ends at and which certificate would complete it."""
    bundle = bundle or Bundle(None, ())
    path, _ = path_from_leaf(presented)
    top = path[-1]
    reasons = [f"no certificate in the truststore is, or signed, any certificate on the server's path "
               f"({' -> '.join(_name(c) for c in path)})"]
    advice = []
    if certs.is_self_issued(top) and certs.issued_by(top, top):
        in_bundle = any(_same(top, r) for r in bundle.roots)
        kind = "the server's own (self-signed) certificate" if len(path) == 1 else "the root"
        where = (f"the server sends it, and it is in {bundle.label}" if in_bundle else
                 "the server sends it; it is not in the system bundle, so check its SHA-256 "
                 "fingerprint with the server's owner before trusting it")
        advice.append(f"add {kind} {_name(top)} (SHA-256 {certs.fingerprint(top)}): {where}")
    else:
        root = find_issuer(top, bundle.roots)
        if root is not None:
            advice.append(f"add the root {_name(root)} (SHA-256 {certs.fingerprint(root)}): the server does not "
                          f"send it; it is in {bundle.label}")
        else:
            urls = ca_issuers_urls(top)
            published = f" (its caIssuers URL: {urls[0]})" if urls else ""
            reasons.append(f"the server does not send {top.issuer.rfc4514_string()}, the issuer of {_name(top)}, "
                           "and Java does not fetch a missing certificate")
            advice.append(f"have the server send its intermediate {top.issuer.rfc4514_string()}, or add that "
                          f"certificate (or its root) to the truststore, from its CA{published}; it is not in "
                          f"{bundle.label}")
    if name_problem:
        reasons.append(name_problem)
        advice.append(_name_advice(presented[0], names))
    return Decision(False, tuple(path), None, tuple(reasons), tuple(advice), names)


def decision_lines(decision: Decision, *, truststore: str, server: str) -> list[str]:
    """The decision as verify-trust and probe --truststore print it."""
    lines = []
    if decision.trusted:
        assert decision.anchor is not None  # trusted means an anchor was reached
        path = " -> ".join(_name(c) for c in decision.path)
        names = f"; host name {' / '.join(decision.host_checked)} matches" if decision.host_checked else \
            "; host name not checked (give --host)"
        lines.append(f"Java would TRUST {server} with {truststore}: {path} (anchor: alias "
                     f"'{decision.anchor.alias}'){names}")
        return lines
    lines.append(f"Java would NOT trust {server} with {truststore}:")
    lines += [f"  why: {r}" for r in decision.reasons]
    lines += [f"  fix: {a}" for a in decision.advice]
    if not decision.host_checked:
        lines.append("  (host name not checked: give --host)")
    return lines


def describe_decision(decision: Decision, *, truststore: str, server: str,
                      presented: Sequence[x509.Certificate]) -> dict[str, object]:
    """verify-trust --json: the chain as presented, the decision, why not and what to add."""
    from .describe import JSON_FORMAT

    def brief(cert: x509.Certificate) -> dict[str, str]:
        return {"subject": _name(cert), "issuer": cert.issuer.rfc4514_string(), "sha256": certs.fingerprint(cert)}

    return {"format": JSON_FORMAT, "kind": "trust-decision", "server": server, "truststore": truststore,
            "presented": [brief(c) for c in presented], "trusted": decision.trusted,
            "path": [brief(c) for c in decision.path],
            "anchor": decision.anchor.alias if decision.anchor else None,
            "host_names_checked": list(decision.host_checked), "reasons": list(decision.reasons),
            "advice": list(decision.advice)}


# --- the truststore made from what a server presents ---------------------------------------------

@dataclass(frozen=True)
class TrustPlan:
    """The certificates a truststore for this server should hold, and what to tell the user."""

    certificates: tuple[x509.Certificate, ...]
    notes: tuple[str, ...]  # where each certificate comes from; warnings start with "warning:"


def truststore_plan(presented: Sequence[x509.Certificate], *, bundle: Bundle, now: dt.datetime,
                    host: str | None = None, sni: str | None = None, leaf: bool = False) -> TrustPlan:
    """The root the server's chain ends in (sent, or from the bundle), after checking the chain
    would verify with it; with `leaf`, the server's certificate too (with a warning).

    Raises UntrustedChainError, saying why, when the chain does not verify."""
    if not presented:
        raise UntrustedChainError("the server sent no certificate")
    first = presented[0]
    path, _ = path_from_leaf(presented)
    top = path[-1]
    notes = []
    if certs.is_self_issued(top) and certs.issued_by(top, top):
        root = top
        in_bundle = any(_same(top, r) for r in bundle.roots)
        where = f"sent by the server, also in {bundle.label}" if in_bundle else \
            "sent by the server; NOT in the system bundle: check its SHA-256 fingerprint with the server's owner"
        if len(path) == 1 and not leaf:
            raise UntrustedChainError(f"the server's certificate {_name(first)} is self-signed, so trusting it means "
                                      "trusting this one certificate; pass --leaf to do so")
    else:
        found = find_issuer(top, bundle.roots)
        if found is None:
            raise UntrustedChainError(
                f"the chain does not verify: {top.issuer.rfc4514_string()}, the issuer of {_name(top)}, is not sent "
                f"by the server and not in {bundle.label} (a missing intermediate, or a root the bundle lacks)")
        root, where = found, f"from {bundle.label}; the server does not send it"
    anchors = [Anchor("root", root)]
    decision = java_trusts(presented, anchors, host=None, now=now)
    if not decision.trusted:
        raise UntrustedChainError(f"the chain does not verify: {decision.reasons[0]}")
    notes.append(f"root {_name(root)} ({where}), SHA-256 {certs.fingerprint(root)}")
    chosen = [root]
    if leaf and first != root:
        chosen.insert(0, first)
        notes.append(f"warning: the server's own certificate {_name(first)} is trusted too (--leaf): that pin "
                     f"breaks when the server renews it (valid until {_when(first.not_valid_after_utc)})")
    elif leaf:
        notes.append(f"warning: trusting the server's self-signed certificate {_name(first)} (--leaf): that pin "
                     f"breaks when the server renews it (valid until {_when(first.not_valid_after_utc)})")
    names = tuple(n for n in (sni, host) if n)
    if names and not any(host_matches(first, n) for n in names):
        notes.append(f"warning: {_name(first)} is for {_names_of(first)}, not {names[-1]}: Java will refuse the "
                     "host name whatever the truststore holds")
    return TrustPlan(tuple(chosen), tuple(notes))


__all__ = ["Anchor", "Bundle", "Decision", "TrustPlan", "UntrustedChainError", "anchors_of", "decision_lines",
           "describe_decision", "host_matches", "java_trusts", "system_bundle", "truststore_plan"]
