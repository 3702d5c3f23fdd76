"""The emulator as an ASGI app (starlette): provisioning, tokens, and the three products' operations.

`create_app(config)` builds it. The same app serves `momo sandbox serve` (uvicorn) and the in-process
transport of the `local` base URL. Behaviour follows momo-api.md, and its section 13 where sources
disagree; docs/emulator.md lists every endpoint and decision.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from momo_cli import money
from momo_cli.operations import OPERATIONS, PRODUCTS, Operation
from momo_cli.sandbox import scenarios, validation
from momo_cli.sandbox.config import EmulatorConfig
from momo_cli.sandbox.responses import (
    Problem,
    bad_request,
    bearer_denied,
    dumps,
    not_found,
    rate_limited,
    subscription_denied,
    token_denied,
)
from momo_cli.sandbox.store import AlreadyExists, NewTransaction, Store, UnknownReference

#: Key in the ASGI scope's "state" of a callable that aborts the client connection (see server.py and
#: transport.py). It returns True when the caller should then wait for the disconnect event.
ABORT_KEY = "momo_cli.sandbox.abort"
#: Key in the ASGI scope under which the middleware leaves the request body it already read.
BODY_KEY = "momo_cli.sandbox.body"

ADMIN_PREFIX = "/_sandbox"
JSON_TYPE = "application/json"

request_logger = logging.getLogger("momo_cli.sandbox.requests")
log = logging.getLogger("momo_cli.sandbox")

_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def store_for(config: EmulatorConfig) -> Store:
    """One Store per database file and process, shared by every app on that file."""
    key = str(config.db_path.resolve())
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = Store(config.db_path, initial_balance=config.initial_balance)
        return store


def close_store(db_path) -> None:
    """Close and forget the shared Store of a database file, if this process has one."""
    key = str(Path(db_path).resolve())
    with _STORES_LOCK:
        store = _STORES.pop(key, None)
    if store is not None:
        store.close()


class DropConnection(Exception):
    """Raised after a transaction was stored, to close the connection without an answer."""


class Emulator:
    """The state of one app: config, store, fault injection, request log buffer, callback dispatcher."""

    def __init__(self, config: EmulatorConfig, store: Store | None = None) -> None:
        self.config = config
        self.store = store or store_for(config)
        self.random = Random(config.seed)
        self.served = False  # True under a server with lifespan (uvicorn)
        self._window: deque[float] = deque()
        self._log_buffer: list[tuple[float, str, str, int, float]] = []
        self._last_flush = time.monotonic()
        self._dispatchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # -- fault injection -----------------------------------------------------------------------
    def over_rate_limit(self) -> bool:
        limit = self.config.rate_limit
        if not limit:
            return False
        now = time.monotonic()
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.random.random() < rate

    # -- request log ---------------------------------------------------------------------------
    def record(self, method: str, path: str, status: int, ms: float) -> None:
        self._log_buffer.append((time.time(), method, path, status, ms))
        if not self.served or len(self._log_buffer) >= 500 or time.monotonic() - self._last_flush > 0.25:
            self.flush_log()

    def flush_log(self) -> None:
        rows, self._log_buffer = self._log_buffer, []
        self._last_flush = time.monotonic()
        if rows:
            self.store.log_requests(rows, keep=self.config.request_log_size)

    # -- callbacks -----------------------------------------------------------------------------
    def ensure_dispatcher(self) -> None:
        """Start the callback dispatcher in the running event loop, once per loop."""
        loop = asyncio.get_running_loop()
        task = self._dispatchers.get(loop)
        if task is not None and not task.done():
            return
        from momo_cli.sandbox.callbacks import CallbackDispatcher

        dispatcher = CallbackDispatcher(self)
        self._dispatchers[loop] = loop.create_task(dispatcher.run(), name="momo-sandbox-callbacks")

    async def deliver_due_callbacks(self, budget: float = 5.0) -> int:
        """Deliver the callbacks due within `budget` seconds (waiting for them); the number tried.

        In-process, the emulator lives only as long as the command: before it goes, the callbacks its
        transactions earn in the next few seconds (a settle delay) are sent, so a callback is not
        lost with the process. Those due later (the ongoing and delayed test numbers) stay in the
        database for the next process (CLI or server) that runs the emulator.
        """
        import httpx

        from momo_cli.sandbox.callbacks import USER_AGENT, CallbackDispatcher

        dispatcher = CallbackDispatcher(self)
        deadline = time.monotonic() + budget
        tried = 0
        async with httpx.AsyncClient(
            timeout=min(self.config.callback_timeout, budget), trust_env=False, follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            while True:
                count = await dispatcher.tick(client)
                tried += count
                due = self.store.next_callback_due()
                if due is None:
                    break
                # due now but not ours to send (another process holds it): look again shortly
                wait = max(0.0 if count else 0.05, due - self.store.clock())
                if time.monotonic() + wait >= deadline:
                    break
                await asyncio.sleep(wait)
        return tried

    async def stop_dispatchers(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._dispatchers.pop(loop, None)
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass


# -- the outer layer: limits, faults, logging, last-resort errors ---------------------------------


class EmulatorMiddleware:
    def __init__(self, app: Callable, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emulator = self.emulator
        emulator.ensure_dispatcher()
        started = time.perf_counter()
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
        status_holder = [0]

        latency = 0.0 if admin else emulator.config.latency_ms / 1000.0

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                if latency:
                    # The answer is late, not the request: a POST is stored before the delay, so a
                    # client that gives up waiting meets the real danger (done, but it cannot know).
                    await asyncio.sleep(latency)
            await send(message)

        try:
            if not admin and emulator.over_rate_limit():
                raise rate_limited(1)
            scope[BODY_KEY] = await self._read_body(scope, receive)
            await self.app(scope, receive, send_wrapper)
        except DropConnection:
            await self._drop(scope, receive, send_wrapper)
            status_holder[0] = 0
        except Problem as problem:
            if not status_holder[0]:
                await problem_response(problem)(scope, receive, send_wrapper)
        except Exception:  # a bug: still the provider's error shape, never a bare 500
            log.exception("emulator error on %s %s", method, path)
            if not status_holder[0]:
                await problem_response(Problem(500, "INTERNAL_PROCESSING_ERROR"))(scope, receive, send_wrapper)
        if not admin:
            ms = (time.perf_counter() - started) * 1000.0
            emulator.record(method, path, status_holder[0], ms)
            if emulator.config.log_requests:
                request_logger.info(
                    "%s %s %s %s %.1fms", time.strftime("%H:%M:%S"), method, path,
                    status_holder[0] or "dropped", ms,
                )

    async def _read_body(self, scope: dict, receive: Callable) -> bytes:
        limit = self.emulator.config.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        raise Problem(413, "REQUEST_TOO_LARGE")
                except ValueError:
                    raise bad_request("Content-Length is not a number.") from None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Problem(413, "REQUEST_TOO_LARGE")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _drop(self, scope: dict, receive: Callable, send: Callable) -> None:
        abort = (scope.get("state") or {}).get(ABORT_KEY)
        if abort is None:  # a server without our protocol: the closest we can do is no answer at all
            raise RuntimeError("connection dropped by fault injection")
        if abort():
            try:
                async with asyncio.timeout(2.0):
                    while (await receive())["type"] != "http.disconnect":
                        pass
            except TimeoutError:  # pragma: no cover - the transport was aborted, the event comes
                pass


def problem_response(problem: Problem) -> Response:
    return Response(dumps(problem.body), status_code=problem.status, headers=problem.headers, media_type=JSON_TYPE)


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(dumps(obj), status_code=status, media_type=JSON_TYPE)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return problem_response(not_found())
    if exc.status_code == 405:
        problem = Problem(405, "METHOD_NOT_ALLOWED", f"Method {request.method} is not allowed for this resource.")
        response = problem_response(problem)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
    return problem_response(Problem(exc.status_code, "BAD_REQUEST", exc.detail))


# -- request helpers ------------------------------------------------------------------------------


def _body(request: Request) -> bytes:
    return request.scope.get(BODY_KEY, b"")


def _require_subscription_key(request: Request) -> None:
    key = request.headers.get("ocp-apim-subscription-key")
    if key is None:
        key = request.query_params.get("subscription-key")
    if not key or not key.strip():
        raise subscription_denied()


def _handler(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except Problem as problem:
            return problem_response(problem)

    endpoint.__name__ = fn.__name__
    return endpoint


class Handlers:
    """The endpoints, closed over one Emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.em = emulator
        self.config = emulator.config
        self.store = emulator.store

    # -- guards --------------------------------------------------------------------------------
    def product_user(self, request: Request, product: str) -> str:
        """Subscription key, Bearer token for this product, X-Target-Environment: the API user."""
        _require_subscription_key(request)
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise bearer_denied()
        user_id = self.store.token_owner(token, product)
        if user_id is None:
            raise bearer_denied()
        if (request.headers.get("x-target-environment") or "").strip() != self.config.target_environment:
            raise Problem(500, "NOT_ALLOWED_TARGET_ENVIRONMENT")
        return user_id

    # -- provisioning --------------------------------------------------------------------------
    async def create_api_user(self, request: Request) -> Response:
        _require_subscription_key(request)
        user_id = validation.reference_id(request.headers.get("x-reference-id"))
        body = validation.json_object(_body(request))
        host = validation.required_string(body, "providerCallbackHost", max_length=2048)
        if not self.store.create_user(user_id, host.strip(), self.config.target_environment):
            raise Problem(409, "RESOURCE_ALREADY_EXIST")
        return Response(status_code=201)

    async def create_api_key(self, request: Request) -> Response:
        _require_subscription_key(request)
        user_id = request.path_params["user_id"]
        if not money.is_uuid(user_id):
            raise bad_request("The API user id must be a UUID.")
        key = self.store.create_key(user_id.lower())
        if key is None:
            raise not_found()
        return json_response({"apiKey": key}, 201)

    async def get_api_user(self, request: Request) -> Response:
        _require_subscription_key(request)
        user_id = request.path_params["user_id"]
        if not money.is_uuid(user_id):
            raise bad_request("The API user id must be a UUID.")
        user = self.store.get_user(user_id.lower())
        if user is None:
            raise not_found()
        return json_response({"providerCallbackHost": user[0], "targetEnvironment": user[1]})

    # -- tokens --------------------------------------------------------------------------------
    def token(self, product: str):
        async def create_access_token(request: Request) -> Response:
            _require_subscription_key(request)
            scheme, _, encoded = request.headers.get("authorization", "").strip().partition(" ")
            if scheme.lower() != "basic" or not encoded.strip():
                raise token_denied()
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise token_denied() from None
            user_id, sep, api_key = decoded.partition(":")
            user_id = user_id.strip().lower()
            if not sep or not self.store.check_key(user_id, api_key.strip()):
                raise token_denied()
            ttl = float(self.config.token_ttl)
            token = self.store.issue_token(user_id, product, ttl)
            return json_response({
                "access_token": token,
                "token_type": "access_token",
                "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
            })

        return create_access_token

    # -- money-moving operations ---------------------------------------------------------------
    def create(self, op: Operation, version: str):
        async def create_transaction(request: Request) -> Response:
            user_id = self.product_user(request, op.product)
            reference_id = validation.reference_id(request.headers.get("x-reference-id"))
            body = validation.json_object(_body(request))
            tx = self._parse_transaction(op, version, user_id, reference_id, body)
            user = self.store.get_user(user_id)
            if user is None:  # the user was reset away while its token lived on
                raise bearer_denied()
            tx.callback_url = validation.callback_url(request.headers.get("x-callback-url"), user[0])
            tx.callback_method = self.config.callback_method or ("PUT" if version == "v2_0" else "POST")
            try:
                self.store.create_transaction(tx)
            except AlreadyExists:
                raise Problem(409, "RESOURCE_ALREADY_EXIST") from None
            except UnknownReference:
                raise not_found() from None
            if self.em.roll(self.config.drop_rate):
                raise DropConnection()
            if self.em.roll(self.config.error_rate):
                raise Problem(500, "INTERNAL_PROCESSING_ERROR")
            return Response(status_code=202)

        create_transaction.__name__ = f"create_{op.product}_{op.name}_{version}"
        return create_transaction

    def _parse_transaction(
        self, op: Operation, version: str, user_id: str, reference_id: str, body: dict[str, Any]
    ) -> NewTransaction:
        config = self.config
        raw_amount = validation.amount_value(body)
        currency = validation.currency_value(body)
        external_id = validation.optional_string(body, "externalId")
        payer_message = validation.message(body, "payerMessage")
        payee_note = validation.message(body, "payeeNote")
        refund_of = None
        party: dict[str, str] | None = None
        if op.name == "refund":
            refund_of = validation.required_string(body, "referenceIdToRefund").strip()
            if refund_of not in scenarios.REFUND_ID_SCENARIOS and not money.is_uuid(refund_of):
                raise bad_request("referenceIdToRefund must be the X-Reference-Id of a request to pay.")
        else:
            party = validation.party(body, op.party_field)
        extra: dict[str, Any] = {}
        if op.name == "cash_transfer":
            extra = self._cash_transfer_fields(body)
        validation.check_currency(currency, config.currency)
        amount, amount_text = validation.check_amount(raw_amount, currency)

        scenario = scenarios.SUCCESS
        if refund_of is not None:
            if refund_of in scenarios.REFUND_ID_SCENARIOS:
                scenario = scenarios.REFUND_ID_SCENARIOS[refund_of]
                party = {"partyIdType": "PARTY_CODE", "partyId": "b0b1ca5e-0000-4000-8000-000000000000"}
                refund_of_db = None
            else:
                original = self._refundable(refund_of.lower())
                party = {"partyIdType": original[0], "partyId": original[1]}
                refund_of_db = refund_of.lower()
        else:
            scenario = scenarios.scenario_for(op.product, op.name, party["partyIdType"], party["partyId"])
            refund_of_db = None
        assert party is not None

        fields: dict[str, Any] = {}
        if op.name == "cash_transfer":
            payer_fields = extra.pop("_payer", {})
            fields = {"amount": amount_text, "currency": currency, op.party_field: party}
            if external_id is not None:
                fields["externalId"] = external_id
            fields.update(extra)
            if payer_message is not None:
                fields["payerMessage"] = payer_message
            if payee_note is not None:
                fields["payeeNote"] = payee_note
            fields.update(payer_fields)
        else:
            if external_id is not None:
                fields["externalId"] = external_id
            fields["amount"] = amount_text
            fields["currency"] = currency
            fields[op.party_field] = party
            if payer_message is not None:
                fields["payerMessage"] = payer_message
            if payee_note is not None:
                fields["payeeNote"] = payee_note
        delay = {
            scenarios.SETTLE: config.settle_after,
            scenarios.ONGOING: config.ongoing_timeout,
            scenarios.DELAYED: config.delayed_after,
        }[scenario.timing]
        return NewTransaction(
            reference_id=reference_id, user_id=user_id, product=op.product, operation=op.name,
            version=version, direction=1 if op.incoming else -1, amount=amount, amount_text=amount_text,
            currency=currency, external_id=external_id, party_type=party["partyIdType"],
            party_id=party["partyId"], fields=fields, status=scenario.status, reason=scenario.reason,
            timing=scenario.timing, delay=float(delay), settle_delay=float(config.settle_after),
            refund_of=refund_of_db,
        )

    def _refundable(self, reference_id: str) -> tuple[str, str]:
        # Any API user's request to pay: a partner refunds with its disbursement user what it
        # collected with its collection user, and the sandbox provisions one user per product.
        row = self.store.conn.execute(
            "SELECT party_type, party_id FROM transactions WHERE reference_id = ?"
            " AND operation = 'request_to_pay'",
            (reference_id,),
        ).fetchone()
        if row is None:
            raise not_found()
        return row[0], row[1]

    @staticmethod
    def _cash_transfer_fields(body: dict[str, Any]) -> dict[str, Any]:
        """The cash transfer's own fields; `orginatingCountry` (sic) is read and echoed spelled right."""
        out: dict[str, Any] = {}
        country = validation.optional_string(body, "orginatingCountry")
        if country is None:
            country = validation.optional_string(body, "originatingCountry")
        if country is not None:
            out["originatingCountry"] = country
        if body.get("originalAmount") is not None:
            original = body["originalAmount"]
            if isinstance(original, bool) or not isinstance(original, (str, int, Decimal)):
                raise bad_request("originalAmount must be a string or a number.")
            out["originalAmount"] = (validation.decimal_text(original, "originalAmount")
                                     if isinstance(original, Decimal) else str(original))
        original_currency = validation.optional_string(body, "originalCurrency")
        if original_currency is not None:
            out["originalCurrency"] = original_currency
        payer: dict[str, Any] = {}
        for key in ("payerIdentificationType", "payerIdentificationNumber", "payerIdentity", "payerFirstName"):
            value = validation.optional_string(body, key)
            if value is not None:
                payer[key] = value
        surname = validation.optional_string(body, "payerSurName")
        if surname is None:
            surname = validation.optional_string(body, "payerSurname")
        if surname is not None:
            payer["payerSurname"] = surname
        for key in ("payerLanguageCode", "payerEmail", "payerMsisdn", "payerGender"):
            value = validation.optional_string(body, key)
            if value is not None:
                payer[key] = value
        out["_payer"] = payer
        return out

    def status(self, op: Operation):
        async def get_status(request: Request) -> Response:
            user_id = self.product_user(request, op.product)
            reference_id = request.path_params["reference_id"]
            if not money.is_uuid(reference_id):
                raise bad_request("The reference id must be a UUID.")
            row = self.store.get_transaction(reference_id.lower())
            if row is None or row[0] != user_id or row[1] != op.product or row[2] != op.name:
                raise not_found()
            body = row[4] if row[5] <= self.store.clock() else row[3]
            return Response(body.encode("utf-8"), media_type=JSON_TYPE)

        get_status.__name__ = f"status_{op.product}_{op.name}"
        return get_status

    async def delivery_notification(self, request: Request) -> Response:
        user_id = self.product_user(request, "collection")
        reference_id = request.path_params["reference_id"]
        if not money.is_uuid(reference_id):
            raise bad_request("The reference id must be a UUID.")
        text = request.headers.get("notificationmessage")
        if text is None or not text.strip():
            body = validation.parse_json(_body(request))
            if isinstance(body, dict):
                text = validation.optional_string(body, "notificationMessage", max_length=10_000)
        if text is None or not text.strip():
            raise bad_request("notificationMessage is required (header or body).")
        validation.check_message_text(text, "notificationMessage")
        row = self.store.get_transaction(reference_id.lower())
        if row is None or row[0] != user_id or row[2] != "request_to_pay":
            raise not_found()
        if row[5] > self.store.clock() or row[6] != "SUCCESSFUL":
            raise Problem(409, "TRANSACTION_NOT_COMPLETED")
        self.store.add_notification(reference_id.lower(), text, request.headers.get("language"))
        return Response(status_code=200)

    # -- accounts ------------------------------------------------------------------------------
    def balance(self, product: str):
        async def get_balance(request: Request) -> Response:
            user_id = self.product_user(request, product)
            currency = request.path_params.get("currency")
            if currency is not None:
                currency = currency.strip().upper()
                if len(currency) != 3 or not currency.isalpha():
                    raise bad_request("currency must be an ISO 4217 currency code.")
                validation.check_currency(currency, self.config.currency)
            available = self.store.available_balance(user_id, product)
            return json_response({
                "availableBalance": money.format_amount(available, self.config.currency),
                "currency": self.config.currency,
            })

        get_balance.__name__ = f"balance_{product}"
        return get_balance

    def _holder(self, request: Request, product: str) -> tuple[str, str, scenarios.HolderAnswer]:
        self.product_user(request, product)
        kind = validation.account_holder_type(request.path_params["id_type"])
        holder_id = validation.check_party_id(kind, request.path_params["holder_id"], key="accountHolderId")
        answer = scenarios.account_holder_answer(kind, holder_id)
        if answer.error is not None:
            raise Problem(answer.error[0], answer.error[1])
        return kind, holder_id, answer

    def active(self, product: str):
        async def account_holder_active(request: Request) -> Response:
            _, _, answer = self._holder(request, product)
            return json_response({"result": answer.active})

        account_holder_active.__name__ = f"active_{product}"
        return account_holder_active

    def basic_info(self, product: str):
        async def basic_user_info(request: Request) -> Response:
            _, _, answer = self._holder(request, product)
            if not answer.found:
                raise not_found()
            return json_response(scenarios.BASIC_USER_INFO)

        basic_user_info.__name__ = f"basicuserinfo_{product}"
        return basic_user_info

    # -- admin ---------------------------------------------------------------------------------
    async def admin_health(self, request: Request) -> Response:
        import os

        return json_response({
            "status": "ok", "pid": os.getpid(), "db_path": str(self.config.db_path),
            "target_environment": self.config.target_environment, "served": self.em.served,
        })

    async def admin_transactions(self, request: Request) -> Response:
        q = request.query_params
        try:
            limit = int(q.get("limit", "1000"))
        except ValueError:
            raise bad_request("limit must be a number.") from None
        return json_response(self.store.list_transactions(
            product=q.get("product"), operation=q.get("operation"), status=q.get("status"), limit=limit,
        ))

    async def admin_requests(self, request: Request) -> Response:
        self.em.flush_log()
        try:
            limit = int(request.query_params.get("limit", "1000"))
        except ValueError:
            raise bad_request("limit must be a number.") from None
        return json_response(self.store.list_requests(limit))

    async def admin_callbacks(self, request: Request) -> Response:
        return json_response(self.store.list_callbacks())

    async def admin_reset(self, request: Request) -> Response:
        self.em._log_buffer.clear()
        self.store.reset()
        return json_response({"reset": True})


