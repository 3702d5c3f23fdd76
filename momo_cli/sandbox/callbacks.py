"""Callback delivery: the final status body to the X-Callback-Url, in the background.

Each process that runs the emulator runs one dispatcher per event loop (started by the app's lifespan
under a server, or lazily on the first request in-process). Due callbacks are claimed atomically in
SQLite, as a lease, so two processes never both deliver one, and one that dies mid-way leaves it to
another. A failed delivery (no answer, or not 2xx) is retried with doubling pauses, a few times.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.sandbox.app import Emulator

#: What the provider's callback client calls itself (observed on sandbox callbacks).
USER_AGENT = "LWAC Http Client 1.0"
CONTENT_TYPE = "application/json; charset=utf-8"
#: Longest pause between two attempts, and between two looks at the database.
MAX_BACKOFF = 60.0
POLL_INTERVAL = 0.1

log = logging.getLogger("momo_cli.sandbox.callbacks")


class CallbackDispatcher:
    def __init__(self, emulator: "Emulator") -> None:
        self.emulator = emulator
        self.config = emulator.config
        self.store = emulator.store

    async def run(self) -> None:
        client = httpx.AsyncClient(
            timeout=self.config.callback_timeout, trust_env=False, follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        try:
            while True:
                try:
                    await self.tick(client)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - a bad moment (locked db, a bug) must not stop delivery
                    log.exception("callback dispatcher error")
                    await asyncio.sleep(0.5)
                await asyncio.sleep(POLL_INTERVAL)
        finally:
            await client.aclose()

    async def tick(self, client: httpx.AsyncClient) -> int:
        """Flush the request log and deliver whatever is due; the number of deliveries tried."""
        if self.emulator.served:
            self.emulator.flush_log()
        due = self.store.next_callback_due()
        if due is None or due > self.store.clock():
            return 0
        lease = self.config.callback_timeout + 5.0
        claimed = self.store.claim_callbacks(lease=lease)
        if claimed:
            await asyncio.gather(*(self.deliver(client, *item) for item in claimed))
        return len(claimed)

    async def deliver(
        self, client: httpx.AsyncClient, cb_id: int, reference_id: str, url: str, method: str, attempt: int,
        body: str | None,
    ) -> None:
        if body is None:  # the transaction is gone (reset): nothing to say any more
            self.store.finish_callback(cb_id, delivered=False, error="transaction no longer exists")
            return
        error: str | None = None
        try:
            response = await client.request(
                method, url, content=body.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE},
            )
            if 200 <= response.status_code < 300:
                self.store.finish_callback(cb_id, delivered=True)
                return
            error = f"HTTP {response.status_code}"
        except asyncio.CancelledError:
            # Stopped mid-delivery (the in-process emulator closing): give the claim back at once, so the
            # callback goes out now or from the next process; at worst it arrives twice (at-least-once).
            self.store.finish_callback(cb_id, delivered=False, error="interrupted", retry_at=self.store.clock())
            raise
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if attempt < self.config.callback_attempts:
            pause = min(MAX_BACKOFF, self.config.callback_backoff * (2 ** (attempt - 1)))
            self.store.finish_callback(cb_id, delivered=False, error=error, retry_at=self.store.clock() + pause)
        else:
            log.warning("callback for %s to %s failed after %d attempts: %s", reference_id, url, attempt, error)
            self.store.finish_callback(cb_id, delivered=False, error=error)
