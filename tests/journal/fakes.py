"""An in-memory MoMo for the journal's tests: it keeps transactions by reference id (a reused id is a
409, as the real API does), logs every request, and can be told to misbehave request by request.

POST faults (what happens to one creating POST):
  accept        stored, 202
  error_after   stored, then a NetworkError (timeout: the answer was lost)
  drop          stored, then the connection drops (NetworkError)
  processing_error  stored, then 500 INTERNAL_PROCESSING_ERROR (what the emulator's --error-rate does)
  error_before  a NetworkError, nothing stored (the request was lost on the way)
  refused       a NetworkError with request_sent=False (could not connect), nothing stored
  server_error  503 without a MoMo code (ApiError status 503), nothing stored
  429           RateLimited with Retry-After, nothing stored
  reject        400 ApiError, nothing stored
  auth          401 AuthError, nothing stored
  crash_before  the process dies before the request leaves (Crash), nothing stored
  crash_after   stored, then the process dies before it can journal the answer (Crash)
GET faults (one status GET):
  ok            the stored status, or a 404 for an unknown id
  error         a NetworkError
  404           a 404 even if stored, for the first GET after the creation only (a GET right
                after the 202 may briefly 404)
  429           RateLimited
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from momo_cli.errors import AlreadyExists, ApiError, AuthError, NetworkError, NotFound, RateLimited

#: POST outcomes after which the request cannot have created anything
NOT_PROCESSED = {"429", "refused"}
#: POST outcomes the sender cannot tell from "it arrived"
MAYBE_PROCESSED = {"error_after", "drop", "processing_error", "error_before", "server_error", "crash_before",
                   "crash_after"}


class Crash(BaseException):
    """The process dies here (raised through everything, as a kill would)."""


@dataclass
class FakeStatus:
    status: str
    reason: str | None = None
    financial_transaction_id: str | None = None
    #: what the API says it holds (None: not stated), as a MoMo status body does
    amount: str | None = None
    currency: str | None = None
    party: Any = None
    external_id: str | None = None


@dataclass
class FakeParty:
    id: str


def _stated(body: dict[str, Any]) -> dict[str, Any]:
    party = body.get("payee") or body.get("payer") or {}
    return {
        "amount": body.get("amount"),
        "currency": body.get("currency"),
        "party": FakeParty(party["partyId"]) if party.get("partyId") else None,
        "external_id": body.get("externalId"),
    }


@dataclass
class FakeTransaction:
    reference_id: str
    operation: str
    body: dict[str, Any]
    final_status: str
    gets: int = 0
    status: str = "PENDING"
    #: a GET right after the creation may briefly 404, once
    briefly_invisible: bool = True


@dataclass
class FakeClock:
    """A clock that only moves when someone sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


