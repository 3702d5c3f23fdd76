"""The journal: a local SQLite record of every money-moving request, written before the request is sent.

It is what guarantees that nobody is paid twice and nothing is lost when the network or the process dies
half way. MoMo's idempotency is by `X-Reference-Id`: a second POST with the same id answers
`409 RESOURCE_ALREADY_EXIST` and creates nothing. So the journal's first job is to fix the reference id
of every intended payment *before* anything is sent, and its second is to know, for each one, what we
know about its fate. `momo_cli.journal.sender` holds the rules that use it.

States of an entry (`State`)::

    created ──202/409──▶ submitted ──final status──▶ final
       │  ╲                  ▲
       │   ╲─timeout/5xx──▶ unknown ──status GET finds it──┘   (404: resend, same id)
       │                     │
       └──4xx/5xx+code──▶ rejected ◀──(resend refused)

- `created`: journaled, not known to have been sent. `attempts` says whether a send was ever started:
  `attempts == 0` means no request with this id ever left through the sender (the attempt counter is
  committed before each POST); `attempts > 0` means one may have reached the API, so the sender asks
  with a status GET before sending again.
- `submitted`: the API accepted it (202, or a 409 meaning an earlier request with this id arrived);
  `status` is the last known MoMo status (PENDING until a status GET says more).
- `unknown`: sent, outcome unknown (timeout, dropped connection, 5xx without a MoMo code). Resolved by
  a status GET; only a 404 from that GET allows a resend, with the same reference id.
- `rejected`: the API refused the request synchronously (4xx, or 5xx with a MoMo code); nothing was
  created. Final.
- `final`: a final MoMo status is known (SUCCESSFUL, FAILED, REJECTED, EXPIRED ...). Final.

Every state an entry reaches (and every send attempt and decisive status answer) is an `events` row.

Batch runs: a run is a file (by content hash) paid with one operation against one API (base URL and
target environment). Its rows are entries with `run_id` and `line_no`, each with its reference id
assigned and committed, all in one transaction, before any request is sent. The same file again resumes
its run; a different file with the same name is a new run.

Storage: one SQLite file (WAL, `busy_timeout`, `synchronous=FULL`), created 0600 in a 0700 directory,
safe for several processes at once (every write is a short `BEGIN IMMEDIATE` transaction). The schema
is versioned with `PRAGMA user_version`; `MIGRATIONS` brings an older file up to date, and a file from
a newer momo-cli is refused. No secrets are ever stored: no headers, no keys, no tokens; amounts are
exact decimal strings, never floats. Standard library only.
"""

from __future__ import annotations

import enum
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from momo_cli.errors import MomoCliError, UsageError
from momo_cli.exitcodes import ExitCode
from momo_cli.money import is_uuid
from momo_cli.operations import get_operation, is_final

JOURNAL_FILENAME = "journal.sqlite3"


class State(enum.StrEnum):
    CREATED = "created"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    FINAL = "final"


#: States after which nothing more will happen to an entry.
CLOSED_STATES = frozenset({State.REJECTED, State.FINAL})
#: States that `reconcile` and a batch resume still have work for.
OPEN_STATES = frozenset({State.CREATED, State.SUBMITTED, State.UNKNOWN})


class JournalError(MomoCliError):
    """The journal file cannot be used (written by a newer momo-cli, corrupt, unwritable)."""

    exit_code = ExitCode.CONFIG


class DuplicateReference(UsageError):
    """A reference id that the journal already holds was journaled again as a new request."""


