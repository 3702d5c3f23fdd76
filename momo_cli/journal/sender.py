"""The exactly-once sender: the rules that turn a journaled request into exactly one transaction.

MoMo deduplicates by `X-Reference-Id` (a reused id answers `409 RESOURCE_ALREADY_EXIST` and creates
nothing), so "exactly once" rests on three rules, all kept here:

1. The reference id is journaled (`Journal.record_new`, or a batch's `add_rows`) before any request,
   and each send attempt is counted (`Journal.begin_attempt`) before the POST leaves. One intended
   payment has one id, for ever.
2. An outcome that is unknown (timeout, dropped connection, 5xx without a MoMo code: a `NetworkError`
   that is not a `RateLimited`) is resolved by a status GET. Found: the API has it, its status is
   journaled. Only a 404 allows a resend, with the same id. A 409 on any send (a resend, or a first
   send whose 202 the process never journaled) means an earlier request with this id arrived: the
   entry is `submitted` and its status is read.
3. Things that say "not processed" are simply sent again with the same id: a 429 (after Retry-After),
   a `NetworkError` whose `request_sent` is False (could not connect, token call failed). A synchronous
   rejection (an `ApiError` other than 409, an `AuthError`) closes the entry as `rejected`: nothing was
   created (after a resend, a last status GET first makes sure the earlier attempt did not arrive).

Everything is written against a small client protocol (`TransactionClient`): `MomoClient` satisfies
it, and so do the test fakes. Sleep and clock are parameters, so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from momo_cli.errors import (
    AlreadyExists,
    ApiError,
    AuthError,
    ConfigError,
    MomoCliError,
    NetworkError,
    NotFound,
    RateLimited,
)
from momo_cli.journal.store import Entry, Journal, State
from momo_cli.operations import Operation, get_operation, is_final

Sleep = Callable[[float], Awaitable[object]]
Clock = Callable[[], float]


class StatusLike(Protocol):
    status: str
    reason: Any
    financial_transaction_id: Any


class TransactionClient(Protocol):
    """What the journal needs from a MoMo client (`momo_cli.api.MomoClient` has both)."""

    async def create_transaction(
        self,
        operation: Operation,
        reference_id: str,
        body: Mapping[str, Any],
        *,
        version: str = "v1_0",
        callback_url: str | None = None,
    ) -> None:
        """The creating POST; returns on 202, raises a `momo_cli.errors` error otherwise."""

    async def get_transaction(self, operation: Operation, reference_id: str) -> StatusLike:
        """The status GET; raises `NotFound` on 404."""


@dataclass(frozen=True)
class SendPolicy:
    """How hard `submit` tries before leaving an entry `unknown` (for `reconcile` to finish)."""

    #: requests (POSTs and status GETs) one `submit` may make; a status GET answered 404 is always
    #: followed by its resend, even when it used the last try
    max_tries: int = 6
    #: pause after an unknown outcome, doubled each time up to `max_backoff`
    backoff: float = 0.5
    max_backoff: float = 8.0
    #: pause after a 429 without Retry-After
    retry_after_default: float = 1.0
    #: a longer Retry-After is cut to this
    max_retry_after: float = 60.0

    def retry_after(self, error: RateLimited) -> float:
        value = getattr(error, "retry_after", None)
        if value is None or value < 0:
            value = self.retry_after_default
        return min(float(value), self.max_retry_after)

    def pause(self, failures: int) -> float:
        return min(self.max_backoff, self.backoff * (2 ** max(0, failures - 1)))


DEFAULT_POLICY = SendPolicy()

# --------------------------------------------------------------------------------------------------
# Reading errors and statuses


def is_already_exists(error: BaseException) -> bool:
    return isinstance(error, AlreadyExists) or (
        isinstance(error, ApiError)
        and (error.status == 409 or error.code == "RESOURCE_ALREADY_EXIST")
    )


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, NotFound) or (
        isinstance(error, ApiError)
        and (error.status == 404 or error.code == "RESOURCE_NOT_FOUND")
    )


#: 5xx codes that say the platform failed while processing, not that the request was wrong: the
#: transaction may have been stored before the failure (momo-api.md section 7.2), so only a status
#: GET can tell.
PROCESSING_FAILURE_CODES = frozenset({"SERVICE_UNAVAILABLE", "INTERNAL_PROCESSING_ERROR"})


def is_unknown_outcome(error: BaseException) -> bool:
    """The request may or may not have been processed: timeout, dropped connection, 5xx without a
    MoMo code, 503, SERVICE_UNAVAILABLE, 500 INTERNAL_PROCESSING_ERROR. Not a 429 (that one was not
    processed)."""
    if isinstance(error, RateLimited):
        return False
    if isinstance(error, NetworkError):
        return getattr(error, "request_sent", None) is not False
    if isinstance(error, ApiError):
        status = error.status or 0
        return (
            status == 503
            or (status >= 500 and (not error.code or error.code in PROCESSING_FAILURE_CODES))
            or error.code == "SERVICE_UNAVAILABLE"
        )
    return False


def surely_not_sent(error: BaseException) -> bool:
    """The request was not processed: a 429, or a network failure before the request left."""
    return isinstance(error, RateLimited) or (
        isinstance(error, NetworkError) and getattr(error, "request_sent", None) is False
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("code") or value.get("message")
    elif not isinstance(value, (str, int)):
        value = getattr(value, "code", None) or getattr(value, "message", None) or str(value)
    text = str(value).strip() if value is not None else ""
    return text or None


def status_fields(result: Any) -> tuple[str, str | None, str | None]:
    """(status, reason, financial transaction id) of a status object, a dict or a status string."""
    if isinstance(result, str):
        return result.upper(), None, None
    if isinstance(result, Mapping):
        get = result.get
        return (
            (_text(get("status")) or "UNKNOWN").upper(),
            _text(get("reason")),
            _text(get("financial_transaction_id", get("financialTransactionId"))),
        )
    return (
        (_text(getattr(result, "status", None)) or "UNKNOWN").upper(),
        _text(getattr(result, "reason", None)),
        _text(getattr(result, "financial_transaction_id", None)),
    )


def _operation(entry: Entry) -> Operation:
    return get_operation(entry.product, entry.operation)


def _require(journal: Journal, reference_id: str) -> Entry:
    entry = journal.get(reference_id)
    if entry is None:
        raise KeyError(f"reference id {reference_id} is not in the journal")
    return entry


def _record(journal: Journal, reference_id: str, result: Any, detail: str | None = None) -> Entry:
    status, reason, ftid = status_fields(result)
    return journal.record_status(reference_id, status, reason, ftid, detail=detail)


# --------------------------------------------------------------------------------------------------
# One entry


async def resolve(journal: Journal, client: TransactionClient, entry: Entry | str) -> Entry:
    """One status GET for a journaled entry; the answer is journaled and the entry returned.

    Raises what the GET raises: `NotFound` (a 404: for a `created`/`unknown` entry this means the
    request never arrived, and an event says so; for a `submitted` one it is a short-lived 404),
    `NetworkError`, `RateLimited`, `AuthError` ...
    """
    if isinstance(entry, str):
        entry = _require(journal, entry)
    try:
        result = await client.get_transaction(_operation(entry), entry.reference_id)
    except ApiError as exc:
        if is_not_found(exc) and entry.state in (State.CREATED, State.UNKNOWN):
            journal.note(entry.reference_id, "status GET: 404, the request never arrived")
        raise
    return _record(journal, entry.reference_id, result)


async def submit(
    journal: Journal,
    client: TransactionClient,
    reference_id: str,
    *,
    policy: SendPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
    check_first: bool | None = None,
    reject_on_auth: bool = True,
) -> Entry:
    """Send a journaled `created` or `unknown` entry until the API has it (`submitted`, or `final` if
    a status GET already says so), refuses it (`rejected`), or `policy.max_tries` requests were made,
    in which case it stays `unknown` (or `created` when no attempt can have been processed) for
    `reconcile`. Entries in other states are returned as they are.

    A status GET comes first when the request may already have reached the API (`unknown`, or
    `created` with a send attempt counted); `check_first` forces it either way.

    Raises only when the API cannot be used at all, after journaling what it learned: a status GET
    refused (`AuthError`, or an `ApiError` other than 404), missing configuration (`ConfigError`),
    and, with `reject_on_auth=False` (batch runs: every row would fail), an `AuthError` on the POST.
    An unexpected exception from the client leaves the entry `unknown` and is raised.
    """
    entry = _require(journal, reference_id)
    reference_id = entry.reference_id
    if entry.state not in (State.CREATED, State.UNKNOWN):
        return entry
    operation = _operation(entry)
    must_check = entry.may_have_been_sent if check_first is None else check_first
    failures = 0
    requests = 0

    async def pause(seconds: float) -> None:
        if requests < policy.max_tries:  # no pointless wait after the last try
            await sleep(seconds)

    while requests < max(1, policy.max_tries):
        if must_check:
            requests += 1
            try:
                return await resolve(journal, client, entry)
            except RateLimited as exc:
                await pause(policy.retry_after(exc))
                continue
            except NetworkError as exc:
                journal.note(reference_id, "status GET failed", error=exc)
                failures += 1
                await pause(policy.pause(failures))
                continue
            except ApiError as exc:
                if not is_not_found(exc):
                    journal.note(reference_id, "status GET refused", error=exc)
                    raise
                must_check = False  # 404: it never arrived; send it again, same id, right away
            except (AuthError, ConfigError) as exc:
                journal.note(reference_id, "status GET refused", error=exc)
                raise

        requests += 1
        entry = journal.begin_attempt(reference_id)  # committed before the POST leaves
        try:
            await client.create_transaction(
                operation, reference_id, entry.body,
                version=entry.version, callback_url=entry.callback_url,
            )
        except (ApiError, NetworkError) as exc:
            if is_already_exists(exc):
                return await _after_409(journal, client, entry)
            if surely_not_sent(exc):
                journal.note(reference_id, "not processed, sending again", error=exc)
                if isinstance(exc, RateLimited):
                    await pause(policy.retry_after(exc))
                else:
                    failures += 1
                    await pause(policy.pause(failures))
                continue
            if is_unknown_outcome(exc):
                entry = journal.mark_unknown(reference_id, exc)
                must_check = True
                failures += 1
                await pause(policy.pause(failures))
                continue
            return await _close_rejected(journal, client, entry, exc)
        except AuthError as exc:
            if reject_on_auth:
                return await _close_rejected(journal, client, entry, exc)
            journal.note(reference_id, "refused before processing", error=exc)
            raise
        except ConfigError as exc:
            journal.note(reference_id, "not sent", error=exc)
            raise
        except MomoCliError as exc:  # refused on our side (a bad callback URL ...): nothing left
            return await _close_rejected(journal, client, entry, exc)
        except BaseException as exc:
            # A bug, a cancellation, an interrupt: the POST may have left. Resolve by GET next time.
            journal.mark_unknown(reference_id, f"interrupted: {type(exc).__name__}")
            raise
        else:
            return journal.mark_submitted(reference_id)

    return _require(journal, reference_id)


async def _close_rejected(journal: Journal, client: TransactionClient, entry: Entry, error: BaseException) -> Entry:
    """A rejection proves that this request created nothing. When it was a resend, an earlier
    attempt may still have (a 404 right after a creation can be short-lived): one more status GET
    makes sure before the entry is closed as `rejected`; if that GET cannot answer, it stays
    `unknown` for `reconcile`."""
    if entry.attempts <= 1:
        return journal.mark_rejected(entry.reference_id, error)
    try:
        return await resolve(journal, client, entry)
    except ApiError as exc:
        if is_not_found(exc):
            return journal.mark_rejected(entry.reference_id, error)
    except MomoCliError:
        pass
    return journal.mark_unknown(entry.reference_id, error)


async def _after_409(journal: Journal, client: TransactionClient, entry: Entry) -> Entry:
    """A 409: a transaction with this reference id exists. Ours (an earlier attempt arrived), or, when
    the id was reused, somebody else's: its status is read and compared with what we journaled, so a
    different payment is never taken for this one. It stays `submitted` if the status cannot be read.
    """
    reference_id = entry.reference_id
    try:
        result = await client.get_transaction(_operation(entry), reference_id)
    except (MomoCliError, LookupError):
        result = None
    if result is not None:
        mismatch = differences(entry, result)
        if mismatch:
            return journal.mark_rejected(reference_id, AlreadyExists(
                f"its reference id is already used by another transaction ({mismatch}); "
                "nothing was created for this one",
                status=409, code="RESOURCE_ALREADY_EXIST",
                hint="send it with a new reference id (leave --reference-id out and momo makes one)",
            ))
    journal.mark_submitted(reference_id, "409 RESOURCE_ALREADY_EXIST: an earlier request with this reference id arrived")
    if result is None:
        return _require(journal, reference_id)
    return _record(journal, reference_id, result)


def differences(entry: Entry, result: Any) -> str | None:
    """How the transaction the API holds under `entry`'s reference id differs from `entry`, if it does.

    Compares what both sides state (amount as exact decimals, currency, party, external id); a field
    the API leaves out is not held against it.
    """
    from decimal import Decimal, InvalidOperation

    found: list[str] = []
    theirs_amount = getattr(result, "amount", None)
    if theirs_amount is not None and entry.amount is not None:
        try:
            if Decimal(str(theirs_amount)) != Decimal(entry.amount):
                found.append(f"amount {theirs_amount} instead of {entry.amount}")
        except InvalidOperation:
            found.append(f"amount {theirs_amount!r}")
    theirs_currency = getattr(result, "currency", None)
    if theirs_currency and entry.currency and str(theirs_currency).upper() != entry.currency.upper():
        found.append(f"currency {theirs_currency} instead of {entry.currency}")
    party = getattr(result, "party", None)
    theirs_party = getattr(party, "id", None) if party is not None else None
    if theirs_party and entry.party_id and str(theirs_party) != entry.party_id:
        found.append(f"party {theirs_party} instead of {entry.party_id}")
    theirs_external = getattr(result, "external_id", None)
    if theirs_external and entry.external_id and str(theirs_external) != entry.external_id:
        found.append(f"external id {theirs_external} instead of {entry.external_id}")
    return "; ".join(found) or None


async def reconcile(
    journal: Journal,
    client: TransactionClient,
    entries: Iterable[Entry] | None = None,
    on_progress: Callable[[Entry], object] | None = None,
    *,
    resend: bool = True,
    policy: SendPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
) -> list[Entry]:
    """Ask the API about every entry that is not closed (default: `journal.unresolved()`) and journal
    the answer. `submitted` entries get a status GET. `created` and `unknown` entries, which may or
    may not have reached the API, get a status GET first and are sent again (same id) only on a 404
    (with `resend=False`, never). Returns the entries as they are afterwards, in order;
    `on_progress(entry)` is called after each.

    Raises an `AuthError`/`ConfigError` (nothing else can work) after journaling what it learned;
    any other failure leaves that entry as it is, with `last_error` set, and goes on.
    """
    results: list[Entry] = []
    source = journal.unresolved() if entries is None else entries
    for item in source:
        entry = journal.get(item.reference_id) or item
        if not entry.closed:
            entry = await _reconcile_one(journal, client, entry, resend=resend, policy=policy, sleep=sleep)
        results.append(entry)
        if on_progress is not None:
            on_progress(entry)
    return results


async def _reconcile_one(
    journal: Journal,
    client: TransactionClient,
    entry: Entry,
    *,
    resend: bool,
    policy: SendPolicy,
    sleep: Sleep,
) -> Entry:
    reference_id = entry.reference_id
    if entry.state is State.CREATED and not entry.may_have_been_sent:
        # Never sent (the process stopped before the POST, or an interrupted batch): sending it now
        # would move money nobody confirmed here. The command that created it sends it again.
        return entry
    if entry.state is not State.SUBMITTED and resend:
        try:
            return await submit(journal, client, reference_id, policy=policy, sleep=sleep, check_first=True)
        except (AuthError, ConfigError):
            raise
        except MomoCliError:  # a status GET refused for this entry only: submit journaled it
            return _require(journal, reference_id)
    try:
        return await resolve(journal, client, entry)
    except (AuthError, ConfigError):
        raise
    except ApiError as exc:
        if not is_not_found(exc):
            journal.note(reference_id, "status GET refused", error=exc)
        elif entry.state is State.SUBMITTED:
            journal.note(reference_id, "status GET: 404 for an accepted request (not visible yet?)")
    except MomoCliError as exc:
        journal.note(reference_id, "status GET failed", error=exc)
    return _require(journal, reference_id)


async def wait(
    journal: Journal,
    client: TransactionClient,
    reference_id: str,
    *,
    timeout: float = 120.0,
    interval: float = 2.0,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
    on_update: Callable[[Entry, float], object] | None = None,
) -> Entry:
    """Poll the status of a journaled entry until it is final or `timeout` seconds passed, journaling
    every new status; returns the entry (state `final`, or still `submitted` when time ran out).

    Polling is `momo_cli.api.polling.wait_for_final` (back-off from `interval`; a 404 just after the
    202 counts as "not visible yet"). Network errors and 429s during the wait do not end it. An entry
    whose request never arrived (`created`/`unknown` and a 404) is returned at once: waiting does not
    send. `on_update(entry, elapsed)` is called after every poll.
    """
    from momo_cli.api.polling import wait_for_final

    entry = _require(journal, reference_id)
    if entry.closed:
        return entry
    if entry.state is not State.SUBMITTED:
        try:
            entry = await resolve(journal, client, entry)
        except ApiError as exc:
            if is_not_found(exc):
                return _require(journal, reference_id)
            raise
        except NetworkError:
            pass
        if entry.state is not State.SUBMITTED:
            return entry
    operation = _operation(entry)

    async def fetch() -> Any:
        try:
            result = await client.get_transaction(operation, reference_id)
        except RateLimited as exc:
            await sleep(DEFAULT_POLICY.retry_after(exc))
            return None
        except NetworkError:
            return None
        _record(journal, reference_id, result)
        return result

    def update(result: Any, elapsed: float) -> None:
        if on_update is not None:
            on_update(_require(journal, reference_id), elapsed)

    try:
        await wait_for_final(fetch, interval=interval, timeout=timeout, clock=clock, sleep=sleep, on_update=update)
    except ApiError as exc:
        if not is_not_found(exc):
            raise
        journal.note(reference_id, "status GET: still 404 after the grace period")
    return _require(journal, reference_id)


def final_outcome(entry: Entry) -> str:
    """'successful', 'failed', 'rejected', 'pending' or 'unknown': what a command reports."""
    if entry.state is State.FINAL:
        return "successful" if entry.status == "SUCCESSFUL" else "failed"
    if entry.state is State.REJECTED:
        return "rejected"
    if entry.state is State.SUBMITTED and not is_final(entry.status):
        return "pending"
    return "unknown"


__all__ = [
    "DEFAULT_POLICY", "SendPolicy", "StatusLike", "TransactionClient", "final_outcome",
    "is_already_exists", "is_not_found", "is_unknown_outcome", "reconcile", "resolve",
    "status_fields", "submit", "surely_not_sent", "wait",
]
