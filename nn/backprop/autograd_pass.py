"""The same pass by autograd: an ``nn.MLP``'s cost, gradients and per-layer deltas.

Reading the deltas out of autograd
----------------------------------
The documents' backprop is organised around the delta of each layer, ``delta = dJ/dz`` for the
layer's pre-activation ``z = a_prev @ W + b``:

    output layer   delta_L = -(y - a_L) * f'(z_L)                  (half-SSE cost)
    hidden layer   delta_l = (delta_{l+1} @ W_{l+1}.T) * f'(z_l)
    weights        dJ/dW_l = a_{l-1}.T @ delta_l,    biases  dJ/db_l = column sums of delta_l

Autograd never forms these on purpose - they are just the gradients flowing through the ``z``
nodes of the graph, and the engine frees non-leaf gradients once used. ``nn.MLP(...,
record_deltas=True)`` asks it to keep them: its forward calls ``retain_grad()`` on each
Linear layer's output ``z`` and lists those tensors in ``mlp.pre_activations`` (first layer
first). After ``loss.backward()``::

    deltas = [np.asarray(z.grad) for z in mlp.pre_activations]

``deltas[l]`` (shape ``(N, n_l)``) is ``ManualResult.deltas[l]`` and the documents'
``delta^(l+2)``: for the car network 3-3-2-1, ``deltas[0], deltas[1], deltas[2]`` are the
documents' ``delta^(2), delta^(3), delta^(4)``. The bias-row layout of the documents does not
change the deltas: ``z = [a, 1] @ W_row`` equals ``a @ W + b`` with ``(W, b) =
split_bias_row(W_row)``, and the gradient of the bias row is ``dJ/db``. :func:`autograd_backward`
does all this for any ``nn.MLP``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import autotensor as at
from nn.layers import MLP
from nn.losses import get_loss, l2_penalty


@dataclass
class AutogradResult:
    """What one autograd forward/backward pass of an ``nn.MLP`` produced, as ndarrays.

    ``grads`` follows ``mlp.parameters()`` (``[W0, b0, W1, b1, ...]``); ``deltas[l]`` is
    ``dJ/dz`` of layer ``l`` (the documents' ``delta^(l+2)``), read from the retained gradients
    of ``mlp.pre_activations``.
    """

    loss: float
    grads: list[np.ndarray]
    deltas: list[np.ndarray]
    yhat: np.ndarray


def autograd_loss(mlp: MLP, X: np.ndarray, y: np.ndarray, loss: str = "half_sse",
                  l2: float = 0.0) -> at.Tensor:
    """The cost ``J`` as a Tensor: ``loss(mlp(X), y)`` plus ``nn.losses.l2_penalty`` when ``l2``.

    ``loss`` is one of :data:`nn.backprop.LOSSES` ("half_sse", "mse", "bce"), with the same
    definition as ``ManualMLP``; the penalty ``(l2/2) sum W^2`` covers weight matrices only, as
    the manual network's does.
    """
    return _cost(mlp, mlp(X), y, loss, l2)


def _cost(mlp: MLP, yhat: at.Tensor, y: np.ndarray, loss: str, l2: float) -> at.Tensor:
    cost = get_loss(loss)(yhat, y)
    if l2:
        cost = cost + l2_penalty(mlp, l2)
    return cost


def autograd_backward(mlp: MLP, X: np.ndarray, y: np.ndarray, loss: str = "half_sse",
                      l2: float = 0.0) -> AutogradResult:
    """Gradients and per-layer deltas of ``J`` by autograd (``loss.backward()``).

    The parameter gradients are cleared first, so nothing accumulates from an earlier pass;
    ``record_deltas`` is switched on for this pass only (see the module docstring).
    """
    recording = mlp.record_deltas
    mlp.record_deltas = True
    try:
        mlp.zero_grad()
        yhat = mlp(X)
        cost = _cost(mlp, yhat, y, loss, l2)
        cost.backward()  # the line that replaces the hand-written backward pass
        deltas = [np.array(np.asarray(z.grad)) for z in mlp.pre_activations]  # dJ/dz per layer
    finally:
        mlp.record_deltas = recording
    grads = [np.array(np.asarray(p.grad)) for p in mlp.parameters()]  # dJ/dW0, dJ/db0, ...
    return AutogradResult(loss=cost.item(), grads=grads, deltas=deltas, yhat=np.array(yhat.data))
