"""The synchronous errors of momo-api.md sections 7, 12 and 13, and where the emulator is lenient."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.emulator import SUBSCRIPTION_KEY, payment

OPS = [("collection", "request_to_pay", "v1_0", "payer"), ("collection", "request_to_withdraw", "v2_0", "payer"),
       ("disbursement", "transfer", "v1_0", "payee"), ("disbursement", "deposit", "v2_0", "payee"),
       ("remittance", "transfer", "v1_0", "payee"), ("remittance", "cash_transfer", "v2_0", "payee")]


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message"} and body["code"] == code and body["message"], body
    return body


@pytest.fixture
def creds(emulator_api):
    return emulator_api.provision(callback_host="callbacks.example.com")


@pytest.mark.parametrize("product,operation,version,field", OPS)
def test_wrong_target_environment_is_500(emulator_api, creds, product, operation, version, field):
    for env in ("mtnuganda", "", "SANDBOX "):
        _, r = emulator_api.create(creds, product, operation, payment(party_field=field), version=version,
                                   headers={"X-Target-Environment": env})
        body = _error(r, 500, "NOT_ALLOWED_TARGET_ENVIRONMENT")
        assert body["message"] == "Access to target environment is forbidden."
    headers = emulator_api.headers(creds, product)
    del headers["X-Target-Environment"]
    r = emulator_api.client.get(f"/{product}/v1_0/account/balance", headers=headers)
    _error(r, 500, "NOT_ALLOWED_TARGET_ENVIRONMENT")


@pytest.mark.parametrize("product,operation,version,field", OPS)
def test_reference_id_must_be_uuid4(emulator_api, creds, product, operation, version, field):
    for ref in ("", "123", str(uuid.uuid1()), str(uuid.uuid4())[:-1], str(uuid.uuid4()) + "0"):
        _, r = emulator_api.create(creds, product, operation, payment(party_field=field), version=version,
                                   reference_id=ref)
        _error(r, 400, "BAD_REQUEST")
    assert emulator_api.client.get("/_sandbox/transactions").json() == []


@pytest.mark.parametrize("product,operation,version,field", OPS)
def test_other_currency_is_500_invalid_currency(emulator_api, creds, product, operation, version, field):
    for currency in ("UGX", "usd", "GHS"):
        _, r = emulator_api.create(creds, product, operation, payment(party_field=field, currency=currency),
                                   version=version)
        body = _error(r, 500, "INVALID_CURRENCY")
        assert body["message"] == "Currency not supported."


def test_balance_in_another_currency_is_500(emulator_api, creds):
    headers = emulator_api.headers(creds, "collection")
    r = emulator_api.client.get("/collection/v1_0/account/balance/UGX", headers=headers)
    _error(r, 500, "INVALID_CURRENCY")
    r = emulator_api.client.get("/collection/v1_0/account/balance/eur", headers=headers)
    assert r.status_code == 200 and r.json()["currency"] == "EUR"


@pytest.mark.parametrize("product,operation,version,field", OPS)
def test_callback_host_must_match_the_api_user(emulator_api, creds, product, operation, version, field):
    for url in ("http://evil.example.com/cb", "https://callbacks.example.com.evil.org/x", "not a url",
                "ftp://callbacks.example.com/x"):
        _, r = emulator_api.create(creds, product, operation, payment(party_field=field), version=version,
                                   callback_url=url)
        _error(r, 500, "INVALID_CALLBACK_URL_HOST")
    _, r = emulator_api.create(creds, product, operation, payment(party_field=field), version=version,
                               callback_url="https://CALLBACKS.example.com:8443/momo?x=1")
    assert r.status_code == 202


def test_provider_callback_host_given_as_url(emulator_api):
    creds = emulator_api.provision(callback_host="https://webhook.example.org/abc")
    _, r = emulator_api.create(creds, "collection", "request_to_pay", payment(),
                               callback_url="https://webhook.example.org/other")
    assert r.status_code == 202


@pytest.mark.parametrize("product,operation,version,field", OPS)
def test_reused_reference_id_is_409_and_changes_nothing(emulator_api, creds, product, operation, version, field):
    ref, r = emulator_api.create(creds, product, operation, payment("46733123999", amount="5", party_field=field),
                                 version=version)
    assert r.status_code == 202
    before = emulator_api.status(creds, product, operation, ref).json()
    _, r = emulator_api.create(creds, product, operation, payment("46733123451", amount="7", party_field=field),
                               version=version, reference_id=ref)
    body = _error(r, 409, "RESOURCE_ALREADY_EXIST")
    assert body["message"] == "Duplicated reference id. Creation of resource failed."
    assert emulator_api.status(creds, product, operation, ref).json() == before
    assert len(emulator_api.client.get("/_sandbox/transactions").json()) == 1


def test_reused_reference_id_across_operations_is_409(emulator_api, creds):
    ref, _ = emulator_api.create(creds, "collection", "request_to_pay", payment())
    _, r = emulator_api.create(creds, "disbursement", "transfer", payment(party_field="payee"), reference_id=ref)
    _error(r, 409, "RESOURCE_ALREADY_EXIST")


def test_unknown_status_ids_are_404(emulator_api, creds):
    ref, _ = emulator_api.create(creds, "collection", "request_to_pay", payment())
    other = emulator_api.provision()
    for who, product, operation, reference in (
        (creds, "collection", "request_to_pay", str(uuid.uuid4())),
        (creds, "collection", "request_to_withdraw", ref),  # another operation's id
        (other, "collection", "request_to_pay", ref),  # another API user's transaction
        (creds, "disbursement", "transfer", ref),
    ):
        r = emulator_api.status(who, product, operation, reference)
        body = _error(r, 404, "RESOURCE_NOT_FOUND")
        assert body["message"] == "Requested resource was not found."
    r = emulator_api.client.get("/collection/v1_0/requesttopay/not-a-uuid",
                                headers=emulator_api.headers(creds, "collection"))
    _error(r, 400, "BAD_REQUEST")


@pytest.mark.parametrize("path", ["/", "/collection", "/collection/v1_0/nothing", "/v2_0/apiuser",
                                  "/collection/v1_0/transfer", "/disbursement/v1_0/requesttopay", "/_sandbox/nope",
                                  "/remittance/v1_0/cashtransfer", "/collection/token/extra"])
def test_unknown_paths_are_404_with_the_provider_shape(emulator_client, path):
    for method in ("GET", "POST"):
        r = emulator_client.request(method, path, headers={"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY})
        _error(r, 404, "RESOURCE_NOT_FOUND")


@pytest.mark.parametrize("method,path", [("GET", "/collection/v1_0/requesttopay"), ("PUT", "/v1_0/apiuser"),
                                         ("DELETE", "/collection/v1_0/account/balance"), ("GET", "/collection/token/"),
                                         ("POST", "/_sandbox/transactions"), ("PATCH", "/remittance/v2_0/cashtransfer")])
def test_wrong_methods_are_405(emulator_client, method, path):
    r = emulator_client.request(method, path)
    _error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["allow"]


# -- bodies ----------------------------------------------------------------------------------------

BAD_BODIES = [
    (b"", "empty body"), (b"{", "truncated"), (b"null", "null"), (b"[]", "array"), (b'"x"', "string"),
    (b"\xff\xfe", "not utf-8"), (b'{"amount": NaN}', "NaN"),
    (json.dumps({"currency": "EUR", "payer": {"partyIdType": "MSISDN", "partyId": "46733123999"}}).encode(), "no amount"),
    (json.dumps({"amount": "1", "payer": {"partyIdType": "MSISDN", "partyId": "46733123999"}}).encode(), "no currency"),
    (json.dumps({"amount": "1", "currency": "EUR"}).encode(), "no payer"),
    (json.dumps(payment(amount=True)).encode(), "bool amount"),
    (json.dumps(payment(amount=[1])).encode(), "list amount"),
    (json.dumps(payment(amount="ten")).encode(), "word amount"),
    (json.dumps(payment(amount="-5")).encode(), "negative"),
    (json.dumps(payment(amount="0")).encode(), "zero"),
    (json.dumps(payment(amount="1e3")).encode(), "exponent string"),
    (b'{"amount": 1e-3, "currency": "EUR", "payer": {"partyIdType": "MSISDN", "partyId": "46733123999"}}', "tiny"),
    (json.dumps(payment(amount="1.001")).encode(), "too many decimals"),
    (json.dumps(payment(currency=5)).encode(), "numeric currency"),
    (json.dumps(payment(currency="EURO")).encode(), "long currency"),
    (json.dumps(payment(externalId=12)).encode(), "numeric external id"),
    (json.dumps({**payment(), "payer": "46733123999"}).encode(), "payer as string"),
    (json.dumps({**payment(), "payer": {"partyIdType": "PHONE", "partyId": "46733123999"}}).encode(), "bad type"),
    (json.dumps({**payment(), "payer": {"partyIdType": "MSISDN", "partyId": 46733123999}}).encode(), "numeric id"),
    (json.dumps({**payment(), "payer": {"partyIdType": "MSISDN", "partyId": "+46 733"}}).encode(), "bad msisdn"),
    (json.dumps({**payment(), "payer": {"partyIdType": "EMAIL", "partyId": "nope"}}).encode(), "bad email"),
    (json.dumps({**payment(), "payer": {"partyIdType": "PARTY_CODE", "partyId": "nope"}}).encode(), "bad code"),
    (json.dumps(payment(payerMessage="x" * 161)).encode(), "long message"),
    (json.dumps(payment(payeeNote="y" * 161)).encode(), "long note"),
    (json.dumps(payment(payerMessage=7)).encode(), "numeric message"),
    (json.dumps(payment(payerMessage="Tom's shop")).encode(), "apostrophe"),
    (json.dumps(payment(payeeNote="a & b")).encode(), "ampersand"),
    (json.dumps(payment(payeeNote="<b>")).encode(), "angle brackets"),
    (json.dumps(payment(payeeNote='say "hi"')).encode(), "quotes"),
    (json.dumps(payment(payeeNote="line\nbreak")).encode(), "control character"),
    (b"[" * 100_000, "deep nesting"),
]


@pytest.mark.parametrize("body,why", BAD_BODIES, ids=[why for _, why in BAD_BODIES])
def test_bad_bodies_are_400(emulator_api, creds, body, why):
    _, r = emulator_api.create(creds, "collection", "request_to_pay", body,
                               headers={"Content-Type": "application/json"})
    _error(r, 400, "BAD_REQUEST")


def test_messages_of_160_characters_are_fine(emulator_api, creds):
    _, r = emulator_api.create(creds, "collection", "request_to_pay",
                               payment(payerMessage="m" * 160, payeeNote="é" * 160))
    assert r.status_code == 202


def test_huge_bodies_are_413(emulator_api, creds):
    body = json.dumps(payment(payerMessage="x" * (1024 * 1024 + 10))).encode()
    _, r = emulator_api.create(creds, "collection", "request_to_pay", body)
    _error(r, 413, "REQUEST_TOO_LARGE")


def test_refund_needs_a_reference_to_refund(emulator_api, creds):
    for body in ({"amount": "1", "currency": "EUR"}, {"amount": "1", "currency": "EUR", "referenceIdToRefund": 5},
                 {"amount": "1", "currency": "EUR", "referenceIdToRefund": "not-an-id"}):
        _, r = emulator_api.create(creds, "disbursement", "refund", body)
        _error(r, 400, "BAD_REQUEST")


# -- leniency (section 13) -------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "application/json;charset=UTF-8", "text/plain"])
def test_any_json_content_type(emulator_api, creds, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    _, r = emulator_api.create(creds, "collection", "request_to_pay", json.dumps(payment()), headers=headers)
    assert r.status_code == 202, r.text


def test_amounts_as_numbers_stay_exact(emulator_api, creds):
    raw = b'{"amount": 100.10, "currency": "EUR", "externalId": "n", "payer": {"partyIdType": "msisdn", "partyId": "46733123999"}}'
    ref, r = emulator_api.create(creds, "collection", "request_to_pay", raw)
    assert r.status_code == 202, r.text
    body = emulator_api.status(creds, "collection", "request_to_pay", ref).json()
    assert body["amount"] == "100.1" and body["payer"]["partyIdType"] == "MSISDN"
    ref, r = emulator_api.create(creds, "collection", "request_to_pay", payment(amount=250))
    assert emulator_api.status(creds, "collection", "request_to_pay", ref).json()["amount"] == "250"


def test_json_null_body_on_gets_and_bodies_on_token(emulator_api, creds):
    ref, _ = emulator_api.create(creds, "collection", "request_to_pay", payment())
    headers = {**emulator_api.headers(creds, "collection"), "Content-Type": "application/json"}
    r = emulator_api.client.request("GET", f"/collection/v1_0/requesttopay/{ref}", headers=headers, content=b"null")
    assert r.status_code == 200
    r = emulator_api.client.request("GET", "/collection/v1_0/account/balance", headers=headers, content=b"null")
    assert r.status_code == 200
    for body in (b"{}", b"null", b'{"grant_type":"client_credentials"}', b"garbage"):
        r = emulator_api.client.post("/collection/token/", content=body, headers={
            "Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY, "Authorization": creds.basic,
            "Content-Type": "application/json"})
        assert r.status_code == 200


def test_empty_messages_and_no_external_id_are_fine(emulator_api, creds):
    body = payment(payerMessage="", payeeNote="")
    del body["externalId"]
    ref, r = emulator_api.create(creds, "collection", "request_to_pay", body)
    assert r.status_code == 202
    result = emulator_api.status(creds, "collection", "request_to_pay", ref).json()
    assert "externalId" not in result and result["payerMessage"] == ""


def test_token_without_trailing_slash(emulator_api, creds):
    r = emulator_api.client.post("/collection/token", headers={"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY,
                                                               "Authorization": creds.basic})
    assert r.status_code == 200
