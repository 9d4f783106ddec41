"""The settings of a training run, checked when they are made.

One frozen :class:`TrainConfig` holds every choice ``train`` makes (network, optimiser,
schedule, epochs, batches, seeds, split); it is saved in the model file, so a trained model
says how it was trained.  ``autotensor train`` takes its defaults from here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from nn.data import split_problems
from nn.layers import ACTIVATIONS

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")
DEFAULT_LR = {"adam": 0.03, "sgd": 0.1}


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
    compiled: bool = True  # train with at.compile (the same model to 1e-12, faster)

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
        problems += split_problems(self.seed, self.split_seed, self.test_fraction)
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
