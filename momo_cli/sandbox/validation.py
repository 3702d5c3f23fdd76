"""Checks of what a client sends: headers, JSON bodies, parties, amounts, messages.

Every failure is a `Problem` with the provider's error shape. Numbers in JSON are read as exact
Decimals (never floats); amounts may come as strings or numbers, as clients in the wild send both.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from momo_cli import money
from momo_cli.errors import InvalidInput
from momo_cli.sandbox.responses import Problem, bad_request

PARTY_TYPES = ("MSISDN", "EMAIL", "PARTY_CODE")
_MSISDN_RE = re.compile(r"^[0-9]{5,15}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body; empty means None. Floats become Decimal; NaN/Infinity are refused."""
    if not raw or not raw.strip():
        return None
    try:
        text = raw.decode("utf-8-sig")
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("The request body is not valid JSON.") from None


def json_object(raw: bytes) -> dict[str, Any]:
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise bad_request("The request body must be a JSON object.")
    return value


def reference_id(value: str | None, *, name: str = "X-Reference-Id") -> str:
    """A UUID version 4, lower-cased."""
    text = (value or "").strip()
    if not text:
        raise bad_request(f"{name} is missing.")
    if not money.is_uuid4(text):
        raise bad_request(f"{name} must be a UUID version 4.")
    return text.lower()


def optional_string(body: dict[str, Any], key: str, *, max_length: int = 255) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string.")
    if len(value) > max_length:
        raise bad_request(f"{key} is longer than {max_length} characters.")
    return value


def required_string(body: dict[str, Any], key: str, *, max_length: int = 255) -> str:
    value = optional_string(body, key, max_length=max_length)
    if value is None or not value.strip():
        raise bad_request(f"{key} is required.")
    return value


def message(body: dict[str, Any], key: str) -> str | None:
    """payerMessage / payeeNote: a string of at most 160 characters, none of those the API rejects."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string.")
    return check_message_text(value, key)


def check_message_text(value: str, key: str) -> str:
    if len(value) > money.MESSAGE_MAX_LENGTH:
        raise bad_request(f"{key} is longer than {money.MESSAGE_MAX_LENGTH} characters.")
    if any(ch in money.MESSAGE_FORBIDDEN or not ch.isprintable() for ch in value):
        raise bad_request(f"{key} contains characters that are not allowed.")
    return value


def amount_value(body: dict[str, Any], key: str = "amount") -> Any:
    """The raw amount (string or number); its value is checked by `check_amount` after the currency."""
    value = body.get(key)
    if value is None:
        raise bad_request(f"{key} is required.")
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise bad_request(f"{key} must be a string or a number.")
    return value


#: A JSON number this many orders of magnitude away from 1 is refused as it is: `1e999999999` is a
#: few bytes of a body but a billion digits written out (memory, the error message, the database).
MAX_MAGNITUDE = 64


def decimal_text(value: Decimal, key: str) -> str:
    """A JSON number (read as a Decimal) written out in plain digits, or a 400 if it is absurdly large or small."""
    if not value.is_finite() or abs(value.adjusted()) > MAX_MAGNITUDE:
        raise bad_request(f"{key} is out of range.")
    return format(value, "f")


def check_amount(value: Any, currency: str, key: str = "amount") -> tuple[Decimal, str]:
    """(exact amount, canonical string) or a 400."""
    text = decimal_text(value, key) if isinstance(value, Decimal) else str(value).strip()
    try:
        amount = money.parse_amount(text, currency, field=key)
    except InvalidInput as exc:
        raise bad_request(f"{key} is not a valid amount: {exc.rule}.") from None
    return amount, money.format_amount(amount, currency)


def currency_value(body: dict[str, Any], key: str = "currency") -> str:
    value = body.get(key)
    if value is None:
        raise bad_request(f"{key} is required.")
    if not isinstance(value, str) or not _CURRENCY_RE.match(value.strip()):
        raise bad_request(f"{key} must be an ISO 4217 currency code.")
    return value.strip().upper()


def check_currency(currency: str, expected: str) -> None:
    if currency != expected:
        raise Problem(500, "INVALID_CURRENCY")


def party_id_type(value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in PARTY_TYPES:
        raise bad_request("partyIdType must be one of MSISDN, EMAIL, PARTY_CODE.")
    return value.strip().upper()


def check_party_id(kind: str, value: Any, *, key: str = "partyId") -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{key} is required and must be a string.")
    text = value.strip()
    if kind == "MSISDN" and not _MSISDN_RE.match(text):
        raise bad_request(f"{key} is not a valid MSISDN (digits with the country code, no '+').")
    if kind == "EMAIL" and (not _EMAIL_RE.match(text) or len(text) > 254):
        raise bad_request(f"{key} is not a valid e-mail address.")
    if kind == "PARTY_CODE" and not money.is_uuid(text):
        raise bad_request(f"{key} is not a valid party code (a UUID).")
    return text


def party(body: dict[str, Any], key: str) -> dict[str, str]:
    value = body.get(key)
    if value is None:
        raise bad_request(f"{key} is required.")
    if not isinstance(value, dict):
        raise bad_request(f"{key} must be an object with partyIdType and partyId.")
    kind = party_id_type(value.get("partyIdType"))
    return {"partyIdType": kind, "partyId": check_party_id(kind, value.get("partyId"), key=f"{key}.partyId")}


def account_holder_type(value: str) -> str:
    """The path's accountHolderIdType in any case: msisdn, email or party_code."""
    kind = (value or "").strip().upper()
    if kind not in PARTY_TYPES:
        raise bad_request("accountHolderIdType must be one of msisdn, email, party_code.")
    return kind


def callback_url(value: str | None, provider_host: str) -> str | None:
    """The X-Callback-Url, if any; its host must be the API user's providerCallbackHost."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        host = ""
        parts = None
    if not host or parts is None or parts.scheme not in ("http", "https"):
        raise Problem(500, "INVALID_CALLBACK_URL_HOST")
    if host != callback_host_of(provider_host):
        raise Problem(500, "INVALID_CALLBACK_URL_HOST")
    return url


def callback_host_of(provider_host: str) -> str:
    """The host of a providerCallbackHost, which clients give as a bare host or as a URL."""
    text = (provider_host or "").strip().lower()
    if "://" in text:
        try:
            return (urlsplit(text).hostname or "").lower()
        except ValueError:
            return text
    return text.split("/", 1)[0].rsplit(":", 1)[0] if text.count(":") <= 1 else text
