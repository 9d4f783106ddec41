"""numpy on Tensors: which numpy calls become ops, which compute on the raw values, which refuse.

A numpy function given a Tensor must never quietly return a constant in place of a value that
gradients should flow through; that would be a wrong gradient with no error.  So:

* **ufuncs and numpy functions that have an op** dispatch to it (``__array_ufunc__`` and
  ``__array_function__``): ``np.exp(t)``, ``np.dot(t, t)``, ``np.concatenate([t, u])`` and
  ``np.sum(t, axis=0)`` are recorded ops.  Derivative rules written with numpy functions run
  unchanged on Tensors thanks to this (for second derivatives).
* **Functions whose result carries no gradient** (shapes, comparisons, ``argmax``,
  ``allclose``, rounding, ``isfinite`` ...) compute on the raw values.
* **Any other numpy function** given a Tensor that requires grad raises a TypeError naming the
  function, while gradients are being recorded; otherwise it computes on the raw values.
* ``np.asarray(t)`` (``__array__``) is the explicit way to get the ndarray.  When numpy itself
  converts a Tensor that requires grad -- which happens when Tensors are hidden inside a list,
  ``np.mean([x, y])``, where numpy cannot dispatch -- it is refused the same way.  (numpy
  functions written in C that get such a list from your code are out of reach: numpy gives no
  hook there.)
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from autotensor import ops
from autotensor.errors import DTypeError
from autotensor.nested import leaves, map_leaves
from autotensor.state import per_thread
from autotensor.tensor import Tensor

# ------------------------------------------------------------------------- __array__
_NUMPY_CONVERTING_FOR_ITS_OWN_USE = ("numpy.testing", "numpy.lib.format", "numpy.lib._npyio_impl",
                                     "numpy._core.arrayprint")


def array(tensor: Tensor, dtype: Any, copy: bool | None) -> np.ndarray:
    """``np.asarray(tensor)``: the data itself, or a copy when asked for one or another dtype."""
    if tensor._requires_grad and per_thread.switches.grad_enabled:
        _refuse_implicit_conversion(sys._getframe(2))
    if copy:
        return np.array(tensor.data, dtype=dtype, copy=True)
    return tensor.data if dtype is None else tensor.data.astype(dtype, copy=False)


def _refuse_implicit_conversion(caller: Any) -> None:
    """Refuse when the code asking for the array is numpy's own (see the module docstring)."""
    function = None
    frame = caller
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("numpy.") or module.startswith(_NUMPY_CONVERTING_FOR_ITS_OWN_USE):
            break
        function = frame.f_code.co_name  # the outermost numpy function is the one that was called
        frame = frame.f_back
    if function is not None:
        raise DTypeError(
            f"numpy.{function.lstrip('_')}: converted a Tensor that requires grad into a constant array "
            f"(it was inside a list or another container numpy cannot look into), which would lose its "
            f"gradient; combine the tensors with at.stack([...]) first, or pass np.asarray(t) explicitly "
            f"if you mean a constant"
        )


# ------------------------------------------------------------------------- ufuncs
_UFUNC_OPS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.true_divide: ops.div,
    np.negative: ops.neg, np.power: ops.pow, np.matmul: ops.matmul, np.exp: ops.exp,
    np.log: ops.log, np.sqrt: ops.sqrt, np.absolute: ops.abs, np.tanh: ops.tanh,
    np.maximum: ops.maximum, np.minimum: ops.minimum, np.positive: lambda x: x,
}
_UFUNC_OPS.update({  # trigonometry, exponents and logarithms
    np.sin: ops.sin, np.cos: ops.cos, np.tan: ops.tan, np.arcsin: ops.arcsin, np.arccos: ops.arccos,
    np.arctan: ops.arctan, np.sinh: ops.sinh, np.cosh: ops.cosh, np.arcsinh: ops.arcsinh,
    np.arccosh: ops.arccosh, np.arctanh: ops.arctanh, np.log1p: ops.log1p, np.expm1: ops.expm1,
    np.log2: ops.log2, np.log10: ops.log10, np.exp2: ops.exp2, np.logaddexp: ops.logaddexp,
})
# Results that carry no gradient: comparisons and tests give booleans, rounding and sign are
# piecewise constant (their derivative is 0 wherever it exists, so a constant is exact).
_UFUNCS_WITHOUT_GRADIENT = {
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal, np.isfinite,
    np.isnan, np.isinf, np.signbit, np.sign, np.floor, np.ceil, np.trunc, np.rint,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
}


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``__array_ufunc__``: makes ``ndarray + Tensor`` a Tensor and ``np.exp(t)`` a recorded op."""
    if method == "__call__" and not kwargs:
        op = _UFUNC_OPS.get(ufunc)
        if op is not None:
            return op(*inputs)
    call = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    if ufunc not in _UFUNCS_WITHOUT_GRADIENT:
        _refuse_if_recording(f"numpy.{call}", (inputs, kwargs))
    return getattr(ufunc, method)(*_raw_all(inputs), **_raw_all(kwargs))


# ------------------------------------------------------------------------- functions
def _summing(op: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """numpy's signature of sum and mean, for the arguments the op shares."""

    def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
               **unsupported: Any) -> Tensor:
        _no_extras(name, dtype=dtype, out=out, **unsupported)
        return op(a, axis, keepdims)

    return reduce


