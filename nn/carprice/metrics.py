"""How good the prices are: R^2, mean absolute error and root mean squared error, in euros."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn.carprice.listings import CarTable
from nn.carprice.model import predict_normalised
from nn.carprice.normalizer import Normalizer
from nn.layers import MLP


@dataclass(frozen=True)
class Metrics:
    """Quality of predicted prices, in euros."""

    r2: float
    mae: float
    rmse: float

    @classmethod
    def of(cls, actual: np.ndarray, predicted: np.ndarray) -> Metrics:
        actual = np.asarray(actual, dtype=np.float64).ravel()
        predicted = np.asarray(predicted, dtype=np.float64).ravel()
        error = actual - predicted
        spread = np.sum((actual - actual.mean()) ** 2)
        r2 = 1.0 - float(np.sum(error**2) / spread) if spread > 0 else float("nan")
        return cls(r2=r2, mae=float(np.mean(np.abs(error))), rmse=float(np.sqrt(np.mean(error**2))))


def evaluate(model: MLP, normalizer: Normalizer, table: CarTable) -> Metrics:
    """R^2, MAE and RMSE of the model's prices for ``table``, in euros."""
    predicted = normalizer.inverse_price(predict_normalised(model, normalizer.transform(table.km, table.fuel, table.age)))
    return Metrics.of(table.price, predicted)
