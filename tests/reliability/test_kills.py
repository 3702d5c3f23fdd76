"""Process kills: `momo` is SIGKILLed at random moments (seeded), alone and under emulator faults,
then the journal is reconciled and the commands are run again. A kill can land before the request is
journaled, after the emulator stored the POST but before its answer came (`--latency` delays every
answer), after the answer, or while `--wait` polls; none of them may lose or double a payment.
"""

from __future__ import annotations

import collections
import json
import random
import time
import uuid

import pytest

from tests.reliability._support import (
    OK_NUMBER,
    PAYEES,
    assert_journal_matches_emulator,
    assert_once_each,
    journal_entries,
    journal_entry,
    momo,
    payout_rows,
    request_log,
    sigkill,
    spawn,
    transactions,
    wait_until,
    write_payouts,
)

pytestmark = [pytest.mark.served, pytest.mark.slow]

LATENCY_MS = 300  # every answer comes this late (the emulator stores a POST first)
#: where a kill lands, in turn
MOMENTS = ("token call", "answer pending", "waiting", "any time")


def _in_emulator(served, reference_id: str) -> bool:
    return any(t["reference_id"] == reference_id for t in transactions(served))


def _kill_at(moment: str, child, served, reference_id: str, rng: random.Random) -> None:
    """Wait for `moment` of the command's life, then SIGKILL it (if it is still running)."""
    def alive_or(predicate):
        return lambda: child.poll() is not None or predicate()

    def entry_submitted() -> bool:
        entry = journal_entry(reference_id)
        return entry is not None and str(entry.state) in ("submitted", "final")

    if moment == "token call":  # it said it uses the emulator, and waits for a token: nothing journaled
        while (line := child.stderr.readline()) and "using the MoMo emulator" not in line:
            pass
        time.sleep(rng.uniform(0, LATENCY_MS / 1500))
    elif moment == "answer pending":  # the emulator stored the POST; its 202 is still on the way
        wait_until(alive_or(lambda: _in_emulator(served, reference_id)), 30, what="the transaction")
    elif moment == "waiting":  # accepted and journaled; --wait polls
        wait_until(alive_or(entry_submitted), 30, what="the 202")
        time.sleep(rng.uniform(0, 0.6))
    else:  # starting, journaling, sending or waiting
        time.sleep(rng.uniform(0.05, 1.5))
    sigkill(child)


def test_sigkill_of_single_transfers_at_random_moments_never_loses_or_doubles_one(served_emulator):
    """Single `momo disburse transfer --wait` processes SIGKILLed before their POST, after it was
    stored but before its answer came, and while waiting, then `momo journal reconcile` (killed once halfway, then run to its end)
    and the same commands again with their `--reference-id`, leave exactly one transaction per
    reference id (and per external id), every entry final, and the journal equal to the emulator
    row by row."""
    # tokens live 1 s, so each command's first request is a token call (answered late, like all)
    served = served_emulator("--latency", str(LATENCY_MS), "--settle-after", "1", "--token-ttl", "1",
                             "--seed", "31", "--quiet")
    rng = random.Random(3101)
    payees = [OK_NUMBER, OK_NUMBER, "46733123451", OK_NUMBER]
    commands = []
    landed = collections.Counter()
    for k in range(8):
        reference_id = str(uuid.uuid4())
        payee = payees[k % len(payees)]
        args = ("disburse", "transfer", "--payee", payee, "--amount", f"{k + 3}.25", "--external-id",
                f"killed-{k}", "--reference-id", reference_id, "--wait", "--interval", "0.2", "--timeout", "20",
                "--yes", "--json")
        commands.append((reference_id, payee, args))
        moment = MOMENTS[k % len(MOMENTS)]
        child = spawn(*args, base_url=served.url)
        _kill_at(moment, child, served, reference_id, rng)
        entry = journal_entry(reference_id)
        if not _in_emulator(served, reference_id):
            landed["before the POST arrived"] += 1
        elif str(entry.state) in ("created", "unknown"):
            landed["stored, its answer lost"] += 1
        else:
            landed["after the answer"] += 1
        # never two transactions for one reference id, whatever the moment
        assert_once_each(transactions(served))
    assert len(landed) == 3, f"the kills should land at each kind of moment: {dict(landed)}"

    # reconcile itself is killed halfway (its status checks and resends wait out the latency) ...
    child = spawn("journal", "reconcile", "--json", base_url=served.url)
    time.sleep(rng.uniform(0.8, 1.6))
    assert sigkill(child), "reconcile ended before it could be killed"
    assert_once_each(transactions(served))
    # ... and run again to its end
    reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
    assert reconcile.exit_code == 0, reconcile
    assert reconcile.json()["outcomes"].get("unknown", 0) == 0, reconcile
    assert_once_each(transactions(served))

    for reference_id, payee, args in commands:  # the same command again: resumed, never sent twice
        run = momo(*args, base_url=served.url)
        assert run.exit_code == (0 if PAYEES[payee][0] == "SUCCESSFUL" else 10), run
        assert run.json()["reference_id"] == reference_id
        assert run.json()["status"] == PAYEES[payee][0]

    rows = transactions(served)
    assert sorted(t["reference_id"] for t in rows) == sorted(ref for ref, _, _ in commands)
    assert_once_each(rows, external_ids=[f"killed-{k}" for k in range(8)])
    assert_journal_matches_emulator(journal_entries(), rows)
    print(dict(landed))


