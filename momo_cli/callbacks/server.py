"""Run the listener: bind the port ourselves, serve the app with uvicorn in the current event loop.

`listening()` is the one way to run it, both for `momo callbacks listen` and for a money command that
wants its own callback for the length of a `--wait` (`--listen PORT`):

    async with listening("127.0.0.1", 8000, "/momo") as listener:
        ...  # send the request with X-Callback-Url: listener.callback_url
        event = await listener.wait_for(matching(external_id="order-42"), timeout=60)

The port is bound before uvicorn starts, so a port in use is a clear usage error (exit 2) and there
is no window in which another program can take it. uvicorn's own signal handling and logs are off:
the caller decides when to stop, and our event lines replace its access log.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
from dataclasses import dataclass
from typing import Any, AsyncIterator

from momo_cli.callbacks.app import create_app, normalize_prefix
from momo_cli.callbacks.events import CallbackEvent
from momo_cli.callbacks.receiver import OnEvent, Predicate, Receiver, Summary
from momo_cli.callbacks.store import CallbackStore
from momo_cli.errors import UsageError

#: How long to wait for uvicorn to start serving on an already bound socket.
STARTUP_TIMEOUT = 10.0


class ListenerFailed(UsageError):
    """uvicorn could not serve on the bound socket (rare: binding itself is checked first): exit 2."""


def bind_socket(host: str, port: int, *, option: str = "--port") -> socket.socket:
    """A TCP socket bound to host:port (port 0 picks a free one); usage errors say what to change."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host: cannot listen on {host!r}: {exc.strerror}") from None
    except OverflowError:
        raise UsageError(f"{option}: {port} is not a port number (0 to 65535)") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use: pick another with {option}") from None
        if exc.errno == errno.EACCES:
            raise UsageError(f"port {port} needs privileges: pick one above 1023 with {option}") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"--host: {host} is not an address of this machine") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


class _UvicornLog(logging.Handler):
    """Keeps uvicorn's messages for error reports; shows only its errors, as one line each."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(record.getMessage().split())
        except Exception:  # pragma: no cover - a malformed log record
            return
        self.messages.append(message)
        del self.messages[:-20]
        if record.levelno >= logging.ERROR:
            print(f"momo: listener: {message}", file=sys.stderr, flush=True)


_LOG_HANDLER = _UvicornLog()


def _quiet_uvicorn_logs() -> None:
    logger = logging.getLogger("uvicorn")
    if _LOG_HANDLER not in logger.handlers:
        logger.addHandler(_LOG_HANDLER)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True


def make_server(app: Any) -> Any:
    """A uvicorn Server for `app` that leaves signals to its caller and logs nothing but errors."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # the caller owns SIGINT/SIGTERM
            yield

    _quiet_uvicorn_logs()
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        server_header=False,
        proxy_headers=False,
        ws="none",
        timeout_graceful_shutdown=3,
    )
    return _Server(config)


def display_host(host: str) -> str:
    """The host to put in a URL: loopback for the wildcard addresses, brackets for IPv6."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@dataclass
class Listener:
    """A running listener: where it listens, what it received, and a way to wait for a callback."""

    host: str
    port: int
    path: str
    receiver: Receiver
    server: Any

    @property
    def base_url(self) -> str:
        return f"http://{display_host(self.host)}:{self.port}"

    @property
    def callback_url(self) -> str:
        """The URL to send as X-Callback-Url (its host must match the API user's providerCallbackHost)."""
        return self.base_url + ("/" if self.path == "/" else self.path)

    @property
    def callback_host(self) -> str:
        return display_host(self.host).strip("[]")

    @property
    def summary(self) -> Summary:
        return self.receiver.summary

    @property
    def events(self) -> list[CallbackEvent]:
        return list(self.receiver.events)

    async def wait_for(self, predicate: Predicate | None = None, timeout: float | None = None) -> CallbackEvent:
        """The first callback (since the listener started) matching `predicate`; TimeoutError after `timeout`."""
        return await self.receiver.wait_for(predicate, timeout)

    def stop(self, *, force: bool = False) -> None:
        """Ask the server to stop (from a signal handler, say); `force` drops open connections."""
        self.server.should_exit = True
        if force:
            self.server.force_exit = True


@contextlib.asynccontextmanager
async def listening(
    host: str = "127.0.0.1",
    port: int = 0,
    path: str = "/",
    *,
    store: CallbackStore | None = None,
    forward_to: str | None = None,
    forward_timeout: float = 10.0,
    on_event: OnEvent | None = None,
    option: str = "--listen",
) -> AsyncIterator[Listener]:
    """Serve the callback listener in the running event loop for the length of the `async with`.

    `store` defaults to an in-memory one (pass `CallbackStore.open_default()` to keep what arrives
    for `momo callbacks replay`). `port=0` picks a free port: read it from `listener.port`.
    `option` names the command-line option in a "port in use" error. On exit the server stops,
    callbacks already received are still handled (stored, forwarded, passed to `on_event`), and the
    in-memory store is closed.
    """
    prefix = normalize_prefix(path)
    sock = bind_socket(host, port, option=option)
    bound_port = sock.getsockname()[1]
    own_store = store is None
    store = store if store is not None else CallbackStore(":memory:")
    receiver = Receiver(store, forward_to=forward_to, forward_timeout=forward_timeout, on_event=on_event)
    try:
        server = make_server(create_app(receiver.submit, path=prefix))
    except BaseException:
        sock.close()
        raise
    receiver.start()

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn exits when it cannot start; its reason went to its log
            detail = _LOG_HANDLER.messages[-1] if _LOG_HANDLER.messages else "the server failed to start"
            raise ListenerFailed(f"cannot listen on {host}:{bound_port}: {detail}") from None
        except OSError as exc:
            raise ListenerFailed(f"cannot listen on {host}:{bound_port}: {exc.strerror or exc}") from None

    task = asyncio.get_running_loop().create_task(serve(), name="momo-callbacks-server")
    listener = Listener(host=host, port=bound_port, path=prefix, receiver=receiver, server=server)
    failure: BaseException | None = None
    try:
        await _until_started(server, task, host, bound_port)
        yield listener
    finally:
        server.should_exit = True
        try:
            await task
        except Exception as exc:  # raised below, unless another error is already on its way
            failure = exc
        sock.close()
        await receiver.stop(drain=not server.force_exit)
        if own_store:
            store.close()
    if failure is not None:
        raise failure


async def _until_started(server: Any, task: asyncio.Task, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise ListenerFailed(f"cannot listen on {host}:{port}: the server stopped while starting")
        if loop.time() > deadline:
            raise ListenerFailed(f"cannot listen on {host}:{port}: the server did not start in time")
        await asyncio.sleep(0.01)
