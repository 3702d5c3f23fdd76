"""When the client sends a request again by itself (design.md section 1, momo-api.md section 11).

* Reads (GET) are retried on connect errors, timeouts, dropped connections, 503, 5xx without a MoMo
  error code, and 429 (after Retry-After, if it is not too long), with exponential back-off and jitter.
* A creating POST is never blindly retried: its outcome may be unknown, and only the journal may
  resolve that (a status GET, then the same X-Reference-Id again if and only if the GET says 404).
  Two cases are safe and retried here: a 429 (the gateway did not process the request), sent again
  unchanged (same X-Reference-Id) after Retry-After; and a failure while fetching the access token,
  before the POST itself left.

The sleep and the random source are injectable, so tests run instantly and deterministically.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from momo_cli.api.errors import failed_request, is_token_request, parse_error_body, parse_retry_after

if TYPE_CHECKING:  # pragma: no cover
    import httpx

log = logging.getLogger("momo_cli.api")

#: Statuses that say "try again later" when the body carries no MoMo error code.
_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


def is_transient_response(response: "httpx.Response") -> bool:
    """503, 429, SERVICE_UNAVAILABLE, or 500/502/504 with no MoMo code: nothing was decided."""
    status = response.status_code
    if status in (429, 503):
        return True
    if status not in _TRANSIENT_STATUSES:
        return False
    body = parse_error_body(response.content, response.headers.get("content-type", ""))
    return body.code is None or body.code == "SERVICE_UNAVAILABLE"


def is_transient_exception(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError))


@dataclass
class RetryPolicy:
    #: total attempts of a GET (1 = no retry)
    attempts: int = 3
    #: total attempts of a POST that was answered 429, or failed while fetching its token
    post_attempts: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    #: a Retry-After longer than this is not waited for: the RateLimited error tells the user instead
    max_retry_after: float = 30.0
    #: each delay is scaled by a random factor in [1 - jitter, 1]
    jitter: float = 0.5
    sleep: Callable[[float], Awaitable[object]] = field(default=asyncio.sleep, repr=False)
    rand: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, attempt: int) -> float:
        """Delay after the `attempt`-th failure (1-based): base * 2^(attempt-1), capped, with jitter."""
        delay = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return delay * (1.0 - self.jitter * self.rand())

    def delay_for_response(self, response: "httpx.Response", *, attempt: int, creating: bool) -> float | None:
        """Seconds to wait before sending again, or None to stop here."""
        limit = self.post_attempts if creating or response.request.method != "GET" else self.attempts
        if attempt >= limit:
            return None
        if response.status_code == 429:
            body = parse_error_body(response.content, response.headers.get("content-type", ""))
            retry_after = parse_retry_after(response.headers.get("retry-after"), body.message)
            if retry_after is None:
                return self.backoff(attempt)
            if retry_after > self.max_retry_after:
                return None
            return retry_after
        if creating or response.request.method != "GET":
            return None
        if is_transient_response(response):
            return self.backoff(attempt)
        return None

    def delay_for_exception(self, exc: BaseException, *, method: str, attempt: int, creating: bool) -> float | None:
        if not is_transient_exception(exc):
            return None
        if creating or method != "GET":
            if attempt >= self.post_attempts or not is_token_request(failed_request(exc)):
                return None
            return self.backoff(attempt)
        if attempt >= self.attempts:
            return None
        return self.backoff(attempt)

    async def run(
        self,
        send: Callable[[], Awaitable["httpx.Response"]],
        *,
        method: str,
        creating: bool = False,
    ) -> "httpx.Response":
        """Call `send()` until it gives a final answer; returns the last response or raises the last error."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await send()
            except Exception as exc:
                delay = self.delay_for_exception(exc, method=method, attempt=attempt, creating=creating)
                if delay is None:
                    raise
                log.debug("retrying %s after %s (attempt %d), in %.2f s", method, type(exc).__name__, attempt, delay)
                await self.sleep(delay)
                continue
            delay = self.delay_for_response(response, attempt=attempt, creating=creating)
            if delay is None:
                return response
            log.debug("retrying %s after HTTP %d (attempt %d), in %.2f s", method, response.status_code, attempt, delay)
            await self.sleep(delay)


#: A policy that never sends anything twice (delivery notifications: a 429 there means "already done").
def no_retry() -> RetryPolicy:
    return RetryPolicy(attempts=1, post_attempts=1)
