"""From user data to Tensors: what is accepted, which dtype it gets, and what is refused.

The rules, in one place:

* **Python data** (numbers, nested lists) becomes float64; an **ndarray** keeps its dtype and is
  not copied.  ``None``, strings, bytes and other objects are refused (numpy would quietly turn
  ``None`` into NaN and ``'3'`` into 3.0).
* A **Python number next to a tensor** is a "weak" scalar, as in numpy 2 (NEP 50): it takes the
  tensor's dtype when that can hold it (``float32 * 2.0`` stays float32, ``int32 + 1`` stays
  int32) and promotes otherwise (``int32 * 1.5`` is float64).  Two Python numbers alone get
  numpy's own dtypes.  numpy scalars (``np.float64(2)``) are strong, as in numpy.
* **Lists or tuples holding Tensors**: an op's operand is stacked differentiably (``at.mean([x,
  y])`` differentiates through x and y); ``Tensor([...])`` makes a constant, so it refuses
  Tensors that require grad rather than silently cutting them off the graph.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from autotensor.errors import ArgumentError, DTypeError, GraphError
from autotensor.nested import leaves
from autotensor.state import per_thread, tracing_threads
from autotensor.tensor import Tensor, TensorLike, leaf

_PYTHON_NUMBERS = (bool, int, float)


def describe(value: Any) -> str:
    """A short ``repr`` for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_array(data: Any, dtype: Any = None, what: str = "Tensor") -> np.ndarray:
    """User data as a numeric ndarray (see the module docstring for the rules).

    Tensors inside lists are converted to their values; the caller decides beforehand whether
    that is allowed (:func:`tensors_in`).
    """
    if isinstance(data, Tensor):
        data = data.data
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None and tracer.traces(data):
        return data if dtype is None else data.astype(dtype, copy=False)  # a traced array stays traced (at.compile)
    if isinstance(data, (np.ndarray, np.generic)):
        try:
            array = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise DTypeError(f"{what}: cannot convert {describe(data)} to dtype {dtype} ({error})") from None
    else:
        _check_numbers(data, what)
        try:
            array = np.asarray(data, dtype=np.float64 if dtype is None else dtype)
        except (TypeError, ValueError, OverflowError) as error:
            raise DTypeError(f"{what}: data must be numeric, got {describe(data)} ({error})") from None
    if array.dtype.kind not in "fiub":
        raise DTypeError(
            f"{what}: data must be numeric (float, int or bool), got dtype {array.dtype} from {describe(data)}"
        )
    return array


def _check_numbers(data: Any, what: str) -> None:
    """Refuse (nested lists of) ``data`` holding anything but real numbers, numeric arrays and
    Tensors: None, strings, complex numbers, dicts ..."""
    pending = [data]
    while pending:
        item = pending.pop()
        if type(item) is float or type(item) is int or isinstance(item, Tensor):
            continue
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, (np.ndarray, np.generic)):
            if item.dtype.kind not in "fiub":
                break
        elif not isinstance(item, numbers.Real):
            break
    else:
        return
    inside = "" if item is data else f" in {describe(data)}"
    raise DTypeError(f"{what}: data must be numeric, got {describe(item)}{inside}")


def tensors_in(data: Any) -> list[Tensor]:
    """The Tensors inside nested lists and tuples (empty for anything else)."""
    if not isinstance(data, (list, tuple)):
        return []
    return [item for item in leaves(data) if isinstance(item, Tensor)]


def refuse_recorded_tensors(data: Any, what: str) -> None:
    """Refuse to make a constant out of a list holding Tensors that would carry gradients."""
    if per_thread.switches.grad_enabled and any(t._requires_grad for t in tensors_in(data)):
        raise GraphError(
            f"{what}: the data holds Tensors that require grad, and {what} makes a constant that would cut "
            f"them off the graph; use at.stack([...]) to combine them differentiably"
        )


def as_tensor(x: TensorLike, like: Tensor | None = None, op: str = "Tensor") -> Tensor:
    """``x`` as a Tensor; ``like`` is the other operand a Python number is weak against."""
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
        x = tracer.operand(x, like, op=op)  # at.compile: tensors made outside the trace become proxies
    if isinstance(x, Tensor):
        return x
    # Fast paths first (every op calls this on its operands): numeric ndarrays and Python
    # numbers next to a float tensor become constants without re-validation.
    if type(x) is np.ndarray and x.dtype.kind in "fiub":
        return leaf(x)
    if like is not None and type(x) in _PYTHON_NUMBERS:
        kind = like.data.dtype
        dtype = kind if kind.kind == "f" else np.result_type(kind, x)  # NEP 50: Python numbers are weak
        try:
            return leaf(np.asarray(x, dtype=dtype))
        except OverflowError:
            raise ArgumentError(f"{op}: the number {x} does not fit the tensor's dtype {kind}") from None
    if isinstance(x, (list, tuple)) and tensors_in(x):
        return _stacked(x, op)
    return leaf(to_array(x, what=op))


def _stacked(items: list | tuple, op: str) -> Tensor:
    """A (nested) list holding Tensors, stacked so that gradients reach every Tensor in it."""
    from autotensor.ops.shape import stack

    return stack([as_tensor(item, op=op) for item in items])


def operands(op: str, a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors, with numpy 2's treatment of Python numbers."""
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
        a, b = tracer.operand(a, numbers=False, op=op), tracer.operand(b, numbers=False)
    if isinstance(a, Tensor):
        return a, (b if isinstance(b, Tensor) else as_tensor(b, like=a, op=op))
    if isinstance(b, Tensor) or type(b) not in _PYTHON_NUMBERS:
        b = as_tensor(b, op=op)
        return as_tensor(a, like=b, op=op), b
    if type(a) in _PYTHON_NUMBERS:  # two Python numbers: numpy's dtypes (int64, float64, bool)
        return leaf(np.asarray(a)), leaf(np.asarray(b))
    a = as_tensor(a, op=op)
    return a, as_tensor(b, like=a, op=op)


def float_data(x: Tensor) -> np.ndarray:
    """``x``'s values for an op that needs floats: integer and boolean data compute in float64,
    the library's default (numpy would pick half precision for int8, single for int16)."""
    data = x.data
    return data if data.dtype.kind == "f" else data.astype(np.float64)


def raw(x: Any) -> Any:
    """The raw ndarray (or Python number) behind a Tensor-or-array, for non-differentiable use."""
    return x.data if isinstance(x, Tensor) else x


def index_value(index: Any) -> Any:
    """An index with any Tensors inside replaced by their arrays (indices are never differentiated)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index
