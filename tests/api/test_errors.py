"""Every error dialect and transport failure ends as the right MomoCliError, exit code and hint."""

from __future__ import annotations

import httpx
import pytest

from momo_cli.api.errors import (
    REASON_EXPLANATIONS,
    error_from_exception,
    error_from_response,
    explain_reason,
    parse_error_body,
    parse_retry_after,
)
from momo_cli.errors import AlreadyExists, ApiError, AuthError, NetworkError, NotFound, RateLimited, UsageError
from momo_cli.exitcodes import ExitCode

URL = "https://sandbox.momodeveloper.mtn.com/collection/v1_0/requesttopay"


def response(status, body=None, *, method="POST", url=URL, headers=None, text=None):
    request = httpx.Request(method, url)
    if body is not None:
        return httpx.Response(status, json=body, request=request, headers=headers)
    return httpx.Response(status, text=text or "", request=request, headers=headers)


def momo(code, message="m"):
    return {"code": code, "message": message}


CASES = [
    # status, body, error class, exit code
    (400, None, ApiError, ExitCode.API_REJECTED),
    (400, momo("INVALID_CURRENCY"), ApiError, ExitCode.API_REJECTED),
    (401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."}, AuthError, ExitCode.AUTH),
    (401, {"error": "login_failed"}, AuthError, ExitCode.AUTH),
    (401, None, AuthError, ExitCode.AUTH),
    (403, None, AuthError, ExitCode.AUTH),
    (404, momo("RESOURCE_NOT_FOUND", "Requested resource was not found."), NotFound, ExitCode.API_REJECTED),
    (409, momo("RESOURCE_ALREADY_EXIST", "Duplicated reference id."), AlreadyExists, ExitCode.API_REJECTED),
    (410, None, ApiError, ExitCode.API_REJECTED),
    (429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 3 seconds."}, RateLimited, ExitCode.NETWORK),
    (500, momo("INVALID_CURRENCY", "Currency not supported."), ApiError, ExitCode.API_REJECTED),
    (500, momo("INVALID_CALLBACK_URL_HOST"), ApiError, ExitCode.API_REJECTED),
    (500, momo("NOT_ALLOWED_TARGET_ENVIRONMENT", "Access to target environment is forbidden."), ApiError, ExitCode.API_REJECTED),
    (500, momo("NOT_ALLOWED"), ApiError, ExitCode.API_REJECTED),
    (500, momo("INTERNAL_PROCESSING_ERROR", "An internal error occurred while processing."), ApiError, ExitCode.API_REJECTED),
    (500, momo("SERVICE_UNAVAILABLE"), NetworkError, ExitCode.NETWORK),
    (500, None, NetworkError, ExitCode.NETWORK),
    (500, {"statusCode": 500, "message": "Internal server error"}, NetworkError, ExitCode.NETWORK),
    (502, None, NetworkError, ExitCode.NETWORK),
    (503, momo("SERVICE_UNAVAILABLE", "Service temporary unavailable, try again later"), NetworkError, ExitCode.NETWORK),
    (503, None, NetworkError, ExitCode.NETWORK),
    (504, None, NetworkError, ExitCode.NETWORK),
]


@pytest.mark.parametrize(("status", "body", "cls", "code"), CASES)
def test_status_and_body_map_to_error_and_exit_code(status, body, cls, code):
    error = error_from_response(response(status, body), product="collection")
    assert type(error) is cls
    assert error.exit_code == code
    assert error.message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("INVALID_CURRENCY", "the sandbox takes EUR only"),
        ("INVALID_CALLBACK_URL_HOST", "the callback URL host must equal the API user's providerCallbackHost"),
        ("NOT_ALLOWED_TARGET_ENVIRONMENT", "MOMO_TARGET_ENVIRONMENT"),
    ],
)
def test_500_codes_have_a_hint(code, words):
    error = error_from_response(response(500, momo(code)))
    assert isinstance(error, ApiError) and error.code == code and error.status == 500
    assert words in error.hint


def test_subscription_key_401_names_the_product_variable():
    error = error_from_response(
        response(401, {"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure..."}),
        product="disbursement",
    )
    assert "MOMO_DISBURSEMENT_SUBSCRIPTION_KEY" in error.hint


def test_token_401_hint_names_user_and_key_and_provision():
    error = error_from_response(
        response(401, {"error": "login_failed"}, url="https://sandbox.momodeveloper.mtn.com/collection/token/"),
        product="collection",
        token_call=True,
    )
    assert isinstance(error, AuthError)
    assert "MOMO_COLLECTION_USER_ID" in error.hint and "MOMO_COLLECTION_API_KEY" in error.hint
    assert "momo provision" in error.hint
    assert "login_failed" in error.message


def test_unknown_outcome_hint_only_for_creating_posts():
    post = error_from_response(response(500), creating=True)
    assert "outcome is unknown" in post.hint and "journal" in post.hint
    get = error_from_response(response(500, method="GET"), creating=False)
    assert "outcome is unknown" not in get.hint


