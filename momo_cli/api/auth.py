"""The token flow as an httpx.Auth: Basic user:key -> POST /{product}/token/ -> Bearer (momo-api.md 1.2, 11).

The token comes from the cache when it is still good; otherwise one request fetches it (a lock makes
concurrent requests of one process wait for that one fetch instead of each minting a token). When the
API answers 401 to a request made with a token, the token is fetched again once and the request sent
once more; a second 401 is returned to the caller, which makes it an AuthError. A 401 on the token call
itself is an AuthError at once, with a hint. A 401 that names the subscription key is not a token
problem, so it is not retried.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncGenerator, Generator

import httpx

from momo_cli.api._http import USER_AGENT
from momo_cli.api.errors import error_from_response, is_subscription_key_rejection
from momo_cli.api.models import Token, parse_json
from momo_cli.api.tokens import CachedToken, TokenCache, TokenKey
from momo_cli.errors import ApiError


class MomoTokenAuth(httpx.Auth):
    """Bearer tokens for one product and API user. `token_url` is `{base}/{product}/token/`."""

    def __init__(
        self,
        *,
        token_url: str,
        product: str,
        user_id: str,
        api_key: str,
        subscription_key: str,
        target_environment: str,
        cache: TokenCache,
        key: TokenKey,
        secrets: set[str] | None = None,
    ) -> None:
        self.token_url = token_url
        self.product = product
        self._basic = "Basic " + base64.b64encode(f"{user_id}:{api_key}".encode()).decode("ascii")
        self._subscription_key = subscription_key
        self._target_environment = target_environment
        self.cache = cache
        self.key = key
        self._async_lock: asyncio.Lock | None = None
        self._thread_lock = threading.Lock()
        #: how many token requests this object sent (for tests and `doctor`)
        self.fetches = 0
        #: secret values the owner masks in logs and errors; tokens join it as they are seen
        self.secrets = secrets if secrets is not None else set()
        self.secrets.update({api_key, subscription_key, self._basic.split(" ", 1)[1]})

    def __repr__(self) -> str:
        return f"MomoTokenAuth(product={self.product!r}, user_id={self.key.user_id!r})"

    # --------------------------------------------------------------------------------- the pieces

    def token_request(self) -> httpx.Request:
        """POST {base}/{product}/token/ with Basic auth, no body and `Content-Length: 0`."""
        return httpx.Request(
            "POST",
            self.token_url,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Authorization": self._basic,
                "Ocp-Apim-Subscription-Key": self._subscription_key,
                "X-Target-Environment": self._target_environment,
                "Content-Length": "0",
            },
        )

    def accept_token_response(self, response: httpx.Response) -> CachedToken:
        """Store the token of a 200 answer, or raise the error the answer means."""
        if response.status_code != 200:
            raise error_from_response(
                response, product=self.product, action=f"{self.product} access token", token_call=True
            )
        try:
            token = Token.model_validate(parse_json(response.content))
        except ValueError:
            raise ApiError(
                f"{self.product} access token: the answer was not a token (HTTP 200 without access_token)",
                status=200,
                hint="check the base URL: it must be the MoMo API host",
            ) from None
        self.fetches += 1
        self.secrets.add(token.access_token)
        return self.cache.put(self.key, token.access_token, token.expires_in)

    def _lock(self) -> asyncio.Lock:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        return self._async_lock

    @staticmethod
    def _token_refused(response: httpx.Response) -> bool:
        return response.status_code == 401 and not is_subscription_key_rejection(response)

    # ---------------------------------------------------------------------------------- async flow

    def _cached(self) -> CachedToken | None:
        token = self.cache.get(self.key)
        if token is not None:
            self.secrets.add(token.access_token)
        return token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._cached()
        if token is None:
            async with self._lock():
                token = self._cached()
                if token is None:
                    response = yield self.token_request()
                    await response.aread()
                    token = self.accept_token_response(response)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        await response.aread()

        if self._token_refused(response):
            used = token.access_token
            async with self._lock():
                current = self._cached()
                if current is None or current.access_token == used:
                    self.cache.drop(self.key, used)
                    token_response = yield self.token_request()
                    await token_response.aread()
                    current = self.accept_token_response(token_response)
            request.headers["Authorization"] = f"Bearer {current.access_token}"
            yield request

    # ----------------------------------------------------------------------------------- sync flow

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._cached()
        if token is None:
            with self._thread_lock:
                token = self._cached()
                if token is None:
                    response = yield self.token_request()
                    response.read()
                    token = self.accept_token_response(response)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        response.read()

        if self._token_refused(response):
            used = token.access_token
            with self._thread_lock:
                current = self._cached()
                if current is None or current.access_token == used:
                    self.cache.drop(self.key, used)
                    token_response = yield self.token_request()
                    token_response.read()
                    current = self.accept_token_response(token_response)
            request.headers["Authorization"] = f"Bearer {current.access_token}"
            yield request
