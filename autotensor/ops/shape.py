"""Ops that move values around without arithmetic: reshape, transpose, broadcast, indexing,
concatenate and stack.  Their gradients move the output gradient back to where each value came
from; indexing adds it back (``scatter_add``), so repeated indices accumulate.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autotensor.broadcasting import unbroadcast
from autotensor.conversion import as_tensor, describe, index_value
from autotensor.errors import DTypeError, IndexingError, ShapeError
from autotensor.ops.axes import one_axis, permutation, shape_argument
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record


# ---------------------------------------------------------------- reshape, transpose, broadcast
def reshape(x: TensorLike, shape: int | Sequence[int]) -> Tensor:
    """The same values in a new shape (one dimension may be -1); a view of ``x`` where numpy can
    make one, sharing its version counter."""
    x = as_tensor(x, op="reshape")
    shape = shape_argument("reshape", shape)
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}") from None
    return record(data, RESHAPE, (x,))


RESHAPE = register(
    "reshape", reshape, vjps=(lambda g, out, x: g.reshape(x.shape),), saves="", view=True,
    samples=[Sample("2x6 -> 3x4", (uniform(2, 6),), lambda x: reshape(x, (3, 4))),
             Sample("6 -> 2x-1", (uniform(6),), lambda x: reshape(x, (2, -1)))],
)


def transpose(x: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (default: reverse them, like numpy's ``.T``); negative axes count from
    the end.  The result is a view of ``x``, sharing its version counter."""
    x = as_tensor(x, op="transpose")
    if axes is not None:
        axes = permutation("transpose", axes, x.ndim)
    return record(x.data.transpose(axes), TRANSPOSE, (x,), {"axes": axes})


def _transpose_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None) -> Any:
    # The inverse permutation sends every axis back where it came from (axes are non-negative).
    return g.transpose(None if axes is None else tuple(int(a) for a in np.argsort(axes)))


TRANSPOSE = register(
    "transpose", transpose, vjps=(_transpose_vjp,), saves="", view=True,
    samples=[Sample("2x3 .T", (uniform(2, 3),), transpose),
             Sample("2x3x4 axes (1, 2, 0)", (uniform(2, 3, 4),), lambda x: transpose(x, (1, 2, 0))),
             Sample("2x3x4 axes (-1, 0, -2)", (uniform(2, 3, 4),), lambda x: transpose(x, (-1, 0, -2)))],
)