class FakeMomo:
    def __init__(
        self,
        *,
        settle_after: int = 0,
        final_status: str | Callable[[dict[str, Any]], str] = "SUCCESSFUL",
        latency: float = 0.0,
        clock: Callable[[], float] | None = None,
        retry_after: float = 2.0,
    ) -> None:
        #: how many status GETs answer PENDING before the final status
        self.settle_after = settle_after
        self.final_status = final_status
        self.latency = latency
        self.clock = clock
        self.retry_after = retry_after
        self.transactions: dict[str, FakeTransaction] = {}
        #: (method, reference_id, outcome, time)
        self.log: list[tuple[str, str, str, float | None]] = []
        self.plans: dict[tuple[str, str], deque[str]] = defaultdict(deque)
        self.queue: dict[str, deque[str]] = {"POST": deque(), "GET": deque()}
        #: decides a fault when no plan says one: (method, reference_id) -> fault or None
        self.chooser: Callable[[str, str], str | None] | None = None
        #: called at the start of every POST with the reference id (the request "arrived")
        self.on_create: Callable[[str], None] | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self._ftid = 100000

    # -- steering ----------------------------------------------------------------------------------

    def plan(self, method: str, reference_id: str, *faults: str) -> None:
        """The next requests of `method` for this id get these faults, in order."""
        self.plans[(method, reference_id)].extend(faults)

    def next(self, method: str, *faults: str) -> None:
        """The next requests of `method` (any id) get these faults, in order."""
        self.queue[method].extend(faults)

    def _fault(self, method: str, reference_id: str, default: str) -> str:
        plan = self.plans.get((method, reference_id))
        if plan:
            return plan.popleft()
        if self.queue[method]:
            return self.queue[method].popleft()
        if self.chooser is not None:
            return self.chooser(method, reference_id) or default
        return default

    def _log(self, method: str, reference_id: str, outcome: str) -> None:
        self.log.append((method, reference_id, outcome, self.clock() if self.clock else None))

    async def _enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(self.latency)

    # -- the protocol ------------------------------------------------------------------------------

    async def create_transaction(self, operation, reference_id, body, *, version="v1_0", callback_url=None):
        await self._enter()
        try:
            if self.on_create is not None:
                self.on_create(reference_id)
            fault = self._fault("POST", reference_id, "accept")
            if fault == "crash_before":
                self._log("POST", reference_id, fault)
                raise Crash()
            if fault in ("429", "reject", "auth", "error_before", "refused", "server_error"):
                self._log("POST", reference_id, fault)
                if fault == "429":
                    raise RateLimited("too many requests", retry_after=self.retry_after)
                if fault == "reject":
                    raise ApiError("the request was rejected as malformed", status=400)
                if fault == "auth":
                    raise AuthError("the access token was refused (401)")
                if fault == "server_error":
                    raise ApiError("the service is unavailable (503)", status=503)
                error = NetworkError("the connection failed (WriteError)")
                error.request_sent = False if fault == "refused" else None
                raise error
            if reference_id in self.transactions:
                self._log("POST", reference_id, "409")
                raise AlreadyExists("the reference id was already used (409)", status=409,
                                    code="RESOURCE_ALREADY_EXIST")
            final = self.final_status(body) if callable(self.final_status) else self.final_status
            self.transactions[reference_id] = FakeTransaction(
                reference_id, f"{operation.product}/{operation.name}", dict(body), final
            )
            if fault == "crash_after":
                self._log("POST", reference_id, fault)
                raise Crash()
            if fault == "processing_error":
                self._log("POST", reference_id, fault)
                raise ApiError("an internal error occurred while processing (500)", status=500,
                               code="INTERNAL_PROCESSING_ERROR")
            if fault in ("error_after", "drop"):
                self._log("POST", reference_id, fault)
                raise NetworkError("no answer in time (ReadTimeout)" if fault == "error_after"
                                   else "the connection broke off (RemoteProtocolError)")
            self._log("POST", reference_id, "202")
        finally:
            self.in_flight -= 1

    async def get_transaction(self, operation, reference_id):
        await self._enter()
        try:
            fault = self._fault("GET", reference_id, "ok")
            if fault == "error":
                self._log("GET", reference_id, "error")
                raise NetworkError("no answer in time (ReadTimeout)")
            if fault == "429":
                self._log("GET", reference_id, "429")
                raise RateLimited("too many requests", retry_after=self.retry_after)
            tx = self.transactions.get(reference_id)
            if tx is not None and fault == "404":
                if not tx.briefly_invisible:
                    fault = "ok"  # only the first GET after the creation can miss it
                tx.briefly_invisible = False
            if tx is None or fault == "404":
                self._log("GET", reference_id, "404")
                raise NotFound("no such resource (404)", status=404, code="RESOURCE_NOT_FOUND")
            tx.gets += 1
            if tx.gets > self.settle_after:
                tx.status = tx.final_status
            self._log("GET", reference_id, "200")
            stated = _stated(tx.body)
            if tx.status == "SUCCESSFUL":
                self._ftid += 1
                return FakeStatus("SUCCESSFUL", None, str(self._ftid), **stated)
            if tx.status == "PENDING":
                return FakeStatus("PENDING", **stated)
            return FakeStatus(tx.status, "NOT_ENOUGH_FUNDS", **stated)
        finally:
            self.in_flight -= 1

    # -- checks ------------------------------------------------------------------------------------

    def posts(self, reference_id: str | None = None) -> list[str]:
        return [o for m, r, o, _ in self.log if m == "POST" and (reference_id is None or r == reference_id)]

    def requests_for(self, reference_id: str) -> list[tuple[str, str]]:
        return [(m, o) for m, r, o, _ in self.log if r == reference_id]

    def assert_no_blind_resend(self) -> None:
        """A POST is sent again only when the earlier one surely did nothing (429, could not connect),
        or after a status GET answered 404; never after a 202 or a 409."""
        by_id: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for method, reference_id, outcome, _ in self.log:
            by_id[reference_id].append((method, outcome))
        for reference_id, requests in by_id.items():
            accepted = False
            needs_404 = False
            for method, outcome in requests:
                if method == "GET":
                    if outcome == "404":
                        needs_404 = False
                    continue
                assert not accepted, f"{reference_id}: POST after it was accepted: {requests}"
                assert not needs_404, f"{reference_id}: POST again without a 404 first: {requests}"
                if outcome in ("202", "409"):
                    accepted = True
                elif outcome in MAYBE_PROCESSED:
                    needs_404 = True


