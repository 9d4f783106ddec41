"""Elementwise ops: arithmetic, activations and selections, each with its derivative rules.

Binary ops follow numpy broadcasting; their rules hand the (possibly larger) output gradient to
``unbroadcast``, which sums it back to each input's shape.  In every rule ``g`` is the
gradient of the loss with respect to the op's output, ``out`` the output value and the inputs
follow; on the fast path these are ndarrays, with ``create_graph=True`` they are Tensors.
Functions that need floats (exp, log, tanh ...) compute integer input in float64.
"""
from __future__ import annotations

import contextlib

import numbers
from typing import Any

import numpy as np

from autotensor.broadcasting import broadcast_shapes, unbroadcast
from autotensor.conversion import as_tensor, describe, float_data, operands, raw, to_array
from autotensor.errors import ArgumentError, DTypeError
from autotensor.registry import Op, Sample, away_from, distinct, register, uniform
from autotensor.tensor import Tensor, TensorLike, record


def _broadcasting(op: Op, ufunc: np.ufunc, a: Tensor, b: Tensor) -> np.ndarray:
    """Apply a binary ufunc; numpy's failures become errors naming the op and the operands."""
    try:
        return ufunc(a.data, b.data)
    except ValueError as error:
        broadcast_shapes(op.name, a.shape, b.shape)  # raises the ShapeError if that is the problem
        raise ArgumentError(f"{op.name}: {error} (operands of dtypes {a.dtype} and {b.dtype})") from None
    except TypeError as error:
        raise DTypeError(f"{op.name}: not defined for operands of dtypes {a.dtype} and {b.dtype} ({error})") from None


def _binary_samples(call: Any, positive_b: bool = False) -> list[Sample]:
    """Same-shape, broadcast (row, column, scalar) and 1-D cases for a binary op."""
    low = 0.5 if positive_b else -2.0

    def b(*shape: int) -> np.ndarray:
        return uniform(*shape, low=low, high=2.0) if positive_b else away_from(*shape, gap=0.3)

    return [
        Sample("2x3 . 2x3", (uniform(2, 3), b(2, 3)), call),
        Sample("2x3 . 3 (row broadcast)", (uniform(2, 3), b(3)), call),
        Sample("4x1 . 1x3 (both broadcast)", (uniform(4, 1), b(1, 3)), call),
        Sample("5 . () (scalar)", (uniform(5), b()), call),
    ]


# ---------------------------------------------------------------- add, sub, mul, div, neg
def add(a: TensorLike, b: TensorLike) -> Tensor:
    """a + b with broadcasting."""
    a, b = operands("add", a, b)
    return record(_broadcasting(ADD, np.add, a, b), ADD, (a, b))


ADD = register(
    "add", add,
    vjps=(lambda g, out, a, b: unbroadcast(g, a.shape),
          lambda g, out, a, b: unbroadcast(g, b.shape)),
    saves="",
    samples=_binary_samples(add),
)


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    """a - b with broadcasting."""
    a, b = operands("sub", a, b)
    return record(_broadcasting(SUB, np.subtract, a, b), SUB, (a, b))


SUB = register(
    "sub", sub,
    vjps=(lambda g, out, a, b: unbroadcast(g, a.shape),
          lambda g, out, a, b: unbroadcast(-g, b.shape)),
    saves="",
    samples=_binary_samples(sub),
)


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """a * b (elementwise) with broadcasting."""
    a, b = operands("mul", a, b)
    return record(_broadcasting(MUL, np.multiply, a, b), MUL, (a, b))


MUL = register(
    "mul", mul,
    vjps=(lambda g, out, a, b: unbroadcast(g * b, a.shape),
          lambda g, out, a, b: unbroadcast(g * a, b.shape)),
    samples=_binary_samples(mul),
)


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """a / b with broadcasting."""
    a, b = operands("div", a, b)
    return record(_broadcasting(DIV, np.true_divide, a, b), DIV, (a, b))


DIV = register(
    "div", div,
    # d(a/b)/db = -a/b^2 = -out/b, which reuses the forward result.
    vjps=(lambda g, out, a, b: unbroadcast(g / b, a.shape),
          lambda g, out, a, b: unbroadcast(-g * out / b, b.shape)),
    saves="inputs+output",
    samples=_binary_samples(div, positive_b=True),
)


def neg(x: TensorLike) -> Tensor:
    """-x."""
    x = as_tensor(x, op="neg")
    if x.dtype == bool:
        raise DTypeError(f"neg: cannot negate a boolean tensor of shape {x.shape}; use ~ (logical not) on its data")
    return record(np.negative(x.data), NEG, (x,))


