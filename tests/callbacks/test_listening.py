"""`listening()`: the listener served in the caller's event loop, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from momo_cli.callbacks import listening, matching
from momo_cli.callbacks.forward import Sender, probe
from momo_cli.callbacks.server import bind_socket
from momo_cli.callbacks.store import FILE_NAME, CallbackStore
from momo_cli.errors import UsageError
from tests.callbacks.support import (
    MOMO_HEADERS,
    RTP_FAILED,
    RTP_SUCCESS,
    TRANSFER_SUCCESS,
    WITHDRAW_V2_FAILED,
    closed_port,
    target_app,  # noqa: F401 - fixture
)


def run(coro):
    return asyncio.run(coro)


def test_wait_for_the_matching_callback():
    async def scenario():
        async with listening("127.0.0.1", 0, "/momo") as listener:
            assert listener.callback_url == f"http://127.0.0.1:{listener.port}/momo"
            waiting = asyncio.ensure_future(
                listener.wait_for(matching(external_id="payout-7", amount="600.00"), timeout=5)
            )
            async with httpx.AsyncClient() as client:
                for body in (RTP_SUCCESS, TRANSFER_SUCCESS):
                    answer = await client.post(listener.callback_url, json=body, headers=MOMO_HEADERS)
                    assert answer.status_code == 200
            event = await waiting
            return event, listener.summary.received

    event, received = run(scenario())
    assert event.external_id == "payout-7" and event.operation == "transfer"
    assert event.status == "SUCCESSFUL"
    assert received == 2


def test_a_callback_that_came_first_still_counts():
    async def scenario():
        async with listening(port=0) as listener:
            async with httpx.AsyncClient() as client:
                await client.put(listener.callback_url + "v2", json=WITHDRAW_V2_FAILED, headers=MOMO_HEADERS)
            await asyncio.sleep(0.05)
            event = await listener.wait_for(matching(external_id="wd-9", final_only=True), timeout=2)
            anything = await listener.wait_for(timeout=1)
            return event, anything

    event, anything = run(scenario())
    assert event.method == "PUT" and event.operation == "request_to_withdraw"
    assert event.reason == "EXPIRED"
    assert anything is event


def test_wait_for_times_out():
    async def scenario():
        async with listening(port=0) as listener:
            async with httpx.AsyncClient() as client:
                await client.post(listener.callback_url, json=RTP_FAILED)
            with pytest.raises(TimeoutError):
                await listener.wait_for(matching(external_id="order-2", currency="UGX"), timeout=0.2)
            with pytest.raises(TimeoutError):
                await listener.wait_for(matching(party_id="1"), timeout=0.1)
            return await listener.wait_for(matching(party_id="46733123451"), timeout=1)

    assert run(scenario()).external_id == "order-2"


def test_callbacks_received_before_exit_are_all_handled(tmp_path):
    seen = []
    store = CallbackStore(tmp_path / FILE_NAME)

    async def scenario():
        async with listening(port=0, store=store, on_event=seen.append) as listener:
            async with httpx.AsyncClient() as client:
                for _ in range(3):
                    await client.post(listener.callback_url, json=RTP_SUCCESS)

    run(scenario())
    assert [e.seq for e in seen] == [1, 2, 3]
    assert [e.duplicate for e in seen] == [False, True, True]
    assert store.count() == 3
    store.close()


def test_forward_to_the_users_app(target_app):  # noqa: F811
    async def scenario():
        async with listening(port=0, forward_to=target_app.url) as listener:
            async with httpx.AsyncClient() as client:
                await client.put(listener.callback_url + "deep/path", json=WITHDRAW_V2_FAILED, headers=MOMO_HEADERS)
            return await listener.wait_for(timeout=2)

    event = run(scenario())
    (request,) = target_app.wait_for_requests(1)
    assert request.method == "PUT"
    assert request.path == "/app/hook"  # the URL as given: the callback's path is not appended
    assert json.loads(request.body) == WITHDRAW_V2_FAILED
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["user-agent"] == "LWAC Http Client 1.0"
    assert request.headers["host"] == target_app.url.split("/")[2]
    assert event.forward["status"] == 200 and event.forward["error"] is None
    assert '"handled":true' in event.forward["body_excerpt"]


def test_forward_failures_are_reported_not_raised():
    port = closed_port()
    url = f"http://127.0.0.1:{port}/hook"

    async def scenario():
        async with listening(port=0, forward_to=url) as listener:
            assert "connection refused" in await listener.receiver.probe_forward_target()
            async with httpx.AsyncClient() as client:
                answer = await client.post(listener.callback_url, json=RTP_SUCCESS)
            await asyncio.sleep(0)
            await listener.wait_for(timeout=2)
        return answer, listener.events[0], listener.summary

    answer, event, summary = run(scenario())
    assert answer.status_code == 200
    assert event.forward["status"] is None
    assert "connection refused" in event.forward["error"]
    assert summary.forward_failures == 1


def test_port_in_use_is_a_usage_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(UsageError) as caught:
            bind_socket("127.0.0.1", port, option="--listen")
        assert caught.value.one_line() == f"port {port} is in use: pick another with --listen"

        async def scenario():
            async with listening(port=port):
                pass  # pragma: no cover

        with pytest.raises(UsageError):
            run(scenario())


def test_unknown_host_is_a_usage_error():
    with pytest.raises(UsageError):
        bind_socket("no-such-host.invalid", 0)


def test_probe_and_sender_timeouts():
    async def scenario():
        assert await probe(f"http://127.0.0.1:{closed_port()}/") is not None
        async with Sender(timeout=0.5) as sender:
            result = await sender.send(f"http://127.0.0.1:{closed_port()}/x", "POST", b"{}", {})
        return result

    result = run(scenario())
    assert not result.ok and result.status is None and "refused" in result.error


def test_a_server_that_fails_to_start_is_a_usage_error(monkeypatch):
    from momo_cli.callbacks import server as server_module
    from momo_cli.callbacks.server import ListenerFailed

    real = server_module.make_server

    def failing(app):
        built = real(app)

        async def serve(sockets=None):
            server_module._LOG_HANDLER.messages.append("[Errno 98] address already in use")
            raise SystemExit(3)

        built.serve = serve
        return built

    monkeypatch.setattr(server_module, "make_server", failing)

    async def scenario():
        async with listening(port=0):
            pass  # pragma: no cover

    with pytest.raises(ListenerFailed) as caught:
        run(scenario())
    assert "address already in use" in caught.value.one_line()
    assert caught.value.exit_code == 2
