"""Every test number of momo-api.md section 13, and the shape of status bodies."""

from __future__ import annotations

import dataclasses
import re
import time

import pytest

from momo_cli.sandbox import scenarios
from tests.support.emulator import SandboxApi, make_client, payment

PAYER_OPERATIONS = [("collection", "request_to_pay", "v1_0"), ("collection", "request_to_withdraw", "v1_0"),
                    ("collection", "request_to_withdraw", "v2_0")]
PAYEE_OPERATIONS = [("disbursement", "transfer", "v1_0"), ("disbursement", "deposit", "v1_0"),
                    ("disbursement", "deposit", "v2_0"), ("remittance", "transfer", "v1_0"),
                    ("remittance", "cash_transfer", "v2_0")]

PAYER_EXPECTED = {
    "46733123450": "INTERNAL_PROCESSING_ERROR", "46733123451": "APPROVAL_REJECTED", "46733123452": "EXPIRED",
    "46733123455": "PAYER_NOT_FOUND", "46733123456": "PAYEE_NOT_ALLOWED_TO_RECEIVE", "46733123457": "NOT_ALLOWED",
    "46733123458": "NOT_ALLOWED_TARGET_ENVIRONMENT", "46733123459": "INVALID_CALLBACK_URL_HOST",
    "46733123460": "INVALID_CURRENCY", "46733123461": "INTERNAL_PROCESSING_ERROR",
    "46733123462": "SERVICE_UNAVAILABLE", "46733123463": "COULD_NOT_PERFORM_TRANSACTION",
    "56733123453": None, "46733123464": None, "256772123456": None,
}
PAYEE_EXPECTED = {
    "46733123450": "INTERNAL_PROCESSING_ERROR", "46733123451": "APPROVAL_REJECTED", "46733123452": "EXPIRED",
    "46733123455": "NOT_ENOUGH_FUNDS", "46733123456": "PAYER_LIMIT_REACHED", "46733123457": "PAYEE_NOT_FOUND",
    "46733123458": "NOT_ALLOWED", "46733123459": "NOT_ALLOWED_TARGET_ENVIRONMENT",
    "46733123460": "INVALID_CALLBACK_URL_HOST", "46733123461": "INVALID_CURRENCY",
    "46733123462": "INTERNAL_PROCESSING_ERROR", "46733123463": "SERVICE_UNAVAILABLE",
    "56733123453": None, "46733123499": None,
}


def _check_final(body: dict, reason: str | None) -> None:
    if reason is None:
        assert body["status"] == "SUCCESSFUL"
        assert re.fullmatch(r"[0-9]+", body["financialTransactionId"])
        assert "reason" not in body
    else:
        assert body["status"] == "FAILED"
        assert body["reason"] == reason  # a plain string, as the live sandbox sends
        assert "financialTransactionId" not in body


def _run(api: SandboxApi, creds, product, operation, version, party_field, party_id):
    ref, r = api.create(creds, product, operation, payment(party_id, party_field=party_field), version=version)
    assert r.status_code == 202, r.text
    assert r.content == b""
    r = api.status(creds, product, operation, ref)
    assert r.status_code == 200
    return r.json()


@pytest.mark.parametrize("product,operation,version", PAYER_OPERATIONS)
def test_payer_test_numbers(emulator_api, product, operation, version):
    creds = emulator_api.provision()
    for msisdn, reason in PAYER_EXPECTED.items():
        body = _run(emulator_api, creds, product, operation, version, "payer", msisdn)
        _check_final(body, reason)
        assert body["payer"] == {"partyIdType": "MSISDN", "partyId": msisdn}


@pytest.mark.parametrize("product,operation,version", PAYEE_OPERATIONS)
def test_payee_test_numbers(emulator_api, product, operation, version):
    creds = emulator_api.provision()
    for msisdn, reason in PAYEE_EXPECTED.items():
        body = _run(emulator_api, creds, product, operation, version, "payee", msisdn)
        _check_final(body, reason)
        assert body["payee"] == {"partyIdType": "MSISDN", "partyId": msisdn}


