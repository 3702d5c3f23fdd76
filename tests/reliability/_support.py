"""What the reliability scenarios share: running the real CLI (in this process or as its own process,
to be killed), reading what the journal and the emulator hold, and comparing them row by row.

The comparisons are the suite's claims:

* `assert_once_each`: no transaction twice, by reference id and by external id, and (when told)
  exactly the expected external ids: nothing lost;
* `assert_journal_matches_emulator`: the journal and the emulator's `/_sandbox/transactions` hold the
  same reference ids, and each row agrees on every field, compared as exact strings.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]

#: SUCCESSFUL for every operation (momo-api.md section 13)
OK_NUMBER = "46733123999"
#: payee test numbers (transfers) and what they end as
PAYEES = {
    OK_NUMBER: ("SUCCESSFUL", None),
    "46733123450": ("FAILED", "INTERNAL_PROCESSING_ERROR"),
    "46733123451": ("FAILED", "APPROVAL_REJECTED"),
    "46733123457": ("FAILED", "PAYEE_NOT_FOUND"),
}
#: payer test numbers (requests to pay) and what they end as
PAYERS = {
    OK_NUMBER: ("SUCCESSFUL", None),
    "46733123452": ("FAILED", "EXPIRED"),
    "46733123455": ("FAILED", "PAYER_NOT_FOUND"),
}

#: The fields a journal entry and an emulator transaction must agree on, as exact strings.
COMPARED_FIELDS = (
    "product", "operation", "status", "reason", "amount", "currency", "external_id", "party_id",
    "financial_transaction_id",
)


# -- running the CLI ---------------------------------------------------------------------------------


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def events(self) -> list[dict[str, Any]]:
        """The NDJSON lines of a batch run with --json."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<exit {self.exit_code}\nstdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}>"


def momo(*args: Any, base_url: str | None = None) -> Run:
    """`momo [--base-url URL] ARGS` run in this process (the real command, through click)."""
    from click.testing import CliRunner

    from momo_cli.cli import root

    argv = (["--base-url", base_url] if base_url else []) + [str(a) for a in args]
    result = CliRunner().invoke(root, argv, prog_name="momo")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"momo {' '.join(argv)} crashed: {result.exception!r}\n{result.stderr}")
    return Run(result.exit_code, result.stdout, result.stderr)


def argv(*args: Any, base_url: str | None = None) -> list[str]:
    """The command line of `momo` as its own process."""
    return [sys.executable, "-m", "momo_cli", *(["--base-url", base_url] if base_url else []),
            *[str(a) for a in args]]


def child_env() -> dict[str, str]:
    """This test's environment (its own config, data and cache dirs) for a child process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn(*args: Any, base_url: str | None = None) -> subprocess.Popen:
    """Start `momo ARGS` as its own process (stdout and stderr piped, text)."""
    return subprocess.Popen(argv(*args, base_url=base_url), env=child_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_process(*args: Any, base_url: str | None = None, timeout: float = 60) -> Run:
    """Run `momo ARGS` as its own process to its end."""
    done = subprocess.run(argv(*args, base_url=base_url), env=child_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    return Run(done.returncode, done.stdout, done.stderr)


def sigkill(process: subprocess.Popen) -> bool:
    """SIGKILL a process this test started (by its pid); True if it was still running."""
    alive = process.poll() is None
    if alive:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return alive


def crash(served) -> None:
    """SIGKILL a served emulator this test started: no clean shutdown, whatever it was doing."""
    process = served.process
    if process is not None and process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


# -- the journal ------------------------------------------------------------------------------------


def journal_file() -> Path:
    from momo_cli.journal.store import journal_path

    return journal_path(Path(os.environ["MOMO_DATA_DIR"]))


def journal_entries() -> dict[str, Any]:
    """Every journaled entry of this test, by reference id."""
    from momo_cli.journal.store import Journal

    if not journal_file().exists():
        return {}
    with Journal(journal_file()) as journal:
        return {entry.reference_id: entry for entry in journal.list()}


def journal_entry(reference_id: str):
    from momo_cli.journal.store import Journal

    if not journal_file().exists():
        return None
    with Journal(journal_file()) as journal:
        return journal.get(reference_id)


def journal_events(reference_ids: Iterable[str] | None = None) -> dict[str, list]:
    """Every event of the given entries (default: all), by reference id."""
    from momo_cli.journal.store import Journal

    with Journal(journal_file()) as journal:
        refs = list(reference_ids) if reference_ids is not None else [e.reference_id for e in journal.list()]
        return {ref: journal.events(ref) for ref in refs}


# -- the emulator -----------------------------------------------------------------------------------


def _admin(url: str, path: str, **params: Any) -> Any:
    r = httpx.get(url + path, params=params, timeout=30, trust_env=False)
    r.raise_for_status()
    return r.json()


def transactions(served) -> list[dict[str, Any]]:
    """Every transaction the emulator holds (its `/_sandbox/transactions`, without the default cap)."""
    return _admin(served.url, "/_sandbox/transactions", limit=1_000_000)


def request_log(served) -> list[dict[str, Any]]:
    """The emulator's request log, oldest first (the last 10,000 requests it kept)."""
    return _admin(served.url, "/_sandbox/requests", limit=10_000)


