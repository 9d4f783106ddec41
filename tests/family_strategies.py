"""Hypothesis strategies for the differential test of the op families of issue 14 (trig,
exponents, statistics, running products, einsum, rearranging, blocks).

Like ``differential_strategies`` (whose shapes, values and axes they reuse) they draw the calls
numpy defines where autograd engines go wrong: zero-size and 0-d arrays, negative and tuple
axes, exact zeros (prod, cumprod), ddof up to the number of values, einsum traces, diagonals,
broadcast batch axes and sides of 1, repeated operands, split points out of range or
decreasing; and a few calls both libraries must refuse (a split into unequal sections, a
squeeze of an axis longer than 1).
"""
from __future__ import annotations

import string
from typing import Any

import numpy as np
from hypothesis import strategies as st

from tests import differential_strategies as ds
from tests.differential_strategies import Call, Shape

MODERATE = ds.values(large=(), special=ds.SPECIAL)
"""Values of magnitude at most 3, zeros a sixteenth of the time: the product of 81 of them stays
finite in float32 (a product that overflows makes torch's and any exact rule's infinities
differ, since torch divides prod by x when there is no zero)."""


# ---------------------------------------------------------------- statistics and running products
def _count(shape: Shape, axis: ds.Axis) -> int:
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@st.composite
def statistic_arguments(draw: st.DrawFn) -> Call:
    """var and std: an array, axes, keepdims and a ddof from 0 up to the number of values reduced
    (ddof = n gives inf or NaN in both libraries; beyond n numpy takes n - ddof as 0, torch's
    gradient does not, and neither is mathematics); ddof may be fractional."""
    call = draw(ds.reduction())
    x, axis = call.inputs[0], call.params["axis"]
    count = _count(x.shape, axis)
    ddof = draw(st.sampled_from([0, 0, 1, 1, 0.5, 2, count, max(count - 1, 0)]))
    return Call(call.inputs, {**call.params, "ddof": ddof if ddof <= count else 0})


@st.composite
def product_arguments(draw: st.DrawFn) -> Call:
    """prod: an array of moderate values with exact zeros (one, several, none), axes, keepdims."""
    return draw(ds.reduction(MODERATE))


@st.composite
def running_arguments(draw: st.DrawFn, elements: st.SearchStrategy[float] | None = None) -> Call:
    """cumsum and cumprod: an array and one axis, or None (the flattened values; always for 0-d)."""
    x = draw(ds.array(draw(ds.shapes()), elements))
    axis = draw(st.one_of(st.none(), ds.single_axis(x.ndim))) if x.ndim else None
    return Call((x,), {"axis": axis})


# ---------------------------------------------------------------- einsum and friends
@st.composite
def einsum_arguments(draw: st.DrawFn) -> Call:
    """One to three operands; labels repeated within an operand (traces, diagonals) and across
    them (contractions, batch axes), a side of 1 broadcast against the label's size, ``...``
    over broadcast batch shapes, an explicit output in any order or the implicit one (labels
    include 'B', which sorts before the lower-case ones), and one operand used twice."""
    letters = draw(st.sampled_from(["abc", "abcd", "aBc"]))
    sides = {label: draw(st.integers(1, ds.MAX_SIDE)) for label in letters}
    if draw(ds.SOMETIMES_EMPTY):
        sides[draw(st.sampled_from(letters))] = 0
    count = draw(st.integers(1, 3))
    ellipsis = draw(st.integers(0, 3)) == 0
    batches = draw(ds.broadcast_pair(count, max_dims=2)) if ellipsis else [()] * count
    terms, shapes = [], []
    for batch in batches:
        labels = draw(st.lists(st.sampled_from(letters), max_size=3))
        shape = [sides[c] if labels.count(c) > 1 or draw(st.integers(0, 4)) else 1 for c in labels]
        if ellipsis:
            at = draw(st.integers(0, len(labels)))
            labels, shape = labels[:at] + ["..."] + labels[at:], shape[:at] + list(batch) + shape[at:]
        terms.append("".join(labels))
        shapes.append(tuple(shape))
    subscripts = ",".join(terms)
    if draw(st.booleans()):
        used = sorted({c for term in terms for c in term if c in string.ascii_letters})
        output = "".join(draw(st.permutations(draw(st.lists(st.sampled_from(used), unique=True))))) if used else ""
        subscripts += "->" + ("..." + output if ellipsis else output)
    arrays = [draw(ds.array(shape)) for shape in shapes]
    if count >= 2 and shapes[0] == shapes[1] and draw(st.booleans()):
        return Call((arrays[0],) + tuple(arrays[2:]), {"subscripts": subscripts, "twice": True})
    return Call(tuple(arrays), {"subscripts": subscripts, "twice": False})


