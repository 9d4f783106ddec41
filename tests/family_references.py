"""PyTorch computations for the op families of issue 14 where torch spells numpy's call
differently (tests/test_differential.py's table uses them).

What a call means is numpy's: an axis of None or (), the flattening of ``axis=None``, the
pairing of pad widths, the shape squeeze and expand_dims make; numpy is asked only that
(``np.squeeze`` of an empty array of the shape, say).  The arithmetic and its derivatives are
torch's.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _dims(x: Any, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def statistic(torch_statistic: Any) -> Any:
    """torch.var / torch.std with numpy's axes and ddof (torch's ``correction``); like the
    reductions of the table, () and 0-d arrays reduce over a new axis of length 1."""

    def reference(x: Any, axis: Any, keepdims: bool, ddof: float) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "degrees of freedom is <= 0": drawn on purpose
            if axis == () or x.ndim == 0:
                return torch_statistic(x.unsqueeze(-1), dim=-1, correction=ddof)
            return torch_statistic(x, dim=_dims(x, axis), correction=ddof, keepdim=keepdims)

    return reference


def prod(x: Any, axis: Any, keepdims: bool) -> Any:
    """The product of the slices along each reduced axis, multiplied one by one (numpy's tuple
    of axes; torch.prod takes one axis or all).  Not torch.prod itself: without zeros its rule
    is prod / x, whose second derivatives round to noise where the exact answer is 0 (the
    Hessian of a one-element product); torch's multiplication differentiates exactly."""
    result = x
    for dim in sorted({d % x.ndim for d in _dims(x, axis)} if x.ndim else (), reverse=True):
        if result.shape[dim] == 0:
            result = torch.prod(result, dim=dim, keepdim=True)
            continue
        slices = result.unbind(dim)
        product = slices[0]
        for piece in slices[1:]:
            product = product * piece
        result = product.unsqueeze(dim)
    if not keepdims:
        result = result.reshape(np.squeeze(np.empty(result.shape), _dims(x, axis)).shape)
    return result * 1 if result is x else result


def running(torch_running: Any) -> Any:
    """torch.cumsum / torch.cumprod; numpy's axis=None runs over the flattened values."""
    return lambda x, axis: torch_running(x.reshape(-1), dim=0) if axis is None else torch_running(x, dim=axis)


def einsum(*xs: Any, subscripts: str, twice: bool) -> Any:
    """torch.einsum; with ``twice`` the first input is the first two operands."""
    return torch.einsum(subscripts, *((xs[0],) + xs if twice else xs))


def call_einsum(function: Any, *xs: Any, subscripts: str, twice: bool) -> Any:
    return function(subscripts, *((xs[0],) + xs if twice else xs))


def trace(x: Any, offset: int, axis1: int, axis2: int) -> Any:
    return torch.diagonal(x, offset, axis1, axis2).sum(-1)


def reshaped_as_numpy(numpy_shape_op: Any) -> Any:
    """squeeze, expand_dims: numpy says the shape (or refuses), torch reshapes to it."""
    return lambda x, axis: x.reshape(numpy_shape_op(np.empty(tuple(x.shape)), axis).shape)


def repeat(x: Any, repeats: Any, axis: Any) -> Any:
    counts = torch.tensor(repeats, dtype=torch.int64) if isinstance(repeats, list) else repeats
    return torch.repeat_interleave(x, counts, dim=axis)


def tile(x: Any, reps: Any) -> Any:
    return torch.tile(x, (reps,) if isinstance(reps, int) else reps)


def roll(x: Any, shift: Any, axis: Any) -> Any:
    """torch.roll; numpy's one shift for several axes is that shift for each of them."""
    if axis is None:
        return torch.roll(x, shift)
    axes = (axis,) if isinstance(axis, int) else axis
    shifts = (shift,) * len(axes) if isinstance(shift, int) else shift
    return torch.roll(x, shifts, axes)


def flip(x: Any, axis: Any) -> Any:
    return torch.flip(x, _dims(x, axis))


def _blocks(pieces: Sequence[Any], cat: Any) -> Any:
    """The blocks of a split as one output: each flattened and weighted by its position, so a
    block in the wrong place or of the wrong extent changes the values."""
    return cat([piece.reshape(-1) * (k + 1) for k, piece in enumerate(pieces)])


def split(x: Any, indices_or_sections: Any, axis: int) -> Any:
    """torch.tensor_split has numpy's split points; numpy refuses sections that are not equal."""
    if isinstance(indices_or_sections, int) and x.shape[axis] % indices_or_sections:
        raise ValueError("numpy's split refuses unequal sections")
    return _blocks(torch.tensor_split(x, indices_or_sections, dim=axis), torch.cat)


def call_split(function: Any, x: Any, indices_or_sections: Any, axis: int) -> Any:
    import autotensor as at

    return _blocks(function(x, indices_or_sections, axis), at.concatenate)


def pad(x: Any, pad_width: Any, constant_values: float) -> Any:
    """F.pad takes (before, after) pairs from the last axis back, flattened."""
    pairs = np.broadcast_to(np.array(pad_width).reshape(-1, 2) if np.ndim(pad_width) else pad_width, (x.ndim, 2))
    flat = [int(w) for pair in reversed(pairs.tolist()) for w in pair]
    return F.pad(x, flat, value=constant_values)


def call_pad(function: Any, x: Any, pad_width: Any, constant_values: float) -> Any:
    return function(x, pad_width, constant_values=constant_values)


def stacked(torch_stack: Any) -> Any:
    return lambda *xs: torch_stack(xs)


def call_stacked(function: Any, *xs: Any) -> Any:
    return function(list(xs))
