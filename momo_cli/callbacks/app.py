"""The listener's ASGI app (starlette): take POST and PUT callbacks, answer 200 at once, hand them on.

The app does no work of its own: it reads the request, answers `{}` with 200, and passes a
`RawCallback` to the sink, which must not block (the `Receiver` puts it on a queue). MoMo calls
back with POST for v1 operations and PUT for v2 ones, so both are accepted on any path under the
prefix; other paths get 404. A GET on a listened path answers a short description (handy to check
the URL in a browser) and is not recorded.
"""

from __future__ import annotations

from typing import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from momo_cli.callbacks.events import RawCallback, utc_now

CALLBACK_METHODS = ("POST", "PUT")
#: A callback is a small JSON document; anything larger is refused rather than stored.
MAX_BODY_BYTES = 1024 * 1024

Sink = Callable[[RawCallback], None]


def normalize_prefix(path: str | None) -> str:
    """`/momo/` -> `/momo`; `` and `/` -> `/` (everything)."""
    text = (path or "/").strip()
    if not text.startswith("/"):
        text = "/" + text
    return text.rstrip("/") or "/"


def under_prefix(path: str, prefix: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


def create_app(sink: Sink, *, path: str = "/") -> Starlette:
    """An ASGI app that accepts POST and PUT under `path` and passes each callback to `sink`."""
    prefix = normalize_prefix(path)

    async def receive(request: Request) -> Response:
        url_path = request.url.path
        if not under_prefix(url_path, prefix):
            return JSONResponse(
                {"error": f"not found: this listener takes callbacks under {prefix}"}, status_code=404
            )
        method = request.method.upper()
        if method in ("GET", "HEAD"):
            return JSONResponse({"listener": "momo callbacks listen", "methods": list(CALLBACK_METHODS)})
        if method not in CALLBACK_METHODS:
            return JSONResponse(
                {"error": f"method {method} not allowed: callbacks are POST or PUT"},
                status_code=405,
                headers={"Allow": ", ".join(("GET", "HEAD") + CALLBACK_METHODS)},
            )
        received_at = utc_now()
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse({"error": "body too large for a callback"}, status_code=413)
        raw = RawCallback(
            method=method,
            path=url_path,
            query=request.url.query,
            headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw],
            body=body,
            received_at=received_at,
            client=request.client.host if request.client else None,
        )
        sink(raw)
        return JSONResponse({})

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", receive, methods=methods)])
