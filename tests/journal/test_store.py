"""The journal's storage: schema, permissions, states and events, queries, batch runs, processes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from momo_cli.errors import NetworkError, UsageError
from momo_cli.journal import store
from momo_cli.journal.store import (
    SCHEMA_VERSION,
    DuplicateReference,
    Journal,
    JournalError,
    RunRow,
    State,
    journal_path,
)
from tests.journal.conftest import new_transfer, transfer_body


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- file, schema --------------------------------------------------------------------------------


def test_file_is_private_and_in_wal_mode(journal_file):
    with Journal(journal_file) as journal:
        new_transfer(journal)
        assert mode(journal_file.parent) == 0o700
        assert mode(journal_file) == 0o600
        for suffix in ("-wal", "-shm"):
            side = journal_file.with_name(journal_file.name + suffix)
            assert side.exists() and mode(side) & 0o077 == 0
        assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert journal._conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert journal.schema_version == SCHEMA_VERSION


def test_journal_path_is_in_the_data_dir(tmp_path):
    assert journal_path(tmp_path) == tmp_path / "journal.sqlite3"


def test_reopening_keeps_everything(journal_file):
    with Journal(journal_file) as journal:
        entry = new_transfer(journal)
    with Journal(journal_file) as journal:
        assert journal.get(entry.reference_id) == entry


def test_a_journal_from_a_newer_version_is_refused(journal_file):
    Journal(journal_file).close()
    with sqlite3.connect(journal_file) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(JournalError, match="newer momo-cli"):
        Journal(journal_file)


def test_migrations_bring_an_old_file_up_to_date(journal_file, monkeypatch):
    with Journal(journal_file) as journal:
        entry = new_transfer(journal)
    extra = ("ALTER TABLE entries ADD COLUMN note TEXT",)
    monkeypatch.setattr(store, "MIGRATIONS", (*store.MIGRATIONS, extra))
    monkeypatch.setattr(store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Journal(journal_file) as journal:
        assert journal.schema_version == SCHEMA_VERSION + 1
        columns = [row[1] for row in journal._conn.execute("PRAGMA table_info(entries)")]
        assert "note" in columns
        assert journal.get(entry.reference_id) == entry


def test_a_file_that_is_not_a_database_is_explained(journal_file):
    journal_file.parent.mkdir(parents=True)
    journal_file.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="cannot be read"):
        Journal(journal_file)


def test_no_secrets_in_the_schema(journal):
    columns = " ".join(
        row[1] for table in ("entries", "events", "runs")
        for row in journal._conn.execute(f"PRAGMA table_info({table})")
    ).lower()
    for word in ("header", "authorization", "token", "key", "secret", "password"):
        assert word not in columns


# -- entries, states, events ---------------------------------------------------------------------


def test_record_new_stores_the_request(journal):
    reference_id = str(uuid.uuid4()).upper()
    entry = new_transfer(journal, reference_id=reference_id, callback_url="https://cb.example/momo")
    assert entry.reference_id == reference_id.lower()
    assert entry.state is State.CREATED and entry.attempts == 0 and not entry.may_have_been_sent
    assert (entry.amount, entry.currency, entry.party_type, entry.party_id, entry.external_id) == (
        "600", "EUR", "MSISDN", "46733123450", "ext-1"
    )
    assert entry.body == transfer_body()
    assert (entry.profile, entry.base_url, entry.target_environment) == ("default", "local", "sandbox")
    assert entry.callback_url == "https://cb.example/momo"
    assert [(e.state, e.detail) for e in journal.events(entry.reference_id)] == [(State.CREATED, "journaled")]


def test_amounts_are_exact_strings_never_floats(journal):
    entry = new_transfer(journal, body={**transfer_body(), "amount": Decimal("1234567890.10")})
    assert entry.amount == "1234567890.10"
    assert json.loads(entry.request_body)["amount"] == "1234567890.10"
    with pytest.raises(ValueError, match="float"):
        new_transfer(journal, body={**transfer_body(), "amount": 12.5})


def test_record_new_refuses_a_duplicate_reference_and_bad_input(journal):
    entry = new_transfer(journal)
    with pytest.raises(DuplicateReference):
        new_transfer(journal, reference_id=entry.reference_id)
    with pytest.raises(ValueError):
        new_transfer(journal, reference_id="not-a-uuid")
    with pytest.raises(ValueError):
        new_transfer(journal, operation="teleport")
    with pytest.raises(ValueError):
        new_transfer(journal, version="v2_0")  # transfer has only v1_0


def test_collection_party_is_the_payer(journal):
    body = {"amount": "5", "currency": "EUR", "externalId": "c1",
            "payer": {"partyIdType": "MSISDN", "partyId": "46733123453"}}
    entry = journal.record_new(reference_id=str(uuid.uuid4()), product="collection",
                               operation="request_to_pay", body=body)
    assert entry.party_id == "46733123453"


def test_every_state_is_an_event(journal):
    entry = new_transfer(journal)
    ref = entry.reference_id
    journal.begin_attempt(ref)
    unknown = journal.mark_unknown(ref, NetworkError("no answer in time (ReadTimeout)"))
    assert unknown.state is State.UNKNOWN
    assert unknown.last_error == "no answer in time (ReadTimeout)" and unknown.error_type == "NetworkError"
    journal.note(ref, "status GET: 404, the request never arrived")
    journal.begin_attempt(ref)
    submitted = journal.mark_submitted(ref)
    assert submitted.state is State.SUBMITTED and submitted.status == "PENDING"
    assert submitted.last_error is None and submitted.attempts == 2
    journal.record_status(ref, "PENDING")  # no change: no event
    final = journal.record_status(ref, "successful", None, 123456)
    assert final.state is State.FINAL and final.status == "SUCCESSFUL"
    assert final.financial_transaction_id == "123456" and final.closed
    events = journal.events(ref)
    assert [(e.state, e.status) for e in events] == [
        (State.CREATED, None),
        (State.CREATED, None),
        (State.UNKNOWN, None),
        (State.UNKNOWN, None),
        (State.UNKNOWN, None),
        (State.SUBMITTED, "PENDING"),
        (State.FINAL, "SUCCESSFUL"),
    ]
    assert [e.detail for e in events][1:5] == [
        "sending (attempt 1)",
        "outcome unknown: no answer in time (ReadTimeout)",
        "status GET: 404, the request never arrived",
        "sending (attempt 2)",
    ]
    assert events == sorted(events, key=lambda e: e.id)
    assert all(e.at.endswith("Z") for e in events)


def test_final_never_goes_back_and_rejected_is_final(journal):
    a = new_transfer(journal)
    journal.record_status(a.reference_id, "FAILED", "NOT_ENOUGH_FUNDS")
    assert journal.record_status(a.reference_id, "PENDING").status == "FAILED"
    assert journal.mark_unknown(a.reference_id, "timeout").state is State.FINAL
    assert journal.mark_submitted(a.reference_id).state is State.FINAL

    b = new_transfer(journal)
    rejected = journal.mark_rejected(b.reference_id, "the request was rejected as malformed (400)")
    assert rejected.state is State.REJECTED and rejected.closed
    assert journal.mark_unknown(b.reference_id, "late").state is State.REJECTED
    with pytest.raises(UsageError):
        journal.reopen(a.reference_id)
    reopened = journal.reopen(b.reference_id)
    assert reopened.state is State.CREATED and reopened.may_have_been_sent is False


def test_list_filters_and_orders(journal):
    clock = [datetime(2026, 1, 1, tzinfo=timezone.utc)]
    journal._now = lambda: clock[0]
    entries = []
    for i in range(5):
        clock[0] += timedelta(days=1)
        entries.append(new_transfer(journal))
    journal.record_status(entries[0].reference_id, "SUCCESSFUL")
    journal.record_status(entries[1].reference_id, "FAILED", "PAYEE_NOT_FOUND")
    journal.mark_unknown(entries[2].reference_id, "timeout")
    assert [e.reference_id for e in journal.list()] == [e.reference_id for e in reversed(entries)]
    assert [e.reference_id for e in journal.list(status="successful")] == [entries[0].reference_id]
    assert len(journal.list(state="created")) == 2
    assert len(journal.list(state=[State.CREATED, "unknown"])) == 3
    assert len(journal.list(since="2026-01-04")) == 3  # created on the 2nd to the 6th
    assert len(journal.list(since=datetime(2026, 1, 5, 12, tzinfo=timezone.utc))) == 1
    assert len(journal.list(limit=2)) == 2
    with pytest.raises(UsageError):
        journal.list(since="last tuesday")
    unresolved = list(journal.unresolved(page_size=1))
    assert [e.reference_id for e in unresolved] == [e.reference_id for e in entries[2:]]
    assert journal.get(str(uuid.uuid4())) is None
    assert journal.get("garbage") is None


def test_unresolved_can_be_updated_while_iterating(journal):
    refs = [new_transfer(journal).reference_id for _ in range(7)]
    seen = []
    for entry in journal.unresolved(page_size=2):
        seen.append(entry.reference_id)
        journal.record_status(entry.reference_id, "SUCCESSFUL")
    assert seen == refs
    assert list(journal.unresolved()) == []


def test_to_dict_has_the_contract_keys(journal):
    data = new_transfer(journal).to_dict()
    for key in ("reference_id", "product", "operation", "status", "reason", "amount", "currency",
                "external_id", "party", "financial_transaction_id", "environment", "state"):
        assert key in data
    assert data["party"] == {"type": "MSISDN", "id": "46733123450"}
    json.dumps(data)


def test_to_record_is_what_a_callback_replay_needs(journal):
    from momo_cli.callbacks.bodies import callback_request

    entry = new_transfer(journal)
    journal.record_status(entry.reference_id, "SUCCESSFUL", None, "777")
    record = journal.get(entry.reference_id).to_record()
    assert record["payer_message"] == "salary" and record["payee_note"] == "thanks"
    assert "request_body" not in record and record["state"] == "final"
    method, body = callback_request(record)
    assert method == "POST"
    assert body == {"financialTransactionId": "777", "externalId": "ext-1", "amount": "600",
                    "currency": "EUR", "payee": {"partyIdType": "MSISDN", "partyId": "46733123450"},
                    "payerMessage": "salary", "payeeNote": "thanks", "status": "SUCCESSFUL"}

    cash = journal.record_new(
        reference_id=str(uuid.uuid4()), product="remittance", operation="cash_transfer", version="v2_0",
        body={**transfer_body(), "orginatingCountry": "UG", "payerFirstName": "Ada"},
    )
    record = cash.to_record()
    assert record["orginatingCountry"] == "UG" and record["version"] == "v2_0"
    assert callback_request(record)[0] == "PUT"


# -- batch runs ----------------------------------------------------------------------------------


def rows(n: int, start: int = 2):
    return (
        RunRow(line_no=i, payee=f"4673312{i % 10000:04d}", amount="5.50", currency="EUR",
               external_id=f"row-{i}")
        for i in range(start, start + n)
    )


def test_same_file_resumes_its_run_and_a_different_file_is_a_new_run(journal):
    run = journal.create_or_resume_run("pay.csv", "hash-a", "transfer", {"concurrency": 8}, rows=rows(3),
                                       base_url="local", target_environment="sandbox")
    assert not run.resumed and run.row_count == 3 and run.loaded
    again = journal.create_or_resume_run("moved/pay.csv", "hash-a", "transfer", {"concurrency": 2},
                                         rows=rows(99), base_url="local", target_environment="sandbox")
    assert again.id == run.id and again.resumed and again.row_count == 3
    assert again.options == {"concurrency": 2} and again.file_path == "moved/pay.csv"
    changed = journal.create_or_resume_run("pay.csv", "hash-b", "transfer", {}, rows=rows(2),
                                           base_url="local", target_environment="sandbox")
    assert changed.id != run.id and not changed.resumed
    deposit = journal.create_or_resume_run("pay.csv", "hash-a", "deposit", {}, rows=rows(2),
                                           base_url="local", target_environment="sandbox")
    assert deposit.id not in (run.id, changed.id)
    production = journal.create_or_resume_run("pay.csv", "hash-a", "transfer", {}, rows=rows(2),
                                              base_url="https://proxy.momoapi.mtn.com",
                                              target_environment="mtnuganda")
    assert production.id not in (run.id, changed.id, deposit.id)
    assert [r.id for r in journal.list_runs()] == [production.id, deposit.id, changed.id, run.id]
    assert journal.get_run(run.id).row_count == 3


def test_rows_get_their_reference_ids_before_anything_is_sent(journal):
    run = journal.create_or_resume_run("pay.csv", "h", "transfer", {}, rows=[
        {"line_no": 2, "payee": "46733123450", "amount": "10", "currency": "EUR", "external_id": "a",
         "payee_note": "june", "payer_message": "salary"},
        RunRow(3, "a@b.example", Decimal("7.25"), "EUR", "b", payee_type="email"),
    ])
    first, second = journal.iter_run_entries(run.id)
    assert first.state is State.CREATED and first.attempts == 0
    assert uuid.UUID(first.reference_id).version == 4
    assert first.body == {"amount": "10", "currency": "EUR", "externalId": "a",
                          "payee": {"partyIdType": "MSISDN", "partyId": "46733123450"},
                          "payerMessage": "salary", "payeeNote": "june"}
    assert (second.party_type, second.amount, second.line_no, second.run_id) == ("EMAIL", "7.25", 3, run.id)
    assert journal.events(first.reference_id)[0].detail == f"journaled in batch run {run.id}, line 2"


def test_rows_load_all_or_nothing(journal):
    run = journal.create_or_resume_run("pay.csv", "h", "transfer", {})
    assert not run.loaded

    def broken():
        yield from rows(5)
        raise RuntimeError("the file changed while reading")

    with pytest.raises(RuntimeError):
        journal.add_rows(run.id, broken())
    assert journal.run_summary(run.id).total == 0 and not journal.get_run(run.id).loaded
    assert journal.add_rows(run.id, rows(5)) == 5
    with pytest.raises(UsageError):
        journal.add_rows(run.id, rows(5))
    with pytest.raises(UsageError):
        journal.add_rows(run.id + 100, rows(1))


def test_iterating_by_state_and_summary(journal):
    run = journal.create_or_resume_run("pay.csv", "h", "transfer", {}, rows=rows(10))
    entries = list(journal.iter_run_entries(run.id, page_size=3))
    assert [e.line_no for e in entries] == list(range(2, 12))
    journal.record_status(entries[0].reference_id, "SUCCESSFUL")
    journal.record_status(entries[1].reference_id, "FAILED", "PAYEE_NOT_FOUND")
    journal.mark_submitted(entries[2].reference_id)
    journal.mark_unknown(entries[3].reference_id, "timeout")
    journal.mark_rejected(entries[4].reference_id, "400")
    open_rows = list(journal.iter_run_entries(run.id, states=["created", "unknown"], page_size=2))
    assert [e.line_no for e in open_rows] == [5, *range(7, 12)]
    summary = journal.run_summary(run.id)
    assert summary.total == 10
    assert summary.by_state == {"created": 5, "final": 2, "submitted": 1, "unknown": 1, "rejected": 1}
    assert summary.by_status == {"SUCCESSFUL": 1, "FAILED": 1, "PENDING": 1}
    assert summary.buckets == {"queued": 5, "unknown": 1, "pending": 1, "successful": 1, "failed": 1,
                               "rejected": 1}
    json.dumps(summary.to_dict())
    assert len(journal.list(run_id=run.id)) == 10


def test_bulk_insert_of_100000_rows_streams(journal):
    run = journal.create_or_resume_run("big.csv", "big", "transfer", {})
    written_when_read: dict[int, int] = {}

    def watched():
        # Rows are read lazily and written in small chunks: when row k is read, all but the last
        # chunk before it are already in the (same, uncommitted) transaction.
        for row in rows(100_000):
            if row.line_no % 25_000 == 0:
                written_when_read[row.line_no] = journal._conn.execute(
                    "SELECT COUNT(*) FROM entries WHERE run_id = ?", (run.id,)
                ).fetchone()[0]
            yield row

    assert journal.add_rows(run.id, watched()) == 100_000
    for line_no, written in written_when_read.items():
        assert line_no - 2 - written <= store._BULK_CHUNK, (line_no, written)
    summary = journal.run_summary(run.id)
    assert summary.total == 100_000 and summary.buckets["queued"] == 100_000
    refs = journal._conn.execute("SELECT COUNT(DISTINCT reference_id) FROM entries").fetchone()[0]
    assert refs == 100_000
    assert sum(1 for _ in journal.iter_run_entries(run.id, states=["created"], after_line=99_990)) == 11


def test_bulk_insert_memory_does_not_grow_with_the_rows(journal):
    run = journal.create_or_resume_run("mid.csv", "mid", "transfer", {})
    tracemalloc.start()
    try:
        journal.add_rows(run.id, rows(5_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for 5,000 rows"


# -- several processes ---------------------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys, uuid
    from momo_cli.journal.store import Journal, RunRow
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Journal(path, busy_timeout=60) as journal:
        run = journal.create_or_resume_run("same.csv", "same-hash", "transfer", {},
            rows=(RunRow(i, "46733123450", "1", "EUR", f"r{i}") for i in range(1, 501)))
        print(run.id, flush=True)
        for i in range(n):
            ref = str(uuid.uuid4())
            journal.record_new(reference_id=ref, product="disbursement", operation="transfer",
                body={"amount": "1", "currency": "EUR", "externalId": f"{tag}-{i}",
                      "payee": {"partyIdType": "MSISDN", "partyId": "46733123450"}})
            journal.begin_attempt(ref)
            journal.mark_submitted(ref)
            journal.record_status(ref, "SUCCESSFUL", None, str(i))
""")


def test_two_processes_write_the_same_journal(journal_file):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(journal_file), tag, "150"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for tag in ("a", "b")
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    run_ids = {out.strip() for out, _ in outputs}
    assert len(run_ids) == 1, "both processes must find the same run"
    with Journal(journal_file) as journal:
        single = [e for e in journal.list() if e.run_id is None]
        assert len(single) == 300
        assert all(e.state is State.FINAL for e in single)
        assert sorted(e.external_id for e in single) == sorted(
            f"{tag}-{i}" for tag in ("a", "b") for i in range(150)
        )
        assert all(len(journal.events(e.reference_id)) == 4 for e in single)
        assert journal.run_summary(int(run_ids.pop())).total == 500
        assert len(journal.list_runs()) == 1
