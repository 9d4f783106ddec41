"""nn.clip_grad_norm: the joint L2 norm of all gradients is capped; the norm before clipping is returned."""
import math

import numpy as np
import pytest

import autotensor as at
import nn


def with_gradients(*grads):
    params = []
    for grad in grads:
        p = nn.Parameter(np.zeros(np.shape(grad)))
        p.grad = at.Tensor(np.array(grad, dtype=np.float64))
        params.append(p)
    return params


def test_gradients_above_the_limit_are_scaled_to_it_by_hand():
    params = with_gradients([3.0, 0.0], [[0.0], [4.0]])  # joint norm 5
    norm = nn.clip_grad_norm(params, 1.0)
    assert norm == 5.0
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_array_equal(params[0].grad.data, [3.0 * scale, 0.0])
    np.testing.assert_array_equal(params[1].grad.data, [[0.0], [4.0 * scale]])
    joint = math.sqrt(sum(float(np.sum(p.grad.data ** 2)) for p in params))
    assert 1.0 - 1e-6 < joint < 1.0


def test_gradients_within_the_limit_are_left_alone_and_missing_ones_skipped():
    params = with_gradients([0.3, 0.4])
    params.append(nn.Parameter(np.zeros(2)))  # no gradient yet
    before = params[0].grad
    assert nn.clip_grad_norm(params, 1.0) == pytest.approx(0.5, abs=1e-15)
    assert params[0].grad is before
    np.testing.assert_array_equal(before.data, [0.3, 0.4])
    assert params[1].grad is None


def test_a_module_can_be_passed_and_its_gradients_are_edited_in_place():
    model = nn.MLP([3, 5, 1], seed=0)
    nn.mse(model(np.ones((4, 3)) * 10), np.full((4, 1), 50.0)).backward()
    grads = [p.grad for p in model.parameters()]
    originals = [g.data.copy() for g in grads]
    norm = nn.clip_grad_norm(model, 0.1)
    expected = math.sqrt(sum(float(np.sum(o ** 2)) for o in originals))
    assert norm == pytest.approx(expected, rel=1e-12) and norm > 0.1
    for g, original, p in zip(grads, originals, model.parameters()):
        assert p.grad is g
        np.testing.assert_allclose(g.data, original * 0.1 / (expected + 1e-6), rtol=1e-12)


def test_float32_gradients_stay_float32_and_the_norm_is_summed_in_float64():
    p = nn.Parameter(np.zeros(4, dtype=np.float32))
    p.grad = at.Tensor(np.full(4, 1e20, dtype=np.float32))  # squares overflow float32
    assert nn.clip_grad_norm([p], 1.0) == pytest.approx(2e20, rel=1e-6)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad.data, np.full(4, 0.5), rtol=1e-6)


def test_a_non_finite_norm_or_limit_is_refused():
    params = with_gradients([np.nan, 1.0])
    with pytest.raises(ValueError, match="norm is nan"):
        nn.clip_grad_norm(params, 1.0)
    assert np.isnan(params[0].grad.data[0]) and params[0].grad.data[1] == 1.0
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="max_norm must be a positive finite number"):
            nn.clip_grad_norm(with_gradients([1.0]), bad)
    with pytest.raises(TypeError, match="max_norm must be a number"):
        nn.clip_grad_norm(with_gradients([1.0]), "1")


def test_clipping_agrees_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(4, 3)) * 5, rng.normal(size=(3,)), rng.normal(size=(3, 2)) * 0.1]
    for max_norm in (0.5, 100.0):
        params = with_gradients(*grads)
        tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g)
        expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
        assert nn.clip_grad_norm(params, max_norm) == pytest.approx(expected.item(), rel=1e-14)
        for p, t in zip(params, tensors):
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-14, atol=0)
