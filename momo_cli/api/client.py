"""MomoClient: the one async client of the MoMo Open API, and the only code that builds URLs and headers.

Each product (collection, disbursement, remittance) gets its credentials from the `credentials`
callable the first time it is used, and its own token flow (`auth.MomoTokenAuth`) over a shared token
cache. Every failure leaves as a MomoCliError (see `api.errors`): the caller maps it to an exit code.

The journal relies on two generic methods:

* `create_transaction(operation, reference_id, body, *, version, callback_url)`: the creating POST.
  Returns on 2xx (202). A 409 raises AlreadyExists; an unknown outcome (timeout, dropped connection,
  5xx without a code, 503) raises NetworkError and is never retried here.
* `get_transaction(operation, reference_id) -> TransactionStatus`: the status GET (NotFound on 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import httpx

from momo_cli import money
from momo_cli.api._http import encode_json, make_http_client, origin_for
from momo_cli.api.auth import MomoTokenAuth
from momo_cli.api.errors import env_prefix, error_from_exception, error_from_response, scrub_error
from momo_cli.api.hosts import LOCAL, callback_hostname, check_base_url
from momo_cli.api.models import (
    AccountHolderActive,
    Balance,
    BasicUserInfo,
    CashTransferStatus,
    TransactionStatus,
    parse_json,
)
from momo_cli.api.retry import RetryPolicy, no_retry
from momo_cli.api.tokens import TokenCache, TokenKey
from momo_cli.errors import AlreadyExists, ApiError, ConfigError, InvalidInput, MomoCliError, UsageError
from momo_cli.operations import PRODUCTS, Operation, get_operation


class ProductCredentialsLike(Protocol):
    user_id: str | None
    api_key: str | None
    subscription_key: str | None


CredentialsSource = Callable[[str], "ProductCredentialsLike | None"]

_CRED_FIELDS = (("user_id", "USER_ID"), ("api_key", "API_KEY"), ("subscription_key", "SUBSCRIPTION_KEY"))

_ID_TYPE_IN_PATH = {"MSISDN": "msisdn", "EMAIL": "email", "PARTY_CODE": "party_code"}


class MomoClient:
    """The MoMo Open API, one async method per endpoint. Use as `async with MomoClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        target_environment: str,
        credentials: CredentialsSource,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        token_cache: TokenCache | None = None,
        timeout: float = 30.0,
        callback_host: str | None = None,
        allow_any_host: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = check_base_url(base_url, allow_any_host=allow_any_host)
        if self.base_url == LOCAL and transport is None:
            raise UsageError(
                "the base URL 'local' needs the in-process emulator's transport",
                hint="build the client with momo_cli.api.build_client(settings)",
            )
        environment = (target_environment or "").strip()
        if not environment:
            raise ConfigError(
                "no target environment is set",
                hint="set MOMO_TARGET_ENVIRONMENT ('sandbox' in the sandbox, e.g. 'mtnuganda' in production)",
            )
        self.target_environment = environment
        self.callback_host = callback_hostname(callback_host)
        self.timeout = timeout
        self.origin = origin_for(self.base_url)
        self.token_cache = token_cache if token_cache is not None else TokenCache(None)
        self.retry = retry if retry is not None else RetryPolicy()
        self._credentials = credentials
        #: every secret value this client knows, masked in its debug log and in its errors
        self._secrets: set[str] = set()
        self._http = make_http_client(transport=transport, timeout=timeout, secrets=self._secrets, origin=self.origin)
        self._auths: dict[str, MomoTokenAuth] = {}
        self._subscription_keys: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MomoClient({self.base_url!r}, {self.target_environment!r})"

    # ------------------------------------------------------------------------------- life cycle

    async def __aenter__(self) -> "MomoClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------------------ credentials

    def _auth(self, product: str) -> MomoTokenAuth:
        if product not in PRODUCTS:
            raise UsageError(f"unknown product {product!r} (known: {', '.join(PRODUCTS)})")
        auth = self._auths.get(product)
        if auth is not None:
            return auth
        creds = self._credentials(product)
        values = {name: str(getattr(creds, name, None) or "").strip() for name, _ in _CRED_FIELDS}
        missing = [f"{env_prefix(product)}_{suffix}" for name, suffix in _CRED_FIELDS if not values[name]]
        if missing:
            raise ConfigError(
                f"no {product} credentials: {', '.join(missing)} not set",
                hint=(
                    f"set {', '.join(missing)} (or put them in a profile); in the sandbox, "
                    f"`momo provision --product {product}` creates an API user and key"
                ),
            )
        auth = MomoTokenAuth(
            token_url=f"{self.origin}/{product}/token/",
            product=product,
            user_id=values["user_id"],
            api_key=values["api_key"],
            subscription_key=values["subscription_key"],
            target_environment=self.target_environment,
            cache=self.token_cache,
            key=TokenKey(self.base_url, self.target_environment, product, values["user_id"]),
            secrets=self._secrets,
        )
        self._auths[product] = auth
        self._subscription_keys[product] = values["subscription_key"]
        return auth

    def forget_credentials(self, product: str) -> None:
        """Read `product`'s credentials again on next use (after they were replaced)."""
        self._auths.pop(product, None)
        self._subscription_keys.pop(product, None)

    # --------------------------------------------------------------------------------- sending

    def _where(self) -> str:
        return "the local emulator" if self.base_url == LOCAL else httpx.URL(self.origin).host

    async def _send(
        self,
        method: str,
        product: str,
        path: str,
        *,
        action: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        creating: bool = False,
        retry: RetryPolicy | None = None,
    ) -> httpx.Response:
        """Send one API call (with retries as the policy allows); returns a 2xx response or raises."""
        auth = self._auth(product)
        all_headers = {
            "Ocp-Apim-Subscription-Key": self._subscription_keys[product],
            "X-Target-Environment": self.target_environment,
        }
        content = None
        if body is not None:
            content = encode_json(body)
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        url = f"{self.origin}/{product}{path}"
        request = self._http.build_request(method, url, headers=all_headers, content=content)
        policy = retry or self.retry

        async def send_once() -> httpx.Response:
            return await self._http.send(request, auth=auth)

        try:
            response = await policy.run(send_once, method=method, creating=creating)
        except httpx.TransportError as exc:
            error = error_from_exception(exc, method=method, host=self._where(), action=action, creating=creating)
            raise scrub_error(error, self._secrets) from exc
        except MomoCliError as error:  # raised by the token flow
            raise scrub_error(error, self._secrets) from None
        if not 200 <= response.status_code < 300:
            error = error_from_response(response, product=product, action=action, creating=creating)
            raise scrub_error(error, self._secrets)
        return response

    @staticmethod
    def _json(response: httpx.Response, action: str) -> Any:
        try:
            return parse_json(response.content)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                f"{action}: the answer was not JSON (HTTP {response.status_code})",
                status=response.status_code,
                hint="check the base URL: it must be the MoMo API host",
            ) from None

    def _check_callback_url(self, callback_url: str | None) -> str | None:
        if callback_url is None:
            return None
        url = callback_url.strip()
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".").lower()
        except ValueError:
            parts, host = None, ""
        if parts is None or parts.scheme not in ("http", "https") or not host:
            raise InvalidInput("callback URL", f"{callback_url!r} is not an http(s) URL")
        if self.callback_host and host != self.callback_host:
            raise InvalidInput(
                "callback URL",
                f"its host {host} is not the API user's providerCallbackHost {self.callback_host}",
                hint="the callback URL host must equal the API user's providerCallbackHost (see `momo provision show`)",
            )
        return url

    # ------------------------------------------------------------------- generic transactions

    async def create_transaction(
        self,
        operation: Operation,
        reference_id: str,
        body: Any,
        *,
        version: str = "v1_0",
        callback_url: str | None = None,
    ) -> None:
        """The creating POST of `operation` with X-Reference-Id `reference_id`; returns on 202."""
        try:
            path = operation.create_path(version)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        reference_id = money.check_reference_id(reference_id)
        headers = {"X-Reference-Id": reference_id}
        callback = self._check_callback_url(callback_url)
        if callback:
            headers["X-Callback-Url"] = callback
        payload = body.to_api() if hasattr(body, "to_api") else body
        if not isinstance(payload, dict):
            raise TypeError("a transaction body must be a dict or a request model")
        action = f"{operation.product} {operation.name.replace('_', ' ')} {reference_id}"
        await self._send("POST", operation.product, path, action=action, body=payload, headers=headers, creating=True)

    async def get_transaction(self, operation: Operation, reference_id: str) -> TransactionStatus:
        """The status GET of `operation`: a TransactionStatus (CashTransferStatus for cash transfers)."""
        reference_id = money.check_reference_id(reference_id)
        action = f"{operation.product} {operation.name.replace('_', ' ')} status {reference_id}"
        response = await self._send(
            "GET", operation.product, operation.status_path.format(reference_id=reference_id), action=action
        )
        data = self._json(response, action)
        if not isinstance(data, dict):
            raise ApiError(f"{action}: the answer was not a JSON object", status=response.status_code)
        model = CashTransferStatus if operation.name == "cash_transfer" else TransactionStatus
        try:
            return model.from_api(data, party_field=operation.party_field)
        except ValueError as exc:
            raise ApiError(f"{action}: the answer could not be read ({_first_error(exc)})") from None

    # ---------------------------------------------------------------------------- collection

    async def request_to_pay(self, reference_id: str, body: Any, *, callback_url: str | None = None) -> None:
        await self.create_transaction(
            get_operation("collection", "request_to_pay"), reference_id, body, callback_url=callback_url
        )

    async def request_to_pay_status(self, reference_id: str) -> TransactionStatus:
        return await self.get_transaction(get_operation("collection", "request_to_pay"), reference_id)

    async def request_to_withdraw(
        self, reference_id: str, body: Any, *, version: str = "v1_0", callback_url: str | None = None
    ) -> None:
        await self.create_transaction(
            get_operation("collection", "request_to_withdraw"),
            reference_id,
            body,
            version=version,
            callback_url=callback_url,
        )

    async def request_to_withdraw_status(self, reference_id: str) -> TransactionStatus:
        return await self.get_transaction(get_operation("collection", "request_to_withdraw"), reference_id)

    async def delivery_notification(
        self, reference_id: str, message: str, *, language: str | None = None, product: str = "collection"
    ) -> None:
        """Send a text to the payer of a successful request to pay (header and body, as the spec shows)."""
        reference_id = money.check_reference_id(reference_id)
        text = money.check_message(message, field="notification message") or ""
        if not text:
            raise InvalidInput("notification message", "must not be empty")
        if not text.isascii():
            raise InvalidInput("notification message", "must be plain ASCII (it travels in an HTTP header)")
        headers = {"notificationMessage": text}
        if language:
            if not (language.isascii() and language.isalpha() and 2 <= len(language) <= 3):
                raise InvalidInput("language", f"{language!r} is not an ISO 639 code such as 'en' or 'fr'")
            headers["Language"] = language.lower()
        action = f"delivery notification {reference_id}"
        try:
            await self._send(
                "POST",
                product,
                f"/v1_0/requesttopay/{reference_id}/deliverynotification",
                action=action,
                body={"notificationMessage": text},
                headers=headers,
                retry=no_retry(),
            )
        except AlreadyExists as exc:  # here 409 means "the payment did not succeed", not a reused id
            raise ApiError(
                f"{action}: the request to pay has not completed successfully ({exc.status} {exc.code or ''})".strip(),
                status=exc.status,
                code=exc.code,
                hint="a delivery notification can follow only a successful request to pay",
            ) from None

    # -------------------------------------------------------------------------- disbursement

    async def transfer(
        self, reference_id: str, body: Any, *, product: str = "disbursement", callback_url: str | None = None
    ) -> None:
        """Transfer from the API user's account to `payee` (disbursement or remittance)."""
        await self.create_transaction(get_operation(product, "transfer"), reference_id, body, callback_url=callback_url)

    async def transfer_status(self, reference_id: str, *, product: str = "disbursement") -> TransactionStatus:
        return await self.get_transaction(get_operation(product, "transfer"), reference_id)

    async def deposit(
        self, reference_id: str, body: Any, *, version: str = "v1_0", callback_url: str | None = None
    ) -> None:
        await self.create_transaction(
            get_operation("disbursement", "deposit"), reference_id, body, version=version, callback_url=callback_url
        )

    async def deposit_status(self, reference_id: str) -> TransactionStatus:
        return await self.get_transaction(get_operation("disbursement", "deposit"), reference_id)

    async def refund(
        self, reference_id: str, body: Any, *, version: str = "v1_0", callback_url: str | None = None
    ) -> None:
        """Refund a request to pay: `body` carries referenceIdToRefund; `reference_id` is new."""
        await self.create_transaction(
            get_operation("disbursement", "refund"), reference_id, body, version=version, callback_url=callback_url
        )

    async def refund_status(self, reference_id: str) -> TransactionStatus:
        return await self.get_transaction(get_operation("disbursement", "refund"), reference_id)

    # ----------------------------------------------------------------------------- remittance

    async def cash_transfer(self, reference_id: str, body: Any, *, callback_url: str | None = None) -> None:
        await self.create_transaction(
            get_operation("remittance", "cash_transfer"), reference_id, body, version="v2_0", callback_url=callback_url
        )

    async def cash_transfer_status(self, reference_id: str) -> CashTransferStatus:
        status = await self.get_transaction(get_operation("remittance", "cash_transfer"), reference_id)
        assert isinstance(status, CashTransferStatus)
        return status

    # ----------------------------------------------------------------------- every product

    async def balance(self, product: str, currency: str | None = None) -> Balance:
        """GET /v1_0/account/balance (or /balance/{currency})."""
        path = "/v1_0/account/balance"
        if currency:
            path += "/" + money.parse_currency(currency)
        action = f"{product} balance"
        response = await self._send("GET", product, path, action=action)
        return _read(Balance, self._json(response, action), action)

    def _holder_path(self, id_type: str, party_id: str) -> str:
        kind, value = money.normalize_party(id_type, party_id, field="account holder")
        return f"/v1_0/accountholder/{_ID_TYPE_IN_PATH[kind]}/{quote(value, safe='@.')}"

    async def account_holder_active(self, product: str, id_type: str, party_id: str) -> AccountHolderActive:
        """GET /v1_0/accountholder/{type}/{id}/active: `{"result": bool}`."""
        path = self._holder_path(id_type, party_id) + "/active"
        action = f"{product} account holder check"
        response = await self._send("GET", product, path, action=action)
        return _read(AccountHolderActive, self._json(response, action), action)

    async def basic_user_info(self, product: str, id_type: str, party_id: str) -> BasicUserInfo:
        """GET /v1_0/accountholder/{type}/{id}/basicuserinfo."""
        path = self._holder_path(id_type, party_id) + "/basicuserinfo"
        action = f"{product} basic user info"
        response = await self._send("GET", product, path, action=action)
        return _read(BasicUserInfo, self._json(response, action), action)

    async def ensure_token(self, product: str, *, refresh: bool = False) -> float:
        """Have a usable token for `product` (fetching one if needed); returns its seconds of validity.

        For `momo doctor`: proves the API user, API key and subscription key work, moving no money.
        """
        auth = self._auth(product)
        if refresh:
            self.token_cache.drop(auth.key)
        token = self.token_cache.get(auth.key)
        if token is None:
            action = f"{product} access token"
            try:
                response = await self.retry.run(
                    lambda: self._http.send(auth.token_request()), method="POST", creating=False
                )
                token = auth.accept_token_response(response)
            except httpx.TransportError as exc:
                error = error_from_exception(exc, method="POST", host=self._where(), action=action)
                raise scrub_error(error, self._secrets) from exc
            except MomoCliError as error:
                raise scrub_error(error, self._secrets) from None
        return token.remaining(self.token_cache.clock())


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg')}"
        except Exception:  # pragma: no cover - defensive
            pass
    return type(exc).__name__


def _read(model: Any, data: Any, action: str) -> Any:
    if not isinstance(data, dict):
        raise ApiError(f"{action}: the answer was not a JSON object")
    try:
        return model.model_validate(data)
    except ValueError as exc:
        raise ApiError(f"{action}: the answer could not be read ({_first_error(exc)})") from None
