"""What a TLS server presents: its certificate chain exactly as sent, the protocol and the cipher.

    chain = fetch_chain("mydomain.my.salesforce.com", 443, proxy=proxy_for("mydomain.my.salesforce.com"))
    chain.certificates, chain.protocol, chain.cipher

No client certificate is sent and nothing is verified here: the point is to see what the server
sends, as `openssl s_client -showcerts` shows it, so a chain that would not verify is still shown
(trust.py judges it). The order, duplicates and a missing intermediate are noted, because Java
does not repair them for the server: it fetches no missing intermediate (the JDK's AIA fetching,
com.sun.security.enableAIAcaIssuers, is off by default).

An HTTP CONNECT proxy is used when given, or from https_proxy / HTTPS_PROXY in the environment
(honouring no_proxy), as curl does and as Java does with -Dhttps.proxyHost. SNI carries the host
name unless another is given; never an IP address (RFC 6066 section 3). pyOpenSSL does the TLS,
TLS 1.2 and later, what Java 17 enables by default (jdk.tls.disabledAlgorithms lists TLSv1, TLSv1.1).
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from . import certs
from .errors import BadInputError
from .keys import same_public_key
from .probe import DEFAULT_TIMEOUT, ProbeError, _connect, _io, _is_ip, _ssl_reason, _where

DEFAULT_PORT = 443  # HTTPS; Salesforce's mutual-TLS port is 8443 and must be given
# The most a proxy's answer to CONNECT may hold before its blank line (status and headers).
PROXY_ANSWER_LIMIT = 16384
# OpenSSL's reasons when the bytes that came back are not a TLS record: the port speaks
# something else (HTTP, SSH, SMTP...).
_NOT_TLS = ("wrong version number", "packet length too long", "unknown protocol", "record layer failure",
            "http request", "tls_validate_record_header")


class FetchError(ProbeError):
    """The server's chain could not be fetched: no connection, no TLS, a refusing proxy."""


@dataclass(frozen=True)
class ServerChain:
    host: str
    port: int
    sni: str | None
    proxy: tuple[str, int] | None
    protocol: str | None
    cipher: str | None
    certificates: tuple[x509.Certificate, ...]  # exactly as the server sent them, in its order

    @property
    def where(self) -> str:
        return _where(self.host, self.port)


