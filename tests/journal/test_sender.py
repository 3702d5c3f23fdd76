"""The exactly-once rules of the sender, against an in-memory MoMo that misbehaves on demand."""

from __future__ import annotations

import asyncio
import random

import pytest

from momo_cli.errors import AuthError, ConfigError, NotFound
from momo_cli.journal.sender import (
    SendPolicy,
    final_outcome,
    reconcile,
    resolve,
    status_fields,
    submit,
    wait,
)
from momo_cli.journal.store import Journal, State
from tests.journal.conftest import new_transfer
from tests.journal.fakes import Crash, FakeClock, FakeMomo, FakeTransaction, no_sleep, random_chooser

FAST = SendPolicy(max_tries=6, backoff=0.01, max_backoff=0.05)


def run(coro):
    return asyncio.run(coro)


def send(journal, momo, ref, **kwargs):
    kwargs.setdefault("policy", FAST)
    kwargs.setdefault("sleep", no_sleep)
    return run(submit(journal, momo, ref, **kwargs))


# -- the row exists before the request ------------------------------------------------------------


def test_the_entry_is_committed_before_the_request_leaves(journal, journal_file):
    momo = FakeMomo()
    seen = []

    def look_from_another_connection(reference_id):
        with Journal(journal_file) as other:
            entry = other.get(reference_id)
        seen.append(entry)

    momo.on_create = look_from_another_connection
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "error_before", "accept")
    momo.plan("GET", entry.reference_id, "ok")  # 404: not there
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.SUBMITTED
    assert [e.state for e in seen] == [State.CREATED, State.UNKNOWN]
    assert [e.attempts for e in seen] == [1, 2], "each attempt is counted before the POST"
    assert seen[0].body == entry.body


def test_202_is_submitted(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    after = send(journal, momo, entry.reference_id)
    assert (after.state, after.status, after.attempts) == (State.SUBMITTED, "PENDING", 1)
    assert momo.requests_for(entry.reference_id) == [("POST", "202")]
    assert momo.transactions[entry.reference_id].body == entry.body


def test_a_fresh_entry_is_sent_without_a_status_get_first(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    send(journal, momo, entry.reference_id)
    assert [m for m, _ in momo.requests_for(entry.reference_id)] == ["POST"]


# -- unknown outcomes -----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["error_after", "drop", "processing_error"])
def test_unknown_outcome_that_arrived_is_found_by_a_status_get_and_not_resent(journal, fault):
    momo = FakeMomo(settle_after=1)
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, fault)
    after = send(journal, momo, entry.reference_id)
    assert (after.state, after.status) == (State.SUBMITTED, "PENDING")
    assert momo.requests_for(entry.reference_id) == [("POST", fault), ("GET", "200")]
    assert len(momo.transactions) == 1
    states = [e.state for e in journal.events(entry.reference_id)]
    assert State.UNKNOWN in states and states[-1] is State.SUBMITTED


@pytest.mark.parametrize("fault", ["error_before", "server_error"])
def test_resend_after_404_uses_the_same_reference_id(journal, fault):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, fault)
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.SUBMITTED and after.attempts == 2
    assert momo.requests_for(entry.reference_id) == [("POST", fault), ("GET", "404"), ("POST", "202")]
    assert list(momo.transactions) == [entry.reference_id]
    details = [e.detail for e in journal.events(entry.reference_id)]
    assert "status GET: 404, the request never arrived" in details


def test_no_resend_while_the_status_get_fails(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "error_before")
    momo.plan("GET", entry.reference_id, "error", "error", "error", "error", "error")
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.UNKNOWN
    assert momo.posts(entry.reference_id) == ["error_before"]
    assert after.last_error and after.error_type == "NetworkError"
    momo.assert_no_blind_resend()
    # later, reconcile finds it was never received and sends it, same id
    [done] = run(reconcile(journal, momo, policy=FAST, sleep=no_sleep))
    assert done.state is State.SUBMITTED
    assert momo.posts(entry.reference_id) == ["error_before", "202"]


