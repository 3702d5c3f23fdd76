"""Sandbox provisioning (momo-api.md section 2): an API user and its API key, in three requests.

1. `POST /v1_0/apiuser` with a new X-Reference-Id (the user id) and `{"providerCallbackHost": ...}` -> 201
2. `GET /v1_0/apiuser/{id}` to confirm it exists and read its target environment -> 200
3. `POST /v1_0/apiuser/{id}/apikey` (no body, Content-Length 0) -> 201 `{"apiKey": ...}`

No sleep in between. The real sandbox sometimes answers 404 to step 2 for a moment after step 1; only
then is step 2 asked again, briefly. A 429 (the gateway processed nothing) is asked again, unchanged,
after its Retry-After, like every other call of the client. Provisioning lives at the host root, not under a product, and uses
the product's subscription key only (no token).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from momo_cli import money
from momo_cli.api._http import encode_json, make_http_client, origin_for
from momo_cli.api.errors import (
    error_from_exception,
    error_from_response,
    parse_error_body,
    parse_retry_after,
    scrub_error,
)
from momo_cli.api.hosts import LOCAL, check_base_url
from momo_cli.api.models import ApiKey, ApiUser, parse_json
from momo_cli.errors import ApiError, AuthError, InvalidInput, MomoCliError, NotFound, UsageError
from momo_cli.logs import mask

SUBSCRIPTION_KEY_HINT = (
    "the subscription key was refused: copy the Primary key of this product from momodeveloper.mtn.com/developer"
)
#: Extra tries of the confirming GET when the sandbox does not show the new user yet, and the pause.
NOT_FOUND_RETRIES = 3
NOT_FOUND_DELAY = 0.5
#: Extra tries of a request answered 429, each after its Retry-After (1 s if it has none); a longer
#: Retry-After than MAX_RETRY_AFTER is not waited for.
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 30.0

T = TypeVar("T")

_HOST_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ProvisionedUser:
    user_id: str
    api_key: str = field(repr=False)
    provider_callback_host: str | None
    target_environment: str | None

    def __repr__(self) -> str:
        return (
            f"ProvisionedUser(user_id={self.user_id!r}, api_key={mask(self.api_key)!r}, "
            f"provider_callback_host={self.provider_callback_host!r}, "
            f"target_environment={self.target_environment!r})"
        )


def check_callback_host(value: str) -> str:
    """A providerCallbackHost: a host name (a URL is reduced to its host)."""
    text = (value or "").strip()
    if "://" in text:
        from urllib.parse import urlsplit

        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            text = ""
    host = text.rstrip(".").lower()
    if not host or not _HOST_RE.match(host):
        raise InvalidInput(
            "callback host",
            f"{value!r} is not a host name (e.g. example.com or webhook.example.com)",
            hint="give the host that will receive callbacks; it cannot be changed later",
        )
    return host


def _auth_hint(error: MomoCliError) -> MomoCliError:
    """Provisioning knows only one credential: a 401/403 is always the subscription key."""
    if isinstance(error, AuthError):
        return AuthError(error.message, hint=SUBSCRIPTION_KEY_HINT)
    return error


class _Provisioner:
    def __init__(
        self,
        base_url: str,
        subscription_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float,
        allow_any_host: bool,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.base_url = check_base_url(base_url, allow_any_host=allow_any_host)
        self.sleep = sleep
        if self.base_url == LOCAL and transport is None:
            raise UsageError("the base URL 'local' needs the in-process emulator's transport")
        key = (subscription_key or "").strip()
        if not key:
            raise InvalidInput(
                "subscription key",
                "is missing",
                hint="copy the Primary key of the product from momodeveloper.mtn.com/developer",
            )
        self.subscription_key = key
        self.origin = origin_for(self.base_url)
        self.secrets: set[str] = {key}
        self.http = make_http_client(transport=transport, timeout=timeout, secrets=self.secrets, origin=self.origin)
        self.requests = 0

    def _where(self) -> str:
        return "the local emulator" if self.base_url == LOCAL else httpx.URL(self.origin).host

    async def call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        expect: tuple[int, ...],
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"Ocp-Apim-Subscription-Key": self.subscription_key}
        content = None
        if body is not None:
            content = encode_json(body)
            all_headers["Content-Type"] = "application/json"
        elif method == "POST":
            all_headers["Content-Length"] = "0"
        all_headers.update(headers or {})
        for retry in range(RATE_LIMIT_RETRIES + 1):
            self.requests += 1
            try:
                response = await self.http.request(method, f"{self.origin}{path}", headers=all_headers, content=content)
            except httpx.TransportError as exc:
                error = error_from_exception(exc, method=method, host=self._where(), action=action)
                raise scrub_error(error, self.secrets) from exc
            if response.status_code != 429 or retry == RATE_LIMIT_RETRIES:
                break
            message = parse_error_body(response.content, response.headers.get("content-type", "")).message
            delay = parse_retry_after(response.headers.get("retry-after"), message)
            if delay is None:
                delay = 1.0
            if delay > MAX_RETRY_AFTER:
                break
            await self.sleep(delay)
        if response.status_code not in expect:
            raise scrub_error(_auth_hint(error_from_response(response, action=action)), self.secrets)
        return response

    async def get_user(self, user_id: str) -> ApiUser:
        action = f"API user {user_id}"
        response = await self.call("GET", f"/v1_0/apiuser/{user_id}", action=action, expect=(200,))
        return _read(ApiUser, response, action)

    async def new_key(self, user_id: str) -> str:
        action = f"API key for {user_id}"
        response = await self.call("POST", f"/v1_0/apiuser/{user_id}/apikey", action=action, expect=(200, 201))
        api_key = _read(ApiKey, response, action).api_key
        self.secrets.add(api_key)
        return api_key

    async def aclose(self) -> None:
        await self.http.aclose()


def _read(model: Any, response: httpx.Response, action: str) -> Any:
    try:
        return model.model_validate(parse_json(response.content))
    except (ValueError, UnicodeDecodeError):
        body = parse_error_body(response.content, response.headers.get("content-type", ""))
        raise ApiError(
            f"{action}: the answer could not be read (HTTP {response.status_code}, {body.kind} body)",
            status=response.status_code,
            hint="check the base URL: provisioning needs the sandbox host, e.g. https://sandbox.momodeveloper.mtn.com",
        ) from None


async def provision_sandbox_user(
    base_url: str,
    subscription_key: str,
    provider_callback_host: str,
    *,
    user_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    allow_any_host: bool = False,
    not_found_retries: int = NOT_FOUND_RETRIES,
    not_found_delay: float = NOT_FOUND_DELAY,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> ProvisionedUser:
    """Create an API user and its API key; returns them (the key is shown to the user once)."""
    host = check_callback_host(provider_callback_host)
    reference = money.check_reference_id(user_id) if user_id else str(uuid.uuid4())
    p = _Provisioner(
        base_url, subscription_key, transport=transport, timeout=timeout, allow_any_host=allow_any_host, sleep=sleep
    )
    try:
        await p.call(
            "POST",
            "/v1_0/apiuser",
            action="create API user",
            expect=(200, 201),
            body={"providerCallbackHost": host},
            headers={"X-Reference-Id": reference},
        )
        tries = 0
        while True:
            try:
                user = await p.get_user(reference)
                break
            except NotFound:
                tries += 1
                if tries > not_found_retries:
                    raise
                await sleep(not_found_delay * tries)
        api_key = await p.new_key(reference)
    finally:
        await p.aclose()
    return ProvisionedUser(
        user_id=reference,
        api_key=api_key,
        provider_callback_host=user.provider_callback_host or host,
        target_environment=user.target_environment,
    )


async def _for_user(
    request: Callable[[_Provisioner, str], Awaitable[T]],
    base_url: str,
    subscription_key: str,
    user_id: str,
    transport: httpx.AsyncBaseTransport | None,
    *,
    timeout: float,
    allow_any_host: bool,
) -> T:
    """One request about an existing API user (its id checked first), on a client opened for it."""
    reference = money.check_reference_id(user_id, field="API user id")
    p = _Provisioner(base_url, subscription_key, transport=transport, timeout=timeout, allow_any_host=allow_any_host)
    try:
        return await request(p, reference)
    finally:
        await p.aclose()


async def get_api_user(
    base_url: str,
    subscription_key: str,
    user_id: str,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    timeout: float = 30.0,
    allow_any_host: bool = False,
) -> ApiUser:
    """GET /v1_0/apiuser/{id}: its providerCallbackHost and target environment (`momo provision show`)."""
    return await _for_user(_Provisioner.get_user, base_url, subscription_key, user_id, transport,
                           timeout=timeout, allow_any_host=allow_any_host)


async def create_api_key(
    base_url: str,
    subscription_key: str,
    user_id: str,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    timeout: float = 30.0,
    allow_any_host: bool = False,
) -> str:
    """A new API key for an existing API user (the old key cannot be read back)."""
    return await _for_user(_Provisioner.new_key, base_url, subscription_key, user_id, transport,
                           timeout=timeout, allow_any_host=allow_any_host)
