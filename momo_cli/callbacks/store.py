"""The received callbacks of a data dir: an SQLite file, 0600, so they can be listed and replayed later.

Every callback gets a sequence number (unique in the data dir, growing across listener restarts) and
is stored with its raw method, path, query, headers and body bytes, so a replay sends exactly what
arrived. A body whose fingerprint is already stored is a duplicate: it is kept and marked with the
sequence number of the first one, never dropped (MoMo delivers callbacks at least once).
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping

from momo_cli.callbacks.events import CallbackEvent, RawCallback, fingerprint, iso_utc
from momo_cli.errors import ConfigError, UsageError

FILE_NAME = "callbacks.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS callbacks (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    query        TEXT NOT NULL DEFAULT '',
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    fingerprint  TEXT NOT NULL,
    duplicate_of INTEGER,
    client       TEXT,
    forward      TEXT
);
CREATE INDEX IF NOT EXISTS callbacks_fingerprint ON callbacks (fingerprint, seq);
"""

_COLUMNS = "seq, received_at, method, path, query, headers, body, fingerprint, duplicate_of, client, forward"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """MOMO_DATA_DIR, else $XDG_DATA_HOME/momo, else ~/.local/share/momo (momo_cli.config.paths)."""
    from momo_cli.config.paths import data_dir

    return data_dir(env)


class CallbackStore:
    """Received callbacks in one SQLite file (or in memory with `path=":memory:"`)."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _prepare_file(Path(self.path))
        try:
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA busy_timeout = 10000")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot open the callback store {self.path}: {exc}",
                hint="check MOMO_DATA_DIR and the permissions of that directory",
            ) from None

    @classmethod
    def open_default(cls, data_dir: Path | None = None) -> "CallbackStore":
        return cls((data_dir or default_data_dir()) / FILE_NAME)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "CallbackStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------
    def record(self, raw: RawCallback) -> CallbackEvent:
        """Store a received callback; number it and mark it a duplicate if its body was seen before."""
        print_ = fingerprint(raw.body)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT seq FROM callbacks WHERE fingerprint = ? ORDER BY seq LIMIT 1", (print_,)
            ).fetchone()
            first = row[0] if row else None
            cursor = db.execute(
                "INSERT INTO callbacks (received_at, method, path, query, headers, body, fingerprint,"
                " duplicate_of, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    iso_utc(raw.received_at), raw.method, raw.path, raw.query,
                    json.dumps([list(pair) for pair in raw.headers], ensure_ascii=False),
                    raw.body, print_, first, raw.client,
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return CallbackEvent(seq=int(cursor.lastrowid), raw=raw, fingerprint=print_, duplicate_of=first)

    def set_forward(self, seq: int, forward: dict | None) -> None:
        self._db.execute(
            "UPDATE callbacks SET forward = ? WHERE seq = ?",
            (json.dumps(forward) if forward is not None else None, seq),
        )

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM callbacks").fetchone()[0])

    def get(self, seq: int) -> CallbackEvent | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM callbacks WHERE seq = ?", (seq,)).fetchone()
        return _event(row) if row else None

    def last(self, n: int | None = None) -> list[CallbackEvent]:
        """The last `n` callbacks (all when None), oldest first."""
        if n is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM callbacks ORDER BY seq").fetchall()
            return [_event(row) for row in rows]
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM callbacks ORDER BY seq DESC LIMIT ?", (max(n, 0),)
        ).fetchall()
        return [_event(row) for row in reversed(rows)]

    def by_fingerprint(self, prefix: str) -> list[CallbackEvent]:
        """Callbacks whose fingerprint starts with `prefix` (hex), oldest first."""
        prefix = prefix.lower()
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM callbacks WHERE fingerprint >= ? AND fingerprint < ? ORDER BY seq",
            (prefix, prefix + "g"),
        ).fetchall()
        return [_event(row) for row in rows]

    def select(self, selectors: Iterable[str]) -> list[CallbackEvent]:
        """Resolve each selector to one stored callback, in the order given.

        A selector of digits is a sequence number; anything else (optionally `sha256:`-prefixed) is a
        fingerprint prefix of at least 4 hex digits, which picks the latest callback with that body.
        """
        events: list[CallbackEvent] = []
        for selector in selectors:
            text = selector.strip()
            if text.startswith("#"):
                text = text[1:]
            if text.isdigit():
                event = self.get(int(text))
                if event is None:
                    raise UsageError(
                        f"no received callback #{text}", hint="`momo callbacks list` shows what was received"
                    )
                events.append(event)
                continue
            prefix = text.lower().removeprefix("sha256:")
            if len(prefix) < 4 or any(ch not in "0123456789abcdef" for ch in prefix):
                raise UsageError(
                    f"{selector!r} is neither a sequence number nor a fingerprint prefix (4+ hex digits)",
                    hint="`momo callbacks list` shows both",
                )
            matches = self.by_fingerprint(prefix)
            if not matches:
                raise UsageError(
                    f"no received callback has a fingerprint starting with {prefix}",
                    hint="`momo callbacks list` shows what was received",
                )
            if len({event.fingerprint for event in matches}) > 1:
                raise UsageError(f"fingerprint prefix {prefix} is ambiguous: give more digits")
            events.append(matches[-1])
        return events


def _prepare_file(path: Path) -> None:
    """Create the data dir (0700 when new) and the store file (0600) before SQLite opens it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the callback store {path}: {exc.strerror or exc}",
            hint="set MOMO_DATA_DIR to a writable directory",
        ) from None


def _event(row: tuple) -> CallbackEvent:
    seq, received_at, method, path, query, headers, body, print_, duplicate_of, client, forward = row
    raw = RawCallback(
        method=method,
        path=path,
        query=query or "",
        headers=[(str(name), str(value)) for name, value in json.loads(headers)],
        body=bytes(body),
        received_at=datetime.fromisoformat(received_at.replace("Z", "+00:00")),
        client=client,
    )
    return CallbackEvent(
        seq=int(seq), raw=raw, fingerprint=print_, duplicate_of=duplicate_of,
        forward=json.loads(forward) if forward else None,
    )
