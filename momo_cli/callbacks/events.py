"""What a received callback is: its raw request, its parsed body, its fingerprint and what it says.

Standard library only, so the store, the listener and the in-process `listening()` share it cheaply.

A callback body is the status body of a transaction without its reference id (momo-api.md section 10).
Numbers in a JSON body are parsed as Decimal so amounts stay exact; `dumps_json` writes them back as
JSON numbers with the same digits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

#: Fields only a remittance cash transfer carries (the request spells one of them `orginatingCountry`).
CASH_TRANSFER_FIELDS = frozenset(
    {
        "originatingCountry", "orginatingCountry", "originalAmount", "originalCurrency",
        "payerIdentificationType", "payerIdentificationNumber", "payerIdentity", "payerFirstName",
        "payerSurName", "payerSurname", "payerLanguageCode", "payerEmail", "payerMsisdn", "payerGender",
    }
)
INVOICE_FIELDS = frozenset({"invoiceId", "paymentReference", "intendedPayer", "expiryDateTime"})
PREAPPROVAL_FIELDS = frozenset({"payerCurrency", "expirationDateTime"})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """`2026-01-02T03:04:05.678Z`: UTC, milliseconds."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- JSON with exact numbers ----------------------------------------------------------------------
class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON")


def parse_body(raw: bytes) -> tuple[Any, bool]:
    """(value, is_json): the JSON value with Decimal numbers, or the text when it is not JSON.

    An empty body is the empty string (not JSON). Bytes that are not UTF-8 are decoded with
    replacement characters; the raw bytes are kept elsewhere for replay.
    """
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return text, False
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant), True
    except ValueError:
        return text, False


def dumps_json(value: Any, *, sort_keys: bool = False, canonical: bool = False) -> str:
    """Compact JSON in which Decimal values are written as numbers with their own digits.

    `canonical` sorts keys and writes every number in its shortest exact form (100.0 -> 100), so two
    bodies that differ only in key order, spacing or trailing zeros have the same text.
    """
    parts: list[str] = []
    _encode(value, parts, sort_keys or canonical, canonical)
    return "".join(parts)


def _number(value: Decimal, canonical: bool) -> str:
    if not value.is_finite():
        return json.dumps(str(value))
    if canonical:
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


def _encode(value: Any, out: list[str], sort_keys: bool, canonical: bool) -> None:
    if value is None or value is True or value is False:
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(_number(value, canonical))
    elif isinstance(value, int):
        out.append(_number(Decimal(value), canonical) if canonical else str(value))
    elif isinstance(value, float):
        out.append(_number(Decimal(repr(value)), canonical) if canonical else json.dumps(value))
    elif isinstance(value, Mapping):
        items = sorted(value.items()) if sort_keys else value.items()
        out.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(item, out, sort_keys, canonical)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, sort_keys, canonical)
        out.append("]")
    elif isinstance(value, datetime):
        out.append(json.dumps(iso_utc(value)))
    else:
        out.append(json.dumps(str(value), ensure_ascii=False))


def fingerprint(raw: bytes) -> str:
    """sha256 (hex) of the canonical body: of its canonical JSON when it parses, else of the bytes.

    A redelivered callback has the same fingerprint even if the sender re-serialised it.
    """
    value, is_json = parse_body(raw)
    data = dumps_json(value, canonical=True).encode("utf-8") if is_json else raw
    return hashlib.sha256(data).hexdigest()


# -- what the body says ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Guess:
    """The transaction a callback body most likely belongs to, and the facts it carries."""

    product: str | None = None
    operation: str | None = None
    #: every "product/operation" the body could belong to, most likely first
    candidates: tuple[str, ...] = ()
    status: str | None = None
    reason: Any = None
    amount: str | None = None
    currency: str | None = None
    external_id: str | None = None
    financial_transaction_id: str | None = None
    reference_id: str | None = None
    party: dict[str, str] | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, (dict, list)):
        return None
    return str(value)


