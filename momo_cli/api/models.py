"""Pydantic models of the MoMo API's bodies, accepting every variant momo-api.md lists (sections 3, 6, 10).

Amounts are exact: they are read as `Decimal` (JSON numbers too: parse bodies with `parse_json`, which
never makes a float) and written as decimal strings. `reason` may be a string or a `{code, message}`
object; ids may be numbers or strings; optional fields may be missing; unknown fields are ignored.
Request models build the exact JSON the API expects (`to_api()`).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from momo_cli import money
from momo_cli.errors import InvalidInput
from momo_cli.operations import is_final

__all__ = [
    "ApiKey",
    "ApiUser",
    "AccountHolderActive",
    "Balance",
    "BasicUserInfo",
    "CashTransferRequest",
    "CashTransferStatus",
    "Party",
    "PaymentRequest",
    "RefundRequest",
    "Token",
    "TransactionStatus",
    "TransferRequest",
    "decimal_text",
    "parse_json",
]


def parse_json(content: bytes | str) -> Any:
    """JSON with every number that has a fraction or exponent read as Decimal (never float)."""
    if isinstance(content, bytes):
        content = content.decode("utf-8")
    return json.loads(content, parse_float=Decimal)


def _to_decimal(value: Any) -> Decimal | None:
    """Lenient reading of an amount the API sent: None when absent or unreadable, never a float."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Only reached when someone parsed JSON without parse_json: repr() is the shortest text that
        # round-trips, i.e. the literal that was in the document for any realistic amount.
        return Decimal(repr(value)) if math.isfinite(value) else None
    text = value.strip() if isinstance(value, str) else None
    if not text:
        return None
    try:
        result = Decimal(text)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _to_text(value: Any) -> str | None:
    """Ids and free text: numbers become their decimal string, blanks become None."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        value = format(value, "f")
    if isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as plain text without an exponent (`1E+2` -> `100`)."""
    if value is None:
        return None
    return format(value, "f")


ApiDecimal = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
ApiText = Annotated[str | None, BeforeValidator(_to_text)]


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --------------------------------------------------------------------------------------------- parties


