"""The worked numbers of shared/seed-examples.md, reproduced through the public API."""
import numpy as np
import pytest

import autotensor as at
from nn.backprop import seed_example as seed

ATOL = 1e-9

YHAT = [0.202354302599, 0.144933682554, 0.381054078721, 0.262494787219, 0.368818057375]
DW3 = [[-0.25659878177], [-0.194693013848], [-1.101723420312]]
DW2 = [[0.002085199435, 0.025019230188], [-0.010520017991, -0.102917746604],
       [-0.003384710992, -0.02930899528], [-0.041978638786, -0.433277437121]]
DW1 = [[-0.171920111136, -0.159054126528, -0.089384580861], [0.282307763117, 0.178205075002, 0.109720805588],
       [-0.02621374892, -0.061709318484, -0.029065757421], [-0.334320485211, -0.199229199282, -0.128131511565]]


def _seed_weights():
    return [at.Tensor(w.copy(), requires_grad=True) for w in seed.WEIGHTS]


def test_section1_forward_and_gradients():
    weights = _seed_weights()
    yhat, _ = seed.forward(weights)
    seed.cost(yhat).backward()
    np.testing.assert_allclose(yhat.data.ravel(), YHAT, atol=ATOL, rtol=0)
    for weight, expected in zip(weights, (DW1, DW2, DW3)):
        np.testing.assert_allclose(weight.grad.data, expected, atol=ATOL, rtol=0)


def test_section1_one_gradient_descent_step():
    weights = _seed_weights()
    yhat, _ = seed.forward(weights)
    seed.cost(yhat).backward()
    n = seed.X.shape[0]
    with at.no_grad():
        for weight in weights:
            weight -= seed.LEARNING_RATE * (1 / n) * weight.grad
    np.testing.assert_allclose(weights[0].data[0], [0.013438402223, 0.053181082531, 0.071787691617], atol=ATOL)
    np.testing.assert_allclose(weights[2].data.ravel(), [0.045131975635, 0.413893860277, 0.122034468406], atol=ATOL)


def test_section1_gradient_check_with_the_documents_step():
    def cost(w1, w2, w3):
        return seed.cost(seed.forward((w1, w2, w3))[0])

    # The document's two evaluations around the first weight, h = 1e-4.
    h = 1e-4
    values = []
    for shift in (h, -h):
        w1 = seed.W1.copy()
        w1[0, 0] += shift
        values.append(cost(at.Tensor(w1), at.Tensor(seed.W2), at.Tensor(seed.W3)).item())
    assert values[0] == pytest.approx(0.306211045975, abs=ATOL)
    assert values[1] == pytest.approx(0.306245430003, abs=ATOL)
    assert (values[0] - values[1]) / (2 * h) == pytest.approx(-0.171920139406, abs=ATOL)

    result = at.gradcheck(cost, list(seed.WEIGHTS), eps=h)
    assert result
    assert sum(w.size for w in seed.WEIGHTS) == 23
    assert f"{result.relative_error:.3e}" == "1.157e-08"  # the document prints 1.15700817288e-08


def test_section1_per_layer_deltas_via_retain_grad():
    weights = _seed_weights()
    yhat, pre_activations = seed.forward(weights)
    for z in pre_activations:
        z.retain_grad()
    seed.cost(yhat).backward()
    # The documents' output delta: -(y - yhat) * f'(z3) with f' = 1 - tanh^2.
    delta3 = -(seed.Y - yhat.data) * (1 - yhat.data ** 2)
    np.testing.assert_allclose(pre_activations[2].grad.data, delta3, atol=1e-15)
    # Hidden deltas: (delta_next @ W_next^T without the bias row) * f'(z).
    a2 = np.tanh(pre_activations[1].data)
    delta2 = (delta3 @ seed.W3[:-1].T) * (1 - a2 ** 2)
    np.testing.assert_allclose(pre_activations[1].grad.data, delta2, atol=1e-15)
    # And dJ/dW = [a, 1]^T delta reproduces the golden gradient.
    np.testing.assert_allclose(np.hstack([a2, np.ones((5, 1))]).T @ delta3, DW3, atol=ATOL)


def test_section2_two_layer_sigmoid_network():
    # The slides write z = W x + b for a column x; with x as a row the weights are transposed.
    x = at.Tensor([[1.0]])
    W1 = at.Tensor([[0.3, 0.4]], requires_grad=True)
    b1 = at.Tensor([0.1, 0.2], requires_grad=True)
    W2 = at.Tensor([[1.0], [-3.0]], requires_grad=True)
    b2 = at.Tensor([0.2], requires_grad=True)
    z2 = x @ W1 + b1
    a2 = z2.sigmoid()
    z3 = a2 @ W2 + b2
    yhat = z3.sigmoid()
    for z in (z2, z3):
        z.retain_grad()
    (0.5 * (1.0 - yhat) ** 2).sum().backward()
    np.testing.assert_allclose(a2.data.ravel(), [0.598687660112, 0.645656306226], atol=ATOL)
    assert z3.item() == pytest.approx(-1.138281258565, abs=ATOL)
    assert yhat.item() == pytest.approx(0.242636063735, abs=ATOL)
    assert z3.grad.item() == pytest.approx(-0.139176078175, abs=ATOL)
    np.testing.assert_allclose(z2.grad.data.ravel(), [-0.033438548332, 0.095523880005], atol=ATOL)
    np.testing.assert_allclose(W2.grad.data.ravel(), [-0.083323000586, -0.08985991255], atol=ATOL)
    np.testing.assert_allclose(W1.grad.data.ravel(), [-0.033438548332, 0.095523880005], atol=ATOL)
    np.testing.assert_allclose(b1.grad.data, z2.grad.data.ravel(), atol=ATOL)
    np.testing.assert_allclose(b2.grad.data, z3.grad.data.ravel(), atol=ATOL)


def test_section3_zero_weights_and_sigmoid_give_log2():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 4))
    y = (rng.uniform(size=(7, 1)) > 0.5).astype(float)
    W = at.Tensor(np.zeros((4, 1)), requires_grad=True)
    p = (X @ W).sigmoid()
    bce = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert bce.item() == pytest.approx(0.693147180560, abs=ATOL)
