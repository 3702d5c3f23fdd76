"""The emulator's answers: the provider's error bodies and messages, and small JSON helpers.

Handlers raise `Problem`; the app turns it into the body the provider sends for that case:
`{"code", "message"}` for MoMo errors, `{"error"}` on /token/, APIM's `{"statusCode", "message"}`
for subscription keys and rate limits.
"""

from __future__ import annotations

import json
from typing import Any

#: The provider's messages for its error codes (momo-api.md sections 2, 4, 5 and 7).
MESSAGES: dict[str, str] = {
    "RESOURCE_ALREADY_EXIST": "Duplicated reference id. Creation of resource failed.",
    "RESOURCE_NOT_FOUND": "Requested resource was not found.",
    "NOT_ALLOWED_TARGET_ENVIRONMENT": "Access to target environment is forbidden.",
    "INVALID_CURRENCY": "Currency not supported.",
    "INTERNAL_PROCESSING_ERROR": "An internal error occurred while processing.",
    "SERVICE_UNAVAILABLE": "Service temporary unavailable, try again later.",
    "NOT_ALLOWED": "Authorization failed. User does not have permission.",
    "INVALID_CALLBACK_URL_HOST": "Callback URL with different host name then configured for API User.",
    "NOT_ENOUGH_FUNDS": "The payer does not have enough funds.",
    "PAYER_LIMIT_REACHED": "The payer's limit has been breached.",
    "TRANSACTION_NOT_COMPLETED": "The transaction is not successfully completed.",
    "UNAUTHORIZED": "Access denied due to invalid or expired access token.",
    "BAD_REQUEST": "Bad request, e.g. invalid data was sent in the request.",
    "METHOD_NOT_ALLOWED": "The method is not allowed for the requested resource.",
    "REQUEST_TOO_LARGE": "The request body is too large.",
}

APIM_INVALID_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)


class Problem(Exception):
    """An error answer. `body` overrides the `{"code","message"}` body (token and APIM shapes)."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code or "", "")
        self.body = body if body is not None else {"code": code, "message": self.message}
        self.headers = headers or {}
        super().__init__(f"{status} {code or ''} {self.message}".strip())


def bad_request(detail: str) -> Problem:
    """400 with the provider's error shape; the message says what was wrong."""
    return Problem(400, "BAD_REQUEST", detail)


def not_found() -> Problem:
    return Problem(404, "RESOURCE_NOT_FOUND")


def subscription_denied() -> Problem:
    return Problem(401, body={"statusCode": 401, "message": APIM_INVALID_KEY})


def token_denied() -> Problem:
    return Problem(401, body={"error": "login_failed"})


def bearer_denied() -> Problem:
    return Problem(401, "UNAUTHORIZED")


def rate_limited(retry_after: int) -> Problem:
    return Problem(
        429,
        body={"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {retry_after} seconds."},
        headers={"Retry-After": str(retry_after)},
    )


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