def parse_server(text: str, *, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """'host', 'host:8443', '10.0.0.1', '[::1]:8443' -> (host, port); the port defaults to 443."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None if not rest else "x"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, None  # a name, an IPv4 address or a bare IPv6 address
    if port is None:
        port = str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or re.search(r"[\s/@]", host):
        raise BadInputError(f"give the server as HOST or HOST:PORT, e.g. mydomain.my.salesforce.com:443, "
                            f"not {text!r}")
    return host, int(port)


def parse_proxy(text: str) -> tuple[str, int]:
    """'proxy:3128' or 'http://proxy:3128/' -> (host, port). Only HTTP proxies (CONNECT)."""
    value = text.strip()
    scheme, sep, rest = value.partition("://")
    if sep:
        if scheme.lower() != "http":
            raise BadInputError(f"the proxy {text!r} is not an HTTP proxy; give it as HOST:PORT or http://HOST:PORT")
        value = rest.rstrip("/")
    if "@" in value:
        raise BadInputError("proxies that need a user name and password are not supported; give the proxy "
                            "as HOST:PORT")
    try:
        return parse_server(value, default_port=8080 if not sep else 80)
    except BadInputError:
        raise BadInputError(f"give the proxy as HOST:PORT or http://HOST:PORT, not {text!r}") from None


def proxy_for(host: str, environ: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """The proxy from https_proxy (or HTTPS_PROXY), unless no_proxy names the host, as curl does:
    a comma-separated list of names matched as the name or a suffix, or '*'."""
    env = os.environ if environ is None else environ
    value = env.get("https_proxy") or env.get("HTTPS_PROXY")
    if not value:
        return None
    skip = env.get("no_proxy") or env.get("NO_PROXY") or ""
    name = host.lower().rstrip(".")
    for item in (s.strip().lower().lstrip(".") for s in skip.split(",")):
        if item == "*" or (item and (name == item or name.endswith("." + item))):
            return None
    return parse_proxy(value)


def _tunnel(proxy: tuple[str, int], host: str, port: int, deadline: float, timeout: float) -> socket.socket:
    """A socket through the proxy to host:port (HTTP CONNECT, RFC 9110 section 9.3.6)."""
    where, by = _where(host, port), _where(*proxy)
    try:
        sock = _connect(*proxy, timeout)
    except ProbeError as exc:
        raise FetchError(f"{exc} (the proxy)") from None
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: ktpy\r\n\r\n".encode("idna")
    answer = b""
    try:
        sock.setblocking(True)
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        sock.sendall(request)
        while b"\r\n\r\n" not in answer and len(answer) < PROXY_ANSWER_LIMIT:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    except TimeoutError:
        sock.close()
        raise FetchError(f"the proxy {by} did not answer the CONNECT to {where} within {timeout:g} s") from None
    except OSError as exc:
        sock.close()
        raise FetchError(f"the proxy {by} dropped the CONNECT to {where}: "
                         f"{(exc.strerror or type(exc).__name__).lower()}") from None
    status = answer.split(b"\r\n", 1)[0].decode("latin-1").strip()
    if not re.match(r"HTTP/\d(\.\d)? 2\d\d", status):
        sock.close()
        said = f"it answered {status!r}" if status else "it closed the connection without answering"
        raise FetchError(f"the proxy {by} refused to CONNECT to {where}: {said}")
    head, _, extra = answer.partition(b"\r\n\r\n")
    if extra:  # the server spoke first through the tunnel: a TLS server never does
        sock.close()
        raise FetchError(f"{where} does not speak TLS: it sent data before the TLS hello (through the proxy {by})")
    sock.setblocking(False)
    return sock


def fetch_chain(host: str, port: int = DEFAULT_PORT, *, servername: str | None = None,
                proxy: tuple[str, int] | None = None, timeout: float = DEFAULT_TIMEOUT) -> ServerChain:
    """Connect (through `proxy` if given), complete a TLS handshake without a client certificate
    and without verifying anything, and return what the server presented.

    Raises FetchError when there is no connection, the port speaks no TLS, the handshake fails
    or stalls past `timeout` seconds (the whole exchange is bounded by it), or the proxy refuses."""
    from OpenSSL import SSL

    if timeout <= 0:
        raise BadInputError(f"the timeout must be more than 0 seconds, not {timeout:g}")
    where = _where(host, port)
    sni = servername or (None if _is_ip(host) else host)
    deadline = time.monotonic() + timeout
    if proxy is not None:
        sock = _tunnel(proxy, host, port, deadline, timeout)
    else:
        try:
            sock = _connect(host, port, timeout)
        except ProbeError as exc:
            raise FetchError(str(exc)) from None
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)  # Java 17 disables TLS 1.0 and 1.1
    ctx.set_verify(SSL.VERIFY_NONE)  # see what is sent; trust.py judges it
    conn = SSL.Connection(ctx, sock)
    if sni:
        conn.set_tlsext_host_name(sni.encode("idna"))
    conn.set_connect_state()
    via = f" (through the proxy {_where(*proxy)})" if proxy else ""
    try:
        try:
            _io(conn, sock, conn.do_handshake, deadline)
        except TimeoutError:
            raise FetchError(f"the TLS handshake with {where}{via} did not finish within {timeout:g} s: the "
                             "server accepted the connection but stalled") from None
        except SSL.SysCallError as exc:
            raise FetchError(f"{where}{via} closed the connection during the TLS handshake "
                             f"({_ssl_reason(exc)}): it may not speak TLS on this port") from None
        except SSL.Error as exc:
            reason = _ssl_reason(exc)
            if any(word in reason.lower() for word in _NOT_TLS):
                raise FetchError(f"{where}{via} does not speak TLS: its answer to the TLS hello is not "
                                 f"TLS ({reason})") from None
            raise FetchError(f"the TLS handshake with {where}{via} failed: {reason}") from None
        presented = tuple(conn.get_peer_cert_chain(as_cryptography=True) or ())
        return ServerChain(host=host, port=port, sni=sni, proxy=proxy,
                           protocol=conn.get_protocol_version_name() or None, cipher=conn.get_cipher_name(),
                           certificates=presented)
    finally:
        sock.close()


# --- what the chain as sent says ---------------------------------------------------------------

def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def find_issuer(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """The certificate of `pool` that signed `cert`."""
    return next((c for c in pool if c.subject == cert.issuer and certs.issued_by(cert, c)), None)


def path_from_leaf(presented: Sequence[x509.Certificate]
                   ) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(path, rest): from the first certificate sent, each issuer found among the others until a
    self-issued one or none; rest is what was sent, once each, off that path."""
    path, pool = [presented[0]], [c for c in dict.fromkeys(presented[1:]) if c != presented[0]]
    while not certs.is_self_issued(path[-1]):
        parent = find_issuer(path[-1], pool)
        if parent is None:
            break
        path.append(parent)
        pool.remove(parent)
    return path, pool


def ca_issuers_urls(cert: x509.Certificate) -> list[str]:
    """Where the certificate says its issuer's certificate is published (AIA caIssuers)."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [str(d.access_location.value) for d in aia
            if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
            and isinstance(d.access_location, x509.UniformResourceIdentifier)]


def chain_notes(presented: Sequence[x509.Certificate], bundle: Sequence[x509.Certificate],
                bundle_label: str = "the system bundle") -> list[str]:
    """Plain sentences on the chain as sent: duplicates, order, the root sent or not (and found
    in the bundle or not), a missing intermediate."""
    notes: list[str] = []
    if not presented:
        return ["the server sent no certificate"]
    seen: dict[x509.Certificate, int] = {}
    for n, cert in enumerate(presented):
        if cert in seen:
            notes.append(f"[{n}] {_name(cert)} is sent twice (also as [{seen[cert]}])")
        else:
            seen[cert] = n
    unique = list(seen)
    for cert, after in zip(unique, unique[1:], strict=False):
        if not certs.issued_by(cert, after):
            notes.append(f"out of order: {_name(after)} follows {_name(cert)} but did not sign it "
                         "(TLS wants each certificate followed by its signer; Java sorts this out, "
                         "some clients do not)")
            break
    # walk from the leaf through what was sent
    path, off_path = path_from_leaf(presented)
    for cert in off_path:
        notes.append(f"{_name(cert)} is sent but is not on the leaf's path")
    top = path[-1]
    if certs.is_self_issued(top) and certs.issued_by(top, top):
        if len(path) == 1:
            notes.append(f"the server's certificate {_name(top)} is self-signed")
        elif any(c.subject == top.subject and same_public_key(c.public_key(), top.public_key()) for c in bundle):
            notes.append(f"the root {_name(top)} is sent (it is also in {bundle_label})")
        else:
            notes.append(f"the root {_name(top)} is sent; it is not in {bundle_label}")
        return notes
    root = find_issuer(top, bundle)
    if root is not None:
        notes.append(f"the root is not sent (as usual): {_name(root)}, found in {bundle_label}")
    else:
        urls = ca_issuers_urls(top)
        where = f" (its caIssuers URL: {urls[0]})" if urls else ""
        notes.append(f"missing intermediate: {top.issuer.rfc4514_string()}, the issuer of {_name(top)}, is not "
                     f"sent and not in {bundle_label}{where}; Java does not fetch it")
    return notes


def describe_chain(chain: ServerChain, notes: Sequence[str]) -> dict[str, Any]:
    """fetch-chain --json: the connection, each certificate as `inspect` describes it, the notes."""
    from .describe import JSON_FORMAT, describe_certificate

    return {"format": JSON_FORMAT, "kind": "server-chain", "host": chain.host, "port": chain.port,
            "sni": chain.sni, "proxy": _where(*chain.proxy) if chain.proxy else None,
            "protocol": chain.protocol, "cipher": chain.cipher,
            "certificates": [describe_certificate(c) for c in chain.certificates], "notes": list(notes)}


def chain_lines(info: dict[str, Any]) -> list[str]:
    """describe_chain's data as fetch-chain prints it."""
    from .describe import certificate_lines

    where = _where(info["host"], info["port"])
    lines = [f"Server {where}" + (f" (SNI {info['sni']})" if info["sni"] else " (no SNI: an IP address)")
             + (f" through the proxy {info['proxy']}" if info["proxy"] else "")]
    lines.append(f"  protocol: {info['protocol'] or 'unknown'}")
    lines.append(f"  cipher: {info['cipher'] or 'unknown'}")
    lines.append(f"  chain as sent: {len(info['certificates'])} certificate(s)")
    for n, cert in enumerate(info["certificates"]):
        lines.append(f"Certificate [{n}]")
        lines += certificate_lines(cert)
    lines += [f"Note: {note}" for note in info["notes"]]
    return lines


def to_pem(chain: ServerChain) -> bytes:
    """The certificates as sent, PEM, in the server's order (duplicates kept)."""
    return certs.to_pem(chain.certificates)


__all__ = ["DEFAULT_PORT", "FetchError", "ServerChain", "ca_issuers_urls", "chain_lines", "chain_notes",
           "describe_chain", "fetch_chain", "find_issuer", "parse_proxy", "parse_server", "proxy_for", "to_pem"]
