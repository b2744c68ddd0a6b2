"""A mutual-TLS check against a real server, such as Salesforce's port 8443: connect with the
keystore's key and chain, and find out whether the server accepts the client certificate.

    result = probe("mydomain.my.salesforce.com", 8443, key=entry.key, chain=entry.chain)
    result.accepted, result.ca_names, result.sent_chain, ...

pyOpenSSL does the TLS, with the key and chain given from memory (no temporary files with keys).
The server is verified against the CA certificates given, or the system trust store.

Why the probe writes and reads after the handshake: in TLS 1.3 the client's handshake ends before
the server has looked at the client certificate, so a refusal arrives only as an alert at the first
read. In TLS 1.2 it arrives during the handshake. And many servers finish the handshake whatever
the certificate and refuse it in their answer: nginx answers "400 The SSL certificate error" (its
internal codes 495 and 496), Salesforce refuses an unknown certificate as an HTTP answer. So the
probe sends a real HTTP request and judges the answer; a server that answers nothing has given no
verdict, and the probe says exactly that instead of calling it accepted.

Java sends no certificate at all when the server names CAs and none of them issued a certificate
of the key's chain (SunX509KeyManagerImpl.chooseClientAlias matches each chain certificate's issuer
against the names); this probe sends its chain anyway, so it says when a Mule app would not.
"""

from __future__ import annotations

import ipaddress
import re
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509

from .errors import BadInputError, KtpyError
from .keys import PrivateKey

if TYPE_CHECKING:  # pyOpenSSL is imported when a probe runs (keeps `ktpy --help` fast)
    from OpenSSL import SSL, crypto

_T = TypeVar("_T")

DEFAULT_TIMEOUT = 10.0
# A real HTTP request, since port 8443 is an HTTPS endpoint: GET, not HEAD, because the refusal
# is often only in the body (nginx: "400 Bad Request" with "The SSL certificate error").
REQUEST = "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ktpy-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
# How long to listen for a TLS 1.3 refusal before writing the request (see _run); cut short when
# the server sends a session ticket, which it does only after accepting the handshake.
SETTLE = 0.3
# Read at most this much of the answer: the status line, headers and the start of the body.
ANSWER_LIMIT = 16384
# HTTP statuses by which a server says it refused the client certificate: nginx's own codes for
# "The SSL certificate error" (495) and "No required SSL certificate was sent" (496), which it
# normally sends as 400 with that text in the body.
CERTIFICATE_STATUSES = {495, 496}
CERTIFICATE_WORDS = re.compile(rb"SSL certificate|client certificate|certificate (?:error|required|verify)", re.I)

ACCEPTED, REJECTED, NO_VERDICT = "accepted", "rejected", "no verdict"

# TLS alert descriptions (RFC 8446 section 6, RFC 5246 section 7.2)
ALERTS = {
    0: "close notify", 10: "unexpected message", 20: "bad record mac", 40: "handshake failure",
    42: "bad certificate", 43: "unsupported certificate", 44: "certificate revoked",
    45: "certificate expired", 46: "certificate unknown", 47: "illegal parameter", 48: "unknown ca",
    49: "access denied", 50: "decode error", 51: "decrypt error", 70: "protocol version",
    71: "insufficient security", 80: "internal error", 86: "inappropriate fallback",
    109: "missing extension", 112: "unrecognized name", 116: "certificate required",
    120: "no application protocol",
}
# Alerts by which a server refuses the client's certificate.
CERTIFICATE_ALERTS = {42, 43, 44, 45, 46, 48, 49, 51, 116}

# The X509_V_ERR_* codes a failed server verification usually carries (OpenSSL's x509_vfy.h).
VERIFY_ERRORS = {
    2: "unable to get issuer certificate",
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    24: "invalid CA certificate",
    26: "unsupported certificate purpose",
}


class ProbeError(KtpyError):
    """The probe could not reach the point of testing the client certificate."""


