"""Batch payouts against a real `momo sandbox serve` with faults: exactly one transfer per row.

- 1,000 rows with 20% of the POSTs answered 500 after being stored, 10% of the connections dropped
  after being stored, and a server-side limit of 50 requests per second (429 + Retry-After);
- a real `python -m momo_cli ... disburse batch FILE --yes --json` killed with SIGKILL at five random
  moments and run again each time.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.commands.test_batch import batch, fast_batch, runs_and_entries  # noqa: F401 - fast_batch: fixture

pytestmark = [pytest.mark.served, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def all_transactions(served) -> list[dict]:
    r = httpx.get(served.url + "/_sandbox/transactions", params={"limit": 100_000}, timeout=30, trust_env=False)
    r.raise_for_status()
    return r.json()


def write_rows(path: Path, count: int, prefix: str) -> Path:
    with path.open("w") as f:
        f.write("payee,amount,currency,external_id,payer_message\n")
        for i in range(count):
            f.write(f"46733123999,{1 + i % 97}.{i % 100:02d},EUR,{prefix}-{i:05d},payout {i}\n")
    return path


@pytest.mark.usefixtures("fast_batch")
def test_1000_rows_under_errors_drops_and_a_rate_limit_make_exactly_1000_transfers(tmp_path, served_emulator):
    served = served_emulator("--error-rate", "0.2", "--drop-rate", "0.1", "--rate-limit", "50",
                             "--settle-after", "0", "--seed", "5", "--quiet")
    path = write_rows(tmp_path / "payouts.csv", 1000, "big")
    report = tmp_path / "report.csv"
    run = batch(path, "--yes", "--json", "--report", report, "--poll-interval", "0.2", base_url=served.url)
    assert run.exit_code == 0, run.stderr[-3000:]
    summary = run.events()[-1]
    assert (summary["event"], summary["successful"], summary["total"]) == ("summary", 1000, 1000)

    transactions = all_transactions(served)
    external_ids = [t["external_id"] for t in transactions]
    assert len(transactions) == 1000
    assert sorted(external_ids) == [f"big-{i:05d}" for i in range(1000)], "one transfer per external id"
    _, entries = runs_and_entries()
    assert {t["reference_id"] for t in transactions} == {e.reference_id for e in entries}
    # the faults did happen, and were resolved by status checks, not by sending again blindly
    statuses = [(r["method"], r["status"]) for r in served.requests()]
    assert ("POST", 500) in statuses and ("POST", 0) in statuses and any(s == 429 for _, s in statuses)
    rows = list(csv.DictReader(report.open()))
    assert len(rows) == 1000 and {r["status"] for r in rows} == {"SUCCESSFUL"}


CHILD_ENV_KEEP = ("PATH", "HOME", "MOMO_CONFIG_DIR", "MOMO_DATA_DIR", "MOMO_CACHE_DIR", "LANG", "LC_ALL", "TMPDIR")


def test_sigkill_at_five_random_moments_then_the_run_ends_with_one_transfer_per_row(tmp_path, served_emulator):
    served = served_emulator("--latency", "100", "--error-rate", "0.1", "--drop-rate", "0.05",
                             "--settle-after", "0", "--seed", "11", "--quiet")
    rows = 200
    path = write_rows(tmp_path / "payouts.csv", rows, "kill")
    env = {k: v for k, v in os.environ.items() if k in CHILD_ENV_KEEP or k.startswith("MOMO_")}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
    command = [sys.executable, "-m", "momo_cli", "--base-url", served.url, "disburse", "batch", str(path),
               "--yes", "--json", "--poll-interval", "0.2"]
    rng = random.Random(20260527)
    # five random moments: one by time from the start (start-up, validation, journaling the rows or the
    # first requests), four after a random number of NDJSON lines (sending, or following the rows)
    moments = [("seconds", rng.uniform(0.3, 1.2))] + [("lines", rng.randint(3, 150)) for _ in range(4)]
    rng.shuffle(moments)
    kills = []
    for kind, amount in moments:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        phase = "start-up"
        if kind == "seconds":
            time.sleep(amount)
        else:
            for _ in range(amount):
                line = child.stdout.readline()
                if not line:
                    break
                event = json.loads(line)  # every line is a JSON object, even when killed soon after
                phase = event.get("phase", event["event"])
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills.append((kind, round(amount, 2), phase, len(all_transactions(served))))
        child.wait(30)
        child.stdout.close()
        stderr = child.stderr.read()
        child.stderr.close()
        assert child.returncode in (-signal.SIGKILL, 0), stderr
    print("kills (moment, phase, transfers so far):", kills)
    assert len(kills) == 5, f"the batch finished before it could be killed five times: {kills}"
    assert sum(1 for *_, count in kills if 0 < count < rows) >= 2, f"too few kills while sending: {kills}"

    report = tmp_path / "report.json"
    final = subprocess.run([*command, "--report", str(report)], env=env, capture_output=True, text=True, timeout=90)
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout.splitlines()[-1])
    assert (summary["event"], summary["successful"], summary["total"]) == ("summary", rows, rows)

    doc = json.loads(report.read_text())
    assert len(doc["rows"]) == rows
    assert {(r["state"], r["status"]) for r in doc["rows"]} == {("final", "SUCCESSFUL")}, "every row final"
    transactions = all_transactions(served)
    assert len(transactions) == rows, "exactly one transfer per row"
    assert sorted(t["external_id"] for t in transactions) == [f"kill-{i:05d}" for i in range(rows)]
    assert {t["reference_id"] for t in transactions} == {r["reference_id"] for r in doc["rows"]}
    runs, _ = runs_and_entries()
    assert len(runs) == 1  # every re-run resumed the same run
