"""What momo listens on binds loopback by default (design.md section 5): nobody else on the network
can reach the emulator, with its API keys and tokens, or the callback receiver.

A real `momo sandbox serve --port P` (and `momo callbacks listen --port P`) is started without
`--host`; the kernel's table of listening sockets (/proc/net/tcp and tcp6) says where it is bound.
Only 127.0.0.1 is ever connected to.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.emulator import free_port

pytestmark = [
    pytest.mark.served,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the Linux socket table"),
]

LISTEN = "0A"


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address of /proc/net/tcp[6]: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def listening_addresses(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every local address with a listening TCP socket on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as handle:
            next(handle)  # the header
            for line in handle:
                fields = line.split()
                local, state = fields[1], fields[3]
                address, _, port_hex = local.partition(":")
                if state == LISTEN and int(port_hex, 16) == port:
                    found.append(_address(address))
    return found


def test_the_socket_table_is_read_right():
    """The parser itself: a socket bound to 127.0.0.1 is seen there, one on 0.0.0.0 too."""
    import socket

    for host, expected in (("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "0.0.0.0")):
        with socket.socket() as sock:
            sock.bind((host, 0))
            sock.listen()
            assert [str(a) for a in listening_addresses(sock.getsockname()[1])] == [expected]


def _serve(argv: list[str], ready: str, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "momo_cli", *argv, "--port", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while ready not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"did not start:\n{log.read_text()}"
        time.sleep(0.05)
    return process, port


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_sandbox_serve_binds_loopback_only_by_default(tmp_path):
    log = tmp_path / "serve.log"
    process, port = _serve(["sandbox", "serve", "--db", str(tmp_path / "emulator.db"), "--quiet"],
                           "press Ctrl+C to stop", log)
    try:
        assert f"listening on http://127.0.0.1:{port}" in log.read_text()
        addresses = listening_addresses(port)
        assert addresses, "no listening socket found for the emulator"
        assert all(address.is_loopback for address in addresses), addresses
        assert [str(a) for a in addresses] == ["127.0.0.1"]
        health = httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=5, trust_env=False)
        assert health.status_code == 200 and health.json()["pid"] == process.pid
    finally:
        _stop(process)


def test_callbacks_listen_binds_loopback_only_by_default(tmp_path):
    log = tmp_path / "listen.log"
    process, port = _serve(["callbacks", "listen"], "Ready. Press Ctrl-C to stop.", log)
    try:
        addresses = listening_addresses(port)
        assert addresses and all(address.is_loopback for address in addresses), addresses
        answer = httpx.post(f"http://127.0.0.1:{port}/", json={"status": "SUCCESSFUL"}, timeout=5,
                            trust_env=False)
        assert answer.status_code == 200
    finally:
        _stop(process)
