"""Fuzzing the emulator's request parsing, in-process: whatever arrives, it answers like the provider.

Random methods, paths (ids that are not UUIDs, traversal, unicode, very long), headers (missing or
garbage Authorization, X-Reference-Id, X-Target-Environment, Content-Type, subscription key, callback
URL) and bodies (JSON of the wrong types, huge numbers, NaN/Infinity, deep nesting, bytes that are
not UTF-8, oversized) go to the emulator's ASGI app. For every one:

- the app answers (no exception escapes it);
- an error answer is JSON in one of the provider's shapes: `{"code", "message"}` with a code of the
  provider's list, `{"error": "login_failed"}` from /token/, or the gateway's `{"statusCode",
  "message"}` (401 for the subscription key);
- no 5xx without a MoMo code, and no hidden bug: the emulator logs every exception it turns into
  `500 INTERNAL_PROCESSING_ERROR`, and the log stays empty.

Most requests carry valid credentials with one part spoiled, so that parsing goes deep. Callback
URLs are refused unless their host is the API user's (127.0.0.1), and a guard keeps every
connection of this module on loopback. Examples are derandomized: CI replays the same ones.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import socket
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from momo_cli.api.hosts import is_loopback_host
from momo_cli.operations import OPERATIONS, PRODUCTS
from tests.security.support import FUZZ_SETTINGS
from tests.support.emulator import SandboxApi, make_client

FUZZ = settings(max_examples=250, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow], **FUZZ_SETTINGS)

#: The provider's error codes (momo-api.md; docs/emulator.md "Errors" and "Test numbers").
PROVIDER_CODES = {
    "BAD_REQUEST", "UNAUTHORIZED", "RESOURCE_NOT_FOUND", "METHOD_NOT_ALLOWED", "RESOURCE_ALREADY_EXIST",
    "REQUEST_TOO_LARGE", "NOT_ALLOWED_TARGET_ENVIRONMENT", "INVALID_CURRENCY", "INVALID_CALLBACK_URL_HOST",
    "INTERNAL_PROCESSING_ERROR", "NOT_ALLOWED", "SERVICE_UNAVAILABLE", "TRANSACTION_NOT_COMPLETED",
    "NOT_ENOUGH_FUNDS", "PAYER_LIMIT_REACHED", "PAYEE_NOT_FOUND", "PAYER_NOT_FOUND",
    "COULD_NOT_PERFORM_TRANSACTION", "APPROVAL_REJECTED", "EXPIRED",
}
CODES_OF_500 = {"NOT_ALLOWED_TARGET_ENVIRONMENT", "INVALID_CURRENCY", "INVALID_CALLBACK_URL_HOST",
                "INTERNAL_PROCESSING_ERROR", "NOT_ALLOWED", "SERVICE_UNAVAILABLE", "NOT_ALLOWED_TARGET_ENVIRONMENT",
                "COULD_NOT_PERFORM_TRANSACTION"}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


# -- the emulator under test -----------------------------------------------------------------------


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Fuzzed:
    client: httpx.Client
    user_id: str
    api_key: str
    subscription_key: str
    tokens: dict[str, str]
    errors: _Errors
    paid: str  # a SUCCESSFUL request to pay, for delivery notifications and refunds


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from momo_cli.sandbox import EmulatorConfig

    config = EmulatorConfig(db_path=tmp_path_factory.mktemp("fuzz") / "emulator.db", settle_after=0, seed=7,
                            callback_attempts=1, callback_timeout=0.2)
    errors = _Errors()
    logger = logging.getLogger("momo_cli.sandbox")
    logger.addHandler(errors)
    with pytest.MonkeyPatch.context() as patch:
        real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

        def connect(self, address):
            if isinstance(address, tuple) and not is_loopback_host(str(address[0])):
                raise OSError("blocked by the test: nothing leaves loopback")
            return real_connect(self, address)

        def getaddrinfo(host, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if name is not None and not is_loopback_host(str(name)):
                raise socket.gaierror(socket.EAI_NONAME, "blocked by the test: nothing leaves loopback")
            return real_getaddrinfo(host, *args, **kwargs)

        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        client = make_client(config)
        try:
            api = SandboxApi(client)
            creds = api.provision("127.0.0.1")
            tokens = {product: api.token(creds, product) for product in PRODUCTS}
            paid, answer = api.create(creds, "collection", "request_to_pay", {
                "amount": "10", "currency": "EUR", "externalId": "x",
                "payer": {"partyIdType": "MSISDN", "partyId": "46733123999"}})
            assert answer.status_code == 202
            yield Fuzzed(client, creds.user_id, creds.api_key, creds.subscription_key, tokens, errors, paid)
        finally:
            client.close()
            logger.removeHandler(errors)


# -- what every answer must look like -------------------------------------------------------------------


def check_answer(response: httpx.Response, emulator: Fuzzed) -> None:
    """The provider's shapes only; a hidden exception (logged by the emulator) fails too."""
    assert not emulator.errors.records, [r.getMessage() for r in emulator.errors.records]
    status = response.status_code
    code = response.json().get("code") if status >= 400 and response.content.startswith(b"{") else None
    if currently_in_test_context():  # --hypothesis-show-statistics: how deep the requests got
        event(f"{status} {code or ''}".strip())
    assert 200 <= status < 600
    if status >= 500:
        assert status in (500, 503), status
    request = response.request
    if request.method == "HEAD":
        return
    if status < 300:
        if response.content:
            json.loads(response.content)  # a 2xx body is JSON
        return
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    if set(body) == {"code", "message"}:
        assert body["code"] in PROVIDER_CODES, body
        assert isinstance(body["message"], str) and body["message"], body
        if status >= 500:
            assert body["code"] in CODES_OF_500, body
    elif set(body) == {"error"}:
        assert body == {"error": "login_failed"} and status == 401, body
        assert "/token" in request.url.path
    else:
        assert set(body) == {"statusCode", "message"}, body
        assert body["statusCode"] == status and status in (401, 429), body


