"""The operators and methods of :class:`~autotensor.tensor.Tensor`: each is the spelling of an op.

``x + y`` is ``add(x, y)``, ``x.tanh()`` is ``tanh(x)``; nothing here computes anything itself,
so an op still lives in one place (its module in ``autotensor/ops/``).  Comparisons are not
differentiable: like masks in numpy they return boolean ndarrays.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from autotensor.tensor import Tensor, TensorLike

ops: Any = None  # the ops package, bound by autotensor.tensor (the ops need Tensor to exist first)


class TensorMethods:
    """Mixin of :class:`~autotensor.tensor.Tensor`: operators and one method per op."""

    __slots__ = ()

    @property
    def T(self) -> Tensor:  # noqa: N802 - numpy's name
        return ops.transpose(self)

    def __add__(self, other: TensorLike) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: TensorLike) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: TensorLike) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: TensorLike) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: TensorLike) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: TensorLike) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: TensorLike) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, exponent: TensorLike) -> Tensor:
        return ops.pow(self, exponent)

    def __rpow__(self, base: TensorLike) -> Tensor:
        return ops.pow(base, self)

    def __matmul__(self, other: TensorLike) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # Comparisons are not differentiable: they return boolean ndarrays, like masks in numpy.
    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self.data == _raw(other)

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self.data != _raw(other)

    def __lt__(self, other: TensorLike) -> np.ndarray:
        return self.data < _raw(other)

    def __le__(self, other: TensorLike) -> np.ndarray:
        return self.data <= _raw(other)

    def __gt__(self, other: TensorLike) -> np.ndarray:
        return self.data > _raw(other)

    def __ge__(self, other: TensorLike) -> np.ndarray:
        return self.data >= _raw(other)

    # ----------------------------------------------------------------- methods (one per op)
    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        return ops.leaky_relu(self, slope)

    def softplus(self) -> Tensor:
        return ops.softplus(self)

    def clip(self, low: float | None = None, high: float | None = None) -> Tensor:
        return ops.clip(self, low, high)

    def maximum(self, other: TensorLike) -> Tensor:
        return ops.maximum(self, other)

    def minimum(self, other: TensorLike) -> Tensor:
        return ops.minimum(self, other)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.max(self, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.min(self, axis, keepdims)

    def logsumexp(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return ops.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        return ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return ops.swapaxes(self, axis1, axis2)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        return ops.broadcast_to(self, shape)

    def matmul(self, other: TensorLike) -> Tensor:
        return ops.matmul(self, other)

    def clone(self) -> Tensor:
        return ops.clone(self)

    def astype(self, dtype: Any) -> Tensor:
        return ops.astype(self, dtype)

    # ----------------------------------------------------------------- trigonometry, exponents, statistics, rearranging
    def sin(self) -> Tensor:
        return ops.sin(self)

    def cos(self) -> Tensor:
        return ops.cos(self)

    def tan(self) -> Tensor:
        return ops.tan(self)

    def arcsin(self) -> Tensor:
        return ops.arcsin(self)

    def arccos(self) -> Tensor:
        return ops.arccos(self)

    def arctan(self) -> Tensor:
        return ops.arctan(self)

    def sinh(self) -> Tensor:
        return ops.sinh(self)

    def cosh(self) -> Tensor:
        return ops.cosh(self)

    def arcsinh(self) -> Tensor:
        return ops.arcsinh(self)

    def arccosh(self) -> Tensor:
        return ops.arccosh(self)

    def arctanh(self) -> Tensor:
        return ops.arctanh(self)

    def log1p(self) -> Tensor:
        return ops.log1p(self)

    def expm1(self) -> Tensor:
        return ops.expm1(self)

    def log2(self) -> Tensor:
        return ops.log2(self)

    def log10(self) -> Tensor:
        return ops.log10(self)

    def exp2(self) -> Tensor:
        return ops.exp2(self)

    def logaddexp(self, other: TensorLike) -> Tensor:
        return ops.logaddexp(self, other)

    # numpy's ndarray methods: keyword arguments past the axis, as numpy's own order differs
    # (``ndarray.var(axis, dtype, out, ddof, keepdims)``)
    def var(self, axis: int | tuple[int, ...] | None = None, *, ddof: float = 0, keepdims: bool = False) -> Tensor:
        return ops.var(self, axis, ddof, keepdims)

    def std(self, axis: int | tuple[int, ...] | None = None, *, ddof: float = 0, keepdims: bool = False) -> Tensor:
        return ops.std(self, axis, ddof, keepdims)

    def prod(self, axis: int | tuple[int, ...] | None = None, *, keepdims: bool = False) -> Tensor:
        return ops.prod(self, axis, keepdims)

    def cumsum(self, axis: int | None = None) -> Tensor:
        return ops.cumsum(self, axis)

    def cumprod(self, axis: int | None = None) -> Tensor:
        return ops.cumprod(self, axis)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return ops.trace(self, offset, axis1, axis2)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Tensor:
        return ops.squeeze(self, axis)

    def flatten(self) -> Tensor:
        return ops.flatten(self)

    def ravel(self) -> Tensor:
        return ops.ravel(self)

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        return ops.repeat(self, repeats, axis)


def _raw(other: Any) -> Any:
    """The array behind a Tensor operand of a comparison (anything else as it is)."""
    return other.data if isinstance(other, TensorMethods) else other
