"""Fuzzing the input validators of momo_cli.money: what they accept is exactly what the API takes.

Every value a person or a batch file gives goes through these functions before anything is sent
(design.md section 2). For arbitrary input they either accept it, returning the canonical form, or
raise InvalidInput (exit 2), never anything else; and what they accept keeps the rules:

- amounts: positive, at most MAX_AMOUNT, no more decimals than the currency has, and
  parse -> format -> parse gives the same amount (format gives plain ASCII digits);
- currencies: three ASCII capital letters; MSISDNs: 8 to 15 ASCII digits; parties, reference ids,
  external ids and messages as the API documents them;
- every accepted value is a fixed point: validating it again gives it back unchanged.

`parse_amount` takes any object (it is declared so: JSON batch rows hand it numbers). The other
validators take a string or None, which is all click and the batch reader ever give them.
Examples are derandomized, so CI sees the same ones on every run.
"""

from __future__ import annotations

import os
import re
import uuid
from decimal import Decimal
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from momo_cli import money
from momo_cli.errors import InvalidInput
from tests.security.support import FUZZ_SETTINGS, invoke

FUZZ = settings(max_examples=300, **FUZZ_SETTINGS)

#: Characters that trip validators: other scripts' digits, look-alikes, spaces, controls, quotes.
TRICKY = st.sampled_from(list(
    "0123456789.+-,eE _()\t\n\r\x00\x0b\x1f\x7f\xa0\u2028\u200b\ufeff"
    "٠١٢٣٤٥٦٧٨٩۴۵६७০১０１２𝟎𝟏"  # Arabic-Indic, Persian, Devanagari, Bengali, full-width, math digits
    "'\"&<>\\@éßİı"
))
TEXT = st.one_of(
    st.text(),
    st.text(TRICKY, max_size=30),
    st.text(st.one_of(TRICKY, st.characters()), min_size=1, max_size=300),
)
CURRENCIES = st.one_of(st.sampled_from(sorted(money.CURRENCY_MINOR_UNITS)), st.from_regex(r"\A[A-Z]{3}\Z"))
ANY_OBJECT = st.one_of(
    TEXT, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.binary(max_size=10),
)
NEAR_AMOUNTS = st.one_of(
    st.from_regex(r"\A\s?[0-9]{1,14}(\.[0-9]{0,4})?\s?\Z"),
    st.builds(lambda whole, frac: f"{whole}.{frac}", st.integers(0, 10**13), st.integers(0, 10**4)),
)

_PLAIN_AMOUNT = re.compile(r"\A[0-9]+(\.[0-9]+)?\Z")
_ASCII_MSISDN = re.compile(r"\A[0-9]{8,15}\Z")


def only_invalid_input(call, *args, **kwargs):
    """call(*args) or None when it raised InvalidInput; anything else propagates and fails the test."""
    try:
        return call(*args, **kwargs)
    except InvalidInput as error:
        assert error.field and error.rule  # says which input and which rule, for the one-line error
        return None


def decimals_of(value: Decimal) -> int:
    return max(0, -value.normalize().as_tuple().exponent)


# -- amounts ---------------------------------------------------------------------------------------------


def check_amount(raw, currency):
    value = only_invalid_input(money.parse_amount, raw, currency)
    if value is None:
        return
    assert isinstance(value, Decimal) and value.is_finite()
    assert 0 < value <= money.MAX_AMOUNT
    assert decimals_of(value) <= money.minor_units(currency), (raw, currency, value)
    text = money.format_amount(value, currency)
    assert _PLAIN_AMOUNT.match(text), text
    again = money.parse_amount(text, currency)
    assert again == value
    assert money.format_amount(again, currency) == text


@FUZZ
@given(ANY_OBJECT, CURRENCIES)
@example("١٢", "EUR")
@example("𝟏", "EUR")
@example("１０", "UGX")
@example("1e999999999", "EUR")
@example("1" * 5000, "EUR")
def test_parse_amount_raises_only_invalid_input_and_round_trips(raw, currency):
    check_amount(raw, currency)


@FUZZ
@given(NEAR_AMOUNTS, CURRENCIES)
def test_plausible_amounts_round_trip(raw, currency):
    check_amount(raw, currency)


@FUZZ
@given(st.text(TRICKY, min_size=1, max_size=12))
def test_an_accepted_amount_is_written_in_ascii_digits(raw):
    """An amount is digits and an optional '.': digits of other scripts are not digits here, as the
    API reads them (docs/commands.md)."""
    if only_invalid_input(money.parse_amount, raw, "EUR") is not None:
        assert _PLAIN_AMOUNT.match(raw.strip()), raw


# -- currencies, MSISDNs, parties ------------------------------------------------------------------------


