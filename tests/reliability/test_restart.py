"""Reconcile after the emulator itself died: `momo sandbox serve` is SIGKILLed while transfers and
requests to pay are on their way, then a new server starts on the same port and database."""

from __future__ import annotations

import collections
import time
import uuid

import pytest

from tests.reliability._support import (
    OK_NUMBER,
    assert_journal_matches_emulator,
    assert_once_each,
    crash,
    creating_posts,
    journal_entries,
    momo,
    request_log,
    spawn,
    statuses,
    transactions,
    wait_until,
)

pytestmark = [pytest.mark.served, pytest.mark.slow]

COUNT = 10


def _after(log: list[dict], moment: float) -> list[dict]:
    from datetime import datetime, timezone

    stamp = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return [r for r in log if r["at"] >= stamp]


def test_reconcile_after_an_emulator_crash_and_restart_resolves_every_entry_and_resends_only_what_never_arrived(
        served_emulator, restart_emulator):
    """With the emulator SIGKILLed while commands are sending (one at least stored with its answer
    dropped and not yet checked) and a new one started on the same database, `momo journal
    reconcile` resolves every entry, sends again only the payments the emulator never got (one POST
    each, accepted, no 409), and the journal ends equal to the emulator row by row."""
    served = served_emulator("--latency", "200", "--drop-rate", "0.5", "--seed", "41", "--quiet")
    # a first transfer and request to pay provision the API users and cache their tokens
    for args in (("disburse", "transfer", "--payee"), ("collect", "request", "--payer")):
        run = momo(*args, OK_NUMBER, "--amount", "1", "--external-id", f"first-{args[0]}", "--yes", "--json",
                   base_url=served.url)
        assert run.exit_code == 0, run
    expected = ["first-disburse", "first-collect"]

    def lost_answer() -> bool:
        """A payment the emulator stored whose answer was dropped: its command waits to check it."""
        stored = {t["reference_id"] for t in transactions(served)}
        return any(str(e.state) == "unknown" and ref in stored and ref in children
                   for ref, e in journal_entries().items())

    children: dict = {}
    crashed = False
    for i in range(COUNT):
        reference_id = str(uuid.uuid4())
        command = ("disburse", "transfer", "--payee") if i % 2 else ("collect", "request", "--payer")
        external_id = f"restart-{i:02d}"
        expected.append(external_id)
        children[reference_id] = spawn(*command, OK_NUMBER, "--amount", f"{i + 10}.75", "--external-id",
                                       external_id, "--reference-id", reference_id, "--yes", "--json",
                                       base_url=served.url)
        time.sleep(0.15)  # staggered: some are still starting when the emulator dies
        if not crashed and i >= 3 and lost_answer():
            crash(served)
            crashed = True
    if not crashed:
        wait_until(lost_answer, 30, what="a stored payment whose answer was dropped")
        crash(served)
    for child in children.values():
        child.wait(60)
        assert child.returncode in (0, 6), child.stderr.read()  # accepted, or unknown / not sent
        child.stdout.close()
        child.stderr.close()

    entries = journal_entries()
    states = collections.Counter(str(e.state) for e in entries.values())
    started = time.time()
    # the new server fails and drops resends too: reconcile must settle those by their status
    served = restart_emulator(served, "--error-rate", "0.3", "--drop-rate", "0.3", "--seed", "42", "--quiet")
    arrived = {t["reference_id"] for t in transactions(served)}
    missing = set(entries) - arrived
    unknown_arrived = {ref for ref in arrived if str(entries[ref].state) == "unknown"}
    assert unknown_arrived, f"no stored payment was left with an unknown outcome: {states}"
    assert missing, f"every payment arrived before the crash: {states}"

    # what arrived is found by its status; what never arrived is sent again: accepted (PENDING), or
    # its answer lost and its status read
    reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
    assert reconcile.exit_code == 0, reconcile
    outcomes = reconcile.json()["outcomes"]
    assert set(outcomes) <= {"successful", "pending"}, reconcile
    assert sum(outcomes.values()) == len(entries) - states["final"], reconcile
    resent = {d["reference_id"] for d in reconcile.json()["entries"] if d["outcome"] == "pending"}
    assert resent <= missing, reconcile
    # and a second reconcile reads the final status of those still PENDING
    again = momo("journal", "reconcile", "--json", base_url=served.url)
    assert again.exit_code == 0, again
    assert again.json()["outcomes"] == ({"successful": len(resent)} if resent else {}), again

    rows = transactions(served)
    assert_once_each(rows, external_ids=expected)
    assert_journal_matches_emulator(journal_entries(), rows)
    posts = creating_posts(_after(request_log(served), started), "disbursement") + creating_posts(
        _after(request_log(served), started), "collection")
    # one POST for each payment that never arrived, and none for one that did (that would be a 409)
    assert len(posts) == len(missing), (len(posts), len(missing))
    assert set(statuses(posts)) <= {202, 500, 0}, statuses(posts)
    print(f"journal at the crash: {dict(states)}; {len(arrived)} arrived ({len(unknown_arrived)} unknown), "
          f"{len(missing)} sent again")
