"""Helpers for the interop tests: a loopback mutual-TLS server, and runners for keytool, the
Java client (tests/java/MtlsClient.java) and the OpenSSL CLI.

The server behaves as Salesforce's port 8443 does for what matters here: it requires a client
certificate, sends no list of client CA names, and verifies the client's chain against one root.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from keytool_py import CA, LeafCert, create_ca
from keytool_py.certs import to_pem
from keytool_py.keys import PrivateKey, private_key_to_pem

JAVA_SOURCE = Path(__file__).parent / "java" / "MtlsClient.java"
JAVA_MAIN_CLASS = "MtlsClient"
# Short-lived JVMs start faster with the client compiler only and the serial collector.
JVM_FAST_START = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")
TOOL_TIMEOUT = 60.0

# MtlsClient's exit codes
JAVA_OK = 0
JAVA_LOAD_FAILED = 2
JAVA_TLS_FAILED = 3


def run(cmd: Sequence[str | Path], *, timeout: float = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    """Run a command with stdin closed (no tool may wait for a prompt), text output captured."""
    return subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=False)


def describe(proc: subprocess.CompletedProcess) -> str:
    """A command, its exit code and output, for assertion messages."""
    args = " ".join(str(a) for a in proc.args)
    return f"$ {args}\nexit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


# --- keytool ---

def run_keytool_list(path: Path, storetype: str, storepass: str) -> str:
    """`keytool -list -v` of a keystore: its stdout, after asserting that keytool exited 0.
    (keytool -list never decrypts a private key: see keytool_import_to_pkcs12 for that.)"""
    proc = run(["keytool", *_jvm_flags_for_keytool(), "-list", "-v", "-keystore", path,
                "-storetype", storetype, "-storepass", storepass])
    assert proc.returncode == 0, describe(proc)
    return proc.stdout


def keytool_import_to_pkcs12(src: Path, storetype: str, storepass: str, dest: Path, *,
                             alias: str, keypass: str | None = None) -> subprocess.CompletedProcess:
    """`keytool -importkeystore` of one entry into a new PKCS12 (password `storepass`). keytool
    must decrypt the private key to copy it, so success proves the key password is right."""
    cmd = ["keytool", *_jvm_flags_for_keytool(), "-importkeystore", "-noprompt",
           "-srckeystore", src, "-srcstoretype", storetype, "-srcstorepass", storepass,
           "-srcalias", alias, "-destalias", alias,
           "-destkeystore", dest, "-deststoretype", "PKCS12", "-deststorepass", storepass]
    if keypass is not None:
        cmd += ["-srckeypass", keypass]
    return run(cmd)


def _jvm_flags_for_keytool() -> list[str]:
    return [f"-J{flag}" for flag in JVM_FAST_START]


# --- the Java client ---

def compile_java_client(outdir: Path) -> Path:
    """Compile MtlsClient.java into outdir (once per session) and return the class directory."""
    outdir.mkdir(parents=True, exist_ok=True)
    proc = run(["javac", "-d", outdir, JAVA_SOURCE], timeout=120)
    assert proc.returncode == 0, describe(proc)
    assert (outdir / f"{JAVA_MAIN_CLASS}.class").is_file()
    return outdir


def run_java_client(classdir: Path, *, store_type: str, store_path: Path, storepass: str,
                    keypass: str, trust_pem: Path, host: str = "127.0.0.1",
                    port: int) -> tuple[int, str]:
    """Run MtlsClient against host:port; (exit code, stdout + stderr)."""
    proc = run(["java", *JVM_FAST_START, "-cp", classdir, JAVA_MAIN_CLASS, store_type,
                store_path, storepass, keypass, trust_pem, host, str(port)])
    return proc.returncode, proc.stdout + proc.stderr


def java_handshake(java_classes, server_root_pem, mtls_server, kind: str, path: Path, *,
          storepass: str, keypass: str):
    """Run the Java client against the module's server: (exit code, output, server outcome
    or None when the client never connected)."""
    mark = mtls_server.mark()
    code, output = run_java_client(java_classes, store_type=kind, store_path=path,
                                   storepass=storepass, keypass=keypass,
                                   trust_pem=server_root_pem, port=mtls_server.port)
    connected = code not in (JAVA_LOAD_FAILED,)
    outcome = mtls_server.outcome_after(mark) if connected else None
    return code, output, outcome


# --- OpenSSL ---

def run_openssl(*args: str | Path, timeout: float = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    return run(["openssl", *args], timeout=timeout)


# --- the loopback mutual-TLS server ---

def make_server_identity(ca_key: PrivateKey, server_key: PrivateKey,
                         now: dt.datetime | None = None) -> tuple[CA, LeafCert]:
    """A server CA of its own (not the clients' CA) and a localhost server certificate."""
    server_ca = create_ca("CN=ktpy Interop Server Root,O=Test", key=ca_key, now=now)
    server = server_ca.issue_server("CN=localhost,O=Test", key=server_key,
                                    sans=["dns:localhost", "ip:127.0.0.1"], now=now)
    return server_ca, server


@dataclass(frozen=True)
class Outcome:
    """What the server saw on one connection."""

    accepted: bool
    subject: str | None = None  # the client certificate's subject, RFC 4514
    protocol: str | None = None
    request: bytes | None = None  # the first line the client sent, once accepted
    error: str | None = None  # the handshake error text, when refused


class MtlsServer:
    """A TLS server on 127.0.0.1 (port chosen by the OS) in a thread, as a context manager.

    It requires a client certificate, trusts only `client_root`, and sends no client CA names
    (Python's ssl never sets a client CA list). Connections are served one after another; for
    each it records an Outcome and answers "pong" to "ping". Every socket operation has a
    timeout, so neither a silent client nor a closed one can hang it.
    """

    def __init__(self, *, server: LeafCert, client_root: x509.Certificate, workdir: Path,
                 io_timeout: float = 10.0) -> None:
        self.io_timeout = io_timeout
        workdir.mkdir(parents=True, exist_ok=True)
        cert_file = workdir / "server-chain.pem"
        key_file = workdir / "server-key.pem"
        # the server certificate and any intermediates; the root stays with the client
        cert_file.write_bytes(to_pem(server.chain[:-1] or server.chain))
        key_file.write_bytes(private_key_to_pem(server.key))
        key_file.chmod(0o600)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_file, key_file)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=to_pem([client_root]).decode("ascii"))
        self._context = context
        self._outcomes: list[Outcome] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # lifecycle

    def __enter__(self) -> MtlsServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)  # so the loop sees the stop flag
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"mtls-server-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.io_timeout + 5)
            alive = self._thread.is_alive()
            self._thread = None
            assert not alive, "the TLS server thread did not stop"
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    # what the tests read

    def mark(self) -> int:
        """The number of connections recorded so far: pass it to outcome_after()."""
        with self._changed:
            return len(self._outcomes)

    def outcomes_after(self, mark: int, count: int = 1, timeout: float = 15.0) -> list[Outcome]:
        """The outcomes recorded after `mark`, waiting until there are at least `count`."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._outcomes) >= mark + count, timeout=timeout)
            return self._outcomes[mark:]

    def outcome_after(self, mark: int, timeout: float = 15.0) -> Outcome:
        """The one connection recorded after `mark` (asserting there was exactly one)."""
        found = self.outcomes_after(mark, 1, timeout)
        assert len(found) == 1, f"expected one connection after #{mark}, the server saw {found}"
        return found[0]

    # the server thread

    def _record(self, outcome: Outcome) -> None:
        with self._changed:
            self._outcomes.append(outcome)
            self._changed.notify_all()

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                raise
            try:
                self._handle(conn)
            except Exception as exc:  # noqa: BLE001 - record, never let the thread die
                error = f"server error {type(exc).__name__}: {exc}"
                self._record(Outcome(accepted=False, error=error))
            finally:
                conn.close()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(self.io_timeout)
        raw = conn.dup()  # the plain socket, to close gently after a refused handshake
        tls = self._context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        try:
            try:
                tls.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                self._record(Outcome(accepted=False, error=f"{type(exc).__name__}: {exc}"))
                self._drain(raw)
                return
            der = tls.getpeercert(binary_form=True)
            subject = x509.load_der_x509_certificate(der).subject.rfc4514_string() if der else None
            protocol = tls.version()
            try:
                request = self._read_line(tls)
            except (ssl.SSLError, OSError) as exc:
                self._record(Outcome(accepted=True, subject=subject, protocol=protocol,
                                     error=f"read failed: {type(exc).__name__}: {exc}"))
                return
            # record before answering: the client exits as soon as it has read the answer
            self._record(Outcome(accepted=True, subject=subject, protocol=protocol,
                                 request=request))
            if request == b"ping":
                tls.sendall(b"pong\n")
            try:
                tls.unwrap()
            except (ssl.SSLError, OSError):
                pass  # the client may already have closed the connection
        finally:
            tls.close()
            raw.close()

    @staticmethod
    def _drain(raw: socket.socket) -> None:
        """After the alert: stop writing and read what the client still sends until it closes.
        Closing with unread data would send a reset, which can overtake the alert at the client."""
        try:
            raw.shutdown(socket.SHUT_WR)
            raw.settimeout(2.0)
            while raw.recv(4096):
                pass
        except OSError:
            pass

    @staticmethod
    def _read_line(tls: ssl.SSLSocket, limit: int = 1024) -> bytes:
        data = b""
        while b"\n" not in data and len(data) < limit:
            chunk = tls.recv(limit)
            if not chunk:
                break
            data += chunk
        return data.split(b"\n", 1)[0].rstrip(b"\r")
