"""The emulator's state in SQLite: API users, keys, tokens, accounts, transactions, callbacks, request log.

Several processes may share one database file (WAL, busy_timeout, writes in BEGIN IMMEDIATE). Nothing
here depends on the process that wrote a row: the status of a transaction is a function of the row
and the clock (PENDING until `settle_at`, then its final status), so every reader agrees.

Amounts are TEXT holding exact decimals, summed in Python with Decimal; never a float.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_users (
    user_id TEXT PRIMARY KEY,
    callback_host TEXT NOT NULL,
    target_environment TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    api_key TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    product TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens(expires_at);
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT NOT NULL,
    product TEXT NOT NULL,
    balance TEXT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (user_id, product)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transactions (
    reference_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    product TEXT NOT NULL,
    operation TEXT NOT NULL,
    version TEXT NOT NULL,
    direction INTEGER NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    external_id TEXT,
    party_type TEXT,
    party_id TEXT,
    final_status TEXT NOT NULL,
    final_reason TEXT,
    timing TEXT NOT NULL,
    financial_transaction_id TEXT NOT NULL,
    pending_body TEXT NOT NULL,
    final_body TEXT NOT NULL,
    created_at REAL NOT NULL,
    settle_at REAL NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0,
    callback_url TEXT,
    refund_of TEXT
);
CREATE INDEX IF NOT EXISTS transactions_unapplied ON transactions(user_id, product) WHERE applied = 0;
CREATE INDEX IF NOT EXISTS transactions_refunds ON transactions(refund_of) WHERE refund_of IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_created ON transactions(created_at);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY,
    reference_id TEXT NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    due_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until REAL,
    last_error TEXT,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks(state, due_at);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    reference_id TEXT NOT NULL,
    message TEXT NOT NULL,
    language TEXT,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    ms REAL NOT NULL
);
"""

_TABLES = ("api_users", "api_keys", "tokens", "accounts", "transactions", "callbacks", "notifications", "requests")


class AlreadyExists(Exception):
    """The reference id is taken."""


class UnknownReference(Exception):
    """A referenced resource (e.g. the request-to-pay of a refund) does not exist for this user."""


@dataclass
class NewTransaction:
    reference_id: str
    user_id: str
    product: str
    operation: str
    version: str
    direction: int  # +1: money comes into the API user's account; -1: goes out
    amount: Decimal
    amount_text: str
    currency: str
    external_id: str | None
    party_type: str | None
    party_id: str | None
    #: the request fields echoed in the status body, in the provider's order (no status fields)
    fields: dict[str, Any]
    status: str  # final status the scenario asks for
    reason: str | None
    timing: str  # scenarios.SETTLE / ONGOING / DELAYED
    delay: float  # seconds PENDING
    settle_delay: float  # delay used when the emulator itself fails the transaction (funds, refund rules)
    callback_url: str | None = None
    callback_method: str | None = None
    refund_of: str | None = None


def financial_transaction_id(reference_id: str) -> str:
    """A stable numeric-string id (10 digits) derived from the reference id."""
    digest = hashlib.sha256(reference_id.encode()).digest()
    return str(1_000_000_000 + int.from_bytes(digest[:8], "big") % 9_000_000_000)


def render_body(fields: dict[str, Any], status: str, reason: str | None, ftid: str | None) -> str:
    """A status body: the echoed fields, status, and reason (FAILED) or financialTransactionId (SUCCESSFUL)."""
    body: dict[str, Any] = {}
    if status == "SUCCESSFUL" and ftid:
        body["financialTransactionId"] = ftid
    body.update(fields)
    body["status"] = status
    if status == "FAILED" and reason:
        body["reason"] = reason
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


