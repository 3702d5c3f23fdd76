"""The error hierarchy: every failure a user can meet is a MomoCliError with an exit code and a hint.

`cli.main` turns one into a single line on stderr and its exit code. Messages never carry secrets.
"""

from __future__ import annotations

from momo_cli.exitcodes import ExitCode


class MomoCliError(Exception):
    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        if self.hint:
            text += f" (hint: {' '.join(self.hint.split())})"
        return text


class InvalidInput(MomoCliError, ValueError):
    """An input breaks a rule; nothing was sent. `field` names the input, `rule` the broken rule."""

    exit_code = ExitCode.USAGE

    def __init__(self, field: str, rule: str, *, hint: str | None = None) -> None:
        super().__init__(f"{field}: {rule}", hint=hint)
        self.field = field
        self.rule = rule


class UsageError(MomoCliError):
    exit_code = ExitCode.USAGE


class ConfigError(MomoCliError):
    exit_code = ExitCode.CONFIG


class AuthError(MomoCliError):
    exit_code = ExitCode.AUTH


class ApiError(MomoCliError):
    """The API answered with a rejection. `status` is the HTTP status, `code` the MoMo error code."""

    exit_code = ExitCode.API_REJECTED

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class NotFound(ApiError):
    """404 RESOURCE_NOT_FOUND: for a status GET this means the request never arrived."""


class AlreadyExists(ApiError):
    """409 RESOURCE_ALREADY_EXIST: the reference id was used before (a retried POST that arrived)."""


class NetworkError(MomoCliError):
    """Timeout, dropped connection, 5xx without a MoMo code, 503: the outcome may be unknown."""

    exit_code = ExitCode.NETWORK


class RateLimited(NetworkError):
    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class StillPending(MomoCliError):
    exit_code = ExitCode.PENDING


class TransactionFailed(MomoCliError):
    exit_code = ExitCode.FAILED


class Interrupted(MomoCliError):
    exit_code = ExitCode.INTERRUPTED
