"""The hand-written reference: the documents' backprop in numpy (``nn.backprop.ManualMLP``).

Its forward and backward are the documents' delta formulas, vectorised, allocating fresh
arrays as plain numpy code does; the update is an in-place ``p -= lr * g`` per parameter.
Every ratio in the tables is to this step, and every library's gradients are checked against
its own.
"""
from __future__ import annotations

import numpy as np

from benchmarks.steps import Implementation
from benchmarks.workloads import MLPSpec, SeedSpec, TanhSpec
from nn.backprop import ManualMLP


def _gradient_descent(model: ManualMLP, X: np.ndarray, y: np.ndarray, lr: float) -> Implementation:
    params = model.parameters()

    def step() -> None:
        for p, g in zip(params, model.backward(X, y).grads):
            p -= lr * g

    return Implementation(step, lambda: model.backward(X, y).grads)


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    model = ManualMLP.from_parameters(spec.params, activation=spec.activation,
                                      output_activation=spec.output_activation, loss=spec.loss)
    return _gradient_descent(model, spec.X, spec.y, spec.lr)


def seed(spec: SeedSpec, compiled: bool) -> Implementation:
    model = ManualMLP([W.copy() for W in spec.params], activation="tanh", output_activation="tanh",
                      loss="half_sse", bias_layout="row")
    return _gradient_descent(model, spec.X, spec.y, spec.lr)


def tanh(spec: TanhSpec, compiled: bool) -> Implementation:
    value = spec.value

    def step() -> np.ndarray:
        out = np.tanh(value)
        return 1.0 - out * out  # d tanh / dx times the upstream gradient 1

    return Implementation(step, lambda: [step()])
