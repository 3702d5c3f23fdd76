"""The exit codes of every momo command: the one source of the table in docs/exit-codes.md."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    API_REJECTED = 5
    NETWORK = 6
    PENDING = 8
    FAILED = 10
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success (for a transaction: final status SUCCESSFUL)",
    ExitCode.INTERNAL: "unexpected internal error (a bug: please report it)",
    ExitCode.USAGE: "usage error or invalid input; nothing was sent",
    ExitCode.CONFIG: "configuration or credentials missing",
    ExitCode.AUTH: "authentication or authorization rejected (401/403)",
    ExitCode.API_REJECTED: "the API rejected the request (4xx, or 500 with a MoMo error code)",
    ExitCode.NETWORK: "network error, timeout or service unavailable: the outcome may be unknown",
    ExitCode.PENDING: "still PENDING when --wait gave up",
    ExitCode.FAILED: "transaction final and not successful (FAILED, REJECTED, EXPIRED ...)",
    ExitCode.INTERRUPTED: "interrupted",
}


def epilog() -> str:
    """The exit-code table as plain text, for the root `--help`."""
    rows = "\n".join(f"  {int(code):>3}  {text}" for code, text in MEANINGS.items())
    return "Exit codes:\n\n\b\n" + rows
