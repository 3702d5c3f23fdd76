"""The journal of money-moving requests (`store`), the exactly-once sender (`sender`) and the batch
engine (`batch`). Importing this package loads only the standard-library store."""

from momo_cli.journal.store import (
    CLOSED_STATES,
    OPEN_STATES,
    DuplicateReference,
    Entry,
    Event,
    Journal,
    JournalError,
    Run,
    RunRow,
    RunSummary,
    State,
    journal_path,
)

__all__ = [
    "CLOSED_STATES",
    "OPEN_STATES",
    "DuplicateReference",
    "Entry",
    "Event",
    "Journal",
    "JournalError",
    "Run",
    "RunRow",
    "RunSummary",
    "State",
    "journal_path",
]
