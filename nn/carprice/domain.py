"""The prediction domain: the cars a trained model can price, read from its model file.

A network prices well only near the cars it was trained on.  Far from them it extrapolates
from nothing: a linear output goes on falling, and the documents' network says -38,825 EUR
for a car with 3.8 million km and 60 years.  So a price is given only inside a domain that
the model file itself records:

* **the inputs**: km from 0 to the largest km of the training cars, age from 0 to the oldest
  training car's age (``metadata["input_ranges"]``, written by training);
* **the price**: the network's price must lie between the cheapest and the dearest training
  price (the normaliser's ``price_min`` and ``price_max``).  Inside the input ranges this
  still catches corners no training car was near (many km *and* many years together): there
  the network's price falls below any price it has seen, down to negative numbers.

Outside the domain the car is refused with the reason; it is never clamped to a made-up price.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nn.carprice.listings import PLAUSIBLE_MAX
from nn.carprice.normalizer import Normalizer
from nn.serialization import ModelFileError


@dataclass(frozen=True)
class PricingDomain:
    """The largest km and age of the training cars, and the range of their prices (euros)."""

    km_max: float
    age_max: float
    price_min: float
    price_max: float

    @classmethod
    def of_model(cls, metadata: dict[str, Any], normalizer: Normalizer, path: str | Path) -> PricingDomain:
        """The domain recorded in a model file's metadata; a damaged entry raises ModelFileError."""
        ranges = metadata.get("input_ranges")
        if not isinstance(ranges, dict):
            raise ModelFileError(
                f"{path}: the car metadata 'input_ranges' must be an object "
                f'{{"km": [min, max], "age": [min, max]}}, got {_shown(ranges)}'
            )
        stats = normalizer.stats
        return cls(_upper_bound(ranges, "km", path), _upper_bound(ranges, "age", path),
                   stats["price_min"], stats["price_max"])

    def refusal(self, km: float, age: float, price: float) -> str | None:
        """Why the car (and the network's ``price`` for it) is outside the domain, or None."""
        if km > self.km_max:
            return f"km {km:,.0f} is beyond the training cars (at most {self.km_max:,.0f} km)"
        if age > self.age_max:
            return f"age {age:g} is beyond the training cars (at most {self.age_max:g} years)"
        if not self.price_min <= price <= self.price_max:
            return (
                f"the network's price, {price:,.0f} EUR, is outside the training prices "
                f"({self.price_min:,.0f} to {self.price_max:,.0f} EUR): no training car was like this one"
            )
        return None

    def describe(self) -> str:
        """The domain in one phrase, for error messages."""
        return (
            f"km 0 to {self.km_max:,.0f}, age 0 to {self.age_max:g} years, "
            f"prices {self.price_min:,.0f} to {self.price_max:,.0f} EUR"
        )


def _upper_bound(ranges: dict[str, Any], name: str, path: str | Path) -> float:
    """The ``max`` of ``ranges[name] == [min, max]``, checked: two plausible numbers, in order."""
    bounds = ranges.get(name)
    ok = (
        isinstance(bounds, list) and len(bounds) == 2
        and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
        and 0 <= bounds[0] <= bounds[1] <= PLAUSIBLE_MAX[name]
    )
    if not ok:
        raise ModelFileError(
            f"{path}: the car metadata input_ranges[{name!r}] must be [min, max] with "
            f"0 <= min <= max <= {PLAUSIBLE_MAX[name]:,.0f}, got {_shown(bounds)}"
        )
    return float(bounds[1])


def _shown(value: Any) -> str:
    """A value from a damaged file, shortened so the error stays one readable line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
