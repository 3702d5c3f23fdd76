"""HTTP answers and transport failures -> the MomoCliError classes, with plain words and a next step.

The MoMo API speaks in several error dialects (momo-api.md section 7.2): its own `{code, message}`,
Azure API Management's `{statusCode, message}`, the token endpoint's `{error}`, gateway HTML pages and
empty bodies. Every one of them ends here as one error with an exit code (design.md section 4) and a
hint. Messages carry no secrets: server text is passed through `logs.redact`, and no header is quoted.
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from momo_cli.errors import (
    AlreadyExists,
    ApiError,
    AuthError,
    MomoCliError,
    NetworkError,
    NotFound,
    RateLimited,
)
from momo_cli.logs import redact

if TYPE_CHECKING:  # pragma: no cover
    import httpx

#: What each `reason` / error code means, in words a user understands (momo-api.md section 7.3).
REASON_EXPLANATIONS: dict[str, str] = {
    "PAYEE_NOT_FOUND": "the payee's account was not found (check the number or id)",
    "PAYER_NOT_FOUND": "the payer's account was not found (check the number or id)",
    "NOT_ALLOWED": "the API user is not allowed to do this (a permission of the account)",
    "NOT_ALLOWED_TARGET_ENVIRONMENT": "the API user may not use this target environment",
    "INVALID_CALLBACK_URL_HOST": "the callback URL's host is not the API user's providerCallbackHost",
    "INVALID_CURRENCY": "the currency is not accepted in this environment",
    "SERVICE_UNAVAILABLE": "the mobile money service was temporarily unavailable",
    "INTERNAL_PROCESSING_ERROR": "the mobile money platform failed while processing the request",
    "NOT_ENOUGH_FUNDS": "the paying account does not have enough funds",
    "PAYER_LIMIT_REACHED": "the payer has reached a transaction limit",
    "PAYEE_NOT_ALLOWED_TO_RECEIVE": "the payee's account may not receive this payment (blocked or limited)",
    "PAYMENT_NOT_APPROVED": "the payment was not approved",
    "RESOURCE_NOT_FOUND": "no such transaction or resource (unknown reference id)",
    "APPROVAL_REJECTED": "the customer declined on their phone",
    "EXPIRED": "the customer did not approve in time: the request expired",
    "TRANSACTION_CANCELED": "the transaction was cancelled",
    "RESOURCE_ALREADY_EXIST": "this reference id was used before",
    "COULD_NOT_PERFORM_TRANSACTION": "the transaction could not be completed (often: no PIN entered in time)",
    "SENDER_ACCOUNT_NOT_ACTIVE": "the sender's account is blocked or not active",
    "TRANSACTION_NOT_FOUND": "the transaction was not found",
    "ONGOING": "the transaction is still in progress",
    "PAYER_DELAYED": "the payer's side is delayed; the transaction is still in progress",
    "PAYEE_DELAYED": "the payee's side is delayed; the transaction is still in progress",
    "TRANSACTION_NOT_COMPLETED": "the transaction was not completed",
    "INFORMATIONAL_SCOPE_INSTRUCTION": "the consent request has an informational scope instruction problem",
    "MISSING_SCOPE_INSTRUCTION": "the consent request is missing its scope instruction",
    "MORE_THAN_ONE_FINANCIAL_SCOPE_NOT_SUPPORTED": "only one financial scope may be asked for at a time",
    "UNSUPPORTED_SCOPE_COMBINATION": "this combination of consent scopes is not supported",
    "CONSENT_MISMATCH": "the request does not match the consent the customer gave",
    "UNSUPPORTED_SCOPE": "this consent scope is not supported",
    "NOT_FOUND": "not found",
}

#: The next step for a synchronous error code.
_CODE_HINTS: dict[str, str] = {
    "INVALID_CURRENCY": "the sandbox takes EUR only; elsewhere use the currency of the target environment",
    "INVALID_CALLBACK_URL_HOST": (
        "the callback URL host must equal the API user's providerCallbackHost "
        "(see `momo provision show`), or leave the callback URL out"
    ),
    "NOT_ALLOWED_TARGET_ENVIRONMENT": (
        "check MOMO_TARGET_ENVIRONMENT (it must be the environment of this API user: 'sandbox' in the sandbox)"
    ),
    "NOT_ALLOWED": "ask MTN to enable this operation for the API user, or use another product's credentials",
    "INTERNAL_PROCESSING_ERROR": "check the status later; if it persists, contact MTN support with the reference id",
    "RESOURCE_ALREADY_EXIST": "this reference id was already used: check its status instead of sending it again",
    "RESOURCE_NOT_FOUND": "check the reference id, the product and the environment",
    "PAYER_NOT_FOUND": "check the payer's number",
    "PAYEE_NOT_FOUND": "check the payee's number",
}

_BAD_REQUEST_HINT = (
    "common causes: a message or note with an apostrophe or over 160 characters, a currency other than the "
    "environment's, a reference id that is not a UUID4"
)
_UNKNOWN_OUTCOME_HINT = (
    "the outcome is unknown; the journal keeps the reference id, and a status check tells whether the "
    "request arrived before anything is sent again"
)
_NOT_SENT_HINT = "nothing was sent; check your connection and try again"
_GET_NETWORK_HINT = "check your connection and try again (MOMO_TIMEOUT sets the timeout in seconds)"
_TOKEN_NOT_SENT = "no request was sent: the access token could not be fetched"

_MAX_TEXT = 200


def explain_reason(code: str | None) -> str:
    """Plain English for a `reason` code; unknown codes come back readable rather than empty."""
    if not code:
        return ""
    key = str(code).strip().upper()
    if key in REASON_EXPLANATIONS:
        return REASON_EXPLANATIONS[key]
    return key.replace("_", " ").lower()


def hint_for_code(code: str | None) -> str | None:
    return _CODE_HINTS.get((code or "").upper())


def env_prefix(product: str | None) -> str:
    return f"MOMO_{(product or 'COLLECTION').upper()}"


class ErrorBody:
    """What we could read from an error response: a MoMo code, a message, and the dialect."""

    def __init__(self, code: str | None = None, message: str | None = None, kind: str = "empty") -> None:
        self.code = code
        self.message = message
        self.kind = kind  # "momo", "apim", "token", "html", "text", "empty"

    def __repr__(self) -> str:
        return f"ErrorBody(code={self.code!r}, message={self.message!r}, kind={self.kind!r})"


def _clean(text: Any) -> str | None:
    if text is None:
        return None
    value = " ".join(str(text).split())
    if not value:
        return None
    value = redact(value)
    if len(value) > _MAX_TEXT:
        value = value[: _MAX_TEXT - 1] + "…"
    return value


def parse_error_body(content: bytes, content_type: str = "") -> ErrorBody:
    """Read any of the API's error dialects; never raises."""
    text = content.decode("utf-8", "replace").strip() if content else ""
    if not text:
        return ErrorBody()
    data: Any = None
    if text[:1] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    if isinstance(data, dict):
        code = data.get("code")
        if isinstance(code, str) and code.strip():
            return ErrorBody(code.strip().upper(), _clean(data.get("message")), "momo")
        if "statusCode" in data:
            return ErrorBody(None, _clean(data.get("message")), "apim")
        if "error" in data:
            error = data.get("error")
            if isinstance(error, dict):  # {"error": {"code": ..., "message": ...}}
                inner = error.get("code")
                if isinstance(inner, str) and inner.strip():
                    return ErrorBody(inner.strip().upper(), _clean(error.get("message")), "momo")
                return ErrorBody(None, _clean(error.get("message")), "token")
            message = _clean(error)
            described = _clean(data.get("error_description"))
            if described:
                message = f"{message}: {described}" if message else described
            return ErrorBody(None, message, "token")
        return ErrorBody(None, _clean(data.get("message")), "text" if data.get("message") else "empty")
    if "html" in content_type.lower() or text[:1] == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        return ErrorBody(None, _clean(title.group(1)) if title else None, "html")
    return ErrorBody(None, _clean(text), "text")


