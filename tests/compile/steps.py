"""The training step the compile tests run: zero the gradients, loss, backward, SGD update."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

import autotensor as at
import nn


def sgd_step(model: nn.Module, lr: float = 0.1,
             loss: Callable[[at.Tensor, np.ndarray], at.Tensor] = nn.mse) -> Callable[[np.ndarray, np.ndarray], at.Tensor]:
    """One SGD training step of ``model`` on a batch ``(X, y)``, returning the loss."""
    optimiser = nn.optim.SGD(model.parameters(), lr=lr)

    def step(X: np.ndarray, y: np.ndarray) -> at.Tensor:
        optimiser.zero_grad()
        cost = loss(model(X), y)
        cost.backward()
        optimiser.step()
        return cost

    return step
