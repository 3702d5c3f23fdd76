"""Batch payout files: read, validate and summarise them, streaming. Standard library only.

A batch file is CSV (a header row naming the columns) or JSON Lines (one object per line) with the
keys `payee`, `amount`, `currency`, `external_id` and, optionally, `payer_message`, `payee_note` and
`payee_type` (msisdn, email or party_code; default msisdn). The format comes from the extension
(.csv, .tsv, .jsonl, .ndjson) or, for any other name, from the first character of the file.

`validate(path, environment=...)` reads the whole file once, row by row (never the whole file in
memory), and returns a `Validation`: the file's SHA-256 (computed on the bytes as they are read), the
number of rows, the total per currency (exact `Decimal`), the number of distinct payees, and every
rule a row breaks, with its line number (the first `max_errors` are kept, all are counted). Duplicate
external ids are found with a temporary on-disk SQLite table, so 100,000 rows cost a few megabytes.

`valid_rows(path, environment=..., sha256=...)` reads the file again and yields each row, checked and
in the API's spelling, for the journal; it raises `FileChanged` if the file is no longer the one that
was validated (so a run is never loaded from a file edited between validation and sending).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from momo_cli import money
from momo_cli.errors import InvalidInput, UsageError

#: the columns (keys) of a batch file, in the order a report shows them
REQUIRED_COLUMNS = ("payee", "amount", "currency", "external_id")
OPTIONAL_COLUMNS = ("payer_message", "payee_note", "payee_type")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
PAYEE_TYPES = ("msisdn", "email", "party_code")
DEFAULT_PAYEE_TYPE = "msisdn"

#: how many errors a Validation keeps (all are counted)
MAX_ERRORS = 50

FORMATS = ("csv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DELIMITERS = (",", ";", "\t", "|")
_READ_SIZE = 1 << 16


class FileChanged(UsageError):
    """The file changed between its validation and the loading of its rows: nothing was sent."""


def _key(name: str) -> str:
    """A column name as compared: case, spaces, dashes and underscores do not matter, so `External ID`,
    `externalId` and `external_id` are the same column."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


_CANONICAL = {_key(name): name for name in COLUMNS}


@dataclass(frozen=True, slots=True)
class RowError:
    """One rule a row breaks. `line_no` 0 is about the file as a whole."""

    line_no: int
    field: str | None
    rule: str

    def __str__(self) -> str:
        where = f"line {self.line_no}" if self.line_no else "file"
        return f"{where}: {self.field}: {self.rule}" if self.field else f"{where}: {self.rule}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line_no or None, "field": self.field, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class BatchRow:
    """A checked row, in the API's spelling: `amount` is the canonical decimal string, `payee_type`
    is MSISDN, EMAIL or PARTY_CODE, and the payee is normalised for its type."""

    line_no: int
    payee: str
    payee_type: str
    amount: str
    currency: str
    external_id: str
    payer_message: str | None = None
    payee_note: str | None = None

    def run_row(self):
        """The journal's `RunRow` of this row (its reference id is assigned by the journal)."""
        from momo_cli.journal.store import RunRow

        return RunRow(
            line_no=self.line_no, payee=self.payee, amount=self.amount, currency=self.currency,
            external_id=self.external_id, payer_message=self.payer_message, payee_note=self.payee_note,
            payee_type=self.payee_type,
        )


@dataclass
class Validation:
    """What one read of a batch file found."""

    path: Path
    format: str
    environment: str
    sha256: str = ""
    #: rows read (good and bad); blank lines are not rows
    rows: int = 0
    #: rows that break at least one rule
    bad_rows: int = 0
    #: errors found (rows may have several; file-level errors count too)
    error_count: int = 0
    #: the first `max_errors` errors
    errors: list[RowError] = field(default_factory=list)
    #: total amount per currency of the good rows
    totals: dict[str, Decimal] = field(default_factory=dict)
    #: distinct (payee type, payee) of the good rows
    payees: int = 0
    #: file size in bytes
    size: int = 0
    #: external ids that earlier batch runs already used: run id -> count, and a few examples
    repeats: dict[int, int] = field(default_factory=dict)
    repeat_examples: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.rows > 0

    @property
    def good_rows(self) -> int:
        return self.rows - self.bad_rows

    def add_error(self, error: RowError, max_errors: int) -> None:
        self.error_count += 1
        if len(self.errors) < max_errors:
            self.errors.append(error)

    def totals_text(self) -> str:
        """'1234.50 EUR, 300 UGX'."""
        return ", ".join(f"{total_text(v, c)} {c}" for c, v in sorted(self.totals.items())) or "-"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "format": self.format,
            "sha256": self.sha256,
            "size": self.size,
            "environment": self.environment,
            "rows": self.rows,
            "valid": self.ok,
            "bad_rows": self.bad_rows,
            "error_count": self.error_count,
            "errors": [e.to_dict() for e in self.errors],
            "totals": {c: total_text(v, c) for c, v in sorted(self.totals.items())},
            "payees": self.payees,
        }


