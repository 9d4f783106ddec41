"""Specification of nn.manual: the hand-derived MLP that autograd is checked against.

Golden numbers come from shared/seed-examples.md (sections 1-3), reproduced to 1e-9 absolute.
"""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nn.manual import (
    ACTIVATIONS,
    LOSSES,
    ManualMLP,
    ManualResult,
    numerical_gradients,
    relative_error,
)

GOLD = 1e-9  # absolute tolerance for the documents' numbers

# ------------------------------------------------------------------------------------------
# Section 1: the car-price network of document 000, bias rows inside the weight matrices
# ------------------------------------------------------------------------------------------

CAR_X = np.array([[1.4, -1.0, 0.4],
                  [0.4, -1.0, 0.1],
                  [5.4, -1.0, 4.0],
                  [1.5, -1.0, 1.0],
                  [1.8, 1.0, 1.0]])
CAR_Y = np.array([[0.45], [0.8], [0.2], [0.5], [0.55]])
CAR_W1 = np.array([[0.01, 0.05, 0.07], [0.2, 0.041, 0.11], [0.04, 0.56, 0.13], [0.1, 0.1, 0.1]])
CAR_W2 = np.array([[0.04, 0.78], [0.4, 0.45], [0.65, 0.23], [0.1, 0.1]])
CAR_W3 = np.array([[0.04], [0.41], [0.1]])

CAR_YHAT = [0.202354302599, 0.144933682554, 0.381054078721, 0.262494787219, 0.368818057375]
CAR_DW3 = [[-0.25659878177], [-0.194693013848], [-1.101723420312]]
CAR_DW2 = [[0.002085199435, 0.025019230188],
           [-0.010520017991, -0.102917746604],
           [-0.003384710992, -0.02930899528],
           [-0.041978638786, -0.433277437121]]
CAR_DW1 = [[-0.171920111136, -0.159054126528, -0.089384580861],
           [0.282307763117, 0.178205075002, 0.109720805588],
           [-0.02621374892, -0.061709318484, -0.029065757421],
           [-0.334320485211, -0.199229199282, -0.128131511565]]


def car_network_row(**kwargs: object) -> ManualMLP:
    return ManualMLP([CAR_W1.copy(), CAR_W2.copy(), CAR_W3.copy()], bias_layout="row", **kwargs)


def car_network_separate(**kwargs: object) -> ManualMLP:
    """The same network with each bias row split off into a bias vector."""
    mats = [CAR_W1, CAR_W2, CAR_W3]
    return ManualMLP([W[:-1].copy() for W in mats], [W[-1].copy() for W in mats], **kwargs)


def test_car_network_forward_reproduces_the_documents_predictions() -> None:
    model = car_network_row()
    np.testing.assert_allclose(model.forward(CAR_X).ravel(), CAR_YHAT, rtol=0, atol=GOLD)


def test_car_network_gradients_reproduce_the_documents_dJ_dW() -> None:
    result = car_network_row().backward(CAR_X, CAR_Y)
    assert isinstance(result, ManualResult)
    dW1, dW2, dW3 = result.grads
    np.testing.assert_allclose(result.yhat.ravel(), CAR_YHAT, rtol=0, atol=GOLD)
    np.testing.assert_allclose(dW3, CAR_DW3, rtol=0, atol=GOLD)
    np.testing.assert_allclose(dW2, CAR_DW2, rtol=0, atol=GOLD)
    np.testing.assert_allclose(dW1, CAR_DW1, rtol=0, atol=GOLD)
    # The cost is the documents' half-SSE, without 1/n.
    assert result.loss == pytest.approx(0.5 * np.sum((CAR_Y.ravel() - CAR_YHAT) ** 2), abs=GOLD)


def test_car_network_output_delta_is_the_documents_delta4() -> None:
    result = car_network_row().backward(CAR_X, CAR_Y)
    delta4 = [-0.237505283705, -0.641306143515, 0.154764626197, -0.221140269189, -0.156536350099]
    np.testing.assert_allclose(result.deltas[2].ravel(), delta4, rtol=0, atol=GOLD)
    assert [d.shape for d in result.deltas] == [(5, 3), (5, 2), (5, 1)]
    assert [a.shape for a in result.activations] == [(5, 3), (5, 3), (5, 2), (5, 1)]


def test_one_gradient_descent_step_reproduces_the_updated_weights() -> None:
    model = car_network_row()
    W1, W2, W3 = model.parameters()
    result = model.backward(CAR_X, CAR_Y)
    model.step(result.grads, lr=0.1 * (1 / 5))  # W <- W - alpha * (1/n) * dJ/dW
    assert model.parameters()[0] is W1  # updated in place
    np.testing.assert_allclose(W1[0], [0.013438402223, 0.053181082531, 0.071787691617],
                               rtol=0, atol=GOLD)
    np.testing.assert_allclose(W3.ravel(), [0.045131975635, 0.413893860277, 0.122034468406],
                               rtol=0, atol=GOLD)


