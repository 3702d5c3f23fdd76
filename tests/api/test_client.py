"""Every endpoint: method, URL, headers and JSON body exactly as momo-api.md describes them."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from momo_cli.api.client import MomoClient
from momo_cli.api.models import (
    CashTransferRequest,
    CashTransferStatus,
    Party,
    PaymentRequest,
    RefundRequest,
    TransactionStatus,
    TransferRequest,
)
from momo_cli.errors import AlreadyExists, ApiError, ConfigError, InvalidInput, NotFound, UsageError
from momo_cli.exitcodes import ExitCode
from momo_cli.operations import OPERATIONS, get_operation

from .conftest import BASE, SUBSCRIPTION_KEYS, TOKEN, Creds, credentials, json_of, new_ref

pytestmark = pytest.mark.anyio

PAYER = Party.msisdn("46733123450")
PAY = PaymentRequest(amount="100", currency="EUR", external_id="ext-1", payer=PAYER, payer_message="pm", payee_note="pn")
PAY_JSON = {
    "amount": "100", "currency": "EUR", "externalId": "ext-1",
    "payer": {"partyIdType": "MSISDN", "partyId": "46733123450"}, "payerMessage": "pm", "payeeNote": "pn",
}
SEND = TransferRequest(amount="12.50", currency="EUR", external_id="ext-2", payee=PAYER)
SEND_JSON = {
    "amount": "12.5", "currency": "EUR", "externalId": "ext-2",
    "payee": {"partyIdType": "MSISDN", "partyId": "46733123450"}, "payerMessage": "", "payeeNote": "",
}
ORIGINAL = "0b7d4c1e-3f2a-4b5c-8d9e-0f1a2b3c4d5e"
REFUND = RefundRequest(amount="5", currency="EUR", external_id="ext-3", reference_id_to_refund=ORIGINAL)
CASH = CashTransferRequest(amount="10", currency="EUR", payee=PAYER, external_id="ext-4", originating_country="UG",
                           original_amount="36000", original_currency="UGX")


def assert_product_headers(request: httpx.Request, product: str, *, body: bool) -> None:
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Ocp-Apim-Subscription-Key"] == SUBSCRIPTION_KEYS[product]
    assert request.headers["X-Target-Environment"] == "sandbox"
    assert request.headers["User-Agent"].startswith("momo-cli/")
    if body:
        assert request.headers["Content-Type"] == "application/json"
    else:
        assert "Content-Type" not in request.headers
        assert request.content == b""


CREATING = [
    # method name, kwargs, product, path, expected JSON
    ("request_to_pay", {"body": PAY}, "collection", "/v1_0/requesttopay", PAY_JSON),
    ("request_to_withdraw", {"body": PAY}, "collection", "/v1_0/requesttowithdraw", PAY_JSON),
    ("request_to_withdraw", {"body": PAY, "version": "v2_0"}, "collection", "/v2_0/requesttowithdraw", PAY_JSON),
    ("transfer", {"body": SEND}, "disbursement", "/v1_0/transfer", SEND_JSON),
    ("transfer", {"body": SEND, "product": "remittance"}, "remittance", "/v1_0/transfer", SEND_JSON),
    ("deposit", {"body": SEND}, "disbursement", "/v1_0/deposit", SEND_JSON),
    ("deposit", {"body": SEND, "version": "v2_0"}, "disbursement", "/v2_0/deposit", SEND_JSON),
    ("refund", {"body": REFUND}, "disbursement", "/v1_0/refund", REFUND.to_api()),
    ("refund", {"body": REFUND, "version": "v2_0"}, "disbursement", "/v2_0/refund", REFUND.to_api()),
    ("cash_transfer", {"body": CASH}, "remittance", "/v2_0/cashtransfer", CASH.to_api()),
]


@pytest.mark.parametrize(("method", "kwargs", "product", "path", "expected"), CREATING)
async def test_creating_posts(api, make_client, method, kwargs, product, path, expected):
    ref = new_ref()
    route = api.post(f"/{product}{path}").respond(202)
    async with make_client() as client:
        assert await getattr(client, method)(ref, **kwargs) is None
    request = route.calls.last.request
    assert request.url == f"{BASE}/{product}{path}"
    assert_product_headers(request, product, body=True)
    assert request.headers["X-Reference-Id"] == ref
    assert "X-Callback-Url" not in request.headers
    assert json_of(request) == expected


def test_refund_and_cash_transfer_bodies():
    assert REFUND.to_api() == {
        "amount": "5", "currency": "EUR", "externalId": "ext-3", "payerMessage": "", "payeeNote": "",
        "referenceIdToRefund": ORIGINAL,
    }
    assert CASH.to_api() == {
        "amount": "10", "currency": "EUR", "externalId": "ext-4",
        "payee": {"partyIdType": "MSISDN", "partyId": "46733123450"},
        "orginatingCountry": "UG", "originalAmount": "36000", "originalCurrency": "UGX",
        "payerMessage": "", "payeeNote": "",
    }


STATUS_BODY = {
    "amount": "100", "currency": "EUR", "externalId": "ext-1", "financialTransactionId": 600198217,
    "payer": {"partyIdType": "MSISDN", "partyId": "46733123450"},
    "payee": {"partyIdType": "MSISDN", "partyId": "46733123451"}, "status": "SUCCESSFUL",
}

STATUS = [
    ("request_to_pay_status", {}, "collection", "/v1_0/requesttopay/{ref}", "46733123450"),
    ("request_to_withdraw_status", {}, "collection", "/v1_0/requesttowithdraw/{ref}", "46733123450"),
    ("transfer_status", {}, "disbursement", "/v1_0/transfer/{ref}", "46733123451"),
    ("transfer_status", {"product": "remittance"}, "remittance", "/v1_0/transfer/{ref}", "46733123451"),
    ("deposit_status", {}, "disbursement", "/v1_0/deposit/{ref}", "46733123451"),
    ("refund_status", {}, "disbursement", "/v1_0/refund/{ref}", "46733123451"),
    ("cash_transfer_status", {}, "remittance", "/v2_0/cashtransfer/{ref}", "46733123451"),
]


@pytest.mark.parametrize(("method", "kwargs", "product", "path", "party"), STATUS)
async def test_status_gets(api, make_client, method, kwargs, product, path, party):
    ref = new_ref()
    route = api.get(f"/{product}{path.format(ref=ref)}").respond(200, json=STATUS_BODY)
    async with make_client() as client:
        status = await getattr(client, method)(ref, **kwargs)
    assert isinstance(status, TransactionStatus)
    assert status.status == "SUCCESSFUL" and status.financial_transaction_id == "600198217"
    assert status.amount == Decimal("100")
    assert status.party.id == party  # payer for collections, payee for the others
    assert_product_headers(route.calls.last.request, product, body=False)
    if method == "cash_transfer_status":
        assert isinstance(status, CashTransferStatus)


@pytest.mark.parametrize("key", sorted(OPERATIONS))
async def test_generic_create_and_get_for_every_operation(api, make_client, key):
    operation = OPERATIONS[key]
    version = operation.versions[0]
    ref = new_ref()
    post = api.post(f"/{operation.product}{operation.create_path(version)}").respond(202)
    get = api.get(f"/{operation.product}{operation.status_path.format(reference_id=ref)}").respond(
        200, json={"status": "PENDING"}
    )
    async with make_client() as client:
        await client.create_transaction(operation, ref, {"amount": "1", "currency": "EUR"}, version=version)
        status = await client.get_transaction(operation, ref)
    assert post.calls.last.request.headers["X-Reference-Id"] == ref
    assert json_of(post.calls.last.request) == {"amount": "1", "currency": "EUR"}
    assert status.status == "PENDING" and not status.is_final


async def test_callback_url_header(api, make_client):
    route = api.post("/collection/v1_0/requesttopay").respond(202)
    async with make_client(callback_host="webhook.example.com") as client:
        await client.request_to_pay(new_ref(), PAY, callback_url="https://webhook.example.com/momo?x=1")
    assert route.calls.last.request.headers["X-Callback-Url"] == "https://webhook.example.com/momo?x=1"


async def test_callback_url_with_another_host_is_refused_before_sending(api, make_client):
    route = api.post("/collection/v1_0/requesttopay").respond(202)
    async with make_client(callback_host="https://webhook.example.com") as client:
        with pytest.raises(InvalidInput) as info:
            await client.request_to_pay(new_ref(), PAY, callback_url="https://other.example.com/cb")
    assert route.call_count == 0
    assert "providerCallbackHost" in info.value.hint


async def test_bad_reference_ids_and_versions_are_refused_before_sending(api, make_client):
    route = api.post("/collection/v1_0/requesttopay").respond(202)
    async with make_client() as client:
        with pytest.raises(InvalidInput):
            await client.request_to_pay("not-a-uuid", PAY)
        with pytest.raises(InvalidInput):
            await client.request_to_pay(str(uuid.uuid1()), PAY)
        with pytest.raises(UsageError):
            await client.create_transaction(get_operation("collection", "request_to_pay"), new_ref(), PAY, version="v2_0")
    assert route.call_count == 0


async def test_delivery_notification(api, make_client):
    ref = new_ref()
    route = api.post(f"/collection/v1_0/requesttopay/{ref}/deliverynotification").respond(200)
    async with make_client() as client:
        await client.delivery_notification(ref, "Your order is on its way", language="EN")
    request = route.calls.last.request
    assert_product_headers(request, "collection", body=True)
    assert request.headers["notificationMessage"] == "Your order is on its way"
    assert request.headers["Language"] == "en"
    assert json_of(request) == {"notificationMessage": "Your order is on its way"}


async def test_delivery_notification_429_is_not_retried(api, make_client, sleeps):
    ref = new_ref()
    route = api.post(f"/collection/v1_0/requesttopay/{ref}/deliverynotification").respond(429)
    async with make_client() as client:
        with pytest.raises(Exception) as info:
            await client.delivery_notification(ref, "hello")
    assert route.call_count == 1 and info.value.exit_code == ExitCode.NETWORK


async def test_delivery_notification_409_means_not_successful(api, make_client):
    ref = new_ref()
    api.post(f"/collection/v1_0/requesttopay/{ref}/deliverynotification").respond(
        409, json={"code": "RESOURCE_ALREADY_EXIST", "message": "not completed"}
    )
    async with make_client() as client:
        with pytest.raises(ApiError) as info:
            await client.delivery_notification(ref, "hello")
    assert not isinstance(info.value, AlreadyExists)
    assert "successful" in info.value.hint


@pytest.mark.parametrize("product", ["collection", "disbursement", "remittance"])
async def test_balance(api, make_client, product):
    route = api.get(f"/{product}/v1_0/account/balance").respond(200, json={"availableBalance": "1000", "currency": "EUR"})
    in_currency = api.get(f"/{product}/v1_0/account/balance/EUR").respond(200, json={"availableBalance": 12.5, "currency": "EUR"})
    async with make_client() as client:
        assert (await client.balance(product)).available_text == "1000"
        assert (await client.balance(product, "eur")).available_balance == Decimal("12.5")
    assert_product_headers(route.calls.last.request, product, body=False)
    assert in_currency.call_count == 1


@pytest.mark.parametrize(
    ("id_type", "party_id", "path"),
    [
        ("msisdn", "+46 733 123 450", "msisdn/46733123450"),
        ("EMAIL", "notfound@email.com", "email/notfound@email.com"),
        ("party_code", "5CECB5A7-8BD0-4F49-87B1-8EB9ECC7B7BC", "party_code/5cecb5a7-8bd0-4f49-87b1-8eb9ecc7b7bc"),
    ],
)
@pytest.mark.parametrize("product", ["collection", "disbursement", "remittance"])
async def test_account_holder_active(api, make_client, product, id_type, party_id, path):
    route = api.get(f"/{product}/v1_0/accountholder/{path}/active").respond(200, json={"result": True})
    async with make_client() as client:
        assert (await client.account_holder_active(product, id_type, party_id)).result is True
    assert_product_headers(route.calls.last.request, product, body=False)


@pytest.mark.parametrize("product", ["collection", "disbursement", "remittance"])
async def test_basic_user_info(api, make_client, product):
    route = api.get(f"/{product}/v1_0/accountholder/msisdn/46733123450/basicuserinfo").respond(
        200, json={"sub": "0", "name": "Sand Box", "given_name": "Sand", "family_name": "Box"}
    )
    async with make_client() as client:
        info = await client.basic_user_info(product, "MSISDN", "46733123450")
    assert info.name == "Sand Box"
    assert_product_headers(route.calls.last.request, product, body=False)


async def test_inactive_account_holder(api, make_client):
    api.get("/collection/v1_0/accountholder/msisdn/46733123451/active").respond(200, json={"result": False})
    async with make_client() as client:
        assert not await client.account_holder_active("collection", "msisdn", "46733123451")


async def test_409_on_a_post_is_already_exists(api, make_client):
    api.post("/collection/v1_0/requesttopay").respond(
        409, json={"code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id. Creation of resource failed."}
    )
    async with make_client() as client:
        with pytest.raises(AlreadyExists) as info:
            await client.request_to_pay(new_ref(), PAY)
    assert info.value.exit_code == ExitCode.API_REJECTED and info.value.status == 409


async def test_404_on_a_status_get_is_not_found(api, make_client):
    ref = new_ref()
    api.get(f"/collection/v1_0/requesttopay/{ref}").respond(
        404, json={"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."}
    )
    async with make_client() as client:
        with pytest.raises(NotFound) as info:
            await client.request_to_pay_status(ref)
    assert ref in info.value.message


async def test_500_invalid_currency_on_a_post(api, make_client):
    api.post("/collection/v1_0/requesttopay").respond(500, json={"code": "INVALID_CURRENCY", "message": "Currency not supported."})
    async with make_client() as client:
        with pytest.raises(ApiError) as info:
            await client.request_to_pay(new_ref(), PAY)
    assert info.value.code == "INVALID_CURRENCY" and "EUR only" in info.value.hint


async def test_a_status_answer_that_is_not_json_is_an_api_error(api, make_client):
    ref = new_ref()
    api.get(f"/collection/v1_0/requesttopay/{ref}").respond(200, text="<html>hello</html>")
    async with make_client() as client:
        with pytest.raises(ApiError):
            await client.request_to_pay_status(ref)


# ------------------------------------------------------------------------ construction, credentials


@pytest.mark.parametrize(
    ("creds", "missing"),
    [
        (lambda product: None, ["USER_ID", "API_KEY", "SUBSCRIPTION_KEY"]),
        (lambda product: Creds("u", None, "s"), ["API_KEY"]),
        (lambda product: Creds("u", "k", "  "), ["SUBSCRIPTION_KEY"]),
    ],
)
async def test_missing_credentials_are_a_config_error_naming_the_variables(api, make_client, creds, missing):
    async with make_client(credentials=creds) as client:
        with pytest.raises(ConfigError) as info:
            await client.balance("disbursement")
    assert info.value.exit_code == ExitCode.CONFIG
    for suffix in missing:
        assert f"MOMO_DISBURSEMENT_{suffix}" in info.value.message + info.value.hint
    assert "momo provision" in info.value.hint
    assert api["token-disbursement"].call_count == 0


async def test_credentials_are_asked_for_per_product_on_first_use(api, make_client):
    asked = []

    def creds(product):
        asked.append(product)
        return credentials(product)

    api.get("/collection/v1_0/account/balance").respond(200, json={"availableBalance": "1", "currency": "EUR"})
    async with make_client(credentials=creds) as client:
        await client.balance("collection")
        await client.balance("collection")
    assert asked == ["collection"]


async def test_unknown_product_is_a_usage_error(make_client):
    async with make_client() as client:
        with pytest.raises(UsageError):
            await client.balance("savings")


def test_constructor_checks_base_url_environment_and_local():
    with pytest.raises(InvalidInput):
        MomoClient("https://example.com", "sandbox", credentials)
    MomoClient("https://example.com", "sandbox", credentials, allow_any_host=True)
    with pytest.raises(ConfigError):
        MomoClient(BASE, "  ", credentials)
    with pytest.raises(UsageError):
        MomoClient("local", "sandbox", credentials)


async def test_local_base_url_goes_through_the_given_transport():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.path.endswith("/token/"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"availableBalance": "5", "currency": "EUR"})

    async with MomoClient("local", "sandbox", credentials, transport=httpx.MockTransport(handler)) as client:
        assert (await client.balance("collection")).available_text == "5"
    assert [r.url.path for r in seen] == ["/collection/token/", "/collection/v1_0/account/balance"]


async def test_a_float_in_a_body_is_refused(api, make_client):
    route = api.post("/collection/v1_0/requesttopay").respond(202)
    async with make_client() as client:
        with pytest.raises(TypeError):
            await client.request_to_pay(new_ref(), {"amount": 0.1, "currency": "EUR"})
        await client.request_to_pay(new_ref(), {"amount": Decimal("0.10"), "currency": "EUR"})
    assert route.call_count == 1
    assert json_of(route.calls.last.request)["amount"] == "0.10"
