"""`--reference-id` retries by hand: the same request, or a corrected one when nothing was created."""

from __future__ import annotations

import json
import uuid

from click.testing import CliRunner

from momo_cli.cli import root


def momo(*args: str):
    return CliRunner().invoke(root, list(args))


def test_a_rejected_request_is_sent_again_with_the_corrected_callback_url(monkeypatch):
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    provisioned = momo("provision", "--provider", "callbacks.example.com", "--product", "disbursement", "--json")
    assert provisioned.exit_code == 0, provisioned.stderr
    # Forget the callback host the profile learned, so only the API can refuse a wrong one.
    assert momo("profile", "unset", "callback_host").exit_code == 0
    ref = str(uuid.uuid4())
    transfer = ["disburse", "transfer", "--amount", "7", "--payee", "46733123999", "--yes", "--json",
                "--reference-id", ref]
    refused = momo(*transfer, "--callback-url", "http://other.example.org/cb")
    assert refused.exit_code == 5, refused.stderr
    assert "INVALID_CALLBACK_URL_HOST" in refused.stderr
    corrected = momo(*transfer, "--wait")
    assert corrected.exit_code == 0, corrected.stderr
    doc = json.loads(corrected.stdout)
    assert doc["reference_id"] == ref and doc["status"] == "SUCCESSFUL" and doc["callback_url"] is None
    shown = json.loads(momo("journal", "show", ref, "--json").stdout)
    assert shown["callback_url"] is None
    assert [e["state"] for e in shown["events"]][-3:] == ["created", "submitted", "final"]


def test_an_accepted_request_is_not_silently_changed_by_a_retry(monkeypatch):
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    ref = str(uuid.uuid4())
    base = ["disburse", "transfer", "--amount", "7", "--payee", "46733123999", "--yes", "--reference-id", ref]
    assert momo(*base, "--payee-note", "first").exit_code == 0
    again = momo(*base, "--payee-note", "second")
    assert again.exit_code == 2
    assert "payee note is 'first', not 'second'" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    same = momo(*base, "--payee-note", "first", "--wait", "--json")
    assert same.exit_code == 0, same.stderr
    assert json.loads(same.stdout)["status"] == "SUCCESSFUL"


def test_status_json_still_prints_the_journaled_transaction_when_the_api_is_unreachable(served_emulator):
    server = served_emulator("--settle-after", "30")
    ref = momo("--base-url", server.url, "disburse", "transfer", "--amount", "3", "--payee", "46733123999",
               "--yes", "-q").stdout.strip()
    server.stop()
    result = momo("--base-url", server.url, "status", ref, "--json")
    assert result.exit_code == 6, result.stderr
    doc = json.loads(result.stdout)
    assert doc["reference_id"] == ref and doc["status"] == "PENDING" and doc["amount"] == "3"


def test_another_profile_does_not_act_on_a_request_it_did_not_send(monkeypatch):
    """Another profile may be another API user: its status answers and resends would be wrong."""
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    ref = momo("disburse", "transfer", "--amount", "2", "--payee", "46733123999", "--yes", "-q").stdout.strip()
    assert momo("profile", "set", "--profile", "other", "target_environment", "sandbox").exit_code == 0
    status = momo("--profile", "other", "status", ref)
    assert status.exit_code == 2 and "--profile default" in status.stderr
    reconciled = momo("--profile", "other", "journal", "reconcile", "--json")
    assert reconciled.exit_code == 0, reconciled.stderr
    doc = json.loads(reconciled.stdout)
    assert doc["checked"] == 0 and doc["skipped"] == 1
    assert doc["skipped_apis"] == [{"base_url": "local", "environment": "sandbox", "profile": "default"}]