def journal_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the journal lives in a data dir (`Settings.data_dir`)."""
    return Path(data_dir) / JOURNAL_FILENAME


# --------------------------------------------------------------------------------------------------
# Schema

_V1 = (
    """
    CREATE TABLE runs (
        id                 INTEGER PRIMARY KEY,
        file_path          TEXT NOT NULL,
        file_hash          TEXT NOT NULL,
        product            TEXT NOT NULL,
        operation          TEXT NOT NULL,
        version            TEXT NOT NULL,
        profile            TEXT,
        base_url           TEXT NOT NULL DEFAULT '',
        target_environment TEXT NOT NULL DEFAULT '',
        options            TEXT NOT NULL DEFAULT '{}',
        row_count          INTEGER,
        created_at         TEXT NOT NULL,
        updated_at         TEXT NOT NULL,
        UNIQUE (file_hash, product, operation, base_url, target_environment)
    )
    """,
    """
    CREATE TABLE entries (
        reference_id             TEXT PRIMARY KEY NOT NULL,
        product                  TEXT NOT NULL,
        operation                TEXT NOT NULL,
        version                  TEXT NOT NULL,
        request_body             TEXT NOT NULL,
        amount                   TEXT,
        currency                 TEXT,
        party_type               TEXT,
        party_id                 TEXT,
        external_id              TEXT,
        callback_url             TEXT,
        profile                  TEXT,
        base_url                 TEXT,
        target_environment       TEXT,
        run_id                   INTEGER REFERENCES runs(id),
        line_no                  INTEGER,
        state                    TEXT NOT NULL
                                 CHECK (state IN ('created','submitted','unknown','rejected','final')),
        status                   TEXT,
        reason                   TEXT,
        financial_transaction_id TEXT,
        attempts                 INTEGER NOT NULL DEFAULT 0,
        last_error               TEXT,
        error_type               TEXT,
        error_code               TEXT,
        created_at               TEXT NOT NULL,
        updated_at               TEXT NOT NULL,
        UNIQUE (run_id, line_no)
    )
    """,
    "CREATE INDEX entries_open ON entries(state) WHERE state IN ('created','submitted','unknown')",
    "CREATE INDEX entries_created_at ON entries(created_at)",
    """
    CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        reference_id TEXT NOT NULL REFERENCES entries(reference_id),
        at           TEXT NOT NULL,
        state        TEXT NOT NULL,
        status       TEXT,
        detail       TEXT
    )
    """,
    "CREATE INDEX events_by_entry ON events(reference_id, id)",
)

#: MIGRATIONS[n] takes a file from user_version n to n + 1. Append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)

_ENTRY_COLUMNS = (
    "reference_id", "product", "operation", "version", "request_body", "amount", "currency",
    "party_type", "party_id", "external_id", "callback_url", "profile", "base_url",
    "target_environment", "run_id", "line_no", "state", "status", "reason",
    "financial_transaction_id", "attempts", "last_error", "error_type", "error_code",
    "created_at", "updated_at",
)
_ENTRY_SELECT = "SELECT " + ", ".join(_ENTRY_COLUMNS) + " FROM entries"
_ENTRY_INSERT = (
    "INSERT INTO entries (" + ", ".join(_ENTRY_COLUMNS) + ") VALUES ("
    + ", ".join("?" * len(_ENTRY_COLUMNS)) + ")"
)
_EVENT_INSERT = "INSERT INTO events (reference_id, at, state, status, detail) VALUES (?, ?, ?, ?, ?)"
_RUN_COLUMNS = (
    "id", "file_path", "file_hash", "product", "operation", "version", "profile", "base_url",
    "target_environment", "options", "row_count", "created_at", "updated_at",
)
_RUN_SELECT = "SELECT " + ", ".join(_RUN_COLUMNS) + " FROM runs"

_BULK_CHUNK = 1000
#: body fields that have their own columns (or record keys)
_BODY_FIELDS_AS_COLUMNS = frozenset(
    {"amount", "currency", "externalId", "payer", "payee", "payerMessage", "payeeNote"}
)


# --------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class Entry:
    """One money-moving request, as journaled."""

    reference_id: str
    product: str
    operation: str
    version: str
    request_body: str
    amount: str | None
    currency: str | None
    party_type: str | None
    party_id: str | None
    external_id: str | None
    callback_url: str | None
    profile: str | None
    base_url: str | None
    target_environment: str | None
    run_id: int | None
    line_no: int | None
    state: State
    status: str | None
    reason: str | None
    financial_transaction_id: str | None
    attempts: int
    last_error: str | None
    error_type: str | None
    error_code: str | None
    created_at: str
    updated_at: str

    @property
    def body(self) -> dict[str, Any]:
        """The request body exactly as sent (amounts are strings)."""
        return json.loads(self.request_body)

    @property
    def closed(self) -> bool:
        """True when nothing more will happen: a final status is known, or the API rejected it."""
        return self.state in CLOSED_STATES

    @property
    def may_have_been_sent(self) -> bool:
        """False only when no request with this reference id can have reached the API."""
        return self.state is not State.CREATED or self.attempts > 0

    def to_record(self) -> dict[str, Any]:
        """A flat dict: every column (but the raw body), `payer_message` and `payee_note` from the
        body, and the body's other top-level fields in the API's spelling (the cash-transfer payer
        fields). What `momo_cli.callbacks.bodies.callback_request` takes."""
        body = self.body
        record: dict[str, Any] = {}
        for key, value in body.items():
            if key not in _BODY_FIELDS_AS_COLUMNS:
                record[key] = value
        record.update({name: getattr(self, name) for name in _ENTRY_COLUMNS if name != "request_body"})
        record["state"] = str(self.state)
        record["payer_message"] = body.get("payerMessage")
        record["payee_note"] = body.get("payeeNote")
        return record

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of design.md section 4, plus the journal's own keys."""
        return {
            "reference_id": self.reference_id,
            "product": self.product,
            "operation": self.operation,
            "version": self.version,
            "state": str(self.state),
            "status": self.status,
            "reason": self.reason,
            "amount": self.amount,
            "currency": self.currency,
            "external_id": self.external_id,
            "party": {"type": self.party_type, "id": self.party_id},
            "financial_transaction_id": self.financial_transaction_id,
            "environment": self.target_environment,
            "profile": self.profile,
            "base_url": self.base_url,
            "callback_url": self.callback_url,
            "run_id": self.run_id,
            "line_no": self.line_no,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    reference_id: str
    at: str
    state: State
    status: str | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "state": str(self.state), "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Run:
    """A batch run: one file (by content hash) paid with one operation against one API."""

    id: int
    file_path: str
    file_hash: str
    product: str
    operation: str
    version: str
    profile: str | None
    base_url: str
    target_environment: str
    options: dict[str, Any]
    #: None until the rows are loaded (they are loaded in one transaction, so never half)
    row_count: int | None
    created_at: str
    updated_at: str
    #: True when create_or_resume_run found this run already in the journal
    resumed: bool = False

    @property
    def loaded(self) -> bool:
        return self.row_count is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "file_path": self.file_path,
            "file_hash": self.file_hash,
            "product": self.product,
            "operation": self.operation,
            "version": self.version,
            "profile": self.profile,
            "base_url": self.base_url,
            "environment": self.target_environment,
            "options": self.options,
            "rows": self.row_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class RunRow:
    """One row of a batch file, validated by the caller. `amount` is a decimal string or a Decimal."""

    line_no: int
    payee: str
    amount: str | Decimal
    currency: str
    external_id: str | None = None
    payer_message: str | None = None
    payee_note: str | None = None
    payee_type: str = "MSISDN"
    #: assigned here when not given
    reference_id: str | None = None


#: Where a row or entry stands, for counting: one of these per entry.
BUCKETS = ("queued", "unknown", "pending", "successful", "failed", "rejected")


def bucket(state: State | str, status: str | None) -> str:
    """The progress bucket of an entry: queued (created), unknown, pending (accepted, not final),
    successful, failed (final and not SUCCESSFUL), rejected (refused synchronously)."""
    state = State(state)
    if state is State.CREATED:
        return "queued"
    if state is State.UNKNOWN:
        return "unknown"
    if state is State.SUBMITTED:
        return "pending"
    if state is State.REJECTED:
        return "rejected"
    return "successful" if (status or "").upper() == "SUCCESSFUL" else "failed"


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: int
    total: int
    by_state: dict[str, int]
    by_status: dict[str, int]
    buckets: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "total": self.total,
            "states": self.by_state,
            "statuses": self.by_status,
            **self.buckets,
        }


