"""Confirmation, production confirmation, rejections (exit 4 and 5), unknown outcomes (exit 6), --listen."""

from __future__ import annotations

import socket
import uuid

import pytest

from momo_cli.output import Output
from tests.e2e.support import fast, journal_entries, momo  # noqa: F401 - fast is a fixture

pytestmark = pytest.mark.usefixtures("fast")

TRANSFER = ("disburse", "transfer", "--amount", "600", "--payee", "46733123999")


@pytest.fixture
def terminal(monkeypatch):
    """Pretend a person sits at a terminal (stdin and stderr are TTYs)."""
    monkeypatch.setattr(Output, "interactive", property(lambda self: True))


def test_without_a_terminal_and_without_yes_nothing_is_sent():
    run = momo(*TRANSFER)
    assert run.exit_code == 2
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert "not confirmed" in line and "no terminal" in line and "--yes" in line
    assert journal_entries() == []


def test_a_terminal_asks_with_amount_party_and_environment_and_yes_sends(terminal):
    run = momo(*TRANSFER, "--wait", input="y\n")
    assert run.exit_code == 0, run.stderr
    assert "Transfer 600 EUR to 46733123999" in run.stderr
    assert "sandbox (local emulator)" in run.stderr and "Send it?" in run.stderr
    assert "SUCCESSFUL" in run.stdout
    assert len(journal_entries()) == 1


@pytest.mark.parametrize("answer", ["n\n", "\n", "nope\nn\n"])
def test_declining_sends_nothing(terminal, answer):
    run = momo(*TRANSFER, input=answer)
    assert run.exit_code == 2
    assert "not confirmed" in run.stderr and "nothing was sent" in run.stderr
    assert run.stdout == ""
    assert journal_entries() == []


def test_yes_skips_the_question_on_a_terminal(terminal):
    run = momo(*TRANSFER, "--yes")
    assert run.exit_code == 0 and "Send it?" not in run.stderr


def test_a_production_environment_wants_its_name_typed(terminal):
    argv = ("--target-environment", "mtnuganda", "disburse", "transfer", "--amount", "1000",
            "--payee", "256772123456")
    run = momo(*argv, input="y\n")
    assert run.exit_code == 2 and "Type mtnuganda to confirm" in run.stderr
    assert "expected 'mtnuganda'" in run.stderr and journal_entries() == []
    run = momo(*argv, "--json", input="mtnuganda\n")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["currency"], doc["environment"], doc["amount"]) == ("UGX", "mtnuganda", "1000")


def test_production_currency_rules_apply_before_the_question(terminal):
    run = momo("--target-environment", "mtnuganda", "disburse", "transfer", "--amount", "10.50",
               "--payee", "256772123456", input="mtnuganda\n")
    assert run.exit_code == 2 and "UGX allows no decimals" in run.stderr
    assert "Type" not in run.stderr


def test_an_api_rejection_is_exit_5_with_the_code_explained(monkeypatch):
    from momo_cli import money

    # our own check would stop USD in the sandbox before sending: let the API see it
    monkeypatch.setattr(money, "check_currency_for_environment", lambda *a, **k: None)
    run = momo("disburse", "transfer", "--amount", "5", "--currency", "USD", "--payee", "46733123999",
               "--yes", "--json")
    assert run.exit_code == 5
    (line,) = run.error_lines
    assert "INVALID_CURRENCY" in line and "the currency is not accepted in this environment" in line
    assert "EUR only" in line  # the next step
    doc = run.json()
    assert doc["state"] == "rejected" and doc["outcome"] == "rejected" and doc["status"] is None
    assert doc["error"]["code"] == "INVALID_CURRENCY"
    (entry,) = journal_entries()
    assert entry.state == "rejected"


def test_refused_credentials_are_exit_4_and_never_printed(monkeypatch):
    secret = "s3cr3t-api-key-0123456789abcdef"
    monkeypatch.setenv("MOMO_DISBURSEMENT_USER_ID", str(uuid.uuid4()))
    monkeypatch.setenv("MOMO_DISBURSEMENT_API_KEY", secret)
    monkeypatch.setenv("MOMO_DISBURSEMENT_SUBSCRIPTION_KEY", "sub-key-0123456789abcdef0123")
    run = momo(*TRANSFER, "--yes")
    assert run.exit_code == 4
    (line,) = run.error_lines
    assert "refused" in line and "MOMO_DISBURSEMENT_API_KEY" in line
    assert secret not in run.stderr + run.stdout
    assert "sub-key-0123456789abcdef0123" not in run.stderr + run.stdout
    (entry,) = journal_entries()
    assert entry.state == "rejected" and entry.error_type == "AuthError"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_api_is_exit_6_with_the_reference_id_and_the_way_out(monkeypatch):
    from momo_cli.commands import _money
    from momo_cli.journal.sender import SendPolicy

    monkeypatch.setattr(_money, "SEND_POLICY", SendPolicy(max_tries=2, backoff=0.01))
    for name, value in (("USER_ID", str(uuid.uuid4())), ("API_KEY", "k" * 32), ("SUBSCRIPTION_KEY", "s" * 32)):
        monkeypatch.setenv(f"MOMO_DISBURSEMENT_{name}", value)
    run = momo(*TRANSFER, "--yes", "--json", base_url=f"http://127.0.0.1:{_closed_port()}")
    assert run.exit_code == 6
    doc = run.json()
    (line,) = run.error_lines
    assert doc["reference_id"] in line
    assert "momo journal reconcile" in line and f"momo status {doc['reference_id']}" in line
    (entry,) = journal_entries()
    assert entry.reference_id == doc["reference_id"] and not entry.closed


