"""Serving the emulator over HTTP with uvicorn (`momo sandbox serve`).

Fault injection needs to close a connection without any answer. uvicorn turns an app exception
into a 500, so the app is given the connection's transport instead: `AbortableProtocol` (a subclass
of uvicorn's HTTP protocol, httptools when installed, else h11) puts an abort hook into each request
scope's "state". The app calls it and waits for the disconnect; the client sees no response at all.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable

from momo_cli.errors import UsageError
from momo_cli.sandbox.app import ABORT_KEY, create_app
from momo_cli.sandbox.config import EmulatorConfig


def _base_protocol() -> type[asyncio.Protocol]:
    try:
        import httptools  # noqa: F401

        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol


def abortable_protocol(base: type[asyncio.Protocol] | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with an abort hook for the connection in every request's scope state."""
    base = base or _base_protocol()

    class AbortableProtocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)

            def abort() -> bool:
                transport.abort()
                return True  # the app should wait for the disconnect event before it returns

            self.app_state = {**self.app_state, ABORT_KEY: abort}

    AbortableProtocol.__name__ = f"Abortable{base.__name__}"
    return AbortableProtocol


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port, or a one-line UsageError (port in use, bad host ...)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    # the protocol number matters: asyncio sets TCP_NODELAY only on sockets whose proto is TCP, and
    # without it every answer waits for the client's delayed ACK (about 40 ms)
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is already in use", hint="stop the other server or pick another --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise UsageError(f"no permission to listen on {host}:{port}", hint="use a port above 1023") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(
    config: EmulatorConfig,
    sock: socket.socket,
    *,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Serve the emulator on a bound socket until interrupted (SIGINT/SIGTERM end it cleanly)."""
    import uvicorn

    app = create_app(config)
    uv_config = uvicorn.Config(
        app,
        http=abortable_protocol(),
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(uv_config)
    if on_started is not None:
        original_startup = server.startup

        async def startup(sockets=None) -> None:
            await original_startup(sockets=sockets)
            if server.started:
                on_started()

        server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock])
