"""The common shape of a unary function on floats (sin, log1p, arccosh ...): defined, registered
and given its samples in one call, so each function of a family is one entry of a table.

The forward computes integer and boolean input in float64 (``float_data``, as ``exp`` and
``tanh`` do).  The rule is written with operators and numpy functions that ndarrays, Tensors and
traced values share (``g * np.cos(x)``): numpy hands ``np.cos`` of a Tensor to the ``cos`` op
(``autotensor.interop``), so the recorded backward pass can be differentiated again.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, float_data
from autotensor.registry import Sample, register
from autotensor.tensor import Tensor, TensorLike, record


def unary_op(name: str, ufunc: np.ufunc, rule: Callable[..., Any], doc: str, *, saves: str = "inputs",
             samples: Sequence[tuple[str, np.ndarray]]) -> Callable[[TensorLike], Tensor]:
    """Register ``name``: ``ufunc`` on a float view of its input, ``rule(g, out, x)`` its
    derivative, and one sample per ``(case, values)``; returns the op's function."""

    def function(x: TensorLike) -> Tensor:
        x = as_tensor(x, op=name)
        return record(ufunc(float_data(x)), op, (x,))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    op = register(name, function, vjps=(rule,), saves=saves,
                  samples=[Sample(case, (values,), function) for case, values in samples])
    return function