def total_text(value: Decimal, currency: str) -> str:
    """An exact total with the currency's minor units: '14.50' (EUR), '300' (UGX)."""
    return format(value.quantize(Decimal(1).scaleb(-money.minor_units(currency))), "f")


# --------------------------------------------------------------------------------------------------
# Reading


class _HashingReader(io.RawIOBase):
    """A raw reader that feeds every byte it reads to a hash, and counts them."""

    def __init__(self, raw: io.RawIOBase, digest: Any) -> None:
        self._raw = raw
        self.digest = digest
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
            self.size += n
        return n or 0

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class _Source:
    """An open batch file: its text (UTF-8, a BOM tolerated, undecodable bytes kept as surrogates so
    that the row that holds them is named) and the hash of its bytes."""

    def __init__(self, path: Path, *, newline: str | None) -> None:
        self.hashing = _HashingReader(open(path, "rb", buffering=0), hashlib.sha256())
        buffered = io.BufferedReader(self.hashing, buffer_size=_READ_SIZE)
        self.text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape", newline=newline)

    def finish(self) -> tuple[str, int]:
        """Read what is left (so the hash covers the whole file); (sha256 hex, size)."""
        while self.text.buffer.read(_READ_SIZE):
            pass
        return self.hashing.digest.hexdigest(), self.hashing.size

    def close(self) -> None:
        self.text.close()

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def detect_format(path: str | os.PathLike[str]) -> str:
    """'csv' or 'jsonl': by extension, else by the first character that is not blank ('{' or '['
    means JSON)."""
    path = Path(path)
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    with open(path, "rb") as f:
        head = f.read(4096)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    return "jsonl" if text[:1] in ("{", "[") else "csv"


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a batch file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{path} cannot be read (permission denied)")


Record = tuple[int, "dict[str, Any] | None", "list[RowError]"]


@dataclass
class _FileState:
    """What a reader learns about the file as a whole: errors not tied to one row (the header, a
    quote that breaks the CSV), and the required columns the header lacks."""

    errors: list[RowError] = field(default_factory=list)
    missing: frozenset[str] = frozenset()


def _csv_records(text: io.TextIOBase, state: _FileState) -> Iterator[Record]:
    """(line, {column: value}, errors) per CSV record; the header's own errors go to `state` before
    the first record is yielded."""
    header_errors = state.errors
    lines = iter(text)
    first = ""
    header_line = 0
    for first in lines:  # the header is the first line that is not blank
        header_line += 1
        if first.strip():
            break
    else:
        return
    delimiter = _delimiter(first)

    def chained() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(chained(), delimiter=delimiter, strict=True)
    offset = header_line - 1
    try:
        header = next(reader)
    except csv.Error as exc:
        header_errors.append(RowError(header_line, None, f"the header row cannot be read as CSV: {exc}"))
        return
    columns: list[str | None] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(header, 1):
        name = raw.strip()
        canonical = _CANONICAL.get(_key(name))
        if not name:
            header_errors.append(RowError(header_line, None, f"column {position} of the header has no name"))
        elif canonical is None:
            header_errors.append(RowError(
                header_line, None, f"unknown column {name!r} (the columns are: {', '.join(COLUMNS)})"))
        elif canonical in seen:
            header_errors.append(RowError(
                header_line, None, f"column {name!r} appears twice (columns {seen[canonical]} and {position})"))
            canonical = None
        else:
            seen[canonical] = position
        columns.append(canonical)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    state.missing = frozenset(missing)
    if missing:
        header_errors.append(RowError(
            header_line, None,
            f"the header has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} "
            f"(required: {', '.join(REQUIRED_COLUMNS)})"))
    width = len(columns)
    last = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # strict mode: a bad quote. The reader cannot go on reliably after it.
            header_errors.append(RowError(last + 1 + offset, None, f"cannot be read as CSV: {exc}"))
            return
        start = last + 1 + offset
        last = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # a blank line
        if len(values) != width:
            yield start, None, [RowError(
                start, None, f"has {len(values)} field{'s' if len(values) != 1 else ''}; "
                f"the header has {width} (a missing or extra delimiter {delimiter!r}?)")]
            continue
        record = {name: value for name, value in zip(columns, values) if name is not None}
        yield start, record, []


