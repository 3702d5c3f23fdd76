"""A batch run's report: one line per row, streamed from the journal and written atomically.

CSV for a path ending in .csv, JSON Lines for .jsonl/.ndjson, else one JSON document with the run,
its counts and its rows. `report_row(entry)` is one line (`momo disburse batch` also shows the rows
that did not succeed with it). No CLI here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from momo_cli.journal.store import Journal, Run, State, bucket

REPORT_COLUMNS = (
    "line", "external_id", "payee", "payee_type", "amount", "currency", "reference_id", "status",
    "reason", "financial_transaction_id", "outcome", "state", "error",
)


def report_row(entry: Any) -> dict[str, Any]:
    """One report line of a run's entry."""
    reason = None
    if entry.state is State.FINAL and entry.status != "SUCCESSFUL":
        reason = entry.reason or entry.status
    elif entry.state is State.REJECTED:
        reason = entry.error_code or "NOT_ACCEPTED"
    return {
        "line": entry.line_no,
        "external_id": entry.external_id,
        "payee": entry.party_id,
        "payee_type": (entry.party_type or "MSISDN").lower(),
        "amount": entry.amount,
        "currency": entry.currency,
        "reference_id": entry.reference_id,
        "status": entry.status,
        "reason": reason,
        "financial_transaction_id": entry.financial_transaction_id,
        "outcome": bucket(entry.state, entry.status),
        "state": str(entry.state),
        "error": entry.last_error if not (entry.state is State.FINAL) else None,
    }


def problem_rows(journal: Journal, run_id: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The report lines of the first `limit` rows of a run that are not SUCCESSFUL, and how many there are."""
    rows, count = [], 0
    for entry in journal.iter_run_entries(run_id):
        if entry.state is State.FINAL and entry.status == "SUCCESSFUL":
            continue
        count += 1
        if len(rows) < limit:
            rows.append(report_row(entry))
    return rows, count


def report_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "json"


def write_report(journal: Journal, run: Run, path: Path) -> None:
    """One line per row of `run`, streamed from the journal, written atomically (a temporary file in
    the same directory, then renamed): CSV for .csv, JSON Lines for .jsonl/.ndjson, else a JSON
    document {"run": ..., "counts": ..., "rows": [...]} with one row per line."""
    import csv
    import json
    import tempfile

    fmt = report_format(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            entries = journal.iter_run_entries(run.id)
            if fmt == "csv":
                writer = csv.DictWriter(f, fieldnames=REPORT_COLUMNS, lineterminator="\n")
                writer.writeheader()
                for entry in entries:
                    writer.writerow({k: ("" if v is None else v) for k, v in report_row(entry).items()})
            elif fmt == "jsonl":
                for entry in entries:
                    f.write(json.dumps(report_row(entry), ensure_ascii=False) + "\n")
            else:
                counts = journal.run_summary(run.id).buckets
                head = {"run": run.to_dict(), "counts": counts}
                f.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": [')
                first = True
                for entry in entries:
                    f.write(("\n" if first else ",\n") + json.dumps(report_row(entry), ensure_ascii=False))
                    first = False
                f.write("\n]}\n")
        os.chmod(tmp_name, 0o644 & ~_umask())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
