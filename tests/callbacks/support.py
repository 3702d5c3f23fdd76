"""Helpers for the callback tests: MoMo-like bodies, a recording app, and a listener subprocess."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

#: The headers MoMo sends with a callback (momo-api.md section 10).
MOMO_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "LWAC Http Client 1.0"}

RTP_SUCCESS = {
    "financialTransactionId": "600198217",
    "externalId": "order-1",
    "amount": "100",
    "currency": "EUR",
    "payer": {"partyIdType": "MSISDN", "partyId": "56733123453"},
    "payerMessage": "Thanks",
    "payeeNote": "Order 1",
    "status": "SUCCESSFUL",
}
RTP_FAILED = {
    "externalId": "order-2",
    "amount": "250.50",
    "currency": "EUR",
    "payer": {"partyIdType": "MSISDN", "partyId": "46733123451"},
    "payerMessage": "Thanks",
    "payeeNote": "Order 2",
    "status": "FAILED",
    "reason": "APPROVAL_REJECTED",
}
TRANSFER_SUCCESS = {
    "financialTransactionId": "731852012",
    "externalId": "payout-7",
    "amount": "600",
    "currency": "EUR",
    "payee": {"partyIdType": "MSISDN", "partyId": "46733123499"},
    "payerMessage": "Salary",
    "payeeNote": "November",
    "status": "SUCCESSFUL",
}
WITHDRAW_V2_FAILED = {
    "externalId": "wd-9",
    "amount": "40",
    "currency": "EUR",
    "payer": {"partyIdType": "MSISDN", "partyId": "46733123452"},
    "status": "FAILED",
    "reason": "EXPIRED",
}
PAYMENT_V2 = {
    "referenceId": "5b4d9fb0-8a8f-4b76-9c0b-1b9a2c4e6f70",
    "status": "FAILED",
    "financialTransactionId": None,
    "reason": {"code": "PAYER_NOT_FOUND", "message": "The payer was not found."},
}
CASH_TRANSFER = {
    "financialTransactionId": "8812",
    "externalId": "cash-3",
    "amount": "75",
    "currency": "EUR",
    "payee": {"partyIdType": "MSISDN", "partyId": "46733123499"},
    "originatingCountry": "SE",
    "originalAmount": "800",
    "originalCurrency": "SEK",
    "payerIdentificationType": "PASS",
    "payerIdentificationNumber": "X123",
    "payerFirstName": "Ada",
    "payerSurname": "L",
    "status": "SUCCESSFUL",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound and released: refused, not filtered)."""
    return free_port()


# -- an app of the user's, recording what it receives -------------------------------------------
@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class TargetApp:
    """A small starlette app served by uvicorn in a thread: records requests, answers `status`."""

    url: str = ""
    status: int = 200
    requests: list[Received] = field(default_factory=list)
    _server: Any = None
    _thread: threading.Thread | None = None

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)


def start_target_app() -> TargetApp:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    target = TargetApp()

    async def hook(request: Request):
        target.requests.append(
            Received(request.method, request.url.path, dict(request.headers), await request.body())
        )
        return JSONResponse({"handled": True, "n": len(target.requests)}, status_code=target.status)

    app = Starlette(routes=[Route("/{path:path}", hook, methods=["POST", "PUT"])])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False, ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test app did not start"
        time.sleep(0.01)
    target.url = f"http://127.0.0.1:{port}/app/hook"
    target._server, target._thread = server, thread
    return target


def stop_target_app(target: TargetApp) -> None:
    target._server.should_exit = True
    target._thread.join(timeout=10)


@pytest.fixture
def target_app():
    target = start_target_app()
    yield target
    stop_target_app(target)


# -- `momo callbacks listen` as a real process ----------------------------------------------------
class ListenerProcess:
    """`python -m momo_cli callbacks listen ...`, its stdout and stderr read line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "momo_cli", "callbacks", "listen", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ if env is None else env, NO_COLOR="1"),
        )
        self.stdout: queue.Queue[str | None] = queue.Queue()
        self.stderr_lines: list[str] = []
        self._stderr_closed = False
        self._stderr_q: queue.Queue[str | None] = queue.Queue()
        for stream, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self._stderr_q)):
            threading.Thread(target=_pump, args=(stream, sink), daemon=True).start()

    def stderr_until(self, text: str, timeout: float = 15.0) -> str:
        """Collect stderr until a line containing `text` (or the process ends); returns all of it."""
        deadline = time.monotonic() + timeout
        while True:
            if any(text in line for line in self.stderr_lines):
                return "".join(self.stderr_lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {text!r} on stderr in {timeout}s: {''.join(self.stderr_lines)!r}")
            if self._stderr_closed:
                return "".join(self.stderr_lines)
            try:
                line = self._stderr_q.get(timeout=remaining)
            except queue.Empty:
                continue
            self._take(line)

    def wait_ready(self) -> str:
        text = self.stderr_until("Ready.")
        assert "Ready." in text, f"the listener did not start: {text!r} (exit {self.proc.poll()})"
        return text

    def next_line(self, timeout: float = 5.0) -> str:
        line = self.stdout.get(timeout=timeout)
        assert line is not None, "the listener's stdout closed"
        return line

    def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(self.next_line(timeout))

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def remaining_stderr(self, timeout: float = 5.0) -> str:
        """All of stderr, once the process has ended."""
        deadline = time.monotonic() + timeout
        while not self._stderr_closed:
            try:
                line = self._stderr_q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self._take(line)
        return "".join(self.stderr_lines)

    def _take(self, line: str | None) -> None:
        if line is None:
            self._stderr_closed = True
        else:
            self.stderr_lines.append(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _pump(stream, sink: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        sink.put(line)
    sink.put(None)


@pytest.fixture
def start_listener():
    """Start listener processes; every one still running at the end is killed."""
    started: list[ListenerProcess] = []

    def start(*args: str) -> ListenerProcess:
        process = ListenerProcess(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
