"""Running sums and products (cumsum, cumprod) and the product reduction (prod), exact where the
input holds zeros.

Dividing by the input (``d prod / dx_k = prod / x_k``) is 0 / 0 at a zero.  So:

* ``prod``: the derivative by x_k is the product of the *other* values, computed without any
  division as (product of the values before k) * (product of the values after k): two
  exclusive running products, one from each end.  It is a polynomial in x, so its own
  derivatives (the Hessian of prod) are exact too.
* ``cumprod``: y_i = x_1 ... x_i, and d/dx_k sum_i g_i y_i = sum_{i >= k} g_i y_i / x_k before the
  first zero z of a slice (the reversed running sum of g y, divided by x_k).  At z itself it is
  the reversed running sum of g times the running product of x with x_z replaced by 1; after z
  every term holds x_z = 0.  Masks do the choosing (no Python branch looks at the values).  The
  recorded backward pass (second derivatives) uses the O(n^2) products of all values but one
  instead, a polynomial in x whose derivatives are exact at zeros and free of the division's
  rounding, as PyTorch does.

numpy's conventions: ``axis=None`` flattens for cumsum and cumprod and reduces every axis for
prod; integer input stays integer, as in numpy.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.conversion import as_tensor
from autotensor.ops.axes import Axis, one_axis, reduction_axes
from autotensor.ops.reductions import _reduction_samples, _spread
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record


def _reversed_cumsum(a: Any, axis: int) -> Any:
    """sum_{i >= k} a_i along ``axis`` (on ndarrays, Tensors and traced values alike)."""
    return np.flip(np.cumsum(np.flip(a, axis), axis), axis)


def _exclusive_cumprod(a: Any, axis: int) -> Any:
    """prod_{i < k} a_i along ``axis`` (1 at the first position), without division."""
    ahead = np.cumprod(a[(slice(None),) * axis + (slice(None, -1),)], axis)
    widths = [(0, 0)] * a.ndim
    widths[axis] = (1, 0)
    return np.pad(ahead, widths, constant_values=1)


def _cumulative_axis(op: str, axis: Any, ndim: int) -> int | None:
    """numpy's axis of cumsum and cumprod: None (flatten) or one existing axis."""
    return None if axis is None else one_axis(op, axis, ndim)


# ---------------------------------------------------------------- cumsum
def cumsum(x: TensorLike, axis: int | None = None) -> Tensor:
    """Running sum along ``axis`` (None: over the flattened values)."""
    x = as_tensor(x, op="cumsum")
    axis = _cumulative_axis("cumsum", axis, x.ndim)
    return record(np.cumsum(x.data, axis=axis), CUMSUM, (x,), {"axis": axis})


def _cumsum_vjp(g: Any, out: Any, x: Any, axis: int | None) -> Any:
    return _reversed_cumsum(g, 0 if axis is None else axis).reshape(x.shape)


def _cumulative_samples(call: Any, values: Any = uniform) -> list[Sample]:
    return [
        Sample("2x3 axis 1", (values(2, 3),), lambda x: call(x, 1)),
        Sample("2x3 flattened (axis None)", (values(2, 3),), call),
        Sample("3x2x2 axis -2", (values(3, 2, 2),), lambda x: call(x, -2)),
        Sample("4", (values(4),), lambda x: call(x, 0)),
    ]


CUMSUM = register("cumsum", cumsum, vjps=(_cumsum_vjp,), saves="", samples=_cumulative_samples(cumsum))


# ---------------------------------------------------------------- cumprod
def cumprod(x: TensorLike, axis: int | None = None) -> Tensor:
    """Running product along ``axis`` (None: over the flattened values); exact with zeros."""
    x = as_tensor(x, op="cumprod")
    axis = _cumulative_axis("cumprod", axis, x.ndim)
    return record(np.cumprod(x.data, axis=axis), CUMPROD, (x,), {"axis": axis})