def swapaxes(x: TensorLike, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes (a composite of ``transpose``, so a view too)."""
    x = as_tensor(x, op="swapaxes")
    first, second = one_axis("swapaxes", axis1, x.ndim), one_axis("swapaxes", axis2, x.ndim)
    order = list(range(x.ndim))
    order[first], order[second] = second, first
    return transpose(x, order)


SWAPAXES = register(
    "swapaxes", swapaxes, vjps=(),  # composite: its gradient is transpose's
    samples=[Sample("2x3x4 axes -1, -2", (uniform(2, 3, 4),), lambda x: swapaxes(x, -1, -2))],
)


def broadcast_to(x: TensorLike, shape: Sequence[int]) -> Tensor:
    """Repeat ``x`` along broadcast axes to ``shape`` (a copy, so the result is writable)."""
    x = as_tensor(x, op="broadcast_to")
    shape = shape_argument("broadcast_to", shape)
    try:
        data = np.broadcast_to(x.data, shape).copy()
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(data, BROADCAST_TO, (x,))


BROADCAST_TO = register(
    "broadcast_to", broadcast_to, vjps=(lambda g, out, x: unbroadcast(g, x.shape),), saves="",
    samples=[Sample("3x1 -> 2x3x4", (uniform(3, 1),), lambda x: broadcast_to(x, (2, 3, 4))),
             Sample("4 -> 3x4", (uniform(4),), lambda x: broadcast_to(x, (3, 4)))],
)


# ---------------------------------------------------------------- indexing
def _normalize_index(index: Any) -> Any:
    """Tensors and lists to arrays, boolean masks to the integer arrays they select, and every
    index array a private copy (the rule reads it after the forward pass; the caller may edit
    their array meanwhile).

    A boolean mask of k dimensions is the same selection as its k ``nonzero()`` index arrays;
    using those makes the gradient a plain scatter-add.  An empty list selects nothing, as in
    numpy (it would otherwise become a float array, which is no index).
    """
    index = index_value(index)
    parts = index if isinstance(index, tuple) else (index,)
    normalized: list[Any] = []
    for part in parts:
        if isinstance(part, list):
            part = np.asarray(part) if part else np.empty(0, dtype=np.intp)
        if isinstance(part, np.ndarray):
            if part.dtype == bool:
                normalized.extend(np.nonzero(part))
                continue
            part = part.copy()
        normalized.append(part)
    return tuple(normalized)


def _is_basic(index: tuple[Any, ...]) -> bool:
    """Only ints, slices, None and Ellipsis: each element is picked at most once."""
    return all(part is None or part is Ellipsis or isinstance(part, (int, np.integer, slice)) for part in index)


def getitem(x: TensorLike, index: Any) -> Tensor:
    """``x[index]`` with numpy's basic and advanced indexing; repeated indices add gradients."""
    x = as_tensor(x, op="getitem")
    index = _normalize_index(index)
    try:
        data = x.data[index]
    except (IndexError, ValueError, TypeError) as error:
        raise IndexingError(f"getitem: index {describe(index)} does not fit a tensor of shape {x.shape} ({error})") from None
    if np.may_share_memory(data, x.data):
        data = data.copy()  # a view would let in-place edits of the result change x unseen
    return record(data, GETITEM, (x,), {"index": index, "basic": _is_basic(index)})


def _getitem_vjp(g: Any, out: Any, x: Any, index: Any, basic: bool) -> Any:
    return scatter_add(g, index, x.shape, basic) if isinstance(g, Tensor) else _scatter(g, index, x.shape, basic)


def _scatter(g: np.ndarray, index: Any, shape: tuple[int, ...], basic: bool) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    full = np.zeros_like(g, shape=shape)  # made from g, so a traced g (at.compile) traces it too
    if basic:
        full[index] = g
    else:
        np.add.at(full, index, g)
    return full


GETITEM = register(
    "getitem", getitem, vjps=(_getitem_vjp,), saves="",
    samples=[
        Sample("4x3 [1:3, ::2] slices", (uniform(4, 3),), lambda x: x[1:3, ::2]),
        Sample("5 [[0, 2, 2, 4, 2]] repeated", (uniform(5),), lambda x: x[np.array([0, 2, 2, 4, 2])]),
        Sample("3x4 [[2, 0, 2], 1:] advanced + slice", (uniform(3, 4),), lambda x: x[np.array([2, 0, 2]), 1:]),
        Sample("3x2 [None, :, 1] new axis", (uniform(3, 2),), lambda x: x[None, :, 1]),
        Sample("2x3 [mask] boolean", (uniform(2, 3),),
               lambda x: x[np.array([[True, False, True], [False, True, True]])]),
        Sample("3 [[]] empty list", (uniform(3),), lambda x: x[[]]),
    ],
)


def scatter_add(g: TensorLike, index: Any, shape: tuple[int, ...], basic: bool = False) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index``: the gradient of ``getitem``, as an op so
    that the backward pass of indexing can itself be differentiated."""
    g = as_tensor(g, op="scatter_add")
    shape = shape_argument("scatter_add", shape)
    try:
        data = _scatter(g.data, index, shape, basic)
    except (ValueError, IndexError) as error:
        raise IndexingError(
            f"scatter_add: cannot add values of shape {g.shape} into shape {tuple(shape)} at {index!r} ({error})"
        ) from None
    return record(data, SCATTER_ADD, (g,), {"index": index})


SCATTER_ADD = register(
    "scatter_add", scatter_add, vjps=(lambda g, out, values, index: g[index],), saves="",
    samples=[Sample("3 into 5 at [4, 1, 4]", (uniform(3),),
                    lambda v: scatter_add(v, (np.array([4, 1, 4]),), (5,)))],
)


# ---------------------------------------------------------------- concatenate, stack
def _along(axis: int, selection: Any) -> tuple[Any, ...]:
    """An index selecting ``selection`` on ``axis`` and everything on the axes before it."""
    return (slice(None),) * axis + (selection,)


def _join(name: str, join: Any, tensors: Sequence[TensorLike], axis: int) -> tuple[tuple[Tensor, ...], np.ndarray]:
    """The inputs as Tensors and numpy's join of them, or an error naming the op and shapes."""
    if not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{name}: expects a list or tuple of tensors, got {describe(tensors)}")
    tensors = tuple(as_tensor(t, op=name) for t in tensors)
    if not tensors:
        raise ShapeError(f"{name}: needs at least one tensor")
    one_axis(name, axis, tensors[0].ndim + (join is np.stack))  # the axis exists (stack adds one)
    try:
        return tensors, join([t.data for t in tensors], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"{name}: cannot join shapes {shapes} along axis {axis}") from None


def concatenate(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors, data = _join("concatenate", np.concatenate, tensors, axis)
    axis = axis % data.ndim
    bounds = np.cumsum([0] + [t.shape[axis] for t in tensors]).tolist()
    return record(data, CONCATENATE, tensors, {"axis": axis, "bounds": bounds})


def _concatenate_vjp(argnum: int, g: Any, out: Any, *inputs: Any, axis: int, bounds: list[int]) -> Any:
    return g[_along(axis, slice(bounds[argnum], bounds[argnum + 1]))]


CONCATENATE = register(
    "concatenate", concatenate, vjps=(_concatenate_vjp,), saves="", variadic=True,
    samples=[Sample("2x3 + 1x3 axis 0", (uniform(2, 3), uniform(1, 3)), lambda a, b: concatenate([a, b])),
             Sample("2x1 + 2x2 + 2x3 axis 1", (uniform(2, 1), uniform(2, 2), uniform(2, 3)),
                    lambda a, b, c: concatenate([a, b, c], axis=1))],
)


def stack(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    tensors, data = _join("stack", np.stack, tensors, axis)
    return record(data, STACK, tensors, {"axis": axis % data.ndim})


def _stack_vjp(argnum: int, g: Any, out: Any, *inputs: Any, axis: int) -> Any:
    return g[_along(axis, argnum)]


STACK = register(
    "stack", stack, vjps=(_stack_vjp,), saves="", variadic=True,
    samples=[Sample("3 x 2 axis 0", (uniform(3), uniform(3)), lambda a, b: stack([a, b])),
             Sample("2x2 x 3 axis -1", (uniform(2, 2), uniform(2, 2), uniform(2, 2)),
                    lambda a, b, c: stack([a, b, c], axis=-1))],
)