def test_409_after_a_resend_means_the_first_one_arrived(journal):
    momo = FakeMomo(settle_after=0)
    entry = new_transfer(journal)
    # the first POST arrived but its answer was lost; the status GET right after briefly says 404
    momo.plan("POST", entry.reference_id, "error_after")
    momo.plan("GET", entry.reference_id, "404")
    after = send(journal, momo, entry.reference_id)
    assert momo.requests_for(entry.reference_id) == [
        ("POST", "error_after"), ("GET", "404"), ("POST", "409"), ("GET", "200"),
    ]
    assert (after.state, after.status) == (State.FINAL, "SUCCESSFUL")
    assert after.financial_transaction_id
    assert len(momo.transactions) == 1
    assert any("409" in (e.detail or "") for e in journal.events(entry.reference_id))


@pytest.mark.parametrize("refusal", ["reject", "auth"])
def test_a_refused_resend_does_not_hide_an_earlier_attempt_that_arrived(journal, refusal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    # stored but answered 500; the GET right after briefly misses it; the resend is refused
    momo.plan("POST", entry.reference_id, "processing_error", refusal)
    momo.plan("GET", entry.reference_id, "404")
    after = send(journal, momo, entry.reference_id)
    assert momo.requests_for(entry.reference_id) == [
        ("POST", "processing_error"), ("GET", "404"), ("POST", refusal), ("GET", "200"),
    ]
    assert (after.state, after.status) == (State.FINAL, "SUCCESSFUL")


def test_a_refused_resend_that_cannot_be_checked_stays_unknown(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "error_before", "reject")
    momo.plan("GET", entry.reference_id, "ok", "error")
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.UNKNOWN and after.error_code == "400"
    momo.plan("GET", entry.reference_id, "ok")
    [after] = run(reconcile(journal, momo, policy=FAST, sleep=no_sleep))
    assert after.state is State.SUBMITTED  # 404, resent (accepted this time)


def test_a_refused_resend_that_never_arrived_is_rejected(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "error_before", "reject")
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.REJECTED
    assert momo.requests_for(entry.reference_id) == [
        ("POST", "error_before"), ("GET", "404"), ("POST", "reject"), ("GET", "404"),
    ]


def test_409_on_a_first_send_is_already_accepted(journal):
    """The process sent it and died before journaling the 202; the id is reused by hand."""
    momo = FakeMomo(settle_after=5)
    entry = new_transfer(journal)
    momo.transactions[entry.reference_id] = FakeTransaction(
        entry.reference_id, "disbursement/transfer", entry.body, "SUCCESSFUL"
    )
    after = send(journal, momo, entry.reference_id, check_first=False)
    assert after.state is State.SUBMITTED and after.status == "PENDING"
    assert momo.requests_for(entry.reference_id) == [("POST", "409"), ("GET", "200")]


@pytest.mark.parametrize(
    "field,value,said",
    [
        ("amount", "5000", "amount 5000 instead of"),
        ("currency", "XAF", "currency XAF instead of EUR"),
        ("payee", {"partyIdType": "MSISDN", "partyId": "256772999999"}, "party 256772999999 instead of"),
        ("externalId", "somebody-else", "external id somebody-else instead of"),
    ],
)
def test_a_409_for_a_different_transaction_is_not_taken_for_ours(journal, field, value, said):
    """A reused reference id: the API holds another payment under it. Never report that one as ours."""
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.transactions[entry.reference_id] = FakeTransaction(
        entry.reference_id, "disbursement/transfer", {**entry.body, field: value}, "SUCCESSFUL"
    )
    after = send(journal, momo, entry.reference_id, check_first=False)
    assert after.state is State.REJECTED
    assert after.status is None
    assert said in after.last_error and "already used by another transaction" in after.last_error
    assert "nothing was created" in after.last_error
    assert after.error_code == "RESOURCE_ALREADY_EXIST"
    assert momo.requests_for(entry.reference_id) == [("POST", "409"), ("GET", "200")]


def test_a_crash_after_journaling_the_attempt_is_resolved_by_get_first(journal, journal_file):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "crash_after")
    with pytest.raises(Crash):
        send(journal, momo, entry.reference_id)
    # a new process: the entry may have been sent (an attempt was counted), so GET first
    with Journal(journal_file) as fresh:
        assert fresh.get(entry.reference_id).may_have_been_sent
        after = send(fresh, momo, entry.reference_id)
    assert after.state is State.FINAL
    assert momo.requests_for(entry.reference_id) == [("POST", "crash_after"), ("GET", "200")]


