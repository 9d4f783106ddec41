"""The car-price application: train the documents' network on the listings, evaluate it in
euros, save it with what prediction needs, and price new cars.

The pipeline (``train``):

1. the cleaned listings (``nn.data``) are split into training and test rows with
   ``split_seed`` - fixed by default, so runs with different ``seed`` s are measured on the same
   test cars and differ only by the training's own randomness (initial weights, batch order);
2. a :class:`~nn.data.Normalizer` is fitted on the *training* rows only (z-scored km and age,
   fuel -1/+1, price min-max to [0, 1]);
3. an ``MLP([3, *hidden, 1])`` - by default the documents' 3-3-2-1 tanh network with a linear
   output - is fitted by minimising the mean squared error on normalised prices, with Adam on
   shuffled mini-batches and a cosine learning-rate decay;
4. R^2, MAE and RMSE are computed on prices turned back into euros.

The saved model file (``nn.save``) carries the normaliser statistics in its metadata, so
:class:`CarPriceModel` can price a car given in kilometres, fuel name and years.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autotensor as at
from nn import data as cardata
from nn import synthetic
from nn.layers import ACTIVATIONS, MLP
from nn.losses import mse
from nn.optim import SGD, Adam, CosineSchedule, Optimizer
from nn.serialization import ModelFileError, load, save

__all__ = [
    "APPLICATION", "CarPriceModel", "DataSource", "Metrics", "TrainConfig", "TrainResult", "TrainingError",
    "choose_data", "evaluate", "plot_training", "train",
]

APPLICATION = "autotensor-carprice"
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")
DEFAULT_LR = {"adam": 0.03, "sgd": 0.1}
# The cosine schedule ends at this fraction of the initial learning rate.
FINAL_LR_FRACTION = 0.01

Progress = Callable[[int, int, float, float], None]


class TrainingError(RuntimeError):
    """Training that cannot go on, e.g. a loss that became NaN (learning rate too high)."""


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run; the defaults meet the quality bar on the real listings."""

    hidden: tuple[int, ...] = (3, 2)
    activation: str = "tanh"
    output_activation: str = "identity"
    optimizer: str = "adam"
    lr: float | None = None  # None: DEFAULT_LR of the optimiser
    momentum: float = 0.9  # SGD only
    epochs: int = 200
    batch_size: int = 256  # 0: full batch
    l2: float = 0.0
    schedule: str = "cosine"
    seed: int = 0
    split_seed: int = 0
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        problems = []
        if any(int(h) < 1 for h in self.hidden):
            problems.append(f"hidden layer sizes must be positive, got {list(self.hidden)}")
        for name in ("activation", "output_activation"):
            if getattr(self, name) not in ACTIVATIONS:
                problems.append(f"unknown {name} {getattr(self, name)!r}; choose one of {sorted(ACTIVATIONS)}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            problems.append(f"unknown schedule {self.schedule!r}; choose one of {list(SCHEDULES)}")
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            problems.append(f"learning rate must be a positive number, got {self.lr}")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1), got {self.momentum}")
        if self.epochs < 1:
            problems.append(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 0:
            problems.append(f"batch size must be >= 0 (0 = full batch), got {self.batch_size}")
        if not (self.l2 >= 0 and math.isfinite(self.l2)):
            problems.append(f"l2 must be >= 0, got {self.l2}")
        if not 0 < self.test_fraction < 1:
            problems.append(f"test fraction must be between 0 and 1, got {self.test_fraction}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    @property
    def sizes(self) -> list[int]:
        return [3, *self.hidden, 1]

    def describe(self) -> str:
        batches = "full batch" if self.batch_size == 0 else f"batches of {self.batch_size}"
        return (
            f"MLP {'-'.join(map(str, self.sizes))} ({self.activation}, output {self.output_activation}); "
            f"{self.optimizer} lr {self.learning_rate:g} ({self.schedule}), {self.epochs} epochs, {batches}, "
            f"l2 {self.l2:g}, seed {self.seed}, split seed {self.split_seed}"
        )


# ---------------------------------------------------------------------- data
@dataclass(frozen=True)
class DataSource:
    """Cleaned listings and a sentence saying where they come from."""

    table: cardata.CarTable
    description: str
    kind: str  # "file", "cache" or "synthetic"


def choose_data(path: str | Path | None = None) -> DataSource:
    """Listings from ``path``; else the cached real listings; else the synthetic sample."""
    if path is not None:
        table, report = cardata.load_car_data(path)
        return DataSource(table, f"listings from {path} ({report})", "file")
    cached = cardata.cached_data_path()
    if cached is not None:
        table, report = cardata.load_car_data(cached)
        return DataSource(table, f"the cached real listings at {cached} ({report})", "cache")
    table, _ = cardata.clean(synthetic.generate(seed=0))
    return DataSource(
        table,
        f"a SYNTHETIC sample of {len(table)} listings (nn.synthetic; no --data given and no cached "
        f"real listings - run `autotensor data fetch` to download them)",
        "synthetic",
    )


# ---------------------------------------------------------------------- metrics
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


def predict_normalised(model: MLP, X: np.ndarray) -> np.ndarray:
    """The model's outputs for normalised inputs, without recording a graph."""
    with at.no_grad():
        return model(X).data


def evaluate(model: MLP, normalizer: cardata.Normalizer, table: cardata.CarTable) -> Metrics:
    """R^2, MAE and RMSE of the model's prices for ``table``, in euros."""
    predicted = normalizer.inverse_price(predict_normalised(model, normalizer.transform(table.km, table.fuel, table.age)))
    return Metrics.of(table.price, predicted)


# ---------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """A trained model with everything needed to report on it, plot it and save it."""

    model: MLP
    normalizer: cardata.Normalizer
    config: TrainConfig
    source: DataSource
    train_table: cardata.CarTable
    test_table: cardata.CarTable
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
            "metrics": {part: dataclasses.asdict(m) for part, m in self.metrics.items()},
            "final_loss": {"train": self.train_loss[-1], "test": self.test_loss[-1]},
            "seconds": round(self.seconds, 3),
        }

    def save(self, path: str | Path) -> Path:
        return save(self.model, path, self.metadata())


def _optimizer(model: MLP, config: TrainConfig) -> Optimizer:
    if config.optimizer == "adam":
        return Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.l2)
    return SGD(model.parameters(), lr=config.learning_rate, momentum=config.momentum, weight_decay=config.l2)


