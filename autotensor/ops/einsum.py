"""Einstein summation and the products written with it: tensordot, outer, trace.

``einsum`` follows numpy: explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``: the labels that
appear once, in alphabetical order) outputs, a label repeated in one operand (``"ii->"`` a trace,
``"ii->i"`` a diagonal), ``...`` for broadcast batch axes, and sides of 1 broadcast against a
label's size in other operands.

**The rule of an operand is an einsum itself**: the output gradient ``g`` contracted with the
other operands gives the operand's labels,

    d/dA einsum("ij,jk->ik", A, B) . g  =  einsum("ik,jk->ij", g, B)

and so on for any number of operands.  Three cases need a word.  A label the operand repeats
(``"ii"``) is renamed (``"ia"``) and an identity matrix ``"ia"`` joins the contraction, which puts
the gradient on the diagonal.  A label found only in that operand (summed over by the forward)
is absent from the contraction: the gradient is constant along it, so it is broadcast.  A side of
1 that was broadcast against a longer one is summed back.  Because each rule is an einsum, the
recorded backward pass is made of einsums and einsum is differentiable to any order.
"""
from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, describe
from autotensor.errors import ArgumentError, DTypeError, ShapeError
from autotensor.ops.axes import _is_int, one_axis
from autotensor.ops.shape import reshape
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record

_LETTERS = string.ascii_letters


def _explicit(subscripts: Any, shapes: Sequence[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """The labels of each operand and of the output, with ``...`` written out as letters the
    subscripts do not use (right-aligned, so batch axes broadcast as in numpy) and an implicit
    output made explicit."""
    if not isinstance(subscripts, str):
        raise DTypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {describe(subscripts)}")
    spec = subscripts.replace(" ", "")
    left, arrow, output = spec.partition("->")
    if "->" in output or any(c not in _LETTERS and c not in ".,->" for c in spec):
        raise ArgumentError(f"einsum: invalid subscripts {subscripts!r} (letters, ',', '...' and one '->')")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise ArgumentError(f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s), got {len(shapes)}")
    for term in terms + [output]:
        if term.replace("...", "", 1).count(".") or term.count("...") > 1:
            raise ArgumentError(f"einsum: invalid ellipsis in {subscripts!r}")
    spare = [c for c in _LETTERS if c not in spec]
    batch_dims = [len(shape) - len(term) + 3 for term, shape in zip(terms, shapes) if "..." in term]
    batch = max(batch_dims, default=0)
    if batch < 0 or batch > len(spare):
        raise ShapeError(f"einsum: subscripts {subscripts!r} do not fit operands of shapes {list(shapes)}")
    batch_labels = "".join(spare[:batch])
    written = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            own = len(shape) - len(term) + 3
            term = term.replace("...", batch_labels[batch - own:] if own >= 0 else "")
        if len(term) != len(shape):
            raise ShapeError(f"einsum: subscripts {subscripts!r} do not fit operands of shapes {list(shapes)}")
        for label in set(term):
            sides = {n for c, n in zip(term, shape) if c == label}
            if len(sides) > 1:  # (numpy lets a side of 0 pass here, and then answers wrongly)
                raise ShapeError(f"einsum: label {label!r} is repeated in an operand of shape {shape} with sides {sorted(sides)}")
        written.append(term)
    if arrow:
        output = output.replace("...", batch_labels)
    else:
        counts = Counter("".join(written))
        output = batch_labels + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in batch_labels))
    return tuple(written), output


def _optimize(operands: Sequence[Any]) -> Any:
    """numpy's contraction order (and BLAS) for three operands or more, or large ones; the plain
    loop for small pairs, where planning would cost more than it saves."""
    return "greedy" if len(operands) > 2 or any(x.size >= 4096 for x in operands) else False


def einsum(subscripts: str, *operands: TensorLike) -> Tensor:
    """numpy's Einstein summation (see the module docstring): ``einsum("ij,jk->ik", a, b)``."""
    tensors = tuple(as_tensor(x, op="einsum") for x in operands)
    terms, output = _explicit(subscripts, [t.shape for t in tensors])
    arrays = [t.data for t in tensors]
    try:
        data = np.einsum(",".join(terms) + "->" + output, *arrays, optimize=_optimize(arrays))
    except ValueError as error:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"einsum: {subscripts!r} does not fit operands of shapes {shapes} ({error})") from None
    if any(np.may_share_memory(data, x) for x in arrays):
        data = data.copy()  # numpy returns views for transposes and diagonals
    return record(data, EINSUM, tensors, {"terms": terms, "output": output})


