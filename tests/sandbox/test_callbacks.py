"""Callbacks delivered to a real loopback receiver: method per version, forced method, retries."""

from __future__ import annotations

import dataclasses
import json
import time

from momo_cli.sandbox import EmulatorConfig
from momo_cli.sandbox.callbacks import USER_AGENT
from momo_cli.sandbox.store import Store
from tests.support.emulator import SandboxApi, make_client, payment


def test_v1_callback_is_a_post_of_the_final_status_body(emulator_api, callback_receiver):
    receiver = callback_receiver()
    creds = emulator_api.provision(callback_host="localhost")
    ref, r = emulator_api.create(creds, "collection", "request_to_pay", payment("46733123451"),
                                 callback_url=receiver.url("/momo/cb?x=1"))
    assert r.status_code == 202
    (callback,) = receiver.wait_for(1)
    assert callback.method == "POST" and callback.path == "/momo/cb?x=1"
    assert callback.headers["content-type"] == "application/json; charset=utf-8"
    assert callback.headers["user-agent"] == USER_AGENT
    assert "authorization" not in callback.headers
    body = callback.json()
    assert body == emulator_api.status(creds, "collection", "request_to_pay", ref).json()
    assert body["status"] == "FAILED" and body["reason"] == "APPROVAL_REJECTED"
    assert ref not in callback.body.decode()


def test_v2_callbacks_are_puts(emulator_api, callback_receiver):
    receiver = callback_receiver()
    creds = emulator_api.provision()
    emulator_api.create(creds, "collection", "request_to_withdraw", payment(), version="v2_0",
                        callback_url=receiver.url("/rtw2"))
    emulator_api.create(creds, "disbursement", "deposit", payment(party_field="payee"), version="v2_0",
                        callback_url=receiver.url("/dep2"))
    emulator_api.create(creds, "disbursement", "deposit", payment(party_field="payee"), version="v1_0",
                        callback_url=receiver.url("/dep1"))
    got = {c.path: c for c in receiver.wait_for(3)}
    assert got["/rtw2"].method == "PUT" and got["/dep2"].method == "PUT" and got["/dep1"].method == "POST"
    assert got["/rtw2"].json()["status"] == "SUCCESSFUL" and got["/rtw2"].json()["financialTransactionId"]


def test_forced_method(emulator_config, callback_receiver):
    receiver = callback_receiver()
    for forced, version in (("PUT", "v1_0"), ("POST", "v2_0")):
        config = dataclasses.replace(emulator_config, callback_method=forced,
                                     db_path=emulator_config.db_path.with_name(f"{forced}.db"))
        with make_client(config) as client:
            api = SandboxApi(client)
            creds = api.provision()
            api.create(creds, "collection", "request_to_withdraw", payment(), version=version,
                       callback_url=receiver.url(f"/{forced}"))
            receiver.wait_for(1 if forced == "PUT" else 2)
    assert [(c.path, c.method) for c in receiver.received] == [("/PUT", "PUT"), ("/POST", "POST")]


def test_no_callback_without_the_header(emulator_api, callback_receiver, emulator_client):
    receiver = callback_receiver()
    creds = emulator_api.provision()
    emulator_api.create(creds, "collection", "request_to_pay", payment())
    time.sleep(0.4)
    assert receiver.received == [] and emulator_client.get("/_sandbox/callbacks").json() == []


def test_callback_waits_for_the_final_status(emulator_config, callback_receiver):
    receiver = callback_receiver()
    config = dataclasses.replace(emulator_config, settle_after=0.5)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        started = time.monotonic()
        api.create(creds, "disbursement", "transfer", payment(party_field="payee"), callback_url=receiver.url())
        (callback,) = receiver.wait_for(1)
        assert time.monotonic() - started >= 0.45
        assert callback.json()["status"] == "SUCCESSFUL"


def test_failed_deliveries_are_retried_with_backoff(emulator_config, callback_receiver):
    receiver = callback_receiver(statuses=[500, 503])
    config = dataclasses.replace(emulator_config, callback_backoff=0.1)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        api.create(creds, "collection", "request_to_pay", payment(), callback_url=receiver.url())
        received = receiver.wait_for(3)
        assert [c.json() for c in received] == [received[0].json()] * 3
        time.sleep(0.3)
        (row,) = client.get("/_sandbox/callbacks").json()
        assert row["state"] == "delivered" and row["attempts"] == 3
        assert len(receiver.received) == 3


def test_delivery_gives_up_after_the_last_attempt(emulator_config, callback_receiver):
    receiver = callback_receiver(statuses=[500] * 10)
    config = dataclasses.replace(emulator_config, callback_backoff=0.05, callback_attempts=3)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        api.create(creds, "collection", "request_to_pay", payment(), callback_url=receiver.url())
        receiver.wait_for(3)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            (row,) = client.get("/_sandbox/callbacks").json()
            if row["state"] == "failed":
                break
            time.sleep(0.05)
        assert row["state"] == "failed" and row["attempts"] == 3 and row["last_error"] == "HTTP 500"
        time.sleep(0.3)
        assert len(receiver.received) == 3


def test_unreachable_receiver_is_retried(emulator_config):
    config = dataclasses.replace(emulator_config, callback_backoff=0.05, callback_attempts=2, callback_timeout=0.5)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        api.create(creds, "collection", "request_to_pay", payment(), callback_url="http://localhost:9/closed")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            (row,) = client.get("/_sandbox/callbacks").json()
            if row["state"] == "failed":
                break
            time.sleep(0.05)
        assert row["state"] == "failed" and row["attempts"] == 2 and "Connect" in row["last_error"]


def test_claims_are_exclusive_between_stores(tmp_path):
    """Two processes' stores on one file never both take the same callback."""
    import threading

    path = tmp_path / "shared.db"
    config = EmulatorConfig(db_path=path, settle_after=0)
    stores = [Store(path) for _ in range(4)]
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        for _ in range(40):
            api.create(creds, "collection", "request_to_pay", payment(), callback_url="http://localhost:9/x")
    # the in-process dispatcher is gone with its client; claim what it left from four stores at once
    with stores[0].write() as c:
        c.execute("UPDATE callbacks SET state = 'pending', due_at = 0, attempts = 0")
    taken: list[list[int]] = [[] for _ in stores]

    def claim(i: int) -> None:
        for _ in range(20):
            taken[i].extend(item[0] for item in stores[i].claim_callbacks(lease=60, limit=3))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [cb for chunk in taken for cb in chunk]
    assert sorted(everything) == sorted(set(everything)) and len(everything) == 40
    for store in stores:
        store.close()


def test_callback_body_is_json_of_the_status(emulator_api, callback_receiver):
    receiver = callback_receiver()
    creds = emulator_api.provision()
    body = payment(party_field="payee", orginatingCountry="SE")
    ref, _ = emulator_api.create(creds, "remittance", "cash_transfer", body, version="v2_0",
                                 callback_url=receiver.url())
    (callback,) = receiver.wait_for(1)
    assert callback.method == "PUT"
    assert json.loads(callback.body) == emulator_api.status(creds, "remittance", "cash_transfer", ref).json()
