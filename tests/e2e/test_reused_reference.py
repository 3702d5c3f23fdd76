"""A reference id reused by hand never makes another payment look like this one."""

from __future__ import annotations

import json
import uuid

from click.testing import CliRunner

from momo_cli.cli import root


def test_a_reference_id_used_by_another_payment_is_refused_not_reported_as_paid(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    runner = CliRunner()
    ref = str(uuid.uuid4())
    first = runner.invoke(root, ["disburse", "transfer", "--amount", "1", "--payee", "46733123999",
                                 "--reference-id", ref, "--yes", "--wait", "--json"])
    assert first.exit_code == 0, first.stderr
    # Another machine (another journal) with the same API user reuses the id for another payment.
    data = isolated_dirs / "data"
    for path in data.glob("journal.sqlite3*"):
        path.rename(path.with_name("old-" + path.name))
    balance_before = json.loads(runner.invoke(root, ["balance", "--product", "disbursement", "--json"]).stdout)
    second = runner.invoke(root, ["disburse", "transfer", "--amount", "5000", "--payee", "256772999999",
                                  "--reference-id", ref, "--yes", "--wait", "--json"])
    assert second.exit_code == 5, second.stderr
    doc = json.loads(second.stdout)
    assert doc["reference_id"] == ref and doc["status"] != "SUCCESSFUL"
    assert "already used by another transaction" in second.stderr
    assert "amount 1 instead of 5000" in second.stderr
    balance_after = json.loads(runner.invoke(root, ["balance", "--product", "disbursement", "--json"]).stdout)
    assert balance_after == balance_before
