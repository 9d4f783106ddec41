"""The settings of a digits run, checked when they are made.

A :class:`DigitsConfig` names the network (``arch``, or document 003's own setting) and may
override its recipe's epochs, batch size and learning rate; the seeds fix the initial weights
and the batch order (``seed``) and which digits are held out for testing (``split_seed``).  It is
saved in the model file, so a trained model says how it was trained.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from nn.data import split_problems
from nn.digits.recipes import Recipe, recipe_for

__all__ = ["ARCHITECTURES", "DigitsConfig", "MIN_DIGITS", "SplitError", "check_split"]

ARCHITECTURES = ("mlp", "cnn")

#: The fewest digits in each of the training and the test part.
MIN_DIGITS = 10


class SplitError(ValueError):
    """A test fraction that leaves too few digits in the training or the test part."""


def check_split(count: int, test_fraction: float) -> tuple[int, int]:
    """(training digits, test digits), or SplitError when a part would have fewer than MIN_DIGITS."""
    tested = round(count * test_fraction)
    if min(tested, count - tested) < MIN_DIGITS:
        raise SplitError(
            f"a test fraction of {test_fraction:g} leaves {tested} of {count} digits for testing and "
            f"{count - tested} for training; each part needs at least {MIN_DIGITS}"
        )
    return count - tested, tested


@dataclass(frozen=True)
class DigitsConfig:
    """Every setting of a run; None takes the recipe's value."""

    arch: str = "mlp"
    document: bool = False  # document 003's own setting (an MLP trained as the slides train it)
    epochs: int | None = None
    batch_size: int | None = None  # 0: the whole training set
    lr: float | None = None
    seed: int = 0
    split_seed: int = 0
    test_fraction: float = 0.2
    compiled: bool = True  # the training step through at.compile (the same model, faster)

    def __post_init__(self) -> None:
        checks = [
            (self.epochs is None or self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size is None or self.batch_size >= 0,
             f"batch size must be >= 0 (0 = all training digits), got {self.batch_size}"),
            (self.lr is None or (self.lr > 0 and math.isfinite(self.lr)),
             f"learning rate must be a positive number, got {self.lr}"),
        ]
        problems = [message for holds, message in checks if not holds]
        try:
            recipe_for(self.arch, self.document)
        except ValueError as error:
            problems.insert(0, str(error))
        if problems := problems + split_problems(self.seed, self.split_seed, self.test_fraction):
            raise ValueError("; ".join(problems))

    @property
    def recipe(self) -> Recipe:
        return recipe_for(self.arch, self.document)

    @property
    def learning_rate(self) -> float:
        return self.recipe.lr if self.lr is None else self.lr

    @property
    def total_epochs(self) -> int:
        return self.recipe.epochs if self.epochs is None else self.epochs

    @property
    def batch(self) -> int:
        return self.recipe.batch_size if self.batch_size is None else self.batch_size

    def describe(self) -> str:
        recipe = self.recipe
        batches = "full batch" if self.batch == 0 else f"batches of {self.batch}"
        rounds = "iterations" if self.batch == 0 else "epochs"
        optimiser = "gradient descent" if recipe.optimizer == "gd" else "adam"
        schedule = " (cosine)" if recipe.cosine else ""
        return (f"{recipe.description}; {optimiser} lr {self.learning_rate:g}{schedule}, {self.total_epochs} "
                f"{rounds}, {batches}, seed {self.seed}, split seed {self.split_seed}"
                f"{'' if self.compiled else ', eager (not compiled)'}")
