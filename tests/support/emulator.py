"""Fixtures that run the MoMo emulator: in-process and as a real loopback `momo sandbox serve`.

Registered as a pytest plugin by tests/conftest.py, so every test can ask for:

``emulator_config``
    An `EmulatorConfig` on a fresh database in the test's tmp dir, with ``settle_after=0`` (every
    transaction is final at once) and a fixed seed. Override fields with ``dataclasses.replace``.

``emulator_transport``
    ``local_transport(emulator_config)``: an ``httpx.AsyncBaseTransport`` for async tests::

        async with httpx.AsyncClient(transport=emulator_transport, base_url=EMULATOR_BASE) as c: ...

``emulator_async_client``
    The same as an ``httpx.AsyncClient``, for async tests run by anyio's pytest plugin
    (``@pytest.mark.anyio``; the emulator's callback dispatcher then runs in the test's event loop).

``emulator_client``
    A sync ``httpx.Client`` (base URL ``http://momo.local``) over the same in-process app. Requests run
    in a private event loop thread, which also runs the emulator's callback dispatcher, so callbacks
    are delivered while the test goes on. Closed at teardown.

``emulator_api``
    A `SandboxApi` over ``emulator_client``: ``provision()``, ``token()``, ``create()``, ``status()``.

``served_emulator``
    A factory: ``served_emulator(*extra_flags, db_path=None) -> ServedEmulator`` starts
    ``python -m momo_cli sandbox serve --port <free port> --db <tmp db> --settle-after 0 [flags]`` (a later
    ``--settle-after`` in ``extra_flags`` wins), waits until it answers, and stops it at teardown. The
    returned object has ``.url``, ``.db_path``, ``.port``, ``.transactions()``, ``.requests()``,
    ``.callbacks()``, ``.reset()``, ``.stop()``, ``.client()`` (a sync httpx.Client on ``.url``),
    ``.api()`` (a SandboxApi on it) and ``.log_text()`` (what the server printed).
    ``module_served_emulator`` is the same factory shared by a whole test module (start few servers:
    each costs about a second).

Helpers: `SandboxApi`, `Credentials`, `free_port()`, `CallbackReceiver` (a loopback HTTP server that
records every request, optionally answering with a scripted list of status codes), and the constants
`EMULATOR_BASE` and `SUBSCRIPTION_KEY`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

EMULATOR_BASE = "http://momo.local"
SUBSCRIPTION_KEY = "0123456789abcdef0123456789abcdef"
START_TIMEOUT = 30.0


# -- credentials and a small API driver ------------------------------------------------------------


@dataclasses.dataclass
class Credentials:
    user_id: str
    api_key: str
    subscription_key: str = SUBSCRIPTION_KEY
    callback_host: str = "localhost"

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user_id}:{self.api_key}".encode()).decode()


class SandboxApi:
    """Drives the emulator's HTTP API with a sync httpx.Client (in-process or served)."""

    def __init__(self, client: httpx.Client, *, environment: str = "sandbox") -> None:
        self.client = client
        self.environment = environment
        self._tokens: dict[tuple[str, str], str] = {}

    def provision(self, callback_host: str = "localhost", *, subscription_key: str = SUBSCRIPTION_KEY) -> Credentials:
        user_id = str(uuid.uuid4())
        headers = {"Ocp-Apim-Subscription-Key": subscription_key}
        r = self.client.post("/v1_0/apiuser", headers={**headers, "X-Reference-Id": user_id},
                             json={"providerCallbackHost": callback_host})
        assert r.status_code == 201, r.text
        r = self.client.post(f"/v1_0/apiuser/{user_id}/apikey", headers=headers)
        assert r.status_code == 201, r.text
        return Credentials(user_id, r.json()["apiKey"], subscription_key, callback_host)

    def token(self, creds: Credentials, product: str, *, fresh: bool = False) -> str:
        key = (creds.user_id, product)
        if fresh or key not in self._tokens:
            r = self.client.post(f"/{product}/token/", headers={
                "Ocp-Apim-Subscription-Key": creds.subscription_key, "Authorization": creds.basic,
            })
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def headers(self, creds: Credentials, product: str, **extra: str) -> dict[str, str]:
        headers = {
            "Ocp-Apim-Subscription-Key": creds.subscription_key,
            "Authorization": f"Bearer {self.token(creds, product)}",
            "X-Target-Environment": self.environment,
        }
        headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        return headers

    def create(
        self, creds: Credentials, product: str, operation: str, body: Any, *, version: str = "v1_0",
        reference_id: str | None = None, callback_url: str | None = None, headers: dict | None = None,
    ) -> tuple[str, httpx.Response]:
        from momo_cli.operations import get_operation

        path = f"/{product}" + get_operation(product, operation).create_path(version)
        reference_id = str(uuid.uuid4()) if reference_id is None else reference_id
        h = self.headers(creds, product)
        h["X-Reference-Id"] = reference_id
        if callback_url:
            h["X-Callback-Url"] = callback_url
        h.update(headers or {})
        if isinstance(body, (bytes, str)):
            r = self.client.post(path, headers=h, content=body)
        else:
            r = self.client.post(path, headers=h, json=body)
        return reference_id, r

    def status(self, creds: Credentials, product: str, operation: str, reference_id: str) -> httpx.Response:
        from momo_cli.operations import get_operation

        path = f"/{product}" + get_operation(product, operation).status_path.format(reference_id=reference_id)
        return self.client.get(path, headers=self.headers(creds, product))

    def balance(self, creds: Credentials, product: str) -> httpx.Response:
        return self.client.get(f"/{product}/v1_0/account/balance", headers=self.headers(creds, product))


