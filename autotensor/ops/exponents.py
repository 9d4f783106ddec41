"""Exponentials and logarithms beyond exp and log: the accurate-near-zero pair log1p / expm1,
base 2 and base 10, and logaddexp (log(e^a + e^b) without overflow).

    log1p' = 1 / (1 + x)     expm1' = e^x = expm1(x) + 1
    log2' = 1 / (x ln 2)     log10' = 1 / (x ln 10)     exp2' = 2^x ln 2
    d logaddexp / da = e^a / (e^a + e^b) = sigmoid(a - b), and sigmoid(b - a) for b

The logaddexp rules use the stable sigmoid: no overflow when a and b are far apart (a - b = 2e8).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autotensor.broadcasting import unbroadcast
from autotensor.conversion import operands
from autotensor.ops.elementwise import _binary_samples, _broadcasting, _sigmoid_of
from autotensor.ops.unary import unary_op
from autotensor.registry import Sample, register, uniform
from autotensor.tensor import Tensor, TensorLike, record

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_POSITIVE = [("2x3 positive", uniform(2, 3, low=0.2, high=3.0)), ("1e3..1e5 large", uniform(4, low=1e3, high=1e5))]

log1p = unary_op(
    "log1p", np.log1p, lambda g, out, x: g / (x + 1),
    "log(1 + x), accurate for tiny x (x > -1).",
    samples=[("2x3 in (-0.8, 3)", uniform(2, 3, low=-0.8, high=3.0)), ("tiny +-1e-10", np.array([-1e-10, 1e-10, 0.0]))],
)
expm1 = unary_op(
    "expm1", np.expm1, lambda g, out, x: g * (out + 1), "e^x - 1, accurate for tiny x.", saves="output",
    samples=[("2x3", uniform(2, 3)), ("tiny +-1e-10", np.array([-1e-10, 1e-10, 0.0]))],
)
log2 = unary_op("log2", np.log2, lambda g, out, x: g / (x * _LN2), "Base-2 logarithm (x > 0).", samples=_POSITIVE)
log10 = unary_op("log10", np.log10, lambda g, out, x: g / (x * _LN10), "Base-10 logarithm (x > 0).",
                 samples=_POSITIVE)
exp2 = unary_op("exp2", np.exp2, lambda g, out, x: g * out * _LN2, "2 ** x.", saves="output",
                samples=[("2x3", uniform(2, 3, low=-3.0, high=3.0)), ("4", uniform(4))])


def logaddexp(a: TensorLike, b: TensorLike) -> Tensor:
    """log(e^a + e^b) with broadcasting, exact where either exponential would overflow."""
    a, b = operands("logaddexp", a, b)
    return record(_broadcasting(LOGADDEXP, np.logaddexp, a, b), LOGADDEXP, (a, b))


def _logaddexp_vjp(g: Any, share_of: Any, other: Any, shape: tuple[int, ...]) -> Any:
    return unbroadcast(g * _sigmoid_of(share_of - other), shape)


LOGADDEXP = register(
    "logaddexp", logaddexp,
    vjps=(lambda g, out, a, b: _logaddexp_vjp(g, a, b, a.shape),
          lambda g, out, a, b: _logaddexp_vjp(g, b, a, b.shape)),
    samples=_binary_samples(logaddexp) + [
        Sample("+-1000 far apart", (np.array([1000.0, -1000.0, 3.0]), np.array([-1000.0, 1000.0, 2.5])), logaddexp),
    ],
)
