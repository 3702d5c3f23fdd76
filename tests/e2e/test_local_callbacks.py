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


def test_a_callback_due_much_later_does_not_hold_the_command(callback_receiver, monkeypatch):
    """46733123454 settles after a minute: its callback is left for a later process, not waited for."""
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    receiver = callback_receiver()
    started = time.monotonic()
    result = CliRunner().invoke(root, [
        "disburse", "transfer", "--amount", "5", "--payee", "46733123454", "--yes", "--json",
        "--callback-url", _loopback(receiver.url("/payout")),
    ])
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 4
    assert receiver.received == []


def test_without_wait_the_callback_still_arrives_after_the_settle_delay(callback_receiver, monkeypatch):
    """The command ends before the transaction settles; the callback must not be lost with it."""
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "1")
    receiver = callback_receiver()
    result = CliRunner().invoke(root, [
        "collect", "request", "--amount", "100", "--payer", "46733123451", "--yes", "--json",
        "--callback-url", _loopback(receiver.url("/momo")),
    ])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "PENDING"
    (callback,) = receiver.wait_for(1, timeout=1)  # already there when the command returned
    assert json.loads(callback.body)["reason"] == "APPROVAL_REJECTED"


def test_replaying_a_pending_transaction_is_refused(monkeypatch):
    """MoMo calls back only with a final status: a PENDING callback would teach a handler the wrong thing."""
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    runner = CliRunner()
    ref = runner.invoke(root, ["disburse", "transfer", "--amount", "5", "--payee", "46733123454",
                               "--yes", "-q"]).stdout.strip()
    result = runner.invoke(root, ["callbacks", "replay", "--to", "http://127.0.0.1:9/", ref])
    assert result.exit_code == 2
    assert "still PENDING" in result.stderr and len(result.stderr.strip().splitlines()) == 1
