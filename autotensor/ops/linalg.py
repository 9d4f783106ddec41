"""Matrix multiplication with numpy's rules: 1-D operands, 2-D matrices and batched stacks.

For ``out = a @ b`` the gradients are ``g @ b^T`` and ``a^T @ g`` -- in the documents' words
``dJ/dW = a^T delta`` and the delta sent to the previous layer ``delta W^T``.  1-D operands
are first seen as a row (a) or a column (b) so that ``.T`` means something, and batch axes
that were broadcast are summed by ``unbroadcast``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.broadcasting import unbroadcast
from autotensor.conversion import as_tensor, operands
from autotensor.errors import ShapeError
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record


def _product(op: str, a: Tensor, b: Tensor) -> np.ndarray:
    """numpy's matmul of the two, or an error naming the op and both shapes."""
    if a.data.ndim == 0 or b.data.ndim == 0:
        raise ShapeError(f"{op}: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    try:
        # For two matrices np.dot is the same product with less call overhead than the @ gufunc.
        return np.dot(a.data, b.data) if a.data.ndim == 2 == b.data.ndim else a.data @ b.data
    except ValueError:
        raise ShapeError(f"{op}: cannot multiply {a.shape} by {b.shape}") from None


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """a @ b following numpy.matmul (1-D, 2-D and batched N-D operands)."""
    a, b = operands("matmul", a, b)
    return record(_product("matmul", a, b), MATMUL, (a, b))


def _as_matrices(g: Any, a: Any, b: Any) -> tuple[Any, Any, Any]:
    """a as (..., m, n), b as (..., n, p) and g as (..., m, p), re-inserting the axes that
    numpy removes for 1-D operands."""
    a_matrix = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b_matrix = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    batch = g.shape[: g.ndim - (a.ndim > 1) - (b.ndim > 1)]
    g_matrix = g.reshape(batch + (a_matrix.shape[-2], b_matrix.shape[-1]))
    return g_matrix, a_matrix, b_matrix


def _transposed(b: np.ndarray, rows: int) -> np.ndarray:
    """``b.T`` as the right operand of a BLAS product with ``rows`` rows on the left: copied to C
    order when ``b`` is small and the left operand tall.

    A tall gradient times a small transposed view (the delta sent back through a narrow layer,
    ``delta W^T`` with N = 7,249) is up to 4x slower than with a contiguous copy, which costs
    little; a large ``b.T`` goes to BLAS as a view, which is faster there than a copy, and so
    does any ``b.T`` next to a short gradient (a mini-batch), where the copy is one call more.
    """
    return b.T.copy() if b.size <= 16384 and rows >= 128 else b.T  # copy() is C order


def _matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 2 and b.ndim == 2:
        return g @ b.T if isinstance(g, Tensor) else np.dot(g, _transposed(b, g.shape[0]))
    g_matrix, a_matrix, b_matrix = _as_matrices(g, a, b)
    return unbroadcast(g_matrix @ b_matrix.swapaxes(-1, -2), a_matrix.shape).reshape(a.shape)


def _matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 2 and b.ndim == 2:
        return a.T @ g if isinstance(g, Tensor) else np.dot(a.T, g)
    g_matrix, a_matrix, b_matrix = _as_matrices(g, a, b)
    return unbroadcast(a_matrix.swapaxes(-1, -2) @ g_matrix, b_matrix.shape).reshape(b.shape)


MATMUL = register(
    "matmul", matmul, vjps=(_matmul_vjp_a, _matmul_vjp_b),
    samples=[
        Sample("3x4 @ 4x2", (uniform(3, 4), uniform(4, 2)), matmul),
        Sample("4 @ 4 (dot)", (uniform(4), uniform(4)), matmul),
        Sample("4 @ 4x3 (vector-matrix)", (uniform(4), uniform(4, 3)), matmul),
        Sample("2x4 @ 4 (matrix-vector)", (uniform(2, 4), uniform(4)), matmul),
        Sample("2x3x4 @ 4x2 (batched, broadcast)", (uniform(2, 3, 4), uniform(4, 2)), matmul),
        Sample("2x1x3x4 @ 3x4x2 (batch broadcast)", (uniform(2, 1, 3, 4), uniform(3, 4, 2)), matmul),
    ],
)


def linear(x: TensorLike, W: TensorLike, b: TensorLike | None = None) -> Tensor:
    """The layer equation ``z = x @ W + b`` as one op (b optional, broadcast over the rows).

    It is ``matmul`` followed by ``add``, fused so that a layer is one graph node instead of
    two and the bias is added into the fresh product instead of a second full-size array.  Its
    rules are the documents' per-layer formulas: ``delta W^T`` for the input, ``x^T delta`` for
    the weights and the column sum of ``delta`` for the bias.
    """
    x, W = operands("linear", x, W)
    data = _product("linear", x, W)
    if b is None:
        return record(data, LINEAR, (x, W))
    b = as_tensor(b, like=x, op="linear")
    if b.data.shape != data.shape[data.ndim - b.data.ndim:] or b.data.ndim > data.ndim:
        raise ShapeError(f"linear: a bias of shape {b.shape} does not fit outputs of shape {data.shape}")
    if np.result_type(data, b.data) == data.dtype:
        data += b.data  # the product is a new array nobody else holds: add the bias in place
    else:
        data = data + b.data
    return record(data, LINEAR, (x, W, b))


LINEAR = register(
    "linear", linear,
    # The bias, if any, does not enter the product's rules (``*bias`` takes it or nothing).
    vjps=(lambda g, out, x, W, *bias: _matmul_vjp_a(g, out, x, W),
          lambda g, out, x, W, *bias: _matmul_vjp_b(g, out, x, W),
          lambda g, out, x, W, b: unbroadcast(g, b.shape)),
    samples=[
        Sample("4x3 @ 3x2 + 2", (uniform(4, 3), uniform(3, 2), uniform(2)), linear),
        Sample("3 @ 3x2 + 2 (one row)", (uniform(3), uniform(3, 2), uniform(2)), linear),
        Sample("2x4x3 @ 3x2 + 2 (batched)", (uniform(2, 4, 3), uniform(3, 2), uniform(2)), linear),
        Sample("4x3 @ 3x2 (no bias)", (uniform(4, 3), uniform(3, 2)), linear),
    ],
)
