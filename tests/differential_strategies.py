"""Hypothesis strategies for the differential test against PyTorch (tests/test_differential.py).

They draw the inputs where autograd engines go wrong: zero-size dimensions and 0-d arrays,
broadcast pairs, negative and tuple axes, permutations with negative entries, values exactly at
0, -0, +-1 and of large magnitude, ties, repeated and empty index lists, boolean masks and slices
with negative steps.  The calls drawn are the ones numpy defines (autotensor follows numpy's
conventions for shapes, axes and indexing), plus a few that both libraries must refuse (an
ambiguous -1 in reshape, max over an empty axis); what each call computes is PyTorch's business.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

Shape = tuple[int, ...]
Axis = int | tuple[int, ...] | None

MAX_SIDE = 3  # up to 3**4 = 81 elements: big enough for every case, small enough to be fast


@dataclass(frozen=True)
class Call:
    """One drawn call of an op: the arrays it is differentiated against, and its fixed arguments
    (axes, shapes, masks, indices, bounds), which are passed as keywords to both libraries."""

    inputs: tuple[np.ndarray, ...]
    params: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- values
SPECIAL = (0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0)
"""Kinks, ties and the points where conventions decide (relu'(0), abs'(0), 0 ** 0)."""

LARGE = (1e3, -1e3, 1e8, -1e8)
"""Magnitudes that overflow exp and saturate tanh, sigmoid and softplus (exact in float32)."""

DYADIC = tuple(k / 32 for k in range(-96, 97))
"""Multiples of 1/32 in [-3, 3]: exact in float32, and equal often enough to make ties."""

_mantissas = np.random.default_rng(20170418)
ORDINARY = tuple(float(v) for v in np.float32(_mantissas.uniform(0.125, 3.0, 96) * _mantissas.choice([-1, 1], 96)))
"""Float32-exact values of magnitude 1/8..3 with arbitrary mantissas (no overflow, no tiny values)."""


def values(*, large: Sequence[float] = LARGE, special: Sequence[float] = SPECIAL) -> st.SearchStrategy[float]:
    """One element from a weighted pool: a special value about a quarter of the time, a large
    magnitude an eighth, else an ordinary value.  One ``sampled_from`` draws several times faster
    than a ``one_of`` (drawing values is most of the test's time) and shrinks to 0."""
    pool = tuple(special) * (128 // max(len(special), 1)) + DYADIC + ORDINARY
    if large:
        pool += tuple(large) * (64 // len(large))
    return st.sampled_from(pool)


TIES = st.sampled_from((-1.0, 0.0, 0.5, 1.0))
"""A pool so small that equal elements are the rule, not the exception (max, min, maximum)."""


def array(shape: Shape, elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[np.ndarray]:
    """A float64 array of ``shape`` (the test casts it to the dtype under test)."""
    return arrays(np.float64, shape, elements=values() if elements is None else elements,
                  fill=st.nothing())  # every element drawn: a fill value would make most equal


SOMETIMES_EMPTY = st.sampled_from([False, False, False, True])
"""Whether a drawn shape gets a side of 0: in about a quarter of the draws (left to chance, 0 would
be rare, as hypothesis likes few dimensions; allowed everywhere, it would leave few values)."""


@st.composite
def shapes(draw: st.DrawFn, min_dims: int = 0, max_dims: int = 4) -> Shape:
    """Shapes of 0-4 dimensions with sides up to 3: 0-d arrays and zero-size dimensions included."""
    shape = list(draw(array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=MAX_SIDE)))
    if shape and draw(SOMETIMES_EMPTY):
        shape[draw(st.integers(0, len(shape) - 1))] = 0
    return tuple(shape)


@st.composite
def broadcast_pair(draw: st.DrawFn, count: int = 2, max_dims: int = 4) -> tuple[Shape, ...]:
    """Shapes that broadcast together: leading axes added, size-1 axes stretched (also to 0)."""
    drawn = draw(mutually_broadcastable_shapes(num_shapes=count, min_dims=0, max_dims=max_dims, min_side=1,
                                               max_side=MAX_SIDE))
    result = [list(shape) for shape in drawn.input_shapes]
    if drawn.result_shape and draw(SOMETIMES_EMPTY):
        from_end = draw(st.integers(1, len(drawn.result_shape)))
        having = [shape for shape in result if len(shape) >= from_end]
        stretched = [shape for shape in having if shape[-from_end] != 1] or having[:1]
        for shape in stretched:  # sides of 1 there stay 1: they broadcast to 0
            shape[-from_end] = 0
    return tuple(tuple(shape) for shape in result)


@st.composite
def elementwise(draw: st.DrawFn, elements: st.SearchStrategy[float] | None = None,
                params: st.SearchStrategy[dict[str, Any]] = st.just({})) -> Call:
    """One array of any shape, and the op's fixed arguments drawn from ``params``."""
    return Call((draw(array(draw(shapes()), elements)),), draw(params))


@st.composite
def broadcasting(draw: st.DrawFn, first: st.SearchStrategy[float] | None = None,
                 second: st.SearchStrategy[float] | None = None) -> Call:
    """Two arrays of broadcastable shapes (a binary elementwise op)."""
    a_shape, b_shape = draw(broadcast_pair())
    return Call((draw(array(a_shape, first)), draw(array(b_shape, second))))


# ---------------------------------------------------------------- axes
def single_axis(ndim: int) -> st.SearchStrategy[int]:
    """An axis of an ``ndim``-dimensional array, negative or not (ndim >= 1)."""
    return st.integers(-ndim, ndim - 1)


def axes(ndim: int) -> st.SearchStrategy[Axis]:
    """None (all axes), one axis, or a tuple of distinct axes, possibly empty (no axis reduced),
    each written negatively or not."""
    if ndim == 0:
        return st.sampled_from([None, ()])
    distinct = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)
    signed = distinct.flatmap(lambda chosen: st.tuples(*[st.sampled_from([a, a - ndim]) for a in chosen]))
    return st.one_of(st.none(), single_axis(ndim), signed)


@st.composite
def reduction(draw: st.DrawFn, elements: st.SearchStrategy[float] | None = None) -> Call:
    """An array, the axes to reduce and keepdims."""
    x = draw(array(draw(shapes()), elements))
    return Call((x,), {"axis": draw(axes(x.ndim)), "keepdims": draw(st.booleans())})


LOGIT_OFFSETS = st.sampled_from((0.0, 0.0, 0.0, 1e3, -1e3, 1e8, -1e8))
"""A shift of all the logits: softmax(x + c) = softmax(x) and logsumexp(x + c) = logsumexp(x) + c,
so large logits must cost neither overflow nor accuracy (exact in float64 for the values drawn;
in float32 the shifted values round, to ties)."""


@st.composite
def logits(draw: st.DrawFn, shape: Shape) -> np.ndarray:
    """An array of ``shape``, all of it shifted by one of ``LOGIT_OFFSETS``."""
    return draw(array(shape)) + draw(LOGIT_OFFSETS)


@st.composite
def logsumexp_arguments(draw: st.DrawFn) -> Call:
    """Logits (sometimes all shifted by a large offset), the axes to reduce and keepdims."""
    x = draw(logits(draw(shapes())))
    return Call((x,), {"axis": draw(axes(x.ndim)), "keepdims": draw(st.booleans())})


@st.composite
def along_axis(draw: st.DrawFn) -> Call:
    """Logits of at least one dimension (sometimes shifted by a large offset) and one axis
    (softmax, log_softmax)."""
    x = draw(logits(draw(shapes(min_dims=1))))
    return Call((x,), {"axis": draw(single_axis(x.ndim))})


# ---------------------------------------------------------------- selections
@st.composite
def clip_bounds(draw: st.DrawFn) -> Call:
    """An array and bounds: only low, only high, or both (sometimes low > high, where numpy and
    torch both answer high); bounds are drawn from the elements' pool, so ties with them occur."""
    x = draw(array(draw(shapes()), values(large=(1e3, -1e3))))
    bound = st.sampled_from(SPECIAL + DYADIC)
    kind = draw(st.sampled_from(["low", "high", "both"]))
    low = draw(bound) if kind in ("low", "both") else None
    high = draw(bound) if kind in ("high", "both") else None
    return Call((x,), {"low": low, "high": high})


@st.composite
def where_arguments(draw: st.DrawFn) -> Call:
    """A boolean condition and two arrays, all three broadcasting together."""
    condition_shape, a_shape, b_shape = draw(broadcast_pair(3))
    condition = draw(arrays(np.bool_, condition_shape))
    return Call((draw(array(a_shape)), draw(array(b_shape))), {"condition": condition})


@st.composite
def extremum_arguments(draw: st.DrawFn) -> Call:
    """max/min over axes, with ties among the elements about half of the time."""
    elements = draw(st.sampled_from([TIES, values()]))
    return draw(reduction(elements))


# ---------------------------------------------------------------- products
@st.composite
def matmul_operands(draw: st.DrawFn, batched_right: bool = True) -> tuple[Shape, Shape]:
    """Shapes numpy.matmul accepts: vector . vector, vector . stack, stack . vector and batched
    stacks whose batch axes broadcast; inner and outer sides may be 0."""
    sides = [draw(st.integers(1, MAX_SIDE)) for _ in range(3)]
    if draw(SOMETIMES_EMPTY):
        sides[draw(st.integers(0, 2))] = 0
    m, n, p = sides
    a_vector, b_vector = draw(st.booleans()), draw(st.booleans())
    a_batch, b_batch = draw(broadcast_pair(max_dims=2))
    if not batched_right:
        b_batch = ()
    a_shape = (n,) if a_vector else a_batch + (m, n)
    b_shape = (n,) if b_vector else b_batch + (n, p)
    return a_shape, b_shape


@st.composite
def matmul_arguments(draw: st.DrawFn) -> Call:
    a_shape, b_shape = draw(matmul_operands())
    return Call((draw(array(a_shape)), draw(array(b_shape))))


@st.composite
def linear_arguments(draw: st.DrawFn) -> Call:
    """x (rows of any batch) @ W, W of shape (in, out) or (in,), plus a bias of the output's
    trailing shape: (out,) the layer's, () a scalar, or the whole output; or no bias at all."""
    x_shape, w_shape = draw(matmul_operands(batched_right=False))
    out_shape = np.matmul(np.zeros(x_shape), np.zeros(w_shape)).shape
    inputs = [draw(array(x_shape)), draw(array(w_shape))]
    if draw(st.booleans()):
        kept = draw(st.integers(0, len(out_shape)))
        inputs.append(draw(array(out_shape[len(out_shape) - kept:])))
    return Call(tuple(inputs))


# ---------------------------------------------------------------- shapes
@st.composite
def reshape_arguments(draw: st.DrawFn) -> Call:
    """An array and a new shape of the same size, with one side sometimes written -1 (also where
    -1 is ambiguous, on a zero-size array: both libraries must refuse); a 1-D target as a bare int."""
    x = draw(array(draw(shapes())))
    target = draw(_factorisation(x.size))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    shape: int | tuple[int, ...] = tuple(target)
    if len(target) == 1 and draw(st.booleans()):
        shape = target[0]
    return Call((x,), {"shape": shape})


@st.composite
def _factorisation(draw: st.DrawFn, size: int) -> list[int]:
    """A random factorisation of ``size`` into sides (ones inserted; a 0 among them if size is 0)."""
    if size == 0:
        return draw(st.permutations([0] + draw(st.lists(st.integers(0, MAX_SIDE), max_size=3))))
    primes, rest, factor = [], size, 2
    while rest > 1:
        while rest % factor == 0:
            primes.append(factor)
            rest //= factor
        factor += 1
    primes = draw(st.permutations(primes + [1] * draw(st.integers(0, 2))))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(primes) - 1, 1)), max_size=3)))
    return [int(np.prod(primes[i:j])) for i, j in zip([0] + cuts, cuts + [len(primes)]) if i < j]


