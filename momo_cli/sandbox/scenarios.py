"""The sandbox's test numbers as data (momo-api.md sections 8 and 13).

A scenario says how a transaction ends: its final status and reason, and how long it stays PENDING
("settle" uses the configured settle delay, "ongoing" and "delayed" their own long delays). Account
holder checks map an id to an answer: a boolean result or an HTTP error with a MoMo code.
"""

from __future__ import annotations

from dataclasses import dataclass

SETTLE = "settle"  # PENDING for settle_after, then the final status
ONGOING = "ongoing"  # PENDING for ongoing_timeout, then FAILED / EXPIRED
DELAYED = "delayed"  # PENDING for delayed_after, then SUCCESSFUL


@dataclass(frozen=True)
class Scenario:
    status: str  # final status: SUCCESSFUL or FAILED
    reason: str | None = None  # plain-string reason of a FAILED transaction
    timing: str = SETTLE


SUCCESS = Scenario("SUCCESSFUL")
ONGOING_SCENARIO = Scenario("FAILED", "EXPIRED", ONGOING)
DELAYED_SCENARIO = Scenario("SUCCESSFUL", None, DELAYED)


def _failed(reason: str) -> Scenario:
    return Scenario("FAILED", reason)


_PREFIX = "467331234"

#: Request-to-pay and request-to-withdraw, by the payer's MSISDN.
PAYER_SCENARIOS: dict[str, Scenario] = {
    _PREFIX + "50": _failed("INTERNAL_PROCESSING_ERROR"),
    _PREFIX + "51": _failed("APPROVAL_REJECTED"),
    _PREFIX + "52": _failed("EXPIRED"),
    _PREFIX + "53": ONGOING_SCENARIO,
    _PREFIX + "54": DELAYED_SCENARIO,
    _PREFIX + "55": _failed("PAYER_NOT_FOUND"),
    _PREFIX + "56": _failed("PAYEE_NOT_ALLOWED_TO_RECEIVE"),
    _PREFIX + "57": _failed("NOT_ALLOWED"),
    _PREFIX + "58": _failed("NOT_ALLOWED_TARGET_ENVIRONMENT"),
    _PREFIX + "59": _failed("INVALID_CALLBACK_URL_HOST"),
    _PREFIX + "60": _failed("INVALID_CURRENCY"),
    _PREFIX + "61": _failed("INTERNAL_PROCESSING_ERROR"),
    _PREFIX + "62": _failed("SERVICE_UNAVAILABLE"),
    _PREFIX + "63": _failed("COULD_NOT_PERFORM_TRANSACTION"),
    "56733123453": SUCCESS,
}

#: Transfer (disbursement and remittance), deposit and cash transfer, by the payee's MSISDN.
PAYEE_SCENARIOS: dict[str, Scenario] = {
    _PREFIX + "50": _failed("INTERNAL_PROCESSING_ERROR"),
    _PREFIX + "51": _failed("APPROVAL_REJECTED"),
    _PREFIX + "52": _failed("EXPIRED"),
    _PREFIX + "53": ONGOING_SCENARIO,
    _PREFIX + "54": DELAYED_SCENARIO,
    _PREFIX + "55": _failed("NOT_ENOUGH_FUNDS"),
    _PREFIX + "56": _failed("PAYER_LIMIT_REACHED"),
    _PREFIX + "57": _failed("PAYEE_NOT_FOUND"),
    _PREFIX + "58": _failed("NOT_ALLOWED"),
    _PREFIX + "59": _failed("NOT_ALLOWED_TARGET_ENVIRONMENT"),
    _PREFIX + "60": _failed("INVALID_CALLBACK_URL_HOST"),
    _PREFIX + "61": _failed("INVALID_CURRENCY"),
    _PREFIX + "62": _failed("INTERNAL_PROCESSING_ERROR"),
    _PREFIX + "63": _failed("SERVICE_UNAVAILABLE"),
}

#: Refund, by `referenceIdToRefund` (the published refund test ids "1" to "13").
REFUND_ID_SCENARIOS: dict[str, Scenario] = {
    "1": _failed("RESOURCE_NOT_FOUND"),
    "2": _failed("INTERNAL_PROCESSING_ERROR"),
    "3": _failed("APPROVAL_REJECTED"),
    "4": _failed("EXPIRED"),
    "5": ONGOING_SCENARIO,
    "6": DELAYED_SCENARIO,
    "7": _failed("NOT_ALLOWED"),
    "8": _failed("NOT_ALLOWED_TARGET_ENVIRONMENT"),
    "9": _failed("INVALID_CALLBACK_URL_HOST"),
    "10": _failed("INVALID_CURRENCY"),
    "11": _failed("INTERNAL_PROCESSING_ERROR"),
    "12": _failed("SERVICE_UNAVAILABLE"),
    "13": _failed("COULD_NOT_PERFORM_TRANSACTION"),
}

