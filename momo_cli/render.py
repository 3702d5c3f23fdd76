"""Human views: rich panels, tables and spinners. Imported only when something is drawn for people.

Views take the plain dictionaries of the JSON contract (design.md section 4), so the human and the
machine output always show the same facts.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

from rich import box
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from momo_cli.output import Output

STATUS_STYLES = {
    "SUCCESSFUL": "bold green",
    "PENDING": "bold yellow",
    "CREATED": "yellow",
    "FAILED": "bold red",
    "REJECTED": "bold red",
    "EXPIRED": "bold red",
    "UNKNOWN": "bold magenta",
    "NOT ACCEPTED": "bold red",
    "NOT SENT": "bold magenta",
}

#: What the panel shows as the status of a journal entry that has no MoMo status (yet).
STATE_WORDS = {"rejected": "NOT ACCEPTED", "unknown": "UNKNOWN", "created": "NOT SENT"}

OPERATION_TITLES = {
    "request_to_pay": "Request to pay",
    "request_to_withdraw": "Request to withdraw",
    "transfer": "Transfer",
    "deposit": "Deposit",
    "refund": "Refund",
    "cash_transfer": "Cash transfer",
}


def status_text(status: str | None) -> Text:
    value = (status or "UNKNOWN").upper()
    return Text(value, style=STATUS_STYLES.get(value, "bold"))


def party_text(party: dict[str, Any] | None) -> str:
    if not party:
        return "-"
    kind = (party.get("type") or "").upper()
    return f"{party.get('id')} ({kind.lower()})" if kind and kind != "MSISDN" else str(party.get("id"))


def shown_status(tx: dict[str, Any]) -> str:
    """The MoMo status, or for a journal entry without one, what its state means."""
    status = tx.get("status")
    if status:
        return str(status)
    return STATE_WORDS.get(str(tx.get("state") or ""), "UNKNOWN")


def transaction_panel(tx: dict[str, Any], *, explanation: str | None = None, title: str | None = None) -> Panel:
    """A transaction as people read it: amount, party, status, reason, ids, environment."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", justify="right")
    grid.add_column()
    incoming = tx.get("operation") in ("request_to_pay", "request_to_withdraw")
    grid.add_row("Amount", Text(f"{tx.get('amount')} {tx.get('currency')}", style="bold"))
    if tx.get("refund_of"):
        grid.add_row("Refund of", str(tx["refund_of"]))
    if (tx.get("party") or {}).get("id"):
        grid.add_row("Payer" if incoming else "Payee", party_text(tx.get("party")))
    status = shown_status(tx)
    grid.add_row("Status", status_text(status))
    if tx.get("reason"):
        reason = Text(str(tx["reason"]), style="red")
        if explanation:
            reason.append(f"\n{explanation}", style="default")
        grid.add_row("Reason", reason)
    if tx.get("external_id"):
        grid.add_row("External id", str(tx["external_id"]))
    grid.add_row("Reference id", str(tx.get("reference_id") or "-"))
    if tx.get("financial_transaction_id"):
        grid.add_row("Financial id", str(tx["financial_transaction_id"]))
    grid.add_row("Environment", str(tx.get("environment") or "-"))
    heading = title or (
        f"{str(tx.get('product', '')).capitalize()} · "
        f"{OPERATION_TITLES.get(str(tx.get('operation')), str(tx.get('operation')))}"
    )
    style = STATUS_STYLES.get(status.upper(), "white").replace("bold ", "")
    return Panel(grid, title=heading, title_align="left", border_style=style, box=box.ROUNDED, expand=False)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None,
          status_column: str | None = "status", no_wrap: Sequence[str] = ()) -> Table:
    """A simple table; `no_wrap` columns (ids, dates) are never folded, the others fold to fit."""
    view = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", header_style="bold", pad_edge=False)
    for column in columns:
        view.add_column(column, overflow="fold", no_wrap=column in no_wrap,
                        justify="right" if column in ("amount", "available", "count") else "left")
    index = columns.index(status_column) if status_column in columns else -1

    def cell_of(i: int, cell: Any) -> Any:
        if isinstance(cell, Text):
            return cell
        if i == index and cell:
            return status_text(str(cell))
        return "-" if cell is None else str(cell)

    for row in rows:
        view.add_row(*(cell_of(i, cell) for i, cell in enumerate(row)))
    return view


def status_with_reason(status: str | None, reason: str | None) -> Text:
    """A status, and under it the reason of a failure: one table cell."""
    text = status_text(status)
    if reason:
        text.append(f"\n{reason}", style="red")
    return text


class Spinner:
    """Elapsed time and the current status on stderr while a transaction is pending (terminals only)."""

    def __init__(self, output: Output, label: str) -> None:
        self.output = output
        self.label = label
        self.started = time.monotonic()
        self._status = None

    @property
    def active(self) -> bool:
        """True when something is drawn (a terminal on stderr, not --quiet)."""
        return self._status is not None

    def update(self, status: str | None, elapsed: float | None = None) -> None:
        if self._status is None:
            return
        elapsed = time.monotonic() - self.started if elapsed is None else elapsed
        text = Text(f"{self.label}  ")
        text.append_text(status_text(status or "PENDING"))
        text.append(f"  {elapsed:.0f}s", style="dim")
        self._status.update(text)

    def __enter__(self) -> "Spinner":
        if self.output.stderr_is_tty and not self.output.quiet:
            self._status = self.output.err_console.status(self.label, spinner="dots")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            self._status = None


@contextmanager
def spinner(output: Output, label: str) -> Iterator[Spinner]:
    with Spinner(output, label) as spin:
        yield spin
