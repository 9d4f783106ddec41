"""Specification of nn.backprop.ManualMLP: the hand-derived MLP that autograd is checked against.

Its rules on any network: each loss's output delta, the per-sample loop against the vectorised
pass, finite differences, inputs, and clear errors.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nn.backprop import ACTIVATIONS, LOSSES, ManualMLP, numerical_gradients, relative_error
from tests.backprop.car_network import CAR_DW1, CAR_DW2, CAR_DW3, CAR_X, CAR_Y, GOLD, car_network_row


# ------------------------------------------------------------------------------------------
# Loss-specific output deltas
# ------------------------------------------------------------------------------------------


def random_network(rng: np.random.Generator, sizes: list[int], layout: str, *,
                   bce_safe: bool = False, **kwargs: object) -> ManualMLP:
    """Random weights; ``bce_safe`` puts the output near 0.5 (bias 0.5, small weights)."""
    weights, biases = [], []
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.normal(scale=1.0 / np.sqrt(a), size=(a, b))
        bias = rng.normal(scale=0.5, size=b)
        if bce_safe and l == len(sizes) - 2:
            W *= 0.1 / (1.0 + np.sqrt(a))
            bias = np.full(b, 0.5)
        weights.append(W)
        biases.append(bias)
    if layout == "row":
        return ManualMLP([np.vstack([W, b]) for W, b in zip(weights, biases)],
                         bias_layout="row", **kwargs)
    return ManualMLP(weights, biases, **kwargs)


@pytest.mark.parametrize("output", ACTIVATIONS)
def test_mse_delta_is_the_half_sse_delta_scaled_by_2_over_Nk(output: str) -> None:
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    half = random_network(np.random.default_rng(1), [3, 4, 2], "separate",
                          output_activation=output, loss="half_sse").backward(X, y)
    mse = random_network(np.random.default_rng(1), [3, 4, 2], "separate",
                         output_activation=output, loss="mse").backward(X, y)
    assert mse.loss == pytest.approx(2.0 * half.loss / 12, rel=1e-14)
    for d_mse, d_half in zip(mse.deltas, half.deltas):
        np.testing.assert_allclose(d_mse, d_half * 2.0 / 12, rtol=1e-13, atol=1e-16)
    for g_mse, g_half in zip(mse.grads, half.grads):
        np.testing.assert_allclose(g_mse, g_half * 2.0 / 12, rtol=1e-13, atol=1e-16)


def test_bce_with_sigmoid_output_delta_is_yhat_minus_y_over_Nk() -> None:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=(5, 2)).astype(float)
    model = random_network(rng, [3, 4, 2], "separate", output_activation="sigmoid", loss="bce")
    result = model.backward(X, y)
    np.testing.assert_allclose(result.deltas[-1], (result.yhat - y) / 10, rtol=1e-14, atol=0)
    expected = -np.mean(y * np.log(result.yhat) + (1 - y) * np.log(1 - result.yhat))
    assert result.loss == pytest.approx(expected, rel=1e-13)


def test_bce_with_saturated_sigmoid_stays_finite() -> None:
    model = ManualMLP([np.array([[100.0]])], [np.array([0.0])], output_activation="sigmoid",
                      loss="bce")
    X, y = np.array([[10.0], [-10.0]]), np.array([[0.0], [1.0]])
    result = model.backward(X, y)
    assert result.loss == pytest.approx(1000.0, rel=1e-12)  # softplus(1000) = 1000 for each
    assert np.all(np.isfinite(result.grads[0])) and np.all(np.isfinite(result.grads[1]))


def test_relu_derivative_is_zero_at_zero() -> None:
    model = ManualMLP([np.array([[1.0]]), np.array([[1.0]])], [np.zeros(1), np.zeros(1)],
                      activation="relu", output_activation="identity")
    result = model.backward(np.array([[0.0]]), np.array([[1.0]]))
    assert result.deltas[0].item() == 0.0


# ------------------------------------------------------------------------------------------
# The slides' per-example loop equals the vectorised backward
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["separate", "row"])
@pytest.mark.parametrize("l2", [0.0, 0.05])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("hidden,output", list(itertools.product(ACTIVATIONS, ACTIVATIONS)))
def test_per_sample_loop_equals_vectorised_backward(layout: str, l2: float, loss: str,
                                                    hidden: str, output: str) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((layout, l2, loss, hidden, output)).encode()))
    sizes = [3, 4, 3, 2]
    X = rng.normal(size=(7, 3))
    y = rng.uniform(0.05, 0.95, size=(7, 2)) if loss == "bce" else rng.normal(size=(7, 2))
    model = random_network(rng, sizes, layout, bce_safe=loss == "bce", activation=hidden,
                           output_activation=output, loss=loss, l2=l2)
    fast = model.backward(X, y)
    slow = model.backward_per_sample(X, y)
    assert slow.loss == pytest.approx(fast.loss, rel=1e-13, abs=1e-15)
    assert len(slow.grads) == len(fast.grads) == len(model.parameters())
    for g_slow, g_fast, p in zip(slow.grads, fast.grads, model.parameters()):
        assert g_slow.shape == g_fast.shape == p.shape
        np.testing.assert_allclose(g_slow, g_fast, rtol=1e-12, atol=1e-14)
    for d_slow, d_fast in zip(slow.deltas, fast.deltas):
        np.testing.assert_allclose(d_slow, d_fast, rtol=1e-12, atol=1e-15)
    for a_slow, a_fast in zip(slow.activations, fast.activations):
        np.testing.assert_allclose(a_slow, a_fast, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(slow.yhat, fast.yhat, rtol=1e-13, atol=1e-15)


def test_per_sample_loop_reproduces_the_car_network() -> None:
    result = car_network_row().backward_per_sample(CAR_X, CAR_Y)
    np.testing.assert_allclose(result.grads[0], CAR_DW1, rtol=0, atol=GOLD)
    np.testing.assert_allclose(result.grads[1], CAR_DW2, rtol=0, atol=GOLD)
    np.testing.assert_allclose(result.grads[2], CAR_DW3, rtol=0, atol=GOLD)


# ------------------------------------------------------------------------------------------
# Finite differences agree with backward() for random networks
# ------------------------------------------------------------------------------------------


def preactivations(model: ManualMLP, X: np.ndarray) -> list[np.ndarray]:
    """z of every layer, computed independently of the module (for the relu-kink guard)."""
    zs, a = [], X
    for l, W in enumerate(model.weights):
        if model.bias_layout == "row":
            z = a @ W[:-1] + W[-1]
        else:
            z = a @ W + model.biases[l]
        zs.append(z)
        name = model.output_activation if l == len(model.weights) - 1 else model.activation
        a = {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
             "relu": lambda v: np.maximum(v, 0), "identity": lambda v: v}[name](z)
    return zs


@settings(max_examples=30, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 3),
    batch=st.integers(1, 6),
    activation=st.sampled_from(ACTIVATIONS),
    output_activation=st.sampled_from(ACTIVATIONS),
    loss=st.sampled_from(LOSSES),
    l2=st.sampled_from([0.0, 0.01, 0.5]),
    layout=st.sampled_from(["separate", "row"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_backward_matches_finite_differences(hidden: list[int], n_in: int, n_out: int,
                                             batch: int, activation: str,
                                             output_activation: str, loss: str, l2: float,
                                             layout: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, n_in))
    if loss == "bce":
        y = rng.uniform(0.0, 1.0, size=(batch, n_out))
    else:
        y = rng.normal(size=(batch, n_out))
    model = random_network(rng, [n_in, *hidden, n_out], layout, bce_safe=loss == "bce",
                           activation=activation, output_activation=output_activation,
                           loss=loss, l2=l2)
    zs = preactivations(model, X)
    # Stay away from relu's kink, where the derivative does not exist.
    for l, z in enumerate(zs):
        name = output_activation if l == len(zs) - 1 else activation
        if name == "relu":
            assume(np.min(np.abs(z)) > 1e-3)
    if loss == "bce" and output_activation != "sigmoid":
        assume(np.all((model.forward(X) > 0.01) & (model.forward(X) < 0.99)))

    analytic = model.backward(X, y).grads
    numeric = numerical_gradients(model, X, y, h=1e-5)
    assert relative_error(analytic, numeric) < 1e-6


def test_finite_differences_catch_a_slip_in_one_gradient_element() -> None:
    """A 0.1% error in a single element lands far above the 1e-6 threshold used above."""
    model = car_network_row()
    analytic = model.backward(CAR_X, CAR_Y).grads
    numeric = numerical_gradients(model, CAR_X, CAR_Y)
    assert relative_error(analytic, numeric) < 1e-7
    analytic[2][2, 0] *= 1.001  # the bias weight of the output unit
    assert relative_error(analytic, numeric) > 1e-4


def test_relative_error_is_norm_of_difference_over_norm_of_sum() -> None:
    a = [np.array([1.0, 2.0]), np.array([[3.0]])]
    n = [np.array([1.0, 2.5]), np.array([[3.0]])]
    assert relative_error(a, n) == pytest.approx(0.5 / np.linalg.norm([2.0, 4.5, 6.0]))
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError):
        relative_error([np.zeros(2)], [np.zeros(3)])


# ------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------


def test_a_1d_target_is_taken_as_one_column_not_broadcast() -> None:
    model = car_network_row()
    flat = model.backward(CAR_X, CAR_Y.ravel())
    np.testing.assert_allclose(flat.grads[0], CAR_DW1, rtol=0, atol=GOLD)
    assert flat.loss == pytest.approx(model.loss(CAR_X, CAR_Y), abs=0)


def test_integer_inputs_are_promoted_to_float() -> None:
    model = ManualMLP([np.array([[1, 2]])], [np.array([0, 0])], output_activation="identity")
    assert model.parameters()[0].dtype == np.float64
    np.testing.assert_allclose(model.forward([[3]]), [[3.0, 6.0]])


# ------------------------------------------------------------------------------------------
# Validation: clear errors naming the layer and the shapes
# ------------------------------------------------------------------------------------------


def test_mismatched_layer_shapes_name_the_layer_and_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"layer 1: .*\(4, 2\).*layer 0.*\(3, 3\)"):
        ManualMLP([np.zeros((3, 3)), np.zeros((4, 2))], [np.zeros(3), np.zeros(2)])


def test_row_layout_expects_one_extra_row_for_the_biases() -> None:
    with pytest.raises(ValueError, match=r"layer 1: .*\(3, 2\).*4 rows.*bias row.*\(4, 3\)"):
        ManualMLP([np.zeros((4, 3)), np.zeros((3, 2))], bias_layout="row")


def test_bias_of_the_wrong_shape_names_the_layer() -> None:
    with pytest.raises(ValueError, match=r"layer 1: bias of shape \(3,\).*\(3, 2\).*\(2,\)"):
        ManualMLP([np.zeros((3, 3)), np.zeros((3, 2))], [np.zeros(3), np.zeros(3)])


def test_weight_that_is_not_a_matrix_names_the_layer() -> None:
    with pytest.raises(ValueError, match=r"layer 0: .*2-D.*\(3,\)"):
        ManualMLP([np.zeros(3)], [np.zeros(3)])


@pytest.mark.parametrize("kwargs,where", [({"activation": "softmax"}, "hidden layers"),
                                          ({"output_activation": "Tanh"}, "output layer")])
def test_unknown_activation_names_the_layer(kwargs: dict[str, str], where: str) -> None:
    with pytest.raises(ValueError, match=f"unknown activation.*{where}"):
        ManualMLP([np.zeros((2, 1))], [np.zeros(1)], **kwargs)


@pytest.mark.parametrize("kwargs,message", [
    ({"loss": "mae"}, "unknown loss"),
    ({"bias_layout": "column"}, "unknown bias_layout"),
    ({"l2": -1.0}, "l2"),
])
def test_unknown_options_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ManualMLP([np.zeros((2, 1))], [np.zeros(1)], **kwargs)


def test_biases_must_match_the_layout() -> None:
    with pytest.raises(ValueError, match="biases=None"):
        ManualMLP([np.zeros((3, 1))], [np.zeros(1)], bias_layout="row")
    with pytest.raises(ValueError, match="one bias vector per layer"):
        ManualMLP([np.zeros((3, 1))])
    with pytest.raises(ValueError, match="2 weight matrices but 1 bias"):
        ManualMLP([np.zeros((3, 2)), np.zeros((2, 1))], [np.zeros(2)])


def test_inputs_of_the_wrong_shape_are_rejected_with_their_shapes() -> None:
    model = car_network_row()
    with pytest.raises(ValueError, match=r"X of shape \(N, 3\), got \(5, 4\)"):
        model.forward(np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"y of shape \(5, 1\).*got \(4, 1\)"):
        model.backward(CAR_X, np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"y of shape \(5, 1\).*got \(5, 2\)"):
        model.backward_per_sample(CAR_X, np.zeros((5, 2)))


def test_from_parameters_rejects_an_odd_or_misshapen_list() -> None:
    with pytest.raises(ValueError, match="even"):
        ManualMLP.from_parameters([np.zeros((3, 2)), np.zeros(2), np.zeros((2, 1))])
    with pytest.raises(ValueError, match=r"layer 0: .*\(3, 2\) and \(3,\)"):
        ManualMLP.from_parameters([np.zeros((3, 2)), np.zeros(3)])


def test_step_rejects_gradients_that_do_not_match_the_parameters() -> None:
    model = car_network_row()
    with pytest.raises(ValueError, match="expected 3 gradients"):
        model.step([np.zeros((4, 3))], lr=0.1)
    with pytest.raises(ValueError, match=r"gradient 1 has shape \(2, 4\).*\(4, 2\)"):
        model.step([np.zeros((4, 3)), np.zeros((2, 4)), np.zeros((3, 1))], lr=0.1)