#: Which table decides each operation (product, name) -> table keyed by the party id.
OPERATION_TABLES: dict[tuple[str, str], dict[str, Scenario]] = {
    ("collection", "request_to_pay"): PAYER_SCENARIOS,
    ("collection", "request_to_withdraw"): PAYER_SCENARIOS,
    ("disbursement", "transfer"): PAYEE_SCENARIOS,
    ("disbursement", "deposit"): PAYEE_SCENARIOS,
    ("remittance", "transfer"): PAYEE_SCENARIOS,
    ("remittance", "cash_transfer"): PAYEE_SCENARIOS,
}


def scenario_for(product: str, operation: str, party_type: str | None, party_id: str | None) -> Scenario:
    """The scenario of a new transaction; test numbers apply to MSISDN parties only."""
    table = OPERATION_TABLES.get((product, operation))
    if table is None or (party_type or "").upper() != "MSISDN":
        return SUCCESS
    return table.get(party_id or "", SUCCESS)


# -- account holder checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class HolderAnswer:
    """`active` is the boolean result; `error` (status, code) replaces it with an error answer."""

    active: bool = True
    error: tuple[int, str] | None = None
    found: bool = True


NOT_FOUND = HolderAnswer(active=False, found=False)
NOT_ACTIVE = HolderAnswer(active=False)
_NOT_ALLOWED = HolderAnswer(error=(500, "NOT_ALLOWED"))
_NOT_ALLOWED_ENV = HolderAnswer(error=(500, "NOT_ALLOWED_TARGET_ENVIRONMENT"))
_INTERNAL = HolderAnswer(error=(500, "INTERNAL_PROCESSING_ERROR"))
_UNAVAILABLE = HolderAnswer(error=(503, "SERVICE_UNAVAILABLE"))

#: (PARTY TYPE, id) -> answer; ids are compared lower-cased for EMAIL and PARTY_CODE.
ACCOUNT_HOLDER_SCENARIOS: dict[tuple[str, str], HolderAnswer] = {
    ("MSISDN", _PREFIX + "50"): NOT_FOUND,
    ("MSISDN", _PREFIX + "51"): NOT_ACTIVE,
    ("MSISDN", _PREFIX + "52"): _NOT_ALLOWED,
    ("MSISDN", _PREFIX + "53"): _NOT_ALLOWED_ENV,
    ("MSISDN", _PREFIX + "54"): _INTERNAL,
    ("MSISDN", _PREFIX + "55"): _UNAVAILABLE,
    ("EMAIL", "notfound@email.com"): NOT_FOUND,
    ("EMAIL", "notactive@email.com"): NOT_ACTIVE,
    ("EMAIL", "notallowed@email.com"): _NOT_ALLOWED,
    ("EMAIL", "notallowedtargetenvironment@email.com"): _NOT_ALLOWED_ENV,
    ("EMAIL", "internalprocessingerror@email.com"): _INTERNAL,
    ("EMAIL", "serviceunavailable@email.com"): _UNAVAILABLE,
    ("PARTY_CODE", "5cecb5a7-8bd0-4f49-87b1-8eb9ecc7b7bc"): NOT_FOUND,
    ("PARTY_CODE", "b0040b3c-b426-4a90-af6e-673e65861cd7"): NOT_ACTIVE,
    ("PARTY_CODE", "4d5f500f-c385-4901-9be5-25b6d36ad220"): _NOT_ALLOWED,
    ("PARTY_CODE", "d2265f9b-0c22-496d-908f-79a65ad66266"): _NOT_ALLOWED_ENV,
    ("PARTY_CODE", "8f548a78-ceb8-4d12-a243-5640b91e91a4"): _INTERNAL,
    ("PARTY_CODE", "585c07a4-2c80-42f7-9e73-e586b36dee68"): _UNAVAILABLE,
}

ACTIVE = HolderAnswer()


def account_holder_answer(party_type: str, party_id: str) -> HolderAnswer:
    key_id = party_id if party_type == "MSISDN" else party_id.lower()
    return ACCOUNT_HOLDER_SCENARIOS.get((party_type, key_id), ACTIVE)


#: What the sandbox answers to basicuserinfo for every known account holder.
BASIC_USER_INFO = {
    "sub": "0",
    "name": "Sand Box",
    "given_name": "Sand",
    "family_name": "Box",
    "birthdate": "1976-08-13",
    "locale": "sv_SE",
    "gender": "MALE",
    "updated_at": 1676978048,
}
