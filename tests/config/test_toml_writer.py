"""The TOML emitter writes what tomllib reads back identically."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from momo_cli.config.toml_writer import dumps, format_key, quote_string


def roundtrip(data):
    return tomllib.loads(dumps(data))


def test_profiles_shape_roundtrips_and_reads_naturally():
    data = {
        "active_profile": "work",
        "profiles": {
            "default": {},
            "work": {"base_url": "https://sandbox.momodeveloper.mtn.com", "timeout": 12,
                     "collection": {"user_id": "u-1"}},
        },
    }
    text = dumps(data, header="a header\nsecond line")
    assert roundtrip(data) == data
    assert text.startswith("# a header\n# second line\n")
    assert "[profiles.work]\n" in text
    assert "[profiles.work.collection]\nuser_id = \"u-1\"\n" in text
    assert "[profiles.default]\n" in text  # an empty table survives


@pytest.mark.parametrize(
    "text",
    ['plain', 'quote " inside', "back\\slash", "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f", "é ü 中文 🙂", "", "'single'"],
)
def test_strings_are_escaped(text):
    assert roundtrip({"k": text}) == {"k": text}


@pytest.mark.parametrize("key", ["bare_key-1", "with space", "dotted.key", "quote\"", "", "中"])
def test_keys_are_quoted_when_needed(key):
    assert roundtrip({key: 1, "t": {key: {key: True}}}) == {key: 1, "t": {key: {key: True}}}


def test_bare_keys_stay_bare():
    assert format_key("base_url") == "base_url"
    assert format_key("a.b") == '"a.b"'
    assert quote_string('a"b') == '"a\\"b"'


def test_numbers_booleans_dates_and_arrays():
    data = {
        "i": -3, "f": 2.5, "big": 1e300, "whole": 30.0, "yes": True, "no": False,
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "day": dt.date(2026, 1, 2),
        "arr": [1, "two", [3.0]],
    }
    back = roundtrip(data)
    assert back == data
    assert isinstance(back["whole"], float)


def test_special_floats():
    back = roundtrip({"a": float("inf"), "b": float("-inf"), "c": float("nan")})
    assert back["a"] == float("inf") and back["b"] == float("-inf") and back["c"] != back["c"]


def test_arrays_of_tables_and_unknown_types_are_refused():
    with pytest.raises(TypeError):
        dumps({"a": [{"x": 1}]})
    with pytest.raises(TypeError):
        dumps({"a": object()})


scalars = st.one_of(
    st.text(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(),
    st.floats(allow_nan=False),
)
keys_ = st.text(min_size=0, max_size=8)
tables = st.recursive(
    st.dictionaries(keys_, scalars, max_size=4),
    lambda inner: st.dictionaries(keys_, st.one_of(scalars, inner), max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_any_nested_table_of_scalars_roundtrips(data):
    assert roundtrip(data) == data
