"""The batch engine: pay every row of a batch run exactly once, fast, then follow each to its end.

The run and its rows are in the journal already (`Journal.create_or_resume_run` with the validated
rows): every row is an entry with its reference id. `run_batch` then

1. sends every row that is `created` or `unknown`, `concurrency` at a time, each through
   `sender.submit`, so the exactly-once rules hold row by row: a row that may have reached the API
   (`unknown`, or `created` with a send attempt counted before a crash) gets a status GET first and is
   sent again, with its own reference id, only on a 404. Rows already `submitted`, `final` or
   `rejected` are not sent again, so running the same file again resumes it;
2. polls every row the API accepted until its status is final, `poll_timeout` runs out, or nothing
   is left (rows still `unknown` are retried through `submit` in the same rounds).

Every request (POSTs and status GETs) goes through one client-side limiter: at most `concurrency`
in flight and a token bucket of `rate_limit` requests per second. A 429 pauses the whole run for its
Retry-After. An `AuthError` or `ConfigError` stops the run (every other row would fail the same way);
the rows it touched stay resumable. Progress is reported through `on_progress(BatchProgress)`.
Clock and sleep are parameters, so tests run on a fake clock. No CLI here.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from momo_cli.errors import ApiError, AuthError, ConfigError, MomoCliError, RateLimited, UsageError
from momo_cli.exitcodes import ExitCode
from momo_cli.journal.sender import (
    DEFAULT_POLICY,
    Clock,
    SendPolicy,
    Sleep,
    TransactionClient,
    is_not_found,
    resolve,
    submit,
)
from momo_cli.journal.store import Entry, Journal, Run, State, bucket
from momo_cli.operations import Operation

#: A run stops at once on these: no other row can succeed either.
_STOPPING = (AuthError, ConfigError)
_EPSILON = 1e-9
_MIN_WAIT = 1e-4


class TokenBucket:
    """A client-side rate limit: `rate` requests per second, bursts of up to `burst`.

    `rate` None or 0 means no limit (pauses still apply). `pause(seconds)` holds every request back,
    for a 429's Retry-After. Waiters are served in order.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate is not None and rate < 0:
            raise ValueError("rate must be positive")
        self.rate = rate or None
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._stamp: float | None = None
        self._paused_until = float("-inf")
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                if self.rate is None:
                    return
                if self._stamp is not None:
                    self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1 - _EPSILON:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                # never a wait so short that adding it to the clock changes nothing
                await self._sleep(max(_MIN_WAIT, (1 - self._tokens) / self.rate))


class RateMeter:
    """Requests per second over the last `window` seconds."""

    def __init__(self, clock: Clock, window: float = 5.0) -> None:
        self._clock = clock
        self._window = window
        self._start = clock()
        self._stamps: deque[float] = deque()
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        self._stamps.append(self._clock())

    def rate(self) -> float:
        now = self._clock()
        while self._stamps and self._stamps[0] < now - self._window:
            self._stamps.popleft()
        span = min(self._window, now - self._start)
        return len(self._stamps) / span if span > 0 else 0.0


class LimitedClient:
    """A `TransactionClient` whose requests share one concurrency limit, rate limit and meter."""

    def __init__(
        self,
        client: TransactionClient,
        *,
        concurrency: int,
        limiter: TokenBucket,
        meter: RateMeter,
        policy: SendPolicy = DEFAULT_POLICY,
    ) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._limiter = limiter
        self._meter = meter
        self._policy = policy

    async def _call(self, call: Callable[[], Awaitable[Any]]) -> Any:
        async with self._slots:
            await self._limiter.acquire()
            self._meter.tick()
            try:
                return await call()
            except RateLimited as exc:
                self._limiter.pause(self._policy.retry_after(exc))
                raise

    async def create_transaction(
        self,
        operation: Operation,
        reference_id: str,
        body: Mapping[str, Any],
        *,
        version: str = "v1_0",
        callback_url: str | None = None,
    ) -> None:
        return await self._call(
            lambda: self._client.create_transaction(
                operation, reference_id, body, version=version, callback_url=callback_url
            )
        )

    async def get_transaction(self, operation: Operation, reference_id: str) -> Any:
        return await self._call(lambda: self._client.get_transaction(operation, reference_id))