def payment(party_id: str = "46733123999", amount: Any = "100", *, party_field: str = "payer",
            party_type: str = "MSISDN", currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    """A request-to-pay (party_field="payer") or transfer (party_field="payee") body."""
    body = {
        "amount": amount, "currency": currency, "externalId": "ext-1",
        party_field: {"partyIdType": party_type, "partyId": party_id},
        "payerMessage": "thanks", "payeeNote": "order 1",
    }
    body.update(extra)
    return body


# -- in-process ----------------------------------------------------------------------------------


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="emulator-loop", daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(cancel_all(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


class ThreadedTransport(httpx.BaseTransport):
    """A sync httpx transport over an async one, run in a private event loop thread."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self._loop = _LoopThread()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        areq = httpx.Request(request.method, request.url, headers=request.headers, content=body,
                             extensions=request.extensions)

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self.inner.handle_async_request(areq)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            return response.status_code, response.headers, content

        status, headers, content = self._loop.run(call())
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        self._loop.close()


@pytest.fixture
def emulator_config(tmp_path):
    from momo_cli.sandbox import EmulatorConfig

    return EmulatorConfig(db_path=tmp_path / "emulator" / "emulator.db", settle_after=0, seed=1234)


@pytest.fixture
def emulator_transport(emulator_config):
    from momo_cli.sandbox import local_transport
    from momo_cli.sandbox.transport import close_app

    yield local_transport(emulator_config)
    close_app(emulator_config)


class _EmulatorClient(httpx.Client):
    """An httpx.Client over the in-process emulator that, once closed, also closes the emulator's database."""

    def __init__(self, config, **kwargs: Any) -> None:
        from momo_cli.sandbox import local_transport

        self.emulator_config = config
        super().__init__(transport=ThreadedTransport(local_transport(config)), base_url=EMULATOR_BASE, **kwargs)

    def close(self) -> None:
        from momo_cli.sandbox.transport import close_app

        try:
            super().close()
        finally:
            close_app(self.emulator_config)


@pytest.fixture
async def emulator_async_client(emulator_transport):
    """An httpx.AsyncClient over the in-process emulator, for async tests (``@pytest.mark.anyio``)."""
    async with httpx.AsyncClient(transport=emulator_transport, base_url=EMULATOR_BASE) as client:
        yield client


def make_client(config) -> httpx.Client:
    """A sync client over the in-process emulator of `config` (use it as a context manager)."""
    return _EmulatorClient(config)


@pytest.fixture
def emulator_client(emulator_config) -> Iterator[httpx.Client]:
    client = make_client(emulator_config)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def emulator_api(emulator_client) -> SandboxApi:
    return SandboxApi(emulator_client)


# -- served --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServedEmulator:
    """One `momo sandbox serve` process on a loopback port."""

    def __init__(self, db_path: Path, extra: tuple[str, ...], log_path: Path) -> None:
        self.db_path = Path(db_path)
        self.extra = extra
        self.log_path = log_path
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen | None = None
        self._clients: list[httpx.Client] = []

    def start(self) -> "ServedEmulator":
        last_log = ""
        for _ in range(5):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            command = [sys.executable, "-m", "momo_cli", "sandbox", "serve", "--port", str(self.port),
                       "--db", str(self.db_path), "--settle-after", "0", *self.extra]
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if httpx.get(self.url + "/_sandbox/health", timeout=1.0, trust_env=False).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            last_log = self.log_text()
            self.stop()
            if "already in use" not in last_log:
                break
        raise RuntimeError(f"momo sandbox serve did not start:\n{last_log}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def client(self, **kwargs: Any) -> httpx.Client:
        client = httpx.Client(base_url=self.url, trust_env=False, timeout=kwargs.pop("timeout", 10.0), **kwargs)
        self._clients.append(client)
        return client

    def api(self) -> SandboxApi:
        return SandboxApi(self.client())

    def _admin(self, method: str, path: str) -> Any:
        r = httpx.request(method, self.url + path, timeout=10.0, trust_env=False)
        r.raise_for_status()
        return r.json()

    def transactions(self) -> list[dict[str, Any]]:
        return self._admin("GET", "/_sandbox/transactions")

    def requests(self) -> list[dict[str, Any]]:
        return self._admin("GET", "/_sandbox/requests")

    def callbacks(self) -> list[dict[str, Any]]:
        return self._admin("GET", "/_sandbox/callbacks")

    def reset(self) -> None:
        self._admin("POST", "/_sandbox/reset")

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class _ServerFactory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.servers: list[ServedEmulator] = []

    def __call__(self, *extra: str, db_path: Path | str | None = None) -> ServedEmulator:
        n = len(self.servers)
        db = Path(db_path) if db_path else self.directory / f"served-{n}.db"
        server = ServedEmulator(db, tuple(str(x) for x in extra), self.directory / f"served-{n}.log")
        self.servers.append(server)
        return server.start()

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture
def served_emulator(tmp_path) -> Iterator[Callable[..., ServedEmulator]]:
    factory = _ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def module_served_emulator(tmp_path_factory) -> Iterator[Callable[..., ServedEmulator]]:
    factory = _ServerFactory(tmp_path_factory.mktemp("served"))
    try:
        yield factory
    finally:
        factory.stop_all()


# -- a loopback callback receiver -----------------------------------------------------------------


@dataclasses.dataclass
class ReceivedCallback:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class CallbackReceiver:
    """A loopback HTTP server recording every request; `statuses` scripts the answers (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.received: list[ReceivedCallback] = []
        self.statuses = list(statuses or [])
        self._cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._cond:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append(ReceivedCallback(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                    ))
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "/callback") -> str:
        return f"http://localhost:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedCallback]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} callbacks, got {len(self.received)}: {self.received}")
                self._cond.wait(left)
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback_receiver() -> Iterator[Callable[..., CallbackReceiver]]:
    receivers: list[CallbackReceiver] = []

    def make(statuses: list[int] | None = None) -> CallbackReceiver:
        receiver = CallbackReceiver(statuses)
        receivers.append(receiver)
        return receiver

    try:
        yield make
    finally:
        for receiver in receivers:
            receiver.close()