# --------------------------------------------------------------------------------------------------
# Helpers


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _since_text(since: datetime | date | str) -> str:
    if isinstance(since, str):
        text = since.strip()
        try:
            since = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"since: {text!r} is not an ISO date or date-time (e.g. 2026-11-27)") from None
    if isinstance(since, datetime):
        return _timestamp(since)
    return _timestamp(datetime(since.year, since.month, since.day, tzinfo=timezone.utc))


def _jsonable(value: Any, where: str = "body") -> Any:
    """A copy of a request body fit for JSON: Decimals become strings, floats are refused."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        raise ValueError(f"{where} is a float; amounts must be exact decimal strings")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{where} has a value of type {type(value).__name__} that JSON cannot hold")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def error_fields(error: BaseException | str | None) -> tuple[str | None, str | None, str | None]:
    """(message, type, code) of an error, for the journal. Errors never carry secrets (errors.py)."""
    if error is None:
        return None, None, None
    if isinstance(error, str):
        return " ".join(error.split()), None, None
    if isinstance(error, MomoCliError):
        message = error.one_line()
    else:
        message = " ".join(str(error).split()) or type(error).__name__
    code = getattr(error, "code", None)
    if code is None and getattr(error, "status", None) is not None:
        code = str(error.status)
    return message, type(error).__name__, _opt_str(code)


def _entry(row: Sequence[Any]) -> Entry:
    values = dict(zip(_ENTRY_COLUMNS, row))
    values["state"] = State(values["state"])
    return Entry(**values)


def _run(row: Sequence[Any], *, resumed: bool = False) -> Run:
    values = dict(zip(_RUN_COLUMNS, row))
    values["options"] = json.loads(values["options"] or "{}")
    return Run(**values, resumed=resumed)


def _normalize_reference_id(reference_id: str) -> str:
    value = (reference_id or "").strip().lower()
    if not is_uuid(value):
        raise ValueError(f"reference id {reference_id!r} is not a UUID")
    return value


# --------------------------------------------------------------------------------------------------
# The journal


def _enable_wal(conn: sqlite3.Connection, patience: float) -> str:
    """Switch to write-ahead logging; the journal mode it ends in.

    Changing the mode needs the database to itself, and SQLite answers "database is locked" at once
    (without waiting for the busy timeout) while another process holds it, e.g. two processes
    creating the journal together. A file already in WAL needs no change, so that is read first.
    """
    deadline = time.monotonic() + patience
    while True:
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
        if mode.lower() == "wal":
            return mode
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Journal:
    """The journal file. Use as a context manager, or call `close()`.

    One connection per `Journal`; open one per process (or per thread). Every write is its own short
    transaction, committed (and synced) before the method returns.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.path = Path(path)
        self._now = now
        self._lock = threading.RLock()
        _prepare_file(self.path)
        try:
            self._conn = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout,
                isolation_level=None,  # we issue BEGIN IMMEDIATE / COMMIT ourselves
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            mode = _enable_wal(self._conn, busy_timeout)
            if str(mode).lower() != "wal":  # pragma: no cover - only on file systems without WAL
                raise JournalError(f"the journal {self.path} cannot use write-ahead logging ({mode})")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise JournalError(
                f"the journal {self.path} cannot be read: {exc}",
                hint="move the file aside; momo creates a new one",
            ) from exc
        except BaseException:
            self._conn.close()
            raise

    # -- plumbing ----------------------------------------------------------------------------------

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: takes the file's write lock at once (waiting up to busy_timeout)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def _migrate(self) -> None:
        current = self.schema_version
        if current == SCHEMA_VERSION:
            return
        with self._write() as conn:
            current = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            if current > SCHEMA_VERSION:
                raise JournalError(
                    f"the journal {self.path} was written by a newer momo-cli "
                    f"(schema {current}, this one knows {SCHEMA_VERSION})",
                    hint="upgrade momo-cli",
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _stamp(self) -> str:
        return _timestamp(self._now())

    def _fetch(self, conn: sqlite3.Connection, reference_id: str) -> Entry | None:
        row = conn.execute(_ENTRY_SELECT + " WHERE reference_id = ?", (reference_id,)).fetchone()
        return _entry(row) if row else None

    def _require(self, conn: sqlite3.Connection, reference_id: str) -> Entry:
        entry = self._fetch(conn, reference_id)
        if entry is None:
            raise KeyError(f"reference id {reference_id} is not in the journal")
        return entry

    def _update(
        self,
        conn: sqlite3.Connection,
        entry: Entry,
        detail: str | None,
        *,
        event: bool = True,
        **changes: Any,
    ) -> Entry:
        now = self._stamp()
        changes["updated_at"] = now
        assignments = ", ".join(f"{name} = ?" for name in changes)
        conn.execute(
            f"UPDATE entries SET {assignments} WHERE reference_id = ?",
            (*changes.values(), entry.reference_id),
        )
        if event:
            conn.execute(
                _EVENT_INSERT,
                (
                    entry.reference_id,
                    now,
                    str(changes.get("state", entry.state)),
                    changes.get("status", entry.status),
                    detail,
                ),
            )
        return self._require(conn, entry.reference_id)

    # -- single entries ----------------------------------------------------------------------------

    def record_new(
        self,
        *,
        reference_id: str,
        product: str,
        operation: str,
        body: Mapping[str, Any],
        version: str = "v1_0",
        callback_url: str | None = None,
        profile: str | None = None,
        base_url: str | None = None,
        target_environment: str | None = None,
        run_id: int | None = None,
        line_no: int | None = None,
    ) -> Entry:
        """Journal a request that is about to be sent (state `created`). Committed when this returns:
        call it before the request, never after. A reference id already journaled is refused."""
        reference_id = _normalize_reference_id(reference_id)
        op = get_operation(product, operation)
        op.create_path(version)  # raises for a version the operation does not have
        clean = _jsonable(dict(body))
        party = clean.get(op.party_field) if isinstance(clean.get(op.party_field), dict) else {}
        now = self._stamp()
        values = {
            "reference_id": reference_id,
            "product": product,
            "operation": operation,
            "version": version,
            "request_body": _dumps(clean),
            "amount": _opt_str(clean.get("amount")),
            "currency": _opt_str(clean.get("currency")),
            "party_type": _opt_str(party.get("partyIdType")),
            "party_id": _opt_str(party.get("partyId")),
            "external_id": _opt_str(clean.get("externalId")),
            "callback_url": callback_url,
            "profile": profile,
            "base_url": base_url,
            "target_environment": target_environment,
            "run_id": run_id,
            "line_no": line_no,
            "state": str(State.CREATED),
            "status": None,
            "reason": None,
            "financial_transaction_id": None,
            "attempts": 0,
            "last_error": None,
            "error_type": None,
            "error_code": None,
            "created_at": now,
            "updated_at": now,
        }
        with self._write() as conn:
            if self._fetch(conn, reference_id) is not None:
                raise DuplicateReference(
                    f"reference id {reference_id} is already in the journal",
                    hint=f"run `momo journal show {reference_id}` or `momo status {reference_id}`",
                )
            conn.execute(_ENTRY_INSERT, tuple(values[c] for c in _ENTRY_COLUMNS))
            conn.execute(_EVENT_INSERT, (reference_id, now, str(State.CREATED), None, "journaled"))
            return self._require(conn, reference_id)

    def begin_attempt(self, reference_id: str) -> Entry:
        """Count a send attempt, committed before the POST leaves: from now on the request may have
        reached the API, so it is never sent again without a status GET answering 404 first."""
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            attempt = entry.attempts + 1
            return self._update(conn, entry, f"sending (attempt {attempt})", attempts=attempt)

    def mark_submitted(self, reference_id: str, detail: str = "202 Accepted") -> Entry:
        """The API accepted the request (202, or 409 for an id that an earlier request used)."""
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            if entry.state in (State.SUBMITTED, State.FINAL):
                return entry
            return self._update(
                conn, entry, detail,
                state=str(State.SUBMITTED), status=entry.status or "PENDING",
                last_error=None, error_type=None, error_code=None,
            )

    def mark_unknown(self, reference_id: str, error: BaseException | str | None) -> Entry:
        """The request was sent and its outcome is unknown (timeout, dropped connection, 5xx)."""
        message, kind, code = error_fields(error)
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            if entry.state not in (State.CREATED, State.UNKNOWN):
                return entry  # something later already told us more
            return self._update(
                conn, entry, f"outcome unknown: {message}" if message else "outcome unknown",
                state=str(State.UNKNOWN), last_error=message, error_type=kind, error_code=code,
            )

    def mark_rejected(self, reference_id: str, error: BaseException | str | None) -> Entry:
        """The API refused the request synchronously: nothing was created. Final."""
        message, kind, code = error_fields(error)
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            if entry.state not in (State.CREATED, State.UNKNOWN):
                return entry
            return self._update(
                conn, entry, f"rejected: {message}" if message else "rejected",
                state=str(State.REJECTED), last_error=message, error_type=kind, error_code=code,
            )

    def record_status(
        self,
        reference_id: str,
        status: str,
        reason: str | None = None,
        financial_transaction_id: str | None = None,
        *,
        detail: str | None = None,
    ) -> Entry:
        """A status the API reported (status GET or callback). A final status closes the entry; a
        non-final one means the API has it (`submitted`). An event is written only on a change."""
        status = (status or "").strip().upper() or "UNKNOWN"
        new_state = State.FINAL if is_final(status) else State.SUBMITTED
        reason = _opt_str(reason)
        financial_transaction_id = _opt_str(financial_transaction_id)
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            if entry.state is State.FINAL and new_state is not State.FINAL:
                return entry  # a final status never goes back to pending
            unchanged = (
                entry.state is new_state
                and entry.status == status
                and entry.reason == reason
                and (financial_transaction_id is None
                     or entry.financial_transaction_id == financial_transaction_id)
            )
            if unchanged:
                return entry
            return self._update(
                conn, entry, detail or (f"status {status}" + (f" ({reason})" if reason else "")),
                state=str(new_state), status=status, reason=reason,
                financial_transaction_id=financial_transaction_id or entry.financial_transaction_id,
                last_error=None, error_type=None, error_code=None,
            )

    def note(self, reference_id: str, detail: str, *, error: BaseException | str | None = None) -> Entry:
        """Record something learned that changes no state (a 404, a 429, a failed status GET)."""
        message, kind, code = error_fields(error)
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            if error is None:
                return self._update(conn, entry, detail)
            return self._update(
                conn, entry, f"{detail}: {message}" if message else detail,
                last_error=message, error_type=kind, error_code=code,
            )

    def reopen(
        self,
        reference_id: str,
        *,
        body: Mapping[str, Any] | None = None,
        version: str | None = None,
        callback_url: str | None = None,
    ) -> Entry:
        """Make a `rejected` entry sendable again with the same reference id (after the cause, such as
        credentials or a callback URL, was fixed). Safe: a rejected request created nothing, and the id
        stays the same. `body`, `version` and `callback_url`, when given, replace the journaled ones
        (the correction); the amount, currency and party are the caller's to keep."""
        with self._write() as conn:
            entry = self._require(conn, reference_id)
            if entry.state is not State.REJECTED:
                raise UsageError(f"reference id {reference_id} is {entry.state}, not rejected")
            changes: dict[str, Any] = {"state": str(State.CREATED)}
            if body is not None:
                clean = _jsonable(dict(body))
                changes["request_body"] = _dumps(clean)
                changes["external_id"] = _opt_str(clean.get("externalId"))
                changes["callback_url"] = callback_url
                if version is not None:
                    get_operation(entry.product, entry.operation).create_path(version)
                    changes["version"] = version
            return self._update(conn, entry, "reopened after a rejection", **changes)

    def get(self, reference_id: str) -> Entry | None:
        try:
            reference_id = _normalize_reference_id(reference_id)
        except ValueError:
            return None
        with self._lock:
            return self._fetch(self._conn, reference_id)

    def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        state: State | str | Iterable[State | str] | None = None,
        since: datetime | date | str | None = None,
        limit: int | None = None,
        run_id: int | None = None,
    ) -> list[Entry]:
        """Entries, newest first, filtered by MoMo status, journal state, creation time and run."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params.extend(s.upper() for s in statuses)
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(str(State(s)) for s in states)
        if since is not None:
            where.append("created_at >= ?")
            params.append(_since_text(since))
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        sql = _ENTRY_SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            return [_entry(row) for row in self._conn.execute(sql, params).fetchall()]

    def unresolved(self, *, run_id: int | None = None, page_size: int = 500) -> Iterator[Entry]:
        """Entries that are not closed (created, submitted, unknown), oldest first, read page by page
        (so the entries may be updated while iterating, and a large journal is never all in memory)."""
        where = "state IN ('created','submitted','unknown') AND rowid > ?"
        params: tuple[Any, ...] = ()
        if run_id is not None:
            where += " AND run_id = ?"
            params = (run_id,)
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT rowid, {', '.join(_ENTRY_COLUMNS)} FROM entries WHERE {where} "
                    "ORDER BY rowid LIMIT ?",
                    (last, *params, page_size),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _entry(row[1:])
            last = rows[-1][0]

    def events(self, reference_id: str) -> list[Event]:
        """Every state the entry reached, and every send attempt, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, reference_id, at, state, status, detail FROM events "
                "WHERE reference_id = ? ORDER BY id",
                (reference_id.strip().lower(),),
            ).fetchall()
        return [Event(r[0], r[1], r[2], State(r[3]), r[4], r[5]) for r in rows]

    # -- batch runs --------------------------------------------------------------------------------

    def create_or_resume_run(
        self,
        file_path: str | os.PathLike[str],
        file_hash: str,
        operation: str,
        options: Mapping[str, Any] | None = None,
        *,
        product: str = "disbursement",
        version: str = "v1_0",
        profile: str | None = None,
        base_url: str | None = None,
        target_environment: str | None = None,
        rows: Iterable[RunRow | Mapping[str, Any]] | None = None,
        callback_url: str | None = None,
    ) -> Run:
        """The run of this file: found by (file hash, product, operation, base URL, target
        environment), else created. The base URL and environment are part of the key so that a file
        paid in the sandbox is never taken as paid in production. `options` (no secrets) are stored
        for reference; a resumed run gets the new ones. When `rows` is given and the run has no rows
        yet, they are loaded in the same transaction (see `add_rows`)."""
        op = get_operation(product, operation)
        op.create_path(version)
        key = (file_hash, product, operation, base_url or "", target_environment or "")
        now = self._stamp()
        options_text = _dumps(_jsonable(dict(options or {}), "options"))
        with self._write() as conn:
            row = conn.execute(
                _RUN_SELECT + " WHERE file_hash = ? AND product = ? AND operation = ? "
                "AND base_url = ? AND target_environment = ?",
                key,
            ).fetchone()
            resumed = row is not None
            if resumed:
                conn.execute(
                    "UPDATE runs SET file_path = ?, options = ?, updated_at = ? WHERE id = ?",
                    (os.fspath(file_path), options_text, now, row[0]),
                )
                run_id = row[0]
            else:
                run_id = conn.execute(
                    "INSERT INTO runs (file_path, file_hash, product, operation, version, profile, "
                    "base_url, target_environment, options, row_count, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                    (os.fspath(file_path), file_hash, product, operation, version, profile,
                     key[3], key[4], options_text, now, now),
                ).lastrowid
            run = _run(conn.execute(_RUN_SELECT + " WHERE id = ?", (run_id,)).fetchone(), resumed=resumed)
            if rows is not None and not run.loaded:
                self._insert_rows(conn, run, rows, callback_url=callback_url)
                run = _run(conn.execute(_RUN_SELECT + " WHERE id = ?", (run_id,)).fetchone(), resumed=resumed)
            return run

    def add_rows(
        self,
        run_id: int,
        rows: Iterable[RunRow | Mapping[str, Any]],
        *,
        callback_url: str | None = None,
    ) -> int:
        """Load a run's rows, all in one transaction: each becomes an entry (state `created`, with its
        reference id) before any request is sent. Streams `rows` (any iterable), in chunks, so 100,000
        rows cost little memory. A run's rows are loaded once; returns the number of rows."""
        with self._write() as conn:
            run = self._run_or_fail(conn, run_id)
            if run.loaded:
                raise UsageError(f"batch run {run_id} already has its {run.row_count} rows")
            return self._insert_rows(conn, run, rows, callback_url=callback_url)

    def _insert_rows(
        self,
        conn: sqlite3.Connection,
        run: Run,
        rows: Iterable[RunRow | Mapping[str, Any]],
        *,
        callback_url: str | None,
    ) -> int:
        op = get_operation(run.product, run.operation)
        now = self._stamp()
        state = str(State.CREATED)
        detail = f"journaled in batch run {run.id}"
        count = 0
        entries: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []

        def flush() -> None:
            conn.executemany(_ENTRY_INSERT, entries)
            conn.executemany(_EVENT_INSERT, events)
            entries.clear()
            events.clear()

        for item in rows:
            row = item if isinstance(item, RunRow) else RunRow(**item)
            reference_id = (
                _normalize_reference_id(row.reference_id) if row.reference_id else str(uuid.uuid4())
            )
            amount = _jsonable(row.amount, f"line {row.line_no} amount")
            party_type = (row.payee_type or "MSISDN").upper()
            body: dict[str, Any] = {"amount": str(amount), "currency": row.currency}
            if row.external_id is not None:
                body["externalId"] = row.external_id
            body[op.party_field] = {"partyIdType": party_type, "partyId": row.payee}
            if row.payer_message is not None:
                body["payerMessage"] = row.payer_message
            if row.payee_note is not None:
                body["payeeNote"] = row.payee_note
            entries.append((
                reference_id, run.product, run.operation, run.version, _dumps(body), str(amount),
                row.currency, party_type, row.payee, row.external_id, callback_url, run.profile,
                run.base_url or None, run.target_environment or None, run.id, row.line_no, state,
                None, None, None, 0, None, None, None, now, now,
            ))
            events.append((reference_id, now, state, None, f"{detail}, line {row.line_no}"))
            count += 1
            if len(entries) >= _BULK_CHUNK:
                flush()
        flush()
        conn.execute(
            "UPDATE runs SET row_count = ?, updated_at = ? WHERE id = ?", (count, now, run.id)
        )
        return count

    def _run_or_fail(self, conn: sqlite3.Connection, run_id: int) -> Run:
        row = conn.execute(_RUN_SELECT + " WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"there is no batch run {run_id}", hint="run `momo disburse batch list`")
        return _run(row)

    def get_run(self, run_id: int) -> Run | None:
        with self._lock:
            row = self._conn.execute(_RUN_SELECT + " WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def list_runs(self, *, limit: int | None = None) -> list[Run]:
        """Batch runs, newest first."""
        sql = _RUN_SELECT + " ORDER BY id DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (int(limit),)
        with self._lock:
            return [_run(row) for row in self._conn.execute(sql, params).fetchall()]

    def iter_run_entries(
        self,
        run_id: int,
        *,
        states: Iterable[State | str] | None = None,
        after_line: int | None = None,
        page_size: int = 500,
    ) -> Iterator[Entry]:
        """A run's entries in line order, optionally only some states, read page by page: safe to
        update entries while iterating, and never the whole run in memory."""
        where = "run_id = ? AND line_no > ?"
        state_params: list[str] = []
        if states is not None:
            state_params = [str(State(s)) for s in states]
            where += f" AND state IN ({', '.join('?' * len(state_params))})"
        last = after_line if after_line is not None else -(2**62)
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"{_ENTRY_SELECT} WHERE {where} ORDER BY line_no LIMIT ?",
                    (run_id, last, *state_params, page_size),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            last = rows[-1][_ENTRY_COLUMNS.index("line_no")]

    def run_summary(self, run_id: int) -> RunSummary:
        """Counts of a run's rows by journal state, by MoMo status, and by progress bucket."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT state, status, COUNT(*) FROM entries WHERE run_id = ? GROUP BY state, status",
                (run_id,),
            ).fetchall()
        by_state: dict[str, int] = {}
        by_status: dict[str, int] = {}
        buckets = dict.fromkeys(BUCKETS, 0)
        total = 0
        for state, status, count in rows:
            total += count
            by_state[state] = by_state.get(state, 0) + count
            if status is not None:
                by_status[status] = by_status.get(status, 0) + count
            buckets[bucket(state, status)] += count
        return RunSummary(run_id, total, by_state, by_status, buckets)


def _prepare_file(path: Path) -> None:
    """Create the journal's directory (0700) and file (0600) before SQLite opens it, so that SQLite
    (which gives its -wal and -shm files the database file's permissions) never creates it wider."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
    if not path.exists():
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return  # another process just created it
        os.close(fd)
        os.chmod(path, 0o600)


__all__ = [
    "BUCKETS", "CLOSED_STATES", "DuplicateReference", "Entry", "Event", "JOURNAL_FILENAME",
    "Journal", "JournalError", "MIGRATIONS", "OPEN_STATES", "Run", "RunRow", "RunSummary",
    "SCHEMA_VERSION", "State", "bucket", "error_fields", "journal_path",
]
