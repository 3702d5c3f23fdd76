"""The token flow: one fetch for many calls, a cache shared across processes, refresh once on 401."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from momo_cli.api.tokens import TokenCache
from momo_cli.errors import AuthError, NetworkError
from momo_cli.exitcodes import ExitCode

from .conftest import API_KEY, BASE, SUBSCRIPTION_KEYS, TOKEN, USER_IDS, FakeClock, new_ref

pytestmark = pytest.mark.anyio

BALANCE = {"availableBalance": "1000", "currency": "EUR"}


def bearer(request: httpx.Request) -> str:
    return request.headers["Authorization"]


async def test_token_request_is_basic_with_subscription_key_and_no_body(api, make_client):
    api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        await client.balance("collection")
    token_call = api["token-collection"].calls.last.request
    expected = base64.b64encode(f"{USER_IDS['collection']}:{API_KEY}".encode()).decode()
    assert token_call.method == "POST"
    assert token_call.url == f"{BASE}/collection/token/"
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert token_call.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEYS["collection"]
    assert token_call.headers["Content-Length"] == "0"
    assert token_call.content == b""
    assert "Content-Type" not in token_call.headers


async def test_one_token_fetch_for_many_calls(api, make_client):
    route = api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        for _ in range(5):
            await client.balance("collection")
    assert api["token-collection"].call_count == 1
    assert route.call_count == 5
    assert all(bearer(call.request) == f"Bearer {TOKEN}" for call in route.calls)


async def test_concurrent_calls_wait_for_one_token_fetch(api, make_client):
    async def slow_token(request):
        await asyncio.sleep(0.01)
        return httpx.Response(200, json={"access_token": TOKEN, "expires_in": 3600})

    api["token-collection"].side_effect = slow_token
    route = api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        await asyncio.gather(*(client.balance("collection") for _ in range(10)))
    assert api["token-collection"].call_count == 1
    assert route.call_count == 10


async def test_each_product_has_its_own_token(api, make_client):
    for product in ("collection", "disbursement", "remittance"):
        api.get(f"/{product}/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        for product in ("collection", "disbursement", "remittance", "collection"):
            await client.balance(product)
    assert [api[f"token-{p}"].call_count for p in ("collection", "disbursement", "remittance")] == [1, 1, 1]


async def test_cache_hit_across_two_clients_sharing_a_cache_dir(api, make_client):
    api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as first:
        await first.balance("collection")
    async with make_client() as second:  # a new process would build exactly this
        await second.balance("collection")
    assert api["token-collection"].call_count == 1


async def test_no_token_fetch_when_cached(api, make_client):
    from momo_cli.api.tokens import TokenKey

    cache = TokenCache(make_client.cache_dir)
    cache.put(TokenKey(BASE, "sandbox", "collection", USER_IDS["collection"]), "cached-token", 3600)
    route = api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        await client.balance("collection")
    assert api["token-collection"].call_count == 0
    assert bearer(route.calls.last.request) == "Bearer cached-token"


async def test_token_is_refreshed_before_it_expires(api, make_client):
    clock = FakeClock()
    route = api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client(token_cache=TokenCache(make_client.cache_dir, clock=clock)) as client:
        await client.balance("collection")
        clock.now += 3000  # 600 s left: still fine
        await client.balance("collection")
        assert api["token-collection"].call_count == 1
        clock.now += 300  # 300 s left: inside the 10% margin
        await client.balance("collection")
    assert api["token-collection"].call_count == 2
    assert route.call_count == 3


async def test_a_401_refreshes_once_and_retries(api, make_client):
    tokens = iter(["first-token", "second-token"])
    api["token-collection"].side_effect = lambda request: httpx.Response(
        200, json={"access_token": next(tokens), "expires_in": 3600}
    )
    route = api.get("/collection/v1_0/account/balance")
    route.side_effect = [httpx.Response(401, json={"code": "UNAUTHORIZED"}), httpx.Response(200, json=BALANCE)]
    async with make_client() as client:
        balance = await client.balance("collection")
    assert balance.available_text == "1000"
    assert api["token-collection"].call_count == 2
    assert [bearer(call.request) for call in route.calls] == ["Bearer first-token", "Bearer second-token"]


async def test_a_second_401_is_an_auth_error(api, make_client):
    route = api.get("/collection/v1_0/account/balance").respond(401, json={"message": "Invalid token"})
    async with make_client() as client:
        with pytest.raises(AuthError) as info:
            await client.balance("collection")
    assert info.value.exit_code == ExitCode.AUTH
    assert route.call_count == 2
    assert api["token-collection"].call_count == 2


async def test_a_401_on_a_post_is_resent_with_the_same_reference_id(api, make_client):
    ref = new_ref()
    route = api.post("/collection/v1_0/requesttopay")
    route.side_effect = [httpx.Response(401), httpx.Response(202)]
    async with make_client() as client:
        await client.request_to_pay(ref, {"amount": "1", "currency": "EUR"})
    assert [call.request.headers["X-Reference-Id"] for call in route.calls] == [ref, ref]


async def test_a_subscription_key_401_is_not_retried_with_a_new_token(api, make_client):
    route = api.get("/collection/v1_0/account/balance").respond(
        401, json={"statusCode": 401, "message": "Access denied due to invalid subscription key."}
    )
    async with make_client() as client:
        with pytest.raises(AuthError) as info:
            await client.balance("collection")
    assert route.call_count == 1
    assert "MOMO_COLLECTION_SUBSCRIPTION_KEY" in info.value.hint


async def test_a_401_on_the_token_call_is_an_auth_error_with_a_hint(api, make_client):
    api["token-collection"].respond(401, json={"error": "login_failed"})
    route = api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        with pytest.raises(AuthError) as info:
            await client.balance("collection")
    assert route.call_count == 0
    assert info.value.exit_code == ExitCode.AUTH
    for words in ("MOMO_COLLECTION_USER_ID", "MOMO_COLLECTION_API_KEY", "momo provision"):
        assert words in info.value.hint


async def test_a_failing_token_call_is_not_an_unknown_outcome(api, make_client):
    api["token-collection"].respond(503)
    route = api.post("/collection/v1_0/requesttopay").respond(202)
    async with make_client() as client:
        with pytest.raises(NetworkError) as info:
            await client.request_to_pay(new_ref(), {"amount": "1", "currency": "EUR"})
    assert route.call_count == 0
    assert info.value.request_sent is False
    assert "outcome is unknown" not in info.value.hint


async def test_a_token_answer_without_a_token_is_an_api_error(api, make_client):
    api["token-collection"].respond(200, text="<html>portal</html>")
    api.get("/collection/v1_0/account/balance").respond(200, json=BALANCE)
    async with make_client() as client:
        with pytest.raises(Exception) as info:
            await client.balance("collection")
    assert info.value.exit_code == ExitCode.API_REJECTED


async def test_ensure_token_for_doctor(api, make_client):
    async with make_client() as client:
        remaining = await client.ensure_token("collection")
        assert 3590 < remaining <= 3600
        await client.ensure_token("collection")
        assert api["token-collection"].call_count == 1
        await client.ensure_token("collection", refresh=True)
        assert api["token-collection"].call_count == 2


def test_the_sync_flow_works_too(tmp_path):
    """The same Auth also serves a synchronous httpx.Client."""
    from momo_cli.api.auth import MomoTokenAuth
    from momo_cli.api.tokens import TokenKey

    calls = []

    def handler(request):
        calls.append(request)
        if request.url.path.endswith("/token/"):
            return httpx.Response(200, json={"access_token": f"t{len(calls)}", "expires_in": 3600})
        if len(calls) == 2:
            return httpx.Response(401)
        return httpx.Response(200, json=BALANCE)

    auth = MomoTokenAuth(
        token_url=f"{BASE}/collection/token/", product="collection", user_id="u", api_key="k",
        subscription_key="s", target_environment="sandbox", cache=TokenCache(tmp_path),
        key=TokenKey(BASE, "sandbox", "collection", "u"),
    )
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert client.get(f"{BASE}/collection/v1_0/account/balance", auth=auth).status_code == 200
    assert [c.url.path for c in calls] == [
        "/collection/token/", "/collection/v1_0/account/balance", "/collection/token/", "/collection/v1_0/account/balance"
    ]
    assert calls[-1].headers["Authorization"] == "Bearer t3"
