"""Hypothesis strategies for the differential test of the window ops (conv2d, max_pool2d,
avg_pool2d, unfold, fold) against PyTorch.

They draw small batches (batch of 0 to 2, 1 to 3 channels, sides of 1 to 6), kernels of 1 to 3
pixels per side, strides of 1 to 3 (sometimes past the image), paddings up to the kernel minus
one, each given as an int or as a pair, and values from the shared pools (0, -0, +-1, ties, and
magnitudes up to 1e8).  Images smaller than the kernel are drawn too: both libraries must
refuse them.
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.differential_strategies import TIES, Call, array, values

SIDES = st.integers(1, 6)


@st.composite
def _int_or_pair(draw: st.DrawFn, low: int, high: tuple[int, int]) -> Any:
    """An int or a (height, width) pair, each in [low, high] (the int within both bounds)."""
    if draw(st.booleans()):
        return draw(st.integers(low, min(high)))
    return draw(st.integers(low, high[0])), draw(st.integers(low, high[1]))


def _as_pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@st.composite
def _geometry(draw: st.DrawFn, padding: bool) -> dict[str, Any]:
    """Kernel, stride and (if ``padding``) padding: the op's keywords, with the kernel as a pair."""
    kernel = draw(_int_or_pair(1, (3, 3)))
    kh, kw = _as_pair(kernel)
    geometry = {"kernel_size": kernel, "stride": draw(_int_or_pair(1, (3, 3)) | st.just(7))}
    if padding:
        geometry["padding"] = draw(_int_or_pair(0, (kh - 1, kw - 1)))
    return geometry


@st.composite
def conv2d_arguments(draw: st.DrawFn) -> Call:
    """x (N, C, H, W), w (out, C, kh, kw) and, half the time, a bias (out,)."""
    n, channels, filters = draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    geometry = draw(_geometry(padding=True))
    kh, kw = _as_pair(geometry.pop("kernel_size"))
    x = draw(array((n, channels, draw(SIDES), draw(SIDES))))
    w = draw(array((filters, channels, kh, kw)))
    inputs = (x, w, draw(array((filters,)))) if draw(st.booleans()) else (x, w)
    return Call(inputs, geometry)


@st.composite
def pool_arguments(draw: st.DrawFn, ties: bool) -> Call:
    """An image batch and a pooling window (no padding; the stride left out half the time, so
    that it defaults to the kernel).  ``ties``: values from a pool of four, so that windows
    often hold their largest value twice."""
    geometry = draw(_geometry(padding=False))
    if draw(st.booleans()):
        del geometry["stride"]
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(SIDES), draw(SIDES))
    return Call((draw(array(shape, TIES if ties else values())),), geometry)


@st.composite
def unfold_arguments(draw: st.DrawFn) -> Call:
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(SIDES), draw(SIDES))
    return Call((draw(array(shape)),), draw(_geometry(padding=True)))


@st.composite
def fold_arguments(draw: st.DrawFn) -> Call:
    """Columns for an image of ``output_size``; a tenth of the time one column too many, which
    both libraries must refuse."""
    geometry = draw(_geometry(padding=True))
    (kh, kw), (sh, sw), (ph, pw) = (_as_pair(geometry[key]) for key in ("kernel_size", "stride", "padding"))
    size = (draw(SIDES), draw(SIDES))
    count = max(0, (size[0] + 2 * ph - kh) // sh + 1) * max(0, (size[1] + 2 * pw - kw) // sw + 1)
    if draw(st.integers(0, 9)) == 0:
        count += 1
    shape = (draw(st.integers(0, 2)), draw(st.integers(1, 3)) * kh * kw, count)
    output_size = size if draw(st.booleans()) or size[0] != size[1] else size[0]
    return Call((draw(array(shape)),), {"output_size": output_size, **geometry})