def test_created_with_an_attempt_counted_is_never_sent_blindly(journal):
    """A kill between counting the attempt and the POST: GET says 404, then (only then) send."""
    momo = FakeMomo()
    entry = new_transfer(journal)
    journal.begin_attempt(entry.reference_id)
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.SUBMITTED
    assert momo.requests_for(entry.reference_id) == [("GET", "404"), ("POST", "202")]


# -- not processed, rejected ----------------------------------------------------------------------


def test_429_waits_retry_after_and_resends_the_same_id(journal):
    momo = FakeMomo(retry_after=7)
    clock = FakeClock()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "429", "429")
    after = send(journal, momo, entry.reference_id, sleep=clock.sleep)
    assert after.state is State.SUBMITTED
    assert momo.requests_for(entry.reference_id) == [("POST", "429"), ("POST", "429"), ("POST", "202")]
    assert clock.sleeps == [7, 7]


def test_429_retry_after_is_capped(journal):
    momo = FakeMomo(retry_after=3600)
    clock = FakeClock()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "429")
    send(journal, momo, entry.reference_id, sleep=clock.sleep, policy=SendPolicy(max_retry_after=30))
    assert clock.sleeps == [30]


def test_could_not_connect_is_sent_again_without_a_get(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "refused")
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.SUBMITTED
    assert momo.requests_for(entry.reference_id) == [("POST", "refused"), ("POST", "202")]


def test_a_synchronous_rejection_is_final_and_nothing_is_created(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "reject")
    after = send(journal, momo, entry.reference_id)
    assert after.state is State.REJECTED and after.closed
    assert after.error_type == "ApiError" and after.error_code == "400"
    assert momo.transactions == {}
    assert final_outcome(after) == "rejected"
    # and nothing sends it again
    assert send(journal, momo, entry.reference_id) == after
    assert run(reconcile(journal, momo, sleep=no_sleep)) == []
    assert momo.posts() == ["reject"]


def test_auth_error_rejects_or_raises_for_batches(journal):
    momo = FakeMomo()
    a, b = new_transfer(journal), new_transfer(journal)
    momo.plan("POST", a.reference_id, "auth")
    assert send(journal, momo, a.reference_id).state is State.REJECTED
    momo.plan("POST", b.reference_id, "auth")
    with pytest.raises(AuthError):
        send(journal, momo, b.reference_id, reject_on_auth=False)
    after = journal.get(b.reference_id)
    assert after.state is State.CREATED and after.may_have_been_sent and after.error_type == "AuthError"


def test_a_status_get_refused_is_raised(journal):
    class Refusing(FakeMomo):
        async def get_transaction(self, operation, reference_id):
            raise ConfigError("no API key for disbursement")

    momo = Refusing()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, "error_after")
    with pytest.raises(ConfigError):
        send(journal, momo, entry.reference_id)
    assert journal.get(entry.reference_id).state is State.UNKNOWN


