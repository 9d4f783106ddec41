"""Scaling listings for the network, and network outputs back to euros.

The network of the background document needs its inputs on comparable scales and its output
in a fixed range.  The statistics of that scaling are kept, because the same transform must be
applied to cars priced later and the output turned back into euros.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from nn.carprice.listings import PLAUSIBLE_MAX, CarTable, DataError, encode_fuel


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
    """Statistics that can scale data: finite numbers, positive spreads, max above min.

    Each must also lie within the plausible values of its column (``PLAUSIBLE_MAX``), as the
    statistics of any readable listings do: larger ones come from a damaged model file, and
    would turn prices into ``inf``.
    """
    for name, value in stats.items():
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (is_number and math.isfinite(value)):
            raise DataError(f"Normalizer statistic {name!r} must be a finite number, got {value!r}")
        limit = PLAUSIBLE_MAX[name.split("_")[0]]
        if abs(value) > limit:
            raise DataError(
                f"Normalizer statistic {name!r} is {value!r}, beyond the largest plausible value {limit:,.0f}"
            )
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
