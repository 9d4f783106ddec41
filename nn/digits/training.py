"""Training a digits classifier: split, standardise, fit, evaluate.

The pipeline (:func:`train`):

1. the 1,797 digits are split into training and test digits with ``split_seed`` (fixed by
   default, so runs with other seeds are measured on the same test digits);
2. a :class:`~nn.digits.data.Standardizer` is fitted on the training digits (document 003's
   feature scaling) and the targets are one-hot rows;
3. the recipe's network is fitted to the training digits (its cost, optimiser, batches and
   epochs; see :mod:`nn.digits.recipes`), each step compiled with ``at.compile`` unless
   ``compiled=False``;
4. the test digits are classified by the largest output: accuracy and confusion matrix.

Training runs with one BLAS thread (through ``threadpoolctl``, which scikit-learn brings): the
digits' matrices are small, so a second thread costs more in synchronisation than it computes,
and on a busy machine far more (document 003's setting trained in 12 s with one thread and 49 s
with two on this project's 2-core machine under load).

:class:`DigitsResult` keeps everything a report, a plot or the model file needs.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autotensor as at
from nn.data import minibatches, train_test_split
from nn.digits.config import DigitsConfig, check_split
from nn.digits.data import Digits, Standardizer, load_digits, one_hot
from nn.digits.metrics import accuracy, confusion_matrix
from nn.module import Module
from nn.serialization import save

__all__ = ["APPLICATION", "DigitsResult", "TrainingError", "classify", "train"]

#: The ``application`` entry of a digits model file's metadata.
APPLICATION = "autotensor-digits"

Progress = Callable[[int, int, float, float], None]


class TrainingError(RuntimeError):
    """Training that cannot go on: the loss stopped being finite (a learning rate too high)."""


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit numpy's BLAS to one thread inside the block (no change without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def classify(model: Module, inputs: np.ndarray) -> np.ndarray:
    """The class of each input: the index of its largest output (no graph recorded)."""
    with at.no_grad():
        return np.argmax(model(inputs).data, axis=1)


@dataclass
class DigitsResult:
    """A trained classifier with what is needed to report on it, plot it and save it."""

    model: Module
    standardizer: Standardizer
    config: DigitsConfig
    train_digits: Digits
    test_digits: Digits
    predicted: np.ndarray  # the class given to each test digit
    train_accuracy: float
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return accuracy(self.test_digits.labels, self.predicted)

    @property
    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.test_digits.labels, self.predicted)

    def metadata(self) -> dict[str, Any]:
        """What the model file keeps besides the weights (JSON data)."""
        config = self.config
        return {
            "application": APPLICATION,
            "recipe": config.recipe.name,
            "images": config.recipe.images,
            "standardizer": self.standardizer.to_dict(),
            "training": dataclasses.asdict(config) | {"lr": config.learning_rate, "epochs": config.total_epochs,
                                                       "batch_size": config.batch},
            "data": {"train": len(self.train_digits), "test": len(self.test_digits)},
            "accuracy": {"train": self.train_accuracy, "test": self.accuracy},
            "confusion": self.confusion.tolist(),
            "final_loss": {"train": self.train_loss[-1], "test": self.test_loss[-1]},
            "seconds": round(self.seconds, 3),
        }

    def save(self, path: str | Path) -> Path:
        return save(self.model, path, self.metadata())


def train(config: DigitsConfig = DigitsConfig(), progress: Progress | None = None,
          digits: Digits | None = None) -> DigitsResult:
    """Split, standardise, fit and evaluate; ``progress(epoch, epochs, train_loss, test_loss)``
    is called after every epoch (an iteration of a full-batch recipe).  Raises ``SplitError``
    before any work when a part would have too few digits, :class:`TrainingError` when the loss
    stops being finite."""
    digits = load_digits() if digits is None else digits
    check_split(len(digits), config.test_fraction)
    train_rows, test_rows = train_test_split(len(digits), config.test_fraction, config.split_seed)
    train_digits, test_digits = digits.take(train_rows), digits.take(test_rows)
    standardizer = Standardizer().fit(train_digits.features)
    recipe = config.recipe
    X_train = recipe.inputs(standardizer.transform(train_digits.features))
    X_test = recipe.inputs(standardizer.transform(test_digits.features))
    Y_train, Y_test = one_hot(train_digits.labels), one_hot(test_digits.labels)

    model = recipe.build(config.seed)
    optimizer, schedule = recipe.make_optimizer(model, config.learning_rate, config.total_epochs)

    def step(X: np.ndarray, Y: np.ndarray) -> None:
        optimizer.zero_grad()
        recipe.loss(model(X), Y).backward()
        optimizer.step()

    def loss_of(X: np.ndarray, Y: np.ndarray) -> at.Tensor:
        with at.no_grad():
            return recipe.loss(model(X), Y)

    if config.compiled:
        step, loss_of = at.compile(step), at.compile(loss_of)
    train_loss: list[float] = []
    test_loss: list[float] = []
    batch = len(X_train) if config.batch == 0 else min(config.batch, len(X_train))
    shuffle = np.random.default_rng([config.seed, 1])  # its own stream: init and order stay independent
    epochs = config.total_epochs
    started = time.perf_counter()
    with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):  # divergence: TrainingError
        for epoch in range(1, epochs + 1):
            model.train()
            for rows in minibatches(len(X_train), batch, shuffle):
                step(X_train[rows], Y_train[rows])
            if schedule is not None:
                schedule.step()
            model.eval()
            train_loss.append(loss_of(X_train, Y_train).item())
            test_loss.append(loss_of(X_test, Y_test).item())
            if not (math.isfinite(train_loss[-1]) and math.isfinite(test_loss[-1])):
                raise TrainingError(f"the loss became {train_loss[-1]} at epoch {epoch}; lower the learning "
                                    f"rate (now {config.learning_rate:g})")
            if progress is not None:
                progress(epoch, epochs, train_loss[-1], test_loss[-1])
    seconds = time.perf_counter() - started
    model.eval()
    train_accuracy = accuracy(train_digits.labels, classify(model, X_train))
    return DigitsResult(model, standardizer, config, train_digits, test_digits, classify(model, X_test),
                        train_accuracy, train_loss, test_loss, seconds)