def test_attempts_are_bounded_and_leave_the_entry_unknown(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    momo.plan("POST", entry.reference_id, *["error_before"] * 10)
    after = send(journal, momo, entry.reference_id, policy=SendPolicy(max_tries=5, backoff=0))
    assert after.state is State.UNKNOWN
    assert len(momo.log) == 5
    momo.assert_no_blind_resend()


def test_an_interrupted_send_is_left_unknown(journal):
    class Hanging(FakeMomo):
        async def create_transaction(self, *args, **kwargs):
            await asyncio.sleep(10)

    async def scenario():
        entry = new_transfer(journal)
        task = asyncio.create_task(submit(journal, Hanging(), entry.reference_id))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return journal.get(entry.reference_id)

    entry = run(scenario())
    assert entry.state is State.UNKNOWN and "CancelledError" in entry.last_error


def test_submit_leaves_closed_or_accepted_entries_alone(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    journal.mark_submitted(entry.reference_id)
    assert send(journal, momo, entry.reference_id).state is State.SUBMITTED
    assert momo.log == []
    with pytest.raises(KeyError):
        send(journal, momo, "5e6b3a52-3f7e-4e0a-9b43-5f5ad1c1d3a1")


# -- resolve, reconcile, wait ---------------------------------------------------------------------


def test_resolve_records_the_status_and_raises_404(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    with pytest.raises(NotFound):
        run(resolve(journal, momo, entry))
    send(journal, momo, entry.reference_id)
    after = run(resolve(journal, momo, entry.reference_id))
    assert (after.state, after.status) == (State.FINAL, "SUCCESSFUL")


def test_reconcile_resolves_every_open_entry(journal):
    momo = FakeMomo(final_status=lambda body: "FAILED" if body["externalId"] == "poor" else "SUCCESSFUL")
    sent = new_transfer(journal)
    send(journal, momo, sent.reference_id)                          # submitted, PENDING
    lost = new_transfer(journal)
    momo.plan("POST", lost.reference_id, "error_before")
    momo.plan("GET", lost.reference_id, *["error"] * 10)
    send(journal, momo, lost.reference_id)                          # unknown, never arrived
    arrived = new_transfer(journal, body={**sent.body, "externalId": "poor"})
    momo.plan("POST", arrived.reference_id, "error_after")
    momo.plan("GET", arrived.reference_id, *["error"] * 10)
    send(journal, momo, arrived.reference_id)                       # unknown, arrived
    never = new_transfer(journal)                                   # created, never sent
    crashed = new_transfer(journal)
    journal.begin_attempt(crashed.reference_id)                     # created, maybe sent
    momo.plans.clear()
    done = new_transfer(journal)
    journal.record_status(done.reference_id, "SUCCESSFUL")

    progress = []
    results = run(reconcile(journal, momo, on_progress=progress.append, policy=FAST, sleep=no_sleep))
    by_ref = {e.reference_id: e for e in results}
    assert set(by_ref) == {sent.reference_id, lost.reference_id, arrived.reference_id,
                           never.reference_id, crashed.reference_id}
    assert progress == results
    assert by_ref[sent.reference_id].status == "SUCCESSFUL"
    assert by_ref[arrived.reference_id].status == "FAILED"
    assert by_ref[arrived.reference_id].reason == "NOT_ENOUGH_FUNDS"
    for ref in (lost.reference_id, crashed.reference_id):
        assert by_ref[ref].state is State.SUBMITTED
        assert momo.requests_for(ref)[-2:] == [("GET", "404"), ("POST", "202")]
    # never sent: reconcile does not move money nobody confirmed here, nor even asks about it
    assert by_ref[never.reference_id].state is State.CREATED
    assert momo.requests_for(never.reference_id) == []
    assert sorted(momo.transactions) == sorted(set(by_ref) - {never.reference_id})
    momo.assert_no_blind_resend()
    # a second pass finishes the others
    run(reconcile(journal, momo, policy=FAST, sleep=no_sleep))
    assert [e.reference_id for e in journal.unresolved()] == [never.reference_id]
    assert all(momo.posts(ref).count("202") + momo.posts(ref).count("error_after") == 1
               for ref in set(by_ref) - {never.reference_id})


def test_reconcile_without_resend_only_asks(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    journal.begin_attempt(entry.reference_id)
    journal.mark_unknown(entry.reference_id, "timeout")
    [after] = run(reconcile(journal, momo, resend=False))
    assert after.state is State.UNKNOWN
    assert momo.requests_for(entry.reference_id) == [("GET", "404")]


def test_reconcile_stops_on_auth_errors(journal):
    class Refusing(FakeMomo):
        async def get_transaction(self, operation, reference_id):
            raise AuthError("the access token was refused (401)")

    entry = new_transfer(journal)
    journal.mark_submitted(entry.reference_id)
    with pytest.raises(AuthError):
        run(reconcile(journal, Refusing()))


def test_reconcile_keeps_a_submitted_entry_on_404(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    journal.mark_submitted(entry.reference_id)
    [after] = run(reconcile(journal, momo))
    assert after.state is State.SUBMITTED and momo.posts() == []
    assert "404" in journal.events(entry.reference_id)[-1].detail


def test_wait_polls_to_a_final_status_and_journals_each_new_one(journal):
    momo = FakeMomo(settle_after=3)
    clock = FakeClock()
    entry = new_transfer(journal)
    send(journal, momo, entry.reference_id)
    updates = []
    after = run(wait(journal, momo, entry.reference_id, timeout=60, interval=1, sleep=clock.sleep,
                     clock=clock, on_update=lambda e, elapsed: updates.append((e.status, elapsed))))
    assert (after.state, after.status) == (State.FINAL, "SUCCESSFUL")
    assert [s for s, _ in updates] == ["PENDING", "PENDING", "PENDING", "SUCCESSFUL"]
    assert [e.status for e in journal.events(entry.reference_id)][-2:] == ["PENDING", "SUCCESSFUL"]


def test_wait_gives_up_at_the_timeout_and_survives_network_errors(journal):
    momo = FakeMomo(settle_after=1000)
    clock = FakeClock()
    entry = new_transfer(journal)
    send(journal, momo, entry.reference_id)
    momo.plan("GET", entry.reference_id, "error", "429", "error")
    start = clock.now
    after = run(wait(journal, momo, entry.reference_id, timeout=30, interval=2, sleep=clock.sleep, clock=clock))
    assert after.state is State.SUBMITTED and after.status == "PENDING"
    assert 30 <= clock.now - start <= 40


def test_wait_does_not_send_an_entry_that_never_arrived(journal):
    momo = FakeMomo()
    entry = new_transfer(journal)
    journal.begin_attempt(entry.reference_id)
    journal.mark_unknown(entry.reference_id, "timeout")
    after = run(wait(journal, momo, entry.reference_id, timeout=10, sleep=no_sleep))
    assert after.state is State.UNKNOWN and momo.posts() == []


def test_status_fields_reads_objects_dicts_and_strings():
    class Reason:
        code = "PAYER_NOT_FOUND"

    assert status_fields({"status": "failed", "reason": {"code": "NOT_ENOUGH_FUNDS", "message": "x"}}) == (
        "FAILED", "NOT_ENOUGH_FUNDS", None)
    assert status_fields({"status": "SUCCESSFUL", "financialTransactionId": 23503452}) == (
        "SUCCESSFUL", None, "23503452")
    assert status_fields("pending") == ("PENDING", None, None)
    obj = type("S", (), {"status": "FAILED", "reason": Reason(), "financial_transaction_id": None})()
    assert status_fields(obj) == ("FAILED", "PAYER_NOT_FOUND", None)


# -- the property: exactly once under random faults and crashes ----------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_exactly_once_under_random_faults(journal_file, seed):
    rng = random.Random(seed)
    momo = FakeMomo(settle_after=rng.randint(0, 2),
                    final_status=lambda body: rng.choice(["SUCCESSFUL", "SUCCESSFUL", "FAILED"]))
    momo.chooser = random_chooser(rng, reject=seed % 3 == 0)
    policy = SendPolicy(max_tries=rng.randint(1, 6), backoff=0)
    refs = []
    journal = Journal(journal_file)
    for _ in range(12):
        entry = new_transfer(journal)
        refs.append(entry.reference_id)
        try:
            send(journal, momo, entry.reference_id, policy=policy)
        except Crash:
            journal.close()  # the process died; a new one starts
            journal = Journal(journal_file)
    for _ in range(40):
        if not any(True for _ in journal.unresolved()):
            break
        try:
            run(reconcile(journal, momo, policy=policy, sleep=no_sleep))
        except Crash:
            journal.close()
            journal = Journal(journal_file)
    momo.chooser = None
    run(reconcile(journal, momo, policy=policy, sleep=no_sleep))
    run(reconcile(journal, momo, policy=policy, sleep=no_sleep))

    assert list(journal.unresolved()) == []
    assert set(momo.transactions) <= set(refs), "nothing but journaled ids reached MoMo"
    for ref in refs:
        entry = journal.get(ref)
        if entry.state is State.REJECTED:
            assert ref not in momo.transactions
        else:
            assert ref in momo.transactions, f"{ref} was lost"
            assert entry.status == momo.transactions[ref].status
        assert journal.events(ref)[-1].state is entry.state
    momo.assert_no_blind_resend()
    journal.close()