def random_chooser(rng: random.Random, *, crashes: bool = True, reject: bool = False):
    """Faults drawn at random: most requests go wrong somehow, none forever."""
    post = ["accept"] * 4 + ["error_after", "drop", "processing_error", "error_before", "429", "refused",
                             "server_error"]
    if crashes:
        post += ["crash_before", "crash_after"]
    if reject:
        post += ["reject"]
    get = ["ok"] * 4 + ["error", "404", "429"]

    def choose(method: str, reference_id: str) -> str:
        return rng.choice(post if method == "POST" else get)

    return choose


class FileMomo(FakeMomo):
    """A FakeMomo whose transactions and request log live in a SQLite file, so that they outlive a
    process killed in the middle of a batch (no faults: only the kill)."""

    def __init__(self, path, *, latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        import sqlite3

        self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tx (ref TEXT PRIMARY KEY, body TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, method TEXT, ref TEXT, outcome TEXT)")

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM tx").fetchone()[0]

    def refs(self) -> list[str]:
        return [r for (r,) in self._db.execute("SELECT ref FROM tx")]

    @property
    def log(self):  # type: ignore[override]
        rows = self._db.execute("SELECT method, ref, outcome FROM log ORDER BY id").fetchall()
        return [(m, r, o, None) for m, r, o in rows]

    @log.setter
    def log(self, value) -> None:  # FakeMomo.__init__ sets an empty list
        pass

    async def create_transaction(self, operation, reference_id, body, *, version="v1_0", callback_url=None):
        import json

        await asyncio.sleep(self.latency)
        self._db.execute("BEGIN IMMEDIATE")
        exists = self._db.execute("SELECT 1 FROM tx WHERE ref = ?", (reference_id,)).fetchone()
        if not exists:
            self._db.execute("INSERT INTO tx VALUES (?, ?)", (reference_id, json.dumps(body)))
        self._db.execute("INSERT INTO log (method, ref, outcome) VALUES ('POST', ?, ?)",
                         (reference_id, "409" if exists else "202"))
        self._db.execute("COMMIT")
        await asyncio.sleep(self.latency)  # stored, answer not yet back: a kill here loses the 202
        if exists:
            raise AlreadyExists("the reference id was already used (409)", status=409,
                                code="RESOURCE_ALREADY_EXIST")

    async def get_transaction(self, operation, reference_id):
        await asyncio.sleep(self.latency)
        exists = self._db.execute("SELECT 1 FROM tx WHERE ref = ?", (reference_id,)).fetchone()
        self._db.execute("INSERT INTO log (method, ref, outcome) VALUES ('GET', ?, ?)",
                         (reference_id, "200" if exists else "404"))
        if not exists:
            raise NotFound("no such resource (404)", status=404, code="RESOURCE_NOT_FOUND")
        return FakeStatus("SUCCESSFUL", None, "1")