@st.composite
def transpose_arguments(draw: st.DrawFn) -> Call:
    """An array and a permutation of its axes, entries written negatively at random; or None."""
    x = draw(array(draw(shapes())))
    if draw(st.integers(0, 4)) == 0:
        return Call((x,), {"axes": None})
    order = draw(st.permutations(range(x.ndim)))
    signed = tuple(draw(st.sampled_from([a, a - x.ndim])) for a in order)
    return Call((x,), {"axes": signed})


@st.composite
def swapaxes_arguments(draw: st.DrawFn) -> Call:
    x = draw(array(draw(shapes(min_dims=1))))
    return Call((x,), {"axis1": draw(single_axis(x.ndim)), "axis2": draw(single_axis(x.ndim))})


@st.composite
def broadcast_to_arguments(draw: st.DrawFn) -> Call:
    """An array and a shape it broadcasts to: leading axes added, size-1 sides stretched (to 0 too)."""
    x = draw(array(draw(shapes(max_dims=3))))
    leading = draw(st.lists(st.integers(0, MAX_SIDE), max_size=2))
    stretched = [draw(st.integers(0, MAX_SIDE)) if side == 1 else side for side in x.shape]
    return Call((x,), {"shape": tuple(leading + stretched)})


@st.composite
def joined(draw: st.DrawFn, stacking: bool) -> Call:
    """1-4 arrays to concatenate (same shape but for the axis, whose sides may be 0) or to stack
    (one shape, 0-d included), and the axis, negative or not."""
    count = draw(st.integers(1, 4))
    shape = draw(shapes(min_dims=0 if stacking else 1, max_dims=3))
    if stacking:
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        parts = [draw(array(shape)) for _ in range(count)]
    else:
        axis = draw(single_axis(len(shape)))
        sides = [draw(st.integers(1, MAX_SIDE)) for _ in range(count)]
        if draw(SOMETIMES_EMPTY):
            sides[draw(st.integers(0, count - 1))] = 0
        k = axis % len(shape)
        parts = [draw(array(shape[:k] + (side,) + shape[k + 1:])) for side in sides]
    return Call(tuple(parts), {"axis": axis})


