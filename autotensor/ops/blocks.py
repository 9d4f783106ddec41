"""Cutting a tensor into blocks and putting blocks together: split, pad, vstack, hstack, with
numpy's semantics.

``split`` returns a list of Tensors, each a slice (``getitem``) of the input, so the gradient of
each block goes back to its place.  ``pad`` surrounds the input with a constant; its gradient is
the output gradient with the border cut off.  ``vstack`` and ``hstack`` are numpy's: 1-D and 0-d
inputs first become rows (``vstack``) or vectors (``hstack``), then they are concatenated.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, describe, raw
from autotensor.errors import ArgumentError, DTypeError, ShapeError
from autotensor.ops.axes import _is_int, one_axis
from autotensor.ops.shape import concatenate, reshape
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record

_MOST_EMPTY_SECTIONS = 1 << 16  # an empty axis split into this many empty blocks at most


# ---------------------------------------------------------------- split
def _split_points(indices_or_sections: Any, length: int) -> list[int]:
    """Where the blocks start (after the first): equal sections, or the indices given."""
    if isinstance(indices_or_sections, (bool, np.bool_)):
        raise DTypeError(f"split: indices_or_sections must be an int or a sequence of ints, got {indices_or_sections!r}")
    if _is_int(indices_or_sections):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ArgumentError(f"split: the number of sections must be at least 1, got {sections}")
        if length % sections or (length == 0 and sections > _MOST_EMPTY_SECTIONS):
            raise ShapeError(f"split: an axis of length {length} does not split into {sections} equal sections")
        step = length // sections
        return [step * k for k in range(1, sections)]
    indices = raw(indices_or_sections)
    if isinstance(indices, np.ndarray) and indices.ndim == 1:
        indices = indices.tolist()
    if not isinstance(indices, (list, tuple)) or not all(_is_int(i) for i in indices):
        raise DTypeError(f"split: indices_or_sections must be an int or a sequence of ints, got {describe(indices_or_sections)}")
    return [int(i) for i in indices]


def split(x: TensorLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """numpy's split along ``axis``: into N equal blocks (an int N, which must divide the length)
    or at the indices given (``[2, 5]``: x[:2], x[2:5], x[5:], with slicing's rules for indices
    out of range or decreasing); a list of Tensors."""
    x = as_tensor(x, op="split")
    axis = one_axis("split", axis, x.ndim)
    points = _split_points(indices_or_sections, x.shape[axis])
    before = (slice(None),) * axis
    return [x[before + (slice(start, stop),)] for start, stop in zip([0] + points, points + [None])]


SPLIT = register(
    "split", split, vjps=(),  # composite: one getitem per block
    samples=[Sample("6 into 3", (uniform(6),), lambda x: split(x, 3)),
             Sample("2x5 at [1, 3] axis -1", (uniform(2, 5),), lambda x: split(x, [1, 3], axis=-1)),
             Sample("4x2 at [3, 1, 9]: an empty block", (uniform(4, 2),), lambda x: split(x, [3, 1, 9]))],
)


# ---------------------------------------------------------------- pad
def _pairs(value: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """numpy's reading of pad widths: one number, (before, after), or a pair per axis."""
    if _is_int(value):
        value = [value]
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise DTypeError(f"pad: pad_width must be an int or (nested) sequences of ints, got {describe(value)}")
    flat = np.array(value, dtype=object).ravel().tolist() if np.ndim(value) else []
    if not all(_is_int(w) for w in flat):
        raise DTypeError(f"pad: pad_width must be an int or (nested) sequences of ints, got {describe(value)}")
    if any(w < 0 or w > np.iinfo(np.intp).max for w in flat):
        raise ArgumentError(f"pad: pad widths must be counts >= 0, got {describe(value)}")
    widths = np.array(value, dtype=np.intp)
    if widths.size == 1:
        return ((int(widths.flat[0]),) * 2,) * ndim
    if widths.size == 2 and widths.shape != (2, 1):
        return ((int(widths.flat[0]), int(widths.flat[1])),) * ndim
    try:
        pairs = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {describe(value)} does not fit a tensor of {ndim} dimension(s)") from None
    return tuple((int(b), int(a)) for b, a in pairs)