def build_routes(handlers: Handlers) -> list[Route]:
    h = handlers
    routes = [
        Route("/v1_0/apiuser", _handler(h.create_api_user), methods=["POST"]),
        Route("/v1_0/apiuser/{user_id}/apikey", _handler(h.create_api_key), methods=["POST"]),
        Route("/v1_0/apiuser/{user_id}", _handler(h.get_api_user), methods=["GET"]),
    ]
    for op in OPERATIONS.values():
        for version, path in op.create_paths.items():
            routes.append(Route(f"/{op.product}{path}", _handler(h.create(op, version)), methods=["POST"]))
        routes.append(Route(f"/{op.product}{op.status_path}", _handler(h.status(op)), methods=["GET"]))
    routes.append(Route(
        "/collection/v1_0/requesttopay/{reference_id}/deliverynotification",
        _handler(h.delivery_notification), methods=["POST"],
    ))
    for product in PRODUCTS:
        token = _handler(h.token(product))
        routes += [
            Route(f"/{product}/token/", token, methods=["POST"]),
            Route(f"/{product}/token", token, methods=["POST"]),
            Route(f"/{product}/v1_0/account/balance", _handler(h.balance(product)), methods=["GET"]),
            Route(f"/{product}/v1_0/account/balance/{{currency}}", _handler(h.balance(product)), methods=["GET"]),
            Route(f"/{product}/v1_0/accountholder/{{id_type}}/{{holder_id}}/active",
                  _handler(h.active(product)), methods=["GET"]),
            Route(f"/{product}/v1_0/accountholder/{{id_type}}/{{holder_id}}/basicuserinfo",
                  _handler(h.basic_info(product)), methods=["GET"]),
        ]
    routes += [
        Route(f"{ADMIN_PREFIX}/health", _handler(h.admin_health), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/transactions", _handler(h.admin_transactions), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/requests", _handler(h.admin_requests), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/callbacks", _handler(h.admin_callbacks), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/reset", _handler(h.admin_reset), methods=["POST"]),
    ]
    return routes


def create_app(config: EmulatorConfig, *, store: Store | None = None) -> Starlette:
    """The emulator app over the database at `config.db_path` (created if missing)."""
    emulator = Emulator(config, store)
    handlers = Handlers(emulator)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        emulator.served = True
        emulator.ensure_dispatcher()
        try:
            yield
        finally:
            await emulator.stop_dispatchers()
            emulator.flush_log()

    app = Starlette(
        routes=build_routes(handlers),
        middleware=[Middleware(EmulatorMiddleware, emulator=emulator)],
        exception_handlers={HTTPException: http_exception_handler},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.emulator = emulator
    return app