def test_gradient_check_at_the_original_weights_matches_the_document() -> None:
    model = car_network_row()
    h = 1e-4
    first = model.parameters()[0]
    original = first[0, 0]
    first[0, 0] = original + h
    j_plus = model.loss(CAR_X, CAR_Y)
    first[0, 0] = original - h
    j_minus = model.loss(CAR_X, CAR_Y)
    first[0, 0] = original
    assert j_plus == pytest.approx(0.306211045975, abs=GOLD)
    assert j_minus == pytest.approx(0.306245430003, abs=GOLD)

    numeric = numerical_gradients(model, CAR_X, CAR_Y, h=h)
    assert numeric[0][0, 0] == pytest.approx(-0.171920139406, abs=GOLD)
    analytic = model.backward(CAR_X, CAR_Y).grads
    assert sum(g.size for g in analytic) == 23
    error = relative_error(analytic, numeric)
    assert f"{error:.1e}" == "1.2e-08"  # the document prints 1.15700817288e-08
    assert error == pytest.approx(1.157e-08, rel=5e-3)


def test_numerical_gradients_restore_the_parameters() -> None:
    model = car_network_row()
    before = [p.copy() for p in model.parameters()]
    numerical_gradients(model, CAR_X, CAR_Y)
    for p, q in zip(model.parameters(), before):
        np.testing.assert_array_equal(p, q)


def test_separate_bias_layout_gives_the_same_gradients_as_bias_rows() -> None:
    row = car_network_row().backward(CAR_X, CAR_Y)
    sep = car_network_separate().backward(CAR_X, CAR_Y)
    assert [g.shape for g in sep.grads] == [(3, 3), (3,), (3, 2), (2,), (2, 1), (1,)]
    for l, g_row in enumerate(row.grads):
        np.testing.assert_allclose(sep.grads[2 * l], g_row[:-1], rtol=0, atol=1e-14)
        np.testing.assert_allclose(sep.grads[2 * l + 1], g_row[-1], rtol=0, atol=1e-14)
    np.testing.assert_allclose(sep.grads[0], np.array(CAR_DW1)[:-1], rtol=0, atol=GOLD)
    np.testing.assert_allclose(sep.grads[1], CAR_DW1[-1], rtol=0, atol=GOLD)
    assert sep.loss == pytest.approx(row.loss, abs=1e-15)
    for d_sep, d_row in zip(sep.deltas, row.deltas):
        np.testing.assert_allclose(d_sep, d_row, rtol=0, atol=1e-15)


def test_l2_penalises_weights_but_never_biases_in_either_layout() -> None:
    l2 = 0.3
    base = car_network_separate().backward(CAR_X, CAR_Y)
    sep = car_network_separate(l2=l2).backward(CAR_X, CAR_Y)
    row = car_network_row(l2=l2).backward(CAR_X, CAR_Y)
    mats = [CAR_W1, CAR_W2, CAR_W3]
    penalty = 0.5 * l2 * sum(np.sum(W[:-1] ** 2) for W in mats)
    assert sep.loss == pytest.approx(base.loss + penalty, abs=1e-14)
    assert row.loss == pytest.approx(base.loss + penalty, abs=1e-14)
    for l, W in enumerate(mats):
        np.testing.assert_allclose(sep.grads[2 * l], base.grads[2 * l] + l2 * W[:-1], atol=1e-14)
        np.testing.assert_array_equal(sep.grads[2 * l + 1], base.grads[2 * l + 1])
        np.testing.assert_allclose(row.grads[l][:-1], sep.grads[2 * l], rtol=0, atol=1e-14)
        np.testing.assert_allclose(row.grads[l][-1], base.grads[2 * l + 1], rtol=0, atol=1e-14)


def test_from_parameters_takes_alternating_weights_and_biases_and_copies_them() -> None:
    params = [CAR_W1[:-1].copy(), CAR_W1[-1].copy(), CAR_W2[:-1].copy(), CAR_W2[-1].copy(),
              CAR_W3[:-1].copy(), CAR_W3[-1].copy()]
    model = ManualMLP.from_parameters(params)
    assert model.sizes == [3, 3, 2, 1]
    for p, q in zip(model.parameters(), params):
        assert p is not q
        np.testing.assert_array_equal(p, q)
    params[0][0, 0] = 99.0
    assert model.parameters()[0][0, 0] == 0.01

    as_rows = ManualMLP.from_parameters(params[:0] + [CAR_W1[:-1], CAR_W1[-1], CAR_W2[:-1],
                                                      CAR_W2[-1], CAR_W3[:-1], CAR_W3[-1]],
                                        bias_layout="row")
    for p, W in zip(as_rows.parameters(), [CAR_W1, CAR_W2, CAR_W3]):
        np.testing.assert_array_equal(p, W)
    np.testing.assert_allclose(as_rows.backward(CAR_X, CAR_Y).grads[0], CAR_DW1, atol=GOLD)


