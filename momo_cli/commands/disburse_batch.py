"""`momo disburse batch`: pay out to many wallets from a file, exactly once, resumably.

    momo disburse batch FILE [--operation transfer|deposit] [--concurrency N] [--rate-limit N]
                             [--dry-run] [--yes] [--json] [--report PATH] ...
    momo disburse batch status RUN [--json] [--report PATH]
    momo disburse batch list [--json]

`batch FILE` is short for `batch run FILE` (`BatchGroup` puts the `run` in front of anything that is
not a sub-command name). One run goes:

1. validate the whole file, streaming (`momo_cli.batchfile`): any bad row is exit 2 and nothing is sent;
2. show the summary (rows, total per currency, distinct payees, new run or what a resumed one has
   left) and confirm it (a terminal, or `--yes`; a production environment's name is typed);
   `--dry-run` stops here;
3. open the client, then journal the run and every row with its reference id, in one transaction,
   before any request (`Journal.create_or_resume_run`: the same file again resumes its run);
4. send and poll with the journal's batch engine (`momo_cli.journal.batch.run_batch`), which keeps the
   exactly-once rules; progress on stderr (a rich bar on a terminal) or as NDJSON with `--json`
   (`_batch_progress`);
5. write the report (`--report`, `momo_cli.journal.report`), print the outcome, exit 0 / 10 / 8 / 6
   (`BatchResult.exit_code`).

The command stays thin: no HTTP, URL or header here; rich, httpx and the engine are imported only
when used.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from momo_cli.errors import (
    Interrupted,
    MomoCliError,
    NetworkError,
    StillPending,
    TransactionFailed,
    UsageError,
)
from momo_cli.output import plural

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.batchfile import Validation
    from momo_cli.commands._session import Session
    from momo_cli.journal.batch import BatchResult
    from momo_cli.journal.sender import SendPolicy
    from momo_cli.journal.store import Journal, Run
    from momo_cli.output import Output

PRODUCT = "disbursement"
OPERATIONS = ("transfer", "deposit")
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
DEFAULT_POLL_TIMEOUT = 300.0
DEFAULT_POLL_INTERVAL = 2.0
#: rows listed after a run that did not end SUCCESSFUL everywhere (the report has them all)
SHOWN_PROBLEM_ROWS = 20
#: How hard one row's send tries before the polling rounds take it over (tests shorten it).
SEND_POLICY: "SendPolicy | None" = None

EXAMPLES = """\b
Examples:
  momo disburse batch payouts.csv --dry-run
  momo disburse batch payouts.csv --concurrency 16 --rate-limit 40 --report result.csv
  momo disburse batch payouts.jsonl --yes --json | jq -c 'select(.event == "summary")'
  momo disburse batch status 3 --report run-3.csv
  momo disburse batch list
