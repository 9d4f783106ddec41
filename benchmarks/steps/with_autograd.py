"""HIPS autograd: ``autograd.grad`` of the loss written with ``autograd.numpy``, then the update
in plain numpy.  It traces the function anew at every call (no compiled form)."""
from __future__ import annotations

import numpy as np

from benchmarks.steps import Implementation
from benchmarks.steps.losses import Loss, mlp_loss, seed_loss
from benchmarks.timing import optional
from benchmarks.workloads import MLPSpec, SeedSpec, TanhSpec

autograd = optional("autograd")


def _gradient_descent(loss: Loss, spec: MLPSpec | SeedSpec) -> Implementation:
    gradient = autograd.grad(loss)
    params = [p.copy() for p in spec.params]
    X, y, lr = spec.X, spec.y, spec.lr

    def step() -> None:
        for p, g in zip(params, gradient(params, X, y)):
            p -= lr * g

    return Implementation(step, lambda: list(gradient(params, X, y)))


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    return _gradient_descent(mlp_loss(autograd.numpy, spec), spec)


def seed(spec: SeedSpec, compiled: bool) -> Implementation:
    return _gradient_descent(seed_loss(autograd.numpy), spec)


def tanh(spec: TanhSpec, compiled: bool) -> Implementation:
    gradient = autograd.elementwise_grad(autograd.numpy.tanh)
    value = spec.value

    def step() -> np.ndarray:
        return gradient(value)

    return Implementation(step, lambda: [step()])
