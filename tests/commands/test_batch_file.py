"""Batch payout files (momo_cli.batchfile): every rule with its line number, both formats, streaming."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from momo_cli import batchfile
from momo_cli.batchfile import FileChanged, detect_format, valid_rows, validate

HEADER = "payee,amount,currency,external_id,payer_message,payee_note,payee_type\n"


def write(tmp_path, text, name="pay.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def errors_of(result):
    return [(e.line_no, e.field, e.rule) for e in result.errors]


def only_error(tmp_path, row, *, header=HEADER, environment="sandbox"):
    """The single error of a file with one row (line 2)."""
    result = validate(write(tmp_path, header + row + "\n"), environment=environment)
    assert result.rows == 1 and result.bad_rows == 1, errors_of(result)
    assert len(result.errors) == 1, errors_of(result)
    error = result.errors[0]
    assert error.line_no == 2
    return error


def test_a_good_file_is_summarised_exactly(tmp_path):
    text = HEADER + (
        "46733123999,10.50,EUR,ext-1,salary,thanks,msisdn\n"
        "+46 733 123 450,0.1,EUR,ext-2,,,\n"
        "46733123999,100,EUR,ext-3,,,MSISDN\n"
        "someone@example.com,0.20,EUR,ext-4,,,email\n"
    )
    path = write(tmp_path, text)
    result = validate(path, environment="sandbox")
    assert result.ok and result.errors == [] and result.error_count == 0
    assert (result.rows, result.bad_rows, result.payees, result.format) == (4, 0, 3, "csv")
    assert result.totals == {"EUR": Decimal("110.80")} and isinstance(result.totals["EUR"], Decimal)
    assert result.totals_text() == "110.80 EUR"
    assert result.sha256 == hashlib.sha256(text.encode()).hexdigest() and result.size == len(text.encode())
    doc = result.to_dict()
    assert doc["totals"] == {"EUR": "110.80"} and doc["valid"] is True
    rows = list(valid_rows(path, environment="sandbox", sha256=result.sha256))
    assert [(r.line_no, r.payee, r.payee_type, r.amount, r.external_id) for r in rows] == [
        (2, "46733123999", "MSISDN", "10.5", "ext-1"),
        (3, "46733123450", "MSISDN", "0.1", "ext-2"),
        (4, "46733123999", "MSISDN", "100", "ext-3"),
        (5, "someone@example.com", "EMAIL", "0.2", "ext-4"),
    ]
    assert (rows[0].payer_message, rows[0].payee_note, rows[1].payer_message) == ("salary", "thanks", None)
    run_row = rows[0].run_row()
    assert (run_row.line_no, run_row.amount, run_row.payee_type, run_row.reference_id) == (2, "10.5", "MSISDN", None)


@pytest.mark.parametrize("row, field, words", [
    ("46733123999,10.505,EUR,e1,,,", "amount", "too many decimals"),
    ("46733123999,-5,EUR,e1,,,", "amount", "not a plain decimal"),
    ("46733123999,1e3,EUR,e1,,,", "amount", "not a plain decimal"),
    ("46733123999,\"1,000\",EUR,e1,,,", "amount", "not a plain decimal"),
    ("46733123999,0,EUR,e1,,,", "amount", "greater than zero"),
    ("46733123999,,EUR,e1,,,", "amount", "is required"),
    ("46733123999,5,UGX,e1,,,", "currency", "not accepted in the sandbox"),
    ("46733123999,5,EURO,e1,,,", "currency", "three-letter"),
    ("46733123999,5,ABC,e1,,,", "currency", "not a currency MoMo markets use"),
    ("46733123999,5,,e1,,,", "currency", "is required"),
    ("12345,5,EUR,e1,,,", "payee", "not an MSISDN"),
    (",5,EUR,e1,,,", "payee", "is required"),
    ("not-an-email,5,EUR,e1,,,email", "payee", "not an e-mail"),
    ("46733123999,5,EUR,e1,,,party_code", "payee", "party code"),
    ("46733123999,5,EUR,e1,,,iban", "payee_type", "not one of msisdn, email, party_code"),
    ("46733123999,5,EUR,,,,", "external_id", "is required"),
    ("46733123999,5,EUR,a&b,,,", "external_id", "printable characters"),
    ("46733123999,5,EUR," + "x" * 65 + ",,,", "external_id", "1 to 64"),
    ("46733123999,5,EUR,e1,it's,,", "payer_message", "rejects"),
    ("46733123999,5,EUR,e1,,a <b>,", "payee_note", "rejects"),
    ("46733123999,5,EUR,e1," + "m" * 161 + ",,", "payer_message", "at most 160"),
])
def test_each_rule_is_named_with_its_line(tmp_path, row, field, words):
    error = only_error(tmp_path, row)
    assert error.field == field and words in error.rule, error
    assert str(error).startswith(f"line 2: {field}: ")


def test_a_message_of_160_characters_and_the_currency_of_a_production_environment_pass(tmp_path):
    result = validate(write(tmp_path, HEADER + "46733123999,5,EUR,e1," + "m" * 160 + ",,\n"), environment="sandbox")
    assert result.ok
    result = validate(write(tmp_path, HEADER + "256772123456,5000,UGX,e1,,,\n"), environment="mtnuganda")
    assert result.ok and result.totals == {"UGX": Decimal(5000)} and result.totals_text() == "5000 UGX"
    error = only_error(tmp_path, "256772123456,5000.5,UGX,e1,,,", environment="mtnuganda")
    assert error.field == "amount" and "UGX allows no decimals" in error.rule
    error = only_error(tmp_path, "256772123456,5,EUR,e1,,,", environment="mtnuganda")
    assert error.field == "currency" and "use UGX" in error.rule


def test_every_bad_row_is_reported_with_its_line_and_every_rule_it_breaks(tmp_path):
    text = HEADER + (
        "46733123999,1,EUR,ok-1,,,\n"
        "abc,1.234,EUR,ok-2,it's,,\n"    # line 3: three rules
        "\n"                             # line 4: blank, skipped
        "46733123999,1,EUR,ok-3,,,\n"
        "46733123999,1,EUR\n"            # line 6: too few fields
    )
    result = validate(write(tmp_path, text), environment="sandbox")
    assert not result.ok
    assert (result.rows, result.bad_rows, result.error_count) == (4, 2, 4)
    assert [(line, field) for line, field, _ in errors_of(result)] == [
        (3, "amount"), (3, "payee"), (3, "payer_message"), (6, None)]
    assert "has 3 fields; the header has 7" in result.errors[-1].rule
    assert result.totals == {"EUR": Decimal(2)}  # the good rows only


def test_duplicate_external_ids_name_both_lines(tmp_path):
    text = HEADER + "".join(f"46733123999,1,EUR,ext-{i % 3},,,\n" for i in range(5))
    result = validate(write(tmp_path, text), environment="sandbox")
    assert errors_of(result) == [
        (5, "external_id", "'ext-0' is already used on line 2 (external ids must be unique)"),
        (6, "external_id", "'ext-1' is already used on line 3 (external ids must be unique)"),
    ]


def test_a_quoted_field_over_two_lines_keeps_the_line_numbers_right(tmp_path):
    text = HEADER + '46733123999,1,EUR,a,"two\nlines",,\n46733123999,1.001,EUR,b,,,\n'
    result = validate(write(tmp_path, text), environment="sandbox")
    assert [(line, field) for line, field, _ in errors_of(result)] == [(2, "payer_message"), (4, "amount")]


def test_header_problems_are_reported_once(tmp_path):
    result = validate(write(tmp_path, "payee,amount,extrnal_id,notes\n46733123999,1,x,y\n" * 1), environment="sandbox")
    rules = [e.rule for e in result.errors if e.line_no == 1]
    assert any("unknown column 'extrnal_id'" in r for r in rules)
    assert any("unknown column 'notes'" in r for r in rules)
    assert any("no currency, external_id columns" in r for r in rules)
    assert not any(e.rule == "is required" for e in result.errors)  # not once per row
    result = validate(write(tmp_path, "payee,amount,amount,currency,external_id\n"), environment="sandbox")
    assert any("appears twice" in e.rule for e in result.errors)


def test_column_names_are_matched_loosely_and_the_delimiter_is_found(tmp_path):
    text = "\ufeffPayee;Amount;Currency;External ID;payeeNote\n46733123999;12,5;EUR;a;x\n46733123999;12.5;EUR;b;y\n"
    result = validate(write(tmp_path, text), environment="sandbox")
    [(line, field, rule)] = errors_of(result)
    assert (line, field) == (2, "amount") and rule.startswith("'12,5' is not a plain decimal amount")
    tsv = "payee\tamount\tcurrency\texternal_id\n46733123999\t1\tEUR\ta\n"
    assert validate(write(tmp_path, tsv, "pay.tsv"), environment="sandbox").ok


def test_json_lines_with_the_same_keys(tmp_path):
    lines = [
        {"payee": "46733123999", "amount": "1.50", "currency": "EUR", "external_id": "a"},
        {"payee": 46733123999, "amount": 2, "currency": "EUR", "externalId": "b", "payee_note": "hi"},
        {"payee": "46733123999", "amount": 1.5, "currency": "EUR", "external_id": "c"},
        [1, 2],
        {"payee": "46733123999", "amount": "1", "currency": "EUR", "external_id": "a", "colour": "red"},
        {"payee": True, "amount": "1", "currency": "EUR", "external_id": "d"},
    ]
    dumped = [json.dumps(line) for line in lines]
    text = "\n".join(dumped[:2]) + "\n\n" + "\n".join(dumped[2:]) + "\n{nope\n"  # line 3 is blank
    path = write(tmp_path, text, "pay.jsonl")
    result = validate(path, environment="sandbox")
    assert result.format == "jsonl" and (result.rows, result.bad_rows) == (7, 5)
    found = {(line, field): rule for line, field, rule in errors_of(result)}
    assert "write amounts as strings" in found[(4, "amount")]
    assert "JSON array, not an object" in found[(5, None)]
    assert "already used on line 1" in found[(6, "external_id")]
    assert "unknown key" in found[(6, "colour")]
    assert "must be a string, not a JSON true/false" in found[(7, "payee")]
    assert "is not a JSON object" in found[(8, None)]
    assert result.totals == {"EUR": Decimal("3.50")}


def test_a_json_line_with_a_key_given_twice_is_refused(tmp_path):
    """As for a CSV column given twice: the last value must not silently win."""
    text = '{"payee":"46733123999","amount":"1","currency":"EUR","external_id":"dup-1","amount":"1000"}\n'
    result = validate(write(tmp_path, text, "pay.jsonl"), environment="sandbox")
    [(line, field, rule)] = errors_of(result)
    assert (line, field) == (1, None) and "the key 'amount' is given twice" in rule
    assert result.totals == {}


def test_format_by_extension_or_by_content(tmp_path):
    assert detect_format(write(tmp_path, "payee\n", "a.CSV")) == "csv"
    assert detect_format(write(tmp_path, "{}\n", "a.ndjson")) == "jsonl"
    assert detect_format(write(tmp_path, '  {"payee": "1"}\n', "payouts.txt")) == "jsonl"
    assert detect_format(write(tmp_path, "payee,amount\n", "payouts")) == "csv"
    result = validate(write(tmp_path, '[{"payee": "1"}]\n', "payouts.json"), environment="sandbox")
    assert "JSON Lines" in result.errors[0].rule


def test_an_empty_file_and_a_header_alone_have_no_rows(tmp_path):
    for text in ("", HEADER, "\n\n"):
        result = validate(write(tmp_path, text), environment="sandbox")
        assert not result.ok and result.rows == 0
        assert "no rows" in result.errors[0].rule and result.errors[0].line_no == 0


def test_bytes_that_are_not_utf8_are_named_by_row(tmp_path):
    raw = (HEADER + "46733123999,1,EUR,a,caf").encode() + b"\xe9" + b",,\n" + b"46733123999,1,EUR,b,,,\n"
    result = validate(write(tmp_path, raw), environment="sandbox")
    assert errors_of(result) == [(2, "payer_message", "is not valid UTF-8 text (save the file as UTF-8)")]
    assert result.sha256 == hashlib.sha256(raw).hexdigest()


def test_errors_are_capped_but_all_counted(tmp_path):
    text = HEADER + "".join(f"46733123999,0,EUR,e{i},,,\n" for i in range(120))
    result = validate(write(tmp_path, text), environment="sandbox", max_errors=50)
    assert (result.bad_rows, result.error_count, len(result.errors)) == (120, 120, 50)
    assert [e.line_no for e in result.errors] == list(range(2, 52))


def test_a_file_changed_after_validation_loads_nothing(tmp_path):
    path = write(tmp_path, HEADER + "46733123999,1,EUR,a,,,\n46733123999,1,EUR,b,,,\n")
    result = validate(path, environment="sandbox")
    path.write_text(HEADER + "46733123999,1,EUR,a,,,\n46733123999,9,EUR,b,,,\n")  # same rules, new amount
    with pytest.raises(FileChanged):
        list(valid_rows(path, environment="sandbox", sha256=result.sha256))
    path.write_text(HEADER + "46733123999,1,EUR,a,,,\n46733123999,0,EUR,b,,,\n")  # now a bad row
    with pytest.raises(FileChanged):
        list(valid_rows(path, environment="sandbox", sha256=result.sha256))


def test_rows_earlier_runs_paid_are_counted_not_refused(tmp_path):
    path = write(tmp_path, HEADER + "".join(f"46733123999,1,EUR,ext-{i},,,\n" for i in range(6)))
    result = validate(path, environment="sandbox", earlier_ids={"ext-1": 4, "ext-2": 4, "ext-5": 7})
    assert result.ok and result.repeats == {4: 2, 7: 1}
    assert result.repeat_examples[0] == (3, "ext-1", 4)


def test_a_missing_file_is_a_usage_error(tmp_path):
    from momo_cli.errors import UsageError

    with pytest.raises(UsageError, match="no such file"):
        validate(tmp_path / "nope.csv", environment="sandbox")
    with pytest.raises(UsageError, match="directory"):
        validate(tmp_path, environment="sandbox")


def test_the_module_is_standard_library_only():
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(batchfile.__file__).read_text())
    names = {alias.name.split(".")[0]
             for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert names - {"momo_cli", "__future__"} <= set(sys.stdlib_module_names)


def test_the_index_of_earlier_ids_lives_on_disk_and_answers_like_a_mapping(tmp_path):
    from momo_cli.batchfile import IdIndex

    with IdIndex() as index:
        index.add_many((f"ext-{i}", 1 + i % 2) for i in range(1000))
        index.add_many([("ext-1", 9), ("new", 3)])  # the first run of an id stays
        assert len(index) == 1001 and "ext-1" in index and index["ext-1"] == 2 and index.get("nope") is None
        path = write(tmp_path, HEADER + "46733123999,1,EUR,ext-1,,,\n46733123999,1,EUR,other,,,\n")
        result = validate(path, environment="sandbox", earlier_ids=index)
    assert result.ok and result.repeats == {2: 1} and result.repeat_examples == [(2, "ext-1", 2)]
