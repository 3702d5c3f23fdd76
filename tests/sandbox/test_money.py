"""Balances that really move, NOT_ENOUGH_FUNDS, refunds and delivery notifications."""

from __future__ import annotations

import dataclasses
import time
import uuid
from decimal import Decimal

from tests.support.emulator import SandboxApi, make_client, payment


def _balance(api: SandboxApi, creds, product: str) -> Decimal:
    r = api.balance(creds, product)
    assert r.status_code == 200
    body = r.json()
    assert body["currency"] == "EUR" and isinstance(body["availableBalance"], str)
    return Decimal(body["availableBalance"])


def test_seeded_float_per_user_and_product(emulator_api):
    a, b = emulator_api.provision(), emulator_api.provision()
    for creds in (a, b):
        for product in ("collection", "disbursement", "remittance"):
            assert _balance(emulator_api, creds, product) == Decimal("1000000")


def test_every_successful_operation_moves_money(emulator_api):
    creds = emulator_api.provision()
    api = emulator_api
    api.create(creds, "collection", "request_to_pay", payment(amount="100.10"))
    api.create(creds, "collection", "request_to_withdraw", payment(amount="0.20"), version="v2_0")
    api.create(creds, "collection", "request_to_pay", payment("46733123451", amount="999"))  # fails: no effect
    assert _balance(api, creds, "collection") == Decimal("1000100.30")

    api.create(creds, "disbursement", "transfer", payment(amount="0.10", party_field="payee"))
    api.create(creds, "disbursement", "deposit", payment(amount="0.20", party_field="payee"), version="v2_0")
    api.create(creds, "disbursement", "transfer", payment("46733123457", amount="5", party_field="payee"))
    assert _balance(api, creds, "disbursement") == Decimal("999999.70")  # exact: 0.1 + 0.2 is 0.3

    api.create(creds, "remittance", "transfer", payment(amount="1", party_field="payee"))
    api.create(creds, "remittance", "cash_transfer", payment(amount="2.5", party_field="payee"), version="v2_0")
    assert _balance(api, creds, "remittance") == Decimal("999996.5")
    assert _balance(api, creds, "collection") == Decimal("1000100.30")  # products are separate accounts


def test_not_enough_funds_and_pending_amounts_are_reserved(emulator_config):
    config = dataclasses.replace(emulator_config, initial_balance=Decimal("100"), settle_after=0.8)
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        first, r = api.create(creds, "disbursement", "transfer", payment(amount="60", party_field="payee"))
        assert r.status_code == 202
        assert _balance(api, creds, "disbursement") == Decimal("40")  # 60 pending is reserved
        second, r = api.create(creds, "disbursement", "transfer", payment(amount="50", party_field="payee"))
        assert r.status_code == 202  # asynchronous: it fails, it is not rejected
        third, _ = api.create(creds, "disbursement", "deposit", payment(amount="40", party_field="payee"))
        assert api.status(creds, "disbursement", "transfer", second).json()["status"] == "PENDING"
        time.sleep(0.85)
        assert api.status(creds, "disbursement", "transfer", first).json()["status"] == "SUCCESSFUL"
        failed = api.status(creds, "disbursement", "transfer", second).json()
        assert failed["status"] == "FAILED" and failed["reason"] == "NOT_ENOUGH_FUNDS"
        assert api.status(creds, "disbursement", "deposit", third).json()["status"] == "SUCCESSFUL"
        assert _balance(api, creds, "disbursement") == Decimal("0")
        # money collected in the disbursement product's account would not help: collections are separate
        ref, _ = api.create(creds, "collection", "request_to_pay", payment(amount="500"))
        fourth, _ = api.create(creds, "disbursement", "transfer", payment(amount="0.01", party_field="payee"))
        time.sleep(0.85)
        assert api.status(creds, "disbursement", "transfer", fourth).json()["reason"] == "NOT_ENOUGH_FUNDS"
        assert _balance(api, creds, "collection") == Decimal("600")


def test_admin_transactions_list_has_the_contract_keys(emulator_api, emulator_client):
    creds = emulator_api.provision()
    ref, _ = emulator_api.create(creds, "disbursement", "transfer", payment("46733123457", "12.345"[:-1],
                                                                              party_field="payee"))
    rows = emulator_client.get("/_sandbox/transactions").json()
    assert len(rows) == 1
    row = rows[0]
    for key in ("reference_id", "product", "operation", "status", "reason", "amount", "currency", "external_id",
                "party_id", "created_at"):
        assert key in row
    assert row["reference_id"] == ref and row["product"] == "disbursement" and row["operation"] == "transfer"
    assert row["status"] == "FAILED" and row["reason"] == "PAYEE_NOT_FOUND"
    assert row["amount"] == "12.34" and row["currency"] == "EUR" and row["external_id"] == "ext-1"
    assert row["party_id"] == "46733123457"
    filtered = emulator_client.get("/_sandbox/transactions", params={"status": "successful"}).json()
    assert filtered == []


# -- refunds ---------------------------------------------------------------------------------------


def _refund(api, creds, original: str, amount: str = "10", version: str = "v1_0"):
    body = {"amount": amount, "currency": "EUR", "externalId": "r-1", "payerMessage": "sorry", "payeeNote": "refund",
            "referenceIdToRefund": original}
    return api.create(creds, "disbursement", "refund", body, version=version)