class Store:
    """One per database file and process; a connection per thread."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        initial_balance: Decimal = Decimal("1000000"),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db_path = Path(db_path)
        self.initial_balance = Decimal(initial_balance)
        self.clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    # -- connections -----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if str(self.db_path) != ":memory:" and not os.path.exists(self.db_path):
            # Created 0600 before SQLite opens it: its -wal and -shm files take the database's mode,
            # and they hold API keys too.
            os.close(os.open(self.db_path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(
            self.db_path, timeout=10.0, isolation_level=None, check_same_thread=False,
            cached_statements=256,
        )
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        with self._lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _init_schema(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                conn = self.conn
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":  # pragma: no cover - e.g. a file system without shared memory
                    raise sqlite3.OperationalError(f"could not switch {self.db_path} to WAL (got {mode})")
                conn.executescript(SCHEMA)
                with self.write() as c:
                    if c.execute("SELECT 1 FROM meta WHERE key = 'secret'").fetchone() is None:
                        c.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)", (secrets.token_hex(32),))
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        try:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(f"{self.db_path}{suffix}"):
                    os.chmod(f"{self.db_path}{suffix}", 0o600)
        except OSError:  # pragma: no cover
            pass

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the database's write lock from its first statement."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover
                pass
        self._local = threading.local()

    # -- API users, keys, tokens -----------------------------------------------------------------
    def create_user(self, user_id: str, callback_host: str, target_environment: str) -> bool:
        """False when the id is taken."""
        with self.write() as c:
            if c.execute("SELECT 1 FROM api_users WHERE user_id = ?", (user_id,)).fetchone():
                return False
            c.execute(
                "INSERT INTO api_users (user_id, callback_host, target_environment, created_at) VALUES (?, ?, ?, ?)",
                (user_id, callback_host, target_environment, self.clock()),
            )
        return True

    def get_user(self, user_id: str) -> tuple[str, str] | None:
        """(providerCallbackHost, targetEnvironment) of a user, or None."""
        row = self.conn.execute(
            "SELECT callback_host, target_environment FROM api_users WHERE user_id = ?", (user_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def create_key(self, user_id: str) -> str | None:
        """A new API key (32 hex digits) for an existing user; earlier keys stay valid. None: no such user."""
        key = uuid.uuid4().hex
        with self.write() as c:
            if c.execute("SELECT 1 FROM api_users WHERE user_id = ?", (user_id,)).fetchone() is None:
                return None
            c.execute("INSERT INTO api_keys (api_key, user_id, created_at) VALUES (?, ?, ?)", (key, user_id, self.clock()))
        return key

    def check_key(self, user_id: str, api_key: str) -> bool:
        row = self.conn.execute("SELECT user_id FROM api_keys WHERE api_key = ?", (api_key,)).fetchone()
        return row is not None and hmac.compare_digest(row[0], user_id)

    def _secret(self) -> bytes:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
        return (row[0] if row else "").encode()

    def issue_token(self, user_id: str, product: str, ttl: float) -> str:
        """A JWT-shaped HS256 token, recorded so that every process can check it."""
        now = self.clock()
        expires_at = now + ttl

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(b'{"alg":"HS256","typ":"JWT"}')
        payload = b64(json.dumps({
            "sub": user_id, "aud": product, "iat": int(now), "exp": int(expires_at) + (1 if expires_at % 1 else 0),
            "jti": uuid.uuid4().hex, "iss": "momo-cli emulator",
        }, separators=(",", ":")).encode())
        signature = b64(hmac.new(self._secret(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
        token = f"{header}.{payload}.{signature}"
        with self.write() as c:
            c.execute("DELETE FROM tokens WHERE expires_at < ?", (now - 60,))
            c.execute(
                "INSERT INTO tokens (token, user_id, product, expires_at) VALUES (?, ?, ?, ?)",
                (token, user_id, product, expires_at),
            )
        return token

    def token_owner(self, token: str, product: str) -> str | None:
        """The API user of a valid, unexpired token for `product`; None otherwise."""
        row = self.conn.execute("SELECT user_id, product, expires_at FROM tokens WHERE token = ?", (token,)).fetchone()
        if row is None or row[1] != product or row[2] <= self.clock():
            return None
        return row[0]

    # -- accounts ----------------------------------------------------------------------------------
    def _account(self, c: sqlite3.Connection, user_id: str, product: str, now: float, *, apply: bool) -> tuple[Decimal, Decimal]:
        """(balance, outgoing amounts still pending). With `apply`, settled effects are written."""
        row = c.execute("SELECT balance FROM accounts WHERE user_id = ? AND product = ?", (user_id, product)).fetchone()
        if row is None:
            balance = self.initial_balance
            if apply:
                c.execute(
                    "INSERT INTO accounts (user_id, product, balance, currency) VALUES (?, ?, ?, '')",
                    (user_id, product, str(balance)),
                )
        else:
            balance = Decimal(row[0])
        pending_out = Decimal(0)
        due: list[tuple[str]] = []
        moved = Decimal(0)
        for ref, direction, amount, status, reason, settle_at in c.execute(
            "SELECT reference_id, direction, amount, final_status, final_reason, settle_at FROM transactions "
            "WHERE user_id = ? AND product = ? AND applied = 0",
            (user_id, product),
        ):
            if settle_at <= now:
                if status == "SUCCESSFUL":
                    moved += Decimal(amount) * direction
                due.append((ref,))
            elif direction < 0 and reason != "NOT_ENOUGH_FUNDS":  # one that cannot be covered holds nothing
                pending_out += Decimal(amount)
        balance += moved
        if apply and due:
            c.executemany("UPDATE transactions SET applied = 1 WHERE reference_id = ?", due)
            c.execute("UPDATE accounts SET balance = ? WHERE user_id = ? AND product = ?", (str(balance), user_id, product))
        return balance, pending_out

    def available_balance(self, user_id: str, product: str) -> Decimal:
        """Balance less the outgoing amounts still pending; settled transactions are booked on the way."""
        with self.write() as c:
            balance, pending_out = self._account(c, user_id, product, self.clock(), apply=True)
        return balance - pending_out

    # -- transactions ----------------------------------------------------------------------------
    def create_transaction(self, tx: NewTransaction) -> None:
        """Store a new transaction (and its callback); AlreadyExists when the reference id is taken.

        Outgoing money is checked against the available balance in the same write transaction, so
        two processes can never both spend the same float; a shortfall fails it NOT_ENOUGH_FUNDS.
        """
        with self.write() as c:
            now = self.clock()
            if c.execute("SELECT 1 FROM transactions WHERE reference_id = ?", (tx.reference_id,)).fetchone():
                raise AlreadyExists(tx.reference_id)
            status, reason, timing, delay = tx.status, tx.reason, tx.timing, tx.delay
            if tx.refund_of is not None:
                verdict = self._refund_verdict(c, tx, now)
                if verdict is not None:
                    status, reason, timing, delay = "FAILED", verdict, "settle", tx.settle_delay
            if tx.direction < 0 and status == "SUCCESSFUL":
                balance, pending_out = self._account(c, tx.user_id, tx.product, now, apply=True)
                if tx.amount > balance - pending_out:
                    status, reason, timing, delay = "FAILED", "NOT_ENOUGH_FUNDS", "settle", tx.settle_delay
            ftid = financial_transaction_id(tx.reference_id)
            settle_at = now + delay
            c.execute(
                "INSERT INTO transactions (reference_id, user_id, product, operation, version, direction, amount,"
                " currency, external_id, party_type, party_id, final_status, final_reason, timing,"
                " financial_transaction_id, pending_body, final_body, created_at, settle_at, callback_url, refund_of)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tx.reference_id, tx.user_id, tx.product, tx.operation, tx.version, tx.direction,
                    tx.amount_text, tx.currency, tx.external_id, tx.party_type, tx.party_id, status, reason,
                    timing, ftid, render_body(tx.fields, "PENDING", None, None),
                    render_body(tx.fields, status, reason, ftid), now, settle_at, tx.callback_url, tx.refund_of,
                ),
            )
            if tx.callback_url:
                c.execute(
                    "INSERT INTO callbacks (reference_id, url, method, due_at, state) VALUES (?, ?, ?, ?, 'pending')",
                    (tx.reference_id, tx.callback_url, tx.callback_method or "POST", settle_at),
                )

    def _refund_verdict(self, c: sqlite3.Connection, tx: NewTransaction, now: float) -> str | None:
        """None if the refund may go ahead; else the reason it fails. UnknownReference if no such payment."""
        row = c.execute(
            "SELECT amount, final_status, settle_at FROM transactions"
            " WHERE reference_id = ? AND operation = 'request_to_pay'",
            (tx.refund_of,),
        ).fetchone()
        if row is None:
            raise UnknownReference(tx.refund_of)
        amount, status, settle_at = Decimal(row[0]), row[1], row[2]
        if status != "SUCCESSFUL" or settle_at > now:
            return "NOT_ALLOWED"
        refunded = Decimal(0)
        for r_amount, r_status, r_settle in c.execute(
            "SELECT amount, final_status, settle_at FROM transactions WHERE refund_of = ?", (tx.refund_of,)
        ):
            if not (r_settle <= now and r_status != "SUCCESSFUL"):
                refunded += Decimal(r_amount)
        if tx.amount > amount - refunded:
            return "NOT_ALLOWED"
        return None

    def get_transaction(self, reference_id: str) -> tuple | None:
        """(user_id, product, operation, pending_body, final_body, settle_at, final_status) or None."""
        return self.conn.execute(
            "SELECT user_id, product, operation, pending_body, final_body, settle_at, final_status"
            " FROM transactions WHERE reference_id = ?",
            (reference_id,),
        ).fetchone()

    def add_notification(self, reference_id: str, message: str, language: str | None) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO notifications (reference_id, message, language, at) VALUES (?, ?, ?, ?)",
                (reference_id, message, language, self.clock()),
            )

    def list_transactions(
        self, *, product: str | None = None, operation: str | None = None, status: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        now = self.clock()
        where, args = [], []
        for column, value in (("product", product), ("operation", operation)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        sql = (
            "SELECT reference_id, product, operation, version, final_status, final_reason, amount, currency,"
            " external_id, party_type, party_id, financial_transaction_id, user_id, created_at, settle_at,"
            " callback_url, refund_of FROM transactions"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, rowid"
        out = []
        for row in self.conn.execute(sql, args):
            (ref, prod, op, version, final_status, final_reason, amount, currency, external_id, party_type,
             party_id, ftid, user_id, created_at, settle_at, callback_url, refund_of) = row
            settled = settle_at <= now
            current = final_status if settled else "PENDING"
            if status and current != status.upper():
                continue
            out.append({
                "reference_id": ref,
                "product": prod,
                "operation": op,
                "version": version,
                "status": current,
                "reason": final_reason if settled and final_status == "FAILED" else None,
                "amount": amount,
                "currency": currency,
                "external_id": external_id,
                "party_type": party_type,
                "party_id": party_id,
                "financial_transaction_id": ftid if settled and final_status == "SUCCESSFUL" else None,
                "api_user": user_id,
                "created_at": iso(created_at),
                "settles_at": iso(settle_at),
                "callback_url": callback_url,
                "refund_of": refund_of,
            })
        if limit and len(out) > limit:
            out = out[-limit:]
        return out

    # -- callbacks -------------------------------------------------------------------------------
    def next_callback_due(self) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(due_at) FROM callbacks WHERE state = 'pending'"
        ).fetchone()
        stale = self.conn.execute(
            "SELECT MIN(lease_until) FROM callbacks WHERE state = 'delivering'"
        ).fetchone()
        candidates = [v for v in (row[0] if row else None, stale[0] if stale else None) if v is not None]
        return min(candidates) if candidates else None

    def claim_callbacks(self, *, lease: float, limit: int = 20) -> list[tuple[int, str, str, str, int, str | None]]:
        """Atomically take due callbacks: (id, reference_id, url, method, attempt, body).

        A claim is a lease: a process that dies while delivering leaves it to be taken again later.
        """
        now = self.clock()
        with self.write() as c:
            rows = c.execute(
                "UPDATE callbacks SET state = 'delivering', lease_until = ?, attempts = attempts + 1"
                " WHERE id IN (SELECT id FROM callbacks WHERE (state = 'pending' AND due_at <= ?)"
                " OR (state = 'delivering' AND lease_until < ?) ORDER BY due_at LIMIT ?)"
                " RETURNING id, reference_id, url, method, attempts",
                (now + lease, now, now, limit),
            ).fetchall()
            out = []
            for cb_id, ref, url, method, attempts in rows:
                body = c.execute("SELECT final_body FROM transactions WHERE reference_id = ?", (ref,)).fetchone()
                out.append((cb_id, ref, url, method, attempts, body[0] if body else None))
        return out

    def finish_callback(self, cb_id: int, *, delivered: bool, error: str | None = None, retry_at: float | None = None) -> None:
        now = self.clock()
        with self.write() as c:
            if delivered:
                c.execute(
                    "UPDATE callbacks SET state = 'delivered', delivered_at = ?, last_error = NULL WHERE id = ?",
                    (now, cb_id),
                )
            elif retry_at is not None:
                c.execute(
                    "UPDATE callbacks SET state = 'pending', due_at = ?, last_error = ? WHERE id = ?",
                    (retry_at, error, cb_id),
                )
            else:
                c.execute("UPDATE callbacks SET state = 'failed', last_error = ? WHERE id = ?", (error, cb_id))

    def list_callbacks(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, reference_id, url, method, due_at, state, attempts, last_error, delivered_at"
            " FROM callbacks ORDER BY id"
        ).fetchall()
        return [
            {
                "id": r[0], "reference_id": r[1], "url": r[2], "method": r[3], "due_at": iso(r[4]),
                "state": r[5], "attempts": r[6], "last_error": r[7],
                "delivered_at": iso(r[8]) if r[8] is not None else None,
            }
            for r in rows
        ]

    # -- request log -----------------------------------------------------------------------------
    def log_requests(self, rows: Iterable[tuple[float, str, str, int, float]], *, keep: int) -> None:
        rows = list(rows)
        if not rows:
            return
        with self.write() as c:
            c.executemany("INSERT INTO requests (at, method, path, status, ms) VALUES (?, ?, ?, ?, ?)", rows)
            last = c.execute("SELECT MAX(id) FROM requests").fetchone()[0] or 0
            if last > keep:
                c.execute("DELETE FROM requests WHERE id <= ?", (last - keep,))

    def list_requests(self, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT at, method, path, status, ms FROM requests ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            {"method": m, "path": p, "status": s, "at": iso(at), "ms": round(ms, 3)}
            for at, m, p, s, ms in reversed(rows)
        ]

    # -- admin -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything: users, keys, tokens (a new signing secret), balances, transactions, logs."""
        with self.write() as c:
            for table in _TABLES:
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            c.execute("UPDATE meta SET value = ? WHERE key = 'secret'", (secrets.token_hex(32),))

    def counts(self) -> dict[str, int]:
        return {t: self.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES}  # noqa: S608
