"""Traced values: what arrays and numbers are while :func:`autotensor.compile` traces a call.

A :class:`Traced` stands for an ndarray.  It holds the real value -- the traced call really
runs, so its results are the eager ones -- and the program variable that will hold it in the
generated code.  Every numpy operation on it (operators, methods, ufuncs through
``__array_ufunc__``, numpy functions through ``__array_function__``) computes the real result
and records a statement.  The engine's ops and derivative rules therefore need nothing special
to be compiled: they run on Traced values as they run on ndarrays and on Tensors.

A :class:`TracedNumber` stands for a Python number that may change from call to call (a
learning rate a replayed Python call returns, a float argument); arithmetic on it is recorded.

What a replay cannot repeat is refused with :class:`~autotensor.errors.TraceError`: turning a
traced value into a Python bool, number or plain array (``if loss > 0``, ``float(x)``,
``np.asarray(x)``) would bake the first call's value into every later one.
"""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from autotensor.compile.program import Variable
    from autotensor.compile.tracer import Tracer


class Traced:
    """An ndarray being traced: its real ``value`` and its program ``variable``."""

    __slots__ = ("value", "variable", "tracer")
    __array_priority__ = 2000  # above Tensor's: numpy hands mixed calls to us

    def __init__(self, value: Any, variable: Variable, tracer: Tracer) -> None:
        self.value = value
        self.variable = variable
        self.tracer = tracer

    # ------------------------------------------------------------ what numpy knows statically
    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    @property
    def flags(self) -> Any:
        return self.value.flags

    def __len__(self) -> int:
        return len(self.value)

    # ------------------------------------------------------------ numpy protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if _has_tensor(inputs):
            return NotImplemented  # a Tensor operand: the op (Tensor's own protocol) records it
        code = f"np.{ufunc.__name__}" if method == "__call__" else f"np.{ufunc.__name__}.{method}"
        return self.tracer.call(code, getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if any(not issubclass(t, (Traced, TracedNumber, np.ndarray)) for t in types):
            return NotImplemented  # a Tensor among the arguments: its protocol decides
        return self.tracer.call_function(function, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        self.tracer.refuse("turns a traced array into a plain ndarray (np.asarray, np.array or a "
                           "numpy function that cannot dispatch), which would freeze its first value")

    # ------------------------------------------------------------ methods numpy arrays have
    def _method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.tracer.call(f".{name}", _method_caller(name), (self, *args), kwargs)

    def reshape(self, *shape: Any, **kwargs: Any) -> Traced:
        return self._method("reshape", *shape, **kwargs)

    def transpose(self, *axes: Any) -> Traced:
        return self._method("transpose", *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Traced:
        return self._method("swapaxes", axis1, axis2)

    @property
    def T(self) -> Traced:  # noqa: N802 - numpy's name
        return self._method("transpose")

    def sum(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("sum", *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("mean", *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("max", *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("min", *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("any", *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("all", *args, **kwargs)

    def astype(self, *args: Any, **kwargs: Any) -> Traced:
        return self._method("astype", *args, **kwargs)

    def copy(self) -> Traced:
        return self._method("copy")

    def ravel(self) -> Traced:
        return self._method("ravel")

    def __getattr__(self, name: str) -> Any:
        """Any other ndarray method (``cumsum``, ``squeeze``, ``clip`` ...), recorded like the ones
        spelled out above; what does not give an array (``tobytes``) is refused when called."""
        if name.startswith("_") or not callable(getattr(np.ndarray, name, None)):
            raise AttributeError(f"a traced array has no attribute {name!r}")
        return lambda *args, **kwargs: self._method(name, *args, **kwargs)

    def __getitem__(self, index: Any) -> Traced:
        return self.tracer.call("getitem", operator.getitem, (self, index), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        self.tracer.call("setitem", operator.setitem, (self, index, value), {}, writes=self)

    # ------------------------------------------------------------ refused: Python needs a value
    def __bool__(self) -> bool:
        self.tracer.refuse("uses a traced value as a Python bool (an `if`, `while`, `and`/`or` or a "
                           "comparison used as a condition)")

    def __float__(self) -> float:
        self.tracer.refuse("turns a traced value into a Python float")

    def __int__(self) -> int:
        self.tracer.refuse("turns a traced value into a Python int")

    __index__ = __int__

    def item(self, *args: Any) -> Any:
        self.tracer.refuse("reads a traced value with .item()")

    def tolist(self) -> Any:
        self.tracer.refuse("reads a traced value with .tolist()")

    def __iter__(self) -> Any:
        self.tracer.refuse("iterates over a traced array")

    def __repr__(self) -> str:
        return f"Traced({self.variable.name or self.variable.hint}, shape={self.shape}, dtype={self.dtype})"

    __hash__ = object.__hash__


def _method_caller(name: str) -> Callable[..., Any]:
    """Call a method by name on the first argument (an ndarray or a numpy scalar)."""
    return lambda value, *args, **kwargs: getattr(value, name)(*args, **kwargs)


def _has_tensor(values: tuple[Any, ...]) -> bool:
    from autotensor.tensor import Tensor

    return any(isinstance(value, Tensor) for value in values)


def _ufunc_operator(ufunc: np.ufunc, swapped: bool = False) -> Callable[[Any, Any], Any]:
    if swapped:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _in_place_operator(ufunc: np.ufunc) -> Callable[[Any, Any], Any]:
    return lambda self, other: ufunc(self, other, out=self)


_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide, "pow": np.power,
    "matmul": np.matmul, "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
    "mod": np.remainder, "floordiv": np.floor_divide,
}
for _name, _ufunc in _BINARY.items():
    setattr(Traced, f"__{_name}__", _ufunc_operator(_ufunc))
    setattr(Traced, f"__r{_name}__", _ufunc_operator(_ufunc, swapped=True))
    setattr(Traced, f"__i{_name}__", _in_place_operator(_ufunc))
for _name, _ufunc in {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                      "eq": np.equal, "ne": np.not_equal}.items():
    setattr(Traced, f"__{_name}__", _ufunc_operator(_ufunc))
Traced.__neg__ = lambda self: np.negative(self)  # type: ignore[attr-defined]
Traced.__pos__ = lambda self: self  # type: ignore[attr-defined]
Traced.__abs__ = lambda self: np.absolute(self)  # type: ignore[attr-defined]
Traced.__invert__ = lambda self: np.invert(self)  # type: ignore[attr-defined]


class TracedNumber:
    """A Python number that may differ from call to call (a hyperparameter, a float argument).

    Arithmetic with Python numbers and other traced numbers is recorded; ``math`` functions
    and ``float()`` would read the first call's value, so they are refused.
    """

    __slots__ = ("value", "variable", "tracer")
    __array_priority__ = 2000

    def __init__(self, value: float, variable: Variable, tracer: Tracer) -> None:
        self.value = value
        self.variable = variable
        self.tracer = tracer

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return Traced.__array_ufunc__(self, ufunc, method, *inputs, **kwargs)  # type: ignore[arg-type]

    def __float__(self) -> float:
        self.tracer.refuse("turns a traced number into a Python float (math functions do this too; "
                           "use ** 0.5 instead of math.sqrt)")

    def __bool__(self) -> bool:
        self.tracer.refuse("uses a traced number as a Python bool")

    __int__ = __float__
    __index__ = __float__

    def __repr__(self) -> str:
        return f"TracedNumber({self.variable.name or self.variable.hint})"


def _number_operator(function: Callable[[Any, Any], Any], symbol: str, swapped: bool = False) -> Callable[[Any, Any], Any]:
    def apply(self: TracedNumber, other: Any) -> Any:
        if isinstance(other, (np.ndarray, Traced)):  # a number and an array: numpy's operation
            return NotImplemented if isinstance(other, Traced) else self.tracer.call(
                f"np.{_ARRAY_EQUIVALENT[symbol].__name__}", _ARRAY_EQUIVALENT[symbol],
                (other, self) if swapped else (self, other), {})
        first, second = (other, self) if swapped else (self, other)
        return self.tracer.call(symbol, function, (first, second), {})
    return apply


_NUMBER_OPERATORS = {"add": (operator.add, "+"), "sub": (operator.sub, "-"), "mul": (operator.mul, "*"),
                     "truediv": (operator.truediv, "/"), "pow": (operator.pow, "**")}
_ARRAY_EQUIVALENT = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power}
for _name, (_function, _symbol) in _NUMBER_OPERATORS.items():
    setattr(TracedNumber, f"__{_name}__", _number_operator(_function, _symbol))
    setattr(TracedNumber, f"__r{_name}__", _number_operator(_function, _symbol, swapped=True))
TracedNumber.__neg__ = lambda self: self.tracer.call("neg", operator.neg, (self,), {})  # type: ignore[attr-defined]