# -- strategies -----------------------------------------------------------------------------------------

UUID4 = st.uuids(version=4).map(str)
SEGMENTS = st.one_of(
    UUID4,
    UUID4.map(str.upper),
    st.uuids(version=1).map(str),
    st.sampled_from(["..", "../..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%00", "null", "-1", "1", "13",
                     "46733123999", "46733123452", "notfound@email.com", "EUR", "XAF", "msisdn", "EMAIL",
                     "party_code", "", " ", "%20", "%ff%fe", "ünïcödé", "😀", "a" * 5000, "1" * 300]),
    st.text(max_size=40),
)
#: (the method the route takes, the route with its variable parts)
TEMPLATES = [
    ("POST", "/v1_0/apiuser"), ("GET", "/v1_0/apiuser/{a}"), ("POST", "/v1_0/apiuser/{a}/apikey"),
    ("POST", "/{p}/token/"), ("POST", "/{p}/token"), ("GET", "/{p}/v1_0/account/balance"),
    ("GET", "/{p}/v1_0/account/balance/{a}"), ("GET", "/{p}/v1_0/accountholder/{a}/{b}/active"),
    ("GET", "/{p}/v1_0/accountholder/{a}/{b}/basicuserinfo"),
    ("POST", "/collection/v1_0/requesttopay/{a}/deliverynotification"),
    ("GET", "/_sandbox/health"), ("GET", "/_sandbox/transactions?limit={a}&product={b}"),
    ("GET", "/_sandbox/requests?limit={a}"), ("GET", "/_sandbox/callbacks"),
    ("GET", "/{a}"), ("POST", "/{a}/{b}"), ("GET", "/{p}/{a}/{b}"),
    *[("POST", f"/{op.product}{path}") for op in OPERATIONS.values() for path in op.create_paths.values()],
    *[("GET", f"/{op.product}{op.status_path.replace('{reference_id}', '{a}')}") for op in OPERATIONS.values()],
]
PRODUCT_WORDS = st.one_of(st.sampled_from(PRODUCTS), st.sampled_from(["Collection", "payments", "", "%2e"]))