def _einsum_vjp(argnum: int, g: Any, out: Any, *operands: Any, terms: tuple[str, ...], output: str) -> Any:
    term, x = terms[argnum], operands[argnum]
    others = [i for i in range(len(terms)) if i != argnum]
    spare = iter(c for c in _LETTERS if c not in "".join(terms) + output)
    target, identities = [], []
    for position, label in enumerate(term):
        if label in target:  # repeated in this operand: a fresh label, tied to it by an identity
            fresh = next(spare)
            identities.append((label + fresh, x.shape[position]))
            label = fresh
        target.append(label)
    present = set(output).union(*(terms[i] for i in others), *(pair for pair, _ in identities))
    produced = "".join(label for label in target if label in present)
    inputs = [output] + [terms[i] for i in others] + [pair for pair, _ in identities]
    factors = [g] + [operands[i] for i in others] + [np.eye(n, dtype=g.dtype) for _, n in identities]
    spec = ",".join(inputs) + "->" + produced
    grad = einsum(spec, *factors) if isinstance(g, Tensor) else np.einsum(spec, *factors, optimize=_optimize(factors))
    # Back to the operand's shape: constant along its own labels, summed where it was broadcast.
    grad = grad.reshape(tuple(grad.shape[produced.index(c)] if c in present else 1 for c in target))
    stretched = tuple(i for i, n in enumerate(x.shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != x.shape:
        grad = grad.broadcast_to(x.shape) if isinstance(grad, Tensor) else np.broadcast_to(grad, x.shape)
    return grad


EINSUM = register(
    "einsum", einsum, vjps=(_einsum_vjp,), variadic=True,
    samples=[
        Sample("ij,jk->ik", (uniform(2, 3), uniform(3, 4)), lambda a, b: einsum("ij,jk->ik", a, b)),
        Sample("ii-> trace", (uniform(3, 3),), lambda a: einsum("ii->", a)),
        Sample("ii->i diagonal", (uniform(3, 3),), lambda a: einsum("ii->i", a)),
        Sample("bij,bjk->bik batch", (uniform(2, 2, 3), uniform(2, 3, 2)), lambda a, b: einsum("bij,bjk->bik", a, b)),
        Sample("...ij,...jk ellipsis broadcast", (uniform(2, 1, 2, 3), uniform(3, 3, 2)),
               lambda a, b: einsum("...ij,...jk", a, b)),
        Sample("i,i,i-> one operand thrice", (uniform(4),), lambda a: einsum("i,i,i->", a, a, a)),
        Sample("ji implicit transpose", (uniform(2, 3),), lambda a: einsum("ji", a)),
        Sample("ij,j->i side of 1 broadcast", (uniform(2, 1), uniform(3)), lambda a, b: einsum("ij,j->i", a, b)),
        Sample("ijk->j summed labels", (uniform(2, 3, 2),), lambda a: einsum("ijk->j", a)),
    ],
)


# ---------------------------------------------------------------- tensordot, outer, trace
def tensordot(a: TensorLike, b: TensorLike, axes: Any = 2) -> Tensor:
    """numpy's tensordot: sum over the last ``axes`` axes of a and the first of b, or over the
    axes ``(axes_a, axes_b)`` named pairwise (a composite of einsum)."""
    a, b = as_tensor(a, op="tensordot"), as_tensor(b, op="tensordot")
    if _is_int(axes):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: cannot contract {axes} axes of shapes {a.shape} and {b.shape}")
        pairs = list(zip(range(a.ndim - axes, a.ndim), range(axes)))
    elif isinstance(axes, (tuple, list)) and len(axes) == 2:
        first, second = ([side] if _is_int(side) else side for side in axes)
        if not isinstance(first, (tuple, list)) or not isinstance(second, (tuple, list)):
            raise DTypeError(f"tensordot: axes must be an int or a pair of axis lists, got {describe(axes)}")
        if len(first) != len(second):
            raise ShapeError(f"tensordot: axes {axes!r} must name as many axes of a as of b")
        pairs = [(one_axis("tensordot", i, a.ndim), one_axis("tensordot", j, b.ndim)) for i, j in zip(first, second)]
    else:
        raise DTypeError(f"tensordot: axes must be an int or a pair of axis lists, got {describe(axes)}")
    if len({i for i, _ in pairs}) != len(pairs) or len({j for _, j in pairs}) != len(pairs):
        raise ShapeError(f"tensordot: repeated axis in {axes!r}")
    if any(a.shape[i] != b.shape[j] for i, j in pairs) or a.ndim + b.ndim > len(_LETTERS):
        raise ShapeError(f"tensordot: axes {axes!r} do not pair equal sides of shapes {a.shape} and {b.shape}")
    a_labels = list(_LETTERS[: a.ndim])
    b_labels = list(_LETTERS[a.ndim: a.ndim + b.ndim])
    for i, j in pairs:
        b_labels[j] = a_labels[i]
    contracted = {a_labels[i] for i, _ in pairs}
    output = [c for c in a_labels + b_labels if c not in contracted]
    return einsum(f"{''.join(a_labels)},{''.join(b_labels)}->{''.join(output)}", a, b)


TENSORDOT = register(
    "tensordot", tensordot, vjps=(),  # composite: its gradient is einsum's
    samples=[
        Sample("3x4x2 . 4x2x5 axes 2", (uniform(3, 4, 2), uniform(4, 2, 5)), tensordot),
        Sample("2x3 . 3x4 axes 1", (uniform(2, 3), uniform(3, 4)), lambda a, b: tensordot(a, b, 1)),
        Sample("3x2x4 . 2x3 axes ([1, 0], [0, -1])", (uniform(3, 2, 4), uniform(2, 3)),
               lambda a, b: tensordot(a, b, ([1, 0], [0, -1]))),
        Sample("2 . 3 axes 0 (outer)", (uniform(2), uniform(3)), lambda a, b: tensordot(a, b, 0)),
    ],
)


def outer(a: TensorLike, b: TensorLike) -> Tensor:
    """numpy's outer product: a and b flattened, ``out[i, j] = a[i] * b[j]`` (einsum)."""
    a, b = as_tensor(a, op="outer"), as_tensor(b, op="outer")
    return einsum("i,j->ij", reshape(a, -1), reshape(b, -1))


OUTER = register(
    "outer", outer, vjps=(),  # composite: reshape and einsum
    samples=[Sample("3 . 4", (uniform(3), uniform(4)), outer),
             Sample("2x2 . 3 flattened", (uniform(2, 2), uniform(3)), outer)],
)


def trace(x: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along a diagonal of the ``axis1``-``axis2`` planes (``offset`` > 0 above the main
    diagonal, < 0 below), as numpy's trace (slicing and einsum)."""
    x = as_tensor(x, op="trace")
    if x.ndim < 2:
        raise ShapeError(f"trace: needs at least two dimensions, got a tensor of shape {x.shape}")
    if not _is_int(offset):
        raise DTypeError(f"trace: offset must be an int, got {describe(offset)}")
    first, second = one_axis("trace", axis1, x.ndim), one_axis("trace", axis2, x.ndim)
    if first == second:
        raise ShapeError(f"trace: axis1 and axis2 must differ, got {axis1} and {axis2}")
    rows, columns = x.shape[first], x.shape[second]
    start_row, start_column = max(0, -offset), max(0, offset)
    length = max(0, min(rows - start_row, columns - start_column))
    if (start_row, start_column, length) != (0, 0, rows) or rows != columns:
        index = [slice(None)] * x.ndim
        index[first] = slice(start_row, start_row + length)
        index[second] = slice(start_column, start_column + length)
        x = x[tuple(index)]
    labels = list(_LETTERS[: x.ndim])
    labels[second] = labels[first]
    output = [c for i, c in enumerate(labels) if i not in (first, second)]
    return einsum(f"{''.join(labels)}->{''.join(output)}", x)


TRACE = register(
    "trace", trace, vjps=(),  # composite: getitem and einsum
    samples=[Sample("3x3", (uniform(3, 3),), trace),
             Sample("3x4 offset 1", (uniform(3, 4),), lambda x: trace(x, 1)),
             Sample("2x3x3 axes 2, 1 offset -1", (uniform(2, 3, 3),), lambda x: trace(x, -1, 2, 1))],
)
