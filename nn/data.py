"""The used-car listings: reading, cleaning, normalising, splitting and fetching them.

The listings are a CSV file with the header ``km,fuel,age,price`` (one BMW Série 1 per row,
fuel ``Diesel``/``Essence``/…, age in whole years, price in euros). The network of the
background document needs them as numbers on comparable scales, so this module

* reads the file strictly (every row checked, errors pointing at file, line and column),
* cleans it as the document does (Diesel/Essence only, price above 1000 EUR) and reports
  what was dropped, so nothing disappears silently,
* normalises the three features and the price with statistics that are kept, because the same
  transform must be applied to cars priced later and the output turned back into euros,
* splits rows reproducibly into training and test sets,
* downloads the file from its pinned public address into a user cache, checksum-verified.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import math
import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

COLUMNS = ("km", "fuel", "age", "price")
KEPT_FUELS = ("Diesel", "Essence")
MIN_PRICE = 1000.0
FUEL_CODES = {"diesel": -1.0, "essence": 1.0, "petrol": 1.0, "gasoline": 1.0}

PINNED_URL = (
    "https://raw.githubusercontent.com/theflofly/dnn_from_scratch_py/"
    "2ca351078b6666f43f8794951283dbb9648bfd80/car_features.csv"
)
PINNED_SHA256 = "c7696996a6d54002b1eef22dae0a8d0539d0ca68fc3603ddf00c1efc835e48cd"
CACHE_FILE_NAME = "car_features.csv"


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


_STATISTICS = ("km_mean", "km_std", "age_mean", "age_std", "price_min", "price_max")


class Normalizer:
    """Scales listings for the network and prices back to euros.

    km and age become z-scores, ``(x - mean) / std`` with the population std, so that a weight
    moves them by comparable amounts; fuel becomes -1/+1; the price is mapped to [0, 1] by
    ``(p - min) / (max - min)`` to match an output unit in that range. The six statistics come
    from the training listings only and are kept (``to_dict``) with a saved model, since new
    cars must be transformed the same way.
    """

    def __init__(self) -> None:
        self._stats: dict[str, float] | None = None

    def fit(self, table: CarTable) -> Normalizer:
        """Measure the statistics on ``table`` (normally the cleaned training listings)."""
        if len(table) == 0:
            raise DataError("cannot fit a Normalizer on an empty table")
        self._stats = _validated(
            {
                "km_mean": float(np.mean(table.km)),
                "km_std": float(np.std(table.km)),
                "age_mean": float(np.mean(table.age)),
                "age_std": float(np.std(table.age)),
                "price_min": float(np.min(table.price)),
                "price_max": float(np.max(table.price)),
            }
        )
        return self

    @property
    def stats(self) -> dict[str, float]:
        if self._stats is None:
            raise RuntimeError(
                "Normalizer is not fitted: call fit(table) or Normalizer.from_dict(d) first"
            )
        return self._stats

    def transform(self, km: Any, fuel: Any, age: Any) -> np.ndarray:
        """The network's input: an (n, 3) float64 array of columns [km_z, fuel -1/+1, age_z].

        Accepts one car (scalars) or many (sequences of equal length).
        """
        s = self.stats
        km = np.atleast_1d(np.asarray(km, dtype=np.float64))
        age = np.atleast_1d(np.asarray(age, dtype=np.float64))
        fuel_code = np.array([encode_fuel(str(name)) for name in np.atleast_1d(fuel)])
        if not len(km) == len(fuel_code) == len(age):
            raise ValueError(
                f"km, fuel and age differ in length: {len(km)}, {len(fuel_code)}, {len(age)}"
            )
        return np.column_stack(
            [
                (km - s["km_mean"]) / s["km_std"],
                fuel_code,
                (age - s["age_mean"]) / s["age_std"],
            ]
        )

    def transform_table(self, table: CarTable) -> tuple[np.ndarray, np.ndarray]:
        """Inputs (n, 3) and targets (n, 1) for a whole table."""
        return self.transform(table.km, table.fuel, table.age), self.transform_price(table.price)

    def transform_price(self, price: Any) -> np.ndarray:
        """Prices in euros as an (n, 1) column in [0, 1] (for the fitted range)."""
        s = self.stats
        price = np.atleast_1d(np.asarray(price, dtype=np.float64)).reshape(-1, 1)
        return (price - s["price_min"]) / (s["price_max"] - s["price_min"])

    def inverse_price(self, y: Any) -> np.ndarray:
        """Network outputs back to euros; the shape of ``y`` is kept."""
        s = self.stats
        return np.asarray(y, dtype=np.float64) * (s["price_max"] - s["price_min"]) + s["price_min"]

    def to_dict(self) -> dict[str, float]:
        """The statistics as plain floats, ready for JSON."""
        return dict(self.stats)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Normalizer:
        """A fitted Normalizer from ``to_dict`` output, checked so a damaged file fails here."""
        missing = [name for name in _STATISTICS if name not in d]
        unexpected = sorted(set(d) - set(_STATISTICS))
        if missing or unexpected:
            raise DataError(
                f"Normalizer statistics: missing keys {missing}, unexpected keys {unexpected}; "
                f"expected exactly {list(_STATISTICS)}"
            )
        normalizer = cls()
        normalizer._stats = _validated({name: d[name] for name in _STATISTICS})
        return normalizer


def _validated(stats: Mapping[str, Any]) -> dict[str, float]:
    """Statistics that can scale data: finite numbers, positive spreads, max above min."""
    for name, value in stats.items():
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (is_number and math.isfinite(value)):
            raise DataError(f"Normalizer statistic {name!r} must be a finite number, got {value!r}")
    for name in ("km_std", "age_std"):
        if stats[name] <= 0:
            raise DataError(
                f"Normalizer statistic {name!r} must be positive (a constant column cannot "
                f"be z-scored), got {stats[name]!r}"
            )
    if stats["price_max"] <= stats["price_min"]:
        raise DataError(
            f"Normalizer needs price_max > price_min, "
            f"got {stats['price_min']!r} and {stats['price_max']!r}"
        )
    return {name: float(value) for name, value in stats.items()}


def train_test_split(
    n_or_arrays: int | Sequence[np.ndarray], test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """A shuffled split that the same seed always reproduces.

    With a row count ``n`` it returns ``(train_indices, test_indices)``. With a sequence of
    arrays of equal length it returns each array split the same way, in the order
    ``a_train, a_test, b_train, b_test, …``. The test part has ``round(n * test_fraction)``
    rows; both parts must be non-empty.
    """
    if isinstance(n_or_arrays, (int, np.integer)):
        arrays, n = None, int(n_or_arrays)
    else:
        arrays = [np.asarray(a) for a in n_or_arrays]
        n = _common_length(arrays)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    n_test = round(n * test_fraction)
    if not 0 < n_test < n:
        raise ValueError(
            f"cannot split {n} rows with test_fraction={test_fraction}: a part would be empty"
        )
    order = np.random.default_rng(seed).permutation(n)
    train, test = order[n_test:], order[:n_test]
    if arrays is None:
        return train, test
    return tuple(part for a in arrays for part in (a[train], a[test]))


def _common_length(arrays: list[np.ndarray]) -> int:
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"arrays to split differ in length: {sorted(lengths)}")
    return lengths.pop()


def cache_directory() -> Path:
    """Where downloads go: ``$AUTOTENSOR_CACHE``, else the platform's user cache + autotensor."""
    override = os.environ.get("AUTOTENSOR_CACHE")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autotensor"