@dataclass(frozen=True)
class ProbeResult:
    host: str
    port: int
    sni: str | None
    protocol: str | None
    cipher: str | None
    server_chain: tuple[x509.Certificate, ...]  # as the server sent it
    verified_chain: tuple[x509.Certificate, ...]  # as OpenSSL verified it, up to the trusted root
    asked_for_certificate: bool
    ca_names: tuple[x509.Name, ...]  # the CA names in the server's certificate request
    sent_chain: tuple[x509.Certificate, ...]  # empty when no certificate was sent
    accepted: bool  # True only when the server showed that it accepted (verdict ACCEPTED)
    reason: str  # why accepted or refused, one phrase
    response: str | None = None  # the first line the server answered, if any
    verdict: str | None = None  # ACCEPTED, REJECTED or NO_VERDICT (default: from `accepted`)
    # the keystore's chain: what Java's key manager chooses from
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        if self.verdict is None:
            object.__setattr__(self, "verdict", ACCEPTED if self.accepted else REJECTED)

    @property
    def java_sends_no_certificate(self) -> bool:
        """True when the server named CAs and none issued a certificate of the chain: Java's key
        manager then sends no certificate, where this probe sent its chain."""
        if not self.asked_for_certificate or not self.ca_names:
            return False
        names = set(self.ca_names)
        return not any(cert.issuer in names for cert in (self.chain or self.sent_chain))


def judge_answer(data: bytes) -> tuple[str, str, str | None]:
    """(verdict, reason, first line) for what an HTTP server answered after the handshake."""
    first_line = data.split(b"\n", 1)[0].strip().decode("latin-1") or None
    status = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", data)
    if status is None:
        return NO_VERDICT, ("the server answered, but not in HTTP, so its answer says nothing about "
                            "the client certificate"), first_line
    code = int(status[1])
    head, _, body = data.partition(b"\r\n\r\n")
    words = CERTIFICATE_WORDS.search(body) or CERTIFICATE_WORDS.search(head.split(b"\n", 1)[0])
    if code in CERTIFICATE_STATUSES or (code in (400, 401, 403) and words):
        said = f" ({words[0].decode('latin-1')!r} in the answer)" if words else ""
        return REJECTED, f"the server answered {first_line}{said}", first_line
    return ACCEPTED, f"the server answered {first_line} after the handshake", first_line


def parse_target(text: str) -> tuple[str, int]:
    """'host:8443', '10.0.0.1:8443' or '[::1]:8443' -> (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInputError(f"give the server as HOST:PORT, e.g. mydomain.my.salesforce.com:8443, not {text!r}")
    return host, int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    where = _where(host, port)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        raise ProbeError(f"could not connect to {where}: connection refused") from None
    except TimeoutError:
        raise ProbeError(f"could not connect to {where}: no answer within {timeout:g} s") from None
    except socket.gaierror:
        raise ProbeError(f"could not connect to {where}: the host name does not resolve") from None
    except OSError as exc:
        why = (exc.strerror or type(exc).__name__).lower()
        raise ProbeError(f"could not connect to {where}: {why}") from None
    sock.setblocking(False)  # pyOpenSSL reports Want*Error; _io() waits with the deadline
    return sock


def _io(conn: SSL.Connection, sock: socket.socket, operation: Callable[[], _T], deadline: float) -> _T:
    """Run a pyOpenSSL operation on a non-blocking socket, waiting until the deadline."""
    from OpenSSL import SSL

    wait: tuple[list[socket.socket], list[socket.socket]]
    while True:
        try:
            return operation()
        except SSL.WantReadError:
            wait = ([sock], [])
        except SSL.WantWriteError:
            wait = ([], [sock])
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        readable, writable, _ = select.select(*wait, [], left)
        if not readable and not writable:
            raise TimeoutError


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # RFC 6125 6.4.3: the wildcard stands for exactly one leftmost label
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """True when the certificate's subject alternative names cover `host` (a DNS name or an IP)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if _is_ip(host):
        return ipaddress.ip_address(host) in sans.get_values_for_type(x509.IPAddress)
    return any(_name_matches(name, host) for name in sans.get_values_for_type(x509.DNSName))


