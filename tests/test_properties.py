"""Property tests: random broadcastable shapes, random axes and random compositions.

Each property compares the engine with numpy (values) and with central differences
(gradients, random upstream gradient), so a wrong rule or a missed un-broadcast fails.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import autotensor as at

SETTINGS = settings(max_examples=25, deadline=None)

BINARY = {
    "add": (np.add, lambda a, b: a + b),
    "sub": (np.subtract, lambda a, b: a - b),
    "mul": (np.multiply, lambda a, b: a * b),
    "div": (np.divide, lambda a, b: a / b),
    "maximum": (np.maximum, at.maximum),
    "minimum": (np.minimum, at.minimum),
    "pow": (np.power, lambda a, b: a ** b),
}


def _values(shape, seed, low=0.5, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@SETTINGS
@given(name=st.sampled_from(sorted(BINARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_like_numpy_and_unbroadcast_their_gradients(name, shapes, seed):
    reference, op = BINARY[name]
    a_shape, b_shape = shapes.input_shapes
    a, b = _values(a_shape, seed), _values(b_shape, seed + 1) + 0.013  # positive, no ties
    out = op(at.Tensor(a), at.Tensor(b))
    np.testing.assert_allclose(out.data, reference(a, b))
    assert out.shape == shapes.result_shape
    result = at.gradcheck(op, [a, b])
    assert result, str(result)


@SETTINGS
@given(data=st.data(), reduction=st.sampled_from(["sum", "mean", "max", "min", "logsumexp"]),
       keepdims=st.booleans())
def test_reductions_over_random_axes(data, reduction, keepdims):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    axes = data.draw(st.one_of(st.none(), st.lists(st.integers(-len(shape), len(shape) - 1),
                                                   unique_by=lambda a: a % len(shape), min_size=1).map(tuple)))
    # Distinct values 0.1 apart: max/min stay smooth within the checker's finite-difference step.
    x = data.draw(arrays(np.int64, shape, elements=st.integers(-100, 100), unique=True)) * 0.1
    numpy_reduction = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                       "logsumexp": lambda v, axis, keepdims: np.log(np.sum(np.exp(v), axis=axis, keepdims=keepdims))}[reduction]
    out = getattr(at, reduction)(at.Tensor(x), axes, keepdims)
    np.testing.assert_allclose(out.data, numpy_reduction(x, axis=axes, keepdims=keepdims), atol=1e-12)
    result = at.gradcheck(lambda t: getattr(at, reduction)(t, axes, keepdims), [x])
    assert result, str(result)


# Compositions must stay well conditioned for central differences: exp(exp(exp(x))) reaches
# 1e11, where eps = 1e-6 loses every digit, so exp enters bounded, as exp(tanh(y)).
UNARY = ["tanh", "sigmoid", "exp_tanh", "softplus", "neg", "log_abs", "sqrt_abs"]


def _apply(name, t):
    if name == "exp_tanh":
        return t.tanh().exp()
    if name == "log_abs":
        return (t * t + 1.0).log()
    if name == "sqrt_abs":
        return (t * t + 0.5).sqrt()
    return getattr(at, name)(t)


@SETTINGS
@given(steps=st.lists(st.tuples(st.sampled_from(UNARY + ["add_self", "mul_const", "matmul", "sum_keep"]),
                                st.integers(0, 3)), min_size=1, max_size=6),
       seed=st.integers(0, 2**16))
def test_random_compositions_have_correct_first_and_second_derivatives(steps, seed):
    rng = np.random.default_rng(seed)
    matrices = [rng.normal(size=(3, 3)) * 0.5 for _ in range(4)]

    def composed(x):
        y = x
        for name, k in steps:
            if name == "add_self":
                y = y + y.tanh()          # a diamond: y used twice
            elif name == "mul_const":
                y = y * (0.5 + k)
            elif name == "matmul":
                y = y @ matrices[k]
            elif name == "sum_keep":
                y = y + y.sum(axis=1, keepdims=True) * 0.1
            else:
                y = _apply(name, y)
        return y

    x = rng.uniform(-1, 1, size=(2, 3))
    assert at.gradcheck(composed, [x], rtol=1e-3, atol=1e-5)
    assert at.gradgradcheck(composed, [x], rtol=1e-3, atol=1e-4)
