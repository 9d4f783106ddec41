"""Ops that rearrange values without arithmetic, with numpy's names and semantics: squeeze,
expand_dims, flatten, ravel (new shapes), repeat and tile (copies), roll and flip (new orders).

Their gradients take the output gradient back to where each value came from: a reshape for the
shape changes, a sum over the copies for repeat and tile (a scatter-add where repeat's counts
differ), the inverse roll, the same flip.  squeeze, expand_dims and ravel are composites of
``reshape`` (views, like numpy's); flatten copies, as ``ndarray.flatten`` does.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, describe, raw
from autotensor.errors import ArgumentError, DTypeError, ShapeError
from autotensor.ops.axes import Axis, _is_int, normalize_axes, one_axis, shape_argument
from autotensor.ops.shape import _getitem_vjp, reshape
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record

_LARGEST = np.iinfo(np.intp).max


# ---------------------------------------------------------------- squeeze, expand_dims, flatten, ravel
def squeeze(x: TensorLike, axis: Axis = None) -> Tensor:
    """Remove axes of length 1: all of them (``axis=None``) or the ones named, which must be 1."""
    x = as_tensor(x, op="squeeze")
    axes = normalize_axes("squeeze", axis, x.ndim)
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    elif any(x.shape[a] != 1 for a in axes):
        raise ShapeError(f"squeeze: cannot remove axis {axis} of a tensor of shape {x.shape}: its length is not 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


SQUEEZE = register(
    "squeeze", squeeze, vjps=(),  # composite: reshape
    samples=[Sample("1x3x1 all", (uniform(1, 3, 1),), squeeze),
             Sample("1x3x1 axis -1", (uniform(1, 3, 1),), lambda x: squeeze(x, -1)),
             Sample("2x1x3 axis (1,)", (uniform(2, 1, 3),), lambda x: squeeze(x, (1,)))],
)


def expand_dims(x: TensorLike, axis: int | tuple[int, ...]) -> Tensor:
    """Insert axes of length 1 at the positions ``axis`` names in the result."""
    x = as_tensor(x, op="expand_dims")
    if axis is None:
        raise DTypeError("expand_dims: axis must be an int or a tuple of ints, got None")
    count = 1 if _is_int(axis) else len(axis) if isinstance(axis, (tuple, list)) else 0
    new = normalize_axes("expand_dims", axis, x.ndim + count)
    sides = iter(x.shape)
    return reshape(x, tuple(1 if i in new else next(sides) for i in range(x.ndim + len(new))))


EXPAND_DIMS = register(
    "expand_dims", expand_dims, vjps=(),  # composite: reshape
    samples=[Sample("2x3 axis 1", (uniform(2, 3),), lambda x: expand_dims(x, 1)),
             Sample("3 axes (0, -1)", (uniform(3),), lambda x: expand_dims(x, (0, -1)))],
)


def flatten(x: TensorLike) -> Tensor:
    """The values as a 1-D copy, in C order (``ndarray.flatten``)."""
    x = as_tensor(x, op="flatten")
    return record(x.data.reshape(-1).copy(), FLATTEN, (x,))


FLATTEN = register(
    "flatten", flatten, vjps=(lambda g, out, x: g.reshape(x.shape),), saves="",
    samples=[Sample("2x3", (uniform(2, 3),), flatten), Sample("2x1x2", (uniform(2, 1, 2),), flatten)],
)


def ravel(x: TensorLike) -> Tensor:
    """The values as a 1-D tensor, a view where numpy can make one (``np.ravel``)."""
    return reshape(as_tensor(x, op="ravel"), -1)


RAVEL = register("ravel", ravel, vjps=(),  # composite: reshape
                 samples=[Sample("2x3", (uniform(2, 3),), ravel)])


# ---------------------------------------------------------------- repeat, tile
def _counts(repeats: Any, length: int) -> int | np.ndarray:
    """repeat's counts: one int for every element, or a private int array of ``length``."""
    if _is_int(repeats):
        if not 0 <= repeats <= _LARGEST:
            raise ArgumentError(f"repeat: repeats must be a count >= 0, got {repeats}")
        return int(repeats)
    counts = raw(repeats)
    if isinstance(counts, (list, tuple)) and all(_is_int(n) for n in counts):
        counts = np.array(counts) if counts else np.zeros(0, dtype=np.intp)
    if not isinstance(counts, np.ndarray) or counts.dtype.kind not in "iu":
        raise DTypeError(f"repeat: repeats must be an int or a sequence of ints, got {describe(repeats)}")
    if counts.ndim > 1 or counts.size not in (1, length):
        raise ShapeError(f"repeat: {counts.size} repeats for an axis of length {length}")
    if (counts < 0).any():
        raise ArgumentError(f"repeat: repeats must be counts >= 0, got {counts.tolist()}")
    if counts.size == 1 or (counts.size and (counts == counts.flat[0]).all()):
        return _counts(int(counts.flat[0]), length)
    return counts.astype(np.intp)  # a copy: the rule reads it after the forward pass


