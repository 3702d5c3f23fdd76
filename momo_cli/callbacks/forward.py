"""Pass callbacks on to the user's own app (forwarding and replay), and report what it answered.

This is a plain HTTP client for the user's app, separate from the MoMo API client. Forwarding sends
the callback to the `--forward-to` URL exactly as given (the path the callback arrived on is not
appended), with the same method and body bytes and the headers an app looks at (Content-Type,
User-Agent). A replay sends every original header except the ones that describe the old connection
(Host, Content-Length, Connection ...). Failures never raise: they become the result's `error`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from momo_cli.callbacks.events import RawCallback
from momo_cli.errors import UsageError

DEFAULT_TIMEOUT = 10.0
EXCERPT_CHARS = 200

#: Headers forwarded by `listen --forward-to`.
FORWARDED_HEADERS = ("content-type", "user-agent")
#: Headers a replay never copies: they belong to the original connection, or httpx sets them.
HOP_HEADERS = frozenset(
    {
        "host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer",
        "upgrade", "proxy-connection", "proxy-authorization", "proxy-authenticate", "expect",
        "accept-encoding",
    }
)


@dataclass
class ForwardResult:
    url: str
    status: int | None = None
    error: str | None = None
    body_excerpt: str | None = None
    elapsed_ms: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_url(url: str, *, option: str) -> str:
    """An http(s) URL with a host, or a usage error naming the option."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option}: {url!r} is not an http:// or https:// URL",
                         hint="for example http://127.0.0.1:3000/momo/callback")
    try:
        parts.port
    except ValueError:
        raise UsageError(f"{option}: {url!r} has an invalid port") from None
    return url


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_error(exc: Exception, url: str, timeout: float) -> str:
    import httpx

    where = urlsplit(url).netloc or url
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect to {where}: timed out after {timeout:g}s"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer within {timeout:g}s"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {where}: {_connect_detail(exc)} (is your app running?)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} closed the connection without an answer"
    return f"{type(exc).__name__}: {exc}"


def _connect_detail(exc: BaseException) -> str:
    """The root cause of a failed connection, in words: "connection refused", "Name or service ..."."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return str(exc) or "connection failed"


def forward_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The headers `--forward-to` passes on: Content-Type and User-Agent, never Host."""
    return {name: value for name, value in headers if name.lower() in FORWARDED_HEADERS}


def replay_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The original headers, less those that describe the original connection."""
    return [(name, value) for name, value in headers if name.lower() not in HOP_HEADERS]


class Sender:
    """One httpx client for the user's app, with a timeout; open with `async with`."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, transport: Any = None) -> None:
        self.timeout = timeout
        self._transport = transport
        self._client = None

    async def __aenter__(self) -> "Sender":
        import httpx

        self._client = httpx.AsyncClient(
            timeout=self.timeout, transport=self._transport, follow_redirects=False, trust_env=False
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, url: str, method: str, body: bytes, headers: Any) -> ForwardResult:
        if self._client is None:
            await self.__aenter__()
        started = time.monotonic()
        try:
            response = await self._client.request(method, url, content=body, headers=headers)
        except Exception as exc:  # every failure of the user's app is reported, never raised
            return ForwardResult(url=url, error=describe_error(exc, url, self.timeout),
                                 elapsed_ms=round((time.monotonic() - started) * 1000))
        return ForwardResult(
            url=url,
            status=response.status_code,
            body_excerpt=excerpt(response.text),
            elapsed_ms=round((time.monotonic() - started) * 1000),
        )

    async def forward(self, url: str, raw: RawCallback) -> ForwardResult:
        return await self.send(url, raw.method, raw.body, forward_headers(raw.headers))

    async def replay(self, url: str, raw: RawCallback) -> ForwardResult:
        return await self.send(url, raw.method, raw.body, replay_headers(raw.headers))


async def probe(url: str, *, timeout: float = 2.0) -> str | None:
    """None if something accepts a TCP connection at `url`'s host and port, else why not.

    Only a connection is opened (nothing is sent), so the user's app sees no extra request.
    """
    import asyncio

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = parts.netloc or url
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), timeout)
    except asyncio.TimeoutError:
        return f"cannot connect to {where}: timed out after {timeout:g}s"
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else (exc.strerror or str(exc))
        return f"cannot connect to {where}: {reason} (is your app running?)"
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return None
