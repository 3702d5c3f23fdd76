"""Product faults the reliability suite found, each pinned by a small, fast test."""

from __future__ import annotations

import asyncio

import httpx
import respx

BASE = "https://sandbox.momodeveloper.mtn.com"
API_KEY = "f1db798c98df4bcf83b538175893bbf0"
RATE_LIMITED = {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_provisioning_waits_out_a_429_and_asks_again():
    """A 429 on a provisioning call (which a money command makes on an emulator before journaling
    anything) is asked again after its Retry-After instead of failing the command with exit 6 and
    nothing journaled: found by the single commands at `--rate-limit 5`."""
    from momo_cli.api.provisioning import provision_sandbox_user

    sleeps = Sleeps()
    with respx.mock(base_url=BASE, assert_all_mocked=True) as router:
        create = router.post("/v1_0/apiuser").mock(side_effect=[
            httpx.Response(429, json=RATE_LIMITED, headers={"Retry-After": "2"}),
            httpx.Response(201),
        ])
        router.get(url__regex=r"/v1_0/apiuser/[0-9a-f-]+$").respond(
            200, json={"providerCallbackHost": "127.0.0.1", "targetEnvironment": "sandbox"})
        key = router.post(url__regex=r"/v1_0/apiuser/[0-9a-f-]+/apikey$").mock(side_effect=[
            httpx.Response(429, json=RATE_LIMITED),  # no Retry-After: the message's "1 seconds"
            httpx.Response(201, json={"apiKey": API_KEY}),
        ])
        user = asyncio.run(provision_sandbox_user(BASE, "subscription-key", "127.0.0.1", sleep=sleeps))
    assert user.api_key == API_KEY
    assert sleeps.calls == [2.0, 1.0]
    ids = {call.request.headers["X-Reference-Id"] for call in create.calls}
    assert ids == {user.user_id}, "asked again with the same user id"
    assert key.call_count == 2


def test_provisioning_gives_up_on_a_429_that_does_not_end():
    """A 429 that keeps coming is reported after a few tries (the request was not processed)."""
    import pytest

    from momo_cli.api.provisioning import RATE_LIMIT_RETRIES, provision_sandbox_user
    from momo_cli.errors import RateLimited

    sleeps = Sleeps()
    with respx.mock(base_url=BASE, assert_all_mocked=True) as router:
        create = router.post("/v1_0/apiuser").respond(429, json=RATE_LIMITED, headers={"Retry-After": "1"})
        with pytest.raises(RateLimited):
            asyncio.run(provision_sandbox_user(BASE, "subscription-key", "127.0.0.1", sleep=sleeps))
    assert create.call_count == RATE_LIMIT_RETRIES + 1
    assert sleeps.calls == [1.0] * RATE_LIMIT_RETRIES


def test_a_money_command_on_a_rate_limited_emulator_provisions_its_user_and_pays(served_emulator):
    """On an emulator that allows 2 requests a second, the first money command (which provisions an
    API user in three requests, fetches a token, then pays) ends successful and journaled."""
    from tests.reliability._support import OK_NUMBER, journal_entries, momo, transactions

    served = served_emulator("--rate-limit", "2", "--quiet")
    run = momo("disburse", "transfer", "--payee", OK_NUMBER, "--amount", "5", "--external-id", "first",
               "--yes", "--json", base_url=served.url)
    assert run.exit_code == 0, run
    assert [t["external_id"] for t in transactions(served)] == ["first"]
    assert list(journal_entries()) == [run.json()["reference_id"]]


def test_a_rate_limited_token_check_on_an_emulator_does_not_stop_the_command_before_journaling(
        served_emulator, monkeypatch):
    """On an emulator, a money command first checks that its self-provisioned API user still gets a
    token; when that token call is answered 429 (the emulator busy with other processes), the
    command goes on, journals the request and pays it, instead of exiting 6 with nothing journaled
    (`momo journal reconcile` could then not know it): found with 14 processes at `--rate-limit 2`."""
    from momo_cli.api.client import MomoClient
    from momo_cli.errors import RateLimited
    from tests.reliability._support import OK_NUMBER, journal_entries, momo, transactions

    served = served_emulator("--quiet")

    async def busy(self, product, *, refresh=False):
        raise RateLimited(f"{product} access token: too many requests (429)", retry_after=1)

    monkeypatch.setattr(MomoClient, "ensure_token", busy)
    run = momo("disburse", "transfer", "--payee", OK_NUMBER, "--amount", "5", "--external-id", "busy",
               "--yes", "--json", base_url=served.url)
    assert run.exit_code == 0, run
    assert [t["external_id"] for t in transactions(served)] == ["busy"]
    assert list(journal_entries()) == [run.json()["reference_id"]]


def test_reconcile_with_a_request_that_was_never_sent_says_so_and_succeeds(served_emulator, monkeypatch):
    """A request journaled but never sent (its command was killed before the POST, or a batch run
    stopped after loading its rows) is left to its command by `momo journal reconcile`, which says
    so and exits 0, instead of calling it an unknown outcome (exit 6, "run it again when the API
    answers": it never would); the command run again sends it once. Found by killing batches."""
    import uuid

    from momo_cli.journal import sender
    from tests.reliability._support import OK_NUMBER, journal_entry, momo, request_log, transactions

    served = served_emulator("--quiet")
    paid = momo("disburse", "transfer", "--payee", OK_NUMBER, "--amount", "3", "--external-id", "paid",
                "--yes", "--json", base_url=served.url)
    assert paid.exit_code == 0, paid
    reference_id = str(uuid.uuid4())
    args = ("disburse", "transfer", "--payee", OK_NUMBER, "--amount", "4", "--external-id", "never-sent",
            "--reference-id", reference_id, "--yes", "--json")

    async def stopped(*_args, **_kwargs):  # the process stops right after journaling, before the POST
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(sender, "submit", stopped)
        assert momo(*args, base_url=served.url).exit_code == 130
    entry = journal_entry(reference_id)
    assert (str(entry.state), entry.attempts) == ("created", 0)

    posts = len(request_log(served))
    reconcile = momo("journal", "reconcile", "--json", base_url=served.url)
    assert reconcile.exit_code == 0, reconcile
    doc = reconcile.json()
    assert doc["not_sent"] == 1 and doc["outcomes"].get("unknown", 0) == 0, doc
    assert reference_id not in {d["reference_id"] for d in doc["entries"]}
    assert "never sent" in reconcile.stderr and reference_id in reconcile.stderr
    assert [r for r in request_log(served)[posts:] if r["method"] == "POST"] == []  # nothing sent
    run = momo(*args, base_url=served.url)
    assert run.exit_code == 0, run
    assert sorted(t["external_id"] for t in transactions(served)) == ["never-sent", "paid"]
