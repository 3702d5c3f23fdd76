"""The callback MoMo sends for a final status (momo-api.md section 10): the seam for journal replay."""

from __future__ import annotations

import json

import pytest

from momo_cli.callbacks.bodies import callback_body, callback_method, callback_request
from momo_cli.callbacks.events import guess
from momo_cli.callbacks.replay import synthetic_callback

ENTRY = {
    "product": "collection",
    "operation": "request_to_pay",
    "status": "SUCCESSFUL",
    "reason": None,
    "amount": "100",
    "currency": "EUR",
    "external_id": "order-1",
    "party_type": "MSISDN",
    "party_id": "56733123453",
    "financial_transaction_id": "600198217",
    "payer_message": "Thanks",
    "payee_note": "Order 1",
}


def test_successful_request_to_pay():
    method, body = callback_request(ENTRY)
    assert method == "POST"
    assert body == {
        "financialTransactionId": "600198217",
        "externalId": "order-1",
        "amount": "100",
        "currency": "EUR",
        "payer": {"partyIdType": "MSISDN", "partyId": "56733123453"},
        "payerMessage": "Thanks",
        "payeeNote": "Order 1",
        "status": "SUCCESSFUL",
    }
    assert "referenceId" not in body


def test_failed_transfer_has_payee_and_reason_but_no_financial_id():
    body = callback_body({**ENTRY, "product": "disbursement", "operation": "transfer", "status": "FAILED",
                          "reason": "NOT_ENOUGH_FUNDS"})
    assert body["payee"] == {"partyIdType": "MSISDN", "partyId": "56733123453"}
    assert "payer" not in body and "financialTransactionId" not in body
    assert (body["status"], body["reason"]) == ("FAILED", "NOT_ENOUGH_FUNDS")


def test_pending_has_neither_reason_nor_financial_id():
    body = callback_body({**ENTRY, "status": "PENDING", "reason": "ONGOING"})
    assert "reason" not in body and "financialTransactionId" not in body


@pytest.mark.parametrize(
    ("product", "operation", "version", "method"),
    [
        ("collection", "request_to_pay", None, "POST"),
        ("collection", "request_to_withdraw", "v2_0", "PUT"),
        ("disbursement", "deposit", "v1_0", "POST"),
        ("remittance", "cash_transfer", None, "PUT"),
    ],
)
def test_method_follows_the_api_version(product, operation, version, method):
    assert callback_method({"product": product, "operation": operation, "version": version}) == method


def test_cash_transfer_passes_payer_fields_and_reads_back_as_cash_transfer():
    entry = {**ENTRY, "product": "remittance", "operation": "cash_transfer", "orginatingCountry": "SE",
             "payerFirstName": "Ada"}
    body = callback_body(entry)
    assert body["originatingCountry"] == "SE" and body["payerFirstName"] == "Ada"
    assert guess(body, "PUT").operation == "cash_transfer"


def test_a_built_body_reads_back_as_its_operation():
    raw = synthetic_callback({**ENTRY, "operation": "request_to_withdraw", "version": "v2_0"})
    assert raw.method == "PUT"
    info = guess(json.loads(raw.body), raw.method)
    assert (info.product, info.operation, info.status) == ("collection", "request_to_withdraw", "SUCCESSFUL")
    assert dict(raw.headers)["content-type"].startswith("application/json")


def test_unknown_operation_is_refused():
    with pytest.raises(ValueError):
        callback_body({**ENTRY, "operation": "nope"})
