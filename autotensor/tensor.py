"""The :class:`Tensor`: an ndarray plus, when it was computed by an op, the node of the graph.

A tensor made by the user is a *leaf* (``_op is None``).  A tensor made by an op that had at
least one input requiring a gradient remembers the op, its inputs (``_parents``) and the
op's static parameters (axis, shape, index ...); that is the whole graph.  There are no
separate node objects and no closures: the derivative rule lives with the op in the registry
and receives the values it needs when the backward pass calls it, so the graph holds no
reference cycles and is freed by plain reference counting.
"""
from __future__ import annotations

import numbers
import traceback
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from autotensor.errors import AnomalyError, DTypeError, GraphError, ShapeError
from autotensor.state import flags

if TYPE_CHECKING:
    from autotensor.registry import Op

TensorLike = Union["Tensor", np.ndarray, float, int, list, tuple]


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn user data into an ndarray: Python data becomes float64, ndarrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data, dtype=dtype)
    else:
        try:
            array = np.asarray(data, dtype=np.float64 if dtype is None else dtype)
        except (TypeError, ValueError) as error:
            raise DTypeError(f"Tensor: data must be numeric, got {_describe(data)} ({error})") from None
    if array.dtype.kind not in "fiub":
        raise DTypeError(
            f"Tensor: data must be numeric (float, int or bool), got dtype {array.dtype} "
            f"from {_describe(data)}"
        )
    return array