def _extremum(op: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """numpy's signature of max and min (no dtype argument), for the arguments the op shares."""

    def reduce(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **unsupported: Any) -> Tensor:
        _no_extras(name, out=out, **unsupported)
        return op(a, axis, keepdims)

    return reduce


def _no_extras(name: str, **given: Any) -> None:
    extras = sorted(key for key, value in given.items() if value is not None)
    if extras:
        raise DTypeError(f"numpy.{name}: autotensor's op does not take {', '.join(extras)}= (got a Tensor)")


def _dot(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_extras("dot", out=out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return ops.mul(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise DTypeError("numpy.dot: of arrays with more than 2 dimensions has no autotensor op; use at.matmul")
    return ops.matmul(a, b)


def _join(op: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    def join(arrays: Any, axis: int = 0, out: Any = None, dtype: Any = None, casting: Any = None) -> Tensor:
        _no_extras(name, out=out, dtype=dtype, casting=casting)
        return op(arrays, axis)

    return join


def _where(condition: Any, *values: Any) -> Any:
    if not values:  # np.where(condition) is nonzero(condition): indices, no gradient
        return np.nonzero(_raw_all(condition))
    return ops.where(condition, *values)


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Tensor:
    if order != "C" or copy is not None:
        raise DTypeError("numpy.reshape: autotensor's reshape takes only order='C' and no copy=")
    return ops.reshape(a, newshape if shape is None else shape)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None,  # noqa: A002
          max: Any = None) -> Tensor:  # noqa: A002 - numpy's keyword names
    _no_extras("clip", out=out)
    return ops.clip(a, a_min if min is None else min, a_max if max is None else max)


_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _summing(ops.sum, "sum"), np.mean: _summing(ops.mean, "mean"),
    np.max: _extremum(ops.max, "max"), np.amax: _extremum(ops.max, "amax"),
    np.min: _extremum(ops.min, "min"), np.amin: _extremum(ops.min, "amin"),
    np.dot: _dot, np.concatenate: _join(ops.concatenate, "concatenate"), np.stack: _join(ops.stack, "stack"),
    np.where: _where, np.reshape: _reshape, np.clip: _clip,
    np.transpose: lambda a, axes=None: ops.transpose(a, axes),
    np.swapaxes: lambda a, axis1, axis2: ops.swapaxes(a, axis1, axis2),
    np.broadcast_to: lambda array, shape, subok=False: ops.broadcast_to(array, shape),
    np.copy: lambda a, order="K", subok=False: ops.clone(a),
}
if hasattr(np, "astype"):  # numpy >= 2.1
    _FUNCTIONS[np.astype] = lambda x, dtype, copy=True, device=None: ops.astype(x, dtype)


# ------------------------------------------------------------------------- statistics, products, einsum, rearranging
def _statistic(op: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """numpy's signature of var and std (``correction`` is the array API's name for ddof)."""

    def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: bool = False,
               *, correction: Any = None, **unsupported: Any) -> Tensor:
        _no_extras(name, dtype=dtype, out=out, **unsupported)
        return op(a, axis, ddof if correction is None else correction, keepdims)

    return reduce


def _running(op: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """numpy's signature of cumsum and cumprod."""

    def accumulate(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
        _no_extras(name, dtype=dtype, out=out)
        return op(a, axis)

    return accumulate


def _einsum(*operands: Any, out: Any = None, dtype: Any = None, order: str = "K", casting: str = "safe",
            optimize: Any = False) -> Tensor:
    # optimize only chooses the order of the contractions (the op chooses its own): not an error.
    _no_extras("einsum", out=out, dtype=dtype, order=None if order == "K" else order,
               casting=None if casting == "safe" else casting)
    return ops.einsum(*operands)


def _outer(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_extras("outer", out=out)
    return ops.outer(a, b)


def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Tensor:
    _no_extras("trace", dtype=dtype, out=out)
    return ops.trace(a, offset, axis1, axis2)


def _pad(array: Any, pad_width: Any, mode: Any = "constant", *, constant_values: Any = 0, **unsupported: Any) -> Tensor:
    _no_extras("pad", **unsupported)
    return ops.pad(array, pad_width, mode, constant_values)


def _blocks(op: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    def join(tup: Any, *, dtype: Any = None, casting: Any = "same_kind") -> Tensor:
        _no_extras(name, dtype=dtype, casting=None if casting == "same_kind" else casting)
        return op(tup)

    return join


def _ravel(a: Any, order: str = "C") -> Tensor:
    if order != "C":
        raise DTypeError("numpy.ravel: autotensor's ravel takes only order='C'")
    return ops.ravel(a)


_FUNCTIONS.update({
    np.var: _statistic(ops.var, "var"), np.std: _statistic(ops.std, "std"), np.prod: _summing(ops.prod, "prod"),
    np.cumsum: _running(ops.cumsum, "cumsum"), np.cumprod: _running(ops.cumprod, "cumprod"),
    np.einsum: _einsum, np.tensordot: lambda a, b, axes=2: ops.tensordot(a, b, axes),
    np.outer: _outer, np.trace: _trace,
    np.squeeze: lambda a, axis=None: ops.squeeze(a, axis), np.expand_dims: lambda a, axis: ops.expand_dims(a, axis),
    np.ravel: _ravel, np.repeat: lambda a, repeats, axis=None: ops.repeat(a, repeats, axis),
    np.tile: lambda A, reps: ops.tile(A, reps), np.roll: lambda a, shift, axis=None: ops.roll(a, shift, axis),  # noqa: N803
    np.flip: lambda m, axis=None: ops.flip(m, axis),
    np.split: lambda ary, indices_or_sections, axis=0: ops.split(ary, indices_or_sections, axis),
    np.pad: _pad, np.vstack: _blocks(ops.vstack, "vstack"), np.hstack: _blocks(ops.hstack, "hstack"),
})
_FUNCTIONS_WITHOUT_GRADIENT = {
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.allclose, np.isclose, np.array_equal, np.array_equiv, np.any, np.all,
    np.round, np.around, np.may_share_memory, np.shares_memory, np.result_type, np.can_cast,
}


def array_function(function: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``__array_function__``: numpy functions with an op become the op (see module docstring)."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented  # another library's array type: let it decide
    handler = _FUNCTIONS.get(function)
    if handler is not None:
        return handler(*args, **kwargs)
    if function not in _FUNCTIONS_WITHOUT_GRADIENT:
        _refuse_if_recording(f"{function.__module__}.{function.__name__}", (args, kwargs))
    return function(*_raw_all(args), **_raw_all(kwargs))


# ------------------------------------------------------------------------- helpers
def _refuse_if_recording(call: str, arguments: Any) -> None:
    """A numpy call without an op on a Tensor that needs its gradient: a TypeError, not a constant."""
    if per_thread.switches.grad_enabled and any(t._requires_grad for t in _tensors(arguments)):
        raise DTypeError(
            f"{call}: has no autotensor op, and computing it on the raw values would return a constant "
            f"that loses the gradient of a Tensor that requires grad; write it with autotensor's ops "
            f"(README, 'Ops'), or pass np.asarray(t) or t.detach() if you mean a constant"
        )


def _tensors(value: Any) -> list[Tensor]:
    """The Tensors anywhere in nested tuples, lists and dicts."""
    return [item for item in leaves(value) if isinstance(item, Tensor)]


def _raw_all(value: Any) -> Any:
    """``value`` with every Tensor in nested tuples, lists and dicts replaced by its array."""
    return map_leaves(lambda item: item.data if isinstance(item, Tensor) else item, value)
