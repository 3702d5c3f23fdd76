"""wait_for_final on a fake clock: back-off, updates, timeout, and the 404 grace right after creation."""

from __future__ import annotations

import pytest

from momo_cli.api.models import TransactionStatus
from momo_cli.api.polling import wait_for_final
from momo_cli.errors import NetworkError, NotFound

from .conftest import FakeClock

pytestmark = pytest.mark.anyio


def status(text, **extra):
    return TransactionStatus.from_api({"status": text, **extra})


def scripted(clock, answers, *, cost=0.0):
    """fetch() giving `answers` in turn (exceptions are raised), each taking `cost` seconds."""
    calls = []

    async def fetch():
        calls.append(clock())
        clock.now += cost
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    fetch.calls = calls
    return fetch


async def test_returns_at_once_when_already_final():
    clock = FakeClock()
    fetch = scripted(clock, [status("SUCCESSFUL")])
    result = await wait_for_final(fetch, interval=2, timeout=60, clock=clock, sleep=clock.sleep)
    assert result.status.status == "SUCCESSFUL" and result.timed_out is False
    assert len(fetch.calls) == 1 and clock.sleeps == []


async def test_polls_with_back_off_until_final_and_reports_each_update():
    clock = FakeClock()
    fetch = scripted(clock, [status("PENDING")] * 4 + [status("FAILED", reason="APPROVAL_REJECTED")])
    updates = []
    final, timed_out = await wait_for_final(
        fetch, interval=1, timeout=60, clock=clock, sleep=clock.sleep,
        on_update=lambda s, elapsed: updates.append((s.status, elapsed)), max_interval=3, backoff=2,
    )
    assert final.status == "FAILED" and final.reason == "APPROVAL_REJECTED" and not timed_out
    assert clock.sleeps == [1, 2, 3, 3]
    assert updates == [("PENDING", 0), ("PENDING", 1), ("PENDING", 3), ("PENDING", 6), ("FAILED", 9)]


async def test_times_out_with_the_last_status_and_polls_once_at_the_deadline():
    clock = FakeClock()
    fetch = scripted(clock, [status("PENDING")])
    result = await wait_for_final(fetch, interval=2, timeout=10, clock=clock, sleep=clock.sleep, max_interval=4, backoff=2)
    assert result.timed_out is True and result.status.status == "PENDING"
    assert sum(clock.sleeps) == 10  # the last wait is cut to the deadline
    assert clock.sleeps == [2, 4, 4]
    assert result.polls == len(fetch.calls) == 4 and result.elapsed == 10


async def test_created_counts_as_not_final():
    clock = FakeClock()
    fetch = scripted(clock, [status("CREATED"), status("PENDING"), status("SUCCESSFUL")])
    result = await wait_for_final(fetch, interval=1, timeout=30, clock=clock, sleep=clock.sleep)
    assert result.status.succeeded and len(fetch.calls) == 3


async def test_a_404_right_after_creation_is_not_visible_yet():
    clock = FakeClock()
    fetch = scripted(clock, [NotFound("no"), NotFound("no"), status("SUCCESSFUL")])
    updates = []
    result = await wait_for_final(
        fetch, interval=1, timeout=30, clock=clock, sleep=clock.sleep, on_update=lambda s, e: updates.append(s)
    )
    assert result.status.succeeded
    assert updates[:2] == [None, None]


async def test_a_404_after_the_grace_period_is_raised():
    clock = FakeClock()
    fetch = scripted(clock, [NotFound("never arrived")])
    with pytest.raises(NotFound):
        await wait_for_final(fetch, interval=2, timeout=120, clock=clock, sleep=clock.sleep, not_found_grace=5)
    assert clock.now - 1_000_000.0 >= 5


async def test_only_404s_until_the_timeout_return_no_status():
    clock = FakeClock()
    fetch = scripted(clock, [NotFound("no")])
    status_seen, timed_out = await wait_for_final(
        fetch, interval=1, timeout=3, clock=clock, sleep=clock.sleep, not_found_grace=10
    )
    assert status_seen is None and timed_out


async def test_a_fetch_with_no_news_keeps_the_last_status():
    clock = FakeClock()
    fetch = scripted(clock, [status("PENDING", amount="5"), None])
    result = await wait_for_final(fetch, interval=1, timeout=3, clock=clock, sleep=clock.sleep)
    assert result.timed_out and result.status.status == "PENDING"


async def test_other_errors_propagate():
    clock = FakeClock()
    fetch = scripted(clock, [status("PENDING"), NetworkError("down")])
    with pytest.raises(NetworkError):
        await wait_for_final(fetch, interval=1, timeout=30, clock=clock, sleep=clock.sleep)


async def test_slow_fetches_count_against_the_timeout():
    clock = FakeClock()
    fetch = scripted(clock, [status("PENDING")], cost=4)
    result = await wait_for_final(fetch, interval=1, timeout=10, clock=clock, sleep=clock.sleep, backoff=1)
    assert result.timed_out and clock.now - 1_000_000.0 <= 14


async def test_plain_status_strings_work_too():
    clock = FakeClock()
    fetch = scripted(clock, ["PENDING", "SUCCESSFUL"])
    final, timed_out = await wait_for_final(fetch, interval=1, timeout=10, clock=clock, sleep=clock.sleep)
    assert final == "SUCCESSFUL" and not timed_out


async def test_interval_must_be_positive():
    with pytest.raises(ValueError):
        await wait_for_final(lambda: None, interval=0, timeout=1)
