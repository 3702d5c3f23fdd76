"""Sandbox user provisioning and tokens (momo-api.md sections 2, 11 and 12)."""

from __future__ import annotations

import base64
import dataclasses
import re
import time
import uuid

import pytest

from momo_cli.sandbox.responses import APIM_INVALID_KEY
from tests.support.emulator import SUBSCRIPTION_KEY, Credentials, SandboxApi, make_client

SK = {"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}


def test_create_user_key_and_read_it_back(emulator_client):
    user_id = str(uuid.uuid4())
    r = emulator_client.post("/v1_0/apiuser", headers={**SK, "X-Reference-Id": user_id},
                             json={"providerCallbackHost": "webhook.example.com"})
    assert r.status_code == 201 and r.content == b""
    r = emulator_client.post(f"/v1_0/apiuser/{user_id}/apikey", headers=SK)
    assert r.status_code == 201
    assert re.fullmatch(r"[0-9a-f]{32}", r.json()["apiKey"])
    r = emulator_client.get(f"/v1_0/apiuser/{user_id}", headers=SK)
    assert r.status_code == 200
    assert r.json() == {"providerCallbackHost": "webhook.example.com", "targetEnvironment": "sandbox"}


def test_reused_user_id_is_409_and_keeps_the_first(emulator_client):
    user_id = str(uuid.uuid4())
    headers = {**SK, "X-Reference-Id": user_id}
    assert emulator_client.post("/v1_0/apiuser", headers=headers, json={"providerCallbackHost": "a.example"}).status_code == 201
    r = emulator_client.post("/v1_0/apiuser", headers=headers, json={"providerCallbackHost": "b.example"})
    assert r.status_code == 409
    assert r.json() == {"code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id. Creation of resource failed."}
    assert emulator_client.get(f"/v1_0/apiuser/{user_id}", headers=SK).json()["providerCallbackHost"] == "a.example"


@pytest.mark.parametrize("ref", [None, "", "not-a-uuid", str(uuid.uuid1()), "12345678-1234-4234-1234-123456789012"])
def test_user_id_must_be_uuid4(emulator_client, ref):
    headers = dict(SK)
    if ref is not None:
        headers["X-Reference-Id"] = ref
    r = emulator_client.post("/v1_0/apiuser", headers=headers, json={"providerCallbackHost": "a.example"})
    assert r.status_code == 400
    assert r.json()["code"] == "BAD_REQUEST" and r.json()["message"]


@pytest.mark.parametrize("body", [b"", b"{}", b'{"providerCallbackHost": 5}', b"[1]", b"{bad", b'{"providerCallbackHost": ""}'])
def test_user_body_must_name_the_callback_host(emulator_client, body):
    r = emulator_client.post("/v1_0/apiuser", headers={**SK, "X-Reference-Id": str(uuid.uuid4()),
                             "Content-Type": "application/json"}, content=body)
    assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST"


def test_unknown_user_is_404(emulator_client):
    unknown = str(uuid.uuid4())
    for r in (emulator_client.post(f"/v1_0/apiuser/{unknown}/apikey", headers=SK),
              emulator_client.get(f"/v1_0/apiuser/{unknown}", headers=SK)):
        assert r.status_code == 404
        assert r.json() == {"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."}
    assert emulator_client.get("/v1_0/apiuser/nope", headers=SK).status_code == 400


@pytest.mark.parametrize("key", [None, "", "   "])
def test_subscription_key_is_required_everywhere(emulator_api, emulator_client, key):
    creds = emulator_api.provision()
    headers = {} if key is None else {"Ocp-Apim-Subscription-Key": key}
    expected = {"statusCode": 401, "message": APIM_INVALID_KEY}
    calls = [
        emulator_client.post("/v1_0/apiuser", headers={**headers, "X-Reference-Id": str(uuid.uuid4())},
                             json={"providerCallbackHost": "x"}),
        emulator_client.post(f"/v1_0/apiuser/{creds.user_id}/apikey", headers=headers),
        emulator_client.get(f"/v1_0/apiuser/{creds.user_id}", headers=headers),
        emulator_client.post("/collection/token/", headers={**headers, "Authorization": creds.basic}),
        emulator_client.get("/collection/v1_0/account/balance", headers={
            **headers, "Authorization": "Bearer " + emulator_api.token(creds, "collection"),
            "X-Target-Environment": "sandbox"}),
    ]
    for r in calls:
        assert r.status_code == 401, r.request.url
        assert r.json() == expected


def test_subscription_key_as_query_parameter(emulator_client):
    r = emulator_client.post("/v1_0/apiuser?subscription-key=abc", headers={"X-Reference-Id": str(uuid.uuid4())},
                             json={"providerCallbackHost": "x"})
    assert r.status_code == 201


def test_apikey_accepts_an_empty_object_and_keys_stay_valid(emulator_api, emulator_client):
    creds = emulator_api.provision()
    r = emulator_client.post(f"/v1_0/apiuser/{creds.user_id}/apikey", headers={**SK, "Content-Type": "application/json"},
                             content=b"{}")
    assert r.status_code == 201
    second = Credentials(creds.user_id, r.json()["apiKey"])
    for c in (creds, second):
        r = emulator_client.post("/collection/token/", headers={**SK, "Authorization": c.basic})
        assert r.status_code == 200


# -- tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize("product", ["collection", "disbursement", "remittance"])
def test_token_shape(emulator_api, emulator_client, product):
    creds = emulator_api.provision()
    r = emulator_client.post(f"/{product}/token/", headers={**SK, "Authorization": creds.basic,
                             "Content-Type": "application/json"}, content=b"{}")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "access_token" and body["expires_in"] == 3600
    assert body["access_token"].count(".") == 2  # JWT-shaped


@pytest.mark.parametrize("authorization", [
    None, "", "Basic", "Basic !!!", "Bearer abc", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(f"{uuid.uuid4()}:{'0' * 32}".encode()).decode(),
])
def test_token_rejects_bad_basic_credentials(emulator_client, authorization):
    headers = dict(SK)
    if authorization is not None:
        headers["Authorization"] = authorization
    r = emulator_client.post("/collection/token/", headers=headers)
    assert r.status_code == 401
    assert set(r.json()) == {"error"}


def test_token_rejects_a_wrong_key(emulator_api, emulator_client):
    creds = emulator_api.provision()
    wrong = dataclasses.replace(creds, api_key="f" * 32)
    r = emulator_client.post("/collection/token/", headers={**SK, "Authorization": wrong.basic})
    assert r.status_code == 401 and "error" in r.json()


def test_token_is_valid_only_for_its_product(emulator_api, emulator_client):
    creds = emulator_api.provision()
    token = emulator_api.token(creds, "collection")
    headers = {**SK, "Authorization": f"Bearer {token}", "X-Target-Environment": "sandbox"}
    assert emulator_client.get("/collection/v1_0/account/balance", headers=headers).status_code == 200
    r = emulator_client.get("/disbursement/v1_0/account/balance", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer nonsense", "Basic abc", "bearer x.y.z"])
def test_bad_bearer_is_401(emulator_api, emulator_client, authorization):
    headers = {**SK, "X-Target-Environment": "sandbox"}
    if authorization is not None:
        headers["Authorization"] = authorization
    r = emulator_client.get("/collection/v1_0/account/balance", headers=headers)
    assert r.status_code == 401
    assert set(r.json()) == {"code", "message"}


def test_token_expires(emulator_config):
    config = dataclasses.replace(emulator_config, token_ttl=1)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        r = client.post("/collection/token/", headers={**SK, "Authorization": creds.basic})
        assert r.json()["expires_in"] == 1
        headers = {**SK, "Authorization": "Bearer " + r.json()["access_token"], "X-Target-Environment": "sandbox"}
        assert client.get("/collection/v1_0/account/balance", headers=headers).status_code == 200
        time.sleep(1.1)
        r = client.get("/collection/v1_0/account/balance", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED"


def test_tokens_survive_a_new_process_view_of_the_database(emulator_config, emulator_api):
    """A token issued by one app is accepted by another app (own store, own connection) on the same file."""
    from momo_cli.sandbox.app import create_app
    from momo_cli.sandbox.store import Store

    creds = emulator_api.provision()
    token = emulator_api.token(creds, "collection")
    other_store = Store(emulator_config.db_path)
    try:
        import httpx

        from tests.support.emulator import EMULATOR_BASE, ThreadedTransport

        transport = ThreadedTransport(httpx.ASGITransport(app=create_app(emulator_config, store=other_store)))
        with httpx.Client(transport=transport, base_url=EMULATOR_BASE) as client:
            r = client.get("/collection/v1_0/account/balance", headers={
                **SK, "Authorization": f"Bearer {token}", "X-Target-Environment": "sandbox"})
            assert r.status_code == 200
    finally:
        other_store.close()


def test_reset_forgets_users_and_tokens(emulator_api, emulator_client):
    creds = emulator_api.provision()
    token = emulator_api.token(creds, "collection")
    assert emulator_client.post("/_sandbox/reset").json() == {"reset": True}
    assert emulator_client.get(f"/v1_0/apiuser/{creds.user_id}", headers=SK).status_code == 404
    r = emulator_client.get("/collection/v1_0/account/balance", headers={
        **SK, "Authorization": f"Bearer {token}", "X-Target-Environment": "sandbox"})
    assert r.status_code == 401
