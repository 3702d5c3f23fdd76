"""Batch payouts (`momo disburse batch FILE --yes --json`) against a served emulator that fails,
drops, rate-limits, answers slowly and lets its tokens expire within seconds.

Each test reads the emulator's `/_sandbox/transactions` and request log afterwards, the journal and
the run's report, and holds them to the batch's promises: every row paid exactly once, the journal
equal to the emulator row by row, no row failed for a reason the emulator did not give it.
"""

from __future__ import annotations

import collections
import csv
import re
from datetime import datetime

import pytest

from tests.reliability._support import (
    PAYEES,
    assert_journal_matches_emulator,
    assert_once_each,
    canonical,
    creating_posts,
    journal_entries,
    journal_events,
    momo,
    payout_rows,
    request_log,
    statuses,
    token_posts,
    transactions,
    write_payouts,
)

pytestmark = [pytest.mark.served, pytest.mark.slow]

TOKEN_TTL = 2  # seconds: the client renews a token once it is within its margin (half of it here)


def _at(row) -> float:
    return datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def _paid_once_and_journaled(served, rows, report_path) -> dict[str, dict]:
    """The emulator holds exactly one transaction per row, with the outcome of its payee; the journal
    and the report agree with it row by row. Returns the emulator's rows by external id."""
    emulator = transactions(served)
    assert len(emulator) == len(rows)
    assert_once_each(emulator, external_ids=[ext for _, _, ext in rows])
    assert_journal_matches_emulator(journal_entries(), emulator)
    by_external = {t["external_id"]: t for t in emulator}
    for payee, amount, external_id in rows:
        row = by_external[external_id]
        assert (row["party_id"], row["amount"]) == (payee, canonical(amount))
        assert (row["status"], row["reason"]) == PAYEES[payee], row
    with report_path.open() as f:
        report = list(csv.DictReader(f))
    assert len(report) == len(rows)
    for line in report:
        row = by_external[line["external_id"]]
        assert (line["reference_id"], line["state"], line["status"], line["reason"] or None) == (
            row["reference_id"], "final", row["status"], row["reason"]), line
    return by_external


def _no_auth_failure(summary: dict) -> None:
    """No row was refused or stopped for authentication: a 401 never reached the journal."""
    assert summary["error"] is None, summary
    assert summary["rejected"] == 0, summary
    refused = re.compile(r"\b401\b|UNAUTHORIZED|AuthError")  # \b: not inside a reference id
    for ref, events in journal_events().items():
        for event in events:
            assert not refused.search(event.detail or ""), (ref, event)
    for entry in journal_entries().values():
        assert entry.error_type != "AuthError" and entry.error_code != "UNAUTHORIZED", entry


def _expected_counts(rows) -> dict[str, int]:
    successful = sum(PAYEES[payee][0] == "SUCCESSFUL" for payee, _, _ in rows)
    return {"successful": successful, "failed": len(rows) - successful, "rejected": 0, "unknown": 0,
            "pending": 0, "queued": 0}


def test_a_batch_under_errors_drops_a_rate_limit_latency_and_two_second_tokens_pays_every_row_once(
        tmp_path, served_emulator):
    """With 20% of the POSTs answered 500 and 10% dropped after being stored, a 40 requests/s
    limit, 60 ms latency and tokens that expire after 2 s, a batch of 160 rows pays every row exactly
    once with its test number's outcome, renews the token as it goes (several token calls, none per
    request) and fails no row for authentication; journal, report and emulator agree row by row."""
    served = served_emulator("--error-rate", "0.2", "--drop-rate", "0.1", "--rate-limit", "40",
                             "--latency", "60", "--token-ttl", str(TOKEN_TTL), "--seed", "21", "--quiet")
    rows = payout_rows(160, "mixed", failing_every=10)
    path = write_payouts(tmp_path / "payouts.csv", rows)
    report = tmp_path / "report.csv"
    run = momo("disburse", "batch", path, "--yes", "--json", "--report", report, "--poll-interval", "0.2",
               base_url=served.url)
    assert run.exit_code == 10, run  # the rows paying failing test numbers, and nothing else
    summary = run.events()[-1]
    assert summary["event"] == "summary"
    assert {k: summary[k] for k in _expected_counts(rows)} == _expected_counts(rows), summary
    _paid_once_and_journaled(served, rows, report)
    _no_auth_failure(summary)

    log = request_log(served)
    posts = creating_posts(log, "disbursement")
    assert {0, 500, 429} <= set(statuses(posts)), statuses(posts)  # the faults were met
    tokens = [r for r in token_posts(log, "disbursement") if r["status"] == 200]
    elapsed = _at(log[-1]) - _at(tokens[0])
    assert elapsed > 3 * TOKEN_TTL, f"the run ({elapsed:.1f}s) should outlast several tokens"
    # renewed once per token lifetime (at least), and not for every request
    assert elapsed / TOKEN_TTL - 1 <= len(tokens) <= 2 * elapsed + 2, (len(tokens), elapsed)
    assert len(tokens) < len(posts) / 4