# ---------------------------------------------------------------- indexing
def _slices(side: int) -> st.SearchStrategy[slice]:
    """Slices with any start/stop (also out of range and negative) and steps of either sign."""
    bound = st.one_of(st.none(), st.integers(-side - 1, side + 1))
    step = st.sampled_from([None, 1, 2, -1, -2, 3])
    return st.builds(slice, bound, bound, step)


def _integer_arrays(side: int, shape: Shape, as_list: bool) -> st.SearchStrategy[Any]:
    """Indices into an axis of length ``side``: repeated and negative entries, possibly none."""
    if side == 0 and int(np.prod(shape)) > 0:
        shape = (0,)
    index = arrays(np.intp, shape, elements=st.integers(-side, side - 1) if side else st.nothing())
    return index.map(lambda a: a.tolist()) if as_list else index


INDEX_KINDS = st.sampled_from(["int", "slice", "array", "list", "mask"] * 2 + ["none", "ellipsis"])
BASIC_INDEX_KINDS = st.sampled_from(["int", "slice"] * 2 + ["none", "ellipsis"])


@st.composite
def index_for(draw: st.DrawFn, shape: Shape, kinds: st.SearchStrategy[str] = INDEX_KINDS) -> Any:
    """A numpy index of an array of ``shape``: ints, slices (negative steps too), None, Ellipsis,
    integer arrays or lists (repeated, negative, empty; all of one shape so they broadcast) and
    boolean masks over one or more axes, as ``kinds`` allows.  Given bare or as a tuple."""
    parts: list[Any] = []
    axis = 0
    array_shape = draw(st.sampled_from([(2,), (0,), (3,), (), (4,), (0,), (2, 2), (1,)]))
    used_ellipsis = False
    while axis < len(shape) and draw(st.integers(0, 3)) > 0:
        side = shape[axis]
        kind = draw(kinds)
        if kind == "int" and side > 0:
            parts.append(draw(st.integers(-side, side - 1)))
            axis += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            parts.append(Ellipsis)
            used_ellipsis = True
            axis = len(shape) - draw(st.integers(0, len(shape) - axis))
        elif kind in ("array", "list"):
            parts.append(draw(_integer_arrays(side, array_shape, as_list=kind == "list")))
            axis += 1
        elif kind == "mask":
            covered = draw(st.integers(1, len(shape) - axis))
            parts.append(draw(arrays(np.bool_, shape[axis:axis + covered])))
            axis += covered
        else:
            parts.append(draw(_slices(side)))
            axis += 1
    if not parts:
        parts.append(draw(_slices(shape[0])) if shape else Ellipsis)
    index: Any = tuple(parts)
    assume(_numpy_accepts(shape, index))
    if len(parts) == 1 and draw(st.booleans()):
        index = parts[0]
    return index