@dataclass(frozen=True)
class BatchProgress:
    """One progress event. `event`: "start", "phase" (a phase begins), "row" (a row's state or status
    changed; `row` is the entry), "round" (a polling round ended), "done". Counts are rows: `queued` (not sent yet), `unknown` (outcome unknown),
    `pending` (accepted, not final), `successful`, `failed` (final, not successful), `rejected`
    (refused synchronously, nothing created); `sent` = pending + successful + failed (accepted by
    the API). `rate` is requests per second over the last few seconds, `requests` all so far."""

    event: str
    phase: str
    run_id: int
    total: int
    sent: int
    queued: int
    unknown: int
    pending: int
    successful: int
    failed: int
    rejected: int
    rate: float
    requests: int
    elapsed: float
    row: Entry | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "event": self.event,
            "phase": self.phase,
            "run_id": self.run_id,
            "total": self.total,
            "sent": self.sent,
            "queued": self.queued,
            "unknown": self.unknown,
            "pending": self.pending,
            "successful": self.successful,
            "failed": self.failed,
            "rejected": self.rejected,
            "rate": round(self.rate, 2),
            "requests": self.requests,
            "elapsed": round(self.elapsed, 3),
        }
        if self.row is not None:
            data["row"] = {
                "line_no": self.row.line_no,
                "reference_id": self.row.reference_id,
                "external_id": self.row.external_id,
                "state": str(self.row.state),
                "status": self.row.status,
                "reason": self.row.reason,
                "financial_transaction_id": self.row.financial_transaction_id,
                "last_error": self.row.last_error,
            }
        return data


@dataclass(frozen=True)
class BatchResult:
    run_id: int
    total: int
    #: rows per bucket (see BatchProgress)
    counts: dict[str, int]
    requests: int
    elapsed: float
    #: polling stopped at poll_timeout with rows still pending
    timed_out: bool = False
    #: the error that stopped the run (AuthError, ConfigError), if any
    error: MomoCliError | None = field(default=None, compare=False)

    @property
    def exit_code(self) -> ExitCode:
        """The batch exit code: the stopping error's; else 6 if some outcome is unknown or some row
        was not sent, 8 if some are still pending, 10 if some failed or were rejected, else 0."""
        if self.error is not None:
            return self.error.exit_code
        c = self.counts
        if c["unknown"] or c["queued"]:
            return ExitCode.NETWORK
        if c["pending"]:
            return ExitCode.PENDING
        if c["failed"] or c["rejected"]:
            return ExitCode.FAILED
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        return {
            "event": "summary",
            "run_id": self.run_id,
            "total": self.total,
            "sent": c["pending"] + c["successful"] + c["failed"],
            **c,
            "requests": self.requests,
            "elapsed": round(self.elapsed, 3),
            "timed_out": self.timed_out,
            "error": self.error.one_line() if self.error is not None else None,
            "exit_code": int(self.exit_code),
        }


