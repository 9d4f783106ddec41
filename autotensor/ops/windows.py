"""Sliding windows over images: ``unfold`` (im2col) and its adjoint ``fold`` (col2im).

A convolution or a pooling layer looks at the input through a window of ``kernel`` pixels that
moves by ``stride`` over the zero-padded image.  ``unfold`` lays every window out as a column,
PyTorch's ``F.unfold`` layout: an (N, C, H, W) batch becomes (N, C * kh * kw, L), one column
per window position (``L = OH * OW``, row-major), the rows ordered channel, then kernel row,
then kernel column.  A convolution is then one matrix product, a pooling layer a reduction
over the kernel rows.

``fold`` goes back: it adds every column into the window it came from (overlapping windows add
up) and crops the padding.  The two are linear and adjoint -- ``<fold(c), x> = <c, unfold(x)>``
-- so each is the other's derivative rule, and the pair is closed under differentiation: the
gradients of convolutions and poolings built from them can be differentiated again.

Both run without a Python loop over pixels: ``unfold`` is a strided view (numpy's
``sliding_window_view``, which at.compile traces like any numpy function) copied once into the
column layout; ``fold`` adds ``kh * kw`` strided slices, one per kernel offset.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autotensor.conversion import as_tensor, describe
from autotensor.errors import ArgumentError, DTypeError, ShapeError
from autotensor.ops.axes import _is_int
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record

Pair = tuple[int, int]


# ---------------------------------------------------------------- arguments
def pair(op: str, name: str, value: Any, minimum: int) -> Pair:
    """An int or a pair of ints (height, width), each at least ``minimum``."""
    values = (value, value) if _is_int(value) else value
    if not (isinstance(values, (tuple, list)) and len(values) == 2 and all(_is_int(v) for v in values)):
        raise DTypeError(f"{op}: {name} must be an int or a pair of ints, got {describe(value)}")
    if min(values) < minimum:
        raise ArgumentError(f"{op}: {name} must be at least {minimum}, got {describe(value)}")
    return int(values[0]), int(values[1])


def image_batch(op: str, x: Tensor, what: str = "input") -> None:
    """Refuse anything but a 4-D (N, C, H, W) batch."""
    if x.ndim != 4:
        raise ShapeError(f"{op}: the {what} must be a 4-D batch (N, C, H, W), got shape {x.shape}")


def positions(op: str, size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    """(OH, OW): how many window positions fit, PyTorch's floor((H + 2p - k) / s) + 1.

    The padding must be smaller than the kernel: more would only add positions that see zeros.
    """
    if padding[0] >= kernel[0] or padding[1] >= kernel[1]:
        raise ArgumentError(f"{op}: padding {padding} must be smaller than the kernel {kernel} along each axis")
    padded = (size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ShapeError(f"{op}: a kernel of {kernel} does not fit an image of {size} padded by {padding}")
    return (padded[0] - kernel[0]) // stride[0] + 1, (padded[1] - kernel[1]) // stride[1] + 1


def _steps(size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    """The strides as numpy slices take them: a stride past the last window position changes
    nothing (one window fits), so it is cut to that span (numpy slices need C integers)."""
    return tuple(min(s, n + 2 * p - k + 1) for n, k, s, p in zip(size, kernel, stride, padding))  # type: ignore[return-value]


# ---------------------------------------------------------------- the numpy computations
def padded(x: Any, padding: Pair) -> Any:
    """``x`` with ``padding`` zeros around its last two axes (a new array made from ``x``, so a
    traced ``x`` traces it too)."""
    if padding == (0, 0):
        return x
    n, c, h, w = x.shape
    ph, pw = padding
    out = np.zeros_like(x, shape=(n, c, h + 2 * ph, w + 2 * pw))
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def columns(x: Any, kernel: Pair, stride: Pair, padding: Pair) -> Any:
    """im2col on an array: (N, C, H, W) -> (N, C * kh * kw, OH * OW)."""
    n, c, h, w = x.shape
    oh, ow = positions("unfold", (h, w), kernel, stride, padding)
    sh, sw = _steps((h, w), kernel, stride, padding)
    windows = sliding_window_view(padded(x, padding), kernel, axis=(2, 3))[:, :, ::sh, ::sw]
    # (N, C, OH, OW, kh, kw) -> (N, C, kh, kw, OH, OW), copied once into the column layout.
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], oh * ow)


def offsets(size: Pair, kernel: Pair, stride: Pair, padding: Pair = (0, 0)) -> list[tuple[slice, ...]]:
    """For each kernel offset (i, j), row-major, the basic index of the (N, C, OH, OW) elements of
    the padded image it sees: the element at offset (i, j) of every window, one strided slice."""
    oh, ow = positions("windows", size, kernel, stride, padding)
    sh, sw = _steps(size, kernel, stride, padding)
    return [(slice(None), slice(None), slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))
            for i in range(kernel[0]) for j in range(kernel[1])]


def images(cols: Any, size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Any:
    """col2im on an array: (N, C * kh * kw, L) -> (N, C, H, W), overlapping windows added up."""
    n, count = cols.shape[0], kernel[0] * kernel[1]
    oh, ow = positions("fold", size, kernel, stride, padding)
    blocks = cols.reshape(n, cols.shape[1] // count, count, oh, ow)
    ph, pw = padding
    full = np.zeros_like(cols, shape=(n, blocks.shape[1], size[0] + 2 * ph, size[1] + 2 * pw))
    for k, index in enumerate(offsets(size, kernel, stride, padding)):  # per kernel offset, never per pixel
        window = full[index]
        np.add(window, blocks[:, :, k], out=window)
    return full if padding == (0, 0) else full[:, :, ph:ph + size[0], pw:pw + size[1]]


def unfold_any(x: Any, kernel: Pair, stride: Pair, padding: Pair) -> Any:
    """im2col of an array, or the recorded ``unfold`` op of a Tensor (a rule's backward pass)."""
    return unfold(x, kernel, stride, padding) if isinstance(x, Tensor) else columns(x, kernel, stride, padding)


def fold_any(cols: Any, size: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Any:
    """col2im of an array, or the recorded ``fold`` op of a Tensor."""
    if isinstance(cols, Tensor):
        return fold(cols, size, kernel, stride, padding)
    return images(cols, size, kernel, stride, padding)


# ---------------------------------------------------------------- the ops
def unfold(x: TensorLike, kernel_size: Any, stride: Any = 1, padding: Any = 0) -> Tensor:
    """Every ``kernel_size`` window of an (N, C, H, W) batch as a column: (N, C * kh * kw, L),
    as PyTorch's ``F.unfold`` (zero ``padding`` around the image, windows ``stride`` apart)."""
    x = as_tensor(x, op="unfold")
    kernel = pair("unfold", "kernel_size", kernel_size, 1)
    stride, padding = pair("unfold", "stride", stride, 1), pair("unfold", "padding", padding, 0)
    image_batch("unfold", x)
    positions("unfold", x.shape[2:], kernel, stride, padding)
    return record(columns(x.data, kernel, stride, padding), UNFOLD, (x,),
                  {"kernel": kernel, "stride": stride, "padding": padding})


UNFOLD = register(
    "unfold", unfold,
    vjps=(lambda g, out, x, kernel, stride, padding: fold_any(g, x.shape[2:], kernel, stride, padding),),
    saves="",
    samples=[
        Sample("2x2x4x5 kernel 3x2", (uniform(2, 2, 4, 5),), lambda x: unfold(x, (3, 2))),
        Sample("1x2x5x5 kernel 3 stride 2 padding 1", (uniform(1, 2, 5, 5),), lambda x: unfold(x, 3, 2, 1)),
    ],
)


def fold(cols: TensorLike, output_size: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0) -> Tensor:
    """The adjoint of :func:`unfold`, PyTorch's ``F.fold``: columns (N, C * kh * kw, L) added
    back into an (N, C, H, W) batch of ``output_size`` (H, W), overlaps summed, padding cropped."""
    cols = as_tensor(cols, op="fold")
    size = pair("fold", "output_size", output_size, 1)
    kernel = pair("fold", "kernel_size", kernel_size, 1)
    stride, padding = pair("fold", "stride", stride, 1), pair("fold", "padding", padding, 0)
    if cols.ndim != 3:
        raise ShapeError(f"fold: the columns must be a 3-D batch (N, C * kh * kw, L), got shape {cols.shape}")
    oh, ow = positions("fold", size, kernel, stride, padding)
    if cols.shape[1] % (kernel[0] * kernel[1]) or cols.shape[2] != oh * ow:
        raise ShapeError(
            f"fold: columns of shape {cols.shape} do not fit a kernel of {kernel} over {size}: expected "
            f"(N, C * {kernel[0] * kernel[1]}, {oh * ow})"
        )
    return record(images(cols.data, size, kernel, stride, padding), FOLD, (cols,),
                  {"size": size, "kernel": kernel, "stride": stride, "padding": padding})


FOLD = register(
    "fold", fold,
    vjps=(lambda g, out, cols, size, kernel, stride, padding: unfold_any(g, kernel, stride, padding),),
    saves="",
    samples=[
        Sample("2x12x8 into 4x5, kernel 3x2", (uniform(2, 12, 8),), lambda c: fold(c, (4, 5), (3, 2))),
        Sample("1x18x9 into 5x5, kernel 3 stride 2 padding 1 (overlaps)", (uniform(1, 18, 9),),
               lambda c: fold(c, 5, 3, 2, 1)),
    ],
)
