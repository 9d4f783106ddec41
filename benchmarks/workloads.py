"""What is timed: the networks, their data and starting parameters, and the targets for each.

A *workload* is one training step to time; its *spec* holds everything an implementation needs
to build that step in its own library, so that every library starts from the same numbers:

* :class:`MLPSpec`  a ``x @ W + b`` network (the car MLP, the wide and the deep nets): sizes,
  activations, loss, learning rate, data, and the starting parameters of ``nn.MLP(seed=0)``;
* :class:`TanhSpec` one tanh on a 1x1 array, forward and backward: nothing but per-call cost;
* :class:`SeedSpec` the documents' five cars through their 3-3-2-1 tanh network with the biases
  as the last row of each weight matrix (``nn.backprop.seed_example``).

The targets are the issues' own: ``eager_target`` from the benchmarks issue (autotensor's ratio
to hand-written numpy, and its speed-up over PyTorch), ``compiled_target`` from the compiler
issue (the compiled step's ratio to hand-written numpy; on a small network it must also beat
jax.jit and torch.compile).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

import nn
from nn.backprop import seed_example

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "car_features.csv"


@dataclass
class MLPSpec:
    """A network of ``x @ W + b`` layers with the parameters ``nn.MLP(sizes, seed=0)`` starts from."""

    kind: ClassVar[str] = "mlp"
    sizes: list[int]
    activation: str
    output_activation: str
    loss: str  # "half_sse" (the documents' J) or "mse"
    lr: float
    X: np.ndarray
    y: np.ndarray
    params: list[np.ndarray] = field(default_factory=list)  # W0, b0, W1, b1, ...

    def __post_init__(self) -> None:
        model = nn.MLP(self.sizes, self.activation, self.output_activation, seed=0)
        self.params = [p.data.copy() for p in model.parameters()]


@dataclass
class TanhSpec:
    """tanh of one number and its derivative: what a library costs per call, and nothing else."""

    kind: ClassVar[str] = "tanh"
    value: np.ndarray = field(default_factory=lambda: np.array([[0.3]]))


@dataclass
class SeedSpec:
    """The documents' worked example: bias-row weights, tanh everywhere, J = 0.5 * sum((y - yhat)^2)."""

    kind: ClassVar[str] = "seed"
    X: np.ndarray = field(default_factory=lambda: seed_example.X.copy())
    y: np.ndarray = field(default_factory=lambda: seed_example.Y.copy())
    lr: float = seed_example.LEARNING_RATE
    params: list[np.ndarray] = field(default_factory=lambda: [W.copy() for W in seed_example.WEIGHTS])


Spec = MLPSpec | TanhSpec | SeedSpec


@dataclass
class Workload:
    key: str
    title: str
    spec: Spec
    # The benchmarks issue: (max autotensor / numpy ratio, min speed-up of autotensor over PyTorch).
    eager_target: tuple[float, float] | None = None
    # The compiler issue: max compiled / numpy ratio; and whether this is a small network, where
    # the compiled step must also be faster than jax.jit and torch.compile.
    compiled_target: float | None = None
    small_network: bool = True
    # micrograd builds one Python object per number: only the smallest batch is worth timing.
    excluded: frozenset[str] = frozenset({"micrograd"})


def car_data() -> tuple[np.ndarray, np.ndarray, str]:
    """The normalised training rows (80% of the cleaned listings), or a synthetic sample."""
    from nn.carprice import Normalizer, load_car_data
    from nn.carprice.synthetic import generate
    from nn.data import train_test_split

    if DATA_FILE.is_file():
        table, _ = load_car_data(DATA_FILE)
        source = "car_features.csv"
    else:
        table = generate(n=9061, seed=0)
        source = "synthetic listings (nn.carprice.synthetic; car_features.csv not found)"
    train, _ = train_test_split(len(table), test_fraction=0.2, seed=0)
    train_table = table.take(train)
    X, y = Normalizer().fit(train_table).transform_table(train_table)
    return X, y, source


def workloads() -> tuple[list[Workload], str]:
    """Every workload, in table order, and a note saying where the car data came from."""
    X, y, source = car_data()
    rng = np.random.default_rng(0)
    wide_X, wide_y = rng.normal(size=(256, 64)), rng.normal(size=(256, 10))
    deep_X, deep_y = rng.normal(size=(64, 16)), rng.normal(size=(64, 16))
    car = dict(sizes=[3, 3, 2, 1], activation="tanh", output_activation="tanh", loss="half_sse")
    n = len(X)
    found = [
        Workload("car_full", f"car MLP 3-3-2-1 tanh, full batch {n:,} rows",
                 MLPSpec(**car, lr=0.1 / n, X=X, y=y), eager_target=(1.10, 1.0), compiled_target=0.50),
        Workload("car_32", "car MLP 3-3-2-1 tanh, batch 32",
                 MLPSpec(**car, lr=0.1 / 32, X=X[:32].copy(), y=y[:32].copy()),
                 eager_target=(2.5, 1.0), compiled_target=0.65, excluded=frozenset()),
        Workload("wide", "64-256-256-10 tanh, batch 256 (MSE)",
                 MLPSpec([64, 256, 256, 10], "tanh", "identity", "mse", 0.01, wide_X, wide_y),
                 eager_target=(1.10, 1.0), compiled_target=1.00, small_network=False),
        Workload("deep", "20 layers x 16 tanh, batch 64 (MSE)",
                 MLPSpec([16] * 21, "tanh", "identity", "mse", 0.01, deep_X, deep_y),
                 eager_target=(2.0, 1.0), compiled_target=0.70),
        Workload("tanh", "one tanh on 1x1, forward + backward", TanhSpec(),
                 eager_target=(5.0, 2.0), compiled_target=0.70),
        Workload("seed", "documents' seed network 3-3-2-1 tanh, bias-row layout, 5 rows", SeedSpec()),
    ]
    return found, f"car data: {source}, {n:,} training rows (80% of {round(n / 0.8):,})"