class _Engine:
    def __init__(
        self,
        journal: Journal,
        client: TransactionClient,
        run_id: int,
        *,
        concurrency: int,
        rate_limit: float | None,
        burst: int,
        poll_interval: float,
        poll_timeout: float,
        policy: SendPolicy,
        on_progress: Callable[[BatchProgress], object] | None,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.journal = journal
        self.run_id = run_id
        self.concurrency = max(1, int(concurrency))
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.policy = policy
        self.on_progress = on_progress
        self.clock = clock
        self.sleep = sleep
        self.meter = RateMeter(clock)
        self.limiter = TokenBucket(rate_limit, burst=burst, clock=clock, sleep=sleep)
        self.client = LimitedClient(
            client, concurrency=self.concurrency, limiter=self.limiter, meter=self.meter, policy=policy
        )
        summary = journal.run_summary(run_id)
        self.total = summary.total
        self.counts = dict(summary.buckets)
        self.started = clock()
        self.phase = "start"
        self.error: MomoCliError | None = None
        self.stop = asyncio.Event()

    # -- progress ----------------------------------------------------------------------------------

    def emit(self, event: str, row: Entry | None = None) -> None:
        if self.on_progress is None:
            return
        c = self.counts
        self.on_progress(BatchProgress(
            event=event, phase=self.phase, run_id=self.run_id, total=self.total,
            sent=c["pending"] + c["successful"] + c["failed"], queued=c["queued"],
            unknown=c["unknown"], pending=c["pending"], successful=c["successful"], failed=c["failed"],
            rejected=c["rejected"], rate=self.meter.rate(), requests=self.meter.count,
            elapsed=self.clock() - self.started, row=row,
        ))

    def moved(self, before: Entry, after: Entry) -> None:
        """Count a row's move and report it; a row whose state and status did not change (a status
        GET that still says PENDING) is not reported, so a long poll does not flood the stream."""
        if (before.state, before.status) == (after.state, after.status):
            return
        self.counts[bucket(before.state, before.status)] -= 1
        self.counts[bucket(after.state, after.status)] += 1
        self.emit("row", after)

    def halt(self, error: MomoCliError) -> None:
        if self.error is None:
            self.error = error
        self.stop.set()

    # -- workers -----------------------------------------------------------------------------------

    async def pool(self, rows: Iterator[Entry], work: Callable[[Entry], Awaitable[None]]) -> None:
        """Run `work` on every row, `concurrency` at a time, reading rows lazily."""
        queue: asyncio.Queue[Entry | None] = asyncio.Queue(maxsize=self.concurrency * 2)

        async def produce() -> None:
            for row in rows:
                if self.stop.is_set():
                    break
                await queue.put(row)
            for _ in range(self.concurrency):
                await queue.put(None)

        async def consume() -> None:
            while (row := await queue.get()) is not None:
                if not self.stop.is_set():
                    await work(row)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(produce())
                for _ in range(self.concurrency):
                    group.create_task(consume())
        except BaseExceptionGroup as group_error:
            raise group_error.exceptions[0] from None

    async def send_row(self, row: Entry) -> None:
        try:
            after = await submit(
                self.journal, self.client, row.reference_id,
                policy=self.policy, sleep=self.sleep, reject_on_auth=False,
            )
        except _STOPPING as exc:
            self.halt(exc)
            after = self.journal.get(row.reference_id) or row
        except MomoCliError:  # a status GET refused for this row only; journaled by submit
            after = self.journal.get(row.reference_id) or row
        self.moved(row, after)

    async def poll_row(self, row: Entry) -> None:
        if row.state is not State.SUBMITTED:
            await self.send_row(row)
            return
        try:
            after = await resolve(self.journal, self.client, row)
        except _STOPPING as exc:
            self.halt(exc)
            return
        except ApiError as exc:
            if not is_not_found(exc):  # a 404 just after the 202 is short-lived: ask again later
                self.journal.note(row.reference_id, "status GET refused", error=exc)
            return
        except MomoCliError:  # network trouble; a 429 also paused the limiter. Next round.
            return
        self.moved(row, after)

    # -- phases ------------------------------------------------------------------------------------

    async def run(self, *, poll: bool) -> BatchResult:
        self.emit("start")
        self.phase = "send"
        self.emit("phase")
        await self.pool(
            self.journal.iter_run_entries(self.run_id, states=(State.CREATED, State.UNKNOWN)),
            self.send_row,
        )
        timed_out = False
        if poll and not self.stop.is_set():
            self.phase = "poll"
            self.emit("phase")
            timed_out = await self.poll_rounds()
        self.phase = "done"
        self.emit("done")
        return BatchResult(
            run_id=self.run_id, total=self.total, counts=dict(self.counts),
            requests=self.meter.count, elapsed=self.clock() - self.started,
            timed_out=timed_out, error=self.error,
        )

    async def poll_rounds(self) -> bool:
        """Rounds over the open rows until none is left; True if `poll_timeout` cut it short."""
        deadline = self.clock() + self.poll_timeout
        while not self.stop.is_set():
            if not any(self.counts[b] for b in ("pending", "unknown", "queued")):
                return False
            await self.pool(
                self.journal.iter_run_entries(
                    self.run_id, states=(State.SUBMITTED, State.UNKNOWN, State.CREATED)
                ),
                self.poll_row,
            )
            self.emit("round")
            if not any(self.counts[b] for b in ("pending", "unknown", "queued")):
                return False
            remaining = deadline - self.clock()
            if remaining <= 0:
                return True
            await self.sleep(min(self.poll_interval, remaining))
        return False


async def run_batch(
    journal: Journal,
    client: TransactionClient,
    run: Run | int,
    *,
    concurrency: int = 8,
    rate_limit: float | None = None,
    burst: int = 1,
    poll: bool = True,
    poll_interval: float = 2.0,
    poll_timeout: float = 300.0,
    policy: SendPolicy = DEFAULT_POLICY,
    on_progress: Callable[[BatchProgress], object] | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> BatchResult:
    """Send a batch run's open rows and poll them to final statuses (module docstring). Safe to call
    again on the same run at any time, also after the process was killed: it resumes.

    `rate_limit`: requests per second over all requests (None: no limit); `burst`: how many may go
    at once after a quiet spell. `poll=False` stops after sending. Returns the counts; the run's
    rows are in the journal (`Journal.iter_run_entries`) for a report.
    """
    run_id = run.id if isinstance(run, Run) else int(run)
    stored = journal.get_run(run_id)
    if stored is None:
        raise UsageError(f"there is no batch run {run_id}", hint="run `momo disburse batch list`")
    if not stored.loaded:
        raise UsageError(f"batch run {run_id} has no rows yet: load them first (Journal.add_rows)")
    engine = _Engine(
        journal, client, run_id,
        concurrency=concurrency, rate_limit=rate_limit, burst=burst,
        poll_interval=poll_interval, poll_timeout=poll_timeout, policy=policy,
        on_progress=on_progress, clock=clock, sleep=sleep,
    )
    return await engine.run(poll=poll)


__all__ = [
    "BatchProgress", "BatchResult", "LimitedClient", "RateMeter", "TokenBucket", "run_batch",
]