def _numpy_accepts(shape: Shape, index: Any) -> bool:
    """Whether numpy defines ``x[index]`` (masks and arrays of mismatched broadcast are not)."""
    try:
        np.empty(shape)[index]
    except (IndexError, ValueError):
        return False
    return True


@st.composite
def getitem_arguments(draw: st.DrawFn) -> Call:
    x = draw(array(draw(shapes())))
    return Call((x,), {"index": draw(index_for(x.shape))})


@st.composite
def scatter_add_arguments(draw: st.DrawFn) -> Call:
    """Values, an index into ``shape`` and ``basic``: the way getitem's backward calls scatter_add.
    Basic indices (ints, slices, None, Ellipsis) pick each place at most once; advanced ones are
    tuples of integer arrays with repeated entries, which add up."""
    basic = draw(st.booleans())
    shape = draw(shapes(min_dims=0 if basic else 1))
    if basic:
        index = draw(index_for(shape, BASIC_INDEX_KINDS))
        index = index if isinstance(index, tuple) else (index,)
    else:
        count = draw(st.integers(1, len(shape)))
        array_shape = draw(st.sampled_from([(3,), (0,), (1,), (2, 2)]))
        index = tuple(draw(_integer_arrays(shape[k], array_shape, as_list=False)) for k in range(count))
        assume(_numpy_accepts(shape, index))
    picked = np.empty(shape)[index].shape
    return Call((draw(array(picked)),), {"index": index, "shape": shape, "basic": basic})
