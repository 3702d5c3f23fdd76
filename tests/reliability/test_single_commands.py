"""Single money commands under faults: every fault of the served emulator alone, then all together.

Each case issues transfers and requests to pay through the real CLI (`momo --base-url URL disburse
transfer ... --yes --json`, half of them with `--wait`), one by one, then `momo journal reconcile`,
and checks the emulator's `/_sandbox/transactions` against the commands and the journal.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.reliability._support import (
    OK_NUMBER,
    PAYEES,
    PAYERS,
    assert_journal_matches_emulator,
    assert_once_each,
    creating_posts,
    journal_entries,
    momo,
    request_log,
    spawn,
    statuses,
    transactions,
)

pytestmark = [pytest.mark.served, pytest.mark.slow]

#: commands of each kind per case
COUNT = 12

FAULTS = {
    "error-rate": ("--error-rate", "0.4", "--seed", "101"),
    "drop-rate": ("--drop-rate", "0.4", "--seed", "102"),
    "rate-limit": ("--rate-limit", "5", "--seed", "103"),
    "latency": ("--latency", "150", "--seed", "104"),
    "combined": ("--error-rate", "0.25", "--drop-rate", "0.25", "--rate-limit", "8", "--latency", "40",
                 "--seed", "105"),
}


def _fault_was_met(case: str, log: list[dict]) -> None:
    """The fault of the case really happened to the commands' requests."""
    posts = creating_posts(log, "disbursement") + creating_posts(log, "collection")
    api = [r for r in log if not r["path"].startswith("/v1_0/apiuser")]
    seen = statuses(log)
    if case in ("error-rate", "combined"):
        assert any(r["status"] == 500 for r in posts), statuses(posts)
    if case in ("drop-rate", "combined"):
        assert any(r["status"] == 0 for r in posts), statuses(posts)
    if case in ("rate-limit", "combined"):
        assert seen[429] > 0, seen
    if case in ("latency", "combined"):  # every answer is late (a dropped connection gets none)
        floor = 150 if case == "latency" else 40
        assert min(r["ms"] for r in api if r["status"] != 0) >= floor * 0.95


@pytest.mark.parametrize("case", list(FAULTS))
def test_single_transfers_and_collections_under_faults_are_each_paid_exactly_once(case, served_emulator):
    """Under each fault alone and all together, N transfers and N requests to pay sent one by one
    through the CLI, then `momo journal reconcile`, leave exactly 2N transactions in the emulator, none
    twice by reference id or by external id, each with the outcome of its test number, and the
    journal equal to the emulator row by row."""
    served = served_emulator(*FAULTS[case], "--quiet")
    payees, payers = list(PAYEES), list(PAYERS)
    expected: dict[str, tuple[str, str | None]] = {}
    said: dict[str, dict] = {}  # external id -> what the command printed (exit 0/10)
    exit_codes: dict[str, int] = {}
    for i in range(COUNT):
        wait = ("--wait", "--interval", "0.1", "--timeout", "30") if i % 2 else ()
        payee, payer = payees[i % len(payees)], payers[i % len(payers)]
        commands = [
            (f"{case}-t-{i:02d}", payee, PAYEES[payee],
             ("disburse", "transfer", "--payee", payee, "--amount", f"{i + 1}.{i * 7 % 100:02d}")),
            (f"{case}-c-{i:02d}", payer, PAYERS[payer],
             ("collect", "request", "--payer", payer, "--amount", f"{i + 2}0.{i:02d}")),
        ]
        for external_id, _, outcome, args in commands:
            run = momo(*args, "--external-id", external_id, *wait, "--yes", "--json", base_url=served.url)
            # 0 accepted or successful, 10 final and failed (with --wait), 6 unknown for reconcile;
            # never a rejection (5), an auth failure (4) or a crash (1) because of a fault
            assert run.exit_code in (0, 6, 10), run
            expected[external_id] = outcome
            exit_codes[external_id] = run.exit_code
            if run.exit_code != 6:
                said[external_id] = run.json()
                if wait:
                    assert run.exit_code == (0 if outcome[0] == "SUCCESSFUL" else 10), run

    _fault_was_met(case, request_log(served))
    reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
    assert reconcile.exit_code == 0, reconcile
    assert reconcile.json()["outcomes"].get("unknown", 0) == 0, reconcile

    rows = transactions(served)
    assert len(rows) == 2 * COUNT
    assert_once_each(rows, external_ids=expected)
    assert sum(r["operation"] == "transfer" for r in rows) == COUNT
    assert sum(r["operation"] == "request_to_pay" for r in rows) == COUNT
    entries = journal_entries()
    assert_journal_matches_emulator(entries, rows)
    by_external = {r["external_id"]: r for r in rows}
    for external_id, (status, reason) in expected.items():
        row = by_external[external_id]
        assert (row["status"], row["reason"]) == (status, reason), row
        if external_id in said:  # what the command printed is that transaction
            doc = said[external_id]
            assert (doc["reference_id"], doc["external_id"], doc["amount"]) == (
                row["reference_id"], external_id, row["amount"])
            if doc["state"] == "final":
                assert (doc["status"], doc["reason"]) == (status, reason), doc


def test_many_processes_at_once_against_a_tight_rate_limit_lose_no_payment(served_emulator):
    """Six `momo disburse transfer` processes started together against an emulator that allows 2
    requests a second and whose tokens live 1 s each either pay or exit 6 with their request
    journaled (never exit 6 with nothing journaled), and `momo journal reconcile` then pays every
    one of them exactly once."""
    served = served_emulator("--rate-limit", "2", "--token-ttl", "1", "--seed", "106", "--quiet")
    first = momo("disburse", "transfer", "--payee", OK_NUMBER, "--amount", "1", "--external-id", "crowd-first",
                 "--yes", "--json", base_url=served.url)  # provisions the API user
    assert first.exit_code == 0, first
    time.sleep(1.0)  # its token is stale: every process needs a token call
    children = {f"crowd-{i}": spawn("disburse", "transfer", "--payee", OK_NUMBER, "--amount", f"{i + 2}.5",
                                    "--external-id", f"crowd-{i}", "--yes", "--json", base_url=served.url)
                for i in range(6)}
    for external_id, child in children.items():
        _, stderr = child.communicate(timeout=120)
        assert child.returncode in (0, 6), stderr
        if child.returncode == 6:  # the request is in the journal, for reconcile
            named = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", stderr)
            entries = journal_entries()
            assert named and named[0] in entries, stderr
            assert entries[named[0]].external_id == external_id
    assert statuses(request_log(served))[429] > 0

    # reconcile sends what never arrived (accepted: PENDING), and a second one reads the outcome
    for _ in range(2):
        reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
        assert reconcile.exit_code == 0, reconcile
        assert reconcile.json()["outcomes"].get("unknown", 0) == 0, reconcile
    rows = transactions(served)
    assert_once_each(rows, external_ids=["crowd-first", *children])
    assert_journal_matches_emulator(journal_entries(), rows)
