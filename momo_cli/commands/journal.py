"""`momo journal`: the local record of every money-moving request (list, show, reconcile).

The journal is `$MOMO_DATA_DIR/journal.sqlite3`; `momo_cli.journal` owns it and the exactly-once
rules. These commands only read it, or (reconcile) ask the API about what is still open.
"""

from __future__ import annotations

import click

from momo_cli.commands._session import app_context

STATES = ("created", "submitted", "unknown", "rejected", "final")


@click.group()
def journal() -> None:
    """The local journal of every money-moving request: list, show, reconcile.

    \b
    Every request is journaled before it is sent, with its reference id, so nothing is paid
    twice: an outcome that is unknown (a timeout, a dropped connection) is settled by
    `momo journal reconcile`, which asks the API and resends (same reference id) only what
    never arrived.
    """


def _open(obj, json_mode: bool = False):
    from momo_cli.commands._session import Session

    app = app_context(obj)
    out = app.output(json_mode=json_mode)
    return out, Session(app, out)


def _short_time(text: str | None, *, seconds: bool = False) -> str:
    """`2026-11-27 22:45:02` (with seconds) or `11-27 22:45` (for lists, where width is dear)."""
    text = (text or "").replace("T", " ")
    return text[:19] if seconds else text[5:16]


COLUMNS = ["created", "reference id", "operation", "amount", "party", "status"]
NO_WRAP = ("created", "reference id", "amount", "party", "status")
#: Narrower terminals get two lines per request instead of a table.
TABLE_MIN_WIDTH = 118


def _rows(docs: list[dict]) -> list[tuple]:
    from momo_cli.commands._transaction import title_of
    from momo_cli.render import party_text, shown_status, status_with_reason

    rows = []
    for doc in docs:
        party = party_text(doc.get("party")) if (doc.get("party") or {}).get("id") else "-"
        rows.append((
            _short_time(doc.get("created_at")), doc["reference_id"], title_of(doc["product"], doc["operation"]),
            f"{doc.get('amount')} {doc.get('currency')}", party,
            status_with_reason(shown_status(doc), doc.get("reason")),
        ))
    return rows


def _print_table(out, view) -> None:
    """On a terminal the table fits its width; in a pipe or a file, values are never cut."""
    if not out.stdout_is_tty:
        out.console.width = 1_000
    out.console.print(view)


def _print_entries(out, docs: list[dict], title: str) -> None:
    """A table on a wide terminal (and in pipes); two lines per request on a narrow terminal."""
    from momo_cli.render import table

    if not out.stdout_is_tty or out.console.width >= TABLE_MIN_WIDTH:
        _print_table(out, table(COLUMNS, _rows(docs), title=title, no_wrap=NO_WRAP))
        return
    from rich.text import Text

    from momo_cli.commands._transaction import party_words, title_of
    from momo_cli.render import shown_status, status_text

    out.console.print(Text(title, style="italic"))
    for doc in docs:
        head = Text(doc["reference_id"], style="bold")
        head.append(f"  {_short_time(doc.get('created_at'))}", style="dim")
        incoming = doc["operation"].startswith("request_to")
        what = f"  {title_of(doc['product'], doc['operation'])} {doc.get('amount')} {doc.get('currency')}"
        if (doc.get("party") or {}).get("id"):
            what += (" from " if incoming else " to ") + party_words(doc["party"])
        body = Text(what + "  ")
        body.append_text(status_text(shown_status(doc)))
        if doc.get("reason"):
            body.append(f" {doc['reason']}", style="red")
        out.console.print(head)
        out.console.print(body)


@journal.command("list", epilog="""\b
Examples:
  momo journal list
  momo journal list --status FAILED --since 2026-11-01
  momo journal list --state unknown --json | jq -r '.[].reference_id'
""")
@click.option("--status", "status_filter", metavar="STATUS",
              help="Only this MoMo status (SUCCESSFUL, FAILED, PENDING ...).")
@click.option("--state", type=click.Choice(STATES, case_sensitive=False),
              help="Only this journal state (unknown: the outcome is not known yet).")
@click.option("--since", metavar="DATE", help="Only requests made since this date or time (ISO, UTC).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, metavar="N",
              help="At most N (the newest).")
@click.option("--all", "show_all", is_flag=True, help="Every entry (no --limit).")
@click.option("--json", "json_mode", is_flag=True, help="Print a JSON array on stdout.")
@click.pass_obj
def list_entries(obj, status_filter, state, since, limit, show_all, json_mode):
    """List journaled requests, newest first."""
    from momo_cli.commands._transaction import public, transaction_doc
    from momo_cli.errors import InvalidInput

    if status_filter is not None and not status_filter.strip().replace("_", "").isalpha():
        raise InvalidInput("--status", f"{status_filter!r} is not a status such as SUCCESSFUL or FAILED")
    if since is not None:
        from datetime import datetime

        try:
            datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("--since", f"{since!r} is not an ISO date or date-time (e.g. 2026-11-27)") from None
    out, session = _open(obj, json_mode)
    try:
        entries = session.journal().list(
            status=status_filter.strip().upper() if status_filter else None,
            state=state.lower() if state else None, since=since, limit=None if show_all else limit,
        )
        docs = [public(transaction_doc(entry)) for entry in entries]
    finally:
        session.close()
    if json_mode:
        out.json(docs)
        return
    if not docs:
        out.info("No journaled requests" + (" match." if status_filter or state or since else " yet."))
        return
    _print_entries(out, docs, f"Journal ({len(docs)}, times in UTC)")


