"""Variance and standard deviation over axes, with numpy's ``ddof`` ("delta degrees of
freedom"): the sum of squared deviations is divided by ``n - ddof``, ``n`` the number of values
reduced (ddof=0 the population variance, ddof=1 the sample variance).  As in numpy, a divisor
``n - ddof <= 0`` is taken as 0: the result is inf (NaN where the deviations are all 0).

    d var / dx = 2 (x - mean) / (n - ddof)
    d std / dx = d var / dx / (2 std), taken as 0 where std = 0 (PyTorch's convention; std is
                 not differentiable at a constant slice, like |x| at 0)
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, describe, float_data, raw
from autotensor.errors import DTypeError
from autotensor.ops.axes import Axis, reduction_axes
from autotensor.ops.reductions import _spread
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many values each result reduces."""
    return int(np.prod(shape if axes is None else [shape[a] for a in axes], dtype=np.int64))


def _divisor(name: str, ddof: Any, count: int) -> float:
    """``n - ddof`` as numpy takes it: never below 0."""
    if not isinstance(ddof, numbers.Real) or isinstance(ddof, (bool, np.bool_)):
        raise DTypeError(f"{name}: ddof must be a real number, got {describe(ddof)}")
    return float(max(count - ddof, 0))


def _arguments(name: str, x: TensorLike, axis: Axis, ddof: Any, keepdims: Any) -> tuple[Tensor, Any, float, np.ndarray]:
    """The tensor, its axes, the divisor and the deviations from the mean (kept dims)."""
    x = as_tensor(x, op=name)
    axes = reduction_axes(name, axis, keepdims, x.ndim)
    count = _count(x.shape, axes)
    divisor = _divisor(name, ddof, count)
    data = float_data(x)
    with np.errstate(invalid="ignore", divide="ignore"):  # the mean of nothing is NaN, as in numpy
        deviations = data - data.sum(axis=axes, keepdims=True) / count
    return x, axes, divisor, deviations


def _variance(deviations: np.ndarray, axes: tuple[int, ...] | None, divisor: float, keepdims: bool) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):  # n - ddof = 0: inf, or NaN for 0 / 0
        return (deviations * deviations).sum(axis=axes, keepdims=keepdims) / divisor


def var(x: TensorLike, axis: Axis = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` (None: all axes): mean squared deviation, divided by ``n - ddof``."""
    x, axes, divisor, deviations = _arguments("var", x, axis, ddof, keepdims)
    data = _variance(deviations, axes, divisor, keepdims)
    return record(data, VAR, (x,), {"axes": axes, "divisor": divisor})


def _var_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None, divisor: float) -> Any:
    scale = 2.0 / divisor if divisor else np.inf
    count = _count(x.shape, axes)
    if count == 0:
        return _spread(g, x.shape, axes)  # nothing was reduced: an empty gradient
    deviations = x - x.mean(axis=axes, keepdims=True)
    with np.errstate(invalid="ignore"):  # n - ddof = 0: inf * 0 where x is its mean, NaN as in torch
        return _spread(g, x.shape, axes) * (deviations * scale)


def _statistic_samples(call: Any) -> list[Sample]:
    return [
        Sample("3x4 all axes", (uniform(3, 4),), lambda x: call(x)),
        Sample("3x4 axis 0 ddof 1", (uniform(3, 4),), lambda x: call(x, 0, 1)),
        Sample("2x3x4 axes (0, -1) keepdims ddof 1", (uniform(2, 3, 4),), lambda x: call(x, (0, -1), 1, True)),
        Sample("5 axis -1 ddof 2.5", (uniform(5),), lambda x: call(x, -1, 2.5)),
    ]


VAR = register("var", var, vjps=(_var_vjp,), samples=_statistic_samples(var))


def std(x: TensorLike, axis: Axis = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis``: the square root of ``var`` with the same ``ddof``."""
    x, axes, divisor, deviations = _arguments("std", x, axis, ddof, keepdims)
    data = np.sqrt(_variance(deviations, axes, divisor, keepdims))
    return record(data, STD, (x,), {"axes": axes, "divisor": divisor})


def _std_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None, divisor: float) -> Any:
    # d std = d var / (2 std); where std = 0 the share is 0, by a safe divisor so that no
    # 0 * inf appears in the recorded pass either.
    constant = raw(out) == 0
    safe = np.where(constant, 1.0, out)
    share = np.where(constant, 0.0, g / (2 * safe))
    return _var_vjp(share, None, x, axes, divisor)


STD = register("std", std, vjps=(_std_vjp,), saves="inputs+output", samples=_statistic_samples(std))
