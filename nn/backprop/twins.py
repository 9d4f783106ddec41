"""The two networks side by side: the same weights as an ``nn.MLP`` and as a ``ManualMLP``.

A comparison needs them to start equal and to be read in the same terms: ``nn.MLP`` keeps
``W`` and ``b`` apart, while the documents (and ``ManualMLP(bias_layout="row")``) keep the bias
as the last row of each matrix.  These helpers build one network from the other, convert the
bias-row layout to ``[W1, b1, W2, b2, ...]``, and give one SGD training step of each.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import autotensor as at
from nn.backprop import seed_example
from nn.backprop.autograd_pass import autograd_loss
from nn.backprop.backward import ManualResult
from nn.backprop.network import ManualMLP
from nn.layers import MLP, split_bias_row
from nn.optim import SGD


def manual_like(mlp: MLP, loss: str = "half_sse", l2: float = 0.0,
                bias_layout: str = "separate") -> ManualMLP:
    """A ``ManualMLP`` with copies of ``mlp``'s weights, activations, and the given cost."""
    return ManualMLP.from_parameters(
        [p.data for p in mlp.parameters()], activation=mlp.activation,
        output_activation=mlp.output_activation, loss=loss, l2=l2, bias_layout=bias_layout)


def row_to_separate(row_arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Bias-row matrices ``[W1_row, W2_row, ...]`` -> ``[W1, b1, W2, b2, ...]`` (copies).

    Works for weights and for their gradients alike: the gradient of the bias row is ``dJ/db``.
    """
    out: list[np.ndarray] = []
    for matrix in row_arrays:
        out.extend(split_bias_row(matrix))
    return out


def seed_pair(loss: str = "half_sse") -> tuple[MLP, ManualMLP]:
    """The documents' five-car network both ways: ``nn.MLP`` with the split weights and a
    ``ManualMLP`` in the documents' own bias-row layout, both tanh throughout."""
    mlp = MLP([3, 3, 2, 1], "tanh", "tanh", weights=[split_bias_row(W) for W in seed_example.WEIGHTS])
    manual = ManualMLP([W.copy() for W in seed_example.WEIGHTS], activation="tanh",
                       output_activation="tanh", loss=loss, bias_layout="row")
    return mlp, manual


def separate_grads(manual: ManualMLP, result: ManualResult) -> list[np.ndarray]:
    """The manual network's gradients as ``[dJ/dW1, dJ/db1, ...]``, whatever its layout."""
    return row_to_separate(result.grads) if manual.bias_layout == "row" else list(result.grads)


def separate_params(manual: ManualMLP) -> list[np.ndarray]:
    """The manual network's weights as ``[W1, b1, W2, b2, ...]``, whatever its layout."""
    return row_to_separate(manual.weights) if manual.bias_layout == "row" else list(manual.parameters())


def step_functions(mlp: MLP, manual: ManualMLP, X: np.ndarray, y: np.ndarray, loss: str,
                   l2: float, lr: float, compiled: bool = False) -> tuple[Callable[[], None], Callable[[], None]]:
    """One training step each: forward, cost, backward, SGD update ``p <- p - lr * g``; with
    ``compiled`` the autograd step goes through ``at.compile`` (traced at its first call)."""
    optimiser = SGD(mlp.parameters(), lr=lr)

    def autograd_step() -> None:
        optimiser.zero_grad()
        autograd_loss(mlp, X, y, loss, l2).backward()
        optimiser.step()

    def manual_step() -> None:
        manual.step(manual.backward(X, y).grads, lr)

    return (at.compile(autograd_step) if compiled else autograd_step), manual_step


def compiled_gradients(mlp: MLP, X: np.ndarray, y: np.ndarray, loss: str, l2: float) -> list[np.ndarray]:
    """The gradients of the cost by a compiled pass, read after a replay (the first call traces)."""

    @at.compile
    def gradients() -> None:
        mlp.zero_grad()
        autograd_loss(mlp, X, y, loss, l2).backward()

    gradients()
    gradients()
    return [np.array(p.grad.data) for p in mlp.parameters()]
