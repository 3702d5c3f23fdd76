"""Money rules shared by the client and the emulator: exact amounts, currencies, MSISDNs, messages.

Nothing here imports more than the standard library, so validation costs nothing at start-up.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from momo_cli.errors import InvalidInput

#: ISO 4217 minor units of the currencies MoMo markets use (and a few common ones).
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2,
    "GHS": 2, "ZMW": 2, "ZAR": 2, "SZL": 2, "LRD": 2, "SSP": 2, "NGN": 2,
    "UGX": 0, "XAF": 0, "XOF": 0, "RWF": 0, "GNF": 0,
}

#: The currency of each published X-Target-Environment (momo-api.md section 9).
ENVIRONMENT_CURRENCY: dict[str, str] = {
    "sandbox": "EUR",
    "mtnuganda": "UGX",
    "mtnghana": "GHS",
    "mtnivorycoast": "XOF",
    "mtnzambia": "ZMW",
    "mtncameroon": "XAF",
    "mtnbenin": "XOF",
    "mtncongo": "XAF",
    "mtnswaziland": "SZL",
    "mtnguineaconakry": "GNF",
    "mtnsouthafrica": "ZAR",
    "mtnliberia": "LRD",
    "mtnsouthsudan": "SSP",
    "mtnnigeria": "NGN",
    "mtnrwanda": "RWF",
}

#: The largest amount we accept, in major units: far above any wallet limit, far below float trouble.
MAX_AMOUNT = Decimal("999999999999")

MESSAGE_MAX_LENGTH = 160
#: Characters the API is known to reject in payerMessage/payeeNote (an apostrophe gives 400, the
#: typographic ones too; `&`, `<`, `>` and quotes are accepted by some gateways and then the
#: transaction silently vanishes).
MESSAGE_FORBIDDEN = frozenset("'\"&<>\\\u2018\u2019\u201c\u201d")

# ASCII digits only: `\d` would also take other scripts' digits (Arabic-Indic, full-width ...), which
# Decimal reads but the API does not.
_AMOUNT_RE = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$")
_MSISDN_RE = re.compile(r"^[0-9]{8,15}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UUID_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE
)
_UUID4_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE
)


def minor_units(currency: str) -> int:
    """Minor units of `currency`; unknown but well-formed ISO codes get 2."""
    return CURRENCY_MINOR_UNITS.get(currency, 2)


def parse_currency(text: str, *, field: str = "currency") -> str:
    code = (text or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidInput(field, f"{text!r} is not a three-letter ISO 4217 currency code")
    return code


def parse_amount(text: object, currency: str, *, field: str = "amount") -> Decimal:
    """An exact, positive amount with no more decimals than `currency` allows.

    Accepts a decimal string (or an int); never a float, an exponent, a sign or a thousands separator.
    """
    if isinstance(text, bool) or isinstance(text, float):
        raise InvalidInput(field, "must be a decimal string, not a floating-point number")
    raw = str(text).strip() if text is not None else ""
    match = _AMOUNT_RE.match(raw)
    if not match:
        raise InvalidInput(
            field, f"{raw!r} is not a plain decimal amount (digits, an optional '.', no sign or exponent)"
        )
    frac = match.group("frac") or ""
    allowed = minor_units(currency)
    if len(frac.rstrip("0")) > allowed:
        unit = "no decimals" if allowed == 0 else f"at most {allowed} decimals"
        raise InvalidInput(field, f"{raw} has too many decimals: {currency} allows {unit}")
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a valid literal
        raise InvalidInput(field, f"{raw!r} is not a number") from None
    if value <= 0:
        raise InvalidInput(field, "must be greater than zero")
    if value > MAX_AMOUNT:
        raise InvalidInput(field, f"{raw} is larger than the largest amount accepted ({MAX_AMOUNT})")
    return value


def format_amount(value: Decimal, currency: str) -> str:
    """The canonical string of an amount: no exponent, trailing zeros of the minor units dropped.

    MoMo echoes amounts as short strings ("100", "12.5"), so we do too.
    """
    text = format(value.quantize(Decimal(1).scaleb(-minor_units(currency))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def check_currency_for_environment(currency: str, environment: str, *, field: str = "currency") -> None:
    expected = ENVIRONMENT_CURRENCY.get(environment)
    if expected and currency != expected:
        where = "the sandbox (and the local emulator)" if environment == "sandbox" else environment
        raise InvalidInput(field, f"{currency} is not accepted in {where}: use {expected}")


def check_currency(text: str, environment: str, *, field: str = "currency") -> str:
    """A currency code that MoMo markets use and that `environment` accepts (the sandbox: EUR only)."""
    currency = parse_currency(text, field=field)
    if currency not in CURRENCY_MINOR_UNITS:
        raise InvalidInput(field, f"{currency} is not a currency MoMo markets use")
    check_currency_for_environment(currency, environment, field=field)
    return currency


def normalize_msisdn(text: str, *, field: str = "msisdn") -> str:
    """E.164 digits without '+': spaces, dashes and a leading '+' or '00' are tidied away."""
    raw = (text or "").strip()
    digits = re.sub(r"[\s\-().]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not _MSISDN_RE.match(digits):
        raise InvalidInput(
            field, f"{raw!r} is not an MSISDN (8 to 15 digits with the country code, e.g. 46733123450)"
        )
    return digits


PARTY_ID_TYPES = ("MSISDN", "EMAIL", "PARTY_CODE")


def normalize_party(id_type: str, party_id: str, *, field: str = "party") -> tuple[str, str]:
    """A (partyIdType, partyId) pair in the API's spelling, validated for its type."""
    kind = (id_type or "").strip().upper()
    if kind not in PARTY_ID_TYPES:
        raise InvalidInput(f"{field} type", f"{id_type!r} is not one of msisdn, email, party_code")
    if kind == "MSISDN":
        return kind, normalize_msisdn(party_id, field=field)
    value = (party_id or "").strip()
    if kind == "EMAIL":
        if not _EMAIL_RE.match(value) or len(value) > 254:
            raise InvalidInput(field, f"{party_id!r} is not an e-mail address")
        return kind, value
    if not _UUID_RE.match(value):
        raise InvalidInput(field, f"{party_id!r} is not a party code (a UUID)")
    return kind, value.lower()


def check_message(text: str | None, *, field: str) -> str | None:
    """payerMessage / payeeNote: at most 160 characters, none the API rejects. None stays None."""
    if text is None:
        return None
    if len(text) > MESSAGE_MAX_LENGTH:
        raise InvalidInput(field, f"is {len(text)} characters long; at most {MESSAGE_MAX_LENGTH} are allowed")
    bad = sorted({ch for ch in text if ch in MESSAGE_FORBIDDEN or not ch.isprintable()})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise InvalidInput(field, f"contains characters the MoMo API rejects: {shown}")
    return text


def is_uuid4(text: str) -> bool:
    return bool(_UUID4_RE.match(text or ""))


def is_uuid(text: str) -> bool:
    return bool(_UUID_RE.match(text or ""))


def check_reference_id(text: str, *, field: str = "reference id") -> str:
    value = (text or "").strip().lower()
    if not is_uuid4(value):
        raise InvalidInput(field, f"{text!r} is not a UUID version 4")
    return value


def check_external_id(text: str | None, *, field: str = "external id") -> str | None:
    if text is None:
        return None
    value = text.strip()
    if not value or len(value) > 64 or not value.isprintable() or any(ch in MESSAGE_FORBIDDEN for ch in value):
        raise InvalidInput(field, f"{text!r} must be 1 to 64 printable characters without quotes, & < > or \\")
    return value
