"""The outside judges' harness: the one runner for Java programs and keytool (English forced),
the one parser of `keytool -list -v`, a loopback mutual-TLS server, the Java client
(tests/java/MtlsClient.java) and the OpenSSL CLI.

The server behaves as Salesforce's port 8443 does for what matters here: it requires a client
certificate, sends no list of client CA names, and verifies the client's chain against one root.
"""

from __future__ import annotations

import datetime as dt
import re
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
# Long runs (thousands of key derivations) are 2.5x faster with the optimizing compiler.
JVM_LONG_RUN = ("-XX:+UseSerialGC",)
# keytool's labels and messages are localized ("Aliasname:" in German), and JAVA_TOOL_OPTIONS may
# set another language: options on the command line come after JAVA_TOOL_OPTIONS and win.
# (_JAVA_OPTIONS would win over them; nobody sets it by accident.)
JVM_ENGLISH = ("-Duser.language=en", "-Duser.country=US")
TOOL_TIMEOUT = 60.0

# MtlsClient's exit codes
JAVA_OK = 0
JAVA_LOAD_FAILED = 2
JAVA_TLS_FAILED = 3


def run(cmd: Sequence[str | Path], *, timeout: float = TOOL_TIMEOUT,
        input: str | None = None) -> subprocess.CompletedProcess:
    """Run a command with stdin closed (no tool may wait for a prompt) or given `input`, text
    output captured. Java and keytool go through run_java and run_keytool instead."""
    stdin = subprocess.DEVNULL if input is None else None
    return subprocess.run([str(c) for c in cmd], stdin=stdin, input=input, capture_output=True,
                          text=True, timeout=timeout, check=False)


def describe(proc: subprocess.CompletedProcess) -> str:
    """A command, its exit code and output, for assertion messages."""
    args = " ".join(str(a) for a in proc.args)
    return f"$ {args}\nexit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


# --- Java and keytool: the one runner ---

def java_command(*args: str | Path, jvm: Sequence[str] = JVM_FAST_START) -> list[str]:
    """`java` with English forced and the given JVM flags, then ARGS (a class or a source file)."""
    return ["java", *JVM_ENGLISH, *jvm, *(str(a) for a in args)]


def keytool_command(*args: str | Path) -> list[str]:
    """`keytool` with English forced and the fast-start JVM flags, then ARGS."""
    return ["keytool", *(f"-J{flag}" for flag in (*JVM_ENGLISH, *JVM_FAST_START)), *(str(a) for a in args)]


