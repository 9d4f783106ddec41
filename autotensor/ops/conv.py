"""Convolution and pooling over (N, C, H, W) batches, PyTorch's layout and arithmetic.

* ``conv2d(x, w, b)``: ``w`` of shape (out, in, kh, kw); every output pixel is the dot product of
  a window of ``x`` with a filter, plus the filter's bias -- a cross-correlation, as in PyTorch.
  With the windows as columns (:func:`~autotensor.ops.windows.unfold`) it is one matrix product,
  ``out[n] = w.reshape(out, -1) @ unfold(x)[n]``, so its rules are those of a product:

  - input:   ``fold(w.reshape(out, -1).T @ g)``, the transposed convolution;
  - weights: ``sum_n g[n] @ unfold(x)[n].T``, the correlation of the input with the gradient;
  - bias:    ``g`` summed over the batch and the pixels.

* ``max_pool2d``: the largest value of each window.  Its gradient goes to the window's first
  largest element (PyTorch's rule: ties are not split; a NaN wins); overlapping windows add up.
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
from autotensor.ops.windows import Pair, columns, fold_any, image_batch, offsets, pair, positions, unfold_any
from autotensor.ops.shape import stack
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
# The pools read the image through one strided view per kernel offset (``offsets``): the
# element at offset k of every window, (N, C, OH, OW) at a time.  A reduction over the kernel is
# then kh * kw - 1 elementwise ufuncs, and the backward pass adds into the same views, with no
# window copied out.  On Tensors (a recorded backward) the rules go through the fold op instead.
def _pool_arguments(op: str, x: Tensor, kernel_size: Any, stride: Any) -> tuple[Pair, Pair]:
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(op, "stride", stride, 1)
    image_batch(op, x)
    positions(op, x.shape[2:], kernel, stride, (0, 0))
    return kernel, stride


def _pool_samples(pool: Any, values: Any) -> list[Sample]:
    """Non-overlapping, overlapping and rectangular windows, with images that leave a margin."""
    return [Sample("2x2x4x6 kernel 2", (values(2, 2, 4, 6),), lambda x: pool(x, 2)),
            Sample("1x2x5x5 kernel 3 stride 1 (overlapping)", (values(1, 2, 5, 5),), lambda x: pool(x, 3, 1)),
            Sample("1x1x5x7 kernel (2, 3) stride (2, 2)", (values(1, 1, 5, 7),), lambda x: pool(x, (2, 3), 2))]


def max_pool2d(x: TensorLike, kernel_size: Any, stride: Any = None) -> Tensor:
    """The largest value of each ``kernel_size`` window, windows ``stride`` apart (default: the
    kernel, so they do not overlap); PyTorch's ``F.max_pool2d`` without padding."""
    x = as_tensor(x, op="max_pool2d")
    kernel, stride = _pool_arguments("max_pool2d", x, kernel_size, stride)
    views = [x.data[index] for index in offsets(x.shape[2:], kernel, stride)]
    best = views[0] if len(views) > 1 else views[0].copy()  # the result never shares x's memory
    winner = np.zeros_like(best, dtype=np.intp)  # which offset holds each window's maximum
    for k, view in enumerate(views[1:], start=1):
        # PyTorch's rule: a later element wins if it is larger or NaN, so the first of equal
        # maxima keeps the gradient.
        winner = np.where((view > best) | (view != view), k, winner)
        best = np.maximum(best, view)
    return record(best, MAX_POOL2D, (x,), {"kernel": kernel, "stride": stride, "winner": winner})


def _pool_gradient(g: Any, x: Any, kernel: Pair, stride: Pair, piece: Any) -> Any:
    """The input gradient of a pool: ``piece(k)`` (N, C, OH, OW) is what the element at offset k
    of every window receives; overlapping windows add up.  On arrays the pieces are added into
    one strided view each; on Tensors they are stacked into columns and folded (recorded ops)."""
    pieces = [piece(k) for k in range(kernel[0] * kernel[1])]
    if isinstance(g, Tensor):
        n, c, length = g.shape[0], g.shape[1], g.shape[2] * g.shape[3]
        columns_ = stack(pieces, axis=2).reshape(n, c * len(pieces), length)
        return fold_any(columns_, x.shape[2:], kernel, stride, (0, 0))
    full = np.zeros_like(pieces[0], shape=x.shape)  # made from a piece: traced when g or the winners are
    for index, part in zip(offsets(x.shape[2:], kernel, stride), pieces):
        window = full[index]
        np.add(window, part, out=window)
    return full


def _max_pool2d_vjp(g: Any, out: Any, x: Any, kernel: Pair, stride: Pair, winner: Any) -> Any:
    return _pool_gradient(g, x, kernel, stride, lambda k: g * (winner == k))


MAX_POOL2D = register(
    "max_pool2d", max_pool2d, vjps=(_max_pool2d_vjp,), saves="",
    samples=_pool_samples(max_pool2d, distinct),  # distinct values: no ties, where the rule has a kink
)


def avg_pool2d(x: TensorLike, kernel_size: Any, stride: Any = None) -> Tensor:
    """The mean of each ``kernel_size`` window, windows ``stride`` apart (default: the kernel);
    PyTorch's ``F.avg_pool2d`` without padding."""
    x = as_tensor(x, op="avg_pool2d")
    kernel, stride = _pool_arguments("avg_pool2d", x, kernel_size, stride)
    views = [float_data(x)[index] for index in offsets(x.shape[2:], kernel, stride)]
    total = views[0]
    for view in views[1:]:
        total = total + view
    return record(total / len(views), AVG_POOL2D, (x,), {"kernel": kernel, "stride": stride})


def _avg_pool2d_vjp(g: Any, out: Any, x: Any, kernel: Pair, stride: Pair) -> Any:
    share = g / (kernel[0] * kernel[1])
    return _pool_gradient(g, x, kernel, stride, lambda k: share)


AVG_POOL2D = register(
    "avg_pool2d", avg_pool2d, vjps=(_avg_pool2d_vjp,), saves="",
    samples=_pool_samples(avg_pool2d, uniform),
)
