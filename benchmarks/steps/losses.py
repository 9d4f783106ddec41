"""The workloads' losses written once for every library with a numpy-like namespace ``xp``
(``autograd.numpy``, ``jax.numpy``, ``tf.experimental.numpy``): the same expression, traced or
differentiated by each library in its own way.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.workloads import MLPSpec

Loss = Callable[[Sequence[Any], Any, Any], Any]  # (params, X, y) -> J


def mlp_loss(xp: Any, spec: MLPSpec) -> Loss:
    """J of the ``x @ W + b`` network for params W0, b0, W1, b1, ..."""
    activations = {"tanh": xp.tanh, "identity": lambda z: z}
    count = len(spec.params) // 2

    def loss(params: Sequence[Any], X: Any, y: Any) -> Any:
        a = X
        for index in range(count):
            name = spec.output_activation if index == count - 1 else spec.activation
            a = activations[name](xp.dot(a, params[2 * index]) + params[2 * index + 1])
        diff = a - y
        return 0.5 * xp.sum(diff * diff) if spec.loss == "half_sse" else xp.mean(diff * diff)

    return loss


def seed_loss(xp: Any) -> Loss:
    """The documents' J = 0.5 * sum((y - yhat)^2), each layer ``tanh([a, 1] @ W)`` (bias rows)."""

    def loss(params: Sequence[Any], X: Any, y: Any) -> Any:
        a = X
        for W in params:
            a = xp.tanh(xp.dot(xp.concatenate([a, xp.ones((a.shape[0], 1), dtype=a.dtype)], axis=1), W))
        return 0.5 * xp.sum((y - a) ** 2)

    return loss
