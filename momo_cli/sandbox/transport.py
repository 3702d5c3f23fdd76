"""In-process use of the emulator: an httpx transport over the app, no server, no socket.

`local_transport(config)` is what the client uses for the `local` base URL (any base such as
`http://momo.local` will do: the transport ignores the host). The app is cached per database file in
this process, so every client in it shares one store and one callback dispatcher per event loop.
A dropped connection (fault injection) surfaces as `httpx.RemoteProtocolError`, as over a socket.
"""

from __future__ import annotations

import contextvars
import threading

import httpx

from momo_cli.sandbox.app import ABORT_KEY, create_app
from momo_cli.sandbox.config import EmulatorConfig

_APPS: dict[str, tuple[EmulatorConfig, object]] = {}
_LOCK = threading.Lock()
_aborted: contextvars.ContextVar[list | None] = contextvars.ContextVar("momo_sandbox_aborted", default=None)


def app_for(config: EmulatorConfig):
    """The app for `config`, built once per database file (rebuilt if the config changed)."""
    key = str(config.db_path.resolve())
    with _LOCK:
        cached = _APPS.get(key)
        if cached is None or cached[0] != config:
            cached = _APPS[key] = (config, create_app(config))
        return cached[1]


def close_app(config: EmulatorConfig) -> None:
    """Forget the cached app of `config.db_path` and close its database connections (tests, tools)."""
    from momo_cli.sandbox.app import close_store

    key = str(config.db_path.resolve())
    with _LOCK:
        _APPS.pop(key, None)
    close_store(config.db_path)


class _AbortableApp:
    """Gives the app an abort hook; an aborted request still completes the ASGI exchange quietly."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        flag = _aborted.get()
        started = False

        def abort() -> bool:
            if flag is not None:
                flag.append(True)
            return False  # nothing to wait for: the transport raises once the app returns

        async def send_wrapper(message) -> None:
            nonlocal started
            if flag:  # aborted: nothing reaches the client
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        scope = dict(scope)
        scope["state"] = {**(scope.get("state") or {}), ABORT_KEY: abort}
        await self.app(scope, receive, send_wrapper)
        if flag:
            if not started:
                await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class LocalTransport(httpx.AsyncBaseTransport):
    def __init__(self, app) -> None:
        self.app = app
        self._inner = httpx.ASGITransport(app=_AbortableApp(app), client=("127.0.0.1", 50000))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        flag: list = []
        token = _aborted.set(flag)
        try:
            response = await self._inner.handle_async_request(request)
        finally:
            _aborted.reset(token)
        if flag:
            await response.aclose()
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return response

    async def aclose(self) -> None:
        emulator = self.app.state.emulator
        try:
            await emulator.stop_dispatchers()
            await emulator.deliver_due_callbacks()
        finally:
            await self._inner.aclose()


def local_transport(config: EmulatorConfig) -> httpx.AsyncBaseTransport:
    """An httpx transport that answers from the emulator in this process, state in `config.db_path`."""
    return LocalTransport(app_for(config))
