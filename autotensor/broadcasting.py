"""Undoing numpy broadcasting in the backward pass: the one helper every broadcasting op uses.

If an input of shape ``shape`` was broadcast to the output's shape, each of its elements was
used many times, so its gradient is the *sum* of the output gradient over the broadcast axes:
the leading axes numpy prepended, and the axes where the input had length 1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.tensor import Tensor


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` (ndarray or Tensor) down to ``shape``; returns it unchanged if it fits."""
    if grad.shape == shape:
        return grad
    is_array = not isinstance(grad, Tensor)  # an ndarray (or a traced one, at.compile): not recorded
    if is_array and grad.dtype == np.float64 and grad.ndim == 2 and len(shape) == 1 and grad.shape[1] == shape[0]:
        # Bias gradients (N, k) -> (k,): a BLAS product with ones is ~20x faster than sum(axis=0)
        # on tall, narrow arrays, where numpy's reduction walks memory with a tiny inner loop.
        # Only in float64: BLAS accumulates in the operands' precision, and a float32 sum of
        # 2^25 ones would stop growing at 2^24.
        return np.dot(_ones(grad.shape[0], grad.dtype), grad)
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, length in enumerate(shape) if length == 1 and grad.shape[extra + i] != 1
    )
    if not axes:
        summed = grad
    elif not is_array:
        summed = grad.sum(axis=axes, keepdims=True)  # a Tensor: the recorded sum op
    elif grad.dtype == np.float64:
        if grad.ndim == 2 and axes == (0,):
            summed = np.dot(_ones(grad.shape[0], grad.dtype), grad)  # (N, k) -> (1, k): the same sum, kept 2-D
        else:
            summed = grad.sum(axis=axes, keepdims=True)
    else:
        # Lower precisions accumulate in float64: numpy sums across rows one after another (its
        # pairwise summation only runs along contiguous memory), which in float32 would lose
        # every addition once the total passes 2^24 times the addend.
        summed = grad.sum(axis=axes, keepdims=True, dtype=np.float64).astype(grad.dtype)
    return summed.reshape(shape)


_ONES_CACHE: dict[tuple[int, Any], np.ndarray] = {}


def _ones(length: int, dtype: Any) -> np.ndarray:
    """A read-only vector of ones, cached (a training loop asks for the same length each step)."""
    key = (length, dtype)
    ones = _ONES_CACHE.get(key)
    if ones is None:
        if len(_ONES_CACHE) > 64:
            _ONES_CACHE.clear()
        ones = np.ones(length, dtype=dtype)
        ones.flags.writeable = False
        _ONES_CACHE[key] = ones
    return ones


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast shape, or a ShapeError naming the op and the shapes."""
    from autotensor.errors import ShapeError

    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ShapeError(f"{op}: cannot broadcast shapes {listed}") from None
