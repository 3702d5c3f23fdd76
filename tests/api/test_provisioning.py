"""Sandbox provisioning: exactly three requests, no sleep, and errors that say what to do."""

from __future__ import annotations

import uuid

import httpx
import pytest
import respx

from momo_cli.api.provisioning import create_api_key, get_api_user, provision_sandbox_user
from momo_cli.errors import AlreadyExists, AuthError, InvalidInput, NetworkError, NotFound
from momo_cli.exitcodes import ExitCode
from momo_cli.money import is_uuid4

from .conftest import BASE, Sleeps, json_of

pytestmark = pytest.mark.anyio

SUB_KEY = "SUBKEY-PROV-SECRET-0123456789ab"
API_KEY = "f1db798c98df4bcf83b538175893bbf0"


@pytest.fixture
def sandbox():
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        router.post("/v1_0/apiuser", name="create").respond(201)
        router.get(url__regex=r"/v1_0/apiuser/[0-9a-f-]+$", name="show").respond(
            200, json={"providerCallbackHost": "webhook.example.com", "targetEnvironment": "sandbox"}
        )
        router.post(url__regex=r"/v1_0/apiuser/[0-9a-f-]+/apikey$", name="key").respond(201, json={"apiKey": API_KEY})
        yield router


async def test_exactly_three_requests_and_no_sleep(sandbox):
    sleeps = Sleeps()
    user = await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com", sleep=sleeps)
    assert len(sandbox.calls) == 3
    assert sleeps.calls == []
    assert is_uuid4(user.user_id)
    assert user.api_key == API_KEY
    assert (user.provider_callback_host, user.target_environment) == ("webhook.example.com", "sandbox")

    create, show, key = (call.request for call in sandbox.calls)
    assert (create.method, create.url.path) == ("POST", "/v1_0/apiuser")
    assert create.headers["X-Reference-Id"] == user.user_id
    assert create.headers["Ocp-Apim-Subscription-Key"] == SUB_KEY
    assert create.headers["Content-Type"] == "application/json"
    assert json_of(create) == {"providerCallbackHost": "webhook.example.com"}
    assert (show.method, show.url.path) == ("GET", f"/v1_0/apiuser/{user.user_id}")
    assert show.headers["Ocp-Apim-Subscription-Key"] == SUB_KEY
    assert (key.method, key.url.path) == ("POST", f"/v1_0/apiuser/{user.user_id}/apikey")
    assert key.headers["Content-Length"] == "0" and key.content == b""
    for request in (create, show, key):
        assert "Authorization" not in request.headers
        assert "X-Target-Environment" not in request.headers


async def test_a_given_user_id_and_a_url_as_callback_host(sandbox):
    ref = str(uuid.uuid4())
    user = await provision_sandbox_user(BASE, SUB_KEY, "https://Webhook.Example.com/momo", user_id=ref)
    assert user.user_id == ref
    assert json_of(sandbox["create"].calls.last.request) == {"providerCallbackHost": "webhook.example.com"}


async def test_a_404_right_after_creation_is_asked_again_briefly(sandbox):
    sandbox["show"].side_effect = [
        httpx.Response(404, json={"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."}),
        httpx.Response(200, json={"providerCallbackHost": "webhook.example.com", "targetEnvironment": "sandbox"}),
    ]
    sleeps = Sleeps()
    await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com", sleep=sleeps)
    assert len(sandbox.calls) == 4 and len(sleeps.calls) == 1


async def test_a_user_that_never_appears_is_not_found(sandbox):
    sandbox["show"].respond(404, json={"code": "RESOURCE_NOT_FOUND", "message": "nope"})
    with pytest.raises(NotFound):
        await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com", sleep=Sleeps(), not_found_retries=2)
    assert sandbox["show"].call_count == 3 and sandbox["key"].call_count == 0


async def test_a_refused_subscription_key_says_where_to_copy_it(sandbox):
    sandbox["create"].respond(401, json={"statusCode": 401, "message": "Access denied due to invalid subscription key."})
    with pytest.raises(AuthError) as info:
        await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com")
    assert info.value.exit_code == ExitCode.AUTH
    assert "Primary key" in info.value.hint and "momodeveloper.mtn.com/developer" in info.value.hint
    assert SUB_KEY not in info.value.one_line()
    assert len(sandbox.calls) == 1


async def test_a_reused_user_id_is_already_exists(sandbox):
    sandbox["create"].respond(409, json={"code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id."})
    with pytest.raises(AlreadyExists):
        await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com", user_id=str(uuid.uuid4()))


async def test_network_failures_map_to_network_errors(sandbox):
    sandbox["create"].side_effect = httpx.ConnectError("refused")
    with pytest.raises(NetworkError):
        await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com")


@pytest.mark.parametrize("host", ["", "not a host", "exa mple.com", "https://", "-bad.example.com"])
async def test_bad_callback_hosts_are_refused_before_sending(sandbox, host):
    with pytest.raises(InvalidInput):
        await provision_sandbox_user(BASE, SUB_KEY, host)
    assert len(sandbox.calls) == 0


async def test_missing_subscription_key_and_bad_base_url_are_refused_before_sending(sandbox):
    with pytest.raises(InvalidInput):
        await provision_sandbox_user(BASE, "  ", "webhook.example.com")
    with pytest.raises(InvalidInput):
        await provision_sandbox_user("https://example.com", SUB_KEY, "webhook.example.com")
    assert len(sandbox.calls) == 0


async def test_get_api_user_for_provision_show(sandbox):
    ref = str(uuid.uuid4())
    user = await get_api_user(BASE, SUB_KEY, ref)
    assert user.provider_callback_host == "webhook.example.com" and user.target_environment == "sandbox"
    assert sandbox["show"].calls.last.request.url.path == f"/v1_0/apiuser/{ref}"
    assert len(sandbox.calls) == 1


async def test_get_api_user_unknown_is_not_found(sandbox):
    sandbox["show"].respond(404, json={"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."})
    with pytest.raises(NotFound):
        await get_api_user(BASE, SUB_KEY, str(uuid.uuid4()))


async def test_create_api_key_for_an_existing_user(sandbox):
    assert await create_api_key(BASE, SUB_KEY, str(uuid.uuid4())) == API_KEY


async def test_provisioning_over_a_given_transport_for_the_local_emulator():
    seen = []

    def handler(request):
        seen.append((request.method, request.url.path))
        if request.method == "GET":
            return httpx.Response(200, json={"providerCallbackHost": "localhost", "targetEnvironment": "sandbox"})
        if request.url.path.endswith("/apikey"):
            return httpx.Response(201, json={"apiKey": "k" * 32})
        return httpx.Response(201)

    user = await provision_sandbox_user("local", SUB_KEY, "localhost", transport=httpx.MockTransport(handler))
    assert [m for m, _ in seen] == ["POST", "GET", "POST"]
    assert user.target_environment == "sandbox"


async def test_repr_of_a_provisioned_user_masks_the_key(sandbox):
    user = await provision_sandbox_user(BASE, SUB_KEY, "webhook.example.com")
    assert API_KEY not in repr(user) and user.user_id in repr(user)