class Party(_ApiModel):
    """`{"partyIdType": "MSISDN"|"EMAIL"|"PARTY_CODE", "partyId": "..."}`."""

    party_id_type: str = Field(alias="partyIdType")
    party_id: str = Field(alias="partyId")

    @field_validator("party_id_type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> str:
        return (_to_text(value) or "").upper()

    @field_validator("party_id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return _to_text(value) or ""

    @classmethod
    def of(cls, id_type: str, party_id: str) -> "Party":
        """A validated party (MSISDN tidied, e-mail and UUID checked): raises InvalidInput."""
        kind, value = money.normalize_party(id_type, party_id)
        return cls(partyIdType=kind, partyId=value)

    @classmethod
    def msisdn(cls, number: str) -> "Party":
        return cls.of("MSISDN", number)

    @property
    def type(self) -> str:
        return self.party_id_type

    @property
    def id(self) -> str:
        return self.party_id

    def to_api(self) -> dict[str, str]:
        return {"partyIdType": self.party_id_type, "partyId": self.party_id}

    def to_json(self) -> dict[str, str]:
        """The `party` object of our JSON output: `{"type", "id"}`."""
        return {"type": self.party_id_type, "id": self.party_id}


def _party(value: Any) -> Party | dict | None:
    if isinstance(value, (Party, dict)):
        return value
    return None


# -------------------------------------------------------------------------------------------- requests


def _amount_text(amount: Any, currency: str, field: str = "amount") -> str:
    """Validate an amount for `currency` (exact, positive, minor units) and give its API string."""
    if isinstance(amount, float):
        raise InvalidInput(field, "must be a decimal string or Decimal, not a floating-point number")
    value = money.parse_amount(decimal_text(amount) if isinstance(amount, Decimal) else amount, currency, field=field)
    return money.format_amount(value, currency)


def _no_float(value: Any) -> Any:
    if isinstance(value, (float, bool)):
        raise ValueError("amounts must be decimal strings or Decimal, never floats")
    if isinstance(value, int):
        return str(value)
    return value


ExactAmount = Annotated[Decimal | str, BeforeValidator(_no_float)]


class _MoneyRequest(_ApiModel):
    """Fields are kept as given; `to_api()` validates them (raising InvalidInput, exit 2)."""

    amount: ExactAmount
    currency: str
    external_id: str | None = None
    payer_message: str | None = None
    payee_note: str | None = None

    def _common(self) -> dict[str, Any]:
        currency = money.parse_currency(self.currency)
        money.check_message(self.payer_message, field="payer message")
        money.check_message(self.payee_note, field="payee note")
        body: dict[str, Any] = {
            "amount": _amount_text(self.amount, currency),
            "currency": currency,
        }
        if self.external_id is not None:
            body["externalId"] = self.external_id
        return body

    def _messages(self, body: dict[str, Any]) -> dict[str, Any]:
        body["payerMessage"] = self.payer_message or ""
        body["payeeNote"] = self.payee_note or ""
        return body

    def _with_party(self, key: str, party: Party) -> dict[str, Any]:
        """The common fields, the party as `key`, then the messages: the body in the API's order."""
        body = self._common()
        body[key] = party.to_api()
        return self._messages(body)


class PaymentRequest(_MoneyRequest):
    """RequestToPay / RequestToWithdraw body (money comes in from `payer`)."""

    payer: Party

    def to_api(self) -> dict[str, Any]:
        return self._with_party("payer", self.payer)


#: The API's own name for the same body.
RequestToPay = PaymentRequest


class TransferRequest(_MoneyRequest):
    """Transfer / Deposit body (money goes out to `payee`)."""

    payee: Party

    def to_api(self) -> dict[str, Any]:
        return self._with_party("payee", self.payee)


Transfer = TransferRequest


def _refund_reference(value: str) -> str:
    """The X-Reference-Id of the request to pay to refund (a UUID), or a sandbox test id ("1".."13")."""
    text = (value or "").strip()
    if money.is_uuid(text):
        return text.lower()
    if text.isdigit() and len(text) <= 3:
        return text
    raise InvalidInput(
        "reference id to refund",
        f"{value!r} is not the reference id (a UUID) of a request to pay",
        hint="the sandbox also takes its refund test ids 1 to 13",
    )


class RefundRequest(_MoneyRequest):
    """Refund body: `referenceIdToRefund` is the X-Reference-Id of the original request to pay."""

    reference_id_to_refund: str

    def to_api(self) -> dict[str, Any]:
        body = self._common()
        self._messages(body)
        body["referenceIdToRefund"] = _refund_reference(self.reference_id_to_refund)
        return body


class CashTransferRequest(_MoneyRequest):
    """Remittance cash transfer. The API spells the request field `orginatingCountry` (sic)."""

    payee: Party
    originating_country: str | None = None
    original_amount: ExactAmount | None = None
    original_currency: str | None = None
    payer_identification_type: str | None = None
    payer_identification_number: str | None = None
    payer_identity: str | None = None
    payer_first_name: str | None = None
    payer_surname: str | None = None
    payer_language_code: str | None = None
    payer_email: str | None = None
    payer_msisdn: str | None = None
    payer_gender: str | None = None

    def to_api(self) -> dict[str, Any]:
        body = self._common()
        body["payee"] = self.payee.to_api()
        if self.originating_country is not None:
            body["orginatingCountry"] = self.originating_country
        if self.original_amount is not None:
            currency = money.parse_currency(self.original_currency or self.currency, field="original currency")
            body["originalAmount"] = _amount_text(self.original_amount, currency, "original amount")
        if self.original_currency is not None:
            body["originalCurrency"] = money.parse_currency(self.original_currency, field="original currency")
        self._messages(body)
        optional = {
            "payerIdentificationType": self.payer_identification_type,
            "payerIdentificationNumber": self.payer_identification_number,
            "payerIdentity": self.payer_identity,
            "payerFirstName": self.payer_first_name,
            "payerSurName": self.payer_surname,
            "payerLanguageCode": self.payer_language_code,
            "payerEmail": self.payer_email,
            "payerMsisdn": self.payer_msisdn,
            "payerGender": self.payer_gender,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


CashTransfer = CashTransferRequest


# --------------------------------------------------------------------------------------------- results


class TransactionStatus(_ApiModel):
    """The status of any money-moving request (RequestToPayResult, TransferResult, refund, deposit ...).

    Also reads callback bodies, which have the same shape. `party` is the payer or the payee, whichever
    the body has (`from_api(..., party_field=...)` picks one when both are there).
    """

    status: str = "UNKNOWN"
    reason: str | None = None
    reason_message: str | None = None
    amount: ApiDecimal = None
    currency: ApiText = None
    external_id: ApiText = Field(default=None, alias="externalId")
    party: Party | None = None
    financial_transaction_id: ApiText = Field(default=None, alias="financialTransactionId")
    payer_message: ApiText = Field(default=None, alias="payerMessage")
    payee_note: ApiText = Field(default=None, alias="payeeNote")
    reference_id: ApiText = Field(default=None, alias="referenceId")
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _variants(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values = dict(data)
        values.setdefault("raw", dict(data))
        status = _to_text(values.get("status"))
        values["status"] = status.upper() if status else "UNKNOWN"
        reason = values.get("reason")
        if reason in (None, "", {}) and values.get("errorReason") not in (None, "", {}):
            reason = values.get("errorReason")
        code: str | None = None
        message: str | None = values.get("reason_message") if isinstance(values.get("reason_message"), str) else None
        if isinstance(reason, dict):
            code = _to_text(reason.get("code"))
            message = _to_text(reason.get("message")) or message
        elif reason is not None:
            code = _to_text(reason)
        values["reason"] = code.upper() if code else None
        values["reason_message"] = message
        if "party" not in values or not isinstance(values.get("party"), (dict, Party)):
            party = _party(values.get("payer")) or _party(values.get("payee"))
            values["party"] = party
        if "currency" in values:
            currency = _to_text(values["currency"])
            values["currency"] = currency.upper() if currency else None
        return values

    @classmethod
    def from_api(cls, data: dict[str, Any], *, party_field: str | None = None) -> "TransactionStatus":
        if not isinstance(data, dict):
            raise ValueError("a transaction status must be a JSON object")
        values = dict(data)
        if party_field and isinstance(data.get(party_field), dict):
            values["party"] = data[party_field]
        values["raw"] = dict(data)
        return cls.model_validate(values)

    @property
    def is_final(self) -> bool:
        return is_final(self.status)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESSFUL"

    @property
    def amount_text(self) -> str | None:
        """The amount as the decimal string our JSON output uses."""
        return decimal_text(self.amount)

    def explain(self) -> str:
        """Plain words for the reason (empty when there is none)."""
        from momo_cli.api.errors import explain_reason

        return explain_reason(self.reason)

    def to_json(self) -> dict[str, Any]:
        """The API-derived keys of a transaction in our JSON output (snake_case, amount a string)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "reason_message": self.reason_message,
            "amount": self.amount_text,
            "currency": self.currency,
            "external_id": self.external_id,
            "party": self.party.to_json() if self.party else None,
            "financial_transaction_id": self.financial_transaction_id,
            "payer_message": self.payer_message,
            "payee_note": self.payee_note,
        }


#: Names from the API's schema.
RequestToPayResult = TransactionStatus
TransferResult = TransactionStatus


class CashTransferStatus(TransactionStatus):
    """CashTransferResult: the result spells `originatingCountry` correctly (the request does not)."""

    originating_country: ApiText = Field(default=None, alias="originatingCountry")
    original_amount: ApiDecimal = Field(default=None, alias="originalAmount")
    original_currency: ApiText = Field(default=None, alias="originalCurrency")
    payer_identification_type: ApiText = Field(default=None, alias="payerIdentificationType")
    payer_identification_number: ApiText = Field(default=None, alias="payerIdentificationNumber")
    payer_identity: ApiText = Field(default=None, alias="payerIdentity")
    payer_first_name: ApiText = Field(default=None, alias="payerFirstName")
    payer_surname: ApiText = Field(default=None, alias="payerSurname")
    payer_language_code: ApiText = Field(default=None, alias="payerLanguageCode")
    payer_email: ApiText = Field(default=None, alias="payerEmail")
    payer_msisdn: ApiText = Field(default=None, alias="payerMsisdn")
    payer_gender: ApiText = Field(default=None, alias="payerGender")

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            values = dict(data)
            if "originatingCountry" not in values and "orginatingCountry" in values:
                values["originatingCountry"] = values["orginatingCountry"]
            if "payerSurname" not in values and "payerSurName" in values:
                values["payerSurname"] = values["payerSurName"]
            return values
        return data


class _KeepsRaw(_ApiModel):
    """An answer that also keeps its body as it came, in `raw` (fields the model does not name too)."""

    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        if isinstance(data, dict) and "raw" not in data:
            return {**data, "raw": dict(data)}
        return data


class Balance(_KeepsRaw):
    """`{"availableBalance": "1000", "currency": "EUR"}` (the balance may be a number, zero or negative)."""

    available_balance: ApiDecimal = Field(default=None, alias="availableBalance")
    currency: ApiText = None

    @property
    def available_text(self) -> str | None:
        return decimal_text(self.available_balance)

    def to_json(self) -> dict[str, Any]:
        return {"available_balance": self.available_text, "currency": self.currency}


class AccountHolderActive(_ApiModel):
    """`{"result": true|false}` (also "true"/"false"/1/0)."""

    result: bool = False

    @field_validator("result", mode="before")
    @classmethod
    def _lenient(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value) if value is not None else False

    def __bool__(self) -> bool:
        return self.result


class BasicUserInfo(_KeepsRaw):
    """What the API tells about an account holder (the sandbox always answers "Sand Box")."""

    sub: ApiText = None
    name: ApiText = None
    given_name: ApiText = None
    family_name: ApiText = None
    birthdate: ApiText = None
    locale: ApiText = None
    gender: ApiText = None
    status: ApiText = None
    updated_at: ApiText = None

    def to_json(self) -> dict[str, Any]:
        keys = ("sub", "name", "given_name", "family_name", "birthdate", "locale", "gender", "status", "updated_at")
        return {key: getattr(self, key) for key in keys}


class Token(_ApiModel):
    """`POST /{product}/token/` answer. The token is a secret: kept out of repr."""

    access_token: str = Field(repr=False)
    token_type: str | None = None
    expires_in: int = 3600

    @field_validator("expires_in", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> int:
        if value is None or isinstance(value, bool):
            return 3600
        try:
            seconds = int(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return 3600
        return seconds if seconds > 0 else 3600

    @field_validator("access_token", mode="before")
    @classmethod
    def _present(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("the token answer has no access_token")
        return value.strip()


class ApiUser(_ApiModel):
    """GET /v1_0/apiuser/{id}: `{"providerCallbackHost", "targetEnvironment"}`."""

    provider_callback_host: ApiText = Field(default=None, alias="providerCallbackHost")
    target_environment: ApiText = Field(default=None, alias="targetEnvironment")

    def to_api(self) -> dict[str, Any]:
        return {"providerCallbackHost": self.provider_callback_host}


class ApiKey(_ApiModel):
    """POST /v1_0/apiuser/{id}/apikey: `{"apiKey": "..."}`. A secret: kept out of repr."""

    api_key: str = Field(alias="apiKey", repr=False)

    @field_validator("api_key", mode="before")
    @classmethod
    def _present(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("the answer has no apiKey")
        return value.strip()