def test_the_tables_cover_every_number_of_the_decisions():
    assert {k: v.reason for k, v in scenarios.PAYER_SCENARIOS.items() if v.timing == scenarios.SETTLE and v.reason} == {
        k: v for k, v in PAYER_EXPECTED.items() if v}
    assert {k: v.reason for k, v in scenarios.PAYEE_SCENARIOS.items() if v.timing == scenarios.SETTLE and v.reason} == {
        k: v for k, v in PAYEE_EXPECTED.items() if v}


def test_ongoing_and_delayed_numbers(emulator_config):
    config = dataclasses.replace(emulator_config, ongoing_timeout=1.2, delayed_after=0.3)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        refs = {}
        for product, operation, field in (("collection", "request_to_pay", "payer"),
                                          ("disbursement", "transfer", "payee")):
            for msisdn in ("46733123453", "46733123454"):
                ref, r = api.create(creds, product, operation, payment(msisdn, party_field=field))
                assert r.status_code == 202
                refs[(product, operation, msisdn)] = ref
        for (product, operation, _), ref in refs.items():
            body = api.status(creds, product, operation, ref).json()
            assert body["status"] == "PENDING"
            assert "financialTransactionId" not in body and "reason" not in body
        time.sleep(0.35)
        for (product, operation, msisdn), ref in refs.items():
            body = api.status(creds, product, operation, ref).json()
            assert body["status"] == ("SUCCESSFUL" if msisdn.endswith("54") else "PENDING")
        time.sleep(0.9)
        for (product, operation, msisdn), ref in refs.items():
            body = api.status(creds, product, operation, ref).json()
            _check_final(body, None if msisdn.endswith("54") else "EXPIRED")


def test_pending_until_settle_after(emulator_config):
    config = dataclasses.replace(emulator_config, settle_after=0.5)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        ref, _ = api.create(creds, "collection", "request_to_pay", payment("46733123451"))
        pending = api.status(creds, "collection", "request_to_pay", ref).json()
        assert pending == {"externalId": "ext-1", "amount": "100", "currency": "EUR",
                           "payer": {"partyIdType": "MSISDN", "partyId": "46733123451"},
                           "payerMessage": "thanks", "payeeNote": "order 1", "status": "PENDING"}
        time.sleep(0.55)
        final = api.status(creds, "collection", "request_to_pay", ref).json()
        assert final == {**pending, "status": "FAILED", "reason": "APPROVAL_REJECTED"}


def test_success_body_is_the_request_echoed(emulator_api):
    creds = emulator_api.provision()
    ref, _ = emulator_api.create(creds, "collection", "request_to_pay", payment("46733123999", amount="12.50"))
    body = emulator_api.status(creds, "collection", "request_to_pay", ref).json()
    assert list(body) == ["financialTransactionId", "externalId", "amount", "currency", "payer", "payerMessage",
                          "payeeNote", "status"]
    assert body["amount"] == "12.5"
    assert ref not in str(body)  # no reference id in the body


def test_email_and_party_code_parties_succeed(emulator_api):
    creds = emulator_api.provision()
    for kind, party_id in (("EMAIL", "someone@example.com"), ("PARTY_CODE", "5cecb5a7-8bd0-4f49-87b1-8eb9ecc7b7bc"),
                           ("msisdn", "46733123451")):
        ref, r = emulator_api.create(creds, "disbursement", "transfer",
                                     payment(party_id, party_field="payee", party_type=kind))
        assert r.status_code == 202, r.text
        body = emulator_api.status(creds, "disbursement", "transfer", ref).json()
        assert body["payee"]["partyIdType"] == kind.upper()
        assert body["status"] == ("FAILED" if party_id == "46733123451" else "SUCCESSFUL")


def test_cash_transfer_spells_originating_country_right_in_the_result(emulator_api):
    creds = emulator_api.provision()
    body = payment("46733123999", party_field="payee", orginatingCountry="SE", originalAmount="110",
                   originalCurrency="SEK", payerIdentificationType="PASS", payerIdentificationNumber="A1",
                   payerIdentity="x", payerFirstName="Ann", payerSurName="Berg", payerLanguageCode="sv",
                   payerEmail="ann@example.com", payerMsisdn="46700000000", payerGender="F")
    ref, r = emulator_api.create(creds, "remittance", "cash_transfer", body, version="v2_0")
    assert r.status_code == 202, r.text
    result = emulator_api.status(creds, "remittance", "cash_transfer", ref).json()
    assert result["originatingCountry"] == "SE" and "orginatingCountry" not in result
    assert result["payerSurname"] == "Berg" and result["originalAmount"] == "110"
    assert result["status"] == "SUCCESSFUL"


