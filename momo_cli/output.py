"""One Output object owns stdout (data) and stderr (people): --json, --quiet, colour and TTY state.

Rich is imported only when a human view is actually drawn, so JSON and quiet paths stay light.
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from typing import IO, Any


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    return json.dumps(obj, default=_json_default, indent=indent, ensure_ascii=False)


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 row', '3 rows' ('2 entries' with `many`)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


class Output:
    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        color: bool | None = None,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        stdin: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.stdin = stdin or sys.stdin
        if color is None:
            color = not os.environ.get("NO_COLOR") and _isatty(self.stderr)
        self.color = color
        self._console = None
        self._err_console = None

    # -- terminal state -------------------------------------------------------------------------
    @property
    def stdout_is_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return _isatty(self.stderr)

    @property
    def interactive(self) -> bool:
        """True when a person can answer a prompt: stdin and stderr are terminals."""
        return _isatty(self.stdin) and _isatty(self.stderr)

    @property
    def human(self) -> bool:
        """Human views go to stdout unless --json or --quiet asked for something else."""
        return not (self.json_mode or self.quiet)

    # -- data on stdout ------------------------------------------------------------------------
    def json(self, obj: Any) -> None:
        self.stdout.write(dumps(obj) + "\n")
        self.stdout.flush()

    def ndjson(self, obj: Any) -> None:
        self.stdout.write(dumps(obj, indent=None) + "\n")
        self.stdout.flush()

    def line(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    # -- people on stderr ----------------------------------------------------------------------
    def info(self, text: str) -> None:
        """A note for people on stderr; silent with --quiet (JSON mode keeps notes on stderr)."""
        if not self.quiet:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def warn(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    # -- rich consoles, built on first use -----------------------------------------------------
    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=self.stdout, no_color=not self.color, highlight=False, soft_wrap=False,
                force_terminal=None if self.color else False,
            )
        return self._console

    @property
    def err_console(self):
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(
                file=self.stderr, no_color=not self.color, highlight=False,
                force_terminal=None if self.color else False,
            )
        return self._err_console


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