@st.composite
def routes(draw) -> tuple[str, str]:
    """(method, path): a route with its variable parts fuzzed (percent-encoded where a client must
    encode them), mostly with the route's own method."""
    method, template = draw(st.sampled_from(TEMPLATES))

    def part(strategy) -> str:
        return quote(draw(strategy), safe="/%.~")

    path = template.format(p=part(PRODUCT_WORDS), a=part(SEGMENTS), b=part(SEGMENTS))
    other = st.one_of(st.sampled_from(METHODS), st.from_regex(r"\A[A-Z]{1,8}\Z"))
    return draw(st.one_of(st.just(method), st.just(method), st.just(method), other)), path


JUNK = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60)
LATIN1_BYTES = st.binary(max_size=40).map(lambda b: bytes(c for c in b if c not in b"\r\n\x00"))


def authorizations(emulator: Fuzzed, product: str) -> st.SearchStrategy:
    basic = base64.b64encode(f"{emulator.user_id}:{emulator.api_key}".encode()).decode()
    return st.one_of(
        st.just(f"Bearer {emulator.tokens[product]}"),
        st.just(f"Bearer {emulator.tokens[product]}"),
        st.just(f"Basic {basic}"),
        st.sampled_from(["", "Bearer", "Bearer ", "Basic", "Basic !!!", "Basic " + base64.b64encode(b":").decode(),
                         "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(), "bearer " + "x" * 3000,
                         "Digest abc", "Bearer a.b.c"]),
        JUNK.map(lambda t: "Bearer " + t), JUNK.map(lambda t: "Basic " + t), JUNK,
        st.binary(max_size=30).map(lambda b: "Basic " + base64.b64encode(b).decode()),
        st.none(),
    )


def header_values(valid: list[str]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), JUNK, LATIN1_BYTES, st.none())


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["1", "10.5", "0", "-1", "1e3", "١٢", "EUR", "XAF", "MSISDN", "46733123999", "sandbox"]),
)
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=20)
FIELDS = ["amount", "currency", "externalId", "payer", "payee", "payerMessage", "payeeNote", "partyIdType",
          "partyId", "referenceIdToRefund", "providerCallbackHost", "notificationMessage", "originalAmount",
          "orginatingCountry", "originalCurrency", "payerIdentificationType", "payerSurName"]


SPOILERS = st.one_of(JSON_LEAVES, JSON_VALUES, st.sampled_from([
    "", " ", "1e5", "-5", "0", "0.000", "5.555", "1" * 30, "٥", "EURO", "eur", "XAF", "USD", "X" * 300, "a'b",
    "<b>", "\u0000", "99", "3f0c1b8e-7a5d-4c2e-9f1a-2b3c4d5e6f70",
    {"partyIdType": "MSISDN"}, {"partyId": "46733123999"}, {"partyIdType": "EMAIL", "partyId": "not-an-email"},
    {"partyIdType": "PARTY_CODE", "partyId": "not-a-uuid"}, {"partyIdType": "msisdn", "partyId": 46733123999},
    [], {}, True, 10**30, -1,
]))


