"""Elementwise ops: arithmetic, activations and selections, each with its derivative rules.

Binary ops follow numpy broadcasting; their rules hand the (possibly larger) output gradient to
``unbroadcast``, which sums it back to each input's shape.  In every rule ``g`` is the
gradient of the loss with respect to the op's output, ``out`` the output value and the inputs
follow; on the fast path these are ndarrays, with ``create_graph=True`` they are Tensors.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autotensor.broadcasting import unbroadcast
from autotensor.errors import ShapeError
from autotensor.registry import Op, Sample, away_from, distinct, register, uniform
from autotensor.tensor import Tensor, TensorLike, _value, as_tensor, record


def _operands(a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python number adopts the other operand's float dtype."""
    if not isinstance(a, Tensor):
        b = as_tensor(b)
        return as_tensor(a, like=b), b
    return a, as_tensor(b, like=a)


def _broadcasting(op: Op, ufunc: np.ufunc, a: Tensor, b: Tensor) -> np.ndarray:
    """Apply a binary ufunc, turning numpy's broadcast failure into an error naming the op."""
    try:
        return ufunc(a.data, b.data)
    except ValueError:
        raise ShapeError(f"{op.name}: cannot broadcast shapes {a.shape} and {b.shape}") from None


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
    a, b = _operands(a, b)
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
    a, b = _operands(a, b)
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
    a, b = _operands(a, b)
    return record(_broadcasting(MUL, np.multiply, a, b), MUL, (a, b))


MUL = register(
    "mul", mul,
    vjps=(lambda g, out, a, b: unbroadcast(g * b, a.shape),
          lambda g, out, a, b: unbroadcast(g * a, b.shape)),
    samples=_binary_samples(mul),
)


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """a / b with broadcasting."""
    a, b = _operands(a, b)
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
    x = as_tensor(x)
    return record(np.negative(x.data), NEG, (x,))


NEG = register("neg", neg, vjps=(lambda g, out, x: -g,), saves="",
               samples=[Sample("2x3", (uniform(2, 3),), neg)])


def pow(base: TensorLike, exponent: TensorLike) -> Tensor:  # noqa: A001 - the op's name
    """base ** exponent; both may be tensors (the exponent's gradient needs base > 0)."""
    base, exponent = _operands(base, exponent)
    return record(_broadcasting(POW, np.power, base, exponent), POW, (base, exponent))


POW = register(
    "pow", pow,
    vjps=(lambda g, out, x, p: unbroadcast(g * p * x ** (p - 1), x.shape),
          lambda g, out, x, p: unbroadcast(g * out * np.log(x), p.shape)),
    saves="inputs+output",
    samples=[
        Sample("2x3 ** 2x3", (uniform(2, 3, low=0.5, high=2.0), uniform(2, 3, low=-1.5, high=2.5)), pow),
        Sample("4 ** () (scalar exponent)", (uniform(4, low=0.5, high=2.0), np.array(3.0)), pow),
        Sample("3x1 ** 2 (broadcast)", (uniform(3, 1, low=0.5, high=2.0), uniform(2, low=0.5, high=2.0)), pow),
    ],
)


# ---------------------------------------------------------------- exp, log, sqrt, abs
def exp(x: TensorLike) -> Tensor:
    """e ** x."""
    x = as_tensor(x)
    return record(np.exp(x.data), EXP, (x,))


EXP = register("exp", exp, vjps=(lambda g, out, x: g * out,), saves="output",
               samples=[Sample("2x3", (uniform(2, 3),), exp), Sample("4", (uniform(4),), exp)])


def log(x: TensorLike) -> Tensor:
    """Natural logarithm (x > 0)."""
    x = as_tensor(x)
    return record(np.log(x.data), LOG, (x,))


LOG = register("log", log, vjps=(lambda g, out, x: g / x,),
               samples=[Sample("2x3 positive", (uniform(2, 3, low=0.2, high=3.0),), log),
                        Sample("1e3..1e5 large", (uniform(4, low=1e3, high=1e5),), log)])


def sqrt(x: TensorLike) -> Tensor:
    """Square root (x >= 0; the gradient is infinite at 0)."""
    x = as_tensor(x)
    return record(np.sqrt(x.data), SQRT, (x,))


SQRT = register("sqrt", sqrt, vjps=(lambda g, out, x: g * 0.5 / out,), saves="output",
                samples=[Sample("2x3 positive", (uniform(2, 3, low=0.2, high=3.0),), sqrt)])


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - the op's name
    """|x|; the derivative sign(x) is taken as 0 at x = 0."""
    x = as_tensor(x)
    return record(np.abs(x.data), ABS, (x,))


ABS = register("abs", abs, vjps=(lambda g, out, x: g * np.sign(_value(x)),),
               samples=[Sample("2x3 away from 0", (away_from(2, 3),), abs)])


# ---------------------------------------------------------------- activations
def tanh(x: TensorLike) -> Tensor:
    """Hyperbolic tangent, the documents' activation."""
    x = as_tensor(x)
    return record(np.tanh(x.data), TANH, (x,))


