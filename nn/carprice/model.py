"""A trained car-price model, ready to price cars given in kilometres, fuel name and years.

The model file (``nn.save``) carries the normaliser statistics in its metadata, so
:class:`CarPriceModel` turns a car into the network's input and its output back into euros
exactly as training did.  It also carries the ranges of the training cars, which bound the
cars it will price (:mod:`nn.carprice.domain`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import autotensor as at
from nn.carprice.domain import PricingDomain
from nn.carprice.listings import DataError
from nn.carprice.normalizer import Normalizer
from nn.layers import MLP
from nn.serialization import ModelFileError, load

#: The ``application`` entry of a car-price model file's metadata.
APPLICATION = "autotensor-carprice"


def predict_normalised(model: MLP, X: np.ndarray) -> np.ndarray:
    """The model's outputs for normalised inputs, without recording a graph."""
    with at.no_grad():
        return model(X).data


@dataclass(frozen=True)
class Quote:
    """The price of one car in euros, or, when the car is outside the domain, why there is none."""

    price: float | None
    refusal: str | None = None


class CarPriceModel:
    """A saved car-price model ready to price cars: ``CarPriceModel.load(path).price(...)``."""

    def __init__(
        self, model: MLP, normalizer: Normalizer, metadata: dict[str, Any], domain: PricingDomain, path: str | Path
    ) -> None:
        self.model = model.eval()
        self.normalizer = normalizer
        self.metadata = metadata
        self.domain = domain
        self.path = path

    @classmethod
    def load(cls, path: str | Path) -> CarPriceModel:
        """Read a model file written by training; anything missing or damaged raises ModelFileError."""
        model, metadata = load(path)
        if metadata.get("application") != APPLICATION or "normalizer" not in metadata:
            raise ModelFileError(f"{path}: not a car-price model (its metadata has no normaliser statistics)")
        if not isinstance(model, MLP) or model.sizes[0] != 3 or model.sizes[-1] != 1:
            raise ModelFileError(f"{path}: a car-price model maps 3 inputs to 1 price; this one is {model!r}")
        try:
            normalizer = Normalizer.from_dict(metadata["normalizer"])
        except (DataError, TypeError, AttributeError) as error:
            raise ModelFileError(f"{path}: damaged normaliser statistics: {error}") from None
        return cls(model, normalizer, metadata, PricingDomain.of_model(metadata, normalizer, path), path)

    def predict(self, km: Sequence[float] | float, fuel: Sequence[str] | str, age: Sequence[float] | float) -> np.ndarray:
        """The network's prices in euros, one per car, wherever the cars are (see ``price``).

        Fuel names as accepted by ``nn.carprice.listings.fuel_name``.  Raises ``ValueError``
        (``DataError`` for fuels) for negative or non-finite km/age.
        """
        km_values = np.atleast_1d(np.asarray(km, dtype=np.float64))
        age_values = np.atleast_1d(np.asarray(age, dtype=np.float64))
        for name, values in (("km", km_values), ("age", age_values)):
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                bad = values[~(np.isfinite(values) & (values >= 0))][0]
                raise ValueError(f"{name} must be a finite number >= 0, got {bad:g}")
        X = self.normalizer.transform(km_values, fuel, age_values)
        return self.normalizer.inverse_price(predict_normalised(self.model, X)).ravel()

    def price(self, km: Sequence[float], fuel: Sequence[str], age: Sequence[float]) -> list[Quote]:
        """One quote per car: its price, or the reason it is outside the model's domain.

        Never a negative or made-up price: a car beyond the training cars, or one the network
        prices outside the training prices, gets a refusal instead.  A network that gives no
        finite number at all is damaged, and raises ModelFileError naming the file.
        """
        with np.errstate(over="ignore", invalid="ignore"):  # a damaged network shows as a non-finite price
            prices = self.predict(km, fuel, age)
        broken = ~np.isfinite(prices)
        if broken.any():
            first = int(np.argmax(broken))
            raise ModelFileError(
                f"{self.path}: the network gives no finite price ({prices[first]}) for the car with km "
                f"{km[first]:g} and age {age[first]:g}: its weights or statistics are damaged"
            )
        quotes = []
        for car_km, car_age, car_price in zip(km, age, prices.tolist()):
            refusal = self.domain.refusal(car_km, car_age, car_price)
            quotes.append(Quote(None, refusal) if refusal else Quote(car_price))
        return quotes