def _delimiter(header: str) -> str:
    """The delimiter of a CSV header: the one that splits it into known column names."""
    best, best_count = ",", 0
    for delimiter in _DELIMITERS:
        count = sum(1 for part in header.split(delimiter) if _key(part.strip().strip('"')) in _CANONICAL)
        if count > best_count:
            best, best_count = delimiter, count
    return best


class _FloatLiteral(str):
    """A JSON number with a fraction or an exponent, kept as its text (and refused as an amount)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: `{"amount": "1", "amount": "1000"}` is refused, as
    a CSV column given twice is (json.loads would silently keep the last)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} is given twice")
        seen[key] = value
    return seen


def _json_records(text: io.TextIOBase) -> Iterator[Record]:
    for line_no, line in enumerate(text, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=_FloatLiteral, parse_constant=_FloatLiteral,
                               object_pairs_hook=_unique_keys)
        except ValueError as exc:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            if line_no == 1 and line.lstrip().startswith("["):
                message = "a JSON array: write one JSON object per line (JSON Lines)"
            yield line_no, None, [RowError(line_no, None, f"is not a JSON object: {message}")]
            continue
        if not isinstance(value, dict):
            if line_no == 1 and isinstance(value, list):
                rule = "is a JSON array: write one JSON object per line (JSON Lines)"
            else:
                rule = f"is a JSON {_json_kind(value)}, not an object"
            yield line_no, None, [RowError(line_no, None, rule)]
            continue
        record: dict[str, Any] = {}
        errors: list[RowError] = []
        for raw_key, item in value.items():
            canonical = _CANONICAL.get(_key(raw_key))
            if canonical is None:
                errors.append(RowError(line_no, raw_key, f"unknown key (the keys are: {', '.join(COLUMNS)})"))
            elif canonical in record:
                errors.append(RowError(line_no, raw_key, f"the same key as {canonical!r}"))
            else:
                record[canonical] = item
        yield line_no, record, errors


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return {list: "array", str: "string", int: "number", float: "number", dict: "object"}.get(
        type(value), "number" if isinstance(value, _FloatLiteral) else type(value).__name__)


def _records(source: _Source, fmt: str, state: _FileState) -> Iterator[Record]:
    if fmt == "csv":
        return _csv_records(source.text, state)
    return _json_records(source.text)


# --------------------------------------------------------------------------------------------------
# Checking one row


def _text(record: Mapping[str, Any], name: str, errors: list[RowError], line_no: int, *,
          numbers: bool = False) -> str | None:
    """A field's text: None when absent or empty. JSON numbers are taken for `numbers` fields when
    they are integers; a fraction or an exponent is refused (it may have gone through a float)."""
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, _FloatLiteral):
        errors.append(RowError(line_no, name, f"{value} is a JSON number with a fraction: write amounts as "
                                              f"strings (\"{value}\") so that nothing rounds them"))
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, int) and not numbers):
        errors.append(RowError(line_no, name, f"must be a string, not a JSON {_json_kind(value)}"))
        return None
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        errors.append(RowError(line_no, name, "is not valid UTF-8 text (save the file as UTF-8)"))
        return None
    text = text.strip()
    return text or None


def check_record(line_no: int, record: Mapping[str, Any], environment: str,
                 *, missing_columns: frozenset[str] = frozenset()) -> tuple[BatchRow | None, list[RowError]]:
    """Check one row against every rule; the row in the API's spelling, or None and the rules it breaks.

    `missing_columns` (CSV): required columns the header lacks; that was reported once, for the
    header, and is not reported again on every row.
    """
    errors: list[RowError] = []

    def required(name: str, value: str | None) -> str | None:
        if value is None and name not in missing_columns and not any(e.field == name for e in errors):
            errors.append(RowError(line_no, name, "is required"))
        return value

    def rule(name: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except InvalidInput as exc:
            errors.append(RowError(line_no, name, exc.rule))
            return None

    payee_text = required("payee", _text(record, "payee", errors, line_no, numbers=True))
    type_text = _text(record, "payee_type", errors, line_no) or DEFAULT_PAYEE_TYPE
    amount_text = required("amount", _text(record, "amount", errors, line_no, numbers=True))
    currency_text = required("currency", _text(record, "currency", errors, line_no))
    external_text = required("external_id", _text(record, "external_id", errors, line_no, numbers=True))
    payer_message = _text(record, "payer_message", errors, line_no)
    payee_note = _text(record, "payee_note", errors, line_no)

    payee = payee_type = None
    if type_text.lower() not in PAYEE_TYPES:
        errors.append(RowError(line_no, "payee_type", f"{type_text!r} is not one of {', '.join(PAYEE_TYPES)}"))
    elif payee_text is not None:
        party = rule("payee", lambda: money.normalize_party(type_text, payee_text, field="payee"))
        if party is not None:
            payee_type, payee = party

    currency = None
    if currency_text is not None:
        currency = rule("currency", lambda: money.check_currency(currency_text, environment))
    amount = None
    if amount_text is not None and currency is not None:
        value = rule("amount", lambda: money.parse_amount(amount_text, currency, field="amount"))
        if value is not None:
            amount = money.format_amount(value, currency)
    external_id = None
    if external_text is not None:
        external_id = rule("external_id", lambda: money.check_external_id(external_text, field="external_id"))
    if payer_message is not None:
        rule("payer_message", lambda: money.check_message(payer_message, field="payer_message"))
    if payee_note is not None:
        rule("payee_note", lambda: money.check_message(payee_note, field="payee_note"))

    if errors or None in (payee, payee_type, amount, currency, external_id):
        return None, errors
    return BatchRow(line_no, payee, payee_type, amount, currency, external_id,
                    payer_message, payee_note), errors


# --------------------------------------------------------------------------------------------------
# The whole file


class _SeenStore:
    """External ids and payees seen so far, in a temporary on-disk SQLite database (SQLite keeps only
    a small page cache in memory), so that a file of any size is checked in little memory."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect("", isolation_level=None)  # "": a private temporary file
        self.conn.execute("PRAGMA cache_size = -4096")  # 4 MiB at most
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("CREATE TABLE ids (external_id TEXT PRIMARY KEY, line_no INTEGER) WITHOUT ROWID")
        self.conn.execute("CREATE TABLE payees (payee TEXT PRIMARY KEY) WITHOUT ROWID")
        self.conn.execute("BEGIN")
        self.payees = 0

    def first_line(self, external_id: str, line_no: int) -> int | None:
        """None the first time an external id is seen; else the line it was first seen on."""
        try:
            self.conn.execute("INSERT INTO ids VALUES (?, ?)", (external_id, line_no))
            return None
        except sqlite3.IntegrityError:
            return self.conn.execute("SELECT line_no FROM ids WHERE external_id = ?", (external_id,)).fetchone()[0]

    def add_payee(self, payee_type: str, payee: str) -> None:
        cursor = self.conn.execute("INSERT OR IGNORE INTO payees VALUES (?)", (f"{payee_type}:{payee}",))
        self.payees += cursor.rowcount

    def close(self) -> None:
        self.conn.close()