@st.composite
def payment_like(draw) -> dict[str, Any]:
    """A body every route takes, with none, one or a few of its fields spoiled or left out."""
    party = {"partyIdType": "MSISDN", "partyId": draw(st.sampled_from(["46733123999", "46733123451", "46733123460"]))}
    body: dict[str, Any] = {
        "amount": draw(st.sampled_from(["5", "5.55", 7])), "currency": "EUR", "externalId": "ext-1",
        "payer": party, "payee": party, "payerMessage": "thanks", "payeeNote": "order 1",
        "referenceIdToRefund": draw(st.sampled_from([str(n) for n in range(1, 14)])),
        "providerCallbackHost": "127.0.0.1", "notificationMessage": "thanks",
        "orginatingCountry": "SE", "originalAmount": "23", "originalCurrency": "SEK",
    }
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(SPOILERS)
    return body


RAW_BODIES = st.sampled_from([
    b"", b" ", b"null", b"{", b"[]", b'"x"', b"NaN", b"Infinity", b'{"amount": NaN, "currency": "EUR"}',
    b'{"amount": Infinity}', b'{"amount": -Infinity}', b'{"amount": 1e999999999, "currency": "EUR"}',
    b'{"amount": 1E-999999999, "currency": "EUR"}', b'{"amount": 1e400, "currency": "XAF"}',
    b'{"amount": 0e999999999, "currency": "EUR"}', b'{"amount": 123456789012345678901234567890.5}',
    b'{"amount": ' + b"9" * 5000 + b', "currency": "EUR"}', b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"\xff\xfe\xfd", b"\xc3\x28", b"\xef\xbb\xbf{}", b"\x00" * 10,
    '{"amount": "5", "currency": "€"}'.encode("utf-16"),
])


def bodies() -> st.SearchStrategy:
    return st.one_of(
        payment_like().map(lambda b: json.dumps(b).encode()),
        payment_like().map(lambda b: json.dumps(b).encode()),
        payment_like().map(lambda b: json.dumps(b).encode()),
        payment_like().map(lambda b: json.dumps(b).encode()),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        RAW_BODIES,
        st.binary(max_size=200),
    )


@st.composite
def requests(draw, emulator: Fuzzed) -> dict[str, Any]:
    product = draw(st.sampled_from(PRODUCTS))
    method, path = draw(routes())
    headers: dict[str, Any] = {
        "Authorization": draw(authorizations(emulator, product)),
        "Ocp-Apim-Subscription-Key": draw(header_values([emulator.subscription_key])),
        "X-Target-Environment": draw(header_values(["sandbox", "SANDBOX", "mtnuganda"])),
        "X-Reference-Id": draw(st.one_of(UUID4, UUID4, st.uuids(version=1).map(str), JUNK, st.none(),
                                         st.just(emulator.paid))),
        "Content-Type": draw(header_values(["application/json", "application/json; charset=utf-8",
                                            "text/plain", "application/x-www-form-urlencoded"])),
        "X-Callback-Url": draw(st.one_of(st.none(), st.sampled_from(
            ["http://127.0.0.1:9/cb", "https://127.0.0.1:9/", "ftp://127.0.0.1/", "http://evil.example/cb",
             "http://127.0.0.1@evil.example/", "javascript:alert(1)", "http://[::1", ""]), JUNK)),
        "notificationMessage": draw(st.one_of(st.none(), st.just("hello"), JUNK)),
        "Content-Length": draw(st.one_of(st.none(), st.none(), st.none(), st.none(), st.none(), st.sampled_from(
            ["abc", "-1", "0", "99999999999999999999", "2000000", " 5"]))),
    }
    return {
        "method": method,
        "path": path,
        "headers": {k: v for k, v in headers.items() if v is not None},
        "content": draw(bodies()),
    }


def send(emulator: Fuzzed, request: dict[str, Any]) -> httpx.Response:
    built = emulator.client.build_request(request["method"], request["path"], headers=request["headers"],
                                          content=request["content"])
    if "Content-Length" in request["headers"]:  # a lying Content-Length, as some clients send
        built.headers["Content-Length"] = request["headers"]["Content-Length"]
    return emulator.client.send(built)


# -- the properties -------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_random_requests_get_the_providers_answers(emulator, data):
    check_answer(send(emulator, data.draw(requests(emulator), label="request")), emulator)