@FUZZ
@given(st.one_of(TEXT, st.none(), st.from_regex(r"\A\s?[A-Za-z]{3}\s?\Z")))
def test_parse_currency(text):
    code = only_invalid_input(money.parse_currency, text)
    if code is not None:
        assert re.fullmatch(r"[A-Z]{3}", code), code
        assert money.parse_currency(code) == code


MSISDNS = st.one_of(
    TEXT, st.none(),
    st.from_regex(r"\A[+]?[0-9 \-().]{6,22}\Z"),
    st.builds(lambda prefix, digits: prefix + digits, st.sampled_from(["", "+", "00", " +"]),
              st.text(st.sampled_from("0123456789٤٦٧३１"), min_size=8, max_size=15)),
)


@FUZZ
@given(MSISDNS)
@example("٤٦٧٣٣١٢٣٤٥٠")
@example("+46 733-123 450")
def test_normalize_msisdn_accepts_only_ascii_digits(text):
    msisdn = only_invalid_input(money.normalize_msisdn, text)
    if msisdn is not None:
        assert _ASCII_MSISDN.match(msisdn), repr(msisdn)
        # (`+00...` tidies to `00...`, which a second pass reads as the international prefix: no
        # E.164 country code starts with 0, so such a number is no real MSISDN either way.)
        if not msisdn.startswith("00"):
            assert money.normalize_msisdn(msisdn) == msisdn


PARTY_TYPES = st.one_of(st.sampled_from(["msisdn", "MSISDN", "email", "Email", "party_code", " party_code "]),
                        TEXT, st.none())
PARTY_IDS = st.one_of(MSISDNS, st.emails(), st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()))


@FUZZ
@given(PARTY_TYPES, PARTY_IDS)
def test_normalize_party(kind, party_id):
    party = only_invalid_input(money.normalize_party, kind, party_id)
    if party is None:
        return
    kind_out, id_out = party
    assert kind_out in money.PARTY_ID_TYPES
    if kind_out == "MSISDN":
        assert _ASCII_MSISDN.match(id_out), repr(id_out)
        if id_out.startswith("00"):
            return  # see test_normalize_msisdn_accepts_only_ascii_digits
    elif kind_out == "EMAIL":
        assert "@" in id_out and len(id_out) <= 254 and id_out == id_out.strip()
    else:
        assert id_out == str(uuid.UUID(id_out))
    assert money.normalize_party(kind_out, id_out) == party


# -- ids and messages -------------------------------------------------------------------------------------


REFERENCE_IDS = st.one_of(
    TEXT, st.none(), st.uuids().map(str), st.uuids(version=4).map(lambda u: f" {str(u).upper()} "),
    st.uuids(version=1).map(str),
)


@FUZZ
@given(REFERENCE_IDS)
def test_check_reference_id_accepts_only_uuid4(text):
    ref = only_invalid_input(money.check_reference_id, text)
    if ref is not None:
        assert ref == str(uuid.UUID(ref)) and uuid.UUID(ref).version == 4
        assert money.check_reference_id(ref) == ref


@FUZZ
@given(st.one_of(TEXT, st.none(), st.text(st.characters(codec="ascii"), max_size=70)))
def test_check_external_id(text):
    value = only_invalid_input(money.check_external_id, text)
    if value is None:  # refused, or None given
        return
    assert 1 <= len(value) <= 64 and value.isprintable() and value == value.strip()
    assert not set(value) & money.MESSAGE_FORBIDDEN
    assert money.check_external_id(value) == value


@FUZZ
@given(st.one_of(TEXT, st.none(), st.text(st.characters(codec="ascii"), max_size=170)))
def test_check_message(text):
    value = only_invalid_input(money.check_message, text, field="--payer-message")
    if value is None:
        return
    assert value == text
    assert len(value) <= money.MESSAGE_MAX_LENGTH and value.isprintable()
    assert not set(value) & money.MESSAGE_FORBIDDEN


def test_digits_of_other_scripts_are_refused_before_anything_is_sent(fast_sending):
    """Found by the fuzzing above: `٤٦٧٣٣١٢٣٩٩٩` passed as an MSISDN, was journaled and sent, and
    the API refused it (exit 5); `١٢` passed as an amount. Both are exit 2 now, nothing journaled."""
    for argv in (["--amount", "5", "--payer", "٤٦٧٣٣١٢٣٩٩٩"], ["--amount", "١٢", "--payer", "46733123999"],
                 ["--amount", "１０", "--payer", "46733123999"], ["--amount", "5", "--payer", "+٤٦ 733 123 999"]):
        result = invoke(["collect", "request", *argv, "--yes"])
        assert result.exit_code == 2, (argv, result.stdout, result.stderr)
        assert result.stderr.count("momo: error:") == 1
    assert not (Path(os.environ["MOMO_DATA_DIR"]) / "journal.sqlite3").exists(), "something was journaled"
