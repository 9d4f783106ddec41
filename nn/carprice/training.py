"""Training the car-price network: split, normalise, fit, evaluate in euros.

The pipeline (:func:`train`):

1. the cleaned listings (:mod:`nn.carprice.listings`) are split into training and test rows
   with ``split_seed`` - fixed by default, so runs with different ``seed`` s are measured on the
   same test cars and differ only by the training's own randomness (initial weights, batch order);
2. a :class:`~nn.carprice.normalizer.Normalizer` is fitted on the *training* rows only
   (z-scored km and age, fuel -1/+1, price min-max to [0, 1]);
3. an ``MLP([3, *hidden, 1])`` - by default the documents' 3-3-2-1 tanh network with a linear
   output - is fitted by minimising the mean squared error on normalised prices, with Adam on
   shuffled mini-batches and a cosine learning-rate decay;
4. R^2, MAE and RMSE are computed on prices turned back into euros.

:class:`TrainResult` keeps everything a report, a plot or the model file needs.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autotensor as at
from nn.carprice.config import TrainConfig
from nn.carprice.listings import CarTable, DataError
from nn.carprice.metrics import Metrics, evaluate
from nn.carprice.model import APPLICATION, predict_normalised
from nn.carprice.normalizer import Normalizer
from nn.carprice.sources import DataSource
from nn.data import minibatches, train_test_split
from nn.layers import MLP
from nn.losses import mse
from nn.optim import SGD, Adam, CosineSchedule, Optimizer
from nn.serialization import save

# The cosine schedule ends at this fraction of the initial learning rate.
FINAL_LR_FRACTION = 0.01

Progress = Callable[[int, int, float, float], None]


#: The fewest listings in each of the training and the test part: fewer cannot be measured
#: (R^2 needs prices that differ) and would only be noticed after the whole run.
MIN_ROWS = 10


class TrainingError(RuntimeError):
    """Training that cannot go on, e.g. a loss that became NaN (learning rate too high)."""


class SplitError(ValueError):
    """A test fraction that leaves too few listings in the training or the test part."""


def check_split(rows: int, test_fraction: float) -> None:
    """Refuse, before any work, a split leaving fewer than MIN_ROWS listings in either part.

    Too few listings at all raise ``DataError`` (the data must change); a fraction that
    starves one part of enough listings raises ``SplitError`` (the fraction must change).
    """
    if rows < 2 * MIN_ROWS:
        raise DataError(f"only {rows} usable listings; training and testing need at least {2 * MIN_ROWS}")
    tested = round(rows * test_fraction)
    if min(tested, rows - tested) < MIN_ROWS:
        raise SplitError(
            f"a test fraction of {test_fraction:g} leaves {tested} of {rows} listings for testing and "
            f"{rows - tested} for training; each part needs at least {MIN_ROWS}"
        )


@dataclass
class TrainResult:
    """A trained model with everything needed to report on it, plot it and save it."""

    model: MLP
    normalizer: Normalizer
    config: TrainConfig
    source: DataSource
    train_table: CarTable
    test_table: CarTable
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    metrics: dict[str, Metrics] = field(default_factory=dict)
    seconds: float = 0.0

    def test_predictions(self) -> np.ndarray:
        X = self.normalizer.transform(self.test_table.km, self.test_table.fuel, self.test_table.age)
        return self.normalizer.inverse_price(predict_normalised(self.model, X)).ravel()

    def metadata(self) -> dict[str, Any]:
        """What the model file keeps besides the weights (JSON data)."""
        train = self.train_table
        return {
            "application": APPLICATION,
            "normalizer": self.normalizer.to_dict(),
            "training": dataclasses.asdict(self.config) | {"lr": self.config.learning_rate},
            "data": {"source": self.source.kind, "rows_train": len(train), "rows_test": len(self.test_table)},
            "input_ranges": {
                "km": [float(train.km.min()), float(train.km.max())],
                "age": [float(train.age.min()), float(train.age.max())],
            },
            "metrics": {part: _json_numbers(dataclasses.asdict(m)) for part, m in self.metrics.items()},
            "final_loss": {"train": self.train_loss[-1], "test": self.test_loss[-1]},
            "seconds": round(self.seconds, 3),
        }

    def save(self, path: str | Path) -> Path:
        return save(self.model, path, self.metadata())


def _json_numbers(values: dict[str, float]) -> dict[str, float | None]:
    """NaN (R^2 of test prices that are all equal) as JSON's null: a measure that does not
    exist must not stop a trained model from being saved."""
    return {name: value if math.isfinite(value) else None for name, value in values.items()}


def _optimizer(model: MLP, config: TrainConfig) -> Optimizer:
    if config.optimizer == "adam":
        return Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.l2)
    return SGD(model.parameters(), lr=config.learning_rate, momentum=config.momentum, weight_decay=config.l2)


def train(source: DataSource, config: TrainConfig = TrainConfig(), progress: Progress | None = None) -> TrainResult:
    """Split, normalise, fit and evaluate; ``progress(epoch, epochs, train_loss, test_loss)``
    is called after every epoch (losses are MSE on normalised prices).

    ``l2`` is applied as weight decay on the weight matrices (gradient + l2 * W, the documents'
    regularisation).  Raises :class:`SplitError` or ``DataError`` before any work if a part
    would have fewer than MIN_ROWS listings, :class:`TrainingError` if the loss stops being finite.
    """
    table = source.table
    check_split(len(table), config.test_fraction)
    train_rows, test_rows = train_test_split(len(table), config.test_fraction, config.split_seed)
    train_table, test_table = table.take(train_rows), table.take(test_rows)
    normalizer = Normalizer().fit(train_table)
    X_train, y_train = normalizer.transform_table(train_table)
    X_test, y_test = normalizer.transform_table(test_table)

    model = MLP(config.sizes, config.activation, config.output_activation, seed=config.seed)
    optimizer = _optimizer(model, config)
    schedule = (
        CosineSchedule(optimizer, config.epochs, config.learning_rate * FINAL_LR_FRACTION)
        if config.schedule == "cosine" else None
    )
    n = len(X_train)
    batch = n if config.batch_size == 0 else min(config.batch_size, n)
    result = TrainResult(model, normalizer, config, source, train_table, test_table)
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # _fit reports divergence as TrainingError
        _fit(model, optimizer, schedule, config, (X_train, y_train), (X_test, y_test), batch, progress, result)
    result.seconds = time.perf_counter() - started
    result.metrics = {
        "train": evaluate(model, normalizer, train_table),
        "test": evaluate(model, normalizer, test_table),
    }
    return result


def _fit(
    model: MLP, optimizer: Optimizer, schedule: CosineSchedule | None, config: TrainConfig,
    train_set: tuple[np.ndarray, np.ndarray], test_set: tuple[np.ndarray, np.ndarray], batch: int,
    progress: Progress | None, result: TrainResult,
) -> None:
    """The epochs: shuffled mini-batches, then the full train and test losses for the curves.

    With ``config.compiled`` the training step and the loss are compiled (``at.compile``): the
    first batch of each size traces them, every later one replays the generated code.
    """
    (X_train, y_train), (X_test, y_test) = train_set, test_set

    def step(X: np.ndarray, y: np.ndarray) -> None:
        optimizer.zero_grad()
        mse(model(X), y).backward()
        optimizer.step()

    def loss_of(X: np.ndarray, y: np.ndarray) -> at.Tensor:
        with at.no_grad():
            return mse(model(X), y)

    if config.compiled:
        step, loss_of = at.compile(step), at.compile(loss_of)
    shuffle = np.random.default_rng([config.seed, 1])  # its own stream: init and order stay independent
    for epoch in range(1, config.epochs + 1):
        for rows in minibatches(len(X_train), batch, shuffle):
            step(X_train[rows], y_train[rows])
        if schedule is not None:
            schedule.step()
        train_loss = loss_of(X_train, y_train).item()
        test_loss = loss_of(X_test, y_test).item()
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            raise TrainingError(
                f"the loss became {train_loss} at epoch {epoch}; lower the learning rate (now {config.learning_rate:g})"
            )
        result.train_loss.append(train_loss)
        result.test_loss.append(test_loss)
        if progress is not None:
            progress(epoch, config.epochs, train_loss, test_loss)
