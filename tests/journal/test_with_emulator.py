"""The journal with the real client against the in-process emulator, faults switched on: the
contract between the parts (client errors, status objects) keeps every row paid exactly once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

from momo_cli.journal.batch import run_batch
from momo_cli.journal.sender import SendPolicy, reconcile, submit, wait
from momo_cli.journal.store import RunRow, State
from tests.journal.conftest import new_transfer

SUB_KEY = "journal-subscription-key-0123456789"
FAST = SendPolicy(max_tries=6, backoff=0.01, max_backoff=0.05, retry_after_default=0.05, max_retry_after=0.2)


async def _client(tmp_path, transport):
    from momo_cli.api.factory import build_client
    from momo_cli.api.provisioning import provision_sandbox_user

    user = await provision_sandbox_user("local", SUB_KEY, "localhost", transport=transport)
    creds = SimpleNamespace(user_id=user.user_id, api_key=user.api_key, subscription_key=SUB_KEY)
    settings = SimpleNamespace(
        base_url="local", target_environment="sandbox", callback_host="localhost", timeout=10,
        data_dir=tmp_path, cache_dir=tmp_path / "cache", credentials=lambda product: creds,
    )
    return build_client(settings, transport=transport)


async def _emulator_transactions(transport) -> list[dict]:
    async with httpx.AsyncClient(transport=transport, base_url="http://momo.local") as admin:
        response = await admin.get("/_sandbox/transactions", params={"limit": 100000})
        response.raise_for_status()
        data = response.json()
    return data["transactions"] if isinstance(data, dict) else data


@pytest.fixture
def faulty_transport(tmp_path):
    from momo_cli.sandbox import EmulatorConfig, local_transport

    return local_transport(EmulatorConfig(db_path=tmp_path / "emulator.db", settle_after=0,
                                          error_rate=0.3, drop_rate=0.3, seed=11))


def test_single_transfers_then_reconcile_leave_exactly_one_each(tmp_path, journal, faulty_transport):
    async def scenario():
        async with await _client(tmp_path, faulty_transport) as client:
            refs = []
            for i in range(25):
                entry = new_transfer(journal, body={
                    "amount": "5", "currency": "EUR", "externalId": f"single-{i}",
                    "payee": {"partyIdType": "MSISDN", "partyId": "46733123999"},
                })
                refs.append(entry.reference_id)
                await submit(journal, client, entry.reference_id, policy=SendPolicy(max_tries=1), sleep=asyncio.sleep)
            for _ in range(10):
                if not any(True for _ in journal.unresolved()):
                    break
                await reconcile(journal, client, policy=FAST)
            done = await wait(journal, client, refs[0], timeout=5, interval=0.01)
            return refs, done, await _emulator_transactions(faulty_transport)

    refs, done, transactions = asyncio.run(scenario())
    assert done.state is State.FINAL
    assert list(journal.unresolved()) == []
    by_ref = {t["reference_id"]: t for t in transactions}
    assert len(transactions) == len(by_ref) == 25
    assert sorted(by_ref) == sorted(refs)
    for ref in refs:
        assert journal.get(ref).status == by_ref[ref]["status"]


def test_a_batch_against_the_faulty_emulator_pays_each_row_once(tmp_path, journal, faulty_transport):
    rows = (RunRow(i, "46733123999", "2.50", "EUR", f"row-{i}") for i in range(2, 42))
    run = journal.create_or_resume_run("pay.csv", "emulated", "transfer", {}, rows=rows,
                                       base_url="local", target_environment="sandbox")

    async def scenario():
        async with await _client(tmp_path, faulty_transport) as client:
            result = await run_batch(journal, client, run, concurrency=4, rate_limit=200, burst=4,
                                     policy=FAST, poll_interval=0.01, poll_timeout=20)
            return result, await _emulator_transactions(faulty_transport)

    result, transactions = asyncio.run(scenario())
    assert result.counts["successful"] == 40, result.to_dict()
    refs = sorted(e.reference_id for e in journal.iter_run_entries(run.id))
    assert sorted(t["reference_id"] for t in transactions) == refs
