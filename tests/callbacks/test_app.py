"""The listener's ASGI app in-process (httpx ASGITransport), with the receiver and the store behind it."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from decimal import Decimal

import httpx
import pytest

from momo_cli.callbacks.app import create_app, normalize_prefix, under_prefix
from momo_cli.callbacks.events import RawCallback
from momo_cli.callbacks.receiver import Receiver, Summary
from momo_cli.callbacks.store import FILE_NAME, CallbackStore, default_data_dir
from tests.callbacks.support import MOMO_HEADERS, PAYMENT_V2, RTP_FAILED, RTP_SUCCESS, TRANSFER_SUCCESS


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://listener")


def run(coro):
    return asyncio.run(coro)


def test_post_and_put_on_any_path_are_answered_200_and_handed_to_the_sink():
    received: list[RawCallback] = []

    async def scenario():
        async with client_for(create_app(received.append)) as client:
            first = await client.post("/momo/collection?x=1", json=RTP_SUCCESS, headers=MOMO_HEADERS)
            second = await client.put("/", content=b"plain", headers={"Content-Type": "text/plain"})
            return first, second

    first, second = run(scenario())
    assert (first.status_code, first.json()) == (200, {})
    assert second.status_code == 200
    assert [(r.method, r.path, r.query) for r in received] == [("POST", "/momo/collection", "x=1"), ("PUT", "/", "")]
    assert json.loads(received[0].body) == RTP_SUCCESS
    headers = dict(received[0].headers)
    assert headers["user-agent"] == "LWAC Http Client 1.0"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert received[1].body == b"plain"
    assert received[0].received_at.tzinfo is not None


def test_path_prefix_limits_what_is_accepted():
    received: list[RawCallback] = []

    async def scenario():
        async with client_for(create_app(received.append, path="/momo/")) as client:
            return [
                (await client.post("/momo", json={})).status_code,
                (await client.post("/momo/v1/cb", json={})).status_code,
                (await client.post("/momonot", json={})).status_code,
                (await client.put("/other", json={})).status_code,
            ]

    assert run(scenario()) == [200, 200, 404, 404]
    assert [r.path for r in received] == ["/momo", "/momo/v1/cb"]


def test_other_methods_are_refused_and_get_describes_the_listener():
    received: list[RawCallback] = []

    async def scenario():
        async with client_for(create_app(received.append)) as client:
            return await client.delete("/x"), await client.get("/x")

    deleted, got = run(scenario())
    assert deleted.status_code == 405
    assert "POST" in deleted.headers["allow"]
    assert got.status_code == 200 and got.json()["methods"] == ["POST", "PUT"]
    assert received == []


def test_prefix_helpers():
    assert normalize_prefix("") == "/" and normalize_prefix("momo/") == "/momo"
    assert under_prefix("/anything", "/")
    assert under_prefix("/momo", "/momo") and under_prefix("/momo/x", "/momo")
    assert not under_prefix("/momox", "/momo")


def test_receiver_numbers_stores_and_marks_duplicates(tmp_path):
    store = CallbackStore(tmp_path / FILE_NAME)
    seen = []

    async def scenario():
        receiver = Receiver(store, on_event=seen.append)
        receiver.start()
        async with client_for(create_app(receiver.submit)) as client:
            await client.post("/cb", json=RTP_FAILED, headers=MOMO_HEADERS)
            await client.post("/cb", content=json.dumps(RTP_FAILED, indent=4), headers=MOMO_HEADERS)
            await client.put("/cb", json=PAYMENT_V2)
        await receiver.stop()
        return receiver.summary

    summary = run(scenario())
    assert [e.seq for e in seen] == [1, 2, 3]
    assert [e.duplicate for e in seen] == [False, True, False]
    assert seen[1].duplicate_of == 1 and seen[0].fingerprint == seen[1].fingerprint
    assert seen[0].product == "collection" and seen[0].status == "FAILED"
    assert seen[2].operation == "payment"
    assert summary.to_dict() == {"received": 3, "duplicates": 1, "by_status": {"FAILED": 3},
                                 "forwarded": 0, "forward_failures": 0}
    assert store.count() == 3
    store.close()


def test_duplicates_are_recognised_after_a_restart(tmp_path):
    path = tmp_path / "data" / FILE_NAME
    with CallbackStore(path) as store:
        first = store.record(RawCallback("POST", "/", body=json.dumps(TRANSFER_SUCCESS).encode()))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    with CallbackStore(path) as store:
        again = store.record(RawCallback("POST", "/", body=json.dumps(TRANSFER_SUCCESS).encode()))
        other = store.record(RawCallback("POST", "/", body=json.dumps(RTP_SUCCESS).encode()))
    assert (first.seq, first.duplicate) == (1, False)
    assert (again.seq, again.duplicate_of) == (2, 1)
    assert not other.duplicate


def test_store_keeps_the_raw_request_for_replay(tmp_path):
    body = b'{"amount": 100.10, "status": "SUCCESSFUL"}'
    headers = [("content-type", "application/json"), ("user-agent", "LWAC"), ("x-twice", "a"), ("x-twice", "b")]
    with CallbackStore(tmp_path / FILE_NAME) as store:
        event = store.record(RawCallback("PUT", "/p", "q=1", headers, body, client="127.0.0.1"))
        store.set_forward(event.seq, {"url": "http://x/", "status": 200, "error": None,
                                      "body_excerpt": "ok", "elapsed_ms": 3})
        loaded = store.get(event.seq)
    assert loaded.raw.body == body
    assert loaded.raw.headers == headers
    assert (loaded.method, loaded.path, loaded.raw.query) == ("PUT", "/p", "q=1")
    assert loaded.raw.received_at == event.raw.received_at.replace(
        microsecond=event.raw.received_at.microsecond // 1000 * 1000)
    assert loaded.forward["status"] == 200
    assert loaded.to_dict()["body"] == {"amount": Decimal("100.10"), "status": "SUCCESSFUL"}
    assert '"amount":100.10' in loaded.to_json()


def test_store_selects_by_sequence_number_and_fingerprint(tmp_path):
    from momo_cli.errors import UsageError

    with CallbackStore(tmp_path / FILE_NAME) as store:
        a = store.record(RawCallback("POST", "/", body=b'{"a": 1}'))
        b = store.record(RawCallback("POST", "/", body=b'{"b": 2}'))
        a2 = store.record(RawCallback("POST", "/", body=b'{"a":1}'))
        assert [e.seq for e in store.select(["2", "#1", a.fingerprint[:8], "sha256:" + b.fingerprint[:6]])] == [
            2, 1, a2.seq, 2]
        assert [e.seq for e in store.last(2)] == [2, 3]
        assert len(store.last()) == 3
        for bad in ("9", "xyz", "abc", "0000000000"):
            with pytest.raises(UsageError):
                store.select([bad])


def test_default_data_dir_follows_the_environment(tmp_path):
    assert default_data_dir({"MOMO_DATA_DIR": str(tmp_path)}) == tmp_path
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "momo"
    assert default_data_dir({"HOME": str(tmp_path)}) == tmp_path / ".local" / "share" / "momo"


def test_summary_line():
    summary = Summary()
    assert summary.line() == "Received 0 callbacks."
    summary.received, summary.duplicates = 2, 1
    summary.by_status.update({"SUCCESSFUL": 2})
    summary.forwarded, summary.forward_failures = 2, 1
    assert summary.line() == "Received 2 callbacks (1 duplicate): SUCCESSFUL 2; forwarded 2, 1 failed."