class _Recorder:
    """What the handshake callbacks saw: states, the alert the server sent, verification errors."""

    def __init__(self) -> None:
        self.states: list[str] = []
        self.alert_from_server: int | None = None
        self.verify_error: tuple[int, int] | None = None  # (depth, X509_V_ERR code)

    def info(self, conn: SSL.Connection, where: int, ret: int) -> None:
        from OpenSSL import SSL

        if where & SSL.SSL_CB_LOOP:
            self.states.append(conn.get_state_string().decode("ascii", "replace"))
        # fatal alerts only (level 2): close_notify is a warning, and means an orderly close
        if where & SSL.SSL_CB_READ_ALERT and ret >> 8 == 2 and self.alert_from_server is None:
            self.alert_from_server = ret & 0xFF

    def verify(self, conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
        if not ok and self.verify_error is None:
            self.verify_error = (depth, errnum)
        return bool(ok)

    def saw(self, fragment: str) -> bool:
        return any(fragment in s for s in self.states)


def _context(key: PrivateKey, chain: Sequence[x509.Certificate], trust: Sequence[x509.Certificate] | None,
             recorder: _Recorder, verify_server: bool = True) -> SSL.Context:
    from OpenSSL import SSL, crypto

    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)  # what Salesforce and Mule accept
    # From memory: pyOpenSSL 26 takes cryptography's key and certificates as they are (wrapping
    # them in PKey.from_cryptography_key / X509.from_cryptography first is deprecated there).
    ctx.use_privatekey(key)
    ctx.use_certificate(chain[0])
    for cert in chain[1:]:
        ctx.add_extra_chain_cert(cert)
    ctx.check_privatekey()
    if not verify_server:
        # the caller judges the server's chain itself (trust.java_trusts for probe --truststore):
        # no trust is loaded, so no OpenSSL verdict shows in the report
        ctx.set_verify(SSL.VERIFY_NONE)
    elif trust:
        store = ctx.get_cert_store()
        assert store is not None  # None only when OpenSSL has no store, and a new context has one
        for cert in trust:
            store.add_cert(crypto.X509.from_cryptography(cert))
        ctx.set_verify(SSL.VERIFY_PEER, recorder.verify)
    else:
        ctx.set_default_verify_paths()
        ctx.set_verify(SSL.VERIFY_PEER, recorder.verify)
    ctx.set_info_callback(recorder.info)
    return ctx