def parse_retry_after(value: str | None, message: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date) or APIM's 'Try again in N seconds'."""
    if value:
        value = value.strip()
        try:
            return max(0.0, float(int(value)))
        except ValueError:
            pass
        try:
            from datetime import datetime, timezone

            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    if message:
        found = re.search(r"(?i)try again in (\d+) second", message)
        if found:
            return float(found.group(1))
    return None


def _is_subscription_key_problem(body: ErrorBody) -> bool:
    return bool(body.message and "subscription key" in body.message.lower())


def is_subscription_key_rejection(response: "httpx.Response") -> bool:
    """True when a 401 comes from the gateway refusing the subscription key (not the token)."""
    if response.status_code != 401:
        return False
    return _is_subscription_key_problem(parse_error_body(response.content, response.headers.get("content-type", "")))


def _what(body: ErrorBody, status: int) -> str:
    """`500 INVALID_CURRENCY: Currency not supported.` style detail."""
    parts = [str(status)]
    if body.code:
        parts.append(body.code)
    detail = " ".join(parts)
    if body.message:
        detail += f": {body.message}"
    elif body.kind == "html":
        detail += " (an HTML page from a gateway)"
    return detail


def subscription_key_hint(product: str | None) -> str:
    if product:
        return (
            f"check {env_prefix(product)}_SUBSCRIPTION_KEY: it must be the Primary key of the {product} product "
            "(momodeveloper.mtn.com/developer for the sandbox, momoapi.mtn.com/developer for production)"
        )
    return "check the subscription key: copy the Primary key of the product from momodeveloper.mtn.com/developer"