NEG = register("neg", neg, vjps=(lambda g, out, x: -g,), saves="",
               samples=[Sample("2x3", (uniform(2, 3),), neg)])


def pow(base: TensorLike, exponent: TensorLike) -> Tensor:  # noqa: A001 - the op's name
    """base ** exponent; both may be tensors (the exponent's gradient needs base > 0)."""
    base, exponent = operands("pow", base, exponent)
    return record(_broadcasting(POW, np.power, base, exponent), POW, (base, exponent))


def _pow_base_vjp(g: Any, out: Any, x: Any, p: Any) -> Any:
    # d/dx x^p = p x^(p-1).  Where p = 0 and x = 0 that is 0 * inf, but x^0 = 1 is flat: the
    # derivative is 0 (PyTorch's convention), which a safe base of 1 there gives.  Below p = 1,
    # 0 ** (p - 1) divides by 0: the slope there is infinite (as in torch), without a warning.
    # A known exponent of at least 1 (x ** 2, the common case) needs neither guard.
    shape = x.shape
    quiet: Any = _NO_GUARD
    if not (type(p) is np.ndarray and p.ndim == 0 and p >= 1):
        zero_exponent = raw(p) == 0
        if _may_hold_true(zero_exponent):
            flat = (raw(x) == 0) & zero_exponent
            if _may_hold_true(flat):
                x = np.where(flat, 1.0, x)
        if _may_hold_true(raw(p) < 1):
            quiet = np.errstate(divide="ignore")
    with quiet:
        return unbroadcast(g * p * x ** (p - 1), shape)


_NO_GUARD = contextlib.nullcontext()


def _pow_exponent_vjp(g: Any, out: Any, x: Any, p: Any) -> Any:
    # d/dp x^p = x^p log x.  At x = 0 with p >= 0 that is 0 * -inf (or 1 * -inf for p = 0);
    # PyTorch takes it as 0 there, which the safe base of 1 (log 1 = 0) gives.
    zero_base = (raw(x) == 0) & (raw(p) >= 0)
    if _may_hold_true(zero_base):
        x = np.where(zero_base, 1.0, x)
    return unbroadcast(g * out * np.log(x), p.shape)


def _may_hold_true(mask: Any) -> bool:
    """False only for a mask of known values that are all False (the common case, which skips
    the guard); a mask of traced values (at.compile) may hold anything, so the guard stays."""
    return not isinstance(mask, (np.ndarray, np.generic)) or bool(mask.any())


POW = register(
    "pow", pow,
    vjps=(_pow_base_vjp, _pow_exponent_vjp),
    saves="inputs+output",
    samples=[
        Sample("2x3 ** 2x3", (uniform(2, 3, low=0.5, high=2.0), uniform(2, 3, low=-1.5, high=2.5)), pow),
        Sample("4 ** () (scalar exponent)", (uniform(4, low=0.5, high=2.0), np.array(3.0)), pow),
        Sample("3x1 ** 2 (broadcast)", (uniform(3, 1, low=0.5, high=2.0), uniform(2, low=0.5, high=2.0)), pow),
        Sample("[0, 1.5] ** [0, 2, 3] base 0 (x only)", (np.array([[0.0], [1.5]]),),
               lambda x: pow(x, np.array([0.0, 2.0, 3.0])), twice_differentiable=False),
    ],
)


# ---------------------------------------------------------------- exp, log, sqrt, abs
def exp(x: TensorLike) -> Tensor:
    """e ** x."""
    x = as_tensor(x, op="exp")
    return record(np.exp(float_data(x)), EXP, (x,))


EXP = register("exp", exp, vjps=(lambda g, out, x: g * out,), saves="output",
               samples=[Sample("2x3", (uniform(2, 3),), exp), Sample("4", (uniform(4),), exp)])


def log(x: TensorLike) -> Tensor:
    """Natural logarithm (x > 0)."""
    x = as_tensor(x, op="log")
    return record(np.log(float_data(x)), LOG, (x,))


LOG = register("log", log, vjps=(lambda g, out, x: g / x,),
               samples=[Sample("2x3 positive", (uniform(2, 3, low=0.2, high=3.0),), log),
                        Sample("1e3..1e5 large", (uniform(4, low=1e3, high=1e5),), log)])


def sqrt(x: TensorLike) -> Tensor:
    """Square root (x >= 0; the gradient is infinite at 0)."""
    x = as_tensor(x, op="sqrt")
    return record(np.sqrt(float_data(x)), SQRT, (x,))


SQRT = register("sqrt", sqrt, vjps=(lambda g, out, x: g * 0.5 / out,), saves="output",
                samples=[Sample("2x3 positive", (uniform(2, 3, low=0.2, high=3.0),), sqrt)])


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - the op's name
    """|x|; the derivative sign(x) is taken as 0 at x = 0."""
    x = as_tensor(x, op="abs")
    return record(np.abs(x.data), ABS, (x,))