def test_step_subtracts_in_place_in_parameter_order() -> None:
    model = car_network_separate()
    params = model.parameters()
    before = [p.copy() for p in params]
    grads = [np.full(p.shape, float(i + 1)) for i, p in enumerate(params)]
    model.step(grads, lr=0.5)
    for i, (p, q) in enumerate(zip(model.parameters(), before)):
        assert p is params[i]
        np.testing.assert_allclose(p, q - 0.5 * (i + 1), rtol=0, atol=1e-15)


# ------------------------------------------------------------------------------------------
# Section 2: the slides' two-layer sigmoid net, one example (document 003)
# ------------------------------------------------------------------------------------------
# The slides compute z = W a + b with W of shape (out, in). This module uses the documents'
# row layout z = a @ W + b with W of shape (in, out), so every slide matrix is transposed here,
# and so are the expected weight gradients.

SLIDE_W1 = np.array([[0.3], [0.4]])  # slides' (out=2, in=1)
SLIDE_W2 = np.array([[1.0, -3.0]])  # slides' (out=1, in=2)
SLIDE_B1 = np.array([0.1, 0.2])
SLIDE_B2 = np.array([0.2])


def slides_network(output_activation: str = "sigmoid") -> ManualMLP:
    return ManualMLP([SLIDE_W1.T.copy(), SLIDE_W2.T.copy()], [SLIDE_B1.copy(), SLIDE_B2.copy()],
                     activation="sigmoid", output_activation=output_activation, loss="half_sse")


def test_slides_sigmoid_network_reproduces_every_worked_number() -> None:
    x, y = np.array([[1.0]]), np.array([[1.0]])
    result = slides_network().backward(x, y)
    np.testing.assert_allclose(result.activations[1].ravel(), [0.598687660112, 0.645656306226],
                               rtol=0, atol=GOLD)
    z3 = slides_network(output_activation="identity").forward(x)  # the output's pre-activation
    assert z3.item() == pytest.approx(-1.138281258565, abs=GOLD)
    assert result.yhat.item() == pytest.approx(0.242636063735, abs=GOLD)
    assert result.deltas[1].item() == pytest.approx(-0.139176078175, abs=GOLD)
    np.testing.assert_allclose(result.deltas[0].ravel(), [-0.033438548332, 0.095523880005],
                               rtol=0, atol=GOLD)
    dW1, db1, dW2, db2 = result.grads
    # Slides: dJ/dW2 = [[-0.0833..., -0.0898...]] (1x2), dJ/dW1 = [[-0.0334...], [0.0955...]] (2x1);
    # in the x @ W layout both are transposed.
    np.testing.assert_allclose(dW2, np.array([[-0.083323000586, -0.08985991255]]).T,
                               rtol=0, atol=GOLD)
    np.testing.assert_allclose(dW1, np.array([[-0.033438548332], [0.095523880005]]).T,
                               rtol=0, atol=GOLD)
    np.testing.assert_allclose(db1, result.deltas[0].ravel(), rtol=0, atol=0)
    np.testing.assert_allclose(db2, result.deltas[1].ravel(), rtol=0, atol=0)
    np.testing.assert_allclose(db1, [-0.033438548332, 0.095523880005], rtol=0, atol=GOLD)
    assert db2.item() == pytest.approx(-0.139176078175, abs=GOLD)


# ------------------------------------------------------------------------------------------
# Section 3: zero weights + sigmoid output + BCE costs log 2 (document 001)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("layout", ["separate", "row"])
@pytest.mark.parametrize("hidden", [(), (4,), (3, 2)])
def test_zero_weights_with_sigmoid_output_and_bce_cost_log_2(seed: int, layout: str,
                                                             hidden: tuple[int, ...]) -> None:
    rng = np.random.default_rng(seed)
    n, n_in, k = int(rng.integers(1, 9)), int(rng.integers(1, 5)), int(rng.integers(1, 3))
    X = rng.normal(scale=5.0, size=(n, n_in))
    y = rng.integers(0, 2, size=(n, k)).astype(float)
    sizes = [n_in, *hidden, k]
    extra = 1 if layout == "row" else 0
    weights = [np.zeros((a + extra, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = None if layout == "row" else [np.zeros(b) for b in sizes[1:]]
    model = ManualMLP(weights, biases, activation=ACTIVATIONS[seed], output_activation="sigmoid",
                      loss="bce", bias_layout=layout)
    assert model.loss(X, y) == pytest.approx(0.693147180560, abs=GOLD)
    assert model.backward(X, y).loss == pytest.approx(math.log(2.0), abs=1e-15)
    np.testing.assert_allclose(model.forward(X), 0.5, rtol=0, atol=0)


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