@st.composite
def tensordot_arguments(draw: st.DrawFn) -> Call:
    """a and b with N contracted sides: axes as an int (a's last N, b's first N) or as two lists
    of axes in any order, written negatively or not."""
    contracted = [draw(st.integers(0, ds.MAX_SIDE)) for _ in range(draw(st.integers(0, 2)))]
    free_a = list(draw(ds.shapes(max_dims=2)))
    free_b = list(draw(ds.shapes(max_dims=2)))
    if draw(st.booleans()):
        return Call((draw(ds.array(tuple(free_a + contracted))), draw(ds.array(tuple(contracted + free_b)))),
                    {"axes": len(contracted)})
    a_order = draw(st.permutations(range(len(free_a) + len(contracted))))
    b_order = draw(st.permutations(range(len(free_b) + len(contracted))))
    a_shape, b_shape = [0] * len(a_order), [0] * len(b_order)
    for side, position in zip(free_a + contracted, a_order):
        a_shape[position] = side
    for side, position in zip(contracted + free_b, b_order):
        b_shape[position] = side
    a_axes = [a_order[len(free_a) + k] for k in range(len(contracted))]
    b_axes = [b_order[k] for k in range(len(contracted))]
    a_axes = [draw(st.sampled_from([i, i - len(a_shape)])) for i in a_axes]
    b_axes = [draw(st.sampled_from([j, j - len(b_shape)])) for j in b_axes]
    return Call((draw(ds.array(tuple(a_shape))), draw(ds.array(tuple(b_shape)))), {"axes": (a_axes, b_axes)})


@st.composite
def outer_arguments(draw: st.DrawFn) -> Call:
    return Call((draw(ds.array(draw(ds.shapes(max_dims=2)))), draw(ds.array(draw(ds.shapes(max_dims=2))))))


@st.composite
def trace_arguments(draw: st.DrawFn) -> Call:
    """2-D and 3-D arrays, offsets above, on and below the diagonal (also past the edge), and
    two distinct axes, negative or not."""
    x = draw(ds.array(draw(ds.shapes(min_dims=2, max_dims=3))))
    axis1, axis2 = draw(st.permutations(range(x.ndim)))[:2]
    return Call((x,), {"offset": draw(st.integers(-3, 3)),
                       "axis1": draw(st.sampled_from([axis1, axis1 - x.ndim])),
                       "axis2": draw(st.sampled_from([axis2, axis2 - x.ndim]))})


# ---------------------------------------------------------------- rearranging
@st.composite
def squeeze_arguments(draw: st.DrawFn) -> Call:
    """Shapes with sides of 1; axis None, or axes of length 1 (sometimes one that is not: refused)."""
    shape = tuple(draw(st.sampled_from([1, 1, n])) for n in draw(ds.shapes()))
    x = draw(ds.array(shape))
    ones = [a for a, n in enumerate(shape) if n == 1]
    if not shape or draw(st.integers(0, 3)) == 0:
        return Call((x,), {"axis": None})
    chosen = draw(st.lists(st.sampled_from(ones), unique=True, min_size=1)) if ones and draw(st.integers(0, 5)) else [
        draw(ds.single_axis(len(shape)))]
    signed = tuple(draw(st.sampled_from([a, a - len(shape)])) for a in chosen)
    return Call((x,), {"axis": signed[0] if len(signed) == 1 and draw(st.booleans()) else signed})


@st.composite
def expand_dims_arguments(draw: st.DrawFn) -> Call:
    """One axis or several of the result, negative or not (sometimes repeated: refused)."""
    x = draw(ds.array(draw(ds.shapes(max_dims=3))))
    count = draw(st.integers(1, 2))
    ndim = x.ndim + count
    axes = tuple(draw(st.integers(-ndim, ndim - 1)) for _ in range(count))
    return Call((x,), {"axis": axes[0] if count == 1 and draw(st.booleans()) else axes})