def token_rejected_hint(product: str | None) -> str:
    prefix = env_prefix(product)
    return (
        f"check {prefix}_USER_ID and {prefix}_API_KEY (a new API key replaces the old one in your settings; "
        "in the sandbox, `momo provision` creates a fresh API user and key)"
    )


def error_from_response(
    response: "httpx.Response",
    *,
    product: str | None = None,
    action: str | None = None,
    creating: bool = False,
    token_call: bool = False,
) -> MomoCliError:
    """The error for a non-success response. `action` names what we tried ("request to pay ...")."""
    status = response.status_code
    body = parse_error_body(response.content, response.headers.get("content-type", ""))
    if not action and _has_request(response):
        action = f"{response.request.method} {response.request.url.path}"
    prefix = f"{action}: " if action else ""
    detail = _what(body, status)

    if status in (401, 403):
        if _is_subscription_key_problem(body):
            return AuthError(
                f"{prefix}the subscription key was refused ({detail})", hint=subscription_key_hint(product)
            )
        if status == 403:
            hint = "your IP address may not be allowed for this product (production needs it whitelisted by MTN)"
            if body.kind == "html":
                hint = "a gateway refused the request; check the base URL and any proxy in between"
            return AuthError(f"{prefix}access forbidden ({detail})", hint=hint)
        if token_call:
            return AuthError(
                f"{prefix}the API user and API key were refused when fetching an access token ({detail})",
                hint=token_rejected_hint(product),
            )
        return AuthError(
            f"{prefix}the access token was refused ({detail})",
            hint=token_rejected_hint(product),
        )

    if body.code == "SERVICE_UNAVAILABLE" or status == 503 or (status >= 500 and not body.code):
        explanation = "the service is unavailable" if status == 503 or body.code else "the server failed"
        if token_call:
            hint = _TOKEN_NOT_SENT + "; try again later"
        elif creating:
            hint = _UNKNOWN_OUTCOME_HINT
        else:
            hint = "try again later"
        return _network(
            f"{prefix}{explanation} ({detail})",
            hint,
            status=status,
            code=body.code,
            sent=False if token_call else None,
        )

    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), body.message)
        wait = f"wait {retry_after:g} s and " if retry_after is not None else "wait a little and "
        error = RateLimited(
            f"{prefix}too many requests ({detail})",
            retry_after=retry_after,
            hint=wait + "try again; the request was not processed",
        )
        error.status = status  # type: ignore[attr-defined]
        return error

    if status == 404:
        explanation = "not found"
        if body.code == "RESOURCE_NOT_FOUND" or body.kind == "momo":
            explanation = "no such resource"
        hint = hint_for_code("RESOURCE_NOT_FOUND")
        if body.kind in ("html", "empty", "text", "apim"):
            hint = "the path does not exist here: check the base URL (it must be the host only)"
        return NotFound(f"{prefix}{explanation} ({detail})", status=status, code=body.code, hint=hint)

    if status == 409:
        return AlreadyExists(
            f"{prefix}the reference id was already used ({detail})",
            status=status,
            code=body.code or "RESOURCE_ALREADY_EXIST",
            hint=hint_for_code("RESOURCE_ALREADY_EXIST"),
        )

    if body.code:
        explanation = explain_reason(body.code)
        return ApiError(
            f"{prefix}{explanation} ({detail})", status=status, code=body.code, hint=hint_for_code(body.code)
        )

    if status == 400:
        if token_call:
            hint = "the token call was refused as malformed; check MOMO_TARGET_ENVIRONMENT and the base URL"
        else:
            hint = _BAD_REQUEST_HINT
        return ApiError(f"{prefix}the request was rejected as malformed ({detail})", status=status, hint=hint)
    if status == 410:
        return ApiError(f"{prefix}too late: the opportunity has expired ({detail})", status=status)
    if status == 411:
        return ApiError(
            f"{prefix}the gateway wanted a Content-Length ({detail})",
            status=status,
            hint="this is a bug in momo-cli: please report it",
        )
    return ApiError(f"{prefix}the API rejected the request ({detail})", status=status)


