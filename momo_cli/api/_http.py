"""Plumbing shared by the client and provisioning: the httpx client, --debug logging, JSON encoding.

Debug logging goes through the `momo_cli.api` logger, one line per request and one per response
(method, URL, status, elapsed time), then the headers with every secret masked. The Authorization
header is never shown beyond its scheme, subscription keys only as `abcd…wxyz`, and the bodies of the
token and API-key answers are never logged.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from decimal import Decimal
from typing import Any

import httpx

from momo_cli import __version__
from momo_cli.logs import mask, redact

log = logging.getLogger("momo_cli.api")

#: The origin of requests to the in-process emulator (base URL `local`); never resolved or dialled.
LOCAL_ORIGIN = "http://momo.local"

USER_AGENT = f"momo-cli/{__version__}"

_SECRET_HEADERS = ("authorization", "ocp-apim-subscription-key", "proxy-authorization", "cookie", "set-cookie")
_MAX_BODY_LOG = 2000


def origin_for(base_url: str) -> str:
    return LOCAL_ORIGIN if base_url == "local" else base_url.rstrip("/")


def masked_headers(headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in ("authorization", "proxy-authorization"):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            shown[name] = f"{scheme} ***".strip()
        elif lower in _SECRET_HEADERS or any(word in lower for word in ("key", "token", "secret")):
            shown[name] = mask(value)
        else:
            shown[name] = value
    return shown


def _holds_secret(url: httpx.URL) -> bool:
    path = url.path.rstrip("/")
    return path.endswith("/token") or path.endswith("/apikey")


def scrub(text: str, secrets: "set[str] | frozenset[str]") -> str:
    """`text` with every known secret value masked, then the generic patterns of `logs.redact`."""
    for secret in secrets:
        if secret and len(secret) >= 6 and secret in text:
            text = text.replace(secret, mask(secret))
    return redact(text)


def _body_text(content: bytes, secrets: "set[str]") -> str:
    text = content.decode("utf-8", "replace")
    if len(text) > _MAX_BODY_LOG:
        text = text[:_MAX_BODY_LOG] + "…"
    return scrub(text, secrets)


class _DebugHooks:
    """httpx event hooks that log each exchange; cheap no-ops unless DEBUG is on.

    `secrets` is a live set of the owner's secret values (keys, tokens) masked wherever they appear.
    """

    def __init__(self, secrets: "set[str]") -> None:
        self._started: weakref.WeakKeyDictionary[httpx.Request, float] = weakref.WeakKeyDictionary()
        self.secrets = secrets

    async def on_request(self, request: httpx.Request) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        self._started[request] = time.perf_counter()
        log.debug("-> %s %s", request.method, request.url)
        log.debug("   request headers: %s", masked_headers(request.headers))
        if request.method != "GET" and not _holds_secret(request.url):
            try:
                content = request.content
            except httpx.RequestNotRead:  # pragma: no cover - we never stream request bodies
                content = b""
            if content:
                log.debug("   request body: %s", _body_text(content, self.secrets))

    async def on_response(self, response: httpx.Response) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        request = response.request
        started = self._started.pop(request, None)
        elapsed = f"{(time.perf_counter() - started) * 1000:.0f} ms" if started is not None else "?"
        log.debug("<- %s %s %d (%s)", request.method, request.url, response.status_code, elapsed)
        log.debug("   response headers: %s", masked_headers(response.headers))
        if _holds_secret(request.url):
            log.debug("   response body: (not logged: it holds a secret)")
            return
        if response.status_code >= 300 or request.method == "GET":
            await response.aread()
            if response.content:
                log.debug("   response body: %s", _body_text(response.content, self.secrets))


def make_http_client(
    *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0, secrets: "set[str] | None" = None,
    origin: str | None = None,
) -> httpx.AsyncClient:
    """The one way we build an httpx client: TLS verified, our User-Agent, no redirects, debug hooks.

    `secrets`: a set the caller keeps filling with its secret values; the debug log masks them.
    `origin`: where it will talk to. Plain http (loopback only: api.hosts allows nothing else) has no
    TLS, so the CA bundle is not loaded for nothing (a cost at every start): its context still
    requires a verified certificate and host name, and having no CA it can verify none, so an https
    URL can never slip through unverified.
    """
    hooks = _DebugHooks(secrets if secrets is not None else set())
    verify: Any = True
    if origin is not None and origin.startswith("http://"):
        import ssl

        verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname: no CA, no pass
    return httpx.AsyncClient(
        verify=verify,
        transport=transport,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,
        event_hooks={"request": [hooks.on_request], "response": [hooks.on_response]},
    )


def plain_json(value: Any) -> Any:
    """Make a body JSON-ready: Decimal -> exact string, models -> their API dict; floats are refused."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        raise TypeError("a float in a request body: amounts must be decimal strings")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    to_api = getattr(value, "to_api", None)
    if callable(to_api):
        return plain_json(to_api())
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def encode_json(body: Any) -> bytes:
    return json.dumps(plain_json(body), separators=(",", ":")).encode("utf-8")
