"""Gradient hooks inside compiled steps: they run on traced values while the step is traced, so
what they compute is in the generated code, and a replay equals the eager step; a hook
registered or removed afterwards makes the trace stale, never silently ignored."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autotensor as at
import nn


def _setup(hook_on_weights: Callable[[at.Tensor], at.Tensor] | None,
           clipped: list[bool] | None = None) -> tuple[Callable[..., at.Tensor], nn.MLP]:
    model = nn.MLP([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    first_weights = model.parameters()[0]
    if hook_on_weights is not None:
        first_weights.register_hook(hook_on_weights)

    def clip(g: at.Tensor) -> at.Tensor:
        if clipped is not None:  # (eager only: a compiled hook cannot read values)
            clipped.append(bool(np.abs(g.data).max() > 0.002))
        return g.clip(-0.002, 0.002)

    def step(X: np.ndarray, y: np.ndarray) -> at.Tensor:
        optimizer.zero_grad()
        z = model.layers[0](at.Tensor(X))
        z.register_hook(clip)  # a hook on a tensor made inside the step
        prediction = model.layers[2](model.layers[1](z))
        loss = nn.mse(prediction, y)
        loss.backward()
        optimizer.step()
        return loss

    return step, model


def test_hooks_that_scale_and_clip_gradients_compile_to_the_eager_steps() -> None:
    clipped: list[bool] = []
    eager_step, eager_model = _setup(lambda g: g * 0.5, clipped)
    compiled_step, compiled_model = _setup(lambda g: g * 0.5)
    compiled_step = at.compile(compiled_step)
    rng = np.random.default_rng(5)
    for _ in range(200):
        X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
        loss_e, loss_c = eager_step(X, y), compiled_step(X, y)
        np.testing.assert_allclose(loss_c.data, loss_e.data, rtol=0, atol=1e-12)
        for p_e, p_c in zip(eager_model.parameters(), compiled_model.parameters()):
            np.testing.assert_allclose(p_c.data, p_e.data, rtol=0, atol=1e-12)
            np.testing.assert_allclose(p_c.grad.data, p_e.grad.data, rtol=0, atol=1e-12)
    assert sum(len(traces) for traces in compiled_step.traces.values()) == 1
    assert sum(clipped) > 100  # the clip changed the gradient in most steps


def test_a_hook_registered_or_removed_after_tracing_is_honoured() -> None:
    W = at.Tensor(np.array([[0.5], [-0.25]]), requires_grad=True)

    @at.compile
    def gradient(X: np.ndarray) -> at.Tensor:
        W.grad = None
        (at.Tensor(X) @ W).tanh().sum().backward()
        return W.grad

    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    plain = gradient(X).data.copy()
    np.testing.assert_array_equal(gradient(X).data, plain)  # a replay
    handle = W.register_hook(lambda g: g * 3.0)
    np.testing.assert_allclose(gradient(X).data, 3.0 * plain, rtol=1e-12)
    np.testing.assert_allclose(gradient(X).data, 3.0 * plain, rtol=1e-12)
    handle.remove()
    np.testing.assert_array_equal(gradient(X).data, plain)


def test_a_hooks_python_side_effects_happen_when_tracing_only() -> None:
    W = at.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    calls = []
    W.register_hook(lambda g: calls.append(1))

    @at.compile
    def step(x: np.ndarray) -> at.Tensor:
        W.grad = None
        (W * at.Tensor(x)).sum().backward()
        return W.grad

    for value in (1.0, 2.0, 3.0):
        np.testing.assert_array_equal(step(np.array([value, value])).data, [value, value])
    assert calls == [1]  # the hook ran while tracing; the replays repeat what it computed (nothing)
