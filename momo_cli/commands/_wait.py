"""Waiting for a journaled transaction to be final: `--wait`, `--timeout`, `--interval`.

`wait_entry` polls through the journal's sender (`sender.wait`) with a spinner on stderr, and takes
a callback instead when a `--listen` listener hears it first. Used by the money-moving commands and
`momo status`. The journal's sender and rich are imported when waiting starts.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import click

from momo_cli.commands._transaction import party_words, title_of

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.commands._session import Session
    from momo_cli.journal.store import Entry, Journal

#: --timeout and --interval when not given (seconds)
DEFAULT_TIMEOUT = 120.0
DEFAULT_INTERVAL = 2.0


def wait_options() -> list[click.Option]:
    return [
        click.Option(["--wait"], is_flag=True, help="Wait until the transaction is final (or --timeout)."),
        click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
                     show_default=True, metavar="S", help="Seconds --wait waits at most."),
        click.Option(["--interval"], type=click.FloatRange(min=0.05), default=DEFAULT_INTERVAL,
                     show_default=True, metavar="S",
                     help="Seconds before the second status check (then it backs off)."),
    ]


def spinner_label(entry: "Entry") -> str:
    title = title_of(entry.product, entry.operation)
    party = party_words({"type": entry.party_type, "id": entry.party_id})
    text = f"{title[0].upper() + title[1:]} {entry.amount} {entry.currency}"
    if entry.party_id:
        text += (" from " if entry.operation.startswith("request_to") else " to ") + party
    return text


async def wait_entry(
    session: "Session",
    client: Any,
    journal: "Journal",
    entry: "Entry",
    *,
    timeout: float,
    interval: float,
    listener: Any = None,
) -> "Entry":
    """Poll until final or `timeout` (a spinner on stderr on a terminal); with a listener, a matching
    callback that comes first ends the wait and its status is journaled."""
    from momo_cli.journal import sender
    from momo_cli.render import spinner

    reference_id = entry.reference_id
    with spinner(session.out, spinner_label(entry)) as spin:
        current = {"status": entry.status}

        def on_update(updated: "Entry", elapsed: float) -> None:
            current["status"] = updated.status
            spin.update(updated.status)

        async def tick() -> None:
            while True:
                spin.update(current["status"])
                await asyncio.sleep(0.25)

        ticker = asyncio.get_running_loop().create_task(tick()) if spin.active else None
        poll = asyncio.get_running_loop().create_task(sender.wait(
            journal, client, reference_id, timeout=timeout, interval=interval, on_update=on_update,
        ))
        tasks = {poll}
        heard = None
        heard_from = None
        if listener is not None:
            from momo_cli.callbacks import matching

            predicate = matching(external_id=entry.external_id, amount=entry.amount, final_only=True)
            heard = asyncio.get_running_loop().create_task(listener.wait_for(predicate, timeout))
            tasks.add(heard)
        try:
            while True:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                if heard is not None and heard in done:
                    tasks.discard(heard)
                    try:
                        event = heard.result()
                    except (TimeoutError, asyncio.TimeoutError):
                        heard = None
                        continue
                    heard = None
                    from momo_cli.journal.sender import status_fields

                    status, reason, ftid = status_fields({
                        "status": event.status, "reason": event.reason,
                        "financial_transaction_id": event.info.financial_transaction_id,
                    })
                    journal.record_status(reference_id, status, reason, ftid,
                                          detail=f"callback #{event.seq} ({event.method})")
                    poll.cancel()
                    heard_from = event
                    break
                if poll in done:
                    poll.result()
                    break
        finally:
            for task in (poll, heard, ticker):
                if task is not None and not task.done():
                    task.cancel()
            for task in (poll, heard, ticker):
                if task is not None:
                    try:
                        await task
                    except (asyncio.CancelledError, Exception):
                        pass
    if heard_from is not None:
        session.out.info(f"The callback came first ({heard_from.method}, {heard_from.status}).")
    return journal.get(reference_id) or entry
