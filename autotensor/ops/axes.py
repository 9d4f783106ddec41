"""Axis and shape arguments: checked once, normalised to non-negative ints, errors naming the op.

Every op that takes an axis, a permutation or a shape goes through these, so ``axis=-1`` means
the same everywhere and a bad argument gives the same kind of error everywhere: a float or a
string is a :class:`DTypeError` (a TypeError, as in numpy), an axis that does not exist an
:class:`IndexingError` (an IndexError and a ValueError, like numpy's AxisError).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autotensor.conversion import describe
from autotensor.errors import DTypeError, IndexingError, ShapeError

Axis = int | tuple[int, ...] | None


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def one_axis(op: str, axis: Any, ndim: int) -> int:
    """A single axis in ``[-ndim, ndim)`` as a non-negative int."""
    if not _is_int(axis):
        raise DTypeError(f"{op}: axis must be an int, got {describe(axis)}")
    if not -ndim <= axis < ndim:
        raise IndexingError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimension(s)")
    return int(axis) % ndim


def normalize_axes(op: str, axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """Axes as a sorted tuple of non-negative ints (``None`` = all), or an error naming the op."""
    if axis is None:
        return None
    if _is_int(axis):
        return (one_axis(op, axis, ndim),)
    if not isinstance(axis, (tuple, list)):
        raise DTypeError(f"{op}: axis must be None, an int or a tuple of ints, got {describe(axis)}")
    normalized = [one_axis(op, a, ndim) for a in axis]
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(normalized))


def permutation(op: str, axes: Sequence[Any], ndim: int) -> tuple[int, ...]:
    """A permutation of the axes (negative entries allowed) as non-negative ints."""
    if not isinstance(axes, (tuple, list)):
        raise DTypeError(f"{op}: axes must be a tuple of ints, got {describe(axes)}")
    normalized = tuple(one_axis(op, a, ndim) for a in axes)
    if sorted(normalized) != list(range(ndim)):
        raise ShapeError(f"{op}: axes {tuple(axes)} are not a permutation of the {ndim} axes")
    return normalized


def reduction_axes(op: str, axis: Axis, keepdims: Any, ndim: int) -> tuple[int, ...] | None:
    """A reduction's axes (as :func:`normalize_axes`), once ``keepdims`` is checked to be a bool
    (numpy's reductions accept nothing else either)."""
    if keepdims is not False and keepdims is not True and not isinstance(keepdims, np.bool_):
        raise DTypeError(f"{op}: keepdims must be True or False, got {describe(keepdims)}")
    return None if axis is None else normalize_axes(op, axis, ndim)


def shape_argument(op: str, shape: Any) -> tuple[int, ...]:
    """A shape given as an int or a sequence of ints, as a tuple (sizes are checked by numpy)."""
    if _is_int(shape):
        return (int(shape),)
    if isinstance(shape, (tuple, list)) and all(_is_int(n) for n in shape):
        return tuple(int(n) for n in shape)
    raise DTypeError(f"{op}: a shape must be an int or a tuple of ints, got {describe(shape)}")
