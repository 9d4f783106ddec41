"""A compiled training step is indistinguishable from the eager one, step after step.

Two copies of the same model and optimiser train in lockstep on the same batches, one eagerly
and one through ``at.compile``; after every step the returned losses must agree, and at the end
(and at checkpoints) every parameter, gradient, optimiser buffer, step count, learning rate and
version counter.  Batch sizes change mid-run (a retrace), the learning rate is changed by hand
between calls, and ``load_state_dict`` replaces the weights mid-run.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at
import nn
from tests.compile.steps import sgd_step

TOLERANCE = 1e-12


def training_setup(sizes: list[int], optimiser: str) -> tuple[Callable[..., at.Tensor], nn.MLP, Any, Any]:
    model = nn.MLP(sizes, activation="tanh", output_activation="identity", seed=0)
    schedule = None
    if optimiser == "sgd":
        opt = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    else:
        opt = nn.optim.Adam(model.parameters(), lr=0.03)
        schedule = nn.optim.CosineSchedule(opt, total=700)

    def step(X: np.ndarray, y: np.ndarray) -> at.Tensor:
        opt.zero_grad()
        loss = nn.mse(model(X), y)
        loss.backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        return loss

    return step, model, opt, schedule


def assert_same_state(eager: tuple[Any, ...], compiled: tuple[Any, ...]) -> None:
    _, model_e, opt_e, schedule_e = eager
    _, model_c, opt_c, schedule_c = compiled
    for p_e, p_c in zip(model_e.parameters(), model_c.parameters()):
        np.testing.assert_allclose(p_c.data, p_e.data, rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(p_c.grad.data, p_e.grad.data, rtol=0, atol=TOLERANCE)
        assert p_c.version == p_e.version
    for buffers_e, buffers_c in zip(opt_e.buffers, opt_c.buffers):
        for name in buffers_e:
            np.testing.assert_allclose(buffers_c[name].data, buffers_e[name].data, rtol=0, atol=TOLERANCE)
    assert opt_c.lr == opt_e.lr and getattr(opt_c, "t", None) == getattr(opt_e, "t", None)
    if schedule_e is not None:
        assert schedule_c.count == schedule_e.count


@pytest.mark.parametrize("sizes, optimiser", [
    ([3, 3, 2, 1], "sgd"), ([3, 3, 2, 1], "adam"), ([3] + [16] * 20 + [1], "adam"),
], ids=["car MLP, SGD + momentum + weight decay", "car MLP, Adam + cosine schedule", "20x16 deep net, Adam"])
def test_a_thousand_compiled_steps_equal_the_eager_ones(sizes: list[int], optimiser: str) -> None:
    steps = 1000 if len(sizes) < 10 else 300
    eager = training_setup(sizes, optimiser)
    compiled = training_setup(sizes, optimiser)
    compiled_step = at.compile(compiled[0])
    rng = np.random.default_rng(1)
    for number in range(steps):
        rows = 20 if number % 7 == 3 else 32  # a smaller batch now and then: a second trace
        X, y = rng.normal(size=(rows, sizes[0])), rng.normal(size=(rows, 1))
        loss_e, loss_c = eager[0](X, y), compiled_step(X, y)
        np.testing.assert_allclose(loss_c.data, loss_e.data, rtol=0, atol=TOLERANCE)
        if number == steps // 3:  # new weights from outside, between two calls
            state = {name: value * 0.5 for name, value in eager[1].state_dict().items()}
            eager[1].load_state_dict(state)
            compiled[1].load_state_dict(state)
        if number == steps // 2:  # the user changes the learning rate by hand
            eager[2].lr = compiled[2].lr = eager[2].lr * 0.3
        if number % 100 == 0:
            assert_same_state(eager, compiled)
    assert_same_state(eager, compiled)
    assert len(compiled_step.traces) == 2  # one per batch size, replayed ever after


def test_a_graph_built_before_a_compiled_step_refuses_a_stale_backward() -> None:
    step, model, _, _ = training_setup([3, 3, 1], "sgd")
    compiled = at.compile(step)
    X, y = np.ones((4, 3)), np.zeros((4, 1))
    compiled(X, y)  # trace
    stale = nn.mse(model(X), y)  # an eager graph holding the current weights
    compiled(X, y)  # a replay updates the weights in place
    with pytest.raises(at.GraphError, match="modified in place"):
        stale.backward()


def test_gradients_accumulate_across_replays_as_they_do_eagerly() -> None:
    def build() -> tuple[Callable[[np.ndarray], at.Tensor], at.Tensor]:
        w = at.Tensor(np.array([0.5, -1.0]), requires_grad=True, name="w")

        def accumulate(x: np.ndarray) -> at.Tensor:
            loss = ((x * w).tanh() ** 2).sum()
            loss.backward()  # no zero_grad: gradients pile up across calls
            return loss
        return accumulate, w

    eager, w_e = build()
    compiled, w_c = build()
    compiled = at.compile(compiled)
    for x in np.random.default_rng(2).normal(size=(5, 2)):
        eager(x), compiled(x)
        np.testing.assert_allclose(w_c.grad.data, w_e.grad.data, rtol=0, atol=TOLERANCE)
    w_c.grad = w_e.grad = None  # a call with no gradient to add to: traced anew
    eager(np.ones(2)), compiled(np.ones(2))
    np.testing.assert_allclose(w_c.grad.data, w_e.grad.data, rtol=0, atol=TOLERANCE)


def test_returned_tensors_and_gradients_are_fresh_at_every_call() -> None:
    step, model, _, _ = training_setup([3, 2, 1], "sgd")
    compiled = at.compile(step)
    X, y = np.ones((4, 3)), np.zeros((4, 1))
    first_loss = compiled(X, y)
    second_loss = compiled(X, y)
    first_grads = [p.grad.data.copy() for p in model.parameters()]
    kept = [p.grad for p in model.parameters()]
    third_loss = compiled(X, y)
    assert first_loss.item() != second_loss.item() != third_loss.item()
    for old, held in zip(first_grads, kept):  # a later call never writes into earlier results
        np.testing.assert_array_equal(held.data, old)
    grads = [p.grad.data for p in model.parameters()]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(grads) for b in grads[i + 1:])


def test_work_on_data_that_needs_no_gradient_is_replayed_not_frozen() -> None:
    w = at.Tensor(np.array([[1.0], [2.0]]), requires_grad=True)

    def standardised_loss(X: np.ndarray) -> at.Tensor:
        centred = at.Tensor(X) - at.mean(X, axis=0)  # constants: no gradient needed
        scale = np.sqrt((X * X).mean())               # numpy on the argument itself
        return ((centred / scale) @ w).sum().detach()

    compiled = at.compile(standardised_loss)
    rng = np.random.default_rng(3)
    for _ in range(4):
        X = rng.normal(size=(6, 2)) * rng.uniform(1, 5)
        np.testing.assert_allclose(compiled(X).item(), standardised_loss(X).item(), rtol=1e-12)


def test_dropout_draws_a_fresh_mask_at_every_replay_and_eval_mode_is_traced_anew() -> None:
    def build() -> tuple[Callable[..., at.Tensor], nn.Module]:
        model = nn.Sequential(nn.Linear(3, 8, seed=0), nn.Tanh(), nn.Dropout(0.5, seed=7), nn.Linear(8, 1, seed=1))
        return sgd_step(model), model

    eager, model_e = build()
    compiled, model_c = build()
    compiled = at.compile(compiled)
    rng = np.random.default_rng(5)
    losses = []
    for number in range(30):
        if number == 20:
            model_e.eval(), model_c.eval()  # no dropout from here on: a new trace
        X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
        loss_e, loss_c = eager(X, y).item(), compiled(X, y).item()
        assert loss_c == loss_e
        losses.append(loss_c)
    for a, b in zip(model_e.parameters(), model_c.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert len(compiled.traces[next(iter(compiled.traces))]) == 2  # train mode and eval mode
    X = np.ones((16, 3))
    with at.no_grad():
        assert model_c(X).data.tolist() == model_c(X).data.tolist()  # eval: deterministic


def test_a_tensor_replaced_or_frozen_between_calls_is_traced_anew_not_computed_wrongly() -> None:
    def build() -> tuple[Callable[..., at.Tensor], nn.MLP]:
        model = nn.MLP([3, 4, 1], seed=0)
        return sgd_step(model), model

    eager, model_e = build()
    compiled, model_c = build()
    compiled = at.compile(compiled)
    X, y = np.ones((5, 3)), np.zeros((5, 1))
    for _ in range(2):
        assert compiled(X, y).item() == eager(X, y).item()
    for model in (model_e, model_c):  # freeze the first layer: no gradient, no update
        model.layers[0].W.requires_grad = False
        model.layers[0].W.grad = None
    for _ in range(2):
        assert compiled(X, y).item() == eager(X, y).item()
    assert model_c.layers[0].W.grad is None
    np.testing.assert_array_equal(model_c.layers[0].W.data, model_e.layers[0].W.data)
    for model in (model_e, model_c):  # a weight of another dtype
        model.layers[2].b.data = model.layers[2].b.data.astype(np.float32)
    for _ in range(2):
        assert compiled(X, y).item() == eager(X, y).item()
    for a, b in zip(model_e.parameters(), model_c.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_an_outside_array_edited_between_calls_is_read_afresh_even_when_nothing_traced_meets_it() -> None:
    def build() -> tuple[Callable[[], None], at.Tensor, np.ndarray, np.ndarray]:
        x = at.Tensor(np.ones(3), requires_grad=True)
        upstream, scale = np.ones(3), np.full(3, 2.0)

        def step() -> None:
            x.grad = None
            (x * at.exp(scale)).backward(upstream)  # exp(scale) involves nothing traced

        return step, x, upstream, scale

    eager, x_e, u_e, s_e = build()
    compiled, x_c, u_c, s_c = build()
    compiled = at.compile(compiled)
    for value in (1.0, 1.0, 5.0, -2.0):
        u_e[:] = u_c[:] = value
        s_e[:] = s_c[:] = value / 4
        eager(), compiled()
        np.testing.assert_array_equal(x_c.grad.data, x_e.grad.data)


def test_biases_spread_over_many_rows_by_a_product_train_bit_for_bit_as_broadcast_adds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from autotensor.compile import optimisations

    def train(spread: bool) -> tuple[list[float], list[np.ndarray], str]:
        monkeypatch.setattr(optimisations, "_SPREAD_ROWS", 256 if spread else 10**9)
        step, model, _, _ = training_setup([3, 4, 3, 1], "sgd")
        compiled = at.compile(step)
        rng = np.random.default_rng(5)
        losses = [compiled(rng.normal(size=(600, 3)), rng.normal(size=(600, 1))).item() for _ in range(20)]
        return losses, [p.data.copy() for p in model.parameters()], compiled.source

    spread_losses, spread_weights, spread_source = train(True)
    plain_losses, plain_weights, plain_source = train(False)
    assert "dot(ones, " in spread_source and "ones" not in plain_source
    assert spread_losses == plain_losses
    for spread, plain in zip(spread_weights, plain_weights):
        np.testing.assert_array_equal(spread, plain)