def test_refund_of_a_request_to_pay(emulator_api):
    creds = emulator_api.provision()
    original, _ = emulator_api.create(creds, "collection", "request_to_pay", payment("46733123999", amount="30"))
    ref, r = _refund(emulator_api, creds, original, "20")
    assert r.status_code == 202, r.text
    body = emulator_api.status(creds, "disbursement", "refund", ref).json()
    assert body["status"] == "SUCCESSFUL" and body["financialTransactionId"].isdigit()
    assert body["payee"] == {"partyIdType": "MSISDN", "partyId": "46733123999"}
    assert _balance(emulator_api, creds, "disbursement") == Decimal("999980")
    # more than what is left to refund
    ref, r = _refund(emulator_api, creds, original, "10.01", version="v2_0")
    assert r.status_code == 202
    body = emulator_api.status(creds, "disbursement", "refund", ref).json()
    assert body["status"] == "FAILED" and body["reason"] == "NOT_ALLOWED"
    ref, _ = _refund(emulator_api, creds, original, "10", version="v2_0")
    assert emulator_api.status(creds, "disbursement", "refund", ref).json()["status"] == "SUCCESSFUL"


def test_refund_of_a_failed_payment_fails(emulator_api):
    creds = emulator_api.provision()
    original, _ = emulator_api.create(creds, "collection", "request_to_pay", payment("46733123451"))
    ref, _ = _refund(emulator_api, creds, original)
    assert emulator_api.status(creds, "disbursement", "refund", ref).json()["reason"] == "NOT_ALLOWED"


def test_refund_of_an_unknown_payment_or_of_a_transfer_is_404(emulator_api):
    creds = emulator_api.provision()
    transfer, _ = emulator_api.create(creds, "disbursement", "transfer", payment(party_field="payee"))
    for original in (str(uuid.uuid4()), transfer):
        _, r = _refund(emulator_api, creds, original)
        assert r.status_code == 404 and r.json()["code"] == "RESOURCE_NOT_FOUND"


def test_a_disbursement_user_refunds_what_a_collection_user_collected(emulator_api):
    # The sandbox gives each product its own API user; one partner owns both.
    collector, payer_out = emulator_api.provision(), emulator_api.provision()
    collected, _ = emulator_api.create(collector, "collection", "request_to_pay", payment())
    ref, r = _refund(emulator_api, payer_out, collected)
    assert r.status_code == 202
    body = emulator_api.status(payer_out, "disbursement", "refund", ref).json()
    assert body["status"] == "SUCCESSFUL"


def test_refund_test_ids(emulator_config):
    config = dataclasses.replace(emulator_config, ongoing_timeout=30, delayed_after=30)
    expected = {"1": "RESOURCE_NOT_FOUND", "2": "INTERNAL_PROCESSING_ERROR", "3": "APPROVAL_REJECTED", "4": "EXPIRED",
                "5": "PENDING", "6": "PENDING", "7": "NOT_ALLOWED", "8": "NOT_ALLOWED_TARGET_ENVIRONMENT",
                "9": "INVALID_CALLBACK_URL_HOST", "10": "INVALID_CURRENCY", "11": "INTERNAL_PROCESSING_ERROR",
                "12": "SERVICE_UNAVAILABLE", "13": "COULD_NOT_PERFORM_TRANSACTION"}
    with make_client(config) as client:
        api = SandboxApi(client)
        creds = api.provision()
        for test_id, outcome in expected.items():
            ref, r = _refund(api, creds, test_id)
            assert r.status_code == 202
            body = api.status(creds, "disbursement", "refund", ref).json()
            if outcome == "PENDING":
                assert body["status"] == "PENDING"
            else:
                assert (body["status"], body["reason"]) == ("FAILED", outcome)


# -- delivery notification -------------------------------------------------------------------------


def test_delivery_notification(emulator_api):
    creds = emulator_api.provision()
    client = emulator_api.client
    ok, _ = emulator_api.create(creds, "collection", "request_to_pay", payment())
    failed, _ = emulator_api.create(creds, "collection", "request_to_pay", payment("46733123451"))
    headers = emulator_api.headers(creds, "collection")
    url = "/collection/v1_0/requesttopay/{}/deliverynotification"
    r = client.post(url.format(ok), headers={**headers, "notificationMessage": "Your goods are on the way"})
    assert r.status_code == 200
    r = client.post(url.format(ok), headers={**headers, "Language": "en"}, json={"notificationMessage": "Thanks"})
    assert r.status_code == 200
    r = client.post(url.format(failed), headers={**headers, "notificationMessage": "hello"})
    assert r.status_code == 409 and r.json()["code"] == "TRANSACTION_NOT_COMPLETED"
    r = client.post(url.format(uuid.uuid4()), headers={**headers, "notificationMessage": "hello"})
    assert r.status_code == 404 and r.json()["code"] == "RESOURCE_NOT_FOUND"
    for bad in ({}, {"notificationMessage": "x" * 161}, {"notificationMessage": "it's"}, {"notificationMessage": 5}):
        r = client.post(url.format(ok), headers=headers, json=bad)
        assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST", bad


def test_the_database_and_its_wal_files_are_private(tmp_path):
    """The emulator's database holds API keys: it and its -wal/-shm files are 0600."""
    from momo_cli.sandbox.config import EmulatorConfig

    config = EmulatorConfig(db_path=tmp_path / "emu.db", settle_after=0)
    with make_client(config) as client:
        SandboxApi(client).provision()
        for name in ("emu.db", "emu.db-wal", "emu.db-shm"):
            assert oct((tmp_path / name).stat().st_mode & 0o777) == "0o600", name
