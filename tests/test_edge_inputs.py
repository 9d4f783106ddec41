"""Inputs at the edges of each op's domain, checked against numpy, finite differences and maths.

Each case gave a wrong gradient, a wrong dtype or a raw numpy error before: transpose with
negative axes, pow at base 0, float32 bias gradients on many rows, zero-size softmax input,
an empty index list, and the dtypes that Python numbers and integer inputs produce.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at


# ------------------------------------------------------------------- transpose
@pytest.mark.parametrize("shape, axes", [
    ((2, 2), (0, -1)), ((2, 2), (-1, 0)), ((2, 3), (-1, 0)), ((2, 3, 4), (-1, 0, 1)),
    ((2, 3, 4), (1, -1, -3)), ((2, 3, 4), (-2, -1, 0)),
])
def test_transpose_with_negative_axes_sends_the_gradient_back_to_each_element(shape: tuple[int, ...], axes: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).normal(size=shape)
    out = at.transpose(at.Tensor(x), axes)
    np.testing.assert_array_equal(out.data, np.transpose(x, axes))
    result = at.gradcheck(lambda t: at.transpose(t, axes), [x])
    assert result, result


def test_transpose_refuses_axes_that_are_no_permutation_at_the_call() -> None:
    x = at.Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(at.ShapeError, match="permutation"):
        x.transpose((0, -2))
    with pytest.raises(at.IndexingError):
        x.transpose((0, 2))


# ------------------------------------------------------------------- pow at base 0
def grad_of(fn: Callable[[at.Tensor], at.Tensor], value: Any) -> np.ndarray:
    x = at.Tensor(value, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data


def test_x_to_the_zero_has_derivative_zero_even_at_zero() -> None:
    np.testing.assert_array_equal(grad_of(lambda x: x ** 0.0, [0.0, 2.0]), [0.0, 0.0])


def test_derivative_of_zero_to_the_y_wrt_y_is_zero_for_y_at_least_zero() -> None:
    np.testing.assert_array_equal(grad_of(lambda y: 0.0 ** y, [0.0, 1.0, 2.5]), [0.0, 0.0, 0.0])


def test_sum_of_powers_of_x_at_zero_has_the_true_derivative() -> None:
    # d/dx (x^0 + x^1 + x^2) = 0 + 1 + 2x = 1 at x = 0
    np.testing.assert_array_equal(grad_of(lambda x: x ** np.array([0.0, 1.0, 2.0]), 0.0), 1.0)


def test_pow_at_zero_agrees_with_pytorch() -> None:
    torch = pytest.importorskip("torch")
    base = np.array([0.0, 0.0, 0.0, 0.0, 2.0])
    exponent = np.array([0.0, 1.0, 2.0, 0.5, 0.0])
    x, p = at.Tensor(base, requires_grad=True), at.Tensor(exponent, requires_grad=True)
    (x ** p).sum().backward()
    tx = torch.tensor(base, requires_grad=True)
    tp = torch.tensor(exponent, requires_grad=True)
    (tx ** tp).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())


# ------------------------------------------------------------------- float32 bias gradients
def test_float32_bias_gradient_is_exact_on_2_to_the_25_rows() -> None:
    rows = 2 ** 25  # a float32 running sum of ones stops growing at 2^24
    X = at.Tensor(np.zeros((rows, 1), dtype=np.float32))
    b = at.Tensor(np.zeros(1, dtype=np.float32), requires_grad=True)
    (X + b).sum().backward()
    assert b.grad.dtype == np.float32 and b.grad.data[0] == rows
    b.grad = None
    (X + b).mean().backward()
    assert b.grad.data[0] == np.float32(1.0)


def test_float32_bias_gradient_of_a_mean_over_a_million_rows_is_one() -> None:
    X = at.Tensor(np.zeros((10 ** 6, 3), dtype=np.float32))
    b = at.Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    (X + b).mean(axis=0).sum().backward()
    np.testing.assert_allclose(b.grad.data, 1.0, rtol=float(np.finfo(np.float32).eps))


# ------------------------------------------------------------------- zero-size inputs
def test_logsumexp_over_an_empty_axis_is_minus_infinity_as_in_pytorch() -> None:
    x = at.Tensor(np.zeros((3, 0)), requires_grad=True)
    out = at.logsumexp(x, axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf] * 3)
    out.sum().backward()
    assert x.grad.shape == (3, 0)


@pytest.mark.parametrize("op", [at.softmax, at.log_softmax])
@pytest.mark.parametrize("shape", [(0, 4), (3, 0), (0,)])
def test_softmax_family_on_zero_size_input_gives_zero_size_output(op: Callable[..., at.Tensor], shape: tuple[int, ...]) -> None:
    x = at.Tensor(np.zeros(shape), requires_grad=True)
    out = op(x)
    assert out.shape == shape
    out.backward(np.zeros(shape))
    assert x.grad.shape == shape


def test_an_empty_index_list_selects_nothing_as_in_numpy() -> None:
    x = at.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    picked = x[[]]
    assert picked.shape == np.array([1.0, 2.0, 3.0])[[]].shape == (0,)
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


def test_max_reduces_the_non_empty_axis_of_an_empty_tensor_and_refuses_the_empty_one() -> None:
    x = at.Tensor(np.zeros((0, 3)))
    assert at.max(x, axis=1).shape == (0,)
    with pytest.raises(at.ShapeError, match="empty axis"):
        at.max(x, axis=0)


# ------------------------------------------------------------------- dtypes (numpy 2 is the reference)
INT32 = np.array([1, 2, 3], dtype=np.int32)
FLOAT32 = np.array([1.0, 2.0, 3.0], dtype=np.float32)
BOOLS = np.array([True, False, True])

PROMOTIONS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "int32 + 1": (lambda a: a + 1, INT32),
    "1 - int32": (lambda a: 1 - a, INT32),
    "int32 * 2": (lambda a: a * 2, INT32),
    "int32 ** 2": (lambda a: a ** 2, INT32),
    "int32 * 1.5": (lambda a: a * 1.5, INT32),
    "int32 / 2": (lambda a: a / 2, INT32),
    "bool + 1": (lambda a: a + 1, BOOLS),
    "bool * 2.5": (lambda a: a * 2.5, BOOLS),
    "float32 * 2.0": (lambda a: a * 2.0, FLOAT32),
    "float32 + 3": (lambda a: a + 3, FLOAT32),
    "float32 * np.float64(2)": (lambda a: a * np.float64(2.0), FLOAT32),
    "float32 + int32": (lambda a: a + INT32, FLOAT32),
    "maximum(int32, 2)": (lambda a: np.maximum(a, 2), INT32),
}


@pytest.mark.parametrize("expression, operand", PROMOTIONS.values(), ids=PROMOTIONS.keys())
def test_python_numbers_promote_as_in_numpy_2(expression: Callable[[Any], Any], operand: np.ndarray) -> None:
    expected = expression(operand)
    got = expression(at.Tensor(operand))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.data, expected)


def test_where_with_python_numbers_takes_numpy_s_dtype() -> None:
    mask = np.array([True, False])
    assert at.where(mask, 1, 3).dtype == np.where(mask, 1, 3).dtype
    assert at.where(mask, at.Tensor(FLOAT32[:2]), 0).dtype == np.float32


@pytest.mark.parametrize("op, reference", [
    (at.exp, np.exp), (at.log, np.log), (at.sqrt, np.sqrt), (at.tanh, np.tanh),
    (at.softplus, lambda v: np.logaddexp(0, v)), (at.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    (at.softmax, lambda v: np.exp(v) / np.exp(v).sum()), (at.logsumexp, lambda v: np.log(np.exp(v).sum())),
])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.bool_])
def test_integer_input_to_an_op_that_needs_floats_computes_in_float64(
    op: Callable[[Any], at.Tensor], reference: Callable[[np.ndarray], np.ndarray], dtype: Any
) -> None:
    data = np.array([1, 2, 3], dtype=dtype)
    out = op(at.Tensor(data))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, reference(data.astype(np.float64)), rtol=1e-15)


def test_a_number_too_large_for_an_integer_tensor_is_refused_by_name() -> None:
    with pytest.raises(at.ArgumentError, match="add: the number 1000 does not fit"):
        at.Tensor(np.array([1], dtype=np.int8)) + 1000
