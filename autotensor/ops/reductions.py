"""Reductions (sum, mean, max, min, logsumexp) and the softmax family.

A reduction's gradient is the output gradient put back on the reduced axes and broadcast over
them (``_spread``).  The softmax family is written in its numerically stable forms: the largest
value is subtracted before ``exp``, so inputs of magnitude 1000 give no overflow and no NaN.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, float_data, raw
from autotensor.errors import ShapeError
from autotensor.ops.axes import Axis, one_axis, reduction_axes
from autotensor.registry import Sample, distinct, register, uniform
from autotensor.tensor import Tensor, TensorLike, record

def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of the reduction with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of the reduction with keepdims=False."""
    return () if axes is None else tuple(n for i, n in enumerate(shape) if i not in axes)


def _spread(g: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None) -> Any:
    """Put reduced axes back (as length 1) and broadcast ``g`` over them to ``shape``."""
    g = g.reshape(_kept_shape(shape, axes))
    if isinstance(g, Tensor):
        return g.broadcast_to(shape)
    return np.broadcast_to(g, shape)


def _reduction_samples(call: Any, values: Any = uniform) -> list[Sample]:
    return [
        Sample("3x4 all axes", (values(3, 4),), lambda x: call(x)),
        Sample("3x4 axis 0", (values(3, 4),), lambda x: call(x, 0)),
        Sample("2x3x4 axes (0, 2) keepdims", (values(2, 3, 4),), lambda x: call(x, (0, 2), True)),
        Sample("5 axis -1", (values(5),), lambda x: call(x, -1)),
    ]


# ---------------------------------------------------------------- sum, mean
def sum(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (None: all axes)."""
    x = as_tensor(x, op="sum")
    axes = reduction_axes("sum", axis, keepdims, x.ndim)
    return record(x.data.sum(axis=axes, keepdims=keepdims), SUM, (x,), {"axes": axes})


SUM = register(
    "sum", sum,
    vjps=(lambda g, out, x, axes: _spread(g, x.shape, axes),),
    saves="",
    samples=_reduction_samples(sum),
)


def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (None: all axes)."""
    x = as_tensor(x, op="mean")
    axes = reduction_axes("mean", axis, keepdims, x.ndim)
    return record(x.data.mean(axis=axes, keepdims=keepdims), MEAN, (x,), {"axes": axes})


def _mean_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None) -> Any:
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    return _spread(g / count, x.shape, axes)  # divide before spreading: fewer multiplications


MEAN = register("mean", mean, vjps=(_mean_vjp,), saves="", samples=_reduction_samples(mean))


# ---------------------------------------------------------------- max, min
def max(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest value over ``axis``; ties share the gradient evenly."""
    x = as_tensor(x, op="max")
    axes = reduction_axes("max", axis, keepdims, x.ndim)
    _refuse_empty("max", x, axes)
    return record(x.data.max(axis=axes, keepdims=keepdims), MAX, (x,), {"axes": axes})


def min(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest value over ``axis``; ties share the gradient evenly."""
    x = as_tensor(x, op="min")
    axes = reduction_axes("min", axis, keepdims, x.ndim)
    _refuse_empty("min", x, axes)
    return record(x.data.min(axis=axes, keepdims=keepdims), MIN, (x,), {"axes": axes})


def _refuse_empty(op: str, x: Tensor, axes: tuple[int, ...] | None) -> None:
    """An extremum over no elements does not exist (reducing other axes of an empty tensor is fine)."""
    reduced = x.shape if axes is None else [x.shape[a] for a in axes]
    if 0 in reduced:
        raise ShapeError(f"{op}: cannot reduce over an empty axis of a tensor of shape {x.shape} (axes {axes})")


def _extremum_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None) -> Any:
    """Route g to the elements equal to the extremum, split evenly among ties (max and min)."""
    value = raw(x)
    hit = value == raw(out).reshape(_kept_shape(value.shape, axes))
    share = hit / hit.sum(axis=axes, keepdims=True)
    return _spread(g, value.shape, axes) * share.astype(value.dtype)


MAX = register("max", max, vjps=(_extremum_vjp,), saves="inputs+output",
               samples=_reduction_samples(max, values=distinct))
MIN = register("min", min, vjps=(_extremum_vjp,), saves="inputs+output",
               samples=_reduction_samples(min, values=distinct))