def test_a_token_expiring_mid_batch_is_renewed_without_a_failure(tmp_path, served_emulator):
    """With tokens that expire after 2 s and 150 ms per answer, a batch of 100 rows that runs for
    several token lifetimes pays every row once, SUCCESSFUL: each expiring token is replaced (one
    token call per lifetime, not per request) and no row fails or stops for authentication."""
    served = served_emulator("--latency", "150", "--token-ttl", str(TOKEN_TTL), "--seed", "22", "--quiet")
    rows = payout_rows(100, "ttl")
    path = write_payouts(tmp_path / "payouts.csv", rows)
    report = tmp_path / "report.csv"
    run = momo("disburse", "batch", path, "--yes", "--json", "--report", report, "--poll-interval", "0.2",
               base_url=served.url)
    assert run.exit_code == 0, run
    summary = run.events()[-1]
    assert {k: summary[k] for k in _expected_counts(rows)} == _expected_counts(rows), summary
    _paid_once_and_journaled(served, rows, report)
    _no_auth_failure(summary)

    log = request_log(served)
    tokens = token_posts(log, "disbursement")
    assert statuses(tokens) == collections.Counter({200: len(tokens)})
    api = [r for r in log if r["path"].startswith("/disbursement/v1_0/")]
    elapsed = _at(api[-1]) - _at(tokens[0])
    assert elapsed > 2 * TOKEN_TTL, f"the run ({elapsed:.1f}s) should outlast several tokens"
    assert elapsed / TOKEN_TTL - 1 <= len(tokens) <= 2 * elapsed + 2, (len(tokens), elapsed)
    # a 401 (a token that expired on its way) is answered by a new token and the same request again
    refused = [r for r in api if r["status"] == 401]
    assert len(refused) <= len(tokens), refused
    print(f"{len(tokens)} tokens in {elapsed:.1f}s, {len(refused)} requests refused for an expired token")


def test_rate_limit_5_with_concurrency_8_honours_retry_after_and_pays_every_row_once(tmp_path, served_emulator):
    """Against an emulator that allows 5 requests a second, a batch sending 8 at a time (no client
    limit) meets 429s and honours their Retry-After (never more than the limit plus one request per
    slot in any second), pays every row once and fails none."""
    limit, concurrency = 5, 8
    served = served_emulator("--rate-limit", str(limit), "--seed", "23", "--quiet")
    rows = payout_rows(30, "rl")
    path = write_payouts(tmp_path / "payouts.csv", rows)
    report = tmp_path / "report.csv"
    run = momo("disburse", "batch", path, "--yes", "--json", "--report", report, "--concurrency", concurrency,
               "--poll-interval", "0.2", base_url=served.url)
    assert run.exit_code == 0, run
    summary = run.events()[-1]
    assert {k: summary[k] for k in _expected_counts(rows)} == _expected_counts(rows), summary
    _paid_once_and_journaled(served, rows, report)

    log = [r for r in request_log(served) if not r["path"].startswith("/v1_0/apiuser")]
    seen = statuses(log)
    assert seen[429] > 0, seen
    assert set(seen) == {200, 202, 429}, seen
    # honoured: after a 429 a slot waits its Retry-After (1 s), so no second sees more than the
    # limit's answers plus one refused request per slot; a client that retried at once would send
    # hundreds
    stamps = sorted(_at(r) for r in log)
    busiest = max(sum(1 for t in stamps[i:] if t < start + 1.0) for i, start in enumerate(stamps))
    assert busiest <= limit + concurrency + 1, busiest  # + 1: the log's times are cut to milliseconds
