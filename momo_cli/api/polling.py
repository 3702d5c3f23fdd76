"""Waiting for a transaction to reach a final status (design.md section 2, step 4).

`wait_for_final` knows nothing of HTTP: it calls `fetch()` (normally `client.get_transaction`) until the
status is final, the time is up, or an error other than a short-lived 404 occurs. Clock and sleep are
parameters, so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from momo_cli.errors import NotFound
from momo_cli.operations import is_final

#: A status GET right after the 202 may briefly answer 404 (momo-api.md section 11): keep asking this long.
NOT_FOUND_GRACE = 10.0


@dataclass(frozen=True)
class PollResult:
    """The last status seen (None if the transaction never became visible) and whether time ran out.

    Unpacks as `(status, timed_out)`.
    """

    status: Any
    timed_out: bool
    elapsed: float
    polls: int

    def __iter__(self):
        return iter((self.status, self.timed_out))


def _status_text(result: Any) -> str | None:
    if result is None:
        return None
    if isinstance(result, str):
        return result
    return getattr(result, "status", None)


async def wait_for_final(
    fetch: Callable[[], Awaitable[Any]],
    *,
    interval: float = 2.0,
    timeout: float = 120.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    on_update: Callable[[Any, float], object] | None = None,
    max_interval: float = 15.0,
    backoff: float = 1.5,
    not_found_grace: float = NOT_FOUND_GRACE,
) -> PollResult:
    """Poll until final. The first poll is immediate; then the wait grows from `interval` by `backoff`
    up to `max_interval`, and the last wait is cut so that the final poll happens at `timeout`.

    `fetch()` returns an object with a `.status` (or a status string), or None for "no news this
    time" (the last status seen is kept). A NotFound within
    `not_found_grace` seconds of the start counts as "not visible yet"; after it, it is raised.
    `on_update(status_or_None, elapsed)` is called after every poll.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    start = clock()
    delay = interval
    polls = 0
    last: Any = None
    while True:
        polls += 1
        try:
            result = await fetch()
        except NotFound:
            if clock() - start >= not_found_grace:
                raise
            result = None
        if result is not None:
            last = result
        elapsed = clock() - start
        if on_update is not None:
            on_update(result, elapsed)
        if result is not None and is_final(_status_text(result)):
            return PollResult(last, False, elapsed, polls)
        remaining = timeout - elapsed
        if remaining <= 0:
            return PollResult(last, True, elapsed, polls)
        await sleep(min(delay, remaining))
        delay = min(max_interval, delay * backoff)