# ---------------------------------------------------------------- logsumexp and softmax
def _shifted(data: np.ndarray, axes: tuple[int, ...] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x - max`` (so exp never overflows), ``log(sum(exp(x - max)))`` (kept dims) and ``max``.

    Every quantity of the family is written from these, never as ``x - logsumexp(x)``: at
    |x| = 1e8 that subtraction rounds away the logarithm's own digits.
    """
    shift = data.max(axis=axes, keepdims=True, initial=-np.inf)  # -inf over an empty axis
    shift = np.where(np.isfinite(shift), shift, 0)  # rows of all -inf (or none) stay -inf, not NaN
    shifted = data - shift
    with np.errstate(divide="ignore"):
        return shifted, np.log(np.exp(shifted).sum(axis=axes, keepdims=True)), shift


def _stable_logsumexp(data: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
    """log(sum(exp(x))) with keepdims, shifting by the max so exp never overflows."""
    _, log_sum, shift = _shifted(data, axes)
    return log_sum + shift


def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, stable for large |x|."""
    x = as_tensor(x, op="logsumexp")
    axes = reduction_axes("logsumexp", axis, keepdims, x.ndim)
    kept = _stable_logsumexp(float_data(x), axes)
    data = kept if keepdims else kept.reshape(_reduced_shape(x.shape, axes))
    return record(data, LOGSUMEXP, (x,), {"axes": axes})


def _logsumexp_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None) -> Any:
    # d lse / dx = exp(x - lse) = softmax(x); x - lse <= 0, so exp cannot overflow.
    kept = _kept_shape(x.shape, axes)
    return _spread(g, x.shape, axes) * np.exp(x - out.reshape(kept))


LOGSUMEXP = register(
    "logsumexp", logsumexp, vjps=(_logsumexp_vjp,), saves="inputs+output",
    samples=_reduction_samples(logsumexp) + [
        Sample("+-1000 extreme, axis 1", (np.array([[1000.0, 999.0, -1000.0], [-1000.0, -999.5, -1001.0]]),),
               lambda x: logsumexp(x, 1)),
    ],
)


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, from exp(x - max): no overflow."""
    x = as_tensor(x, op="softmax")
    axis = one_axis("softmax", axis, x.ndim)
    exponentials = np.exp(_shifted(float_data(x), (axis,))[0])
    return record(exponentials / exponentials.sum(axis=axis, keepdims=True), SOFTMAX, (x,), {"axis": axis})


def _softmax_vjp(g: Any, out: Any, x: Any, axis: int) -> Any:
    # Jacobian diag(s) - s s^T applied to g: s * (g - <g, s>).
    return out * (g - (g * out).sum(axis=axis, keepdims=True))


SOFTMAX = register(
    "softmax", softmax, vjps=(_softmax_vjp,), saves="output",
    samples=[Sample("3x4 axis -1", (uniform(3, 4),), softmax),
             Sample("3x4 axis 0", (uniform(3, 4),), lambda x: softmax(x, 0)),
             Sample("+-1000 extreme", (np.array([[1000.0, 999.0, -1000.0]]),), softmax)],
)


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: the log-probabilities, computed as (x - max) - log(sum
    exp(x - max)), finite and exact to rounding even at |x| = 1e8."""
    x = as_tensor(x, op="log_softmax")
    axis = one_axis("log_softmax", axis, x.ndim)
    shifted, log_sum, _ = _shifted(float_data(x), (axis,))
    return record(shifted - log_sum, LOG_SOFTMAX, (x,), {"axis": axis})


def _log_softmax_vjp(g: Any, out: Any, x: Any, axis: int) -> Any:
    # d/dx (x - lse) applied to g: g - softmax * sum(g), with softmax = exp(out).
    return g - np.exp(out) * g.sum(axis=axis, keepdims=True)


LOG_SOFTMAX = register(
    "log_softmax", log_softmax, vjps=(_log_softmax_vjp,), saves="output",
    samples=[Sample("3x4 axis -1", (uniform(3, 4),), log_softmax),
             Sample("2x3x2 axis 1", (uniform(2, 3, 2),), lambda x: log_softmax(x, 1)),
             Sample("+-1000 extreme", (np.array([[1000.0, 999.0, -1000.0]]),), log_softmax)],
)