ABS = register("abs", abs, vjps=(lambda g, out, x: g * np.sign(raw(x)),),
               samples=[Sample("2x3 away from 0", (away_from(2, 3),), abs)])


# ---------------------------------------------------------------- activations
def tanh(x: TensorLike) -> Tensor:
    """Hyperbolic tangent, the documents' activation."""
    x = as_tensor(x, op="tanh")
    return record(np.tanh(float_data(x)), TANH, (x,))


def _tanh_vjp(g: Any, out: Any, x: Any) -> Any:
    # f'(z) = 1 - tanh(z)^2: the factor f'(z) in every delta of the documents.
    if not isinstance(out, Tensor) and out.size >= 4096 and g.dtype == out.dtype:
        # Large arrays: one temporary instead of three, since slope is a new array of ours and
        # 1 - slope and the product can go in place (on small ones out= costs more than it saves).
        slope = out * out
        np.subtract(1.0, slope, slope)
        return np.multiply(g, slope, slope)
    return g * (1.0 - out * out)


TANH = register(
    "tanh", tanh,
    vjps=(_tanh_vjp,),
    saves="output",
    samples=[Sample("2x3", (uniform(2, 3),), tanh), Sample("1x1", (uniform(1, 1),), tanh),
             Sample("+-20 saturated", (np.array([-20.0, -3.0, 3.0, 20.0]),), tanh)],
)


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: exp is only ever taken of -|x| <= 0."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(x: TensorLike) -> Tensor:
    """Logistic function 1 / (1 + e^-x), computed without overflow for any x."""
    x = as_tensor(x, op="sigmoid")
    return record(_stable_sigmoid(float_data(x)), SIGMOID, (x,))


SIGMOID = register(
    "sigmoid", sigmoid,
    # sigma'(z) = sigma(z) (1 - sigma(z)), the f'(z) of the sigmoid networks in the slides.
    vjps=(lambda g, out, x: g * out * (1 - out),),
    saves="output",
    samples=[Sample("2x3", (uniform(2, 3),), sigmoid),
             Sample("+-1000 extreme", (np.array([-1000.0, -30.0, 0.5, 30.0, 1000.0]),), sigmoid)],
)


def relu(x: TensorLike) -> Tensor:
    """max(x, 0); the derivative is taken as 0 at x = 0."""
    x = as_tensor(x, op="relu")
    return record(np.maximum(x.data, 0), RELU, (x,))


RELU = register("relu", relu, vjps=(lambda g, out, x: g * (raw(x) > 0),),
                samples=[Sample("2x3 away from 0", (away_from(2, 3),), relu)])


def leaky_relu(x: TensorLike, slope: float = 0.01) -> Tensor:
    """x for x > 0, slope * x otherwise."""
    x = as_tensor(x, op="leaky_relu")
    if not isinstance(slope, numbers.Real) or isinstance(slope, bool):
        raise DTypeError(f"leaky_relu: slope must be a real number, got {describe(slope)}")
    return record(np.where(x.data > 0, x.data, slope * x.data), LEAKY_RELU, (x,), {"slope": slope})


def _leaky_relu_vjp(g: Any, out: Any, x: Any, slope: float) -> Any:
    return g * np.where(raw(x) > 0, 1.0, slope).astype(g.dtype)


LEAKY_RELU = register(
    "leaky_relu", leaky_relu, vjps=(_leaky_relu_vjp,),
    samples=[Sample("2x3 slope 0.1", (away_from(2, 3),), lambda x: leaky_relu(x, 0.1))],
)


def softplus(x: TensorLike) -> Tensor:
    """log(1 + e^x), computed as logaddexp(0, x): no overflow at x = 1000."""
    x = as_tensor(x, op="softplus")
    return record(np.logaddexp(0, float_data(x)), SOFTPLUS, (x,))


def _sigmoid_of(x: Any) -> Any:
    """sigmoid on an ndarray (fast path) or a Tensor (recorded backward)."""
    return sigmoid(x) if isinstance(x, Tensor) else _stable_sigmoid(x)


SOFTPLUS = register(
    "softplus", softplus,
    vjps=(lambda g, out, x: g * _sigmoid_of(x),),
    samples=[Sample("2x3", (uniform(2, 3),), softplus),
             Sample("+-1000 extreme", (np.array([-1000.0, -40.0, 0.3, 40.0, 1000.0]),), softplus)],
)