def cached_data_path(
    sha256: str = PINNED_SHA256, cache_dir: str | os.PathLike[str] | None = None
) -> Path | None:
    """The cached listings file if it is there with the expected checksum, else None."""
    target = Path(cache_dir or cache_directory()) / CACHE_FILE_NAME
    if target.is_file() and _sha256_of(target) == sha256.lower():
        return target
    return None


def fetch(
    url: str = PINNED_URL,
    sha256: str = PINNED_SHA256,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Download the listings into the cache once and return the path of the verified file.

    A cached file with the right checksum is returned without touching the network. Otherwise
    the download streams into a temporary file in the cache directory, and only a file whose
    sha256 matches is moved into place (atomically, so a reader never sees half a file). On
    any failure the temporary file is removed and ``DataError`` is raised.
    """
    cached = cached_data_path(sha256, cache_dir)
    if cached is not None:
        return cached
    target = Path(cache_dir or cache_directory()) / CACHE_FILE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{CACHE_FILE_NAME}.", suffix=".part"
    )
    try:
        with os.fdopen(handle, "wb") as out:
            actual = _download(url, out)
        if actual != sha256.lower():
            raise DataError(
                f"checksum mismatch for {url}: expected sha256 {sha256.lower()}, got {actual}"
            )
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def _download(url: str, out: io.BufferedWriter) -> str:
    """Copy ``url`` into ``out`` chunk by chunk; return the sha256 of what was written."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot download {url}: {error}") from error
    return digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()
