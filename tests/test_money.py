from decimal import Decimal

import pytest

from momo_cli import money
from momo_cli.errors import InvalidInput
from momo_cli.exitcodes import ExitCode


@pytest.mark.parametrize(
    "text,currency,expected",
    [
        ("600", "EUR", Decimal("600")),
        ("0.01", "EUR", Decimal("0.01")),
        ("12.50", "EUR", Decimal("12.50")),
        ("1000", "UGX", Decimal("1000")),
        ("1000.00", "UGX", Decimal("1000")),
        (" 5 ", "EUR", Decimal("5")),
        (7, "EUR", Decimal("7")),
    ],
)
def test_amounts_are_exact_decimals(text, currency, expected):
    value = money.parse_amount(text, currency)
    assert value == expected
    assert isinstance(value, Decimal)


@pytest.mark.parametrize(
    "text,currency,rule",
    [
        ("1.234", "EUR", "too many decimals"),
        ("10.5", "UGX", "UGX allows no decimals"),
        ("0", "EUR", "greater than zero"),
        ("0.00", "EUR", "greater than zero"),
        ("-5", "EUR", "plain decimal"),
        ("+5", "EUR", "plain decimal"),
        ("1e3", "EUR", "plain decimal"),
        ("1,000", "EUR", "plain decimal"),
        ("NaN", "EUR", "plain decimal"),
        ("Infinity", "EUR", "plain decimal"),
        ("", "EUR", "plain decimal"),
        (".5", "EUR", "plain decimal"),
        ("5.", "EUR", "plain decimal"),
        ("1000000000000", "EUR", "largest amount"),
        (1.5, "EUR", "floating-point"),
    ],
)
def test_bad_amounts_name_the_rule(text, currency, rule):
    with pytest.raises(InvalidInput) as err:
        money.parse_amount(text, currency)
    assert rule in err.value.message
    assert err.value.exit_code == ExitCode.USAGE
    assert err.value.field == "amount"


def test_format_amount_is_canonical_and_exact():
    assert money.format_amount(Decimal("12.50"), "EUR") == "12.5"
    assert money.format_amount(Decimal("600"), "EUR") == "600"
    assert money.format_amount(Decimal("0.10") + Decimal("0.20"), "EUR") == "0.3"
    assert money.format_amount(Decimal("1000"), "UGX") == "1000"


def test_currency_must_match_environment():
    money.check_currency_for_environment("EUR", "sandbox")
    money.check_currency_for_environment("UGX", "mtnuganda")
    with pytest.raises(InvalidInput, match="use EUR"):
        money.check_currency_for_environment("UGX", "sandbox")
    with pytest.raises(InvalidInput, match="use GHS"):
        money.check_currency_for_environment("EUR", "mtnghana")


@pytest.mark.parametrize("bad", ["EU", "EURO", "12A", "", "€"])
def test_bad_currency_codes(bad):
    with pytest.raises(InvalidInput):
        money.parse_currency(bad)


def test_currency_is_upper_cased():
    assert money.parse_currency(" eur ") == "EUR"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("46733123450", "46733123450"),
        ("+46 733 123 450", "46733123450"),
        ("0046733123450", "46733123450"),
        ("256-772-123456", "256772123456"),
        ("56733123453", "56733123453"),
    ],
)
def test_msisdns_are_tidied(raw, expected):
    assert money.normalize_msisdn(raw) == expected


@pytest.mark.parametrize("bad", ["", "abc", "1234567", "+", "4673312345012345", "46733x23450"])
def test_bad_msisdns(bad):
    with pytest.raises(InvalidInput, match="not an MSISDN"):
        money.normalize_msisdn(bad)


def test_parties_by_type():
    assert money.normalize_party("msisdn", "+46733123450") == ("MSISDN", "46733123450")
    assert money.normalize_party("email", "a@b.io") == ("EMAIL", "a@b.io")
    code = "5CECB5A7-8BD0-4F49-87B1-8EB9ECC7B7BC"
    assert money.normalize_party("party_code", code) == ("PARTY_CODE", code.lower())
    with pytest.raises(InvalidInput):
        money.normalize_party("email", "nope")
    with pytest.raises(InvalidInput):
        money.normalize_party("party_code", "123")
    with pytest.raises(InvalidInput):
        money.normalize_party("alias", "x")


def test_messages():
    assert money.check_message(None, field="payer message") is None
    assert money.check_message("Thanks for lunch", field="payer message") == "Thanks for lunch"
    assert money.check_message("x" * 160, field="payee note")
    with pytest.raises(InvalidInput, match="161 characters"):
        money.check_message("x" * 161, field="payee note")
    for bad in ["it's", "it\u2019s", "\u201cquoted\u201d", "fish & chips", "<b>", 'say "hi"', "a\\b", "line\nbreak"]:
        with pytest.raises(InvalidInput, match="rejects"):
            money.check_message(bad, field="payer message")


def test_reference_ids_must_be_uuid4():
    good = "3f1c9e0a-8f7b-4c1e-9d2a-0b1c2d3e4f50"
    assert money.check_reference_id(good.upper()) == good
    for bad in ["", "123", "3f1c9e0a-8f7b-1c1e-9d2a-0b1c2d3e4f50", "3f1c9e0a8f7b4c1e9d2a0b1c2d3e4f50"]:
        with pytest.raises(InvalidInput):
            money.check_reference_id(bad)


def test_external_ids():
    assert money.check_external_id(" inv-42 ") == "inv-42"
    assert money.check_external_id(None) is None
    for bad in ["", "x" * 65, "a&b", "tab\there"]:
        with pytest.raises(InvalidInput):
            money.check_external_id(bad)
