"""PyTorch's steps (CPU, one thread): ``torch.nn`` layers and ``torch.optim.SGD``, eagerly, and the
same step function wrapped in ``torch.compile`` (TorchDynamo + Inductor, which generates C++ and
builds it with gcc; the step breaks its graph at ``backward()``, which runs the backward graph
AOTAutograd compiled).

torch keeps a linear layer's weight as (out, in) and computes ``x @ W.T + b``: weights are
transposed on the way in and gradients on the way out.  Inductor's caches are switched off so
that the first call's time is a whole compilation, as a user's first run pays it.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.steps import Implementation, from_the_step, pytorch_style_step
from benchmarks.timing import torch_module
from benchmarks.workloads import MLPSpec, SeedSpec, TanhSpec

torch = torch_module()


def _compiled_if(function: Callable[..., Any], compiled: bool) -> Callable[..., Any]:
    if not compiled:
        return function
    torch._dynamo.reset()  # the previous workload's compiled steps are not needed any more
    torch._inductor.config.force_disable_caches = True
    return torch.compile(function)


def _half_sse(yhat: Any, y: Any) -> Any:
    return 0.5 * ((yhat - y) ** 2).sum()


def _gradient_descent(params: list[Any], loss_of: Callable[[Any, Any], Any], spec: MLPSpec | SeedSpec,
                      compiled: bool, weights_transposed: bool = False) -> Implementation:
    """zero_grad, loss, backward, SGD step, from the workload's starting parameters."""
    optimizer = torch.optim.SGD(params, lr=spec.lr)

    def own_layout(index: int, array: np.ndarray) -> np.ndarray:
        return array.T if weights_transposed and index % 2 == 0 else array

    def restart() -> None:
        with torch.no_grad():
            for index, (p, value) in enumerate(zip(params, spec.params)):
                p.copy_(torch.from_numpy(np.ascontiguousarray(own_layout(index, value))))

    def read(_: Any) -> list[np.ndarray]:
        return [own_layout(index, p.grad.numpy()).copy() for index, p in enumerate(params)]

    restart()
    step = functools.partial(_compiled_if(pytorch_style_step(optimizer, loss_of), compiled), torch.from_numpy(spec.X), torch.from_numpy(spec.y))
    return from_the_step(step, restart, read)


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    activations = {"tanh": torch.nn.Tanh, "identity": torch.nn.Identity}
    layers = []
    for index, W in enumerate(spec.params[0::2]):
        last = index == len(spec.params) // 2 - 1
        layers += [torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64),
                   activations[spec.output_activation if last else spec.activation]()]
    model = torch.nn.Sequential(*layers)
    loss_function = _half_sse if spec.loss == "half_sse" else torch.nn.functional.mse_loss
    return _gradient_descent(list(model.parameters()), lambda X, y: loss_function(model(X), y), spec, compiled,
                             weights_transposed=True)


def seed(spec: SeedSpec, compiled: bool) -> Implementation:
    params = [torch.zeros(W.shape, dtype=torch.float64, requires_grad=True) for W in spec.params]

    def loss_of(X: Any, y: Any) -> Any:
        a = X
        for W in params:
            a = torch.tanh(torch.cat([a, torch.ones(a.shape[0], 1, dtype=a.dtype)], dim=1) @ W)
        return _half_sse(a, y)

    return _gradient_descent(params, loss_of, spec, compiled)


def tanh(spec: TanhSpec, compiled: bool) -> Implementation:
    x = torch.tensor(spec.value, requires_grad=True)

    def forward_backward() -> None:
        x.grad = None
        torch.tanh(x).backward()

    return from_the_step(_compiled_if(forward_backward, compiled), lambda: None, lambda _: [x.grad.numpy().copy()])
