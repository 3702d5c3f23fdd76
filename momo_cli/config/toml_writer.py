"""A small, correct TOML emitter for momo's own files (the standard library only reads TOML).

It writes what `tomllib` reads back identically for the shapes we keep: nested tables of strings,
integers, floats, booleans, dates and times, and arrays of those. Arrays of tables are not needed
and are refused with TypeError rather than written wrongly.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+\Z")  # \Z: `$` would let a trailing newline through
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def quote_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def format_key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"TOML keys are strings, not {type(key).__name__}")
    return key if _BARE_KEY.match(key) else quote_string(key)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # always has '.' or 'e', so it reads back as a float
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, Mapping) for item in value):
            raise TypeError("arrays of tables are not supported")
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} as TOML")


def dumps(data: Mapping[str, Any], *, header: str | None = None) -> str:
    """`data` as a TOML document; `header` becomes leading comment lines."""
    lines: list[str] = []
    if header:
        lines.extend(f"# {line}".rstrip() for line in header.splitlines())
        lines.append("")
    _emit_table(lines, (), data, is_root=True)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _emit_table(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any], *, is_root: bool) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    # A table needs its header when it has values of its own, or when it is empty (so it survives).
    if not is_root and (scalars or not tables):
        lines.append("[" + ".".join(format_key(part) for part in path) + "]")
    for key, value in scalars:
        lines.append(f"{format_key(key)} = {format_value(value)}")
    if scalars or (not is_root and not tables):
        lines.append("")
    for key, value in tables:
        _emit_table(lines, path + (key,), value, is_root=False)
