"""Convolution and pooling over (N, C, H, W) batches, PyTorch's layout and arithmetic.

* ``conv2d(x, w, b)``: ``w`` of shape (out, in, kh, kw); every output pixel is the dot product of
  a window of ``x`` with a filter, plus the filter's bias -- a cross-correlation, as in PyTorch.
  With the windows as columns (:func:`~autotensor.ops.windows.unfold`) it is one matrix product,
  ``out[n] = w.reshape(out, -1) @ unfold(x)[n]``, so its rules are those of a product:

  - input:   ``fold(w.reshape(out, -1).T @ g)``, the transposed convolution;
  - weights: ``sum_n g[n] @ unfold(x)[n].T``, the correlation of the input with the gradient;
  - bias:    ``g`` summed over the batch and the pixels.

* ``max_pool2d``: the largest value of each window.  Its gradient goes to the window's first
  largest element (PyTorch's rule: ties are not split); overlapping windows add up.
* ``avg_pool2d``: the mean of each window; every element gets ``g / (kh * kw)`` of each window
  it is in.

The rules are written with operations that arrays, Tensors and at.compile's traced values
share, and the window bookkeeping goes through ``unfold``/``fold``, which are ops themselves:
on Tensors (``create_graph=True``) each rule is recorded, so every gradient here can be
differentiated again.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.broadcasting import unbroadcast
from autotensor.conversion import as_tensor, float_data
from autotensor.errors import ShapeError
from autotensor.ops.windows import Pair, fold_any, image_batch, pair, positions, unfold_any, columns
from autotensor.registry import Sample, distinct, register, uniform
from autotensor.tensor import Tensor, TensorLike, record


# ---------------------------------------------------------------- conv2d
def conv2d(x: TensorLike, w: TensorLike, b: TensorLike | None = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """2-D cross-correlation of an (N, C, H, W) batch with filters ``w`` (out, C, kh, kw), plus
    an optional bias ``b`` (out,): PyTorch's ``F.conv2d`` (zero ``padding``, ``stride`` apart)."""
    x = as_tensor(x, op="conv2d")
    w = as_tensor(w, like=x, op="conv2d")
    stride, padding = pair("conv2d", "stride", stride, 1), pair("conv2d", "padding", padding, 0)
    image_batch("conv2d", x)
    image_batch("conv2d", w, "weight")
    if 0 in w.shape:
        raise ShapeError(f"conv2d: filters of shape {w.shape} need at least one filter, channel, row and column")
    if w.shape[1] != x.shape[1]:
        raise ShapeError(f"conv2d: filters of shape {w.shape} take {w.shape[1]} channels, the input "
                         f"of shape {x.shape} has {x.shape[1]}")
    kernel = (w.shape[2], w.shape[3])
    oh, ow = positions("conv2d", x.shape[2:], kernel, stride, padding)
    n, filters = x.shape[0], w.shape[0]
    weights = float_data(w).reshape(filters, w.shape[1] * kernel[0] * kernel[1])
    cols = columns(float_data(x), kernel, stride, padding)
    data = np.matmul(weights, cols).reshape(n, filters, oh, ow)
    # The weights' rule needs the columns again: kept (until backward frees them) when it will run.
    params = {"stride": stride, "padding": padding, "columns": cols if w.requires_grad else None}
    if b is None:
        return record(data, CONV2D, (x, w), params)
    b = as_tensor(b, like=x, op="conv2d")
    if b.shape != (filters,):
        raise ShapeError(f"conv2d: the bias must have shape ({filters},) for {filters} filters, got {b.shape}")
    bias = b.data.reshape(filters, 1, 1)
    if np.result_type(data, bias) == data.dtype:
        data += bias  # the product is a new array nobody else holds
    else:
        data = data + bias
    return record(data, CONV2D, (x, w, b), params)


def _flat(g: Any) -> Any:
    """(N, C, OH, OW) -> (N, C, OH * OW): the layout of unfold's columns (sizes spelled out,
    since -1 cannot be inferred for an empty batch)."""
    return g.reshape(g.shape[0], g.shape[1], g.shape[2] * g.shape[3])


def _conv2d_vjp_x(g: Any, out: Any, x: Any, w: Any, *bias: Any, stride: Pair, padding: Pair, columns: Any) -> Any:
    # delta pulled back through the product, then each column added into its window.
    filters = w.shape[0]
    back = w.reshape(filters, w.shape[1] * w.shape[2] * w.shape[3]).T @ _flat(g)  # (N, C * kh * kw, L)
    return fold_any(back, x.shape[2:], w.shape[2:], stride, padding)


def _conv2d_vjp_w(g: Any, out: Any, x: Any, w: Any, *bias: Any, stride: Pair, padding: Pair, columns: Any) -> Any:
    # One product per image, summed over the batch: measured 5-10x faster than a single
    # tensordot over (N, L), which copies both operands into a transposed layout first.  On
    # Tensors (a recorded backward) the columns are unfold's, so the rule depends on x.
    cols = unfold_any(x, w.shape[2:], stride, padding) if isinstance(x, Tensor) or columns is None else columns
    return (_flat(g) @ cols.swapaxes(1, 2)).sum(axis=0).reshape(w.shape)


def _conv2d_vjp_b(g: Any, out: Any, x: Any, w: Any, b: Any, stride: Pair, padding: Pair, columns: Any) -> Any:
    return unbroadcast(g, (b.shape[0], 1, 1)).reshape(b.shape)


