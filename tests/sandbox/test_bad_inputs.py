"""A corpus of bad inputs, fixed and generated: every answer has the provider's error shape, never a bare 500."""

from __future__ import annotations

import json
import string
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from momo_cli.operations import OPERATIONS
from tests.support.emulator import SUBSCRIPTION_KEY, payment

MOMO_500_CODES = {"NOT_ALLOWED_TARGET_ENVIRONMENT", "INVALID_CURRENCY", "INVALID_CALLBACK_URL_HOST",
                  "INTERNAL_PROCESSING_ERROR", "NOT_ALLOWED", "SERVICE_UNAVAILABLE"}


def assert_provider_shape(r) -> None:
    """2xx, or an error body the provider sends: {code,message}, {error} on /token/, APIM {statusCode,message}."""
    if r.status_code < 300:
        return
    body = r.json()
    assert isinstance(body, dict), r.text
    if set(body) == {"code", "message"}:
        assert isinstance(body["code"], str) and body["code"] and isinstance(body["message"], str)
        if r.status_code >= 500:
            assert body["code"] in MOMO_500_CODES, body
    elif set(body) == {"error"}:
        assert r.status_code == 401 and "/token" in r.request.url.path
    else:
        assert set(body) == {"statusCode", "message"} and body["statusCode"] == r.status_code in (401, 429), body


CREATE_ROUTES = [(op.product, f"/{op.product}{path}", op.party_field)
                 for op in OPERATIONS.values() for path in op.create_paths.values()]

CORPUS = [
    b"", b" ", b"{", b"}", b"[]", b"null", b"true", b"0", b'"text"', b"\x00\x01\x02", b"\xc3\x28", b"{}" * 3,
    b'{"amount": Infinity}', b'{"amount": -Infinity, "currency": "EUR"}', b'{"a":' * 5000,
    json.dumps({"amount": {"value": 1}, "currency": "EUR"}).encode(),
    json.dumps({"amount": "1", "currency": ["EUR"]}).encode(),
    json.dumps({"amount": "1", "currency": "EUR", "payer": [], "payee": []}).encode(),
    json.dumps({"amount": "1", "currency": "EUR", "payer": {}, "payee": {}}).encode(),
    json.dumps({"amount": "1" * 400, "currency": "EUR", "payer": {"partyIdType": "MSISDN", "partyId": "1" * 400},
                "payee": {"partyIdType": "MSISDN", "partyId": "46733123999"}, "referenceIdToRefund": "x" * 5000}).encode(),
    json.dumps({"amount": "1", "currency": "EUR", "externalId": "x" * 10_000, "referenceIdToRefund": None}).encode(),
    json.dumps({"amount": "٣", "currency": "EUR"}).encode(),  # a non-ASCII digit
    json.dumps({"amount": " 1 ", "currency": " eur "}).encode(),
]


@pytest.fixture
def creds(emulator_api):
    return emulator_api.provision()


@pytest.mark.parametrize("product,path,field", CREATE_ROUTES)
def test_corpus_on_every_creating_route(emulator_api, creds, product, path, field):
    for body in CORPUS:
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            headers = {**emulator_api.headers(creds, product), "X-Reference-Id": str(uuid.uuid4()),
                       "Content-Type": content_type}
            r = emulator_api.client.post(path, headers=headers, content=body)
            assert r.status_code in (202, 400, 404, 500), (body, r.text)
            assert_provider_shape(r)


@pytest.mark.parametrize("path", [
    "/collection/v1_0/requesttopay/%00", "/collection/v1_0/requesttopay/..%2F..%2Fetc", "/collection/v1_0/%FF",
    "/collection/v1_0/accountholder/msisdn/%20/active", "/collection/v1_0/accountholder/%2e/x/active",
    "/v1_0/apiuser/" + "a" * 5000, "/collection/v1_0/account/balance/" + "E" * 300, "//collection//token//",
    "/collection/v1_0/requesttopay/" + str(uuid.uuid4()) + "/deliverynotification/extra",
])
def test_odd_paths(emulator_api, creds, path):
    for method in ("GET", "POST", "PUT", "DELETE"):
        r = emulator_api.client.request(method, path, headers=emulator_api.headers(creds, "collection"))
        assert r.status_code in (200, 400, 404, 405), r.text
        assert_provider_shape(r)


def test_odd_headers(emulator_api, creds):
    for name, value in (("Authorization", "Bearer " + "x" * 8000), ("Authorization", "Basic " + "=" * 50),
                        ("X-Target-Environment", "sandbox\t"), ("X-Reference-Id", "{" + str(uuid.uuid4()) + "}"),
                        ("X-Callback-Url", "http://[::1"), ("X-Callback-Url", "http://" + "a" * 3000),
                        ("Content-Length", "12")):
        headers = {**emulator_api.headers(creds, "collection"), "X-Reference-Id": str(uuid.uuid4()), name: value}
        try:
            r = emulator_api.client.post("/collection/v1_0/requesttopay", headers=headers,
                                         content=json.dumps(payment()).encode() if name != "Content-Length" else b"{}")
        except Exception as exc:  # noqa: BLE001 - httpx may refuse to send a lying Content-Length
            assert name == "Content-Length", exc
            continue
        assert_provider_shape(r)
    r = emulator_api.client.post("/collection/token/", headers={"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY,
                                                               "Authorization": "Basic " + "ü".encode().hex()})
    assert r.status_code == 401 and r.json() == {"error": "login_failed"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
payment_like = st.fixed_dictionaries({}, optional={
    "amount": st.one_of(st.text(string.digits + ".-e", max_size=8), st.integers(-5, 10**13), st.none()),
    "currency": st.sampled_from(["EUR", "eur", "UGX", "", "EURO", None]),
    "externalId": st.one_of(st.text(max_size=10), st.integers()),
    "payer": st.one_of(json_values, st.fixed_dictionaries({
        "partyIdType": st.sampled_from(["MSISDN", "msisdn", "EMAIL", "PARTY_CODE", "X", None]),
        "partyId": st.one_of(st.text(string.digits, min_size=0, max_size=16), st.text(max_size=10)),
    })),
    "payerMessage": st.text(max_size=170),
    "payeeNote": st.one_of(st.text(max_size=170), st.integers()),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, payment_like), reference=st.one_of(st.just(None), st.text(max_size=40)))
def test_generated_request_to_pay_bodies(emulator_api, creds, body, reference):
    headers = {**emulator_api.headers(creds, "collection"), "X-Reference-Id": str(uuid.uuid4())}
    if reference is not None:
        headers["X-Reference-Id"] = reference.encode("ascii", "ignore").decode().strip() or "x"
    r = emulator_api.client.post("/collection/v1_0/requesttopay", headers=headers, content=json.dumps(body))
    assert r.status_code in (202, 400, 500), r.text
    assert_provider_shape(r)
    if r.status_code == 202:
        status = emulator_api.status(creds, "collection", "request_to_pay", headers["X-Reference-Id"].lower())
        assert status.status_code == 200 and status.json()["status"] in ("SUCCESSFUL", "FAILED", "PENDING")