def repeat(x: TensorLike, repeats: Any, axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (None: of the flattened values);
    ``repeats`` is one count or one per element (numpy's repeat, torch's repeat_interleave)."""
    x = as_tensor(x, op="repeat")
    if axis is None:
        x, axis = reshape(x, -1), 0
    else:
        axis = one_axis("repeat", axis, x.ndim)
    counts = _counts(repeats, x.shape[axis])
    try:
        data = np.repeat(x.data, counts, axis=axis)
    except (ValueError, OverflowError) as error:
        raise ArgumentError(f"repeat: cannot repeat a tensor of shape {x.shape} {describe(repeats)} times ({error})") from None
    return record(data, REPEAT, (x,), {"axis": axis, "counts": counts})


def _repeat_vjp(g: Any, out: Any, x: Any, axis: int, counts: int | np.ndarray) -> Any:
    if isinstance(counts, int):  # the copies of each element are neighbours: a sum over them
        return g.reshape(x.shape[:axis] + (x.shape[axis], counts) + x.shape[axis + 1:]).sum(axis=axis + 1)
    source = np.repeat(np.arange(x.shape[axis]), counts)  # where each output element came from
    return _getitem_vjp(g, out, x, index=(slice(None),) * axis + (source,), basic=False)


REPEAT = register(
    "repeat", repeat, vjps=(_repeat_vjp,), saves="",
    samples=[Sample("2x3 twice along axis 1", (uniform(2, 3),), lambda x: repeat(x, 2, 1)),
             Sample("2x3 [1, 0, 3] along axis -1", (uniform(2, 3),), lambda x: repeat(x, [1, 0, 3], -1)),
             Sample("2x2 3 times flattened", (uniform(2, 2),), lambda x: repeat(x, 3))],
)


def tile(x: TensorLike, reps: int | tuple[int, ...]) -> Tensor:
    """numpy's tile: the whole tensor repeated ``reps`` times along each axis (reps and the
    shape are aligned from the right, missing entries being 1)."""
    x = as_tensor(x, op="tile")
    reps = shape_argument("tile", reps)
    if any(not 0 <= r <= _LARGEST for r in reps):
        raise ArgumentError(f"tile: reps must be counts >= 0, got {reps}")
    ndim = max(len(reps), x.ndim)
    try:
        data = np.tile(x.data, reps)
    except (ValueError, OverflowError) as error:
        raise ArgumentError(f"tile: cannot tile a tensor of shape {x.shape} by {reps} ({error})") from None
    return record(data, TILE, (x,), {"reps": (1,) * (ndim - len(reps)) + reps,
                                     "shape": (1,) * (ndim - x.ndim) + x.shape})


def _tile_vjp(g: Any, out: Any, x: Any, reps: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    # Output axis k holds reps[k] copies of input axis k one after the other: split it in two
    # (copy, position) and sum over the copies.
    interleaved = tuple(n for pair in zip(reps, shape) for n in pair)
    return g.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(shape), 2))).reshape(x.shape)


TILE = register(
    "tile", tile, vjps=(_tile_vjp,), saves="",
    samples=[Sample("2x3 reps 2", (uniform(2, 3),), lambda x: tile(x, 2)),
             Sample("3 reps (2, 2) new axis", (uniform(3),), lambda x: tile(x, (2, 2))),
             Sample("2x1x2 reps (2, 1)", (uniform(2, 1, 2),), lambda x: tile(x, (2, 1)))],
)


# ---------------------------------------------------------------- roll, flip
def _integers(op: str, name: str, value: Any) -> tuple[int, ...]:
    values = (value,) if _is_int(value) else value
    if not isinstance(values, (tuple, list)) or not all(_is_int(v) for v in values):
        raise DTypeError(f"{op}: {name} must be an int or a tuple of ints, got {describe(value)}")
    return tuple(int(v) for v in values)


def roll(x: TensorLike, shift: int | tuple[int, ...], axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Shift values along ``axis`` cyclically (None: along the flattened values); shifts and
    axes pair up as numpy broadcasts them, and shifts of a repeated axis add up."""
    x = as_tensor(x, op="roll")
    shifts = _integers("roll", "shift", shift)
    if axis is None:
        total = sum(shifts) % x.size if x.size else 0
        return record(np.roll(x.data, total), ROLL, (x,), {"shifts": total, "axes": None})
    axes = tuple(one_axis("roll", a, x.ndim) for a in _integers("roll", "axis", axis))
    if len(shifts) != len(axes) and 1 not in (len(shifts), len(axes)):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    totals: dict[int, int] = {}
    for s, a in zip(shifts * len(axes) if len(shifts) == 1 else shifts, axes * len(shifts) if len(axes) == 1 else axes):
        totals[a] = (totals.get(a, 0) + s) % x.shape[a] if x.shape[a] else 0
    rolled = tuple(totals)
    data = np.roll(x.data, tuple(totals.values()), rolled) if rolled else x.data.copy()
    return record(data, ROLL, (x,), {"shifts": tuple(totals.values()), "axes": rolled})



