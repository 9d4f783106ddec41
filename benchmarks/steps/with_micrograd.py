"""Karpathy's micrograd: a scalar engine, one ``Value`` node per number (the MLP workloads only;
the table times it on the 32-row car network)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.steps import Implementation
from benchmarks.timing import optional
from benchmarks.workloads import MLPSpec


def _value_class() -> Any:
    """micrograd's ``Value``, with the ``tanh`` of Karpathy's lecture version added in the
    engine's own style (the PyPI release 0.1.0 ships only ``relu``)."""
    Value = optional("micrograd.engine").Value
    if not hasattr(Value, "tanh"):
        def tanh(self: Any) -> Any:
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward() -> None:
                self.grad += (1 - t * t) * out.grad

            out._backward = _backward
            return out

        Value.tanh = tanh
    return Value


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    Value = _value_class()
    weights = [[[Value(float(w)) for w in row] for row in W] for W in spec.params[0::2]]
    biases = [[Value(float(v)) for v in b] for b in spec.params[1::2]]
    params = [v for W, b in zip(weights, biases) for v in [*(w for row in W for w in row), *b]]
    rows = [[float(v) for v in x] for x in spec.X]
    targets = [float(v) for v in spec.y[:, 0]]
    count = len(weights)

    def loss() -> Any:
        total = Value(0.0)
        for x, target in zip(rows, targets):
            a: list[Any] = x
            for index, (W, b) in enumerate(zip(weights, biases)):
                z = [sum((a[i] * W[i][j] for i in range(len(a))), b[j]) for j in range(len(b))]
                name = spec.output_activation if index == count - 1 else spec.activation
                a = [v.tanh() for v in z] if name == "tanh" else z
            diff = a[0] - target
            total = total + diff * diff
        return total * 0.5 if spec.loss == "half_sse" else total * (1.0 / len(rows))

    def backward() -> None:
        for p in params:
            p.grad = 0.0
        loss().backward()

    def step() -> None:
        backward()
        for p in params:
            p.data -= spec.lr * p.grad

    def gradients() -> list[np.ndarray]:
        backward()
        grads = []
        for W, b in zip(weights, biases):
            grads += [np.array([[w.grad for w in row] for row in W]), np.array([v.grad for v in b])]
        return grads

    return Implementation(step, gradients)
