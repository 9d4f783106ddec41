"""autotensor's steps, written as a user writes them: ``nn.MLP``, ``nn.losses``, ``nn.optim.SGD``.

The compiled form is the very same function wrapped in ``at.compile``: its first call traces
(and runs eagerly), later calls replay the generated numpy (``step.source``).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import autotensor as at
import nn
from benchmarks.steps import Implementation, from_the_step, pytorch_style_step
from benchmarks.workloads import MLPSpec, SeedSpec, TanhSpec
from nn.backprop import seed_example


def _compiled_if(function: Callable[..., Any], compiled: bool) -> Callable[..., Any]:
    return at.compile(function) if compiled else function


def _gradient_descent(params: list[at.Tensor], loss_of: Callable[[np.ndarray, np.ndarray], at.Tensor],
                      spec: MLPSpec | SeedSpec, compiled: bool) -> Implementation:
    """zero_grad, loss, backward, SGD step: the whole step is what ``at.compile`` sees."""
    optimizer = nn.optim.SGD(params, lr=spec.lr)
    start = [p.data.copy() for p in params]

    def restart() -> None:
        for p, value in zip(params, start):
            p.data[...] = value

    step = functools.partial(_compiled_if(pytorch_style_step(optimizer, loss_of), compiled), spec.X, spec.y)
    return from_the_step(step, restart, lambda _: [p.grad.numpy().copy() for p in params])


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    model = nn.MLP(spec.sizes, spec.activation, spec.output_activation, seed=0)
    for p, value in zip(model.parameters(), spec.params):
        p.data[...] = value
    loss_function = nn.losses.get_loss(spec.loss)
    return _gradient_descent(list(model.parameters()), lambda X, y: loss_function(model(X), y), spec, compiled)


def seed(spec: SeedSpec, compiled: bool) -> Implementation:
    """The documents' own code: ``seed_example.forward`` appends the ones column to each layer."""
    params = [at.Tensor(W.copy(), requires_grad=True) for W in spec.params]

    def loss_of(X: np.ndarray, y: np.ndarray) -> at.Tensor:
        yhat, _ = seed_example.forward(tuple(params), X)
        return seed_example.cost(yhat, y)

    return _gradient_descent(params, loss_of, spec, compiled)


def tanh(spec: TanhSpec, compiled: bool) -> Implementation:
    x = at.Tensor(spec.value.copy(), requires_grad=True)

    def forward_backward() -> None:
        x.grad = None
        x.tanh().backward()

    step = _compiled_if(forward_backward, compiled)
    return from_the_step(step, lambda: None, lambda _: [x.grad.numpy().copy()])