def token_posts(log: Iterable[Mapping[str, Any]], product: str) -> list[Mapping[str, Any]]:
    return [r for r in log if r["method"] == "POST" and r["path"].rstrip("/") == f"/{product}/token"]


def creating_posts(log: Iterable[Mapping[str, Any]], product: str) -> list[Mapping[str, Any]]:
    """The money-moving POSTs of `product` (not tokens, not API users)."""
    return [r for r in log if r["method"] == "POST" and r["path"].startswith(f"/{product}/v")]


def statuses(log: Iterable[Mapping[str, Any]]) -> collections.Counter:
    return collections.Counter(r["status"] for r in log)


# -- the claims -------------------------------------------------------------------------------------


def assert_once_each(rows: list[Mapping[str, Any]], *, external_ids: Iterable[str] | None = None) -> None:
    """No transaction twice, by reference id and by external id; with `external_ids`, exactly those."""
    by_reference = collections.Counter(r["reference_id"] for r in rows)
    by_external = collections.Counter(r["external_id"] for r in rows)
    twice = {k: n for k, n in by_reference.items() if n > 1}
    assert not twice, f"reference ids with more than one transaction: {twice}"
    twice = {k: n for k, n in by_external.items() if n > 1}
    assert not twice, f"external ids paid more than once: {twice}"
    if external_ids is not None:
        expected = sorted(external_ids)
        got = sorted(by_external)
        lost = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        assert not lost and not extra, f"lost: {lost[:20]} ({len(lost)}); not asked for: {extra[:20]} ({len(extra)})"


def canonical(amount: str, currency: str = "EUR") -> str:
    """An amount as MoMo echoes it and the journal keeps it ("12.50" -> "12.5")."""
    from decimal import Decimal

    from momo_cli.money import format_amount

    return format_amount(Decimal(amount), currency)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def assert_journal_matches_emulator(entries: Mapping[str, Any] | Iterable[Any], rows: list[Mapping[str, Any]],
                                    *, final: bool = True) -> None:
    """The journal and the emulator hold the same reference ids and agree row by row on every field
    of COMPARED_FIELDS as exact strings; with `final`, every entry is final in the journal."""
    if not isinstance(entries, Mapping):
        entries = {e.reference_id: e for e in entries}
    emulator = {r["reference_id"]: r for r in rows}
    only_journal = sorted(set(entries) - set(emulator))
    only_emulator = sorted(set(emulator) - set(entries))
    assert not only_journal, f"journaled but not in the emulator: {only_journal}"
    assert not only_emulator, f"in the emulator but not journaled: {only_emulator}"
    mismatches = []
    for ref, row in emulator.items():
        entry = entries[ref]
        ours = {name: _text(getattr(entry, name)) for name in COMPARED_FIELDS}
        theirs = {name: _text(row[name]) for name in COMPARED_FIELDS}
        if ours != theirs:
            mismatches.append((ref, {k: (ours[k], theirs[k]) for k in COMPARED_FIELDS if ours[k] != theirs[k]}))
        if final and str(entry.state) != "final":
            mismatches.append((ref, {"state": (str(entry.state), "final")}))
    assert not mismatches, f"{len(mismatches)} rows differ (journal, emulator): {mismatches[:10]}"


# -- files and waiting -------------------------------------------------------------------------------


def write_payouts(path: Path, rows: Iterable[tuple[str, str, str]]) -> Path:
    """A batch CSV of (payee, amount, external_id) rows in EUR."""
    with path.open("w") as f:
        f.write("payee,amount,currency,external_id,payer_message\n")
        for payee, amount, external_id in rows:
            f.write(f"{payee},{amount},EUR,{external_id},payout {external_id}\n")
    return path


def payout_rows(count: int, prefix: str, *, failing_every: int = 0) -> list[tuple[str, str, str]]:
    """`count` rows of distinct amounts and external ids; every `failing_every`-th row pays a number
    that ends FAILED (in turn through the failing ones of PAYEES)."""
    failing = [n for n in PAYEES if n != OK_NUMBER]
    rows = []
    for i in range(count):
        payee = OK_NUMBER
        if failing_every and i % failing_every == failing_every - 1:
            payee = failing[(i // failing_every) % len(failing)]
        rows.append((payee, f"{1 + i % 89}.{i % 100:02d}", f"{prefix}-{i:04d}"))
    return rows


def wait_until(predicate, timeout: float, *, interval: float = 0.01, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
