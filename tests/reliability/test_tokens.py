"""Access tokens that expire while single commands run: consecutive commands, commands in separate
processes, and a `--wait` that outlasts several tokens. Counted from the emulator's request log."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.reliability._support import (
    OK_NUMBER,
    journal_entries,
    momo,
    request_log,
    run_process,
    statuses,
    token_posts,
    transactions,
)

pytestmark = [pytest.mark.served, pytest.mark.slow]


def _at(row) -> float:
    return datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def test_consecutive_commands_renew_an_expired_token_once_per_expiry_and_never_fail(served_emulator):
    """With tokens that live 1 s, bursts of transfers and requests to pay separated by pauses longer
    than a token's life all succeed: each burst gets one new token per product when the last one
    expired, no two tokens of a product are fetched while one is still fresh, and commands in a
    burst share theirs (fewer tokens than commands)."""
    ttl = 1.0
    served = served_emulator("--token-ttl", str(int(ttl)), "--seed", "51", "--quiet")
    bursts, per_burst = 4, 3
    commands = 0
    for burst in range(bursts):
        for i in range(per_burst):
            for args in (("disburse", "transfer", "--payee"), ("collect", "request", "--payer")):
                run = momo(*args, OK_NUMBER, "--amount", f"{burst + 1}.{i}", "--external-id",
                           f"tok-{args[0]}-{burst}-{i}", "--yes", "--json", base_url=served.url)
                assert run.exit_code == 0, run
                assert run.json()["outcome"] in ("successful", "pending"), run
        commands += per_burst
        time.sleep(ttl + 0.2)  # the token of this burst expires

    log = request_log(served)
    fresh_for = ttl / 2  # the client renews a token once it is within its margin (half its life here)
    for product in ("disbursement", "collection"):
        tokens = token_posts(log, product)
        assert statuses(tokens) == {200: len(tokens)}, tokens
        # renewed after each expiry: at least one new token per burst ...
        assert len(tokens) >= bursts, (product, len(tokens))
        # ... never while the last one was still fresh, so not one per command
        gaps = [_at(b) - _at(a) for a, b in zip(tokens, tokens[1:])]
        assert min(gaps) >= fresh_for - 0.01, (product, gaps)
        assert len(tokens) < commands, (product, len(tokens), commands)
    assert len(transactions(served)) == 2 * commands
    refused = [r for r in log if r["status"] == 401]
    print(f"tokens: {len(token_posts(log, 'disbursement'))} + {len(token_posts(log, 'collection'))} for "
          f"{2 * commands} commands; {len(refused)} requests refused with an expired token (and retried)")


def test_commands_in_separate_processes_share_one_token(served_emulator):
    """Four `momo disburse transfer` processes in a row fetch one token between them: the token
    cache on disk outlives each process."""
    served = served_emulator("--seed", "52", "--quiet")
    for i in range(4):
        run = run_process("disburse", "transfer", "--payee", OK_NUMBER, "--amount", f"{i + 1}", "--external-id",
                          f"proc-{i}", "--yes", "--json", base_url=served.url)
        assert run.exit_code == 0, run
    assert len(token_posts(request_log(served), "disbursement")) == 1
    assert len(transactions(served)) == 4


def test_a_wait_that_outlasts_several_tokens_renews_them_and_ends_successful(served_emulator):
    """A `--wait` of about 3 s on an emulator whose tokens live 1 s polls with fresh tokens, one per
    token life at most, and ends SUCCESSFUL (exit 0) with the journal final."""
    served = served_emulator("--token-ttl", "1", "--settle-after", "3", "--seed", "53", "--quiet")
    run = momo("disburse", "transfer", "--payee", OK_NUMBER, "--amount", "42", "--external-id", "long-wait",
               "--wait", "--interval", "0.2", "--timeout", "20", "--yes", "--json", base_url=served.url)
    assert run.exit_code == 0, run
    doc = run.json()
    assert (doc["status"], doc["state"]) == ("SUCCESSFUL", "final")
    (entry,) = journal_entries().values()
    (row,) = transactions(served)
    assert (entry.reference_id, entry.status, str(entry.state)) == (row["reference_id"], "SUCCESSFUL", "final")

    log = request_log(served)
    tokens = token_posts(log, "disbursement")
    polls = [r for r in log if r["method"] == "GET" and r["path"].startswith("/disbursement/v1_0/transfer/")]
    assert statuses(tokens) == {200: len(tokens)}
    assert len(tokens) >= 3, (len(tokens), polls)  # the wait outlived several tokens
    assert len(tokens) <= len(polls) + 1  # and fetched at most one per request that needed one
    gaps = [_at(b) - _at(a) for a, b in zip(tokens, tokens[1:])]
    assert min(gaps) >= 0.5 - 0.01, gaps
