"""A trained car-price model, ready to price cars given in kilometres, fuel name and years.

The model file (``nn.save``) carries the normaliser statistics in its metadata, so
:class:`CarPriceModel` turns a car into the network's input and its output back into euros
exactly as training did.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import autotensor as at
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


class CarPriceModel:
    """A saved car-price model ready to price cars: ``CarPriceModel.load(path).predict(...)``."""

    def __init__(self, model: MLP, normalizer: Normalizer, metadata: dict[str, Any]) -> None:
        self.model = model.eval()
        self.normalizer = normalizer
        self.metadata = metadata

    @classmethod
    def load(cls, path: str | Path) -> CarPriceModel:
        model, metadata = load(path)
        if metadata.get("application") != APPLICATION or "normalizer" not in metadata:
            raise ModelFileError(f"{path}: not a car-price model (its metadata has no normaliser statistics)")
        if not isinstance(model, MLP) or model.sizes[0] != 3 or model.sizes[-1] != 1:
            raise ModelFileError(f"{path}: a car-price model maps 3 inputs to 1 price; this one is {model!r}")
        try:
            normalizer = Normalizer.from_dict(metadata["normalizer"])
        except (DataError, TypeError, AttributeError) as error:
            raise ModelFileError(f"{path}: damaged normaliser statistics: {error}") from None
        return cls(model, normalizer, metadata)

    def predict(self, km: Sequence[float] | float, fuel: Sequence[str] | str, age: Sequence[float] | float) -> np.ndarray:
        """Prices in euros, one per car; fuel names as accepted by ``nn.carprice.listings.encode_fuel``.

        Raises ``ValueError`` (``DataError`` for fuels) for negative or non-finite km/age.
        """
        km_values = np.atleast_1d(np.asarray(km, dtype=np.float64))
        age_values = np.atleast_1d(np.asarray(age, dtype=np.float64))
        for name, values in (("km", km_values), ("age", age_values)):
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                bad = values[~(np.isfinite(values) & (values >= 0))][0]
                raise ValueError(f"{name} must be a finite number >= 0, got {bad:g}")
        X = self.normalizer.transform(km_values, fuel, age_values)
        return self.normalizer.inverse_price(predict_normalised(self.model, X)).ravel()

    def outside_training_range(self, km: float, age: float) -> list[str]:
        """Sentences naming inputs beyond the training data (the price is then an extrapolation)."""
        notes = []
        ranges = self.metadata.get("input_ranges", {})
        for name, value in (("km", km), ("age", age)):
            bounds = ranges.get(name)
            if isinstance(bounds, list) and len(bounds) == 2 and not bounds[0] <= value <= bounds[1]:
                notes.append(f"{name} {value:g} is outside the training range {bounds[0]:g}..{bounds[1]:g}")
        return notes