def test_sigkill_after_the_post_arrived_and_its_answer_was_lost_never_sends_it_again(served_emulator):
    """When the emulator stores every transfer and drops the connection, and `momo` is SIGKILLed
    while the journal says the outcome is unknown (before its status check), `momo journal reconcile`
    and the same command again find each transfer by its status and never POST it a second time."""
    served = served_emulator("--drop-rate", "1", "--latency", "100", "--seed", "33", "--quiet")
    commands = []
    for k in range(3):
        reference_id = str(uuid.uuid4())
        args = ("disburse", "transfer", "--payee", OK_NUMBER, "--amount", f"{k + 1}.5", "--external-id",
                f"lost-{k}", "--reference-id", reference_id, "--yes", "--json")
        commands.append((reference_id, args))
        child = spawn(*args, base_url=served.url)

        def unknown() -> bool:
            entry = journal_entry(reference_id)
            return child.poll() is not None or (entry is not None and str(entry.state) == "unknown")

        wait_until(unknown, 30, what="an unknown outcome")
        assert sigkill(child), "the command ended before it could be killed"
        assert str(journal_entry(reference_id).state) == "unknown"
        assert _in_emulator(served, reference_id)

    def transfer_posts() -> int:
        return sum(r["method"] == "POST" and r["path"] == "/disbursement/v1_0/transfer" for r in request_log(served))

    assert transfer_posts() == 3
    reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
    assert reconcile.exit_code == 0, reconcile
    assert reconcile.json()["outcomes"] == {"successful": 3}, reconcile
    for reference_id, args in commands:
        run = momo(*args, base_url=served.url)
        assert run.exit_code == 0, run
        assert (run.json()["reference_id"], run.json()["status"]) == (reference_id, "SUCCESSFUL")
    assert transfer_posts() == 3, "an arrived transfer was sent again"
    rows = transactions(served)
    assert_once_each(rows, external_ids=[f"lost-{k}" for k in range(3)])
    assert_journal_matches_emulator(journal_entries(), rows)


def test_sigkill_of_a_batch_under_drops_and_errors_three_times_then_resume_pays_every_row_once(
        tmp_path, served_emulator):
    """A batch run against an emulator that drops 20% and fails 10% of its POSTs after storing them,
    SIGKILLed at three random moments with requests in flight, then `momo journal reconcile`, then
    the same command again: every row is paid exactly once with its test number's outcome, the
    journal equals the emulator row by row, and the report shows every row final."""
    served = served_emulator("--drop-rate", "0.2", "--error-rate", "0.1", "--latency", "30", "--seed", "32",
                             "--quiet")
    rows = payout_rows(120, "resume", failing_every=15)
    path = write_payouts(tmp_path / "payouts.csv", rows)
    rng = random.Random(3202)
    args = ("disburse", "batch", path, "--yes", "--json", "--poll-interval", "0.2")
    in_flight = []
    for _ in range(3):
        target = rng.randint(4, 40)  # NDJSON lines: validated, run, start, phase, then rows moving
        child = spawn(*args, base_url=served.url)
        seen = 0
        while seen < target:
            line = child.stdout.readline()
            if not line:
                break
            json.loads(line)
            seen += 1
        assert sigkill(child), f"the run ended before line {target}"
        entries = [e for e in journal_entries().values() if e.run_id is not None]
        in_flight.append(sum(str(e.state) == "unknown" or (str(e.state) == "created" and e.attempts > 0)
                             for e in entries))
        assert_once_each(transactions(served))
    assert any(in_flight), f"no kill landed with a request in flight: {in_flight}"

    # reconcile settles the rows the kills left in flight (sending again, once, what never arrived)
    # and leaves the rows never sent to the batch ...
    reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
    assert reconcile.exit_code == 0, reconcile
    assert reconcile.json()["outcomes"].get("unknown", 0) == 0, reconcile
    assert reconcile.json()["not_sent"] > 0, reconcile
    # ... and the batch resumes from there: nothing it already paid is paid again
    report = tmp_path / "report.json"
    final = momo(*args, "--report", report, base_url=served.url)
    assert final.exit_code == 10, final  # the rows of failing test numbers
    summary = final.events()[-1]
    failing = sum(PAYEES[p][0] != "SUCCESSFUL" for p, _, _ in rows)
    assert (summary["successful"], summary["failed"], summary["rejected"], summary["unknown"]) == (
        len(rows) - failing, failing, 0, 0), summary

    emulator = transactions(served)
    assert len(emulator) == len(rows)
    assert_once_each(emulator, external_ids=[ext for _, _, ext in rows])
    assert_journal_matches_emulator(journal_entries(), emulator)
    by_external = {t["external_id"]: t for t in emulator}
    for payee, _, external_id in rows:
        assert (by_external[external_id]["status"], by_external[external_id]["reason"]) == PAYEES[payee]
    doc = json.loads(report.read_text())
    assert len(doc["rows"]) == len(rows)
    assert {r["state"] for r in doc["rows"]} == {"final"}
    posts = [r for r in request_log(served) if r["method"] == "POST" and r["path"].endswith("/transfer")]
    assert any(r["status"] == 0 for r in posts) and any(r["status"] == 500 for r in posts)
    print(f"rows in flight at each kill: {in_flight}")