def _cumprod_vjp(g: Any, out: Any, x: Any, axis: int | None) -> Any:
    shape = x.shape
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.shape[axis] == 1:  # y = x: the gradient passes (exactly; the division below would round)
        return g.reshape(shape)
    if isinstance(g, Tensor):
        return _omitted_products(g, x, axis).reshape(shape)
    zero = x == 0
    seen = np.cumsum(zero, axis)
    before, first = seen == 0, zero & (seen == 1)
    # before the first zero: sum_{i >= k} g_i y_i / x_k; at it: the same sum of g_i times the
    # running product with x_z replaced by 1; after it: 0 (each term holds x_z)
    grad = np.where(before, _reversed_cumsum(g * out, axis) / np.where(before, x, 1), 0)
    without_zero = np.where(first, 1, x)
    grad = grad + np.where(first, _reversed_cumsum(g * np.cumprod(without_zero, axis), axis), 0)
    return grad.reshape(shape)


def _omitted_products(g: Any, x: Any, axis: int) -> Any:
    """sum_{i >= k} g_i prod_{j <= i, j != k} x_j, written as a polynomial in x without division
    or masks on x's values: row k of an (n, n) array holds x with x_k replaced by 1, and its
    running product is prod_{j <= i, j != k} x_j.  O(n^2), for the recorded backward pass,
    where its derivatives (cumprod's Hessian) are exact and free of the division's rounding."""
    n = x.shape[axis]
    order = tuple(a for a in range(x.ndim) if a != axis) + (axis,)
    moved_x, moved_g = x.transpose(order), g.transpose(order)
    rows = np.where(np.eye(n, dtype=bool), 1, moved_x.reshape(moved_x.shape[:-1] + (1, n)))
    later = np.triu(np.ones((n, n), dtype=bool))  # later[k, i]: i >= k
    grad = (np.cumprod(rows, -1) * (moved_g.reshape(moved_g.shape[:-1] + (1, n)) * later)).sum(axis=-1)
    return grad.transpose(tuple(int(a) for a in np.argsort(order)))


CUMPROD = register(
    "cumprod", cumprod, vjps=(_cumprod_vjp,), saves="inputs+output",
    samples=_cumulative_samples(cumprod) + [
        Sample("3x4 zeros: none, one, two, leading", (np.array(
            [[1.5, -0.7, 2.0, 0.9], [1.2, 0.0, -1.3, 0.8], [0.0, 1.1, 0.0, -0.6]]),), lambda x: cumprod(x, 1)),
        Sample("5 flattened, zeros at 1 and 3", (np.array([0.8, 0.0, 1.4, 0.0, -1.1]),), cumprod),
    ],
)


# ---------------------------------------------------------------- prod
def prod(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` (None: all axes); its gradient is exact with zeros in the input."""
    x = as_tensor(x, op="prod")
    axes = reduction_axes("prod", axis, keepdims, x.ndim)
    return record(np.prod(x.data, axis=axes, keepdims=keepdims), PROD, (x,), {"axes": axes})


def _product_of_others(x: Any, axes: tuple[int, ...] | None) -> Any:
    """For each value, the product of the other values reduced with it (no division)."""
    reduced = tuple(range(x.ndim)) if axes is None else axes
    kept = tuple(a for a in range(x.ndim) if a not in reduced)
    count = int(np.prod([x.shape[a] for a in reduced], dtype=np.int64))
    if count == 0:
        return x  # nothing was reduced: an empty gradient of the input's shape
    order = kept + reduced
    moved = x.transpose(order) if order != tuple(range(x.ndim)) else x
    rows = moved.reshape(tuple(x.shape[a] for a in kept) + (count,))
    last = rows.ndim - 1
    others = _exclusive_cumprod(rows, last) * np.flip(_exclusive_cumprod(np.flip(rows, last), last), last)
    others = others.reshape(moved.shape)
    return others if order == tuple(range(x.ndim)) else others.transpose(tuple(int(a) for a in np.argsort(order)))


def _prod_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None) -> Any:
    return _spread(g, x.shape, axes) * _product_of_others(x, axes)


PROD = register(
    "prod", prod, vjps=(_prod_vjp,),
    samples=_reduction_samples(prod) + [
        Sample("2x3 axis 1, zeros: none, one, two", (np.array([[1.5, 0.0, -2.0], [0.0, 1.2, 0.0]]),),
               lambda x: prod(x, 1)),
        Sample("2x2 all axes, one zero", (np.array([[1.5, 0.0], [-0.8, 1.3]]),), prod),
        Sample("() 0-d", (np.array(1.7),), prod),
    ],
)