@st.composite
def repeat_arguments(draw: st.DrawFn) -> Call:
    """One count for all (0 too) or one per element (also a single one), along an axis or the
    flattened values."""
    x = draw(ds.array(draw(ds.shapes())))
    axis = draw(st.one_of(st.none(), ds.single_axis(x.ndim))) if x.ndim else None
    length = x.size if axis is None else x.shape[axis]
    counts = st.integers(0, 3)
    repeats = draw(st.one_of(counts, st.lists(counts, min_size=length, max_size=length),
                             st.lists(counts, min_size=1, max_size=1)))
    return Call((x,), {"repeats": repeats, "axis": axis})


@st.composite
def tile_arguments(draw: st.DrawFn) -> Call:
    """reps shorter than, as long as or longer than the shape; counts of 0 to 2."""
    x = draw(ds.array(draw(ds.shapes(max_dims=3))))
    reps = draw(st.lists(st.integers(0, 2), max_size=4))
    return Call((x,), {"reps": reps[0] if len(reps) == 1 and draw(st.booleans()) else tuple(reps)})


@st.composite
def roll_arguments(draw: st.DrawFn) -> Call:
    """Shifts of either sign, larger than the axis too, over the flattened values or over distinct
    axes (one shift for several axes, or one each)."""
    x = draw(ds.array(draw(ds.shapes())))
    shift = st.integers(-5, 5)
    if not x.ndim or draw(st.integers(0, 3)) == 0:
        return Call((x,), {"shift": draw(shift), "axis": None})
    axes = draw(st.lists(st.integers(0, x.ndim - 1), unique=True, min_size=1))
    axes = [draw(st.sampled_from([a, a - x.ndim])) for a in axes]
    shifts = draw(shift) if draw(st.booleans()) else tuple(draw(shift) for _ in axes)
    return Call((x,), {"shift": shifts, "axis": axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes)})


@st.composite
def flip_arguments(draw: st.DrawFn) -> Call:
    x = draw(ds.array(draw(ds.shapes())))
    return Call((x,), {"axis": draw(ds.axes(x.ndim))})


# ---------------------------------------------------------------- blocks
@st.composite
def split_arguments(draw: st.DrawFn) -> Call:
    """An axis and either a number of sections (dividing its length, or not: refused) or split
    points, negative, out of range and decreasing ones included."""
    x = draw(ds.array(draw(ds.shapes(min_dims=1))))
    axis = draw(ds.single_axis(x.ndim))
    length = x.shape[axis]
    if draw(st.booleans()):
        divisors = [k for k in range(1, max(length, 1) + 1) if length % k == 0] or [1]
        sections = draw(st.sampled_from(divisors + [length + 1] if draw(st.integers(0, 5)) == 0 else divisors))
        return Call((x,), {"indices_or_sections": sections, "axis": axis})
    points = draw(st.lists(st.integers(-length - 2, length + 2), max_size=3))
    return Call((x,), {"indices_or_sections": points, "axis": axis})


@st.composite
def pad_arguments(draw: st.DrawFn) -> Call:
    """Widths as one number, one (before, after) pair or a pair per axis (0 included), and a value."""
    x = draw(ds.array(draw(ds.shapes(min_dims=1, max_dims=3))))
    width = st.integers(0, 2)
    form = draw(st.sampled_from(["one", "pair", "each"]))
    if form == "one":
        pad_width: Any = draw(width)
    elif form == "pair":
        pad_width = (draw(width), draw(width))
    else:
        pad_width = tuple((draw(width), draw(width)) for _ in range(x.ndim))
    return Call((x,), {"pad_width": pad_width, "constant_values": draw(st.sampled_from([0.0, 1.0, -2.5, 1e3]))})


@st.composite
def stacked_blocks(draw: st.DrawFn, vertical: bool) -> Call:
    """1-4 blocks numpy's vstack (or hstack) joins: vectors of one length (0-d as length 1), or
    blocks whose other sides agree (a vector among matrices as a row, for vstack)."""
    count = draw(st.integers(1, 4))
    if draw(st.booleans()):  # vectors and 0-d
        length = draw(st.integers(0, ds.MAX_SIDE))
        shapes = [() if length == 1 and draw(st.booleans()) else (length if vertical else draw(st.integers(0, 3)),)
                  for _ in range(count)]
    else:
        rest = tuple(draw(ds.shapes(min_dims=1, max_dims=2)))
        if vertical:
            shapes = [rest if len(rest) == 1 and draw(st.booleans()) else (draw(st.integers(0, 3)),) + rest
                      for _ in range(count)]
        else:
            shapes = [rest[:1] + (draw(st.integers(0, 3)),) + rest[1:] for _ in range(count)]
    return Call(tuple(draw(ds.array(shape)) for shape in shapes))