CONV2D = register(
    "conv2d", conv2d, vjps=(_conv2d_vjp_x, _conv2d_vjp_w, _conv2d_vjp_b),
    samples=[
        Sample("2x2x5x4 * 3x2x3x2 + 3", (uniform(2, 2, 5, 4), uniform(3, 2, 3, 2), uniform(3)), conv2d),
        Sample("1x2x5x5 * 2x2x3x3 stride 2 padding 1", (uniform(1, 2, 5, 5), uniform(2, 2, 3, 3), uniform(2)),
               lambda x, w, b: conv2d(x, w, b, stride=2, padding=1)),
        Sample("2x1x4x6 * 2x1x2x3 stride (1, 2) padding (1, 0), no bias", (uniform(2, 1, 4, 6), uniform(2, 1, 2, 3)),
               lambda x, w: conv2d(x, w, stride=(1, 2), padding=(1, 0))),
    ],
)


# ---------------------------------------------------------------- pooling
def _pooled(op: str, x: Tensor, kernel_size: Any, stride: Any) -> tuple[Any, Pair, Pair, Pair]:
    """The windows of ``x`` as (N, C, kh * kw, L), the kernel, the stride (default: the kernel)
    and the output size."""
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(op, "stride", stride, 1)
    image_batch(op, x)
    size = positions(op, x.shape[2:], kernel, stride, (0, 0))
    n, c = x.shape[0], x.shape[1]
    windows = columns(x.data, kernel, stride, (0, 0)).reshape(n, c, kernel[0] * kernel[1], size[0] * size[1])
    return windows, kernel, stride, size


def max_pool2d(x: TensorLike, kernel_size: Any, stride: Any = None) -> Tensor:
    """The largest value of each ``kernel_size`` window, windows ``stride`` apart (default: the
    kernel, so they do not overlap); PyTorch's ``F.max_pool2d`` without padding."""
    x = as_tensor(x, op="max_pool2d")
    windows, kernel, stride, (oh, ow) = _pooled("max_pool2d", x, kernel_size, stride)
    winner = np.argmax(windows, axis=2)  # the first largest element of each window (NaN counts as largest)
    data = windows.max(axis=2).reshape(x.shape[0], x.shape[1], oh, ow)
    return record(data, MAX_POOL2D, (x,), {"kernel": kernel, "stride": stride, "winner": winner})


def _max_pool2d_vjp(g: Any, out: Any, x: Any, kernel: Pair, stride: Pair, winner: Any) -> Any:
    n, c, positions = g.shape[0], g.shape[1], g.shape[2] * g.shape[3]
    count = kernel[0] * kernel[1]
    chosen = np.arange(count).reshape(1, 1, count, 1) == winner.reshape(n, c, 1, positions)  # (N, C, kh * kw, L)
    back = (g.reshape(n, c, 1, positions) * chosen).reshape(n, c * count, positions)
    return fold_any(back, x.shape[2:], kernel, stride, (0, 0))


MAX_POOL2D = register(
    "max_pool2d", max_pool2d, vjps=(_max_pool2d_vjp,), saves="",
    samples=[
        Sample("2x2x4x6 kernel 2", (distinct(2, 2, 4, 6),), lambda x: max_pool2d(x, 2)),
        Sample("1x2x5x5 kernel 3 stride 1 (overlapping)", (distinct(1, 2, 5, 5),), lambda x: max_pool2d(x, 3, 1)),
        Sample("1x1x5x7 kernel (2, 3) stride (2, 2)", (distinct(1, 1, 5, 7),), lambda x: max_pool2d(x, (2, 3), 2)),
    ],
)


def avg_pool2d(x: TensorLike, kernel_size: Any, stride: Any = None) -> Tensor:
    """The mean of each ``kernel_size`` window, windows ``stride`` apart (default: the kernel);
    PyTorch's ``F.avg_pool2d`` without padding."""
    x = as_tensor(x, op="avg_pool2d")
    windows, kernel, stride, (oh, ow) = _pooled("avg_pool2d", x, kernel_size, stride)
    data = windows.mean(axis=2).reshape(x.shape[0], x.shape[1], oh, ow)
    return record(data, AVG_POOL2D, (x,), {"kernel": kernel, "stride": stride})


def _avg_pool2d_vjp(g: Any, out: Any, x: Any, kernel: Pair, stride: Pair) -> Any:
    n, c, positions = g.shape[0], g.shape[1], g.shape[2] * g.shape[3]
    count = kernel[0] * kernel[1]
    share = (g / count).reshape(n, c, 1, positions)
    back = np.broadcast_to(share, (n, c, count, positions)).reshape(n, c * count, positions)
    return fold_any(back, x.shape[2:], kernel, stride, (0, 0))


AVG_POOL2D = register(
    "avg_pool2d", avg_pool2d, vjps=(_avg_pool2d_vjp,), saves="",
    samples=[
        Sample("2x2x4x6 kernel 2", (uniform(2, 2, 4, 6),), lambda x: avg_pool2d(x, 2)),
        Sample("1x2x5x5 kernel 3 stride 1 (overlapping)", (uniform(1, 2, 5, 5),), lambda x: avg_pool2d(x, 3, 1)),
        Sample("1x1x5x7 kernel (2, 3) stride (2, 2)", (uniform(1, 1, 5, 7),), lambda x: avg_pool2d(x, (2, 3), 2)),
    ],
)
