"""Every money command end to end against the built-in emulator (the default with nothing configured)."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.support import (
    DELAYED,
    MONEY_COMMANDS,
    ONGOING,
    PAYEE_OUTCOMES,
    PAYER_OUTCOMES,
    TRANSACTION_KEYS,
    journal_entries,
    momo,
    provision_local,
    use_one_api_user,
)

pytestmark = pytest.mark.usefixtures("fast")

CASES = [
    pytest.param(name, number, status, reason, id=f"{name}-{number}")
    for name, (_, _, table) in MONEY_COMMANDS.items()
    for number, (status, reason) in table.items()
]


@pytest.mark.parametrize("name, number, status, reason", CASES)
def test_every_test_number_ends_as_the_sandbox_says_with_its_exit_code(name, number, status, reason):
    argv, party_option, _ = MONEY_COMMANDS[name]
    run = momo(*argv, "--amount", "100", party_option, number, "--wait", "--yes", "--json")
    doc = run.json()
    assert doc["status"] == status and doc["reason"] == reason, run.stderr
    assert run.exit_code == (0 if status == "SUCCESSFUL" else 10)
    if status == "SUCCESSFUL":
        assert doc["financial_transaction_id"] and doc["financial_transaction_id"].isdigit()
        assert run.error_lines == []
    else:
        assert doc["financial_transaction_id"] is None
        assert doc["reason_explanation"]
        (line,) = run.error_lines
        assert reason in line and doc["reason_explanation"] in line and doc["reference_id"] in line
    (entry,) = journal_entries()
    assert (entry.reference_id, entry.status, entry.reason) == (doc["reference_id"], status, reason)


@pytest.mark.parametrize("name", list(MONEY_COMMANDS))
@pytest.mark.parametrize("number", [ONGOING, DELAYED])
def test_ongoing_and_delayed_numbers_are_still_pending_when_the_wait_gives_up(name, number):
    argv, party_option, _ = MONEY_COMMANDS[name]
    run = momo(*argv, "--amount", "3", party_option, number, "--wait", "--timeout", "0.3",
               "--interval", "0.1", "--yes", "--json")
    assert run.exit_code == 8, run.stderr
    doc = run.json()
    assert doc["status"] == "PENDING" and doc["outcome"] == "pending" and doc["reason"] is None
    (line,) = run.error_lines
    assert "still PENDING" in line and f"momo status {doc['reference_id']} --wait" in line


def test_without_wait_an_accepted_request_exits_0_pending_and_says_how_to_follow_it():
    run = momo("disburse", "transfer", "--amount", "600", "--payee", "46733123450", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "PENDING" in run.stdout and "Disbursement" in run.stdout
    (entry,) = journal_entries()
    assert entry.reference_id in run.stdout
    assert f"momo status {entry.reference_id} --wait" in run.stderr
    assert "no real money moves" in run.stderr
    # and `momo status` then finds the final status: FAILED, exit 10
    status = momo("status", entry.reference_id)
    assert status.exit_code == 10 and "FAILED" in status.stdout
    assert "INTERNAL_PROCESSING_ERROR" in status.stdout


def test_json_output_has_every_key_of_the_contract():
    ref = str(uuid.uuid4())
    run = momo("collect", "request", "--amount", "12.50", "--currency", "eur", "--payer", "+46 733 123 999",
               "--external-id", "order-42", "--payer-message", "Thanks", "--payee-note", "Order 42",
               "--reference-id", ref, "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert TRANSACTION_KEYS <= set(doc)
    assert doc["reference_id"] == ref
    assert doc["product"] == "collection"
    assert doc["operation"] == "request_to_pay"
    assert doc["status"] == "SUCCESSFUL"
    assert doc["reason"] is None
    assert doc["amount"] == "12.5" and isinstance(doc["amount"], str)
    assert doc["currency"] == "EUR"
    assert doc["external_id"] == "order-42"
    assert doc["party"] == {"type": "MSISDN", "id": "46733123999"}
    assert doc["financial_transaction_id"].isdigit()
    assert doc["environment"] == "sandbox"
    assert doc["state"] == "final" and doc["outcome"] == "successful" and doc["journaled"] is True
    assert doc["payer_message"] == "Thanks" and doc["payee_note"] == "Order 42"
    assert doc["version"] == "v1_0" and doc["base_url"] == "local" and doc["profile"] == "default"
    assert doc["error"] is None and doc["reason_explanation"] is None
    assert doc["run_id"] is None and doc["line_no"] is None and doc["attempts"] == 1
    assert not any(key.startswith("_") for key in doc)


def test_quiet_prints_only_the_reference_id():
    run = momo("disburse", "deposit", "--amount", "5", "--payee", "46733123999", "--yes", "-q")
    assert run.exit_code == 0
    ref = run.stdout.strip()
    assert run.stdout == ref + "\n" and uuid.UUID(ref).version == 4
    assert run.stderr == ""  # -q: no notes either
    (entry,) = journal_entries()
    assert entry.reference_id == ref and entry.operation == "deposit"


def test_quiet_with_a_failure_still_prints_the_reference_id_and_the_error_line():
    run = momo("disburse", "transfer", "--amount", "5", "--payee", "46733123451", "--wait", "--yes", "-q")
    assert run.exit_code == 10
    assert uuid.UUID(run.stdout.strip())
    assert len(run.error_lines) == 1 and "APPROVAL_REJECTED" in run.stderr


def test_external_id_defaults_to_a_short_form_of_the_reference_id():
    run = momo("collect", "request", "--amount", "1", "--payer", "46733123999", "--yes", "--json")
    doc = run.json()
    assert doc["external_id"] == "momo-" + doc["reference_id"].replace("-", "")[:12]


def test_v2_endpoints_are_journaled_as_v2():
    withdraw = momo("collect", "withdraw", "--v2", "--amount", "1", "--payer", "46733123999", "--yes", "--json")
    deposit = momo("disburse", "deposit", "--v2", "--amount", "1", "--payee", "46733123999", "--yes", "--json")
    assert withdraw.json()["version"] == deposit.json()["version"] == "v2_0"


def test_email_and_party_code_parties():
    run = momo("disburse", "transfer", "--amount", "1", "--payee", "Someone@Example.com", "--payee-type", "EMAIL",
               "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["party"] == {"type": "EMAIL", "id": "Someone@Example.com"}
    code = str(uuid.uuid4())
    run = momo("disburse", "transfer", "--amount", "1", "--payee", code, "--payee-type", "party_code",
               "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["party"] == {"type": "PARTY_CODE", "id": code}


def test_refund_of_a_request_to_pay_v1_and_v2(monkeypatch):
    use_one_api_user(monkeypatch, provision_local())
    paid = momo("collect", "request", "--amount", "100", "--payer", "46733123999", "--wait", "--yes", "--json").json()
    for extra in ([], ["--v2"]):
        run = momo("disburse", "refund", "--refund", paid["reference_id"], "--amount", "40", *extra,
                   "--wait", "--yes", "--json")
        assert run.exit_code == 0, run.stderr
        doc = run.json()
        assert doc["operation"] == "refund" and doc["status"] == "SUCCESSFUL"
        assert doc["refund_of"] == paid["reference_id"] and doc["amount"] == "40"
        assert doc["version"] == ("v2_0" if extra else "v1_0")


@pytest.mark.parametrize("test_id, status, reason", [("2", "FAILED", "INTERNAL_PROCESSING_ERROR"),
                                                     ("3", "FAILED", "APPROVAL_REJECTED")])
def test_refund_sandbox_test_ids(test_id, status, reason):
    run = momo("disburse", "refund", "--refund", test_id, "--amount", "1", "--wait", "--yes", "--json")
    assert run.exit_code == 10
    assert (run.json()["status"], run.json()["reason"]) == (status, reason)


def test_refund_panel_names_what_it_refunds():
    run = momo("disburse", "refund", "--refund", "3", "--amount", "1", "--yes")
    assert run.exit_code == 0
    assert "Refund of" in run.stdout and "Refund" in run.stdout


def test_remit_transfer_and_cash_transfer():
    run = momo("remit", "transfer", "--amount", "250", "--payee", "46733123999", "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    assert (run.json()["product"], run.json()["operation"]) == ("remittance", "transfer")
    run = momo("remit", "cash-transfer", "--amount", "100", "--payee", "46733123999",
               "--originating-country", "se", "--original-amount", "1150", "--original-currency", "SEK",
               "--payer-first-name", "Ada", "--payer-surname", "Lovelace", "--payer-id-type", "pass",
               "--payer-id-number", "X1234567", "--payer-language", "EN", "--payer-email", "ada@example.com",
               "--payer-msisdn", "+46 70 123 4567", "--payer-gender", "FEMALE", "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["product"], doc["operation"], doc["version"]) == ("remittance", "cash_transfer", "v2_0")
    (entry,) = [e for e in journal_entries() if e.operation == "cash_transfer"]
    body = entry.body
    assert body["orginatingCountry"] == "SE" and body["originalAmount"] == "1150"
    assert body["originalCurrency"] == "SEK" and body["payerIdentificationType"] == "PASS"
    assert body["payerSurName"] == "Lovelace" and body["payerMsisdn"] == "46701234567"
    assert body["payerLanguageCode"] == "en"


def test_cash_transfer_failure_numbers():
    run = momo("remit", "cash-transfer", "--amount", "1", "--payee", "46733123451", "--wait", "--yes", "--json")
    assert run.exit_code == 10 and run.json()["reason"] == "APPROVAL_REJECTED"


def test_status_of_a_journaled_request_and_its_wait():
    ref = momo("collect", "request", "--amount", "9", "--payer", "46733123999", "--yes", "-q").stdout.strip()
    run = momo("status", ref, "--json")
    assert run.exit_code == 0 and run.json()["status"] == "SUCCESSFUL"
    run = momo("status", ref, "--wait")
    assert run.exit_code == 0 and "SUCCESSFUL" in run.stdout


def test_status_exits_8_while_pending_and_8_after_a_wait_that_gives_up():
    ref = momo("collect", "request", "--amount", "9", "--payer", ONGOING, "--yes", "-q").stdout.strip()
    run = momo("status", ref)
    assert run.exit_code == 8 and "PENDING" in run.stdout
    assert f"momo status {ref} --wait" in run.stderr
    run = momo("status", ref, "--wait", "--timeout", "0.2", "--interval", "0.1", "--json")
    assert run.exit_code == 8 and run.json()["status"] == "PENDING"


def test_status_of_a_failed_request_exits_10_with_the_reason_explained():
    ref = momo("collect", "request", "--amount", "9", "--payer", "46733123452", "--yes", "-q").stdout.strip()
    run = momo("status", ref, "--json")
    assert run.exit_code == 10
    assert run.json()["reason"] == "EXPIRED"
    assert "did not approve in time" in run.stderr  # scripts get the words on stderr
    run = momo("status", ref)
    assert run.exit_code == 10
    assert "did not approve in time" in run.stdout  # people read them in the panel
    (line,) = run.error_lines
    assert "EXPIRED" in line and "did not approve" not in line


def test_status_of_an_id_the_journal_does_not_know_needs_the_product():
    ref = str(uuid.uuid4())
    run = momo("status", ref)
    assert run.exit_code == 2 and len(run.error_lines) == 1 and "--product" in run.stderr
    run = momo("status", ref, "--product", "collection")
    assert run.exit_code == 5 and ("not found" in run.stderr.lower() or "no such" in run.stderr)


def test_status_rejects_product_flags_that_contradict_the_journal():
    ref = momo("collect", "request", "--amount", "9", "--payer", "46733123999", "--yes", "-q").stdout.strip()
    run = momo("status", ref, "--product", "disbursement")
    assert run.exit_code == 2 and "journaled as a collection request_to_pay" in run.stderr


def test_balance_every_product_and_one():
    run = momo("balance", "--json")
    assert run.exit_code == 0, run.stderr
    rows = run.json()
    assert [r["product"] for r in rows] == ["collection", "disbursement", "remittance"]
    assert all(r["currency"] == "EUR" and r["environment"] == "sandbox" for r in rows)
    momo("disburse", "transfer", "--amount", "600.25", "--payee", "46733123999", "--wait", "--yes")
    one = momo("balance", "--product", "disbursement", "--json").json()
    assert one["product"] == "disbursement"
    from decimal import Decimal

    assert Decimal(one["available_balance"]) == Decimal(rows[1]["available_balance"]) - Decimal("600.25")
    people = momo("balance")
    assert people.exit_code == 0 and "disbursement" in people.stdout and "available" in people.stdout
    assert momo("balance", "--currency", "EUR", "--product", "collection", "--json").json()["currency"] == "EUR"


def test_account_active_and_info():
    run = momo("account", "active", "46733123999", "--json")
    assert run.exit_code == 0 and run.json()["active"] is True
    run = momo("account", "active", "46733123450", "--json")
    assert run.exit_code == 0 and run.json()["active"] is False
    run = momo("account", "active", "notfound@email.com", "--id-type", "email", "--json")
    assert run.exit_code == 0 and run.json()["active"] is False
    run = momo("account", "active", "46733123452")  # 500 NOT_ALLOWED
    assert run.exit_code == 5 and len(run.error_lines) == 1
    run = momo("account", "active", "46733123999", "--product", "disbursement")
    assert run.exit_code == 0 and "is an active account holder" in run.stdout
    run = momo("account", "info", "46733123999", "--json")
    assert run.exit_code == 0 and run.json()["name"] == "Sand Box"
    run = momo("account", "info", "46733123999")
    assert run.exit_code == 0 and "Sand Box" in run.stdout


def test_collect_notify_after_a_successful_request_to_pay():
    ref = momo("collect", "request", "--amount", "9", "--payer", "46733123999", "--wait", "--yes", "-q").stdout.strip()
    run = momo("collect", "notify", ref, "--message", "Your order has shipped", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json() == {"reference_id": ref, "notified": True, "message": "Your order has shipped",
                          "language": None, "environment": "sandbox"}
    failed = momo("collect", "request", "--amount", "9", "--payer", "46733123451", "--wait", "--yes", "-q")
    run = momo("collect", "notify", failed.stdout.strip(), "--message", "hello")
    assert run.exit_code == 5 and "successful request to pay" in run.stderr


def test_journal_list_show_and_filters():
    ok = momo("disburse", "transfer", "--amount", "1", "--payee", "46733123999", "--wait", "--yes", "-q").stdout.strip()
    bad = momo("disburse", "transfer", "--amount", "2", "--payee", "46733123451", "--wait", "--yes", "-q").stdout.strip()
    listed = momo("journal", "list", "--json").json()
    assert [d["reference_id"] for d in listed] == [bad, ok]
    assert TRANSACTION_KEYS <= set(listed[0])
    assert [d["reference_id"] for d in momo("journal", "list", "--status", "failed", "--json").json()] == [bad]
    assert momo("journal", "list", "--since", "2999-01-01", "--json").json() == []
    assert len(momo("journal", "list", "--since", "2000-01-01", "--json").json()) == 2
    people = momo("journal", "list")
    assert people.exit_code == 0 and ok in people.stdout and "APPROVAL_REJECTED" in people.stdout
    shown = momo("journal", "show", bad, "--json").json()
    assert shown["reference_id"] == bad and shown["request_body"]["payee"]["partyId"] == "46733123451"
    assert [e["state"] for e in shown["events"]] == ["created", "created", "submitted", "final"]
    people = momo("journal", "show", bad)
    assert people.exit_code == 0 and "Events" in people.stdout and "APPROVAL_REJECTED" in people.stdout
    missing = momo("journal", "show", str(uuid.uuid4()))
    assert missing.exit_code == 2 and "not in the journal" in missing.stderr


def test_journal_reconcile_finishes_what_was_left_pending():
    refs = [momo("disburse", "transfer", "--amount", "1", "--payee", number, "--yes", "-q").stdout.strip()
            for number in ("46733123999", "46733123451")]
    assert {e.state for e in journal_entries()} == {"submitted"}
    run = momo("journal", "reconcile", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["checked"] == 2 and doc["outcomes"] == {"successful": 1, "failed": 1} and doc["skipped"] == 0
    assert {d["reference_id"] for d in doc["entries"]} == set(refs)
    assert {e.state for e in journal_entries()} == {"final"}
    again = momo("journal", "reconcile")
    assert again.exit_code == 0 and "Nothing to reconcile" in again.stderr


def test_journal_reconcile_skips_entries_of_another_api():
    momo("disburse", "transfer", "--amount", "1", "--payee", "46733123999", "--yes", "-q")
    run = momo("--base-url", "http://127.0.0.1:9", "journal", "reconcile", "--json")
    assert run.exit_code == 0
    assert run.json()["skipped"] == 1 and run.json()["checked"] == 0
    assert "--base-url local" in run.stderr


def test_reference_id_of_a_journaled_request_resumes_it_and_never_sends_twice():
    ref = momo("disburse", "transfer", "--amount", "5", "--payee", "46733123999", "--yes", "-q").stdout.strip()
    run = momo("disburse", "transfer", "--amount", "5", "--payee", "46733123999", "--reference-id", ref,
               "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["reference_id"] == ref and run.json()["status"] == "SUCCESSFUL"
    assert "resuming" in run.stderr
    (entry,) = journal_entries()
    assert entry.attempts == 1  # sent once, then only read
    # the same id for another request is refused before anything is sent
    other = momo("disburse", "transfer", "--amount", "6", "--payee", "46733123999", "--reference-id", ref, "--yes")
    assert other.exit_code == 2 and "journaled for another request" in other.stderr
    other = momo("collect", "request", "--amount", "5", "--payer", "46733123999", "--reference-id", ref, "--yes")
    assert other.exit_code == 2 and "disbursement transfer" in other.stderr


def test_a_new_reference_id_given_by_hand_is_used():
    ref = str(uuid.uuid4())
    run = momo("remit", "transfer", "--amount", "5", "--payee", "46733123999", "--reference-id", ref.upper(),
               "--yes", "-q")
    assert run.exit_code == 0 and run.stdout.strip() == ref


def test_callbacks_replay_builds_the_callback_of_a_journal_entry(callback_receiver):
    receiver = callback_receiver()
    ref = momo("collect", "request", "--amount", "30", "--payer", "46733123451", "--external-id", "order-42",
               "--wait", "--yes", "-q").stdout.strip()
    run = momo("callbacks", "replay", ref, "--to", receiver.url("/momo"), "--json")
    assert run.exit_code == 0, run.stderr
    (got,) = receiver.wait_for(1)
    assert got.method == "POST"
    assert got.json() == {"externalId": "order-42", "amount": "30", "currency": "EUR",
                          "payer": {"partyIdType": "MSISDN", "partyId": "46733123451"},
                          "payerMessage": "", "payeeNote": "", "status": "FAILED", "reason": "APPROVAL_REJECTED"}
    assert run.json()[0]["reference_id"] == ref


def test_callbacks_replay_of_an_unknown_or_unaccepted_reference_id_says_why(callback_receiver):
    receiver = callback_receiver()
    run = momo("callbacks", "replay", str(uuid.uuid4()), "--to", receiver.url())
    assert run.exit_code == 2 and "not in the journal" in run.stderr
    assert receiver.received == []


def test_help_of_every_money_command():
    for argv in (["collect", "request"], ["collect", "withdraw"], ["collect", "notify"], ["disburse", "transfer"],
                 ["disburse", "deposit"], ["disburse", "refund"], ["remit", "transfer"], ["remit", "cash-transfer"],
                 ["status"], ["balance"], ["account", "active"], ["account", "info"], ["journal", "list"],
                 ["journal", "show"], ["journal", "reconcile"]):
        run = momo(*argv, "--help")
        assert run.exit_code == 0 and "Usage:" in run.stdout, argv
        assert "Examples:" in run.stdout, argv


def test_a_refund_of_an_unknown_request_to_pay_says_what_refund_must_name():
    run = momo("disburse", "refund", "--refund", str(uuid.uuid4()), "--amount", "1", "--yes")
    assert run.exit_code == 5
    (line,) = run.error_lines
    assert "RESOURCE_NOT_FOUND" in line and "--refund must be the reference id of a successful request to pay" in line
