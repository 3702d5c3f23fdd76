"""The batch engine: concurrency, rate limit, 429s, resume after a crash, progress events."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from momo_cli.exitcodes import ExitCode
from momo_cli.journal.batch import TokenBucket, run_batch
from momo_cli.journal.sender import SendPolicy
from momo_cli.journal.store import Journal, RunRow, State
from tests.journal.fakes import Crash, FakeClock, FakeMomo, random_chooser

FAST = SendPolicy(max_tries=6, backoff=0.0)


def make_run(journal, n=20, file_hash="hash-1"):
    rows = (RunRow(i, f"4673312{i:04d}", "10", "EUR", f"ext-{i}") for i in range(2, n + 2))
    return journal.create_or_resume_run("pay.csv", file_hash, "transfer", {"concurrency": 4}, rows=rows,
                                        base_url="local", target_environment="sandbox")


def batch(journal, momo, run, **kwargs):
    if "clock" not in kwargs:  # waits (Retry-After, poll intervals) pass on a fake clock
        clock = FakeClock()
        kwargs["clock"], kwargs["sleep"] = clock, clock.sleep
    kwargs.setdefault("policy", FAST)
    kwargs.setdefault("poll_interval", 0.0)
    return asyncio.run(run_batch(journal, momo, run, **kwargs))


def refs_of(journal, run):
    return [e.reference_id for e in journal.iter_run_entries(run.id)]


def test_a_clean_run_pays_every_row_once_and_polls_to_final(journal):
    momo = FakeMomo(settle_after=2,
                    final_status=lambda body: "FAILED" if body["externalId"] == "ext-5" else "SUCCESSFUL")
    run = make_run(journal, 20)
    events = []
    result = batch(journal, momo, run, concurrency=4, on_progress=events.append)
    assert result.counts == {"queued": 0, "unknown": 0, "pending": 0, "successful": 19, "failed": 1,
                             "rejected": 0}
    assert result.exit_code == ExitCode.FAILED and not result.timed_out and result.error is None
    assert sorted(momo.transactions) == sorted(refs_of(journal, run))
    assert all(momo.posts(ref) == ["202"] for ref in momo.transactions)
    # fresh rows go out without a status GET first
    assert all(momo.requests_for(ref)[0] == ("POST", "202") for ref in momo.transactions)
    assert events[0].event == "start" and events[-1].event == "done"
    assert [e.phase for e in events if e.event == "phase"] == ["send", "poll"]
    last = events[-1]
    assert (last.total, last.sent, last.successful, last.failed, last.pending) == (20, 20, 19, 1, 0)
    assert result.requests == len(momo.log)
    rows = [e for e in events if e.event == "row"]
    assert {e.row.line_no for e in rows} == set(range(2, 22))
    json.dumps([e.to_dict() for e in events])
    assert json.loads(json.dumps(result.to_dict()))["exit_code"] == 10


def test_all_successful_exits_0_and_poll_false_stops_after_sending(journal):
    momo = FakeMomo()
    run = make_run(journal, 5)
    sent = batch(journal, momo, run, poll=False)
    assert sent.counts["pending"] == 5 and sent.exit_code == ExitCode.PENDING
    assert [m for m, *_ in momo.log] == ["POST"] * 5
    done = batch(journal, momo, run)
    assert done.counts["successful"] == 5 and done.exit_code == ExitCode.OK
    assert [m for m, *_ in momo.log].count("POST") == 5, "accepted rows are not sent again"


def test_concurrency_limit_is_respected(journal):
    momo = FakeMomo(latency=0.005)
    run = make_run(journal, 30)
    batch(journal, momo, run, concurrency=5, poll=False)
    assert momo.max_in_flight == 5
    momo2 = FakeMomo(latency=0.005)
    run2 = make_run(journal, 10, file_hash="hash-2")
    batch(journal, momo2, run2, concurrency=1)
    assert momo2.max_in_flight == 1


def test_rate_limit_spaces_requests_on_a_fake_clock(journal):
    clock = FakeClock()
    momo = FakeMomo(clock=clock)
    run = make_run(journal, 30)
    start = clock.now
    batch(journal, momo, run, concurrency=8, rate_limit=10, burst=2, poll=False, clock=clock,
          sleep=clock.sleep)
    times = [t for *_, t in momo.log]
    assert len(times) == 30
    assert times[-1] - start >= (30 - 2) / 10 - 1e-9
    for i, t in enumerate(times):  # never more than burst + rate * window in any window
        in_window = sum(1 for u in times[i:] if u < t + 1.0)
        assert in_window <= 2 + 10, (t, in_window)


def test_token_bucket_unlimited_and_paused():
    clock = FakeClock()

    async def scenario():
        bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
        for _ in range(100):
            await bucket.acquire()
        assert clock.now == 1000.0
        bucket.pause(5)
        await bucket.acquire()
        assert clock.now == 1005.0

    asyncio.run(scenario())
    with pytest.raises(ValueError):
        TokenBucket(-1)


def test_429_pauses_every_request_for_retry_after(journal):
    clock = FakeClock()
    momo = FakeMomo(clock=clock, retry_after=3, latency=0)
    run = make_run(journal, 20)
    momo.next("POST", "accept", "accept", "accept", "accept", "429")
    result = batch(journal, momo, run, concurrency=4, poll=False, clock=clock, sleep=clock.sleep)
    assert result.counts["pending"] == 20
    [(index, at)] = [(i, t) for i, (_, _, o, t) in enumerate(momo.log) if o == "429"]
    later = [t for *_, t in momo.log[index + 1:]]
    assert later and min(later) >= at + 3
    limited = next(ref for _, ref, o, _ in momo.log if o == "429")
    assert momo.posts(limited) == ["429", "202"]


def test_same_file_again_resumes_and_sends_nothing_twice(journal, journal_file):
    momo = FakeMomo(settle_after=1)
    run = make_run(journal, 15)
    momo.next("POST", *["accept"] * 6, "crash_after")  # the process dies on the 7th row
    with pytest.raises(Crash):
        batch(journal, momo, run, concurrency=3)
    journal.close()

    with Journal(journal_file) as fresh:
        again = make_run(fresh, 15)  # the same file: the same run
        assert again.id == run.id and again.resumed
        result = batch(fresh, momo, again, concurrency=3)
        assert result.counts["successful"] == 15 and result.exit_code == ExitCode.OK
        refs = refs_of(fresh, again)
    assert sorted(momo.transactions) == sorted(refs)
    for ref in refs:
        posts = momo.posts(ref)
        assert posts in (["202"], ["crash_after"]), posts
        if posts == ["crash_after"]:
            assert momo.requests_for(ref)[1] == ("GET", "200"), "resolved by a status GET, not resent"
    momo.assert_no_blind_resend()


def test_rows_left_created_with_an_attempt_are_asked_about_first(journal):
    """A kill between counting the attempt and the POST: some of those may have left, some not."""
    momo = FakeMomo()
    run = make_run(journal, 6)
    entries = list(journal.iter_run_entries(run.id))
    for entry in entries[:4]:
        journal.begin_attempt(entry.reference_id)
    asyncio.run(momo.create_transaction(type("Op", (), {"product": "disbursement", "name": "transfer"}),
                                        entries[0].reference_id, entries[0].body))
    momo.log.clear()
    result = batch(journal, momo, run)
    assert result.counts["successful"] == 6
    assert momo.requests_for(entries[0].reference_id)[0] == ("GET", "200")
    assert momo.requests_for(entries[1].reference_id)[:2] == [("GET", "404"), ("POST", "202")]
    assert momo.requests_for(entries[5].reference_id)[0] == ("POST", "202")
    assert len(momo.transactions) == 6


def test_auth_error_stops_the_run_and_it_resumes_later(journal):
    momo = FakeMomo()
    run = make_run(journal, 12)
    momo.next("POST", "accept", "accept", "auth", *["auth"] * 20)
    result = batch(journal, momo, run, concurrency=2)
    assert result.error is not None and result.exit_code == ExitCode.AUTH
    assert result.counts["rejected"] == 0, "an auth failure rejects no row"
    assert len(momo.log) < 12
    momo.queue["POST"].clear()
    again = batch(journal, momo, run, concurrency=2)
    assert again.counts["successful"] == 12 and again.error is None
    momo.assert_no_blind_resend()
    assert len(momo.transactions) == 12


def test_rejected_rows_are_reported_and_not_resent(journal):
    momo = FakeMomo()
    run = make_run(journal, 5)
    entries = list(journal.iter_run_entries(run.id))
    momo.plan("POST", entries[2].reference_id, "reject")
    result = batch(journal, momo, run)
    assert result.counts["rejected"] == 1 and result.counts["successful"] == 4
    assert result.exit_code == ExitCode.FAILED
    batch(journal, momo, run)
    assert momo.posts(entries[2].reference_id) == ["reject"]


def test_a_run_must_exist_and_have_its_rows(journal):
    from momo_cli.errors import UsageError

    empty = journal.create_or_resume_run("pay.csv", "not-loaded", "transfer", {})
    with pytest.raises(UsageError, match="no rows"):
        batch(journal, FakeMomo(), empty)
    with pytest.raises(UsageError, match="no batch run"):
        batch(journal, FakeMomo(), 999)


def test_polling_gives_up_at_poll_timeout(journal):
    clock = FakeClock()
    momo = FakeMomo(settle_after=10_000, clock=clock)
    run = make_run(journal, 4)
    result = batch(journal, momo, run, poll_interval=5, poll_timeout=60, clock=clock, sleep=clock.sleep)
    assert result.timed_out and result.counts["pending"] == 4 and result.exit_code == ExitCode.PENDING
    assert 60 <= clock.now - 1000 <= 70


def test_unknown_outcomes_are_finished_in_the_polling_rounds(journal):
    momo = FakeMomo()
    run = make_run(journal, 6)
    entries = list(journal.iter_run_entries(run.id))
    momo.plan("POST", entries[0].reference_id, "error_before")
    momo.plan("GET", entries[0].reference_id, *["error"] * 5)
    result = batch(journal, momo, run, policy=SendPolicy(max_tries=3, backoff=0))
    assert result.counts["successful"] == 6
    assert momo.posts(entries[0].reference_id) == ["error_before", "202"]


@pytest.mark.parametrize("seed", range(8))
def test_exactly_once_per_row_under_random_faults_and_crashes(journal_file, seed):
    rng = random.Random(1000 + seed)
    momo = FakeMomo(settle_after=rng.randint(0, 2))
    momo.chooser = random_chooser(rng)
    journal = Journal(journal_file)
    run = make_run(journal, 40)
    refs = refs_of(journal, run)
    for _ in range(30):
        try:
            result = batch(journal, momo, run, concurrency=rng.randint(1, 6),
                           policy=SendPolicy(max_tries=rng.randint(1, 5), backoff=0), poll_timeout=0)
        except Crash:
            journal.close()
            journal = Journal(journal_file)
            run = make_run(journal, 40)
            continue
        if result.counts["successful"] == 40:
            break
    momo.chooser = None
    result = batch(journal, momo, run)
    assert result.counts["successful"] == 40
    assert sorted(momo.transactions) == sorted(refs)
    momo.assert_no_blind_resend()
    assert {e.state for e in journal.iter_run_entries(run.id)} == {State.FINAL}
    journal.close()


_CHILD = """
import asyncio, sys
from momo_cli.journal.batch import run_batch
from momo_cli.journal.store import Journal, RunRow
from tests.journal.fakes import FileMomo