def _roll_vjp(g: Any, out: Any, x: Any, shifts: Any, axes: tuple[int, ...] | None) -> Any:
    if axes is None:
        return np.roll(g, -shifts)
    return np.roll(g, tuple(-s for s in shifts), axes) if axes else g


ROLL = register(
    "roll", roll, vjps=(_roll_vjp,), saves="",
    samples=[Sample("2x3 shift 1 axis 1", (uniform(2, 3),), lambda x: roll(x, 1, 1)),
             Sample("2x3 shift -2 flattened", (uniform(2, 3),), lambda x: roll(x, -2)),
             Sample("2x3x2 shifts (1, 2) axes (0, -1)", (uniform(2, 3, 2),), lambda x: roll(x, (1, 2), (0, -1)))],
)


def flip(x: TensorLike, axis: Axis = None) -> Tensor:
    """Reverse the order of the values along ``axis`` (None: every axis); a view, as in numpy."""
    x = as_tensor(x, op="flip")
    axes = normalize_axes("flip", axis, x.ndim)
    return record(np.flip(x.data, axes), FLIP, (x,), {"axes": axes})


FLIP = register(
    "flip", flip, vjps=(lambda g, out, x, axes: np.flip(g, axes),), saves="", view=True,
    samples=[Sample("2x3 every axis", (uniform(2, 3),), flip),
             Sample("2x3x2 axis -1", (uniform(2, 3, 2),), lambda x: flip(x, -1)),
             Sample("2x3 axes (0, 1)", (uniform(2, 3),), lambda x: flip(x, (0, 1)))],
)
