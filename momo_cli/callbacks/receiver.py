"""From a received request to a shown event: number and store it, forward it, tell whoever waits.

The app's sink only puts the request on a queue; one worker task takes them in arrival order, so
sequence numbers, output lines and forwards keep that order. The app has already answered 200 by
then: a slow `--forward-to` target delays the next line, never MoMo.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from momo_cli.callbacks.events import CallbackEvent, RawCallback
from momo_cli.callbacks.forward import ForwardResult, Sender, probe
from momo_cli.callbacks.store import CallbackStore

Predicate = Callable[[CallbackEvent], bool]
OnEvent = Callable[[CallbackEvent], Any]


@dataclass
class Summary:
    received: int = 0
    duplicates: int = 0
    by_status: Counter = field(default_factory=Counter)
    forwarded: int = 0
    #: forwards that could not be delivered, or that the app answered with a non-2xx status
    forward_failures: int = 0

    def add(self, event: CallbackEvent) -> None:
        self.received += 1
        if event.duplicate:
            self.duplicates += 1
        self.by_status[event.status or "(no status)"] += 1
        if event.forward is not None:
            self.forwarded += 1
            result = ForwardResult(**event.forward)
            if not result.ok:
                self.forward_failures += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "by_status": dict(self.by_status),
            "forwarded": self.forwarded,
            "forward_failures": self.forward_failures,
        }

    def line(self) -> str:
        noun = "callback" if self.received == 1 else "callbacks"
        text = f"Received {self.received} {noun}"
        if self.received:
            dup = "duplicate" if self.duplicates == 1 else "duplicates"
            statuses = ", ".join(f"{status} {count}" for status, count in self.by_status.most_common())
            text += f" ({self.duplicates} {dup}): {statuses}"
        if self.forwarded:
            text += f"; forwarded {self.forwarded}, {self.forward_failures} failed"
        return text + "."


def matching(
    *,
    external_id: str | None = None,
    amount: str | Decimal | None = None,
    currency: str | None = None,
    party_id: str | None = None,
    final_only: bool = False,
) -> Predicate:
    """A predicate for `wait_for`: every given fact must match (amounts compare as numbers)."""

    def same_amount(value: str | None) -> bool:
        try:
            return value is not None and Decimal(str(value)) == Decimal(str(amount))
        except InvalidOperation:
            return False

    def predicate(event: CallbackEvent) -> bool:
        info = event.info
        if external_id is not None and info.external_id != external_id:
            return False
        if amount is not None and not same_amount(info.amount):
            return False
        if currency is not None and (info.currency or "").upper() != currency.upper():
            return False
        if party_id is not None and (info.party or {}).get("id") != party_id:
            return False
        if final_only:
            from momo_cli.operations import is_final

            return is_final(info.status)
        return True

    return predicate


class Receiver:
    """The sink of the app and the worker behind it."""

    def __init__(
        self,
        store: CallbackStore,
        *,
        forward_to: str | None = None,
        forward_timeout: float = 10.0,
        on_event: OnEvent | None = None,
        history: int = 1000,
        transport: Any = None,
    ) -> None:
        self.store = store
        self.forward_to = forward_to
        self.on_event = on_event
        self.summary = Summary()
        self.events: deque[CallbackEvent] = deque(maxlen=history)
        self._sender = Sender(timeout=forward_timeout, transport=transport) if forward_to else None
        self._queue: asyncio.Queue[RawCallback | None] = asyncio.Queue()
        self._waiters: list[tuple[Predicate, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None
        self._aborted = False

    # the app's sink: never blocks
    def submit(self, raw: RawCallback) -> None:
        self._queue.put_nowait(raw)

    __call__ = submit

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="momo-callbacks")

    def abort(self) -> None:
        """Stop the worker now, dropping what is queued (a second Ctrl-C)."""
        if self._worker is not None and not self._worker.done():
            self._aborted = True
            self._worker.cancel()

    async def stop(self, *, drain: bool = True) -> None:
        """Handle what is still queued (unless `drain` is False), stop the worker, close the client."""
        if self._worker is not None:
            if drain:
                self._queue.put_nowait(None)
            else:
                self.abort()
            try:
                await self._worker
            except asyncio.CancelledError:
                if not self._aborted:
                    raise
            finally:
                self._worker = None
        if self._sender is not None:
            await self._sender.aclose()

    async def probe_forward_target(self) -> str | None:
        """None if the `--forward-to` target answers at all, else why it does not."""
        if self.forward_to is None:
            return None
        return await probe(self.forward_to)

    async def _run(self) -> None:
        while True:
            raw = await self._queue.get()
            if raw is None:
                return
            try:
                await self.handle(raw)
            except Exception as exc:  # one bad event must not stop the listener
                import sys

                print(f"momo: error handling a callback: {type(exc).__name__}: {exc}", file=sys.stderr)

    async def handle(self, raw: RawCallback) -> CallbackEvent:
        event = self.store.record(raw)
        self.events.append(event)
        self._notify(event)
        if self._sender is not None and self.forward_to is not None:
            result = await self._sender.forward(self.forward_to, raw)
            event.forward = result.to_dict()
            self.store.set_forward(event.seq, event.forward)
        self.summary.add(event)
        if self.on_event is not None:
            outcome = self.on_event(event)
            if inspect.isawaitable(outcome):
                await outcome
        return event

    def _notify(self, event: CallbackEvent) -> None:
        for predicate, future in list(self._waiters):
            if not future.done() and _safe(predicate, event):
                future.set_result(event)

    async def wait_for(self, predicate: Predicate | None = None, timeout: float | None = None) -> CallbackEvent:
        """The first callback since start that satisfies `predicate` (any callback when None).

        Callbacks that came before this call count too, so there is no race with a fast sender.
        Raises TimeoutError after `timeout` seconds.
        """
        check = predicate or (lambda event: True)
        for event in self.events:
            if _safe(check, event):
                return event
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        entry = (check, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove(entry)


def _safe(predicate: Predicate, event: CallbackEvent) -> bool:
    try:
        return bool(predicate(event))
    except Exception:
        return False

