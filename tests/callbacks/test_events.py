"""Parsing, fingerprints and guessing what a callback body is (momo-api.md sections 3-6 and 10)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from momo_cli.callbacks.events import (
    CallbackEvent,
    RawCallback,
    dumps_json,
    fingerprint,
    guess,
    header_dict,
    parse_body,
    reason_code,
)
from tests.callbacks.support import (
    CASH_TRANSFER,
    PAYMENT_V2,
    RTP_FAILED,
    RTP_SUCCESS,
    TRANSFER_SUCCESS,
    WITHDRAW_V2_FAILED,
)


def test_parse_body_keeps_numbers_exact():
    value, is_json = parse_body(b'{"amount": 100.10, "n": 3, "s": "x"}')
    assert is_json
    assert value == {"amount": Decimal("100.10"), "n": Decimal(3), "s": "x"}
    assert dumps_json(value) == '{"amount":100.10,"n":3,"s":"x"}'


@pytest.mark.parametrize("raw", [b"", b"   ", b"OK", b"{broken", b'{"a": NaN}', b"\xff\xfe"])
def test_parse_body_falls_back_to_text(raw):
    value, is_json = parse_body(raw)
    assert not is_json
    assert isinstance(value, str)


def test_parse_body_accepts_a_bom():
    assert parse_body('\ufeff{"a": "b"}'.encode()) == ({"a": "b"}, True)


def test_fingerprint_ignores_key_order_spacing_and_trailing_zeros():
    a = fingerprint(b'{"amount": 100.0, "status": "SUCCESSFUL"}')
    b = fingerprint(b'{"status":"SUCCESSFUL","amount":100}')
    assert a == b and len(a) == 64
    assert fingerprint(b'{"amount": "100"}') != fingerprint(b'{"amount": "100.0"}')
    assert fingerprint(b"plain text") != fingerprint(b"plain text ")


def test_dumps_json_canonical_sorts_keys():
    assert dumps_json({"b": 1, "a": [Decimal("1.50"), None, True]}, canonical=True) == '{"a":[1.5,null,true],"b":1}'
    assert json.loads(dumps_json({"é": "ü"})) == {"é": "ü"}


@pytest.mark.parametrize(
    ("body", "method", "product", "operation"),
    [
        (RTP_SUCCESS, "POST", "collection", "request_to_pay"),
        (RTP_FAILED, "POST", "collection", "request_to_pay"),
        (WITHDRAW_V2_FAILED, "PUT", "collection", "request_to_withdraw"),
        (TRANSFER_SUCCESS, "POST", "disbursement", "transfer"),
        (TRANSFER_SUCCESS, "PUT", "disbursement", "deposit"),
        (CASH_TRANSFER, "PUT", "remittance", "cash_transfer"),
        ({**CASH_TRANSFER, "orginatingCountry": "SE"}, "POST", "remittance", "cash_transfer"),
        (PAYMENT_V2, "PUT", "collection", "payment"),
        ({"status": "SUCCESSFUL"}, "POST", None, None),
        (["not", "an", "object"], "POST", None, None),
    ],
)
def test_guess_product_and_operation(body, method, product, operation):
    info = guess(body, method)
    assert (info.product, info.operation) == (product, operation)


def test_guess_lists_the_other_candidates():
    assert guess(RTP_SUCCESS, "POST").candidates == ("collection/request_to_pay", "collection/request_to_withdraw")
    assert "remittance/transfer" in guess(TRANSFER_SUCCESS, "POST").candidates


def test_guess_reads_the_facts():
    info = guess(RTP_FAILED)
    assert info.status == "FAILED"
    assert info.reason == "APPROVAL_REJECTED"
    assert info.amount == "250.50"
    assert info.currency == "EUR"
    assert info.external_id == "order-2"
    assert info.financial_transaction_id is None
    assert info.party == {"type": "MSISDN", "id": "46733123451"}
    success = guess(RTP_SUCCESS)
    assert success.financial_transaction_id == "600198217" and success.reason is None


def test_guess_reads_numbers_and_reason_objects():
    body, _ = parse_body(b'{"amount": 100.5, "currency": "EUR", "financialTransactionId": 23503452,'
                         b' "payee": {"partyIdType": "MSISDN", "partyId": "1"}, "status": "FAILED",'
                         b' "reason": {"code": "NOT_ENOUGH_FUNDS", "message": "no money"}}')
    info = guess(body)
    assert info.amount == "100.5"
    assert info.financial_transaction_id == "23503452"
    assert info.reason == {"code": "NOT_ENOUGH_FUNDS", "message": "no money"}
    assert reason_code(info.reason) == "NOT_ENOUGH_FUNDS"
    payment = guess(PAYMENT_V2, "PUT")
    assert payment.reference_id == PAYMENT_V2["referenceId"]
    assert payment.reason == {"code": "PAYER_NOT_FOUND", "message": "The payer was not found."}


def test_guess_reads_a_v2_payment_money_object():
    info = guess({"externalTransactionId": "t1", "money": {"amount": "5", "currency": "EUR"},
                  "referenceId": "r", "status": "SUCCESSFUL"}, "PUT")
    assert (info.amount, info.currency, info.external_id) == ("5", "EUR", "t1")


def test_header_dict_joins_repeated_headers():
    assert header_dict([("X-A", "1"), ("x-a", "2"), ("Content-Type", "json")]) == {
        "x-a": "1, 2", "content-type": "json"}


def test_event_to_dict_has_the_documented_keys():
    raw = RawCallback("POST", "/momo", "a=1", [("content-type", "application/json")],
                      json.dumps(RTP_FAILED).encode())
    event = CallbackEvent(seq=7, raw=raw, fingerprint=fingerprint(raw.body), duplicate_of=3)
    data = json.loads(event.to_json())
    for key in ("received_at", "method", "path", "headers", "body", "duplicate", "fingerprint", "product",
                "operation", "status", "reason", "amount", "currency", "external_id",
                "financial_transaction_id", "forward"):
        assert key in data
    assert data["seq"] == 7 and data["duplicate"] is True and data["duplicate_of"] == 3
    assert data["body"] == RTP_FAILED
    assert data["query"] == "a=1"
    assert data["received_at"].endswith("Z")
    assert data["forward"] is None
