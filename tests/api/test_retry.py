"""GETs are retried with back-off; creating POSTs never blindly (exactly one call); 429 waits."""

from __future__ import annotations

import httpx
import pytest

from momo_cli.api.retry import RetryPolicy
from momo_cli.errors import AlreadyExists, ApiError, NetworkError, RateLimited
from momo_cli.exitcodes import ExitCode

from .conftest import new_ref

pytestmark = pytest.mark.anyio

BALANCE = {"availableBalance": "1000", "currency": "EUR"}
BODY = {"amount": "1", "currency": "EUR", "payer": {"partyIdType": "MSISDN", "partyId": "46733123450"}}
BALANCE_PATH = "/collection/v1_0/account/balance"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("reset"),
        httpx.Response(500),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(503, json={"code": "SERVICE_UNAVAILABLE", "message": "try later"}),
        httpx.Response(504),
        httpx.Response(500, json={"statusCode": 500, "message": "Internal server error"}),
    ],
    ids=lambda f: type(f).__name__ if isinstance(f, Exception) else str(f.status_code),
)
async def test_gets_are_retried_with_back_off(api, make_client, sleeps, failure):
    route = api.get(BALANCE_PATH)
    route.side_effect = [failure, failure, httpx.Response(200, json=BALANCE)]
    async with make_client() as client:
        assert (await client.balance("collection")).available_text == "1000"
    assert route.call_count == 3
    assert sleeps.calls == [0.5, 1.0]  # rand() == 0: no jitter


async def test_gets_give_up_after_the_last_attempt(api, make_client, sleeps):
    route = api.get(BALANCE_PATH).respond(503)
    async with make_client() as client:
        with pytest.raises(NetworkError) as info:
            await client.balance("collection")
    assert route.call_count == 3 and len(sleeps.calls) == 2
    assert info.value.exit_code == ExitCode.NETWORK


async def test_a_get_that_times_out_every_time_is_a_network_error(api, make_client, sleeps):
    route = api.get(BALANCE_PATH).mock(side_effect=httpx.ReadTimeout("slow"))
    async with make_client() as client:
        with pytest.raises(NetworkError):
            await client.balance("collection")
    assert route.call_count == 3


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"code": "NOT_ALLOWED_TARGET_ENVIRONMENT", "message": "no"}),
        httpx.Response(400),
        httpx.Response(404, json={"code": "RESOURCE_NOT_FOUND", "message": "no"}),
    ],
)
async def test_gets_are_not_retried_on_definite_answers(api, make_client, sleeps, answer):
    route = api.get(BALANCE_PATH).mock(return_value=answer)
    async with make_client() as client:
        with pytest.raises(ApiError):
            await client.balance("collection")
    assert route.call_count == 1 and sleeps.calls == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
        httpx.Response(500, json={"code": "SERVICE_UNAVAILABLE", "message": "x"}),
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ReadError("reset"),
    ],
    ids=lambda f: type(f).__name__ if isinstance(f, Exception) else str(f.status_code),
)
async def test_creating_posts_are_sent_exactly_once(api, make_client, sleeps, failure):
    route = api.post("/collection/v1_0/requesttopay").mock(side_effect=[failure, httpx.Response(202)])
    async with make_client() as client:
        with pytest.raises(NetworkError) as info:
            await client.request_to_pay(new_ref(), BODY)
    assert route.call_count == 1
    assert sleeps.calls == []
    assert "the journal keeps the reference id" in info.value.hint
    if isinstance(failure, (httpx.ConnectError, httpx.ConnectTimeout)):
        assert info.value.request_sent is False  # the journal may resend it with the same id
    else:
        assert "outcome is unknown" in info.value.hint and info.value.request_sent is None


async def test_500_with_a_code_on_a_post_is_a_rejection_sent_once(api, make_client, sleeps):
    route = api.post("/collection/v1_0/requesttopay").respond(
        500, json={"code": "INTERNAL_PROCESSING_ERROR", "message": "An internal error occurred while processing."}
    )
    async with make_client() as client:
        with pytest.raises(ApiError) as info:
            await client.request_to_pay(new_ref(), BODY)
    assert route.call_count == 1 and info.value.exit_code == ExitCode.API_REJECTED


async def test_a_429_on_a_post_is_resent_with_the_same_reference_id_after_retry_after(api, make_client, sleeps):
    ref = new_ref()
    route = api.post("/collection/v1_0/requesttopay").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(202)]
    )
    async with make_client() as client:
        await client.request_to_pay(ref, BODY)
    assert route.call_count == 2
    assert sleeps.calls == [3.0]
    assert [c.request.headers["X-Reference-Id"] for c in route.calls] == [ref, ref]
    assert route.calls[0].request.content == route.calls[1].request.content


async def test_a_429_after_the_resend_is_rate_limited(api, make_client, sleeps):
    route = api.post("/collection/v1_0/requesttopay").respond(429, json={"statusCode": 429, "message": "Try again in 2 seconds."})
    async with make_client() as client:
        with pytest.raises(RateLimited) as info:
            await client.request_to_pay(new_ref(), BODY)
    assert route.call_count == 2 and sleeps.calls == [2.0]
    assert info.value.retry_after == 2 and info.value.exit_code == ExitCode.NETWORK


async def test_a_409_after_a_resend_is_reported_as_already_exists(api, make_client, sleeps):
    route = api.post("/collection/v1_0/requesttopay").mock(
        side_effect=[httpx.Response(429), httpx.Response(409, json={"code": "RESOURCE_ALREADY_EXIST", "message": "dup"})]
    )
    async with make_client() as client:
        with pytest.raises(AlreadyExists):
            await client.request_to_pay(new_ref(), BODY)
    assert route.call_count == 2


async def test_get_429_honours_retry_after(api, make_client, sleeps):
    route = api.get(BALANCE_PATH).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "4"}), httpx.Response(200, json=BALANCE)]
    )
    async with make_client() as client:
        await client.balance("collection")
    assert route.call_count == 2 and sleeps.calls == [4.0]


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(api, make_client, sleeps):
    route = api.get(BALANCE_PATH).respond(429, headers={"Retry-After": "3600"})
    async with make_client() as client:
        with pytest.raises(RateLimited) as info:
            await client.balance("collection")
    assert route.call_count == 1 and sleeps.calls == []
    assert info.value.retry_after == 3600 and "3600" in info.value.hint


async def test_a_token_call_that_fails_to_connect_is_retried_even_for_a_post(api, make_client, sleeps):
    api["token-collection"].mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"access_token": "t", "expires_in": 3600})]
    )
    route = api.post("/collection/v1_0/requesttopay").respond(202)
    async with make_client() as client:
        await client.request_to_pay(new_ref(), BODY)
    assert route.call_count == 1 and api["token-collection"].call_count == 2


def test_back_off_grows_caps_and_jitters():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.5, rand=lambda: 0.0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    jittered = RetryPolicy(base_delay=1.0, jitter=0.5, rand=lambda: 1.0)
    assert jittered.backoff(1) == 0.5