def _describe(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 60 else text[:57] + "..."


class Tensor:
    """An n-dimensional array that records the ops applied to it, for reverse-mode autodiff.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``.  Python data (numbers, lists)
    becomes float64; an ndarray keeps its dtype and is *not* copied.  Only floating tensors may
    require gradients.  After ``loss.backward()`` every leaf with ``requires_grad=True`` holds
    ``d loss / d leaf`` in ``.grad`` (a Tensor); gradients *accumulate* across backward calls
    (set ``.grad = None`` to reset), as in PyTorch.
    """

    __slots__ = (
        "data", "grad", "name", "scope", "_requires_grad", "_retains_grad", "_version",
        "_op", "_parents", "_params", "_saved_versions", "_trace", "__weakref__",
    )
    # Let numpy hand ``ndarray + Tensor`` and ``ndarray @ Tensor`` to us (see __array_ufunc__).
    __array_priority__ = 1000

    def __init__(
        self, data: TensorLike, requires_grad: bool = False, *, dtype: Any = None, name: str | None = None
    ) -> None:
        self.data = _to_array(data, dtype)
        self.grad: Tensor | None = None
        self.name = name
        self.scope: str | None = None
        self._requires_grad = False
        self._retains_grad = False
        self._version = 0
        self._op: Op | None = None
        self._parents: tuple[Tensor, ...] | None = ()
        self._params: dict[str, Any] | None = None
        self._saved_versions: tuple[int, ...] | None = None
        self._trace: str | None = None
        if requires_grad:
            self.requires_grad = True

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (leaves: whether ``.grad`` is filled in)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self.data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad: only floating tensors can require gradients, this one has dtype "
                f"{self.data.dtype} and shape {self.data.shape}; convert it first, e.g. "
                f"Tensor(x.data.astype(float))"
            )
        if not flag and self._op is not None:
            raise GraphError("requires_grad: cannot switch off on a computed tensor; use .detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (for chaining)."""
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (or under ``no_grad``), False for recorded results."""
        return self._op is None

    @property
    def op_name(self) -> str | None:
        """Name of the op that produced this tensor (``None`` for leaves)."""
        return None if self._op is None else self._op.name

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The inputs of the op that produced this tensor (empty for leaves and freed graphs)."""
        return self._parents or ()

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def version(self) -> int:
        """How many in-place edits this tensor has seen (checked by backward, see ``_check_saved``)."""
        return self._version

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ShapeError(f"item: only one-element tensors convert to a number, this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor(self.data)

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` for this non-leaf after backward (e.g. a layer's delta = dJ/dz)."""
        if not self._requires_grad:
            raise GraphError("retain_grad: the tensor does not require grad, so no gradient reaches it")
        self._retains_grad = True
        return self

    def backward(self, grad: TensorLike | None = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate ``d self / d leaf`` (times ``grad``) into ``.grad`` of every leaf.

        ``grad`` is the upstream gradient, required unless this tensor has one element.  The
        graph is freed afterwards unless ``retain_graph`` (or ``create_graph``) is set; with
        ``create_graph`` the backward pass is itself recorded, so the gradients can be
        differentiated again.
        """
        _backward.backward((self,), None if grad is None else (grad,), retain_graph, create_graph)

    # ----------------------------------------------------------------- numpy interop
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """Route numpy ufuncs on Tensors to the engine's ops.

        This makes ``ndarray + Tensor`` and ``ndarray @ Tensor`` Tensors, and lets derivative
        rules written with numpy functions (``np.exp(x)``, ``np.log(x)``) run unchanged on
        Tensors when the backward pass is recorded for second derivatives.
        """
        if method != "__call__" or kwargs:
            return NotImplemented
        op = _UFUNC_OPS.get(ufunc)
        if op is not None:
            return op(*inputs)
        if ufunc in _COMPARISONS:
            return ufunc(*(x.data if isinstance(x, Tensor) else x for x in inputs))
        return NotImplemented

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=6, threshold=20)
        extras = []
        if self.name:
            extras.append(f"name={self.name!r}")
        if self._op is not None:
            extras.append(f"op={self._op.name}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.data.dtype != np.float64:
            extras.append(f"dtype={self.data.dtype}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # identity: == is elementwise, as in numpy

    # ----------------------------------------------------------------- operators
    def __add__(self, other: TensorLike) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: TensorLike) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: TensorLike) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: TensorLike) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: TensorLike) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: TensorLike) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: TensorLike) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, exponent: TensorLike) -> Tensor:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: TensorLike) -> Tensor:
        return _ops.pow(base, self)

    def __matmul__(self, other: TensorLike) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # Comparisons are not differentiable: they return boolean ndarrays, like masks in numpy.
    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self.data == _value(other)

    def __ne__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return self.data != _value(other)

    def __lt__(self, other: TensorLike) -> np.ndarray:
        return self.data < _value(other)

    def __le__(self, other: TensorLike) -> np.ndarray:
        return self.data <= _value(other)

    def __gt__(self, other: TensorLike) -> np.ndarray:
        return self.data > _value(other)

    def __ge__(self, other: TensorLike) -> np.ndarray:
        return self.data >= _value(other)

    # ----------------------------------------------------------------- in-place edits
    # In-place edits change data that a recorded op may need in its backward pass.  They are
    # allowed only where nothing is being recorded (under no_grad, or on tensors outside any
    # graph), and each bumps ``_version`` so a backward that needs the old value can refuse.
    def __iadd__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("+=", np.add, other)

    def __isub__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("-=", np.subtract, other)

    def __imul__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("*=", np.multiply, other)

    def __itruediv__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("/=", np.divide, other)

    def __setitem__(self, index: Any, value: TensorLike) -> None:
        self._check_in_place_allowed("slice assignment", value)
        try:
            self.data[_index_value(index)] = _value(value)
        except (ValueError, IndexError, TypeError) as error:
            raise ShapeError(
                f"slice assignment: cannot assign a value of shape {np.shape(_value(value))} into "
                f"a tensor of shape {self.shape} at {index!r} ({error})"
            ) from None
        self._version += 1

    def _edit_in_place(self, symbol: str, ufunc: np.ufunc, other: TensorLike) -> Tensor:
        self._check_in_place_allowed(symbol, other)
        value = _value(other)
        try:
            ufunc(self.data, value, self.data)  # out positionally; casting is numpy's default "same_kind"
        except ValueError as error:
            raise ShapeError(
                f"{symbol}: cannot update a tensor of shape {self.shape} in place with a value of "
                f"shape {np.shape(value)} ({error})"
            ) from None
        except TypeError:  # numpy's casting error, e.g. a float result into an int tensor
            raise DTypeError(
                f"{symbol}: cannot store a {np.result_type(value)} result in a tensor of dtype {self.dtype} in place"
            ) from None
        self._version += 1
        return self

    def _check_in_place_allowed(self, what: str, other: Any) -> None:
        other_needs_grad = isinstance(other, Tensor) and other._requires_grad
        if flags.grad_enabled and (self._requires_grad or other_needs_grad):
            raise GraphError(
                f"{what}: in-place edit of a tensor of shape {self.shape} that takes part in "
                f"gradient recording; write `x = x {what.rstrip('=')} y` to record it, or wrap "
                f"parameter updates in `with at.no_grad():`"
            )

    # ----------------------------------------------------------------- methods (one per op)
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        return _ops.leaky_relu(self, slope)

    def softplus(self) -> Tensor:
        return _ops.softplus(self)

    def clip(self, low: float | None = None, high: float | None = None) -> Tensor:
        return _ops.clip(self, low, high)

    def maximum(self, other: TensorLike) -> Tensor:
        return _ops.maximum(self, other)

    def minimum(self, other: TensorLike) -> Tensor:
        return _ops.minimum(self, other)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis, keepdims)

    def logsumexp(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        return _ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _ops.swapaxes(self, axis1, axis2)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def matmul(self, other: TensorLike) -> Tensor:
        return _ops.matmul(self, other)


def _value(x: Any) -> Any:
    """The raw ndarray (or Python number) behind a Tensor-or-array, for non-differentiable use."""
    return x.data if isinstance(x, Tensor) else x


def _index_value(index: Any) -> Any:
    """An index with any Tensors inside replaced by their arrays (indices are never differentiated)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def as_tensor(x: TensorLike, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor.  A Python number next to a floating tensor takes that tensor's dtype,
    so ``float32_tensor * 2.0`` stays float32 (numpy's rule for Python scalars)."""
    if isinstance(x, Tensor):
        return x
    # Fast paths (every op calls this on its operands): arrays the constructor would accept as
    # they are, and Python numbers converted here, become constants without re-validation.
    if type(x) is np.ndarray and x.dtype.kind in "fiub":
        return leaf(x)
    if like is not None and isinstance(x, numbers.Number) and like.data.dtype.kind == "f":
        return leaf(np.asarray(x, dtype=like.data.dtype))
    return Tensor(x)


def record(data: Any, op: Op, parents: tuple[Tensor, ...], params: dict[str, Any] | None = None) -> Tensor:
    """Wrap an op's forward result in a Tensor and, if any input needs a gradient, link it in.

    This is the only place graph nodes are made.  It is on every op's hot path, so it builds the
    object directly and stores the least that backward needs.
    """
    if type(data) is not np.ndarray:  # ufuncs on 0-d arrays return numpy scalars
        data = np.asarray(data)
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.name = None
    out.scope = flags.scope
    out._retains_grad = False
    out._version = 0
    out._trace = None
    if flags.grad_enabled:
        for parent in parents:
            if parent._requires_grad:
                out._requires_grad = True
                out._op = op
                out._parents = parents
                out._params = params
                # Remember input versions only for rules that read input values (see _check_saved);
                # this is op.saves_inputs, tested on the string to spare a property call per op.
                out._saved_versions = tuple([p._version for p in parents]) if "inputs" in op.saves else None
                if flags.anomaly:
                    out._trace = "".join(traceback.format_stack(limit=8)[:-2])
                break
        else:
            _make_constant(out)
    else:
        _make_constant(out)
    if flags.anomaly and data.dtype.kind == "f" and not np.isfinite(data).all():
        raise AnomalyError(
            f"detect_anomaly: {op.name} produced NaN/Inf in its forward output of shape {data.shape} "
            f"(inputs of shapes {[p.shape for p in parents]})"
        )
    return out


def leaf(data: np.ndarray) -> Tensor:
    """A constant Tensor around an ndarray the engine made itself (no validation: hot path)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.name = None
    out.scope = None
    out._retains_grad = False
    out._version = 0
    out._trace = None
    _make_constant(out)
    return out


def _make_constant(out: Tensor) -> None:
    out._requires_grad = False
    out._op = None
    out._parents = ()
    out._params = None
    out._saved_versions = None


# The ops import Tensor from this module, so they are bound after the class exists.
from autotensor import ops as _ops  # noqa: E402
from autotensor import backward as _backward  # noqa: E402

_UFUNC_OPS = {
    np.add: _ops.add, np.subtract: _ops.sub, np.multiply: _ops.mul, np.true_divide: _ops.div,
    np.negative: _ops.neg, np.power: _ops.pow, np.matmul: _ops.matmul, np.exp: _ops.exp,
    np.log: _ops.log, np.sqrt: _ops.sqrt, np.absolute: _ops.abs, np.tanh: _ops.tanh,
    np.maximum: _ops.maximum, np.minimum: _ops.minimum,
}
_COMPARISONS = {np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal}
