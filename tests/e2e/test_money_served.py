"""Every money command end to end against a real `momo sandbox serve` over loopback (--base-url)."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.support import (
    DELAYED,
    MONEY_COMMANDS,
    ONGOING,
    TRANSACTION_KEYS,
    journal_entries,
    momo,
    use_one_api_user,
)

pytestmark = [pytest.mark.served, pytest.mark.usefixtures("fast")]


@pytest.fixture(scope="module")
def served(module_served_emulator):
    # "ongoing" and "delayed" end after a second here, so their final statuses are testable too
    return module_served_emulator("--ongoing-timeout", "1", "--delayed-after", "1", "--quiet")


def run_on(served, *args, **kwargs):
    return momo(*args, base_url=served.url, **kwargs)


CASES = [
    pytest.param(name, number, status, reason, id=f"{name}-{number}")
    for name, (_, _, table) in MONEY_COMMANDS.items()
    for number, (status, reason) in table.items()
]


@pytest.mark.parametrize("name, number, status, reason", CASES)
def test_every_test_number_over_loopback(served, name, number, status, reason):
    argv, party_option, _ = MONEY_COMMANDS[name]
    run = run_on(served, *argv, "--amount", "100", party_option, number, "--wait", "--yes", "--json")
    assert run.exit_code == (0 if status == "SUCCESSFUL" else 10), run.stderr
    doc = run.json()
    assert (doc["status"], doc["reason"]) == (status, reason)
    assert doc["base_url"] == served.url
    (row,) = [t for t in served.transactions() if t["reference_id"] == doc["reference_id"]]
    assert (row["status"], row["reason"], row["financial_transaction_id"]) == (
        status, reason, doc["financial_transaction_id"])
    assert f"the MoMo emulator at {served.url}" in run.stderr


@pytest.mark.parametrize("name", list(MONEY_COMMANDS))
def test_ongoing_times_out_then_expires_and_delayed_succeeds(served, name):
    argv, party_option, _ = MONEY_COMMANDS[name]
    pending = run_on(served, *argv, "--amount", "1", party_option, ONGOING, "--wait", "--timeout", "0.2",
                     "--interval", "0.1", "--yes", "--json")
    assert pending.exit_code == 8 and pending.json()["status"] == "PENDING"
    expired = run_on(served, "status", pending.json()["reference_id"], "--wait", "--timeout", "10",
                     "--interval", "0.2", "--json")
    assert expired.exit_code == 10, expired.stderr
    assert (expired.json()["status"], expired.json()["reason"]) == ("FAILED", "EXPIRED")
    delayed = run_on(served, *argv, "--amount", "1", party_option, DELAYED, "--wait", "--timeout", "10",
                     "--interval", "0.2", "--yes", "--json")
    assert delayed.exit_code == 0 and delayed.json()["status"] == "SUCCESSFUL"


def test_json_keys_over_loopback(served):
    run = run_on(served, "remit", "transfer", "--amount", "10.05", "--payee", "46733123999", "--wait",
                 "--yes", "--json")
    doc = run.json()
    assert TRANSACTION_KEYS <= set(doc)
    assert (doc["product"], doc["operation"], doc["amount"], doc["currency"]) == (
        "remittance", "transfer", "10.05", "EUR")
    assert doc["party"] == {"type": "MSISDN", "id": "46733123999"} and doc["environment"] == "sandbox"


def test_every_other_command_over_loopback(served, monkeypatch):
    use_one_api_user(monkeypatch, served.api().provision("127.0.0.1"))
    paid = run_on(served, "collect", "request", "--amount", "50", "--payer", "46733123999", "--wait", "--yes",
                  "-q")
    assert paid.exit_code == 0
    ref = paid.stdout.strip()
    assert run_on(served, "collect", "notify", ref, "--message", "Thanks").exit_code == 0
    refund = run_on(served, "disburse", "refund", "--refund", ref, "--amount", "20", "--wait", "--yes", "--json")
    assert refund.exit_code == 0 and refund.json()["status"] == "SUCCESSFUL", refund.stderr
    cash = run_on(served, "remit", "cash-transfer", "--amount", "5", "--payee", "46733123999",
                  "--originating-country", "SE", "--payer-first-name", "Ada", "--wait", "--yes", "--json")
    assert cash.exit_code == 0 and cash.json()["operation"] == "cash_transfer", cash.stderr
    withdraw = run_on(served, "collect", "withdraw", "--v2", "--amount", "5", "--payer", "46733123999", "--yes",
                      "-q")
    assert withdraw.exit_code == 0
    status = run_on(served, "status", withdraw.stdout.strip(), "--json")
    assert status.exit_code == 0 and status.json()["status"] == "SUCCESSFUL"
    balances = run_on(served, "balance", "--json")
    assert balances.exit_code == 0 and len(balances.json()) == 3
    assert run_on(served, "account", "active", "46733123999", "--json").json()["active"] is True
    assert run_on(served, "account", "info", "46733123999", "--json").json()["family_name"] == "Box"
    assert run_on(served, "account", "active", "46733123455").exit_code == 6  # 503 SERVICE_UNAVAILABLE
    listed = run_on(served, "journal", "list", "--json").json()
    assert {d["reference_id"] for d in listed} == {e.reference_id for e in journal_entries()}
    assert run_on(served, "journal", "show", ref, "--json").json()["events"][-1]["status"] == "SUCCESSFUL"
    reconcile = run_on(served, "journal", "reconcile", "--json")
    assert reconcile.exit_code == 0 and reconcile.json()["skipped"] == 0


def test_status_of_a_transaction_sent_by_another_program(served, monkeypatch):
    api = served.api()
    creds = api.provision("127.0.0.1")
    ref, response = api.create(creds, "disbursement", "deposit", {
        "amount": "3", "currency": "EUR", "externalId": "other-1",
        "payee": {"partyIdType": "MSISDN", "partyId": "46733123999"}})
    assert response.status_code == 202
    monkeypatch.setenv("MOMO_DISBURSEMENT_USER_ID", creds.user_id)
    monkeypatch.setenv("MOMO_DISBURSEMENT_API_KEY", creds.api_key)
    monkeypatch.setenv("MOMO_DISBURSEMENT_SUBSCRIPTION_KEY", creds.subscription_key)
    run = run_on(served, "status", ref, "--product", "disbursement", "--operation", "deposit", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["journaled"] is False and doc["state"] is None
    assert (doc["status"], doc["external_id"], doc["amount"]) == ("SUCCESSFUL", "other-1", "3")
    assert TRANSACTION_KEYS <= set(doc)
    waited = run_on(served, "status", ref, "--product", "disbursement", "--operation", "deposit", "--wait")
    assert waited.exit_code == 0 and "SUCCESSFUL" in waited.stdout
    missing = run_on(served, "status", str(uuid.uuid4()), "--product", "disbursement")
    assert missing.exit_code == 5
    assert journal_entries() == []  # read only


def test_not_allowed_target_environment_is_exit_5(served):
    run = run_on(served, "--target-environment", "mtnuganda", "disburse", "transfer", "--amount", "1000",
                 "--payee", "256772123456", "--yes")
    assert run.exit_code == 5, run.stderr
    assert "NOT_ALLOWED_TARGET_ENVIRONMENT" in run.stderr and "MOMO_TARGET_ENVIRONMENT" in run.stderr


def test_drops_and_errors_are_settled_by_the_command_itself(module_served_emulator):
    faulty = module_served_emulator("--drop-rate", "1", "--quiet")
    run = run_on(faulty, "disburse", "transfer", "--amount", "1", "--payee", "46733123999", "--yes", "--json")
    assert run.exit_code == 0, run.stderr  # the POST's answer was lost; the status GET found it
    doc = run.json()
    assert doc["state"] in ("submitted", "final")
    rows = [t for t in faulty.transactions() if t["reference_id"] == doc["reference_id"]]
    assert len(rows) == 1
