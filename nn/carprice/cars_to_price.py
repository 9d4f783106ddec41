"""A CSV file of cars to price: columns ``km``, ``fuel`` and ``age`` in any order.

Other columns are allowed and ignored, so the listings file itself can be priced.  The file
is read strictly, as the listings are (:mod:`nn.carprice.csv_rows`):

* the header must name ``km``, ``fuel`` and ``age``, and no column twice;
* every row must have exactly as many fields as the header: a short row names the column it
  lacks, a long one the first extra field;
* km and age are numbers from 0 to the plausible maximum, fuel an accepted spelling.

A problem with the file as a whole (no header, bad encoding) raises ``DataError``.  A problem
with one row does not stop the reading: the row is recorded in ``CarsToPrice.invalid`` with
its line and reason, and the caller decides whether the file is refused or the row skipped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nn.carprice.csv_rows import DataError, parse_amount, read_text, records
from nn.carprice.listings import PLAUSIBLE_MAX, SkippedRow, fuel_name

NEEDED = ("km", "fuel", "age")


@dataclass
class CarsToPrice:
    """The valid cars of a file (columns and their line numbers), and the invalid rows."""

    km: list[float] = field(default_factory=list)
    fuel: list[str] = field(default_factory=list)
    age: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    invalid: list[SkippedRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


def read_cars_to_price(path: str | os.PathLike[str]) -> CarsToPrice:
    """Every row of ``path`` checked: valid cars kept, invalid rows recorded with line and reason."""
    path = Path(path)
    rows = records(path, read_text(path, "naming the columns km,fuel,age"))
    header_line, header = next(rows, (1, None))
    columns = _columns(path, header_line, header)
    cars = CarsToPrice()
    for line, fields in rows:
        try:
            km, fuel, age = _car(path, line, fields, header or [], columns)
        except DataError as error:
            cars.invalid.append(SkippedRow(line, str(error)))
            continue
        cars.km.append(km)
        cars.fuel.append(fuel)
        cars.age.append(age)
        cars.lines.append(line)
    if not cars.lines and not cars.invalid:
        raise DataError(f"{path}: no cars in the file, only its header")
    return cars


def _columns(path: Path, line: int, header: list[str] | None) -> dict[str, int]:
    """Where km, fuel and age are in the header; missing or repeated columns raise DataError."""
    names = [name.strip() for name in header or []]
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name and name in seen:
            raise DataError(f"{path}:{line}: column {name!r} appears twice (columns {seen[name]} and {number})")
        seen[name] = number
    missing = [name for name in NEEDED if name not in seen]
    if missing:
        raise DataError(
            f"{path}:{line}: missing column(s) {', '.join(missing)}; expected a header naming km,fuel,age "
            f"(any order), found {','.join(names) or 'nothing'!r}"
        )
    return {name: seen[name] - 1 for name in NEEDED}


def _car(path: Path, line: int, fields: list[str], header: list[str], columns: dict[str, int]) -> tuple[float, str, float]:
    """km, fuel (as written) and age of one row, or DataError naming the line and the column."""
    if len(fields) < len(header):
        lacking = header[len(fields)].strip()
        raise DataError(
            f"{path}:{line}: {len(fields)} fields where the header has {len(header)}: "
            f"no value for column {len(fields) + 1} ({lacking!r})"
        )
    if len(fields) > len(header):
        raise DataError(
            f"{path}:{line}: {len(fields)} fields where the header has {len(header)}: "
            f"extra field in column {len(header) + 1}: {fields[len(header)]!r}"
        )
    km = parse_amount(path, line, "km", fields[columns["km"]], PLAUSIBLE_MAX["km"])
    age = parse_amount(path, line, "age", fields[columns["age"]], PLAUSIBLE_MAX["age"])
    fuel = fields[columns["fuel"]].strip()
    try:
        fuel_name(fuel)
    except DataError as error:
        raise DataError(f"{path}:{line}: column 'fuel': {error}") from None
    return km, fuel, age