@journal.command(epilog="""\b
Examples:
  momo journal show 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11
  momo journal show 3f2a9c1e-77b0-4c1d-9a0e-2f7c1b9d8e11 --json | jq .events
""")
@click.argument("reference_id")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def show(obj, reference_id: str, json_mode: bool) -> None:
    """Show one journaled request, its body and every state it reached."""
    from momo_cli import money
    from momo_cli.commands._transaction import public, render_transaction, transaction_doc
    from momo_cli.errors import UsageError

    if not money.is_uuid((reference_id or "").strip()):
        money.check_reference_id(reference_id, field="REFERENCE_ID")
    out, session = _open(obj, json_mode)
    try:
        store = session.journal()
        entry = store.get(reference_id)
        if entry is None:
            raise UsageError(f"{reference_id} is not in the journal",
                             hint="`momo journal list` shows what is; `momo status REF --product P` reads any id")
        events = store.events(entry.reference_id)
        doc = transaction_doc(entry, environment_label=None)
        doc["request_body"] = entry.body
        doc["events"] = [event.to_dict() for event in events]
    finally:
        session.close()
    if json_mode:
        out.json(public(doc))
        return
    render_transaction(out, doc)
    from momo_cli.render import table

    if doc.get("error"):
        out.line(f"Error: {doc['error']['message']}")
    view = table(["at (UTC)", "state", "status", "detail"],
                 [(_short_time(e["at"], seconds=True), e["state"], e["status"], e["detail"]) for e in doc["events"]],
                 title="Events", status_column="status", no_wrap=("at (UTC)", "state", "status"))
    _print_table(out, view)


@journal.command(epilog="""\b
Examples:
  momo journal reconcile
  momo --base-url http://127.0.0.1:8765 journal reconcile --json

\b
Only entries sent to the current API (base URL, target environment and profile) are asked about; others
are counted as skipped, with the flags that reach them. Exit 0 when every entry asked about has a
known outcome (accepted, final or rejected), 6 when some outcome is still unknown.
""")
@click.option("--no-resend", is_flag=True,
              help="Only ask: do not send again what the API says never arrived (404).")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_obj
def reconcile(obj, no_resend: bool, json_mode: bool) -> None:
    """Ask the API about every request whose outcome is open, and journal the answers.

    Accepted requests get a status check. A request whose outcome is unknown gets a status check
    first and is sent again, with the same reference id, only if the API answers 404 (it never
    arrived): nothing is ever paid twice.
    """
    import asyncio

    from momo_cli.commands._money import send_policy
    from momo_cli.commands._transaction import flags_for, outcome_of, public, same_api, transaction_doc
    from momo_cli.errors import NetworkError

    out, session = _open(obj, json_mode)
    try:
        store = session.journal()
        open_entries = list(store.unresolved())
        here = [e for e in open_entries if same_api(session, e)]
        asked = {e.reference_id for e in here}
        elsewhere = [e for e in open_entries if e.reference_id not in asked]
        # journaled but never sent (the command stopped before its POST, a batch run before its
        # rows): reconcile leaves them to the command that made them, so it does not ask about them
        never_sent = [e for e in here if not e.may_have_been_sent]
        here = [e for e in here if e.may_have_been_sent]
        results = []
        if here:
            products = sorted({e.product for e in here})

            async def work():
                from momo_cli.journal import sender
                from momo_cli.render import spinner

                session.announce()  # before the spinner draws on stderr
                with spinner(out, f"Reconciling {len(here)} journaled requests") as spin:
                    done = {"n": 0}

                    def progress(entry) -> None:
                        done["n"] += 1
                        spin.label = f"Reconciling {done['n']}/{len(here)}"
                        spin.update(entry.status)

                    async with session.client(*products) as client:
                        return await sender.reconcile(store, client, here, progress,
                                                      resend=not no_resend, policy=send_policy())

            results = asyncio.run(work())
    finally:
        session.close()
    counts: dict[str, int] = {}
    for entry in results:
        outcome = outcome_of(entry)
        counts[outcome] = counts.get(outcome, 0) + 1
    others = sorted({(e.base_url or "?", e.target_environment or "?", e.profile or "?") for e in elsewhere})
    doc = {
        "checked": len(results),
        "outcomes": counts,
        "skipped": len(elsewhere),
        "skipped_apis": [{"base_url": b, "environment": t, "profile": p} for b, t, p in others],
        "not_sent": len(never_sent),
        "entries": [public(transaction_doc(entry)) for entry in results],
    }
    if json_mode:
        out.json(doc)
    elif results:
        docs = doc["entries"]
        _print_entries(out, docs, f"Reconciled {len(docs)} (times in UTC)")
        out.info("Outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    elif not never_sent:
        out.info("Nothing to reconcile: every journaled request has a known outcome.")
    if never_sent:
        shown = ", ".join(e.reference_id for e in never_sent[:3]) + (", ..." if len(never_sent) > 3 else "")
        out.info(f"Not sent: {len(never_sent)} journaled request{'s were' if len(never_sent) != 1 else ' was'} "
                 f"never sent ({shown}); reconcile leaves them to the command that made them: run it again "
                 "with the same --reference-id, or the same `momo disburse batch FILE` to resume its run.")
    for base_url, environment, profile in others:
        group = [e for e in elsewhere
                 if (e.base_url or "?", e.target_environment or "?", e.profile or "?") == (base_url, environment, profile)]
        out.info(f"Skipped {len(group)} sent to {base_url} ({environment}) with profile {profile}: run "
                 f"`momo {flags_for(group[0])} journal reconcile`")
    unknown = counts.get("unknown", 0)
    if unknown:
        raise NetworkError(f"{unknown} of {len(results)} requests still have an unknown outcome",
                           hint="run `momo journal reconcile` again when the API answers")
