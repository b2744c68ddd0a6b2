"""Loopback servers for the server-trust tests: Debian's nginx serving one chain per port, Debian's
tinyproxy as the HTTP CONNECT proxy (allowing CONNECT to listed ports only, so a CONNECT to any
other port is refused), a server that stalls mid-handshake, and a closed port. Everything listens
on 127.0.0.1 only. Also the helpers the probe tests share: finding nginx, free ports, waiting for
a server to listen, stopping it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from helpers import require_tool


def find_nginx() -> str:
    """nginx lives in /usr/sbin, which a non-root PATH may leave out."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    return found or require_tool("nginx")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_ports(proc: subprocess.Popen, ports: list[int], log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}: "
                        f"{log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5).close()
            pending.pop(0)
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not listen on {pending} within {timeout:g} s")
            time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


NGINX_CONF = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{servers}
    # speaks HTTP, not TLS
    server {{ listen 127.0.0.1:{plain_port}; location / {{ return 200 "plain\\n"; }} }}
}}
"""
SERVER = """\
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/{name}-chain.pem;
        ssl_certificate_key {dir}/{name}-key.pem;
{client}        location / {{ return 200 "ok\\n"; }}
    }}
"""
# Asks for a client certificate naming no CA (as Salesforce's 8443) and refuses what did not verify.
CLIENT = """\
        ssl_verify_client optional_no_ca;
        ssl_trusted_certificate {dir}/client-root.pem;
        if ($ssl_client_verify != SUCCESS) {{ return 495; }}
"""


@contextlib.contextmanager
def nginx_serving(folder: Path, chains: Mapping[str, tuple[bytes, bytes]], *, client_root: bytes | None = None,
                  mutual: Sequence[str] = ()) -> Iterator[dict[str, int]]:
    """nginx serving, per name, (chain PEM exactly as nginx should send it, key PEM) on a port of
    its own; the names in `mutual` require a client certificate from `client_root` (PEM). Yields
    {name: port, "plain": a port speaking plain HTTP}."""
    binary = find_nginx()
    ports = dict(zip([*chains, "plain"], free_ports(len(chains) + 1), strict=True))
    for name, (chain_pem, key_pem) in chains.items():
        (folder / f"{name}-chain.pem").write_bytes(chain_pem)
        (folder / f"{name}-key.pem").write_bytes(key_pem)
    if client_root is not None:
        (folder / "client-root.pem").write_bytes(client_root)
    servers = "".join(SERVER.format(port=ports[name], dir=folder, name=name,
                                    client=CLIENT.format(dir=folder) if name in mutual else "")
                      for name in chains)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, servers=servers, plain_port=ports["plain"]))
    log = folder / "error.log"
    proc = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-e", str(log)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(proc, list(ports.values()), log)
        yield ports
    finally:
        stop(proc)


TINYPROXY_CONF = """\
Port {port}
Listen 127.0.0.1
Timeout 30
LogFile "{dir}/tinyproxy.log"
LogLevel Info
PidFile "{dir}/tinyproxy.pid"
MaxClients 20
Allow 127.0.0.1
DisableViaHeader Yes
{connect_ports}
"""


def find_tinyproxy() -> str:
    found = shutil.which("tinyproxy") or next(
        (p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if Path(p).exists()), None)
    return found or require_tool("tinyproxy")


@contextlib.contextmanager
def tinyproxy(folder: Path, connect_ports: list[int]) -> Iterator[int]:
    """Debian's tinyproxy in the foreground on 127.0.0.1, allowing CONNECT to `connect_ports`
    only (it answers any other CONNECT with 403); yields its port."""
    binary = find_tinyproxy()
    folder.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    conf = folder / "tinyproxy.conf"
    conf.write_text(TINYPROXY_CONF.format(port=port, dir=folder,
                                          connect_ports="\n".join(f"ConnectPort {p}" for p in connect_ports)))
    log = folder / "tinyproxy.log"
    proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(proc, [port], log)
        yield port
    finally:
        stop(proc)


class StallingServer:
    """Accepts connections, reads what the client sends (its TLS hello) and never answers, as a
    server stuck mid-handshake does; with `answer`, answers that instead (a port that speaks
    something other than TLS). A context manager; `port` is its port."""

    def __init__(self, answer: bytes | None = None) -> None:
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StallingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                conn.recv(65536)
                if self.answer is not None:
                    conn.sendall(self.answer)
            self.held.append(conn)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    (port,) = free_ports(1)
    return port
