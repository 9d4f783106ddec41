"""The hand-derived MLP reproduces the documents' worked numbers.

Golden numbers come from shared/seed-examples.md (sections 1-3), reproduced to 1e-9 absolute.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn.backprop import ACTIVATIONS, ManualMLP, ManualResult, numerical_gradients, relative_error
from tests.backprop.car_network import (
    CAR_DW1, CAR_DW2, CAR_DW3, CAR_W1, CAR_W2, CAR_W3, CAR_X, CAR_Y, CAR_YHAT, GOLD, car_network_row,
    car_network_separate,
)


# ------------------------------------------------------------------------------------------
# Section 1: the car-price network of document 000, bias rows inside the weight matrices
# ------------------------------------------------------------------------------------------


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
