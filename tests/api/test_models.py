"""Models accept every variant momo-api.md lists and keep money exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from momo_cli.api.models import (
    AccountHolderActive,
    ApiKey,
    ApiUser,
    Balance,
    BasicUserInfo,
    CashTransferRequest,
    CashTransferStatus,
    Party,
    PaymentRequest,
    RefundRequest,
    Token,
    TransactionStatus,
    TransferRequest,
    parse_json,
)
from momo_cli.errors import InvalidInput

PAYER = {"partyIdType": "MSISDN", "partyId": "46733123450"}


# ------------------------------------------------------------------------------------- reason


def test_reason_as_a_plain_string():
    status = TransactionStatus.from_api({"status": "FAILED", "reason": "APPROVAL_REJECTED", "payer": PAYER})
    assert status.reason == "APPROVAL_REJECTED"
    assert status.reason_message is None
    assert status.explain() == "the customer declined on their phone"


def test_reason_as_a_code_and_message_object():
    status = TransactionStatus.from_api(
        {"status": "FAILED", "reason": {"code": "PAYER_LIMIT_REACHED", "message": "The payer's limit has been breached."}}
    )
    assert status.reason == "PAYER_LIMIT_REACHED"
    assert status.reason_message == "The payer's limit has been breached."


def test_error_reason_of_cash_transfer_callbacks_is_read_as_the_reason():
    status = CashTransferStatus.from_api({"status": "FAILED", "errorReason": {"code": "PAYEE_NOT_FOUND", "message": "x"}})
    assert status.reason == "PAYEE_NOT_FOUND"


@pytest.mark.parametrize("reason", [None, "", {}])
def test_no_reason(reason):
    body = {"status": "SUCCESSFUL"}
    if reason is not None:
        body["reason"] = reason
    assert TransactionStatus.from_api(body).reason is None


# -------------------------------------------------------------------------------------- money


def test_numeric_amounts_stay_exact_decimals():
    a = TransactionStatus.from_api(parse_json(b'{"status":"SUCCESSFUL","amount":0.1}'))
    b = TransactionStatus.from_api(parse_json(b'{"status":"SUCCESSFUL","amount":0.2}'))
    assert isinstance(a.amount, Decimal)
    assert a.amount + b.amount == Decimal("0.3")
    assert (a.amount + b.amount).as_tuple() == Decimal("0.3").as_tuple()


def test_string_amounts_stay_exact():
    a = TransactionStatus.from_api({"status": "SUCCESSFUL", "amount": "0.1"})
    b = TransactionStatus.from_api({"status": "SUCCESSFUL", "amount": "0.2"})
    assert a.amount + b.amount == Decimal("0.3")
    assert a.amount_text == "0.1"


def test_integer_amount_and_a_large_one():
    status = TransactionStatus.from_api(parse_json(b'{"status":"PENDING","amount":100}'))
    assert status.amount == Decimal(100) and status.amount_text == "100"
    big = TransactionStatus.from_api(parse_json(b'{"status":"PENDING","amount":"99999999999.99"}'))
    assert big.amount_text == "99999999999.99"


def test_exponent_amount_is_written_without_exponent():
    status = TransactionStatus.from_api(parse_json(b'{"status":"PENDING","amount":1e2}'))
    assert status.amount_text == "100"


def test_a_float_given_by_someone_else_becomes_its_shortest_decimal():
    status = TransactionStatus.from_api({"status": "PENDING", "amount": 0.1})
    assert status.amount == Decimal("0.1")


def test_unreadable_amount_becomes_none_but_stays_in_raw():
    status = TransactionStatus.from_api({"status": "PENDING", "amount": "lots"})
    assert status.amount is None
    assert status.raw["amount"] == "lots"


def test_parse_json_never_makes_floats():
    data = parse_json(b'{"a": 1.10, "b": [2.5], "c": 3}')
    assert data == {"a": Decimal("1.10"), "b": [Decimal("2.5")], "c": 3}
    assert not any(isinstance(v, float) for v in (data["a"], data["b"][0]))


# ------------------------------------------------------------------------------ other variants


def test_financial_transaction_id_as_number_or_string():
    assert TransactionStatus.from_api({"status": "SUCCESSFUL", "financialTransactionId": 23503452}).financial_transaction_id == "23503452"
    assert TransactionStatus.from_api({"status": "SUCCESSFUL", "financialTransactionId": "600198217"}).financial_transaction_id == "600198217"


def test_missing_optional_fields_and_extra_fields():
    status = TransactionStatus.from_api({"status": "PENDING", "somethingNew": {"x": 1}})
    assert status.status == "PENDING"
    assert status.amount is None and status.party is None and status.financial_transaction_id is None
    assert status.raw == {"status": "PENDING", "somethingNew": {"x": 1}}
    assert not status.is_final


def test_full_sandbox_example_and_json_view():
    body = {
        "financialTransactionId": "1530828708", "externalId": "6253728", "amount": "100", "currency": "EUR",
        "payer": {"partyIdType": "MSISDN", "partyId": "0248888736"}, "payerMessage": "hi", "payeeNote": "note",
        "status": "SUCCESSFUL",
    }
    status = TransactionStatus.from_api(body)
    assert status.succeeded and status.is_final
    assert status.to_json() == {
        "status": "SUCCESSFUL", "reason": None, "reason_message": None, "amount": "100", "currency": "EUR",
        "external_id": "6253728", "party": {"type": "MSISDN", "id": "0248888736"},
        "financial_transaction_id": "1530828708", "payer_message": "hi", "payee_note": "note",
    }


def test_party_comes_from_payer_or_payee_and_party_field_chooses():
    payee = {"partyIdType": "PARTY_CODE", "partyId": "9f0b8a32-8f0f-4f0e-9b4e-6f0c1f2a3b4c"}
    assert TransactionStatus.from_api({"status": "SUCCESSFUL", "payee": payee}).party.type == "PARTY_CODE"
    both = {"status": "SUCCESSFUL", "payer": PAYER, "payee": payee}
    assert TransactionStatus.from_api(both, party_field="payee").party.id == payee["partyId"]
    assert TransactionStatus.from_api(both, party_field="payer").party.id == "46733123450"


def test_numeric_party_id_and_lower_case_status():
    status = TransactionStatus.from_api({"status": "successful", "payer": {"partyIdType": "msisdn", "partyId": 46733123450}})
    assert status.status == "SUCCESSFUL"
    assert status.party.to_json() == {"type": "MSISDN", "id": "46733123450"}


def test_cash_transfer_status_reads_the_correct_spelling_and_the_misspelt_one():
    good = CashTransferStatus.from_api({"status": "SUCCESSFUL", "originatingCountry": "UG", "originalAmount": 5000})
    assert good.originating_country == "UG" and good.original_amount == Decimal(5000)
    sic = CashTransferStatus.from_api({"status": "SUCCESSFUL", "orginatingCountry": "GH", "payerSurName": "Doe"})
    assert sic.originating_country == "GH" and sic.payer_surname == "Doe"


def test_balance_variants():
    assert Balance.model_validate({"availableBalance": "1000", "currency": "EUR"}).available_text == "1000"
    assert Balance.model_validate(parse_json(b'{"availableBalance": 12.30, "currency": "EUR"}')).available_text == "12.30"
    assert Balance.model_validate({"availableBalance": 0, "currency": "EUR"}).available_balance == 0
    assert Balance.model_validate({"availableBalance": "-5", "currency": "EUR"}).available_balance == Decimal(-5)
    assert Balance.model_validate({"availableBalance": "7"}).to_json() == {"available_balance": "7", "currency": None}


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), ("true", True), ("false", False), (1, True), (0, False)])
def test_account_holder_active(value, expected):
    assert bool(AccountHolderActive.model_validate({"result": value})) is expected


def test_basic_user_info_of_the_sandbox():
    info = BasicUserInfo.model_validate(
        {"sub": "0", "name": "Sand Box", "given_name": "Sand", "family_name": "Box", "birthdate": "1976-08-13",
         "locale": "sv_SE", "gender": "MALE", "updated_at": 1676978048}
    )
    assert info.given_name == "Sand" and info.updated_at == "1676978048"
    assert info.to_json()["name"] == "Sand Box"


def test_token_variants_and_secrecy():
    token = Token.model_validate({"access_token": "abc.def", "token_type": "access_token", "expires_in": 3600})
    assert token.expires_in == 3600
    assert "abc.def" not in repr(token)
    assert Token.model_validate({"access_token": "x", "expires_in": "1800"}).expires_in == 1800
    assert Token.model_validate({"access_token": "x"}).expires_in == 3600
    with pytest.raises(ValidationError):
        Token.model_validate({"token_type": "access_token"})


def test_api_user_and_api_key():
    user = ApiUser.model_validate({"providerCallbackHost": "www.example.com", "targetEnvironment": "sandbox"})
    assert (user.provider_callback_host, user.target_environment) == ("www.example.com", "sandbox")
    key = ApiKey.model_validate({"apiKey": "f1db798c98df4bcf83b538175893bbf0"})
    assert key.api_key == "f1db798c98df4bcf83b538175893bbf0"
    assert "f1db798c" not in repr(key)


# ---------------------------------------------------------------------------------- requests


def test_payment_request_builds_the_exact_json():
    body = PaymentRequest(
        amount=Decimal("100.50"), currency="eur", external_id="ext-1",
        payer=Party.msisdn("+46 733 123 450"), payer_message="Order 12", payee_note="Thanks",
    ).to_api()
    assert body == {
        "amount": "100.5", "currency": "EUR", "externalId": "ext-1",
        "payer": {"partyIdType": "MSISDN", "partyId": "46733123450"},
        "payerMessage": "Order 12", "payeeNote": "Thanks",
    }


def test_transfer_request_uses_payee_and_default_messages():
    body = TransferRequest(amount="600", currency="EUR", payee=Party.of("msisdn", "46733123450")).to_api()
    assert body == {
        "amount": "600", "currency": "EUR",
        "payee": {"partyIdType": "MSISDN", "partyId": "46733123450"},
        "payerMessage": "", "payeeNote": "",
    }


def test_refund_request_names_the_original_reference():
    ref = "6b1f9c3e-2d4a-4f5b-9c8d-7e6f5a4b3c2d"
    body = RefundRequest(amount="10", currency="EUR", external_id="r1", reference_id_to_refund=ref.upper()).to_api()
    assert body["referenceIdToRefund"] == ref
    assert body["amount"] == "10" and "payer" not in body and "payee" not in body


def test_cash_transfer_request_uses_the_api_misspelling():
    body = CashTransferRequest(
        amount="10", currency="EUR", payee=Party.msisdn("46733123450"), external_id="c1",
        originating_country="UG", original_amount="36000", original_currency="UGX",
        payer_first_name="Jane", payer_surname="Doe", payer_identification_type="PASS",
    ).to_api()
    assert body["orginatingCountry"] == "UG" and "originatingCountry" not in body
    assert body["originalAmount"] == "36000" and body["originalCurrency"] == "UGX"
    assert body["payerSurName"] == "Doe" and body["payerFirstName"] == "Jane"
    assert body["payerIdentificationType"] == "PASS"


@pytest.mark.parametrize("amount", ["0", "-1", "1.005", "1e3", "abc", "1,5"])
def test_bad_amounts_are_invalid_input(amount):
    with pytest.raises(InvalidInput):
        PaymentRequest(amount=amount, currency="EUR", payer=Party.msisdn("46733123450")).to_api()


def test_amounts_with_too_many_decimals_for_the_currency_are_refused():
    with pytest.raises(InvalidInput):
        PaymentRequest(amount="100.5", currency="UGX", payer=Party.msisdn("46733123450")).to_api()


def test_float_amounts_are_refused():
    with pytest.raises(ValidationError):
        PaymentRequest(amount=0.1, currency="EUR", payer=Party.msisdn("46733123450"))


def test_messages_are_checked():
    with pytest.raises(InvalidInput):
        PaymentRequest(amount="1", currency="EUR", payer=Party.msisdn("46733123450"), payer_message="it's").to_api()
    with pytest.raises(InvalidInput):
        PaymentRequest(amount="1", currency="EUR", payer=Party.msisdn("46733123450"), payee_note="x" * 161).to_api()


@pytest.mark.parametrize("ref", ["1", "13"])
def test_refund_takes_the_sandbox_refund_test_ids(ref):
    body = RefundRequest(amount="1", currency="EUR", reference_id_to_refund=ref).to_api()
    assert body["referenceIdToRefund"] == ref


@pytest.mark.parametrize("ref", ["", "abc", "12345", "6b1f9c3e-2d4a"])
def test_refund_refuses_other_references(ref):
    with pytest.raises(InvalidInput):
        RefundRequest(amount="1", currency="EUR", reference_id_to_refund=ref).to_api()