DEEP_ROUTES = [(op.product, f"/{op.product}{path}") for op in OPERATIONS.values() for path in op.create_paths.values()]
DEEP_ROUTES += [("collection", "/collection/v1_0/requesttopay/{ref}/deliverynotification"),
                ("collection", "/v1_0/apiuser")]


#: X-Reference-Id "fresh" is a new UUID4 each time (in a repeatable sequence): no 409 by chance.
_FRESH = itertools.count(1)


@FUZZ
@given(st.sampled_from(DEEP_ROUTES), bodies(), st.one_of(st.just("fresh"), st.just("fresh"), UUID4, JUNK),
       st.sampled_from(["application/json", "text/plain", None]))
@example(("collection", "/collection/v1_0/requesttopay"),
         b'{"amount": 1e999999999, "currency": "EUR", "payer": {"partyIdType": "MSISDN", '
         b'"partyId": "46733123999"}}', str(uuid.UUID(int=1, version=4)), "application/json")
@example(("remittance", "/remittance/v2_0/cashtransfer"),
         b'{"amount": "5", "currency": "EUR", "originalAmount": 1e999999999, "payee": '
         b'{"partyIdType": "MSISDN", "partyId": "46733123999"}}', str(uuid.UUID(int=2, version=4)), "application/json")
def test_deep_parsing_with_valid_credentials(emulator, route, body, reference, content_type):
    """Valid headers on every creating route: only the body (and the id) is fuzzed."""
    product, path = route
    if reference == "fresh":
        reference = str(uuid.UUID(int=next(_FRESH) << 64 | 0xFE55, version=4))
    headers = {"Authorization": f"Bearer {emulator.tokens[product]}",
               "Ocp-Apim-Subscription-Key": emulator.subscription_key,
               "X-Target-Environment": "sandbox", "X-Reference-Id": reference}
    if content_type:
        headers["Content-Type"] = content_type
    response = emulator.client.post(path.format(ref=emulator.paid), headers=headers, content=body)
    check_answer(response, emulator)


def test_oversized_bodies_are_413_with_a_code(emulator):
    headers = {"Authorization": f"Bearer {emulator.tokens['collection']}",
               "Ocp-Apim-Subscription-Key": emulator.subscription_key, "X-Target-Environment": "sandbox",
               "X-Reference-Id": str(uuid.uuid4()), "Content-Type": "application/json"}
    for body in (b" " * (1024 * 1024 + 1), b'{"amount": "' + b"1" * (2 * 1024 * 1024) + b'"}'):
        response = emulator.client.post("/collection/v1_0/requesttopay", headers=headers, content=body)
        assert response.status_code == 413 and response.json()["code"] == "REQUEST_TOO_LARGE"
        check_answer(response, emulator)


def test_a_tiny_body_cannot_make_a_huge_answer(emulator):
    """`1e999999999` is a 14-character JSON number; written out it is a billion digits. The emulator
    must refuse it as it is, not expand it (into its memory, its error message, its database)."""
    headers = {"Authorization": f"Bearer {emulator.tokens['collection']}",
               "Ocp-Apim-Subscription-Key": emulator.subscription_key, "X-Target-Environment": "sandbox",
               "Content-Type": "application/json"}
    for number in ("1e99999", "1e999999999", "1E-999999999", "1e400", "0e999999999"):
        body = ('{"amount": %s, "currency": "EUR", "externalId": "x", '
                '"payer": {"partyIdType": "MSISDN", "partyId": "46733123999"}}' % number).encode()
        response = emulator.client.post("/collection/v1_0/requesttopay", content=body,
                                        headers={**headers, "X-Reference-Id": str(uuid.uuid4())})
        assert response.status_code == 400, (number, response.status_code)
        assert len(response.content) < 1000, (number, len(response.content))
        check_answer(response, emulator)
