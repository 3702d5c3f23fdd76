"""Secrets (API keys, subscription keys, tokens) never reach the debug log or an error message."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
import respx

from momo_cli.api.provisioning import provision_sandbox_user
from momo_cli.errors import MomoCliError
from momo_cli.logs import RedactingFilter

from .conftest import API_KEY, BASE, SECRETS, SUBSCRIPTION_KEYS, TOKEN, USER_IDS, new_ref

pytestmark = pytest.mark.anyio

BODY = {"amount": "1", "currency": "EUR", "payer": {"partyIdType": "MSISDN", "partyId": "46733123450"}}


BASIC = tuple(base64.b64encode(f"{user}:{API_KEY}".encode()).decode() for user in USER_IDS.values())


def assert_clean(text: str, secrets=SECRETS + BASIC) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret leaked: {secret[:8]}..."


@pytest.fixture
def debug_log(caplog):
    caplog.set_level(logging.DEBUG, logger="momo_cli")
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="httpcore")
    return caplog


def logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


async def test_debug_log_of_a_full_session_has_no_secret(api, make_client, debug_log):
    ref = new_ref()
    api.post("/collection/v1_0/requesttopay").respond(202)
    api.get(f"/collection/v1_0/requesttopay/{ref}").respond(200, json={"status": "SUCCESSFUL", "amount": "1"})
    bal = api.get("/collection/v1_0/account/balance")
    bal.side_effect = [httpx.Response(401, json={"message": "bad token"}), httpx.Response(200, json={"availableBalance": "1"})]
    async with make_client() as client:
        await client.request_to_pay(ref, BODY)
        await client.request_to_pay_status(ref)
        await client.balance("collection")

    text = logged(debug_log)
    assert "-> POST https://sandbox.momodeveloper.mtn.com/collection/token/" in text
    assert "<- POST https://sandbox.momodeveloper.mtn.com/collection/v1_0/requesttopay 202" in text
    assert " ms)" in text
    assert "'authorization': 'Bearer ***'" in text and "'authorization': 'Basic ***'" in text
    assert "(not logged: it holds a secret)" in text
    assert_clean(text)


async def test_secrets_echoed_by_the_server_are_masked_in_logs_and_errors(api, make_client, debug_log):
    echo = f"Invalid token Bearer {TOKEN} for key {SUBSCRIPTION_KEYS['collection']} and {API_KEY}"
    api.post("/collection/v1_0/requesttopay").respond(500, json={"code": "NOT_ALLOWED", "message": echo})
    async with make_client() as client:
        with pytest.raises(MomoCliError) as info:
            await client.request_to_pay(new_ref(), BODY)
    assert_clean(info.value.one_line())
    assert_clean(logged(debug_log))


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, json={"error": f"bad secret {API_KEY}"}),
        httpx.Response(400, json={"error": "invalid_client", "error_description": f"key {SUBSCRIPTION_KEYS['collection']}"}),
        httpx.Response(500, text=f"<html><title>{API_KEY}</title></html>", headers={"content-type": "text/html"}),
    ],
)
async def test_token_call_errors_carry_no_secret(api, make_client, debug_log, answer):
    api["token-collection"].mock(return_value=answer)
    async with make_client() as client:
        with pytest.raises(MomoCliError) as info:
            await client.balance("collection")
    assert_clean(info.value.one_line())
    assert_clean(logged(debug_log))


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_network_errors_carry_no_secret(api, make_client, failure):
    api.post("/collection/v1_0/requesttopay").mock(side_effect=failure(f"dropped {TOKEN}"))
    async with make_client() as client:
        with pytest.raises(MomoCliError) as info:
            await client.request_to_pay(new_ref(), BODY)
    assert_clean(info.value.one_line())


async def test_provisioning_logs_no_key(debug_log):
    sub_key = "SUBKEY-PROV-SECRET-0123456789ab"
    api_key = "APIKEY-PROV-SECRET-fedcba987654"
    with respx.mock(base_url=BASE) as router:
        router.post("/v1_0/apiuser").respond(201)
        router.get(url__regex=r"/v1_0/apiuser/[0-9a-f-]+$").respond(
            200, json={"providerCallbackHost": "example.com", "targetEnvironment": "sandbox"}
        )
        router.post(url__regex=r"/apikey$").respond(201, json={"apiKey": api_key})
        user = await provision_sandbox_user(BASE, sub_key, "example.com")
    assert user.api_key == api_key
    text = logged(debug_log)
    assert "/v1_0/apiuser" in text
    assert_clean(text, (sub_key, api_key))
    assert_clean(repr(user), (api_key,))


async def test_the_cli_debug_handler_sees_only_masked_text(api, make_client):
    """With the handler `--debug` installs (its RedactingFilter too), output has no secret."""
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("momo_cli")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        api.get("/collection/v1_0/account/balance").respond(200, json={"availableBalance": "3"})
        async with make_client() as client:
            await client.balance("collection")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert "account/balance" in stream.getvalue()
    assert_clean(stream.getvalue())


def test_reprs_hide_secrets(tmp_path):
    from momo_cli.api.auth import MomoTokenAuth
    from momo_cli.api.client import MomoClient
    from momo_cli.api.tokens import TokenCache, TokenKey

    from .conftest import credentials

    auth = MomoTokenAuth(
        token_url=f"{BASE}/collection/token/", product="collection", user_id="u", api_key=API_KEY,
        subscription_key=SUBSCRIPTION_KEYS["collection"], target_environment="sandbox",
        cache=TokenCache(tmp_path), key=TokenKey(BASE, "sandbox", "collection", "u"),
    )
    assert_clean(repr(auth) + str(vars(TokenCache(tmp_path))))
    assert_clean(repr(MomoClient(BASE, "sandbox", credentials)))
