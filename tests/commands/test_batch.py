"""`momo disburse batch`: validation before sending, confirmation, the run in the journal, resume,
the report, the NDJSON stream, `status` and `list`. On the built-in emulator, and over loopback where
the emulator's own request log must show what was (not) sent."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from momo_cli.output import Output

pytestmark = pytest.mark.usefixtures("fast_batch")

HEADER = "payee,amount,currency,external_id,payer_message,payee_note\n"
OK_NUMBER, FAILING_NUMBER = "46733123999", "46733123450"  # SUCCESSFUL; FAILED INTERNAL_PROCESSING_ERROR


@pytest.fixture
def fast_batch(monkeypatch):
    """The built-in emulator settles at once, and a row's send pauses are short."""
    from momo_cli.commands import disburse_batch
    from momo_cli.journal.sender import SendPolicy

    monkeypatch.setenv("MOMO_EMULATOR_SETTLE_AFTER", "0")
    monkeypatch.setattr(disburse_batch, "SEND_POLICY", SendPolicy(max_tries=6, backoff=0.01, max_backoff=0.05))


@pytest.fixture
def terminal(monkeypatch):
    """Pretend a person sits at a terminal (stdin and stderr are TTYs)."""
    monkeypatch.setattr(Output, "interactive", property(lambda self: True))


class Result:
    def __init__(self, result):
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    def __repr__(self) -> str:
        return f"<exit {self.exit_code}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}>"


def momo(*args, input=None, base_url=None) -> Result:
    from momo_cli.cli import root

    argv = (["--base-url", base_url] if base_url else []) + [str(a) for a in args]
    return Result(CliRunner().invoke(root, argv, input=input, prog_name="momo"))


def batch(*args, **kwargs) -> Result:
    return momo("disburse", "batch", *args, **kwargs)


def payout_file(path: Path, rows: int = 5, *, failing: tuple[int, ...] = (), prefix: str = "ext",
                amount: str = "10.50") -> Path:
    """A CSV of `rows` rows (lines 2 ...); the rows whose index is in `failing` pay the failing number."""
    lines = [HEADER]
    for i in range(rows):
        number = FAILING_NUMBER if i in failing else OK_NUMBER
        lines.append(f"{number},{amount},EUR,{prefix}-{i},salary {i},thanks\n")
    path.write_text("".join(lines))
    return path


def journal():
    from momo_cli.journal.store import Journal, journal_path

    return Journal(journal_path(Path(os.environ["MOMO_DATA_DIR"])))


def runs_and_entries() -> tuple[list, list]:
    from momo_cli.journal.store import journal_path

    if not journal_path(Path(os.environ["MOMO_DATA_DIR"])).exists():
        return [], []
    with journal() as j:
        return j.list_runs(), j.list()


def money_requests(served) -> list[dict]:
    return [r for r in served.requests() if r["path"].startswith("/disbursement/v1_0/")
            and "/account" not in r["path"]]


@pytest.fixture(scope="module")
def served(module_served_emulator):
    return module_served_emulator("--quiet")


# -- shape and help --------------------------------------------------------------------------------


def test_help_through_the_root_names_the_three_forms():
    run = momo("disburse", "batch", "--help")
    assert run.exit_code == 0, run
    assert "Usage: momo disburse batch FILE [OPTIONS]" in run.stdout
    assert "momo disburse batch status RUN" in run.stdout and "momo disburse batch list" in run.stdout
    for option in ("--operation", "--concurrency", "--rate-limit", "--dry-run", "--yes", "--json", "--report",
                   "--callback-url", "--poll-timeout"):
        assert option in run.stdout
    for sub in ("run", "status", "list"):
        assert momo("disburse", "batch", sub, "--help").exit_code == 0
    assert "batch" in momo("disburse", "--help").stdout


