"""The used-car listings: reading them strictly and cleaning them as the documents do.

The listings are a CSV file with the header ``km,fuel,age,price`` (one BMW Série 1 per row,
fuel ``Diesel``/``Essence``/…, age in whole years, price in euros). This module

* reads the file strictly (every row checked, errors pointing at file, line and column),
* cleans it as the document does (Diesel/Essence only, price above 1000 EUR) and reports
  what was dropped, so nothing disappears silently,
* encodes the fuel as the document's -1/+1 code.

Scaling the columns for the network is :mod:`nn.carprice.normalizer`; downloading the file
is :mod:`nn.carprice.download`.
"""

from __future__ import annotations

import collections
import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

COLUMNS = ("km", "fuel", "age", "price")
KEPT_FUELS = ("Diesel", "Essence")
MIN_PRICE = 1000.0
FUEL_CODES = {"diesel": -1.0, "essence": 1.0, "petrol": 1.0, "gasoline": 1.0}


class DataError(ValueError):
    """Input data that cannot be used: a malformed file, an unknown fuel, a bad download."""


@dataclass(frozen=True)
class SkippedRow:
    """A row left out by ``read_car_csv(..., skip_bad_rows=True)`` and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class CarTable:
    """Listings as columns: ``km``, ``age``, ``price`` (float64) and ``fuel`` (str)."""

    km: np.ndarray
    fuel: np.ndarray
    age: np.ndarray
    price: np.ndarray
    skipped_rows: tuple[SkippedRow, ...] = ()

    def __post_init__(self) -> None:
        lengths = {name: len(getattr(self, name)) for name in COLUMNS}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"CarTable columns differ in length: {lengths}")

    def __len__(self) -> int:
        return len(self.price)

    def take(self, rows: np.ndarray) -> CarTable:
        """The listings selected by an index array or a boolean mask, in that order."""
        return CarTable(
            km=self.km[rows], fuel=self.fuel[rows], age=self.age[rows], price=self.price[rows]
        )


def read_car_csv(path: str | os.PathLike[str], *, skip_bad_rows: bool = False) -> CarTable:
    """Read a ``km,fuel,age,price`` file, checking every row.

    km, age and price must be finite numbers >= 0; fuel is any string (the real file has a few
    empty ones, which ``clean`` drops). A bad row raises ``DataError`` naming the file, line,
    column and value, unless ``skip_bad_rows`` is true: then it is left out and recorded in
    ``CarTable.skipped_rows``. A missing header, an empty file or bytes that are not UTF-8
    always raise. Blank lines are ignored.
    """
    path = Path(path)
    records = _records(path, _read_text(path))
    _check_header(path, *next(records, (1, None)))
    rows: list[tuple[float, str, float, float]] = []
    skipped: list[SkippedRow] = []
    for line, fields in records:
        try:
            rows.append(_parse_row(path, line, fields))
        except DataError as error:
            if not skip_bad_rows:
                raise
            skipped.append(SkippedRow(line, str(error)))
    km, fuel, age, price = zip(*rows) if rows else ((), (), (), ())
    return CarTable(
        km=np.array(km, dtype=np.float64),
        fuel=np.array(fuel, dtype=str),
        age=np.array(age, dtype=np.float64),
        price=np.array(price, dtype=np.float64),
        skipped_rows=tuple(skipped),
    )


def _read_text(path: Path) -> str:
    """The file as UTF-8 text; a leading byte-order mark, as spreadsheets write, is accepted."""
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}:1: file is empty; expected the header {','.join(COLUMNS)}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        bad = raw[error.start : error.end]
        raise DataError(
            f"{path}:{line}: byte column {column}: not UTF-8 text: {bad!r}"
        ) from error


def _records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank CSV record; CSV syntax errors become DataError."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for fields in reader:
            if fields:
                yield reader.line_num, fields
    except csv.Error as error:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV: {error}") from error


def _check_header(path: Path, line: int, header: list[str] | None) -> None:
    if header is None or tuple(header) != COLUMNS:
        found = ",".join(header) if header is not None else "nothing"
        raise DataError(f"{path}:{line}: expected the header {','.join(COLUMNS)!r}, found {found!r}")


def _parse_row(path: Path, line: int, fields: list[str]) -> tuple[float, str, float, float]:
    if len(fields) != len(COLUMNS):
        raise DataError(
            f"{path}:{line}: expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), "
            f"found {len(fields)}: {','.join(fields)!r}"
        )
    km, fuel, age, price = fields
    return (
        _parse_amount(path, line, "km", km),
        fuel,
        _parse_amount(path, line, "age", age),
        _parse_amount(path, line, "price", price),
    )


def _parse_amount(path: Path, line: int, column: str, text: str) -> float:
    """A kilometre count, an age or a price: a finite number, never negative."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{path}:{line}: column {column!r}: not a finite number: {text!r}")
    if value < 0:
        raise DataError(f"{path}:{line}: column {column!r}: negative value: {text!r}")
    return value


@dataclass(frozen=True)
class CleaningReport:
    """What ``clean`` kept and dropped, so the row count of a run can be explained."""

    rows_in: int
    rows_kept: int
    fuel_counts: dict[str, int]
    dropped_fuel: dict[str, int]
    dropped_cheap: int

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_kept

    def __str__(self) -> str:
        fuels = ", ".join(
            f"{name or '(empty)'}: {count}" for name, count in self.dropped_fuel.items()
        )
        return (
            f"kept {self.rows_kept} of {self.rows_in} listings; dropped "
            f"{sum(self.dropped_fuel.values())} for their fuel ({fuels or 'none'}) and "
            f"{self.dropped_cheap} priced at {MIN_PRICE:.0f} EUR or less"
        )


def clean(table: CarTable) -> tuple[CarTable, CleaningReport]:
    """Keep the document's listings: fuel exactly Diesel or Essence, price above 1000 EUR.

    Other fuels (LPG, "Autre", empty) are too rare to learn from and do not fit the -1/+1
    encoding; prices of 1000 EUR or less are placeholders or wrecks. A row with an
    unwanted fuel is counted under its fuel only, even if it is also cheap.
    """
    good_fuel = np.isin(table.fuel, KEPT_FUELS)
    cheap = table.price <= MIN_PRICE
    report = CleaningReport(
        rows_in=len(table),
        rows_kept=int(np.sum(good_fuel & ~cheap)),
        fuel_counts=dict(collections.Counter(table.fuel.tolist()).most_common()),
        dropped_fuel=dict(collections.Counter(table.fuel[~good_fuel].tolist()).most_common()),
        dropped_cheap=int(np.sum(good_fuel & cheap)),
    )
    return table.take(good_fuel & ~cheap), report


def load_car_data(path: str | os.PathLike[str]) -> tuple[CarTable, CleaningReport]:
    """Read and clean a listings file in one call: what training starts from."""
    return clean(read_car_csv(path))


def encode_fuel(name: str) -> float:
    """The document's binary fuel code: diesel -> -1.0, petrol -> +1.0.

    French and English names are accepted in any case (``Essence``, ``petrol``, ``GASOLINE``),
    because the file is French and users of the command line may not be.
    """
    try:
        return FUEL_CODES[name.strip().lower()]
    except KeyError:
        accepted = ", ".join(FUEL_CODES)
        raise DataError(f"unknown fuel {name!r}; accepted (any case): {accepted}") from None
