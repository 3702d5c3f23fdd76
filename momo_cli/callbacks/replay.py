"""Send received callbacks again to the user's app, as they arrived: method, headers, body bytes.

Selectors name what to send: a sequence number (`3` or `#3`), a fingerprint prefix (4+ hex digits,
optionally `sha256:`), or, later, a reference id from the journal, whose final status is turned into
the callback MoMo would send (`bodies.callback_request`); `load_journal_entry` is that seam.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from momo_cli import __version__
from momo_cli.callbacks.bodies import SYNTHETIC_USER_AGENT, callback_request
from momo_cli.callbacks.events import CallbackEvent, RawCallback
from momo_cli.callbacks.forward import DEFAULT_TIMEOUT, ForwardResult, Sender
from momo_cli.callbacks.store import CallbackStore
from momo_cli.errors import UsageError
from momo_cli.money import is_uuid


@dataclass
class ReplayItem:
    """One callback to send: a stored one (`event`), or one built from a journal entry (`raw` only)."""

    label: str
    raw: RawCallback
    event: CallbackEvent | None = None
    reference_id: str | None = None


@dataclass
class ReplayOutcome:
    item: ReplayItem
    result: ForwardResult

    def to_dict(self) -> dict[str, Any]:
        event = self.item.event
        return {
            "seq": event.seq if event else None,
            "fingerprint": event.fingerprint if event else None,
            "reference_id": self.item.reference_id,
            "method": self.item.raw.method,
            **self.result.to_dict(),
        }


def load_journal_entry(reference_id: str) -> Mapping[str, Any] | None:
    """The journal's entry for `reference_id` as the dictionary `bodies.callback_body` takes.

    Read from the journal of the data dir (`$MOMO_DATA_DIR/journal.sqlite3`). A reference id the
    journal does not know, or a request the API never accepted (so MoMo would never call back), is a
    UsageError saying so.
    """
    from momo_cli.callbacks.store import default_data_dir
    from momo_cli.journal.store import Journal, journal_path

    path = journal_path(default_data_dir())
    entry = None
    if path.exists():
        with Journal(path) as journal:
            entry = journal.get(reference_id)
    if entry is None:
        raise UsageError(
            f"{reference_id} is not in the journal: there is nothing to build its callback from",
            hint="`momo journal list` shows the journaled requests",
        )
    if not entry.status:
        raise UsageError(
            f"{reference_id} was never accepted by the API (journal state {entry.state}): MoMo would not call back",
            hint=f"`momo journal show {reference_id}` says what happened",
        )
    from momo_cli.operations import is_final

    if not is_final(entry.status):
        raise UsageError(
            f"{reference_id} is still {entry.status}: MoMo calls back only with a final status",
            hint=f"`momo status {reference_id} --wait` follows it to the end; replay it then",
        )
    return entry.to_record()


def synthetic_callback(entry: Mapping[str, Any]) -> RawCallback:
    """The request MoMo would send for a journal entry's final status."""
    method, body = callback_request(entry)
    return RawCallback(
        method=method,
        path="/",
        headers=[
            ("content-type", "application/json; charset=utf-8"),
            ("user-agent", f"{SYNTHETIC_USER_AGENT} ({__version__})"),
        ],
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
    )


def select(store: CallbackStore, selectors: Sequence[str], last: int | None) -> list[ReplayItem]:
    """What to replay, in order: `last` most recent ones first (oldest first), then each selector."""
    if not selectors and not last:
        raise UsageError(
            "say which callbacks to replay: sequence numbers, fingerprint prefixes or --last N",
            hint="`momo callbacks list` shows what was received",
        )
    items = [ReplayItem(f"#{event.seq}", event.raw, event) for event in store.last(last)] if last else []
    for selector in selectors:
        text = selector.strip()
        if is_uuid(text):
            entry = load_journal_entry(text.lower())
            if entry is None:
                raise UsageError(
                    f"{text} looks like a reference id: replaying a journal entry is not available yet",
                    hint="replay a received callback by its sequence number or fingerprint",
                )
            items.append(ReplayItem(text, synthetic_callback(entry), None, text.lower()))
            continue
        (event,) = store.select([text])
        items.append(ReplayItem(f"#{event.seq}", event.raw, event))
    if last and not items:
        raise UsageError("no callbacks received yet: nothing to replay",
                         hint="start `momo callbacks listen` and send a request with its callback URL")
    return items


async def replay_all(
    items: Iterable[ReplayItem], url: str, *, timeout: float = DEFAULT_TIMEOUT, transport: Any = None
) -> list[ReplayOutcome]:
    """Send each item to `url`, one after the other (order matters to a handler)."""
    outcomes: list[ReplayOutcome] = []
    async with Sender(timeout=timeout, transport=transport) as sender:
        for item in items:
            outcomes.append(ReplayOutcome(item, await sender.replay(url, item.raw)))
    return outcomes


def replay(items: Iterable[ReplayItem], url: str, *, timeout: float = DEFAULT_TIMEOUT) -> list[ReplayOutcome]:
    return asyncio.run(replay_all(items, url, timeout=timeout))
