"""The emulator's own callback delivery, received by the listener: same bodies, POST or PUT.

The emulator runs in-process (httpx ASGITransport); its dispatcher delivers over real loopback HTTP
to `listening()` in the same event loop. Requests are built with httpx by hand, as any client would.
"""

from __future__ import annotations

import asyncio
import base64
import uuid

import httpx
import pytest

from momo_cli.callbacks import listening, matching

sandbox_app = pytest.importorskip("momo_cli.sandbox.app")
sandbox_config = pytest.importorskip("momo_cli.sandbox.config")

KEY = {"Ocp-Apim-Subscription-Key": "test-subscription-key"}


async def _provision(client: httpx.AsyncClient, host: str) -> tuple[str, str]:
    user_id = str(uuid.uuid4())
    answer = await client.post("/v1_0/apiuser", json={"providerCallbackHost": host},
                               headers={**KEY, "X-Reference-Id": user_id})
    assert answer.status_code == 201, answer.text
    answer = await client.post(f"/v1_0/apiuser/{user_id}/apikey", headers=KEY)
    assert answer.status_code == 201, answer.text
    return user_id, answer.json()["apiKey"]


async def _token(client: httpx.AsyncClient, product: str, user_id: str, api_key: str) -> str:
    basic = base64.b64encode(f"{user_id}:{api_key}".encode()).decode()
    answer = await client.post(f"/{product}/token/", headers={**KEY, "Authorization": f"Basic {basic}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


async def _send(client, product, path, token, body, callback_url) -> None:
    answer = await client.post(
        f"/{product}{path}", json=body,
        headers={**KEY, "Authorization": f"Bearer {token}", "X-Reference-Id": str(uuid.uuid4()),
                 "X-Target-Environment": "sandbox", "X-Callback-Url": callback_url},
    )
    assert answer.status_code == 202, answer.text


def _scenario(tmp_path, callback_method: str | None):
    config = sandbox_config.EmulatorConfig(db_path=tmp_path / "emulator.sqlite3", settle_after=0,
                                           callback_method=callback_method, callback_backoff=0.05)
    app = sandbox_app.create_app(config)

    async def run():
        transport = httpx.ASGITransport(app=app)
        try:
            async with listening("127.0.0.1", 0, "/momo") as listener, httpx.AsyncClient(
                transport=transport, base_url="http://emulator"
            ) as client:
                user_id, api_key = await _provision(client, "127.0.0.1")
                collection = await _token(client, "collection", user_id, api_key)
                disbursement = await _token(client, "disbursement", user_id, api_key)
                await _send(client, "collection", "/v1_0/requesttopay", collection,
                            {"amount": "100", "currency": "EUR", "externalId": "rtp-ok",
                             "payer": {"partyIdType": "MSISDN", "partyId": "56733123453"},
                             "payerMessage": "Thanks", "payeeNote": "Order"}, listener.callback_url + "/rtp")
                await _send(client, "collection", "/v1_0/requesttopay", collection,
                            {"amount": "30", "currency": "EUR", "externalId": "rtp-rejected",
                             "payer": {"partyIdType": "MSISDN", "partyId": "46733123451"},
                             "payerMessage": "Thanks", "payeeNote": "Order"}, listener.callback_url + "/rtp")
                await _send(client, "disbursement", "/v1_0/transfer", disbursement,
                            {"amount": "60", "currency": "EUR", "externalId": "payout-1",
                             "payee": {"partyIdType": "MSISDN", "partyId": "46733123499"},
                             "payerMessage": "Pay", "payeeNote": "Out"}, listener.callback_url + "/transfer")
                events = [
                    await listener.wait_for(matching(external_id=external_id), timeout=10)
                    for external_id in ("rtp-ok", "rtp-rejected", "payout-1")
                ]
        finally:
            await app.state.emulator.stop_dispatchers()
        return events

    return asyncio.run(run())


def test_emulator_callbacks_reach_the_listener(tmp_path):
    ok, rejected, payout = _scenario(tmp_path, None)
    assert (ok.method, ok.path, ok.product, ok.operation) == ("POST", "/momo/rtp", "collection", "request_to_pay")
    assert ok.status == "SUCCESSFUL" and ok.info.financial_transaction_id
    assert ok.amount == "100" and ok.currency == "EUR"
    assert ok.headers["user-agent"] == "LWAC Http Client 1.0"
    assert (rejected.status, rejected.reason) == ("FAILED", "APPROVAL_REJECTED")
    assert (payout.product, payout.operation, payout.status) == ("disbursement", "transfer", "SUCCESSFUL")
    assert not any(event.duplicate for event in (ok, rejected, payout))


def test_emulator_forcing_put_is_received_too(tmp_path):
    events = _scenario(tmp_path, "PUT")
    assert {event.method for event in events} == {"PUT"}
    assert [event.status for event in events] == ["SUCCESSFUL", "FAILED", "SUCCESSFUL"]
    assert events[0].product == "collection" and events[2].info.party["id"] == "46733123499"