journal = Journal(sys.argv[1])
momo = FileMomo(sys.argv[2], latency=0.004)
rows = (RunRow(i, f"4673312{i:04d}", "10", "EUR", f"ext-{i}") for i in range(2, 62))
run = journal.create_or_resume_run("pay.csv", "killed", "transfer", {}, rows=rows)
asyncio.run(run_batch(journal, momo, run, concurrency=4, poll_interval=0.01))
"""


def test_sigkill_at_random_moments_then_resume_pays_each_row_once(tmp_path, journal_file):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.journal.fakes import FileMomo

    momo_file = tmp_path / "momo.sqlite3"
    momo = FileMomo(momo_file)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    rng = random.Random(7)
    kills = 0
    for target in sorted(rng.sample(range(3, 57), 4)):
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(journal_file), str(momo_file)],
                                 env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while momo.count() < target and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
        assert child.returncode in (0, -signal.SIGKILL), child.stderr.read().decode()
        child.stderr.close()
    assert kills >= 2, "the child finished before it could be killed"

    with Journal(journal_file) as journal:
        [run] = journal.list_runs()
        result = batch(journal, momo, run)
        refs = refs_of(journal, run)
        assert result.counts["successful"] == 60
        states = {e.state for e in journal.iter_run_entries(run.id)}
    assert states == {State.FINAL}
    assert sorted(momo.refs()) == sorted(refs), "exactly one transaction per row"
    momo.assert_no_blind_resend()