def _tanh_vjp(g: Any, out: Any, x: Any) -> Any:
    # f'(z) = 1 - tanh(z)^2: the factor f'(z) in every delta of the documents.
    if type(out) is np.ndarray and out.size >= 4096 and g.dtype == out.dtype:
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
    x = as_tensor(x)
    return record(_stable_sigmoid(x.data), SIGMOID, (x,))


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
    x = as_tensor(x)
    return record(np.maximum(x.data, 0), RELU, (x,))


RELU = register("relu", relu, vjps=(lambda g, out, x: g * (_value(x) > 0),),
                samples=[Sample("2x3 away from 0", (away_from(2, 3),), relu)])


def leaky_relu(x: TensorLike, slope: float = 0.01) -> Tensor:
    """x for x > 0, slope * x otherwise."""
    x = as_tensor(x)
    return record(np.where(x.data > 0, x.data, slope * x.data), LEAKY_RELU, (x,), {"slope": slope})


def _leaky_relu_vjp(g: Any, out: Any, x: Any, slope: float) -> Any:
    return g * np.where(_value(x) > 0, 1.0, slope).astype(g.dtype)


LEAKY_RELU = register(
    "leaky_relu", leaky_relu, vjps=(_leaky_relu_vjp,),
    samples=[Sample("2x3 slope 0.1", (away_from(2, 3),), lambda x: leaky_relu(x, 0.1))],
)


def softplus(x: TensorLike) -> Tensor:
    """log(1 + e^x), computed as logaddexp(0, x): no overflow at x = 1000."""
    x = as_tensor(x)
    return record(np.logaddexp(0, x.data), SOFTPLUS, (x,))


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
    """1 where ``first`` wins, 1/2 on ties (the gradient is split evenly), 0 where it loses."""
    return wins(first, second) + 0.5 * (first == second)


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise max with broadcasting; on ties each input gets half the gradient."""
    a, b = _operands(a, b)
    return record(_broadcasting(MAXIMUM, np.maximum, a, b), MAXIMUM, (a, b))


MAXIMUM = register(
    "maximum", maximum,
    vjps=(lambda g, out, a, b: unbroadcast(g * _winner_share(_value(a), _value(b), np.greater), a.shape),
          lambda g, out, a, b: unbroadcast(g * _winner_share(_value(b), _value(a), np.greater), b.shape)),
    samples=[Sample("2x3 . 2x3", (distinct(2, 3), distinct(2, 3) + 0.1), maximum),
             Sample("2x3 . 3 (broadcast)", (distinct(2, 3), distinct(3) + 0.05), maximum)],
)


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise min with broadcasting; on ties each input gets half the gradient."""
    a, b = _operands(a, b)
    return record(_broadcasting(MINIMUM, np.minimum, a, b), MINIMUM, (a, b))


MINIMUM = register(
    "minimum", minimum,
    vjps=(lambda g, out, a, b: unbroadcast(g * _winner_share(_value(a), _value(b), np.less), a.shape),
          lambda g, out, a, b: unbroadcast(g * _winner_share(_value(b), _value(a), np.less), b.shape)),
    samples=[Sample("2x3 . 2x3", (distinct(2, 3), distinct(2, 3) + 0.1), minimum),
             Sample("4x1 . 3 (broadcast)", (distinct(4, 1), distinct(3) + 0.05), minimum)],
)


def clip(x: TensorLike, low: float | None = None, high: float | None = None) -> Tensor:
    """x limited to [low, high]; the gradient passes where low <= x <= high."""
    x = as_tensor(x)
    if low is None and high is None:
        raise ValueError("clip: give low, high or both")
    return record(np.clip(x.data, low, high), CLIP, (x,), {"low": low, "high": high})


def _clip_vjp(g: Any, out: Any, x: Any, low: float | None, high: float | None) -> Any:
    value = _value(x)
    inside = np.ones(value.shape, dtype=bool)
    if low is not None:
        inside &= value >= low
    if high is not None:
        inside &= value <= high
    return g * inside


CLIP = register(
    "clip", clip, vjps=(_clip_vjp,),
    samples=[Sample("2x3 in [-1, 1]", (away_from(2, 3, kink=0.0, gap=0.2, spread=0.8) * 2,),
                    lambda x: clip(x, -1.0, 1.0))],
)


def where(condition: Any, a: TensorLike, b: TensorLike) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (all three broadcast); condition is not differentiated."""
    mask = np.asarray(_value(condition), dtype=bool)
    a, b = _operands(a, b)
    try:
        data = np.where(mask, a.data, b.data)
    except ValueError:
        raise ShapeError(f"where: cannot broadcast shapes {mask.shape}, {a.shape} and {b.shape}") from None
    return record(data, WHERE, (a, b), {"condition": mask})


WHERE = register(
    "where", where,
    vjps=(lambda g, out, a, b, condition: unbroadcast(g * condition, a.shape),
          lambda g, out, a, b, condition: unbroadcast(g * ~condition, b.shape)),
    saves="",
    samples=[Sample("2x3 mask, 2x3 . 3", (uniform(2, 3), uniform(3)),
                    lambda a, b: where(np.array([[True, False, True], [False, False, True]]), a, b))],
)
