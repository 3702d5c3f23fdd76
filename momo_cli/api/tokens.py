"""The access-token cache: one token per (base URL, target environment, product, API user).

MTN asks clients not to mint a token per transaction (momo-api.md section 11), and every `momo` command
is a new process, so tokens live on disk: one JSON file, 0600, in a 0700 directory, replaced atomically
(write a temporary file, fsync, rename) under an advisory lock so that processes writing at the same time
do not lose each other's entries. A cache file that group or others may read or write is refused
(ConfigError, exit 3, saying `chmod 600`), like the credentials file. A token is served only while it stays valid for more than a margin
(10% of its lifetime, at least 60 s, at most half of it); an expired token is never served.

Tokens are secrets: nothing here logs them, and the entries' repr hides them.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from momo_cli.config.store import atomic_write_text, check_private_file, file_lock

FILE_NAME = "tokens.json"
_FORMAT = 1


class TokenKey(NamedTuple):
    base_url: str
    target_environment: str
    product: str
    user_id: str

    def as_text(self) -> str:
        return " ".join((self.base_url.rstrip("/").lower(), self.target_environment, self.product, self.user_id))


@dataclass(frozen=True)
class CachedToken:
    access_token: str = field(repr=False)
    expires_at: float  # seconds since the epoch
    lifetime: float

    def margin(self) -> float:
        """Refresh this long before expiry: 10% of the lifetime, at least 60 s, at most half of it."""
        return min(max(60.0, 0.1 * self.lifetime), self.lifetime / 2)

    def usable(self, now: float) -> bool:
        return now < self.expires_at - self.margin()

    def remaining(self, now: float) -> float:
        return self.expires_at - now


def margin_for(lifetime: float) -> float:
    return CachedToken("", 0.0, lifetime).margin()


class TokenCache:
    """A token cache on disk (or in memory only when `cache_dir` is None).

    `get(key)` gives a token only while it is usable; `put(key, token, expires_in)` stores one;
    `drop(key, token=None)` forgets it (only if it is still that token, when one is given).
    """

    def __init__(self, cache_dir: str | os.PathLike[str] | None, *, clock: Callable[[], float] = time.time) -> None:
        self.dir = Path(cache_dir) if cache_dir is not None else None
        self.clock = clock
        self._memory: dict[str, CachedToken] = {}
        self._thread_lock = threading.Lock()
        if self.path is not None:
            check_private_file(self.path)  # before a command journals or sends anything

    @property
    def path(self) -> Path | None:
        return self.dir / FILE_NAME if self.dir is not None else None

    def __repr__(self) -> str:
        return f"TokenCache({str(self.dir) if self.dir else 'memory'!r})"

    # ------------------------------------------------------------------------------------ public

    def get(self, key: TokenKey) -> CachedToken | None:
        now = self.clock()
        text = key.as_text()
        entry = self._memory.get(text)
        if entry is not None and entry.usable(now):
            return entry
        if self.dir is None:
            return None
        entry = self._read().get(text)
        if entry is not None and entry.usable(now):
            self._memory[text] = entry
            return entry
        return None

    def put(self, key: TokenKey, access_token: str, expires_in: float) -> CachedToken:
        now = self.clock()
        entry = CachedToken(access_token=access_token, expires_at=now + float(expires_in), lifetime=float(expires_in))
        text = key.as_text()
        self._memory[text] = entry
        if self.dir is not None:
            with self._locked():
                entries = self._read()
                entries[text] = entry
                self._write(entries, now)
        return entry

    def drop(self, key: TokenKey, access_token: str | None = None) -> None:
        text = key.as_text()
        current = self._memory.get(text)
        if current is not None and (access_token is None or current.access_token == access_token):
            del self._memory[text]
        if self.dir is None or not self.path.exists():  # type: ignore[union-attr]
            return
        with self._locked():
            entries = self._read()
            stored = entries.get(text)
            if stored is not None and (access_token is None or stored.access_token == access_token):
                del entries[text]
                self._write(entries, self.clock())

    def clear(self) -> None:
        self._memory.clear()
        if self.dir is not None and self.path.exists():  # type: ignore[union-attr]
            with self._locked():
                self._write({}, self.clock())

    # ---------------------------------------------------------------------------------- the file

    def _ensure_dir(self) -> None:
        assert self.dir is not None
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        getuid = getattr(os, "getuid", None)
        with contextlib.suppress(OSError):
            info = self.dir.stat()
            if info.st_mode & 0o077 and getuid is not None and info.st_uid == getuid():
                os.chmod(self.dir, 0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: a thread lock here, an flock on `tokens.json.lock` across processes."""
        assert self.dir is not None
        self._ensure_dir()
        with self._thread_lock, file_lock(self.dir / (FILE_NAME + ".lock")):
            yield

    def _read(self) -> dict[str, CachedToken]:
        path = self.path
        assert path is not None
        check_private_file(path)  # tokens others may read are not used (design.md section 5)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries: dict[str, CachedToken] = {}
        if not isinstance(data, dict) or not isinstance(data.get("tokens"), dict):
            return entries
        for text, item in data["tokens"].items():
            try:
                entries[text] = CachedToken(
                    access_token=str(item["access_token"]),
                    expires_at=float(item["expires_at"]),
                    lifetime=float(item["lifetime"]),
                )
            except (KeyError, TypeError, ValueError):
                continue
        return entries

    def _write(self, entries: dict[str, CachedToken], now: float) -> None:
        path = self.path
        assert path is not None and self.dir is not None
        live = {text: entry for text, entry in entries.items() if entry.expires_at > now}
        document = {
            "format": _FORMAT,
            "tokens": {
                text: {"access_token": e.access_token, "expires_at": e.expires_at, "lifetime": e.lifetime}
                for text, e in sorted(live.items())
            },
        }
        atomic_write_text(path, json.dumps(document, indent=1))