# -- account holders -------------------------------------------------------------------------------

HOLDERS = [
    ("msisdn", "46733123450", 200, False), ("msisdn", "46733123451", 200, False),
    ("msisdn", "46733123452", 500, "NOT_ALLOWED"), ("msisdn", "46733123453", 500, "NOT_ALLOWED_TARGET_ENVIRONMENT"),
    ("msisdn", "46733123454", 500, "INTERNAL_PROCESSING_ERROR"), ("msisdn", "46733123455", 503, "SERVICE_UNAVAILABLE"),
    ("msisdn", "46733123456", 200, True), ("MSISDN", "256772123456", 200, True),
    ("email", "notfound@email.com", 200, False), ("email", "notactive@email.com", 200, False),
    ("EMAIL", "notallowed@email.com", 500, "NOT_ALLOWED"),
    ("email", "notallowedtargetenvironment@email.com", 500, "NOT_ALLOWED_TARGET_ENVIRONMENT"),
    ("email", "internalprocessingerror@email.com", 500, "INTERNAL_PROCESSING_ERROR"),
    ("email", "serviceunavailable@email.com", 503, "SERVICE_UNAVAILABLE"),
    ("email", "someone@example.com", 200, True),
    ("party_code", "5cecb5a7-8bd0-4f49-87b1-8eb9ecc7b7bc", 200, False),
    ("party_code", "b0040b3c-b426-4a90-af6e-673e65861cd7", 200, False),
    ("PARTY_CODE", "4d5f500f-c385-4901-9be5-25b6d36ad220", 500, "NOT_ALLOWED"),
    ("party_code", "d2265f9b-0c22-496d-908f-79a65ad66266", 500, "NOT_ALLOWED_TARGET_ENVIRONMENT"),
    ("Party_Code", "8f548a78-ceb8-4d12-a243-5640b91e91a4", 500, "INTERNAL_PROCESSING_ERROR"),
    ("party_code", "585c07a4-2c80-42f7-9e73-e586b36dee68", 503, "SERVICE_UNAVAILABLE"),
    ("party_code", "11111111-2222-4333-8444-555555555555", 200, True),
]


@pytest.mark.parametrize("product", ["collection", "disbursement", "remittance"])
def test_account_holder_active(emulator_api, emulator_client, product):
    creds = emulator_api.provision()
    headers = emulator_api.headers(creds, product)
    for kind, holder, status, expected in HOLDERS:
        r = emulator_client.get(f"/{product}/v1_0/accountholder/{kind}/{holder}/active", headers=headers)
        assert r.status_code == status, (kind, holder, r.text)
        if status == 200:
            assert r.json() == {"result": expected}
        else:
            assert r.json()["code"] == expected and r.json()["message"]


def test_account_holder_bad_type_or_id_is_400(emulator_api, emulator_client):
    creds = emulator_api.provision()
    headers = emulator_api.headers(creds, "collection")
    for path in ("alias/abc", "msisdn/+4673", "msisdn/abc", "email/not-an-email", "party_code/123"):
        r = emulator_client.get(f"/collection/v1_0/accountholder/{path}/active", headers=headers)
        assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST", path


def test_basic_user_info(emulator_api, emulator_client):
    creds = emulator_api.provision()
    for product in ("collection", "disbursement", "remittance"):
        headers = emulator_api.headers(creds, product)
        r = emulator_client.get(f"/{product}/v1_0/accountholder/msisdn/46733123456/basicuserinfo", headers=headers)
        assert r.status_code == 200
        assert r.json()["given_name"] == "Sand" and r.json()["family_name"] == "Box"
        r = emulator_client.get(f"/{product}/v1_0/accountholder/msisdn/46733123450/basicuserinfo", headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "RESOURCE_NOT_FOUND"
        r = emulator_client.get(f"/{product}/v1_0/accountholder/MSISDN/46733123455/basicuserinfo", headers=headers)
        assert r.status_code == 503 and r.json()["code"] == "SERVICE_UNAVAILABLE"