def _constant(value: Any) -> Any:
    """The padding value(s): a number, or numbers per axis and side (not differentiated)."""
    if isinstance(value, numbers.Real):
        return value
    if isinstance(value, Tensor):
        raise DTypeError("pad: constant_values is not differentiated; give numbers (or np.asarray(t) for a constant)")
    try:
        array = np.array(value)
    except (ValueError, TypeError):
        array = np.array(None)
    if array.dtype.kind not in "fiub" or array.size == 0:
        raise DTypeError(f"pad: constant_values must be a number or numbers per axis, got {describe(value)}")
    return array  # a copy of the caller's array


def pad(x: TensorLike, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """numpy's pad in ``"constant"`` mode: ``pad_width`` values of ``constant_values`` before and
    after each axis (``pad(x, 1)``, ``pad(x, ((0, 0), (2, 1)))``)."""
    x = as_tensor(x, op="pad")
    if not isinstance(mode, str):
        raise DTypeError(f"pad: mode must be a string, got {describe(mode)}")
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    widths = _pairs(raw(pad_width), x.ndim)
    values = _constant(constant_values)
    if not widths:  # a 0-d tensor: nothing to pad (numpy returns a copy)
        return record(x.data.copy(), PAD, (x,), {"widths": widths})
    try:
        data = np.pad(x.data, widths, mode="constant", constant_values=values)
    except (ValueError, OverflowError) as error:
        raise ShapeError(f"pad: cannot pad a tensor of shape {x.shape} by {widths} with {describe(values)} ({error})") from None
    return record(data, PAD, (x,), {"widths": widths})


def _pad_vjp(g: Any, out: Any, x: Any, widths: tuple[tuple[int, int], ...]) -> Any:
    return g[tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))]


PAD = register(
    "pad", pad, vjps=(_pad_vjp,), saves="",
    samples=[Sample("2x3 by 1", (uniform(2, 3),), lambda x: pad(x, 1)),
             Sample("2x3 by ((0, 2), (1, 0)) with 5", (uniform(2, 3),), lambda x: pad(x, ((0, 2), (1, 0)), constant_values=5.0)),
             Sample("4 by (2, 1)", (uniform(4),), lambda x: pad(x, (2, 1)))],
)


# ---------------------------------------------------------------- vstack, hstack
def _blocks(name: str, tensors: Any) -> list[Tensor]:
    if not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{name}: expects a list or tuple of tensors, got {describe(tensors)}")
    if not tensors:
        raise ShapeError(f"{name}: needs at least one tensor")
    return [as_tensor(t, op=name) for t in tensors]


def vstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Stack rows: 0-d and 1-D tensors become rows (1, n), then all are joined along axis 0."""
    blocks = _blocks("vstack", tensors)
    return concatenate([t if t.ndim >= 2 else reshape(t, (1, t.size)) for t in blocks], axis=0)


def hstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Join side by side: along axis 0 if the first tensor is 0-d or 1-D (0-d ones become
    vectors), else along axis 1."""
    blocks = [t if t.ndim else reshape(t, (1,)) for t in _blocks("hstack", tensors)]
    return concatenate(blocks, axis=0 if blocks[0].ndim == 1 else 1)


VSTACK = register(
    "vstack", vstack, vjps=(), variadic=True,  # composite: reshape and concatenate
    samples=[Sample("3 + 3 + 2x3", (uniform(3), uniform(3), uniform(2, 3)), lambda a, b, c: vstack([a, b, c])),
             Sample("() + ()", (uniform(), uniform()), lambda a, b: vstack([a, b]))],
)
HSTACK = register(
    "hstack", hstack, vjps=(), variadic=True,  # composite: reshape and concatenate
    samples=[Sample("2 + 3 + ()", (uniform(2), uniform(3), uniform()), lambda a, b, c: hstack([a, b, c])),
             Sample("2x1 + 2x3", (uniform(2, 1), uniform(2, 3)), lambda a, b: hstack([a, b]))],
)