class IdIndex:
    """External id -> run id, in a temporary on-disk SQLite database: what earlier batch runs paid,
    looked up row by row during validation without holding every id in memory. A `Mapping`-like
    object for `validate(earlier_ids=...)`; close it (or use it as a context manager) when done."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect("", isolation_level=None)
        self.conn.execute("PRAGMA cache_size = -4096")
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("CREATE TABLE ids (external_id TEXT PRIMARY KEY, run_id INTEGER) WITHOUT ROWID")
        self.count = 0

    def add_many(self, pairs: Iterator[tuple[str, int]] | list[tuple[str, int]]) -> None:
        """Add (external id, run id) pairs; an id already present keeps its first run."""
        self.conn.execute("BEGIN")
        try:
            cursor = self.conn.executemany("INSERT OR IGNORE INTO ids VALUES (?, ?)", pairs)
            self.count += max(0, cursor.rowcount)
        finally:
            self.conn.execute("COMMIT")

    def __contains__(self, external_id: object) -> bool:
        return self.get(external_id) is not None

    def __getitem__(self, external_id: str) -> int:
        run_id = self.get(external_id)
        if run_id is None:
            raise KeyError(external_id)
        return run_id

    def get(self, external_id: object, default: int | None = None) -> int | None:
        row = self.conn.execute("SELECT run_id FROM ids WHERE external_id = ?", (external_id,)).fetchone()
        return row[0] if row else default

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> IdIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate(
    path: str | os.PathLike[str],
    *,
    environment: str,
    max_errors: int = MAX_ERRORS,
    earlier_ids: "Mapping[str, int] | IdIndex | None" = None,
    on_row: Callable[[int], object] | None = None,
) -> Validation:
    """Read the whole file once and check every row (see the module docstring). Never raises for a
    bad row; raises `UsageError` only when the file cannot be opened.

    `earlier_ids`: external id -> id of an earlier batch run that used it; matches are counted in
    `Validation.repeats` (they are not errors: a file may be paid again on purpose).
    `on_row(rows_read)` is called every 10,000 rows.
    """
    path = Path(path)
    _check_readable(path)
    fmt = detect_format(path)
    result = Validation(path=path, format=fmt, environment=environment)
    seen = _SeenStore()
    state = _FileState()
    file_errors = state.errors
    reported_header = 0
    try:
        with _Source(path, newline="" if fmt == "csv" else None) as source:
            for line_no, record, errors in _records(source, fmt, state):
                # the header's problems first, once, before the rows they affect
                while reported_header < len(file_errors):
                    result.add_error(file_errors[reported_header], max_errors)
                    reported_header += 1
                result.rows += 1
                if on_row is not None and result.rows % 10_000 == 0:
                    on_row(result.rows)
                row = None
                if record is not None:
                    row, more = check_record(line_no, record, environment, missing_columns=state.missing)
                    errors = errors + more
                    external_id = (row.external_id if row is not None
                                   else _valid_external_id(record.get("external_id")))
                    if external_id is not None:
                        first = seen.first_line(external_id, line_no)
                        if first is not None:
                            errors.append(RowError(
                                line_no, "external_id",
                                f"{external_id!r} is already used on line {first} (external ids must be unique)"))
                        elif earlier_ids is not None and (run_id := earlier_ids.get(external_id)) is not None:
                            result.repeats[run_id] = result.repeats.get(run_id, 0) + 1
                            if len(result.repeat_examples) < 5:
                                result.repeat_examples.append((line_no, external_id, run_id))
                if errors:
                    result.bad_rows += 1
                    for error in errors:
                        result.add_error(error, max_errors)
                elif row is not None:
                    result.totals[row.currency] = result.totals.get(row.currency, Decimal(0)) + Decimal(row.amount)
                    seen.add_payee(row.payee_type, row.payee)
            while reported_header < len(file_errors):
                result.add_error(file_errors[reported_header], max_errors)
                reported_header += 1
            result.sha256, result.size = source.finish()
    finally:
        result.payees = seen.payees
        seen.close()
    if result.rows == 0 and result.error_count == 0:
        result.add_error(RowError(0, None, "has no rows to pay (a header and at least one row are needed)"),
                         max_errors)
    result.errors.sort(key=lambda e: (e.line_no, e.field or ""))
    return result


def _valid_external_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or isinstance(value, _FloatLiteral):
        return None
    try:
        return money.check_external_id(str(value))
    except InvalidInput:
        return None


def valid_rows(path: str | os.PathLike[str], *, environment: str, sha256: str) -> Iterator[BatchRow]:
    """Every row of a file that `validate` found valid, checked again, read again (streaming).

    Raises `FileChanged` if a row no longer passes or, at the end, if the file's hash is not `sha256`:
    a caller that loads the rows in one transaction (the journal does) then loads nothing.
    """
    path = Path(path)
    fmt = detect_format(path)
    state = _FileState()
    file_errors = state.errors
    changed = FileChanged(
        f"{path} changed while it was being read; nothing was sent",
        hint="run the command again on the file as it is now",
    )
    with _Source(path, newline="" if fmt == "csv" else None) as source:
        for line_no, record, errors in _records(source, fmt, state):
            if errors or record is None or file_errors:
                raise changed
            row, errors = check_record(line_no, record, environment)
            if row is None:
                raise changed
            yield row
        if file_errors:
            raise changed
        digest, _ = source.finish()
    if digest != sha256:
        raise changed


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_READ_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = [
    "BatchRow", "COLUMNS", "FileChanged", "IdIndex", "MAX_ERRORS", "OPTIONAL_COLUMNS", "PAYEE_TYPES",
    "REQUIRED_COLUMNS", "RowError", "Validation", "check_record", "detect_format", "file_sha256",
    "valid_rows", "validate",
]
