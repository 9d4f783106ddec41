"""The background document's worked example: five cars through the 3-3-2-1 tanh network.

The document handles biases by appending a column of ones to the input and to every hidden
activation, each weight matrix carrying the biases as its last row ("bias-row layout").  The
numbers are those of ``shared/seed-examples.md`` section 1; tests, ``autotensor compare
--example seed``, ``autotensor graph --example seed`` and the benchmarks all start here.
"""
from __future__ import annotations

import numpy as np

import autotensor as at

# Inputs already normalised: km (z-score), fuel (-1 diesel / +1 petrol), age (z-score).
X = np.array([[1.4, -1.0, 0.4], [0.4, -1.0, 0.1], [5.4, -1.0, 4.0], [1.5, -1.0, 1.0], [1.8, 1.0, 1.0]])
# Prices min-max normalised to [0, 1].
Y = np.array([[0.45], [0.8], [0.2], [0.5], [0.55]])
# Weights with the bias as the last row: shapes (3+1, 3), (3+1, 2), (2+1, 1).
W1 = np.array([[0.01, 0.05, 0.07], [0.2, 0.041, 0.11], [0.04, 0.56, 0.13], [0.1, 0.1, 0.1]])
W2 = np.array([[0.04, 0.78], [0.4, 0.45], [0.65, 0.23], [0.1, 0.1]])
W3 = np.array([[0.04], [0.41], [0.1]])
WEIGHTS = (W1, W2, W3)
LEARNING_RATE = 0.1


def with_ones_column(a: at.Tensor) -> at.Tensor:
    """[a, 1]: the document's bias trick, so that ``[a, 1] @ W`` adds W's last row as bias."""
    return at.concatenate([a, np.ones((a.shape[0], 1))], axis=1)


def forward(weights: tuple[at.Tensor, ...], x: np.ndarray = X) -> tuple[at.Tensor, list[at.Tensor]]:
    """yhat = tanh([tanh([tanh([X,1] W1), 1] W2), 1] W3), and the pre-activations z of each layer."""
    a: at.Tensor = at.Tensor(x)
    pre_activations = []
    for W in weights:
        z = with_ones_column(a) @ W
        pre_activations.append(z)
        a = z.tanh()
    return a, pre_activations


def cost(yhat: at.Tensor, y: np.ndarray = Y) -> at.Tensor:
    """The document's cost J = sum(0.5 * (y - yhat)^2): no 1/n, no regularisation."""
    return (0.5 * (y - yhat) ** 2).sum()