def test_rate_limited_reads_retry_after():
    error = error_from_response(response(429, None, headers={"Retry-After": "7"}))
    assert isinstance(error, RateLimited) and error.retry_after == 7
    apim = error_from_response(response(429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 3 seconds."}))
    assert apim.retry_after == 3


def test_html_and_empty_bodies():
    html = error_from_response(response(403, text="<html><head><title>403 Forbidden</title></head><body>x</body></html>",
                                        headers={"content-type": "text/html"}))
    assert isinstance(html, AuthError) and "403 Forbidden" in html.message
    gateway = error_from_response(response(502, text="<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}))
    assert isinstance(gateway, NetworkError) and "HTML" in gateway.message
    empty = error_from_response(response(404, method="GET"))
    assert isinstance(empty, NotFound) and "base URL" in empty.hint


def test_411_is_reported_as_our_bug():
    error = error_from_response(response(411, text="<html>Length Required</html>", headers={"content-type": "text/html"}))
    assert isinstance(error, ApiError) and "bug" in error.hint


def test_parse_error_body_dialects():
    assert parse_error_body(b'{"code":"NOT_ALLOWED","message":"no"}').code == "NOT_ALLOWED"
    assert parse_error_body(b'{"message":"m","code":"expired"}').code == "EXPIRED"
    assert parse_error_body(b'{"statusCode":401,"message":"Access denied"}').kind == "apim"
    token = parse_error_body(b'{"error":"invalid_client","error_description":"bad secret"}')
    assert token.kind == "token" and token.message == "invalid_client: bad secret"
    assert parse_error_body(b"").kind == "empty"
    assert parse_error_body(b"not json at all").kind == "text"
    assert parse_error_body(b"{broken").kind == "text"


def test_parse_retry_after():
    assert parse_retry_after("5") == 5
    assert parse_retry_after(None, "Try again in 12 seconds.") == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None


def test_server_messages_are_redacted_and_shortened():
    body = {"code": "NOT_ALLOWED", "message": "bad access_token=SECRETVALUE " + "x" * 500}
    error = error_from_response(response(500, body))
    assert "SECRETVALUE" not in error.one_line()
    assert len(error.message) < 400


# ------------------------------------------------------------------------------- exceptions


def exc(cls, url=URL, method="POST"):
    return cls("boom", request=httpx.Request(method, url))


@pytest.mark.parametrize(
    "cls",
    [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout,
     httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ProxyError],
)
def test_transport_failures_are_network_errors(cls):
    error = error_from_exception(exc(cls), method="POST", creating=True, host="sandbox.momodeveloper.mtn.com")
    assert isinstance(error, NetworkError) and error.exit_code == ExitCode.NETWORK
    assert "journal keeps the reference id" in error.hint
    never_left = cls in (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    assert ("outcome is unknown" in error.hint) is not never_left
    assert error.request_sent is (False if never_left else None)


@pytest.mark.parametrize("cls", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_a_post_whose_answer_was_lost_has_an_unknown_outcome(cls):
    error = error_from_exception(exc(cls), method="POST", creating=True)
    assert error.request_sent is None


def test_pool_timeouts_say_nothing_was_sent():
    error = error_from_exception(exc(httpx.PoolTimeout), creating=True)
    assert error.request_sent is False and "nothing was sent" in error.hint


def test_connect_errors_say_nothing_was_sent():
    assert error_from_exception(exc(httpx.ConnectError), creating=True).request_sent is False
    get = error_from_exception(exc(httpx.ConnectError, method="GET"), method="GET")
    assert "nothing was sent" in get.hint


def test_a_failure_on_the_token_call_says_no_request_was_sent():
    error = error_from_exception(
        exc(httpx.ReadTimeout, url="https://sandbox.momodeveloper.mtn.com/collection/token/"), creating=True
    )
    assert error.request_sent is False and "access token" in error.hint


def test_get_timeouts_suggest_momo_timeout():
    error = error_from_exception(exc(httpx.ReadTimeout, method="GET"), method="GET")
    assert "MOMO_TIMEOUT" in error.hint


def test_an_exception_without_a_request_still_maps():
    error = error_from_exception(httpx.ConnectError("refused"), creating=True)
    assert isinstance(error, NetworkError)


def test_unsupported_protocol_is_a_usage_error():
    assert isinstance(error_from_exception(exc(httpx.UnsupportedProtocol)), UsageError)


# ---------------------------------------------------------------------------------- reasons

SPEC_CODES = (
    "PAYEE_NOT_FOUND PAYER_NOT_FOUND NOT_ALLOWED NOT_ALLOWED_TARGET_ENVIRONMENT INVALID_CALLBACK_URL_HOST "
    "INVALID_CURRENCY SERVICE_UNAVAILABLE INTERNAL_PROCESSING_ERROR NOT_ENOUGH_FUNDS PAYER_LIMIT_REACHED "
    "PAYEE_NOT_ALLOWED_TO_RECEIVE PAYMENT_NOT_APPROVED RESOURCE_NOT_FOUND APPROVAL_REJECTED EXPIRED "
    "TRANSACTION_CANCELED RESOURCE_ALREADY_EXIST COULD_NOT_PERFORM_TRANSACTION SENDER_ACCOUNT_NOT_ACTIVE "
    "TRANSACTION_NOT_FOUND ONGOING PAYER_DELAYED PAYEE_DELAYED"
).split()


@pytest.mark.parametrize("code", SPEC_CODES)
def test_every_reason_code_has_an_explanation(code):
    assert code in REASON_EXPLANATIONS
    assert explain_reason(code) == REASON_EXPLANATIONS[code]


def test_explain_reason_examples_and_unknown_codes():
    assert explain_reason("APPROVAL_REJECTED") == "the customer declined on their phone"
    assert "enough funds" in explain_reason("not_enough_funds")
    assert explain_reason("SOMETHING_NEW") == "something new"
    assert explain_reason(None) == ""
