"""The in-process emulator lives only as long as a command: its callbacks must not die with it."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from momo_cli.cli import root


def _loopback(url: str) -> str:
    """Self-provisioned API users have providerCallbackHost 127.0.0.1."""
    return url.replace("//localhost:", "//127.0.0.1:")


def test_a_local_command_delivers_its_callback_before_it_exits(callback_receiver, monkeypatch):
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    receiver = callback_receiver()
    result = CliRunner().invoke(root, [
        "collect", "request", "--amount", "600", "--payer", "46733123451", "--yes", "--wait", "--json",
        "--callback-url", _loopback(receiver.url("/momo")),
    ])
    assert result.exit_code == 10, result.stderr
    tx = json.loads(result.stdout)
    (callback,) = receiver.wait_for(1, timeout=5)
    assert callback.method == "POST"
    body = json.loads(callback.body)
    assert body["status"] == "FAILED" and body["reason"] == "APPROVAL_REJECTED"
    assert body["externalId"] == tx["external_id"]


def test_a_callback_due_after_the_command_is_sent_by_the_next_one(callback_receiver, monkeypatch):
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0.5")
    receiver = callback_receiver()
    runner = CliRunner()
    first = runner.invoke(root, [
        "disburse", "transfer", "--amount", "5", "--payee", "46733123999", "--yes", "--json",
        "--callback-url", _loopback(receiver.url("/payout")),
    ])
    assert first.exit_code == 0, first.stderr
    assert receiver.received == []  # not due yet when the command ended
    time.sleep(0.6)
    later = runner.invoke(root, ["balance", "--product", "disbursement", "--json"])
    assert later.exit_code == 0, later.stderr
    (callback,) = receiver.wait_for(1, timeout=5)
    assert json.loads(callback.body)["status"] == "SUCCESSFUL"