def _ssl_reason(exc: Exception) -> str:
    """The reason in a pyOpenSSL error: 'tlsv13 alert certificate required' for SSL.Error (a list
    of (library, function, reason)), 'unexpected eof' or the errno text for SysCallError."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    first = args[0] if args else None
    if isinstance(first, list):
        reasons = [str(item[2]) for item in first if isinstance(item, tuple) and len(item) == 3 and item[2]]
        if reasons:
            return "; ".join(dict.fromkeys(reasons))
    if isinstance(first, int) and len(args) > 1:
        return str(args[1]).lower()
    return type(exc).__name__


def probe(host: str, port: int, *, key: PrivateKey, chain: Sequence[x509.Certificate],
          trust: Sequence[x509.Certificate] | None = None, trust_label: str | None = None,
          timeout: float = DEFAULT_TIMEOUT, verify_server: bool = True) -> ProbeResult:
    """Connect to host:port presenting `key` and `chain`; verify the server against `trust` (or the
    system trust store) unless verify_server is False (the caller then judges
    ProbeResult.server_chain itself); report whether the server accepted the client certificate.

    Raises ProbeError when the test cannot be made (no connection, handshake failure unrelated to
    the client certificate, a server that does not verify)."""
    from OpenSSL import SSL

    if not chain:
        raise BadInputError("the client needs its certificate to connect")
    if timeout <= 0:
        raise BadInputError(f"the timeout must be more than 0 seconds, not {timeout:g}")
    trusted_by = trust_label or ("the given CA certificates" if trust else "the system trust store")
    recorder = _Recorder()
    ctx = _context(key, tuple(chain), trust, recorder, verify_server)
    deadline = time.monotonic() + timeout
    sock = _connect(host, port, timeout)
    conn = SSL.Connection(ctx, sock)
    # SNI carries host names only: RFC 6066 section 3 forbids IP addresses there.
    sni = None if _is_ip(host) else host
    if sni:
        conn.set_tlsext_host_name(sni.encode("idna"))
    conn.set_connect_state()
    try:
        return _run(conn, sock, host, port, sni, tuple(chain), recorder, deadline, trusted_by, timeout,
                    verify_server)
    finally:
        sock.close()


def _run(conn: SSL.Connection, sock: socket.socket, host: str, port: int, sni: str | None,
         chain: tuple[x509.Certificate, ...], recorder: _Recorder, deadline: float, trusted_by: str,
         timeout: float, verify_server: bool = True) -> ProbeResult:
    from OpenSSL import SSL

    where = _where(host, port)

    def result(accepted: bool, reason: str, response: str | None = None, verdict: str | None = None) -> ProbeResult:
        sent = chain if recorder.saw("write client certificate") else ()
        return ProbeResult(
            host=host, port=port, sni=sni, protocol=conn.get_protocol_version_name() or None,
            cipher=conn.get_cipher_name(),
            server_chain=tuple(conn.get_peer_cert_chain(as_cryptography=True) or ()),
            verified_chain=tuple(conn.get_verified_chain(as_cryptography=True) or ()) if verify_server else (),
            asked_for_certificate=recorder.saw("certificate request"),
            ca_names=tuple(conn.get_client_ca_list(as_cryptography=True)),
            sent_chain=sent, accepted=accepted, reason=reason, response=response, verdict=verdict,
            chain=chain,
        )

    def refused(exc: Exception | None) -> ProbeResult | None:
        """A result when the server refused the client certificate, else None."""
        alert = recorder.alert_from_server
        if alert is not None and (alert in CERTIFICATE_ALERTS or recorder.saw("write client certificate")):
            return result(False, f"the server sent the alert '{ALERTS.get(alert, alert)}'"
                          + (f" ({_ssl_reason(exc)})" if exc is not None else ""))
        return None

    try:
        _io(conn, sock, conn.do_handshake, deadline)
    except TimeoutError:
        raise ProbeError(f"the TLS handshake with {where} did not finish within {timeout:g} s") from None
    except SSL.Error as exc:
        if recorder.verify_error is not None:
            depth, code = recorder.verify_error
            why = VERIFY_ERRORS.get(code, f"verify error {code}")
            raise ProbeError(f"the server certificate of {where} does not verify against {trusted_by}: "
                             f"{why} (at depth {depth})") from None
        outcome = refused(exc)
        if outcome is not None:
            return outcome
        raise ProbeError(f"the TLS handshake with {where} failed: {_ssl_reason(exc)}") from None
    leaf = conn.get_peer_certificate(as_cryptography=True)
    if verify_server and (leaf is None or not hostname_matches(leaf, host)):
        names = leaf.subject.rfc4514_string() if leaf is not None else "no certificate"
        raise ProbeError(f"the server certificate of {where} ({names}) is not valid for {host}")
    if not recorder.saw("certificate request"):
        return result(False, "the server did not ask for a client certificate")
    request = REQUEST.format(host=sni or host).encode("ascii")
    data = b""
    try:
        if conn.get_protocol_version_name() == "TLSv1.3":
            # Listen first: a refusal is on its way now, and writing into a connection the server is
            # closing makes its TCP stack answer with a reset that can overtake the alert.
            data = _settle(conn, sock, recorder, min(deadline, time.monotonic() + SETTLE))
        if not data:
            _io(conn, sock, lambda: conn.sendall(request), deadline)
        data = _read_answer(conn, sock, data, deadline)
    except TimeoutError:
        if not data:
            return result(False, f"the server sent nothing within {timeout:g} s after the request, so "
                                 "it did not say whether it accepts the client certificate", verdict=NO_VERDICT)
    except SSL.ZeroReturnError:
        if not data:
            return result(False, "the server closed the connection cleanly without answering the request, "
                                 "so it did not say whether it accepts the client certificate",
                          verdict=NO_VERDICT)
    except SSL.SysCallError as exc:
        outcome = refused(exc)
        if outcome is not None:
            return outcome
        if not data:
            return result(False, "the server dropped the connection right after the handshake "
                                 f"without answering ({_ssl_reason(exc)})")
    except SSL.Error as exc:
        outcome = refused(exc)
        if outcome is not None:
            return outcome
        if not data:
            raise ProbeError(f"the connection to {where} failed after the handshake: {_ssl_reason(exc)}") from None
    verdict, reason, first_line = judge_answer(data)
    return result(verdict == ACCEPTED, reason, first_line, verdict=verdict)


class _Settled(Exception):
    """The server sent a session ticket: it accepted the handshake, stop listening."""


def _settle(conn: SSL.Connection, sock: socket.socket, recorder: _Recorder, until: float) -> bytes:
    """What the server sends unasked before `until`: b"" when it waits for a request (or has
    sent a session ticket, which means it accepted the handshake)."""
    def recv() -> bytes:
        if recorder.saw("session ticket"):
            raise _Settled
        return conn.recv(4096)

    try:
        return _io(conn, sock, recv, until)
    except (TimeoutError, _Settled):
        return b""


def _read_answer(conn: SSL.Connection, sock: socket.socket, data: bytes, deadline: float) -> bytes:
    """Read the HTTP answer: until the server closes, the body is complete, or ANSWER_LIMIT."""
    from OpenSSL import SSL

    while len(data) < ANSWER_LIMIT and not _complete(data):
        try:
            chunk = _io(conn, sock, lambda: conn.recv(4096), deadline)
        except (SSL.ZeroReturnError, SSL.SysCallError, TimeoutError, SSL.Error):
            if data:
                return data  # the answer is in; how the connection ended does not change it
            raise
        if not chunk:
            break
        data += chunk
    return data


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    if length:
        return len(body) >= int(length[1])
    if re.search(rb"\r\ntransfer-encoding:\s*chunked", head, re.I):
        return body.endswith(b"0\r\n\r\n")
    return False


def report_lines(result: ProbeResult, *, trusted_by: str | None = None) -> list[str]:
    """The probe's findings as text lines (no secrets: certificates and names only)."""
    def subjects(chain: Sequence[x509.Certificate]) -> list[str]:
        return [c.subject.rfc4514_string() for c in chain]

    where = _where(result.host, result.port)
    lines = [f"Connected to {where}" + (f" (SNI {result.sni})" if result.sni else " (no SNI: an IP address)")]
    lines.append(f"  protocol: {result.protocol or 'unknown'}")
    lines.append(f"  cipher: {result.cipher or 'unknown'}")
    lines.append(f"  server chain ({len(result.server_chain)}):")
    lines += [f"    {s}" for s in subjects(result.server_chain)]
    if result.verified_chain:
        root = result.verified_chain[-1].subject.rfc4514_string()
        lines.append(f"  server verified against {trusted_by or 'the trust store'}: root {root}")
    if not result.asked_for_certificate:
        lines.append("  client certificate asked for: no")
    elif result.ca_names:
        lines.append(f"  CA names asked for ({len(result.ca_names)}):")
        lines += [f"    {n.rfc4514_string()}" for n in result.ca_names]
    else:
        lines.append("  CA names asked for: none (as Salesforce does: the client must send its whole chain)")
    if result.sent_chain:
        lines.append(f"  chain sent: {len(result.sent_chain)} certificate(s)")
        lines += [f"    {s}" for s in subjects(result.sent_chain)]
    else:
        lines.append("  chain sent: none")
    if result.response:
        lines.append(f"  server answered: {result.response}")
    if result.java_sends_no_certificate:
        lines += [
            "  Java would send NO certificate here: none of the CA names the server asked for issued a",
            "  certificate of this chain, and Java's key manager then sends none (a Mule app would fail",
            "  where this probe, which sends its chain anyway, got through the handshake).",
        ]
    if not result.asked_for_certificate:
        lines.append(f"Result: client certificate NOT CHECKED: {result.reason}")
    elif result.verdict == NO_VERDICT:
        lines.append(f"Result: NO VERDICT on the client certificate: {result.reason}")
    else:
        assert result.verdict is not None  # ProbeResult.__post_init__ sets it
        lines.append(f"Result: client certificate {result.verdict.upper()}: {result.reason}")
    return lines
