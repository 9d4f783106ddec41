"""Reading CSV files strictly: UTF-8 text, records with their line numbers, amounts checked.

Both files the application reads - the listings it trains on (:mod:`nn.carprice.listings`)
and the cars it prices (:mod:`nn.carprice.cars_to_price`) - are read through these helpers,
so every error points at the same things: the file, the line, the column and the value.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from pathlib import Path


class DataError(ValueError):
    """Input data that cannot be used: a malformed file, an unknown fuel, a bad download."""


def read_text(path: Path, expected: str) -> str:
    """The file as UTF-8 text; a leading byte-order mark, as spreadsheets write, is accepted.

    ``expected`` describes the header for the message about an empty file.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}:1: file is empty; expected the header {expected}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        bad = raw[error.start : error.end]
        raise DataError(f"{path}:{line}: byte column {column}: not UTF-8 text: {bad!r}") from error


def records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank CSV record; CSV syntax errors become DataError."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for fields in reader:
            if fields:
                yield reader.line_num, fields
    except csv.Error as error:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV: {error}") from error


def parse_amount(path: Path, line: int, column: str, text: str, maximum: float) -> float:
    """A kilometre count, an age or a price: a finite number from 0 to ``maximum``.

    The maximum is what no car can exceed; it also keeps sums of many values finite, so the
    statistics of a file can always be computed.
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{path}:{line}: column {column!r}: not a finite number: {text!r}")
    if value < 0:
        raise DataError(f"{path}:{line}: column {column!r}: negative value: {text!r}")
    if value > maximum:
        raise DataError(f"{path}:{line}: column {column!r}: {text!r} is above the largest plausible value {maximum:,.0f}")
    return value
