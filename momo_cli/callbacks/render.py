"""Human views of received callbacks: one line per event, the list table, replay results.

Imported only when something is drawn for people (it imports rich).
"""

from __future__ import annotations

from rich.text import Text

from momo_cli.callbacks.events import CallbackEvent, reason_code
from momo_cli.callbacks.forward import ForwardResult
from momo_cli.render import STATUS_STYLES


def _status(status: str | None) -> Text:
    value = (status or "-").upper()
    return Text(value, style=STATUS_STYLES.get(value, "bold"))


def kind(event: CallbackEvent) -> str:
    info = event.info
    if info.product and info.operation:
        text = f"{info.product} {info.operation}"
        return text + " (?)" if len(info.candidates) > 1 else text
    if not event.is_json:
        size = len(event.raw.body)
        return f"non-JSON body ({size} byte{'s' if size != 1 else ''})"
    return "unrecognised body"


def forward_text(forward: dict | None, *, failed: str = "forward failed") -> Text:
    if forward is None:
        return Text("")
    result = ForwardResult(**forward)
    text = Text()
    text.append("→ ", style="dim")
    if result.error:
        text.append(f"{failed}: {result.error}", style="bold red")
        return text
    text.append(str(result.status), style="green" if result.ok else "bold red")
    if result.body_excerpt:
        text.append(f" {result.body_excerpt[:80]}", style="dim")
    return text


def event_line(event: CallbackEvent) -> Text:
    """`12:03:04 #3 POST /momo  collection request_to_pay  FAILED APPROVAL_REJECTED  100 EUR  ext order-42`."""
    info = event.info
    line = Text()
    line.append(event.received_at.astimezone().strftime("%H:%M:%S"), style="dim")
    line.append(f" #{event.seq} ", style="dim")
    line.append(f"{event.method} ", style="bold")
    line.append(event.path + (f"?{event.raw.query}" if event.raw.query else ""))
    line.append(f"  {kind(event)}", style="cyan")
    if info.status:
        line.append("  ")
        line.append_text(_status(info.status))
    reason = reason_code(info.reason)
    if reason:
        line.append(f" {reason}", style="red")
    if info.amount is not None:
        line.append(f"  {info.amount} {info.currency or ''}".rstrip())
    if info.external_id:
        line.append(f"  ext {info.external_id}")
    if info.financial_transaction_id:
        line.append(f"  fin {info.financial_transaction_id}", style="dim")
    if event.duplicate:
        line.append(f"  DUPLICATE of #{event.duplicate_of}", style="bold magenta")
    if event.forward is not None:
        line.append("  ")
        line.append_text(forward_text(event.forward))
    return line


def list_line(event: CallbackEvent) -> Text:
    """An event line with its date and fingerprint prefix, for `momo callbacks list`."""
    line = Text()
    line.append(event.received_at.astimezone().strftime("%Y-%m-%d "), style="dim")
    line.append_text(event_line(event))
    line.append(f"  {event.fingerprint[:12]}", style="dim")
    return line


def replay_line(event: CallbackEvent | None, method: str, label: str, result: ForwardResult) -> Text:
    line = Text()
    line.append(f"{label} ", style="bold")
    line.append(f"{method} {result.url} ")
    if event is not None:
        info = event.info
        line.append(f"({kind(event)}", style="cyan")
        if info.status:
            line.append(" ")
            line.append_text(_status(info.status))
        line.append(") ", style="cyan")
    line.append_text(forward_text(result.to_dict(), failed="not delivered"))
    return line