def train(source: DataSource, config: TrainConfig = TrainConfig(), progress: Progress | None = None) -> TrainResult:
    """Split, normalise, fit and evaluate; ``progress(epoch, epochs, train_loss, test_loss)``
    is called after every epoch (losses are MSE on normalised prices).

    ``l2`` is applied as weight decay on the weight matrices (gradient + l2 * W, the documents'
    regularisation).  Raises :class:`TrainingError` if the loss stops being finite.
    """
    table = source.table
    if len(table) < 10:
        raise ValueError(f"need at least 10 listings to train and test, got {len(table)}")
    train_rows, test_rows = cardata.train_test_split(len(table), config.test_fraction, config.split_seed)
    train_table, test_table = table.take(train_rows), table.take(test_rows)
    normalizer = cardata.Normalizer().fit(train_table)
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
    """The epochs: shuffled mini-batches, then the full train and test losses for the curves."""
    (X_train, y_train), (X_test, y_test) = train_set, test_set
    n = len(X_train)
    shuffle = np.random.default_rng([config.seed, 1])  # its own stream: init and order stay independent
    for epoch in range(1, config.epochs + 1):
        order = shuffle.permutation(n) if batch < n else None
        for start in range(0, n, batch):
            rows = slice(None) if order is None else order[start:start + batch]
            optimizer.zero_grad()
            loss = mse(model(X_train[rows]), y_train[rows])
            loss.backward()
            optimizer.step()
        if schedule is not None:
            schedule.step()
        with at.no_grad():
            train_loss = mse(model(X_train), y_train).item()
            test_loss = mse(model(X_test), y_test).item()
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            raise TrainingError(
                f"the loss became {train_loss} at epoch {epoch}; lower the learning rate (now {config.learning_rate:g})"
            )
        result.train_loss.append(train_loss)
        result.test_loss.append(test_loss)
        if progress is not None:
            progress(epoch, config.epochs, train_loss, test_loss)


# ---------------------------------------------------------------------- plotting
def plot_training(result: TrainResult, path: str | Path) -> Path:
    """Loss curves (train and test) and predicted-vs-actual test prices, as one image.

    Needs matplotlib (``pip install 'autotensor[plot]'``); raises ImportError with that hint.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'autotensor[plot]'") from None
    figure, (curves, scatter) = plt.subplots(1, 2, figsize=(11, 4.5))
    epochs = np.arange(1, len(result.train_loss) + 1)
    curves.plot(epochs, result.train_loss, label="train")
    curves.plot(epochs, result.test_loss, label="test")
    curves.set_yscale("log")
    curves.set_xlabel("epoch")
    curves.set_ylabel("MSE (normalised price)")
    curves.set_title("Loss")
    curves.legend()
    actual = result.test_table.price
    predicted = result.test_predictions()
    scatter.scatter(actual, predicted, s=4, alpha=0.4)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    scatter.plot([low, high], [low, high], color="black", linewidth=1, label="perfect")
    test = result.metrics.get("test")
    title = "Test cars" if test is None else f"Test cars: R² {test.r2:.3f}, MAE {test.mae:,.0f} EUR"
    scatter.set_title(title)
    scatter.set_xlabel("actual price (EUR)")
    scatter.set_ylabel("predicted price (EUR)")
    scatter.legend()
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


# ---------------------------------------------------------------------- prediction
class CarPriceModel:
    """A saved car-price model ready to price cars: ``CarPriceModel.load(path).predict(...)``."""

    def __init__(self, model: MLP, normalizer: cardata.Normalizer, metadata: dict[str, Any]) -> None:
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
            normalizer = cardata.Normalizer.from_dict(metadata["normalizer"])
        except (cardata.DataError, TypeError, AttributeError) as error:
            raise ModelFileError(f"{path}: damaged normaliser statistics: {error}") from None
        return cls(model, normalizer, metadata)

    def predict(self, km: Sequence[float] | float, fuel: Sequence[str] | str, age: Sequence[float] | float) -> np.ndarray:
        """Prices in euros, one per car; fuel names as accepted by ``nn.data.encode_fuel``.

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