def scrub_error(error: MomoCliError, secrets: "set[str] | frozenset[str]") -> MomoCliError:
    """Mask any known secret value that a server echoed into an error's message or hint."""
    from momo_cli.api._http import scrub

    error.message = scrub(error.message, secrets)
    error.args = (error.message,)
    if error.hint:
        error.hint = scrub(error.hint, secrets)
    return error


def _has_request(response: "httpx.Response") -> bool:
    try:
        response.request  # noqa: B018 - raises RuntimeError when not set
    except RuntimeError:
        return False
    return True


def failed_request(exc: BaseException) -> "httpx.Request | None":
    try:
        return exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return None


def is_token_request(request: "httpx.Request | None") -> bool:
    return request is not None and request.url.path.rstrip("/").endswith("/token")


def error_from_exception(
    exc: Exception,
    *,
    method: str = "GET",
    host: str | None = None,
    action: str | None = None,
    creating: bool = False,
) -> MomoCliError:
    """The NetworkError (or UsageError) for an httpx transport exception."""
    import httpx

    prefix = f"{action}: " if action else ""
    where = f" {host}" if host else ""
    token = is_token_request(failed_request(exc))
    unknown_outcome = creating and not token

    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        message = f"{prefix}could not connect to{where or ' the server'}"
        if isinstance(exc, httpx.ConnectTimeout):
            message += " (timed out)"
        hint = _NOT_SENT_HINT
        if unknown_outcome:
            hint = "nothing reached the server; the journal keeps the reference id, so sending it again is safe"
        if token:
            hint = _TOKEN_NOT_SENT + "; check your connection and try again"
        detail = _clean(str(exc))
        if detail and isinstance(exc, httpx.ConnectError):
            message += f": {detail}"
        return _network(message, hint, sent=False)
    if isinstance(exc, httpx.PoolTimeout):
        hint = _NOT_SENT_HINT
        return _network(f"{prefix}timed out waiting for a free connection", hint, sent=False)
    if isinstance(exc, httpx.TimeoutException):
        message = f"{prefix}no answer from{where or ' the server'} in time ({type(exc).__name__})"
    elif isinstance(exc, httpx.RemoteProtocolError):
        reason = _clean(str(exc)) or "protocol error"
        message = f"{prefix}the connection to{where or ' the server'} broke off ({reason})"
    elif isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        message = f"{prefix}the connection to{where or ' the server'} failed ({type(exc).__name__})"
    elif isinstance(exc, httpx.ProxyError):
        message = f"{prefix}the proxy refused the connection ({_clean(str(exc)) or 'proxy error'})"
    elif isinstance(exc, httpx.UnsupportedProtocol):
        from momo_cli.errors import UsageError

        return UsageError(f"{prefix}unsupported URL scheme", hint="the base URL must start with https://")
    elif isinstance(exc, httpx.LocalProtocolError):
        from momo_cli.errors import UsageError

        return UsageError(f"{prefix}the request could not be sent ({_clean(str(exc))})")
    else:
        message = f"{prefix}network error ({type(exc).__name__})"
    if token:
        hint = _TOKEN_NOT_SENT + "; try again"
    elif unknown_outcome:
        hint = _UNKNOWN_OUTCOME_HINT
    else:
        hint = _GET_NETWORK_HINT
    return _network(message, hint, sent=False if token else None)


def _network(
    message: str, hint: str, *, status: int | None = None, code: str | None = None, sent: bool | None = None
) -> NetworkError:
    """A NetworkError with `status`, `code` and `request_sent` (False: surely not sent; None: unknown)."""
    error = NetworkError(message, hint=hint)
    error.status = status  # type: ignore[attr-defined]
    error.code = code  # type: ignore[attr-defined]
    error.request_sent = sent  # type: ignore[attr-defined]
    return error