def _party(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return {"type": _text(value.get("partyIdType")) or "", "id": _text(value.get("partyId")) or ""}


def _reason(body: Mapping[str, Any]) -> Any:
    reason = body.get("reason", body.get("errorReason"))
    if isinstance(reason, Mapping):
        return {"code": _text(reason.get("code")), "message": _text(reason.get("message"))}
    if reason in ("", None):
        return None
    return _text(reason)


def reason_code(reason: Any) -> str | None:
    """The short form of a reason for one-line views: the string, or the object's code."""
    if isinstance(reason, Mapping):
        return reason.get("code") or reason.get("message")
    return reason


def guess(body: Any, method: str = "POST") -> Guess:
    """Read a callback body: which product and operation it is likely from, and its facts.

    The rules follow momo-api.md sections 3 to 6 and 10. A `payer` means money comes in (collection:
    request-to-pay, or request-to-withdraw which alone has a v2 and so a PUT callback); a `payee`
    means money goes out (disbursement transfer, deposit, refund, remittance transfer); cash-transfer
    fields mean remittance cash transfer; `referenceId` with a status and no party is a v2 payment.
    """
    if not isinstance(body, Mapping):
        return Guess()
    put = method.upper() == "PUT"
    keys = set(body)
    money = body.get("money") if isinstance(body.get("money"), Mapping) else {}
    facts: dict[str, Any] = {
        "status": _text(body.get("status")),
        "reason": _reason(body),
        "amount": _text(body.get("amount", money.get("amount"))),
        "currency": _text(body.get("currency", money.get("currency"))),
        "external_id": _text(body.get("externalId", body.get("externalTransactionId"))),
        "financial_transaction_id": _text(body.get("financialTransactionId")),
        "reference_id": _text(body.get("referenceId")),
    }
    if keys & CASH_TRANSFER_FIELDS:
        return Guess("remittance", "cash_transfer", ("remittance/cash_transfer",),
                     party=_party(body.get("payee")), **facts)
    if keys & INVOICE_FIELDS:
        return Guess("collection", "invoice", ("collection/invoice",),
                     party=_party(body.get("intendedPayer")), **facts)
    if "payer" in keys:
        if keys & PREAPPROVAL_FIELDS:
            return Guess("collection", "preapproval", ("collection/preapproval",),
                         party=_party(body.get("payer")), **facts)
        candidates = (
            ("collection/request_to_withdraw",)
            if put
            else ("collection/request_to_pay", "collection/request_to_withdraw")
        )
        product, operation = candidates[0].split("/")
        return Guess(product, operation, candidates, party=_party(body.get("payer")), **facts)
    if "payee" in keys:
        candidates = (
            ("disbursement/deposit", "disbursement/refund")
            if put
            else ("disbursement/transfer", "disbursement/deposit", "disbursement/refund",
                  "remittance/transfer")
        )
        product, operation = candidates[0].split("/")
        return Guess(product, operation, candidates, party=_party(body.get("payee")), **facts)
    if "referenceId" in keys and "status" in keys:
        return Guess("collection", "payment", ("collection/payment",), **facts)
    return Guess(**facts)


# -- the event --------------------------------------------------------------------------------------
@dataclass
class RawCallback:
    """A request as the listener received it, before it is numbered and stored."""

    method: str
    path: str
    query: str = ""
    #: every header as received, in order: (name, value), names lower-case
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    received_at: datetime = field(default_factory=utc_now)
    client: str | None = None


def header_dict(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Headers as one object: lower-case names; a repeated header's values joined with ', '."""
    result: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


@dataclass
class CallbackEvent:
    """A received callback, numbered and stored: what `listen --json` prints, one per line."""

    seq: int
    raw: RawCallback
    fingerprint: str
    #: sequence number of the first callback with the same body in this data dir, if any
    duplicate_of: int | None = None
    #: the forwarding outcome: None, or {url, status, error, body_excerpt, elapsed_ms}
    forward: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.body, self.is_json = parse_body(self.raw.body)
        self.info = guess(self.body, self.raw.method)

    @property
    def duplicate(self) -> bool:
        return self.duplicate_of is not None

    # the facts, by name
    method = property(lambda self: self.raw.method)
    path = property(lambda self: self.raw.path)
    received_at = property(lambda self: self.raw.received_at)
    status = property(lambda self: self.info.status)
    reason = property(lambda self: self.info.reason)
    amount = property(lambda self: self.info.amount)
    currency = property(lambda self: self.info.currency)
    external_id = property(lambda self: self.info.external_id)
    product = property(lambda self: self.info.product)
    operation = property(lambda self: self.info.operation)

    @property
    def headers(self) -> dict[str, str]:
        return header_dict(self.raw.headers)

    def to_dict(self) -> dict[str, Any]:
        """The NDJSON object (docs/callbacks.md lists the keys; keys are added, never renamed)."""
        g = self.info
        return {
            "seq": self.seq,
            "received_at": iso_utc(self.raw.received_at),
            "method": self.raw.method,
            "path": self.raw.path,
            "query": self.raw.query,
            "headers": self.headers,
            "body": self.body,
            "duplicate": self.duplicate,
            "duplicate_of": self.duplicate_of,
            "fingerprint": self.fingerprint,
            "product": g.product,
            "operation": g.operation,
            "candidates": list(g.candidates),
            "status": g.status,
            "reason": g.reason,
            "amount": g.amount,
            "currency": g.currency,
            "external_id": g.external_id,
            "financial_transaction_id": g.financial_transaction_id,
            "reference_id": g.reference_id,
            "party": g.party,
            "forward": self.forward,
        }

    def to_json(self) -> str:
        return dumps_json(self.to_dict())