"""

EXIT_CODES = """\b
Exit codes: 0 every row SUCCESSFUL, 2 invalid file or not confirmed (nothing sent), 3/4 configuration
or credentials, 6 some outcome unknown or rows not sent (run it again), 8 some still PENDING,
10 some rows FAILED or not accepted.
"""


def send_policy() -> "SendPolicy":
    from momo_cli.journal.sender import SendPolicy

    return SEND_POLICY if SEND_POLICY is not None else SendPolicy(max_tries=4, backoff=0.25, max_backoff=2.0)


# --------------------------------------------------------------------------------------------------
# The group: `batch FILE` is `batch run FILE`


class BatchGroup(click.Group):
    """`status` and `list` are sub-commands; anything else is the file of `run` (so a file named
    `status` is given as `./status`)."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        path = ctx.command_path
        formatter.write_usage(path, "FILE [OPTIONS]")
        formatter.write_usage(path, "status RUN [--json] [--report PATH]", prefix="       ")
        formatter.write_usage(path, "list [--json]", prefix="       ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        run_command = self.commands[self.default_command]
        rows = []
        for param in run_command.get_params(ctx):
            if isinstance(param, click.Argument):
                continue
            record = param.get_help_record(ctx)
            if record is not None:
                rows.append(record)
        with formatter.section("Options (batch FILE)"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

    def shell_complete(self, ctx: click.Context, incomplete: str):
        from click.shell_completion import CompletionItem

        items = super().shell_complete(ctx, incomplete)
        return [*items, CompletionItem(incomplete, type="file")]


@click.group(
    "batch", cls=BatchGroup,
    epilog=EXAMPLES + "\n" + EXIT_CODES,
    short_help="Pay out to many wallets from a CSV or JSON Lines file.",
)
def batch() -> None:
    """Pay out to many wallets from a CSV or JSON Lines file: validated first, sent fast, exactly once.

    FILE has the columns (or JSON keys) payee, amount, currency, external_id and, optionally,
    payer_message, payee_note and payee_type (msisdn, email or party_code). Every row is checked
    before anything is sent; a bad row sends nothing (exit 2). Each row gets its reference id in the
    journal before any request, so running the same command on the same file again resumes the run:
    nothing is paid twice. See docs/batch.md.
    """


# --------------------------------------------------------------------------------------------------
# Helpers


def _session(obj: Any, json_mode: bool) -> "Session":
    from momo_cli.commands._session import Session, app_context

    app = app_context(obj)
    return Session(app, app.output(json_mode=json_mode))


def _check_report_path(path: Path | None) -> None:
    """Refuse a report path that cannot be written, before anything is sent."""
    if path is None:
        return
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"--report: {path} is a directory")
    if not directory.is_dir():
        raise UsageError(f"--report: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--report: cannot write to {directory}")


def _run_key(run: "Run") -> tuple[str, str, str, str, str]:
    return (run.file_hash, run.product, run.operation, run.base_url, run.target_environment)


def _find_run(journal: "Journal", sha256: str, operation: str, session: "Session") -> "Run | None":
    """The journal's run of this file, operation and API, if it has one (the same file is resumed)."""
    settings = session.settings
    key = (sha256, PRODUCT, operation, settings.base_url or "", settings.target_environment or "")
    for run in journal.list_runs():
        if _run_key(run) == key and run.loaded:
            return run
    return None


def _earlier_ids(journal: "Journal", session: "Session"):
    """External id -> run id (a `batchfile.IdIndex`, on disk) of every row of earlier batch runs
    against this API that may have been paid (successful, pending or unknown): a file paid again
    under another name, or with a change, is a new run, and the summary warns about the rows it
    would pay a second time."""
    from momo_cli.batchfile import IdIndex
    from momo_cli.journal.store import bucket

    settings = session.settings
    index = IdIndex()
    try:
        for run in journal.list_runs():
            if (run.product, run.base_url, run.target_environment) != (
                    PRODUCT, settings.base_url or "", settings.target_environment or ""):
                continue
            index.add_many(
                (entry.external_id, run.id) for entry in journal.iter_run_entries(run.id)
                if entry.external_id and bucket(entry.state, entry.status) in ("successful", "pending", "unknown")
            )
    except BaseException:
        index.close()
        raise
    return index


@contextmanager
def run_lock(session: "Session", sha256: str, operation: str) -> Iterator[None]:
    """Hold the advisory lock of a run (file hash, operation, API) while it is paid, so that a second
    `momo disburse batch` on the same file waits for nobody and sends nothing: it stops with exit 2.
    (Two processes on one run would still pay each row once — the reference ids see to it — but
    every request twice.) The operating system releases the lock when the process dies, however it
    dies. (Where there is no flock, the reference ids alone keep it exactly once.)"""
    import hashlib

    from momo_cli.config.paths import ensure_private_dir
    from momo_cli.config.store import file_lock

    settings = session.settings
    key = "\0".join((sha256, PRODUCT, operation, settings.base_url or "", settings.target_environment or ""))
    directory = ensure_private_dir(Path(settings.data_dir) / "batch-locks")
    path = directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock")
    with ExitStack() as held:
        try:
            held.enter_context(file_lock(path, wait=False))
        except BlockingIOError:
            raise UsageError(
                "another momo process is paying this file right now; nothing was sent",
                hint="wait for it to finish (or stop it), then run the command again to follow up",
            ) from None
        yield


def _counted(counts: dict[str, int], words: tuple[tuple[str, str], ...], *, always: str = "") -> list[str]:
    """'45 failed' for each (bucket, word) of `words` whose bucket has rows (`always` even when empty)."""
    return [f"{counts.get(key, 0)} {word}" for key, word in words if counts.get(key) or key == always]


def _left(counts: dict[str, int]) -> str:
    """'150 not sent yet, 50 with an unknown outcome, 30 pending' (what a resumed run has to do)."""
    words = (("queued", "not sent yet"), ("unknown", "with an unknown outcome (asked about first)"),
             ("pending", "pending"))
    return ", ".join(_counted(counts, words)) or "nothing left to do"


def _exit_code(counts: dict[str, int]) -> int:
    from momo_cli.journal.batch import BatchResult

    return int(BatchResult(run_id=0, total=sum(counts.values()), counts=counts, requests=0, elapsed=0.0).exit_code)


# --------------------------------------------------------------------------------------------------
# batch run FILE


@batch.command("run", epilog=EXAMPLES + "\n" + EXIT_CODES)
@click.argument("file", type=click.Path(path_type=Path), metavar="FILE")
@click.option("--operation", type=click.Choice(OPERATIONS), default="transfer", show_default=True,
              help="The disbursement operation each row is paid with.")
@click.option("--concurrency", type=click.IntRange(1, MAX_CONCURRENCY), default=DEFAULT_CONCURRENCY,
              show_default=True, metavar="N", help="Requests in flight at once.")
@click.option("--rate-limit", type=click.FloatRange(min=0, min_open=True), metavar="N",
              help="At most N requests per second (all requests: payments and status checks).")
@click.option("--dry-run", is_flag=True, help="Validate the file and show the summary; send nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@click.option("--json", "json_mode", is_flag=True,
              help="NDJSON on stdout: the summary, progress events, and a final summary object.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Write one line per row (CSV if PATH ends in .csv, JSON Lines for .jsonl, else JSON).")
@click.option("--callback-url", metavar="URL",
              help="X-Callback-Url for every row (its host must be the API user's providerCallbackHost).")
@click.option("--poll-timeout", type=click.FloatRange(min=0), default=DEFAULT_POLL_TIMEOUT, show_default=True,
              metavar="S", help="Seconds to follow pending rows after sending (0: one status check each).")
@click.option("--poll-interval", type=click.FloatRange(min=0.05), default=DEFAULT_POLL_INTERVAL,
              show_default=True, metavar="S", help="Seconds between two rounds of status checks.")
@click.pass_obj
def run_command(obj: Any, file: Path, operation: str, concurrency: int, rate_limit: float | None,
                dry_run: bool, yes: bool, json_mode: bool, report: Path | None, callback_url: str | None,
                poll_timeout: float, poll_interval: float) -> None:
    """Pay every row of FILE (CSV or JSON Lines), after checking them all."""
    session = _session(obj, json_mode)
    try:
        _run_file(session, file, operation=operation, concurrency=concurrency, rate_limit=rate_limit,
                  dry_run=dry_run, yes=yes, report=report, callback_url=callback_url,
                  poll_timeout=poll_timeout, poll_interval=poll_interval)
    finally:
        session.close()


def _run_file(session: "Session", file: Path, *, operation: str, concurrency: int, rate_limit: float | None,
              dry_run: bool, yes: bool, report: Path | None, callback_url: str | None,
              poll_timeout: float, poll_interval: float) -> None:
    from momo_cli import batchfile

    out = session.out
    settings = session.settings
    environment = settings.target_environment
    _check_report_path(report)
    if callback_url is not None:
        from momo_cli.commands._request import check_callback_url

        callback_url = check_callback_url(session, PRODUCT, callback_url)
    journal = session.journal()
    if not out.json_mode and out.stderr_is_tty:
        out.info(f"Checking {file} ...")
    with _earlier_ids(journal, session) as earlier:
        validation = batchfile.validate(file, environment=environment, earlier_ids=earlier if len(earlier) else None)
    if not validation.ok:
        _invalid(session, validation)
    existing = _find_run(journal, validation.sha256, operation, session)
    if existing is not None:
        from momo_cli.commands._transaction import flags_for, same_api

        if not same_api(session, existing):
            # Another profile may be another API user: its status checks would answer 404, and the
            # resends that follow could pay the run's rows a second time.
            raise UsageError(
                f"{file} is run {existing.id}, paid with profile {existing.profile}, "
                f"not {session.settings.profile}; nothing was sent",
                hint=f"resume it with {flags_for(existing)}",
            )
    if existing is not None:  # the run's own rows are not repeats
        validation.repeats.pop(existing.id, None)
        validation.repeat_examples = [x for x in validation.repeat_examples if x[2] != existing.id]
    left = journal.run_summary(existing.id).buckets if existing is not None else None
    _summary(session, validation, operation, existing, left, dry_run=dry_run)
    if dry_run:
        return
    may_send = left is None or bool(left["queued"] or left["unknown"])
    if may_send:
        _confirm(session, validation, operation, existing, left, yes=yes)
    # no floats in the journal: numbers that may have a fraction are kept as text
    options = {"concurrency": concurrency, "rate_limit": None if rate_limit is None else f"{rate_limit:g}",
               "poll_timeout": f"{poll_timeout:g}", "callback_url": callback_url, "format": validation.format}
    holder: dict[str, Any] = {}
    try:
        with run_lock(session, validation.sha256, operation):
            run, result = asyncio.run(_send(
                session, validation, operation, options, callback_url, holder,
                concurrency=concurrency, rate_limit=rate_limit, poll_timeout=poll_timeout,
                poll_interval=poll_interval,
            ))
    except KeyboardInterrupt:
        run = holder.get("run")
        where = f"run {run.id} is in the journal" if run is not None else "nothing was journaled"
        raise Interrupted(
            f"interrupted: {where}",
            hint=f"run `momo disburse batch {file}` again to resume it; nothing is paid twice" if run else None,
        ) from None
    if report is not None:
        from momo_cli.journal.report import write_report

        write_report(journal, run, report)
        out.info(f"Report: {report}")
    _finish(session, run, result, file=file, validation=validation, report=report)


def _invalid(session: "Session", validation: "Validation") -> None:
    """Say every rule the file breaks (the first ones), and stop: exit 2, nothing sent."""
    out = session.out
    name = validation.path
    if out.json_mode:
        out.ndjson({"event": "invalid", **validation.to_dict()})
    if validation.rows == 0 and validation.bad_rows == 0 and validation.error_count == 1:
        raise UsageError(f"{name} {validation.errors[0].rule}; nothing was sent")
    lines = [f"{name}: {plural(validation.bad_rows, 'bad row')} of {validation.rows}"
             + (f" ({plural(validation.error_count, 'error')})" if validation.error_count != validation.bad_rows
                else "") + "; nothing was sent:"]
    lines += [f"  {error}" for error in validation.errors]
    hidden = validation.error_count - len(validation.errors)
    if hidden > 0:
        lines.append(f"  ... and {plural(hidden, 'more error')}")
    out.warn("\n".join(lines))
    raise UsageError(
        f"{name} has {plural(validation.bad_rows or validation.error_count, 'bad row')}; nothing was sent",
        hint="fix the rows listed above and run the command again",
    )


def _repeat_text(validation: "Validation") -> str | None:
    count = sum(validation.repeats.values())
    if not count:
        return None
    runs = ", ".join(f"run {run_id}" for run_id in sorted(validation.repeats))
    text = f"{plural(count, 'row')} use external ids that {runs} already paid (or may have paid)"
    if validation.repeat_examples:
        line_no, external_id, _ = validation.repeat_examples[0]
        text += f", e.g. line {line_no} ({external_id!r})"
    return text


def _summary(session: "Session", validation: "Validation", operation: str, existing: "Run | None",
             left: dict[str, int] | None, *, dry_run: bool) -> None:
    out = session.out
    repeats = _repeat_text(validation)
    if out.json_mode:
        doc = {"event": "validated", **validation.to_dict(), "operation": operation,
               "environment_label": session.environment_label,
               "run_id": existing.id if existing is not None else None,
               "resumes": existing is not None, "left": left, "dry_run": dry_run,
               "already_paid": {
                   "rows": sum(validation.repeats.values()),
                   "runs": {str(k): v for k, v in sorted(validation.repeats.items())},
                   "examples": [{"line": line, "external_id": ext, "run_id": run_id}
                                for line, ext, run_id in validation.repeat_examples],
               }}
        out.ndjson(doc)
        if repeats:
            out.warn(f"warning: {repeats}")
        return
    if existing is not None:
        run_text = f"resumes run {existing.id} (started {existing.created_at}): {_left(left or {})}"
    else:
        run_text = "new"
    lines = [
        f"{validation.path}  ({validation.format.upper()}, sha256 {validation.sha256[:16]}…)",
        f"  rows         {validation.rows}",
        f"  total        {validation.totals_text()}",
        f"  payees       {validation.payees} distinct",
        f"  operation    {PRODUCT} {operation}",
        f"  environment  {session.environment_label}",
        f"  run          {run_text}",
    ]
    if repeats:
        lines.append(f"  warning      {repeats}")
    out.line("\n".join(lines))
    if dry_run:
        out.info("Dry run: the file is valid; nothing was sent.")


def _confirm(session: "Session", validation: "Validation", operation: str, existing: "Run | None",
             left: dict[str, int] | None, *, yes: bool) -> None:
    """Ask before money moves (`_confirm.confirm_money`); UsageError (exit 2) when not confirmed."""
    from momo_cli.commands._confirm import confirm_money

    what = (f"resuming run {existing.id} ({_left(left or {})})" if existing is not None
            else f"{plural(validation.rows, 'row')}, {validation.totals_text()}")
    confirm_money(
        session, yes=yes, what=f"paying out {what}", action=f"pay out {what}",
        question=f"Pay out {what} ({PRODUCT} {operation}, {session.environment_label})?",
        hint="add --yes to send it from a script; --dry-run checks the file without sending",
    )


async def _send(session: "Session", validation: "Validation", operation: str, options: dict[str, Any],
                callback_url: str | None, holder: dict[str, Any], *, concurrency: int,
                rate_limit: float | None, poll_timeout: float, poll_interval: float,
                ) -> tuple["Run", "BatchResult"]:
    from momo_cli import batchfile
    from momo_cli.commands._batch_progress import BatchProgressView
    from momo_cli.journal.batch import run_batch

    out = session.out
    settings = session.settings
    journal = session.journal()
    async with session.client(PRODUCT) as client:
        rows = (row.run_row() for row in batchfile.valid_rows(
            validation.path, environment=settings.target_environment, sha256=validation.sha256))
        run = journal.create_or_resume_run(
            validation.path, validation.sha256, operation, options, product=PRODUCT, version="v1_0",
            profile=settings.profile, base_url=settings.base_url,
            target_environment=settings.target_environment, rows=rows, callback_url=callback_url,
        )
        holder["run"] = run
        summary = journal.run_summary(run.id)
        _announce(out, run, summary.buckets)
        view = BatchProgressView(out, run, summary.total, concurrency=concurrency, rate_limit=rate_limit)
        with view as progress:
            result = await run_batch(
                journal, client, run, concurrency=concurrency, rate_limit=rate_limit,
                poll_interval=poll_interval, poll_timeout=poll_timeout, policy=send_policy(),
                on_progress=progress,
            )
    return run, result


def _announce(out: "Output", run: "Run", counts: dict[str, int]) -> None:
    """Say on stderr (and in the NDJSON stream) whether the run is new or resumed, and what is left."""
    if run.resumed:
        done = run.row_count - counts["queued"] - counts["unknown"] - counts["pending"]
        text = (f"Resuming batch run {run.id} (started {run.created_at}): {done} of {run.row_count} rows "
                f"already final or refused; {_left(counts)}. Rows the API already accepted are not sent again.")
    else:
        text = (f"New batch run {run.id}: {plural(run.row_count or 0, 'row')} journaled, each with its "
                "reference id, before any request.")
    out.info(text)
    if out.json_mode:
        out.ndjson({"event": "run", "run_id": run.id, "resumed": run.resumed, "rows": run.row_count,
                    "file": run.file_path, "sha256": run.file_hash, "operation": run.operation,
                    "left": counts})


# --------------------------------------------------------------------------------------------------
# The outcome


def _finish(session: "Session", run: "Run", result: "BatchResult", *, file: Path, validation: "Validation",
            report: Path | None) -> None:
    out = session.out
    counts = result.counts
    if out.json_mode:
        out.ndjson({**result.to_dict(), "file": str(file), "sha256": run.file_hash, "operation": run.operation,
                    "environment": run.target_environment, "resumed": run.resumed,
                    "report": str(report) if report is not None else None})
    else:
        _render_counts(session, run, counts, title=f"Batch run {run.id}: ",
                       extra=f"{result.requests} requests in {result.elapsed:.1f}s")
    _raise_outcome(run, counts, error=result.error, timed_out=result.timed_out, file=file, report=report)


def counts_text(counts: dict[str, int]) -> str:
    """'950 successful, 45 failed, 5 pending' (the buckets that are not empty; successful always)."""
    words = (("successful", "successful"), ("failed", "failed"), ("rejected", "not accepted"),
             ("pending", "pending"), ("unknown", "unknown"), ("queued", "not sent"))
    return ", ".join(_counted(counts, words, always="successful"))


def _render_counts(session: "Session", run: "Run", counts: dict[str, int], *, title: str,
                   extra: str | None = None) -> None:
    out = session.out
    total = sum(counts.values())
    out.line(f"{title}{counts_text(counts)} (of {plural(total, 'row')}" + (f"; {extra})" if extra else ")"))
    from momo_cli.journal.report import problem_rows

    problems, count = problem_rows(session.journal(), run.id, SHOWN_PROBLEM_ROWS)
    if problems:
        from momo_cli.render import table

        shown = [(r["line"], r["external_id"], r["payee"], r["amount"], r["status"] or r["outcome"].upper(),
                  r["reason"] or r["error"]) for r in problems]
        out.console.print(table(("line", "external_id", "payee", "amount", "status", "reason"), shown,
                                title=f"Rows not successful ({count})"))
        if count > len(problems):
            out.line(f"  ... and {count - len(problems)} more (--report PATH writes them all)")


def _raise_outcome(run: "Run", counts: dict[str, int], *, error: MomoCliError | None = None,
                   timed_out: bool = False, file: Path | str | None = None, report: Path | None = None) -> None:
    """The exit code of a run as an error (one line on stderr), or nothing when every row succeeded."""
    again = f"`momo disburse batch {file}`" if file is not None else "the same `momo disburse batch FILE`"
    if error is not None:
        error.hint = (error.hint + "; then " if error.hint else "") + f"run {again} again to resume run {run.id}"
        raise error
    total = sum(counts.values())
    where = f"see {report}" if report is not None else f"`momo disburse batch status {run.id} --report PATH` lists them"
    if counts["unknown"] or counts["queued"]:
        parts = _counted(counts, (("unknown", "with an unknown outcome"), ("queued", "not sent")))
        raise NetworkError(
            f"batch run {run.id}: {' and '.join(parts)} of {total} rows",
            hint=f"run {again} again: it asks about them first and sends only what never arrived",
        )
    if counts["pending"]:
        raise StillPending(
            f"batch run {run.id}: {counts['pending']} of {total} rows still PENDING"
            + (" when polling gave up" if timed_out else ""),
            hint=f"run {again} again later to follow them; nothing is sent twice",
        )
    if counts["failed"] or counts["rejected"]:
        parts = _counted(counts, (("failed", "failed"), ("rejected", "not accepted")))
        raise TransactionFailed(f"batch run {run.id}: {' and '.join(parts)} of {total} rows", hint=where)


# --------------------------------------------------------------------------------------------------
# batch status RUN, batch list


def _lookup_run(journal: "Journal", run_ref: str) -> "Run":
    text = run_ref.strip().lower()
    if text in ("last", "latest"):
        runs = journal.list_runs(limit=1)
        if not runs:
            raise UsageError("there are no batch runs yet", hint="run `momo disburse batch FILE`")
        return runs[0]
    if not text.isdigit():
        raise UsageError(f"RUN: {run_ref!r} is not a run id (a number, or 'last')",
                         hint="`momo disburse batch list` shows the runs")
    run = journal.get_run(int(text))
    if run is None:
        raise UsageError(f"there is no batch run {int(text)}", hint="`momo disburse batch list` shows the runs")
    return run


def _run_totals(journal: "Journal", run_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """(total per currency of every row, total per currency of the SUCCESSFUL rows), exact."""
    from decimal import Decimal

    from momo_cli.journal.store import State

    total: dict[str, Decimal] = {}
    paid: dict[str, Decimal] = {}
    for entry in journal.iter_run_entries(run_id):
        if entry.amount is None or entry.currency is None:
            continue
        amount = Decimal(entry.amount)
        total[entry.currency] = total.get(entry.currency, Decimal(0)) + amount
        if entry.state is State.FINAL and entry.status == "SUCCESSFUL":
            paid[entry.currency] = paid.get(entry.currency, Decimal(0)) + amount
    from momo_cli.batchfile import total_text

    return ({c: total_text(v, c) for c, v in sorted(total.items())},
            {c: total_text(v, c) for c, v in sorted(paid.items())})


@batch.command("status")
@click.argument("run_ref", metavar="RUN")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Write the run's report (CSV if PATH ends in .csv, JSON Lines for .jsonl, else JSON).")
@click.pass_obj
def status_command(obj: Any, run_ref: str, json_mode: bool, report: Path | None) -> None:
    """Show a batch run from the journal (RUN: its id, or 'last'); exit with its outcome's code.

    Nothing is sent or asked: running the same `momo disburse batch FILE` again follows up the rows
    that are not final.
    """
    session = _session(obj, json_mode)
    out = session.out
    try:
        _check_report_path(report)
        journal = session.journal()
        run = _lookup_run(journal, run_ref)
        summary = journal.run_summary(run.id)
        counts = summary.buckets
        total, paid = _run_totals(journal, run.id)
        if report is not None:
            from momo_cli.journal.report import write_report

            write_report(journal, run, report)
            out.info(f"Report: {report}")
        if out.json_mode:
            out.json({**run.to_dict(), "counts": counts, "by_status": summary.by_status,
                      "by_state": summary.by_state, "totals": total, "paid": paid,
                      "exit_code": _exit_code(counts), "report": str(report) if report else None})
        else:
            out.line(f"Batch run {run.id}: {run.file_path}")
            out.line(f"  sha256       {run.file_hash}")
            out.line(f"  operation    {run.product} {run.operation}")
            out.line(f"  environment  {run.target_environment} ({run.base_url})")
            out.line(f"  started      {run.created_at}   last activity {run.updated_at}")
            out.line(f"  total        {', '.join(f'{v} {c}' for c, v in total.items()) or '-'}")
            out.line(f"  paid         {', '.join(f'{v} {c}' for c, v in paid.items()) or '-'}")
            _render_counts(session, run, counts, title="  rows         ")
        _raise_outcome(run, counts, file=run.file_path, report=report)
    finally:
        session.close()


@batch.command("list")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, metavar="N",
              help="Show the N newest runs.")
@click.pass_obj
def list_command(obj: Any, json_mode: bool, limit: int) -> None:
    """List batch runs, newest first, with their rows' outcomes."""
    session = _session(obj, json_mode)
    out = session.out
    try:
        journal = session.journal()
        runs = journal.list_runs(limit=limit)
        docs = []
        for run in runs:
            counts = journal.run_summary(run.id).buckets
            docs.append({**run.to_dict(), "counts": counts, "exit_code": _exit_code(counts)})
        if out.json_mode:
            out.json(docs)
            return
        if not docs:
            out.info("No batch runs yet: `momo disburse batch FILE` starts one.")
            return
        from momo_cli.render import table

        rows = []
        for doc in docs:
            c = doc["counts"]
            rows.append((doc["run_id"], doc["created_at"][:16].replace("T", " "), doc["file_path"],
                         doc["operation"], doc["rows"], c["successful"], c["failed"] + c["rejected"],
                         c["pending"], c["unknown"] + c["queued"]))
        out.console.print(table(
            ("run", "started (UTC)", "file", "operation", "rows", "ok", "failed", "pending", "open"),
            rows, status_column=None))
    finally:
        session.close()