def run_java(*args: str | Path, jvm: Sequence[str] = JVM_FAST_START, input: str | None = None,
             timeout: float = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    """Run a Java program (`java ARGS`, English forced); the exit code is the caller's to judge."""
    return run(java_command(*args, jvm=jvm), input=input, timeout=timeout)


def run_keytool(*args: str | Path, timeout: float = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    """Run `keytool ARGS` (English forced); the exit code is the caller's to judge."""
    return run(keytool_command(*args), timeout=timeout)


def compile_java(source: Path, outdir: Path) -> Path:
    """javac SOURCE into outdir (once per session or module); the class directory."""
    outdir.mkdir(parents=True, exist_ok=True)
    proc = run(["javac", "-J-Duser.language=en", "-d", outdir, source], timeout=120)
    assert proc.returncode == 0, describe(proc)
    assert (outdir / f"{source.stem}.class").is_file(), describe(proc)
    return outdir


# --- keytool -list -v: the one parser ---

@dataclass(frozen=True)
class Listed:
    """One entry of `keytool -list -v`: alias as keytool prints it, entry type
    (PrivateKeyEntry, trustedCertEntry, SecretKeyEntry) and the SHA-256 fingerprint of each
    certificate, in chain order."""

    alias: str
    kind: str
    sha256: tuple[str, ...]


_COUNT = re.compile(r"^Your keystore contains (\d+) entr(?:y|ies)$", re.M)


def parse_keytool_list(text: str, *, expect_entries: bool = True) -> list[Listed]:
    """The entries of an English `keytool -list -v` listing, in keytool's order.

    Raises AssertionError when the text is not such a listing (no "Your keystore contains N
    entries" line: another language, an error), when the blocks found differ from N, and when
    no entry was found though entries were expected: an empty parse never passes for an empty
    store by accident."""
    found = _COUNT.search(text)
    if found is None:
        raise AssertionError(f"not an English keytool -list -v listing:\n{text[:2000]}")
    entries = []
    for block in re.split(r"^Alias name: ", text, flags=re.M)[1:]:
        kind = re.search(r"^Entry type: (\w+)$", block, re.M)
        if kind is None:
            raise AssertionError(f"an entry without 'Entry type:' in the listing:\n{block[:2000]}")
        chain = re.findall(r"^\s+SHA256: ([0-9A-F:]{95})$", block, re.M)
        entries.append(Listed(block.splitlines()[0], kind.group(1), tuple(chain)))
    if len(entries) != int(found.group(1)):
        raise AssertionError(f"keytool says {found.group(1)} entries, {len(entries)} parsed:\n{text[:2000]}")
    if expect_entries and not entries:
        raise AssertionError(f"keytool listed no entry where entries were expected:\n{text[:2000]}")
    return entries


def keytool_list_command(path: Path, storetype: str, storepass: str) -> list[str]:
    """keytool's arguments (without the program) for `-list -v` of a store."""
    return ["-list", "-v", "-keystore", str(path), "-storetype", storetype.upper(), "-storepass", storepass]


def run_keytool_list(path: Path, storetype: str, storepass: str) -> str:
    """`keytool -list -v` of a keystore: its stdout, after asserting that keytool exited 0.
    (keytool -list never decrypts a private key: see keytool_import_to_pkcs12 for that.)"""
    proc = run_keytool(*keytool_list_command(path, storetype, storepass))
    assert proc.returncode == 0, describe(proc)
    return proc.stdout


def keytool_entries(path: Path, storetype: str, storepass: str, *,
                    expect_entries: bool = True) -> list[Listed]:
    """The entries keytool lists in a store (run_keytool_list, parse_keytool_list)."""
    return parse_keytool_list(run_keytool_list(path, storetype, storepass), expect_entries=expect_entries)


def keytool_import_to_pkcs12(src: Path, storetype: str, storepass: str, dest: Path, *,
                             alias: str, keypass: str | None = None) -> subprocess.CompletedProcess:
    """`keytool -importkeystore` of one entry into a new PKCS12 (password `storepass`). keytool
    must decrypt the private key to copy it, so success proves the key password is right."""
    cmd = ["-importkeystore", "-noprompt",
           "-srckeystore", src, "-srcstoretype", storetype, "-srcstorepass", storepass,
           "-srcalias", alias, "-destalias", alias,
           "-destkeystore", dest, "-deststoretype", "PKCS12", "-deststorepass", storepass]
    if keypass is not None:
        cmd += ["-srckeypass", keypass]
    return run_keytool(*cmd)


def keytool_recovers_the_key(src: Path, storetype: str, storepass: str, dest: Path, *, alias: str,
                             keypass: str | None = None) -> x509.Certificate:
    """keytool copies the entry into a new PKCS12 (so it decrypted the key), and the copy holds a
    key matching its certificate: that certificate, for the caller to compare with the leaf."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from keytool_py.keys import same_public_key

    proc = keytool_import_to_pkcs12(src, storetype, storepass, dest, alias=alias, keypass=keypass)
    assert proc.returncode == 0, describe(proc)
    copied = pkcs12.load_pkcs12(dest.read_bytes(), storepass.encode())
    assert copied.key is not None and copied.cert is not None, describe(proc)
    assert same_public_key(copied.key.public_key(), copied.cert.certificate.public_key())
    return copied.cert.certificate


# --- the Java client ---

def compile_java_client(outdir: Path) -> Path:
    """Compile MtlsClient.java into outdir (once per session) and return the class directory."""
    return compile_java(JAVA_SOURCE, outdir)


def run_java_client(classdir: Path, *, store_type: str, store_path: Path, storepass: str,
                    keypass: str, trust_pem: Path, host: str = "127.0.0.1",
                    port: int) -> tuple[int, str]:
    """Run MtlsClient against host:port; (exit code, stdout + stderr)."""
    proc = run_java("-cp", classdir, JAVA_MAIN_CLASS, store_type, store_path, storepass, keypass,
                    trust_pem, host, str(port))
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
