"""numpy functions on Tensors: differentiable where an op exists, a clear TypeError otherwise.

Before, ``np.dot(t, t)``, ``np.concatenate``, ``np.stack``, ``np.where`` and lists of Tensors
silently returned constants (``(t * 3).sum() + np.dot(t, t)`` gave ``t.grad == [3, 3]``, the
truth is [5, 7]) and ``np.sum(t)`` raised numpy's TypeError.  Each numpy spelling is checked
here against central differences, so a constant (zero gradient) would fail.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at

MASK = np.array([[True, False, True], [False, True, False]])

NUMPY_SPELLINGS: dict[str, Callable[[Any], Any]] = {
    "np.dot(t, t) of vectors": lambda t: np.dot(t.reshape(-1), t.reshape(-1)),
    "np.dot(matrix, matrix)": lambda t: np.dot(t, t.T),
    "np.dot(scalar, t)": lambda t: np.dot(3.0, t),
    "np.matmul": lambda t: np.matmul(t, t.T),
    "np.concatenate": lambda t: np.concatenate([t, t * 2.0], axis=1),
    "np.stack": lambda t: np.stack([t, t.tanh()], axis=-1),
    "np.where": lambda t: np.where(MASK, t, t * t),
    "np.sum": lambda t: np.sum(t),
    "np.sum(axis, keepdims)": lambda t: np.sum(t, axis=-1, keepdims=True),
    "np.mean": lambda t: np.mean(t, axis=0),
    "np.max": lambda t: np.max(t, axis=1),
    "np.amin": lambda t: np.amin(t),
    "np.reshape": lambda t: np.reshape(t, (3, 2)),
    "np.transpose": lambda t: np.transpose(t, (1, 0)),
    "np.swapaxes": lambda t: np.swapaxes(t, 0, 1),
    "np.broadcast_to": lambda t: np.broadcast_to(t, (4, 2, 3)),
    "np.clip": lambda t: np.clip(t, -0.5, 0.5),
    "np.exp (ufunc)": lambda t: np.exp(t),
    "np.maximum (ufunc)": lambda t: np.maximum(t, 0.1),
    "ndarray + t": lambda t: np.ones((2, 3)) + t,
    "ndarray @ t": lambda t: np.ones((4, 2)) @ t,
    "at.mean([t, t * t])": lambda t: at.mean([t, t * t], axis=0),
    "at.sum of a nested list": lambda t: at.sum([[t[0, 0], t[1, 1]], [2.0, t[0, 2]]]),
}


@pytest.mark.parametrize("spelling", NUMPY_SPELLINGS.values(), ids=NUMPY_SPELLINGS.keys())
def test_a_numpy_spelling_is_recorded_and_differentiates_correctly(spelling: Callable[[Any], Any]) -> None:
    x = np.array([[0.3, -0.7, 1.2], [0.45, 0.05, -1.1]])
    assert isinstance(spelling(at.Tensor(x, requires_grad=True)), at.Tensor)
    result = at.gradcheck(spelling, [x])
    assert result, result


def test_the_issue_s_example_gives_the_true_gradient() -> None:
    t = at.Tensor([1.0, 2.0], requires_grad=True)
    ((t * 3).sum() + np.dot(t, t)).backward()
    np.testing.assert_array_equal(t.grad.data, [5.0, 7.0])


@pytest.mark.parametrize("call", [
    lambda t: np.arctan2(t, 2.0),
    lambda t: np.linalg.norm(t),
    lambda t: np.diff(t),
    lambda t: np.add.reduce(t),
    lambda t: np.exp(t, out=np.empty(2)),
    lambda t: np.mean([t, t]),
    lambda t: np.sum([t, 1.0]),
], ids=["np.arctan2", "np.linalg.norm", "np.diff", "np.add.reduce", "ufunc with out=", "np.mean of a list",
        "np.sum of a list"])
def test_numpy_without_an_op_refuses_a_tensor_that_requires_grad(call: Callable[[at.Tensor], Any]) -> None:
    t = at.Tensor([0.5, 1.5], requires_grad=True)
    with pytest.raises(TypeError, match="numpy") as caught:
        call(t)
    assert isinstance(caught.value, at.AutotensorError)


def test_the_refusal_names_the_numpy_function() -> None:
    t = at.Tensor([0.5, 1.5], requires_grad=True)
    with pytest.raises(at.DTypeError, match=r"numpy\.linalg\.norm"):
        np.linalg.norm(t)
    with pytest.raises(at.DTypeError, match=r"numpy\.mean"):
        np.mean([t, t])


def test_numpy_without_an_op_computes_on_values_that_need_no_gradient() -> None:
    constant = at.Tensor([0.5, 1.5])
    np.testing.assert_allclose(np.arctan2(constant, 1.0), np.arctan2([0.5, 1.5], 1.0))
    np.testing.assert_allclose(np.diff(constant), [1.0])
    recorded = at.Tensor([0.5, 1.5], requires_grad=True)
    with at.no_grad():  # nothing would be recorded anyway: a constant is the right answer
        np.testing.assert_allclose(np.linalg.norm(recorded), np.hypot(0.5, 1.5))


def test_results_without_a_gradient_are_computed_on_the_values() -> None:
    t = at.Tensor([[0.5, -1.5], [2.0, 0.0]], requires_grad=True)
    assert np.argmax(t) == 2 and np.shape(t) == (2, 2) and np.ndim(t) == 2
    assert np.allclose(t, t.data) and np.isfinite(t).all()
    np.testing.assert_array_equal(np.sign(t), [[1.0, -1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(np.nonzero(t)[0], [0, 0, 1])


def test_np_asarray_is_the_explicit_conversion_to_the_ndarray() -> None:
    t = at.Tensor([[1.0, 2.0]], requires_grad=True)
    assert np.asarray(t) is t.data
    np.testing.assert_array_equal(np.array(t), t.data)
    assert not np.shares_memory(np.array(t), t.data)  # np.array copies, as for an ndarray
    np.testing.assert_allclose(t, [[1.0, 2.0]])  # numpy.testing may read values too


def test_a_constant_made_from_tensors_that_require_grad_is_refused() -> None:
    x = at.Tensor(2.0, requires_grad=True)
    with pytest.raises(at.GraphError, match="at.stack"):
        at.Tensor([x, 3 * x])
    with at.no_grad():
        np.testing.assert_array_equal(at.Tensor([x, 3 * x]).data, [2.0, 6.0])
    np.testing.assert_array_equal(at.Tensor([at.Tensor(1.0), 2.0]).data, [1.0, 2.0])


def test_numpy_keywords_the_op_does_not_take_are_refused_by_name() -> None:
    t = at.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(at.DTypeError, match="dtype"):
        np.sum(t, dtype=np.float32)
    with pytest.raises(at.DTypeError, match="out"):
        np.concatenate([t, t], out=np.empty(4))