# ---------------------------------------------------------------- maximum, minimum, clip, where
def _winner_share(first: np.ndarray, second: np.ndarray, wins: np.ufunc) -> np.ndarray:
    """1 where ``first`` wins, 1/2 on ties (the gradient is split evenly), 0 where it loses, in
    the operands' dtype (a float32 gradient stays float32)."""
    return (wins(first, second) + 0.5 * (first == second)).astype(np.result_type(first, second), copy=False)


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise max with broadcasting; on ties each input gets half the gradient."""
    a, b = operands("maximum", a, b)
    return record(_broadcasting(MAXIMUM, np.maximum, a, b), MAXIMUM, (a, b))


MAXIMUM = register(
    "maximum", maximum,
    vjps=(lambda g, out, a, b: unbroadcast(g * _winner_share(raw(a), raw(b), np.greater), a.shape),
          lambda g, out, a, b: unbroadcast(g * _winner_share(raw(b), raw(a), np.greater), b.shape)),
    samples=[Sample("2x3 . 2x3", (distinct(2, 3), distinct(2, 3) + 0.1), maximum),
             Sample("2x3 . 3 (broadcast)", (distinct(2, 3), distinct(3) + 0.05), maximum)],
)


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise min with broadcasting; on ties each input gets half the gradient."""
    a, b = operands("minimum", a, b)
    return record(_broadcasting(MINIMUM, np.minimum, a, b), MINIMUM, (a, b))


MINIMUM = register(
    "minimum", minimum,
    vjps=(lambda g, out, a, b: unbroadcast(g * _winner_share(raw(a), raw(b), np.less), a.shape),
          lambda g, out, a, b: unbroadcast(g * _winner_share(raw(b), raw(a), np.less), b.shape)),
    samples=[Sample("2x3 . 2x3", (distinct(2, 3), distinct(2, 3) + 0.1), minimum),
             Sample("4x1 . 3 (broadcast)", (distinct(4, 1), distinct(3) + 0.05), minimum)],
)


def clip(x: TensorLike, low: Any = None, high: Any = None) -> Tensor:
    """x limited to [low, high] (numbers or arrays; not differentiated); the gradient passes
    where low <= x <= high."""
    x = as_tensor(x, op="clip")
    if low is None and high is None:
        raise ArgumentError(f"clip: give low, high or both (got neither) for the tensor of shape {x.shape}")
    low, high = _bound("low", low), _bound("high", high)
    try:
        data = np.clip(x.data, low, high)
    except ValueError:
        broadcast_shapes("clip", x.shape, np.shape(low), np.shape(high))
        raise
    return record(data, CLIP, (x,), {"low": low, "high": high})


def _bound(name: str, bound: Any) -> Any:
    """A clip bound as a number or a private array (the rule reads it after the forward pass)."""
    if bound is None:
        return None
    if isinstance(bound, numbers.Real) and not isinstance(bound, bool):
        return bound
    array = np.array(raw(bound))  # a copy: editing the caller's array later cannot move the gradient
    if array.dtype.kind not in "fiu":
        raise DTypeError(f"clip: {name} must be a number or a numeric array, got {describe(bound)}")
    return array


def _clip_vjp(g: Any, out: Any, x: Any, low: float | None, high: float | None) -> Any:
    value = raw(x)
    inside = np.ones_like(value, dtype=bool) if low is None else value >= low
    if high is not None:
        inside = inside & (value <= high)
    return g * inside


CLIP = register(
    "clip", clip, vjps=(_clip_vjp,),
    samples=[Sample("2x3 in [-1, 1]", (away_from(2, 3, kink=0.0, gap=0.2, spread=0.8) * 2,),
                    lambda x: clip(x, -1.0, 1.0))],
)


def where(condition: Any, a: TensorLike, b: TensorLike) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (all three broadcast); condition is not differentiated."""
    # A private copy of the mask: the rules read it after the forward pass, and the caller may
    # edit their array meanwhile.
    condition = raw(condition)
    mask = (condition if isinstance(condition, np.ndarray) else to_array(condition, what="where")).astype(bool)
    a, b = operands("where", a, b)
    try:
        data = np.where(mask, a.data, b.data)
    except ValueError:
        broadcast_shapes("where", mask.shape, a.shape, b.shape)  # the ShapeError naming all three
        raise
    return record(data, WHERE, (a, b), {"condition": mask})


WHERE = register(
    "where", where,
    vjps=(lambda g, out, a, b, condition: unbroadcast(g * condition, a.shape),
          lambda g, out, a, b, condition: unbroadcast(g * ~condition, b.shape)),
    saves="",
    samples=[Sample("2x3 mask, 2x3 . 3", (uniform(2, 3), uniform(3)),
                    lambda a, b: where(np.array([[True, False, True], [False, False, True]]), a, b))],
)