def test_listen_takes_the_final_status_from_the_callback(monkeypatch):
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0.3")
    run = momo("collect", "request", "--amount", "7", "--payer", "46733123451", "--wait", "--listen", "0",
               "--interval", "30", "--yes", "--json")
    assert run.exit_code == 10, run.stderr
    doc = run.json()
    assert doc["status"] == "FAILED" and doc["reason"] == "APPROVAL_REJECTED"
    assert doc["callback_url"].startswith("http://127.0.0.1:")
    assert "Listening for the callback on http://127.0.0.1:" in run.stderr
    from momo_cli.journal.store import Journal, journal_path
    from tests.e2e.support import data_dir

    with Journal(journal_path(data_dir())) as journal:
        details = [event.detail for event in journal.events(doc["reference_id"])]
    assert any(detail and detail.startswith("callback #") for detail in details), details
    listed = momo("callbacks", "list", "--json")
    assert listed.exit_code == 0 and len(listed.json()) == 1


def test_listen_falls_back_to_polling():
    run = momo("disburse", "transfer", "--amount", "7", "--payee", "46733123999", "--wait", "--listen", "0",
               "--callback-url", "http://127.0.0.1:9/elsewhere", "--interval", "0.1", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["status"] == "SUCCESSFUL"


def test_listen_needs_wait_and_a_free_port():
    run = momo(*TRANSFER, "--listen", "0", "--yes")
    assert run.exit_code == 2 and "--listen works with --wait" in run.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = momo(*TRANSFER, "--wait", "--listen", str(port), "--yes")
    assert run.exit_code == 2 and f"port {port} is in use" in run.stderr and "--listen" in run.stderr
    assert journal_entries() == []


def test_callback_url_host_must_be_the_callback_host_of_the_profile(monkeypatch):
    monkeypatch.setenv("MOMO_CALLBACK_HOST", "callbacks.example.com")
    run = momo(*TRANSFER, "--callback-url", "https://other.example.com/momo", "--yes")
    assert run.exit_code == 2
    (line,) = run.stderr.splitlines()
    assert "providerCallbackHost callbacks.example.com" in line and "INVALID_CALLBACK_URL_HOST" in line
    assert journal_entries() == []


def test_a_matching_callback_url_is_sent_with_the_request(callback_receiver):
    receiver = callback_receiver()
    url = f"http://127.0.0.1:{receiver.port}/momo"
    run = momo(*TRANSFER, "--callback-url", url, "--wait", "--yes", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["callback_url"] == url


def test_a_rejected_request_is_sent_again_with_its_reference_id_once_the_cause_is_fixed(monkeypatch):
    for name, value in (("USER_ID", str(uuid.uuid4())), ("API_KEY", "k" * 32), ("SUBSCRIPTION_KEY", "s" * 32)):
        monkeypatch.setenv(f"MOMO_DISBURSEMENT_{name}", value)
    first = momo(*TRANSFER, "--yes", "-q")
    assert first.exit_code == 4
    ref = first.stdout.strip()
    for name in ("USER_ID", "API_KEY", "SUBSCRIPTION_KEY"):
        monkeypatch.delenv(f"MOMO_DISBURSEMENT_{name}")
    again = momo(*TRANSFER, "--reference-id", ref, "--wait", "--yes", "--json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["reference_id"] == ref and again.json()["status"] == "SUCCESSFUL"
    (entry,) = journal_entries()
    assert entry.state == "final"


def test_missing_credentials_on_a_real_host_are_exit_3_before_anything_is_journaled(terminal):
    run = momo("--base-url", "https://sandbox.momodeveloper.mtn.com", *TRANSFER, input="y\n")
    assert run.exit_code == 3
    (line,) = run.stderr.splitlines()
    assert "disbursement credentials are incomplete" in line and "MOMO_DISBURSEMENT_API_KEY" in line
    assert "Send it?" not in run.stderr  # not asked to confirm what cannot be sent
    assert journal_entries() == []


def test_ctrl_c_while_waiting_says_what_became_of_the_request(monkeypatch):
    from momo_cli.commands import _money

    async def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_money, "wait_entry", interrupt)
    run = momo(*TRANSFER, "--wait", "--yes")
    assert run.exit_code == 130
    (entry,) = journal_entries()
    (line,) = run.error_lines
    assert f"the transfer {entry.reference_id} was accepted" in line
    assert f"momo status {entry.reference_id} --wait" in line