def test_the_command_module_imports_nothing_heavy():
    code = ("import sys, momo_cli.commands.disburse_batch, momo_cli.batchfile; "
            "heavy = [m for m in ('httpx', 'rich', 'pydantic', 'starlette') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- validation and confirmation: nothing sent -------------------------------------------------------


def test_dry_run_shows_the_summary_and_sends_nothing(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 4)
    run = batch(path, "--dry-run")
    assert run.exit_code == 0, run
    assert "rows         4" in run.stdout and "total        42.00 EUR" in run.stdout
    assert "payees       1 distinct" in run.stdout and "run          new" in run.stdout
    assert "nothing was sent" in run.stderr
    run = batch(path, "--dry-run", "--json")
    assert run.exit_code == 0, run
    (doc,) = run.events()
    assert (doc["event"], doc["rows"], doc["totals"], doc["payees"], doc["valid"], doc["dry_run"]) == (
        "validated", 4, {"EUR": "42.00"}, 1, True, True)
    assert runs_and_entries() == ([], [])


def test_without_a_terminal_and_without_yes_nothing_is_sent(tmp_path):
    run = batch(payout_file(tmp_path / "pay.csv", 3))
    assert run.exit_code == 2, run
    (line,) = run.stderr.splitlines()
    assert "not confirmed" in line and "no terminal" in line and "--yes" in line and "nothing was sent" in line
    assert runs_and_entries() == ([], [])


def test_a_terminal_asks_and_no_sends_nothing_and_yes_pays(tmp_path, terminal):
    path = payout_file(tmp_path / "pay.csv", 3)
    run = batch(path, input="n\n")
    assert run.exit_code == 2 and "not confirmed" in run.stderr, run
    assert "Pay out 3 rows, 31.50 EUR (disbursement transfer, sandbox (local emulator))?" in run.stderr
    assert runs_and_entries() == ([], [])
    run = batch(path, input="y\n")
    assert run.exit_code == 0, run
    runs, entries = runs_and_entries()
    assert len(runs) == 1 and len(entries) == 3


def test_a_production_environment_asks_for_its_name(tmp_path, terminal):
    path = tmp_path / "uganda.csv"
    path.write_text("payee,amount,currency,external_id\n256772123456,5000,UGX,u-1\n")
    run = momo("--target-environment", "mtnuganda", "disburse", "batch", path, input="sandbox\n")
    assert run.exit_code == 2, run
    assert "Type mtnuganda" in run.stderr and "expected 'mtnuganda'" in run.stderr
    assert runs_and_entries() == ([], [])


def test_a_bad_file_lists_its_rows_and_sends_nothing(tmp_path):
    path = tmp_path / "pay.csv"
    path.write_text(HEADER + "46733123999,1,EUR,a,,\n46733123999,1.001,EUR,b,,\n46733123999,1,UGX,a,,\n")
    run = batch(path, "--yes")
    assert run.exit_code == 2, run
    assert "2 bad rows of 3 (3 errors); nothing was sent" in run.stderr
    assert "line 3: amount: 1.001 has too many decimals" in run.stderr
    assert "line 4: currency: UGX is not accepted in the sandbox" in run.stderr
    assert "line 4: external_id: 'a' is already used on line 2" in run.stderr
    assert run.stderr.splitlines()[-1].startswith("momo: error: ")
    assert run.stdout == ""
    run = batch(path, "--yes", "--json")
    assert run.exit_code == 2
    (doc,) = run.events()
    assert doc["event"] == "invalid" and doc["bad_rows"] == 2
    assert [(e["line"], e["field"]) for e in doc["errors"]] == [(3, "amount"), (4, "currency"), (4, "external_id")]
    assert runs_and_entries() == ([], [])


def test_the_printed_list_of_errors_is_capped(tmp_path):
    path = tmp_path / "pay.csv"
    path.write_text(HEADER + "".join(f"46733123999,0,EUR,e{i},,\n" for i in range(70)))
    run = batch(path, "--yes")
    assert run.exit_code == 2
    assert run.stderr.count("must be greater than zero") == 50 and "... and 20 more errors" in run.stderr


def test_options_are_checked_before_anything_is_sent(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 2)
    run = batch(path, "--yes", "--report", tmp_path / "missing" / "r.csv")
    assert run.exit_code == 2 and "does not exist" in run.stderr, run
    run = batch(path, "--yes", "--callback-url", "http://elsewhere.example/cb")
    assert run.exit_code == 2 and "providerCallbackHost" in run.stderr, run
    assert batch(path, "--yes", "--concurrency", "0").exit_code == 2
    assert batch(tmp_path / "nope.csv", "--yes").exit_code == 2
    assert runs_and_entries() == ([], [])


def test_one_bad_row_among_10000_sends_nothing_and_names_it(tmp_path, served):
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write(HEADER)
        for i in range(10_000):
            amount = "12.345" if i == 7_349 else "12.34"
            f.write(f"46733123999,{amount},EUR,row-{i},,\n")
    before = len(served.requests())
    run = batch(path, "--yes", base_url=served.url)
    assert run.exit_code == 2, run
    assert "1 bad row of 10000; nothing was sent" in run.stderr
    assert "line 7351: amount: 12.345 has too many decimals: EUR allows at most 2 decimals" in run.stderr
    assert len(served.requests()) == before  # not even a token request
    assert runs_and_entries() == ([], [])


# -- sending, the report, the stream ---------------------------------------------------------------


def test_a_run_pays_every_row_and_the_report_has_one_line_each(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 6, failing=(2, 4))
    report = tmp_path / "report.csv"
    run = batch(path, "--yes", "--report", report)
    assert run.exit_code == 10, run
    assert "New batch run 1: 6 rows journaled" in run.stderr
    assert "batch run 1: 2 failed of 6 rows" in run.stderr.splitlines()[-1]
    assert "Batch run 1: 4 successful, 2 failed (of 6 rows" in run.stdout
    assert "INTERNAL_PROCESSING_ERROR" in run.stdout  # the rows that failed are listed
    rows = list(csv.DictReader(report.open()))
    assert list(rows[0]) == ["line", "external_id", "payee", "payee_type", "amount", "currency", "reference_id",
                             "status", "reason", "financial_transaction_id", "outcome", "state", "error"]
    with journal() as j:
        entries = {e.line_no: e for e in j.iter_run_entries(1)}
    assert [int(r["line"]) for r in rows] == list(range(2, 8))
    for row in rows:
        entry = entries[int(row["line"])]
        assert row["reference_id"] == entry.reference_id and row["external_id"] == entry.external_id
        assert (row["payee"], row["amount"], row["currency"]) == (entry.party_id, "10.5", "EUR")
        assert row["financial_transaction_id"] == (entry.financial_transaction_id or "")
        assert row["state"] == "final"
        if row["payee"] == FAILING_NUMBER:
            assert (row["status"], row["reason"], row["outcome"]) == ("FAILED", "INTERNAL_PROCESSING_ERROR", "failed")
        else:
            assert (row["status"], row["reason"], row["outcome"]) == ("SUCCESSFUL", "", "successful")
            assert row["financial_transaction_id"]
        body = entry.body
        assert (body["payerMessage"], body["payeeNote"], body["externalId"]) == (
            f"salary {int(row['line']) - 2}", "thanks", row["external_id"])


def test_json_streams_the_summary_progress_and_a_final_summary(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 5, failing=(1,))
    run = batch(path, "--yes", "--json", "--concurrency", "2")
    assert run.exit_code == 10, run
    events = run.events()  # every line is one JSON object
    kinds = [e["event"] for e in events]
    assert kinds[:4] == ["validated", "run", "start", "phase"] and kinds[-2:] == ["done", "summary"]
    assert events[1] == {**events[1], "run_id": 1, "resumed": False, "rows": 5}
    rows = [e for e in events if e["event"] == "row"]
    assert {e["row"]["line_no"] for e in rows} == {2, 3, 4, 5, 6}
    assert all({"reference_id", "state", "status", "external_id"} <= set(e["row"]) for e in rows)
    summary = events[-1]
    assert (summary["total"], summary["successful"], summary["failed"], summary["exit_code"]) == (5, 4, 1, 10)
    assert summary["resumed"] is False and summary["file"] == str(path)


def test_a_report_in_json_and_json_lines(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 3)
    assert batch(path, "--yes", "--report", tmp_path / "r.json").exit_code == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["run"]["run_id"] == 1 and doc["counts"]["successful"] == 3
    assert [r["line"] for r in doc["rows"]] == [2, 3, 4]
    assert len((tmp_path / "r.json").read_text().splitlines()) == 3 + 2  # one line per row
    run = batch("status", "1", "--report", tmp_path / "r.ndjson")
    assert run.exit_code == 0, run
    lines = [json.loads(line) for line in (tmp_path / "r.ndjson").read_text().splitlines()]
    assert [r["status"] for r in lines] == ["SUCCESSFUL"] * 3
    assert {r["reference_id"] for r in lines} == {r["reference_id"] for r in doc["rows"]}


def test_the_same_file_again_resumes_and_sends_nothing_new(tmp_path, served):
    path = payout_file(tmp_path / "pay.csv", 8, prefix="resume")
    first = batch(path, "--yes", "--json", base_url=served.url)
    assert first.exit_code == 0, first
    posts = len([r for r in money_requests(served) if r["method"] == "POST"])
    second = batch(path, "--yes", "--json", base_url=served.url)
    assert second.exit_code == 0, second
    assert "Resuming batch run" in second.stderr and "nothing left to do" in second.stderr
    assert second.events()[0]["resumes"] is True and second.events()[1]["resumed"] is True
    assert len([r for r in money_requests(served) if r["method"] == "POST"]) == posts
    refs = {t["reference_id"] for t in served.transactions() if t["external_id"].startswith("resume-")}
    runs, entries = runs_and_entries()
    assert len(runs) == 1 and refs == {e.reference_id for e in entries}


def test_another_profile_cannot_resume_a_run(tmp_path, served):
    """Another profile may be another API user: resuming as it could pay the rows a second time."""
    path = payout_file(tmp_path / "pay.csv", 3, prefix="profiled")
    assert batch(path, "--yes", "--json", base_url=served.url).exit_code == 0
    posts = len(money_requests(served))
    assert momo("profile", "set", "--profile", "other", "target_environment", "sandbox").exit_code == 0
    other = momo("--profile", "other", "disburse", "batch", path, "--yes", base_url=served.url)
    assert other.exit_code == 2, other
    assert "paid with profile default" in other.stderr and "--profile default" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1
    assert len(money_requests(served)) == posts
    runs, _ = runs_and_entries()
    assert len(runs) == 1


def test_a_resumed_run_sends_only_what_is_left(tmp_path):
    """Rows journaled but never sent (a run stopped right after loading) are sent on the next run;
    the rows already paid are not."""
    from momo_cli.batchfile import valid_rows, validate
    from momo_cli.commands._session import Session
    from momo_cli.context import AppContext

    path = payout_file(tmp_path / "pay.csv", 6)
    assert batch(path, "--yes").exit_code == 0
    with journal() as j:
        paid = {e.reference_id for e in j.iter_run_entries(1)}
    other = payout_file(tmp_path / "other.csv", 5, prefix="other")
    validation = validate(other, environment="sandbox")
    settings = Session(AppContext(), Output()).settings
    with journal() as j:  # as if the process had died right after journaling the rows
        run = j.create_or_resume_run(other, validation.sha256, "transfer", {}, base_url=settings.base_url,
                                     target_environment="sandbox", profile=settings.profile,
                                     rows=(r.run_row() for r in valid_rows(other, environment="sandbox",
                                                                           sha256=validation.sha256)))
    run_result = batch(other, "--yes", "--json")
    assert run_result.exit_code == 0, run_result
    assert f"Resuming batch run {run.id}" in run_result.stderr and "5 not sent yet" in run_result.stderr
    assert run_result.events()[-1]["successful"] == 5
    with journal() as j:
        assert {e.reference_id for e in j.iter_run_entries(1)} == paid
        assert [e.attempts for e in j.iter_run_entries(run.id)] == [1] * 5


def test_a_different_file_with_the_same_name_is_a_new_run(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 3, prefix="a")
    assert batch(path, "--yes").exit_code == 0
    payout_file(path, 3, prefix="b")
    run = batch(path, "--yes")
    assert run.exit_code == 0, run
    assert "New batch run 2: 3 rows journaled" in run.stderr
    # the same external ids with a changed amount: a new run too, with a warning
    payout_file(path, 3, prefix="b", amount="11")
    run = batch(path, "--yes", "--json")
    assert run.exit_code == 0, run
    validated = run.events()[0]
    assert validated["already_paid"]["rows"] == 3 and validated["already_paid"]["runs"] == {"2": 3}
    assert "warning: 3 rows use external ids that run 2 already paid" in run.stderr
    runs, entries = runs_and_entries()
    assert [r.id for r in runs] == [3, 2, 1] and len(entries) == 9
    assert len({r.file_hash for r in runs}) == 3


def test_deposit_is_another_run_of_the_same_file(tmp_path):
    path = payout_file(tmp_path / "pay.csv", 2)
    assert batch(path, "--yes").exit_code == 0
    run = batch(path, "--yes", "--operation", "deposit")
    assert run.exit_code == 0 and "New batch run 2" in run.stderr, run
    with journal() as j:
        assert {e.operation for e in j.iter_run_entries(2)} == {"deposit"}


def test_refused_credentials_stop_the_run_and_it_resumes_once_fixed(tmp_path, monkeypatch):
    path = payout_file(tmp_path / "pay.csv", 4)
    monkeypatch.setenv("MOMO_DISBURSEMENT_USER_ID", "8e3f1d1c-4b7a-4c61-9d3e-2d5b1f0a9c77")
    monkeypatch.setenv("MOMO_DISBURSEMENT_API_KEY", "0" * 32)
    monkeypatch.setenv("MOMO_DISBURSEMENT_SUBSCRIPTION_KEY", "1" * 32)
    run = batch(path, "--yes")
    assert run.exit_code == 4, run
    assert "again to resume run 1" in run.stderr.splitlines()[-1]
    for name in ("USER_ID", "API_KEY", "SUBSCRIPTION_KEY"):
        monkeypatch.delenv(f"MOMO_DISBURSEMENT_{name}")
    run = batch(path, "--yes")
    assert run.exit_code == 0 and "Resuming batch run 1" in run.stderr, run
    _, entries = runs_and_entries()
    assert len(entries) == 4 and {e.status for e in entries} == {"SUCCESSFUL"}


def test_plain_progress_without_a_terminal_is_a_few_lines(tmp_path):
    run = batch(payout_file(tmp_path / "pay.csv", 40), "--yes")
    assert run.exit_code == 0, run
    assert len(run.stderr.splitlines()) <= 6, run.stderr
    assert "Sending 40 rows (8 at a time)" in run.stderr and "Done in" in run.stderr


def test_a_rich_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(Output, "stderr_is_tty", property(lambda self: True))
    run = batch(payout_file(tmp_path / "pay.csv", 5), "--yes")
    assert run.exit_code == 0, run
    assert "final" in run.stderr and "5/5" in run.stderr and "5 successful" in run.stderr


# -- status and list --------------------------------------------------------------------------------


def test_status_and_list_read_the_journal(tmp_path):
    assert batch("list").exit_code == 0 and "No batch runs yet" in batch("list").stderr
    assert batch("status", "1").exit_code == 2
    path = payout_file(tmp_path / "pay.csv", 3, failing=(0,))
    assert batch(path, "--yes").exit_code == 10
    run = batch("status", "1", "--json")
    assert run.exit_code == 10, run
    doc = json.loads(run.stdout)
    assert (doc["run_id"], doc["rows"], doc["exit_code"]) == (1, 3, 10)
    assert doc["counts"] == {"queued": 0, "unknown": 0, "pending": 0, "successful": 2, "failed": 1, "rejected": 0}
    assert doc["totals"] == {"EUR": "31.50"} and doc["paid"] == {"EUR": "21.00"}
    human = batch("status", "last")
    assert human.exit_code == 10 and "Batch run 1: " in human.stdout and "2 successful, 1 failed" in human.stdout
    listed = batch("list", "--json")
    assert listed.exit_code == 0
    (item,) = json.loads(listed.stdout)
    assert (item["run_id"], item["counts"]["failed"], item["exit_code"]) == (1, 1, 10)
    assert "pay.csv" in batch("list").stdout
    assert batch("status", "x").exit_code == 2 and batch("status", "7").exit_code == 2


def test_a_file_named_like_a_sub_command_is_given_with_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payout_file(tmp_path / "list", 2)
    run = batch("./list", "--dry-run")
    assert run.exit_code == 0 and "rows         2" in run.stdout, run
    run = batch("--dry-run", "./list")  # options before the file
    assert run.exit_code == 0, run


def test_a_json_lines_file_is_paid_like_a_csv(tmp_path):
    path = tmp_path / "payouts.jsonl"
    rows = [
        {"payee": "46733123999", "amount": "1.25", "currency": "EUR", "external_id": "j-1", "payer_message": "hi"},
        {"payee": "+46 733 123 450", "amount": 3, "currency": "EUR", "external_id": "j-2"},
        {"payee": "someone@example.com", "payee_type": "email", "amount": "2", "currency": "EUR",
         "externalId": "j-3", "payeeNote": "note"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run = batch(path, "--yes", "--json", "--report", tmp_path / "r.jsonl")
    assert run.exit_code == 10, run  # 46733123450 fails in the sandbox
    validated = run.events()[0]
    assert (validated["format"], validated["rows"], validated["totals"], validated["payees"]) == (
        "jsonl", 3, {"EUR": "6.25"}, 3)
    report = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["line"], r["payee"], r["payee_type"], r["amount"]) for r in report] == [
        (1, "46733123999", "msisdn", "1.25"), (2, "46733123450", "msisdn", "3"),
        (3, "someone@example.com", "email", "2")]
    assert [r["outcome"] for r in report] == ["successful", "failed", "successful"]
    with journal() as j:
        bodies = [e.body for e in j.iter_run_entries(1)]
    assert bodies[2]["payee"] == {"partyIdType": "EMAIL", "partyId": "someone@example.com"}
    assert bodies[2]["payeeNote"] == "note" and bodies[0]["payerMessage"] == "hi"


def test_a_file_being_paid_by_another_process_is_not_paid_again_alongside(tmp_path):
    from momo_cli.batchfile import validate
    from momo_cli.commands._session import Session
    from momo_cli.commands.disburse_batch import run_lock
    from momo_cli.context import AppContext

    path = payout_file(tmp_path / "pay.csv", 3)
    session = Session(AppContext(), Output())
    with run_lock(session, validate(path, environment="sandbox").sha256, "transfer"):
        run = batch(path, "--yes")
        assert run.exit_code == 2, run
        assert "another momo process is paying this file right now; nothing was sent" in run.stderr
        assert runs_and_entries() == ([], [])
        assert batch(path, "--yes", "--operation", "deposit").exit_code == 0  # another run: another lock
    run = batch(path, "--yes")
    assert run.exit_code == 0, run
