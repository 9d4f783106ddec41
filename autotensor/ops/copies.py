"""Copies of a tensor: ``clone`` (the same dtype) and ``astype`` (another dtype).

Both are differentiable copies, never views: the result has a version counter of its own, so
editing it in place (under ``no_grad``) leaves the original and the graph alone.  A cast
between floating dtypes passes the gradient back cast to the input's dtype; a cast to an
integer or boolean dtype gives a constant (such values carry no gradient, as in PyTorch).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, describe
from autotensor.errors import DTypeError
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, leaf, record


def clone(x: TensorLike) -> Tensor:
    """A copy of ``x`` that stays in the graph (the gradient passes through unchanged)."""
    x = as_tensor(x, op="clone")
    return record(x.data.copy(), CLONE, (x,))


CLONE = register(
    "clone", clone, vjps=(lambda g, out, x: g,), saves="",
    samples=[Sample("2x3", (uniform(2, 3),), clone), Sample("() (0-d)", (uniform(),), clone)],
)

# What astype accepts as a dtype: numpy dtypes, numpy scalar types, the Python types numpy maps
# (float, int, bool) and dtype names; anything else (None, numbers, arrays) is refused rather
# than given numpy's guesses (``np.dtype(None)`` is float64, an object with a ``dtype`` its dtype).
_PYTHON_TYPES = (float, int, bool)


def _target_dtype(dtype: Any) -> np.dtype:
    named = isinstance(dtype, (str, np.dtype)) or any(dtype is t for t in _PYTHON_TYPES) or (
        isinstance(dtype, type) and issubclass(dtype, np.generic))
    try:
        with warnings.catch_warnings():  # numpy deprecates some names ('a') on the way to refusing them
            warnings.simplefilter("ignore", DeprecationWarning)
            target = np.dtype(dtype) if named else None
    except (TypeError, ValueError):
        target = None
    if target is None or target.kind not in "fiub":
        raise DTypeError(
            f"astype: dtype must name a numeric dtype (np.float32, 'float64', float, np.int64 ...), "
            f"got {describe(dtype)}"
        )
    return target


def astype(x: TensorLike, dtype: Any) -> Tensor:
    """A copy of ``x`` in ``dtype`` (numpy's name; ``x.astype(np.float32)``): differentiable
    between floating dtypes, a constant for integer and boolean ones."""
    x = as_tensor(x, op="astype")
    target = _target_dtype(dtype)
    data = x.data.astype(target)
    if target.kind != "f":
        return leaf(data)
    return record(data, ASTYPE, (x,))


ASTYPE = register(
    "astype", astype,
    # The gradient of a cast is the upstream gradient cast back (reading only the input's dtype).
    vjps=(lambda g, out, x: g.astype(x.dtype),), saves="",
    samples=[
        Sample("4 to float64", (uniform(4),), lambda x: astype(x, "float64")),
        # Through float32 and back; values below 1e-3, where float32's spacing (1e-10) is small
        # next to the checker's steps (1e-6), so finite differences stay accurate.
        Sample("2x3 to float32 and back, |x| < 1e-3", (uniform(2, 3, low=-1e-3, high=1e-3),),
               lambda x: astype(astype(x, np.float32), float)),
    ],
)
