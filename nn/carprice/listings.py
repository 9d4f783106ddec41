"""The used-car listings: reading them strictly and cleaning them as the documents do.

The listings are a CSV file with the header ``km,fuel,age,price`` (one BMW Série 1 per row,
fuel ``Diesel``/``Essence``/…, age in whole years, price in euros). This module

* reads the file strictly (every row checked, errors pointing at file, line and column),
* cleans it as the document does (diesel or petrol only, price above 1000 EUR) and reports
  what was dropped, so nothing disappears silently,
* names the fuel in one way whatever its spelling, and encodes it as the document's -1/+1.

Scaling the columns for the network is :mod:`nn.carprice.normalizer`; downloading the file
is :mod:`nn.carprice.download`.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn.carprice.csv_rows import DataError, parse_amount, read_text, records

COLUMNS = ("km", "fuel", "age", "price")
MIN_PRICE = 1000.0
#: The largest km, age and price any car can have (twice the world's highest mileage, the
#: first car's age, a thousand times the dearest car ever sold, rounded up).  A value above
#: them is a typing error; refusing it also keeps every statistic of a file finite.
PLAUSIBLE_MAX = {"km": 10_000_000.0, "age": 150.0, "price": 1e9}
#: The two fuels the network knows, as the listings spell them, and the document's code.
FUEL_CODES = {"Diesel": -1.0, "Essence": 1.0}
KEPT_FUELS = tuple(FUEL_CODES)
#: Every accepted spelling of a fuel, in lower case (any case is accepted, surrounding
#: spaces ignored): French, as in the listings, and English, as users may write.
FUEL_SPELLINGS = {
    "diesel": "Diesel", "gazole": "Diesel", "gasoil": "Diesel",
    "essence": "Essence", "petrol": "Essence", "gasoline": "Essence",
}


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

    km, age and price must be finite numbers from 0 to :data:`PLAUSIBLE_MAX`; fuel is any
    string (the real file has a few empty ones, which ``clean`` drops). A bad row raises ``DataError`` naming the file, line,
    column and value, unless ``skip_bad_rows`` is true: then it is left out and recorded in
    ``CarTable.skipped_rows``. A missing header, an empty file or bytes that are not UTF-8
    always raise. Blank lines are ignored.
    """
    path = Path(path)
    rows_of_file = records(path, read_text(path, ",".join(COLUMNS)))
    _check_header(path, *next(rows_of_file, (1, None)))
    rows: list[tuple[float, str, float, float]] = []
    skipped: list[SkippedRow] = []
    for line, fields in rows_of_file:
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
        parse_amount(path, line, "km", km, PLAUSIBLE_MAX["km"]),
        fuel,
        parse_amount(path, line, "age", age, PLAUSIBLE_MAX["age"]),
        parse_amount(path, line, "price", price, PLAUSIBLE_MAX["price"]),
    )


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
    """Keep the document's listings: diesel or petrol cars priced above 1000 EUR.

    A fuel counts in any accepted spelling (:data:`FUEL_SPELLINGS`: ``diesel``, ``DIESEL``,
    ``petrol`` ...) and is renamed to the listings' own ``Diesel`` / ``Essence``, so the kept
    table spells each fuel one way.  Other fuels (LPG, "Autre", empty) are too rare to learn
    from and do not fit the -1/+1 encoding; prices of 1000 EUR or less are placeholders or
    wrecks.  A row with an unwanted fuel is counted under its fuel only, even if it is also cheap.
    """
    fuels = np.array([FUEL_SPELLINGS.get(name.strip().lower(), "") for name in table.fuel.tolist()], dtype=str)
    good_fuel = fuels != ""
    cheap = table.price <= MIN_PRICE
    report = CleaningReport(
        rows_in=len(table),
        rows_kept=int(np.sum(good_fuel & ~cheap)),
        fuel_counts=dict(collections.Counter(table.fuel.tolist()).most_common()),
        dropped_fuel=dict(collections.Counter(table.fuel[~good_fuel].tolist()).most_common()),
        dropped_cheap=int(np.sum(good_fuel & cheap)),
    )
    kept = good_fuel & ~cheap
    return CarTable(km=table.km[kept], fuel=fuels[kept], age=table.age[kept], price=table.price[kept]), report


def load_car_data(path: str | os.PathLike[str]) -> tuple[CarTable, CleaningReport]:
    """Read and clean a listings file in one call: what training starts from."""
    return clean(read_car_csv(path))


def fuel_name(text: str) -> str:
    """The fuel as the listings spell it (``Diesel`` or ``Essence``), from any accepted spelling.

    French and English names are accepted in any case (``Essence``, ``petrol``, ``GASOLINE``,
    ``gazole``), because the file is French and users of the command line may not be; training
    and prediction accept exactly the same spellings.
    """
    try:
        return FUEL_SPELLINGS[text.strip().lower()]
    except KeyError:
        accepted = ", ".join(FUEL_SPELLINGS)
        raise DataError(f"unknown fuel {text!r}; accepted (any case): {accepted}") from None


def encode_fuel(text: str) -> float:
    """The document's binary fuel code: diesel -> -1.0, petrol -> +1.0 (any accepted spelling)."""
    return FUEL_CODES[fuel_name(text)]
