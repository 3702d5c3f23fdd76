"""The progress of a batch run, as the output asks for it: NDJSON events on stdout (`--json`), two
rich bars on a terminal's stderr, or a few plain lines on stderr (a log, CI).

`BatchProgressView(out, run, total, concurrency=, rate_limit=)` picks the view; entered, it gives
the batch engine's `on_progress` (`momo_cli.journal.batch.run_batch`). Rich is imported only for the
bars.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from momo_cli.output import plural

if TYPE_CHECKING:  # pragma: no cover
    from momo_cli.journal.batch import BatchProgress
    from momo_cli.journal.store import Run
    from momo_cli.output import Output

#: seconds between two plain progress lines (stderr not a terminal, no --json)
PLAIN_PROGRESS_EVERY = 10.0


class JsonProgress:
    """Every engine event as one NDJSON line on stdout."""

    def __init__(self, out: "Output") -> None:
        self.out = out

    def __call__(self, event: "BatchProgress") -> None:
        self.out.ndjson(event.to_dict())


class PlainProgress:
    """A few lines on stderr (not a terminal): phases, one line every PLAIN_PROGRESS_EVERY seconds."""

    def __init__(self, out: "Output", concurrency: int, rate_limit: float | None) -> None:
        self.out = out
        self.concurrency = concurrency
        self.rate_limit = rate_limit
        self.last = time.monotonic()

    def line(self, e: "BatchProgress") -> str:
        return (f"  {e.successful + e.failed + e.rejected}/{e.total} final ({e.successful} successful, "
                f"{e.failed} failed, {e.rejected} not accepted), {e.pending} pending, {e.unknown} unknown, "
                f"{e.queued} not sent; {e.rate:.1f} requests/s")

    def __call__(self, e: "BatchProgress") -> None:
        now = time.monotonic()
        if e.event == "phase" and e.phase == "send":
            if not e.queued + e.unknown:
                return
            limit = f", at most {self.rate_limit:g} requests/s" if self.rate_limit else ""
            self.out.info(f"Sending {plural(e.queued + e.unknown, 'row')} "
                          f"({self.concurrency} at a time{limit}) ...")
        elif e.event == "phase" and e.phase == "poll":
            self.out.info(f"Sent. Following {plural(e.pending + e.unknown + e.queued, 'row')} to a final status ...")
        elif e.event == "done":
            self.out.info(f"Done in {e.elapsed:.1f}s:" + self.line(e)[1:])
            return
        elif now - self.last < PLAIN_PROGRESS_EVERY:
            return
        else:
            self.out.info(self.line(e))
        self.last = now


class RichProgress:
    """Two bars on stderr (a terminal): rows sent, rows final, with the counts and the request rate."""

    def __init__(self, out: "Output", total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:>6}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
            console=out.err_console, refresh_per_second=8,
        )
        self.sent = self.progress.add_task("sent", total=total, detail="")
        self.final = self.progress.add_task("final", total=total, detail="")

    def __enter__(self) -> "RichProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, e: "BatchProgress") -> None:
        unknown = f"  [magenta]{e.unknown} unknown[/]" if e.unknown else ""
        self.progress.update(self.sent, completed=e.sent + e.rejected,
                             detail=f"{e.rate:5.1f} req/s{unknown}")
        self.progress.update(
            self.final, completed=e.successful + e.failed + e.rejected,
            detail=(f"[green]{e.successful} successful[/]  [red]{e.failed + e.rejected} failed[/]  "
                    f"[yellow]{e.pending} pending[/]"),
        )


class BatchProgressView:
    """The progress view for this output: NDJSON, a rich bar, or plain lines."""

    def __init__(self, out: "Output", run: "Run", total: int, *, concurrency: int, rate_limit: float | None):
        self.view: Any
        if out.json_mode:
            self.view = JsonProgress(out)
        elif out.stderr_is_tty and not out.quiet:
            self.view = RichProgress(out, total)
        else:
            self.view = PlainProgress(out, concurrency, rate_limit)

    def __enter__(self):
        if hasattr(self.view, "__enter__"):
            self.view.__enter__()
        return self.view

    def __exit__(self, *exc: object) -> None:
        if hasattr(self.view, "__exit__"):
            self.view.__exit__(*exc)
