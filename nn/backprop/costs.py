"""The costs J of the hand-written network, the output delta each one starts backprop with, and
the L2 penalty.

Losses (``k`` outputs per example, ``N`` examples):

* ``"half_sse"``: ``J = 0.5 * sum((y - yhat)**2)``, no ``1/N`` (document 000); the update of that
  document then divides by ``N`` itself (``W <- W - lr * (1/N) * dJ/dW``).
* ``"mse"``: ``J = mean((y - yhat)**2)`` over all ``N*k`` elements; the output delta is the
  half-SSE one scaled by ``2/(N*k)``.
* ``"bce"``: mean binary cross-entropy over all ``N*k`` elements of the probabilities ``yhat``.
  With a sigmoid output ``f'(z) = yhat (1 - yhat)`` cancels the denominator of ``dJ/dyhat`` and
  ``delta_L = (yhat - y) / (N*k)`` (document 002's ``h(x) - y``); with another output activation
  the general ``(yhat - y) / (yhat (1 - yhat)) * f'(z) / (N*k)`` is used, which needs outputs
  strictly inside (0, 1). With a sigmoid output the cost is evaluated from the logit as
  ``softplus(z) - y z`` - the same number as ``-(y log yhat + (1-y) log(1-yhat))``, without
  ``log(0)`` when the sigmoid saturates.

* ``"softmax_cross_entropy"``: the multi-class cost of document 003's digits, one-hot rows ``y``,
  the network's ``k`` outputs taken as logits: ``J = -(1/N) sum_rows sum_j y_j log
  softmax(yhat)_j``, a mean over the ``N`` examples (not the ``N*k`` elements).  softmax's
  Jacobian and the log's ``1/p`` cancel: ``dJ/dyhat = (softmax(yhat) sum_j y_j - y) / N``, and
  for one-hot (or any probability) rows ``sum_j y_j = 1``, so with the digits' linear output
  layer (``yhat = z_L``) the output delta is the document's ``delta_L = (softmax(z_L) - y) / N``;
  another output activation multiplies it by ``f'(z_L)``.  The cost is computed from
  ``yhat - max`` (stable).

Optional L2 penalty: ``J += (l2/2) * sum(W**2)`` over the weight matrices only - never the biases,
so in the bias-row layout the last row of each matrix is excluded - and ``dJ/dW += l2 * W``
(document 000, chapter 8, with the sign corrected: the penalty is added, not subtracted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nn.backprop.activations import times_slope

if TYPE_CHECKING:
    from nn.backprop.network import ManualMLP

LOSSES: tuple[str, ...] = ("half_sse", "mse", "bce", "softmax_cross_entropy")


def keeps_logits(loss: str, output_activation: str) -> bool:
    """Whether the cost is computed from the output's logit ``z_L`` (BCE of a sigmoid output)."""
    return loss == "bce" and output_activation == "sigmoid"


def averaged_over(loss: str, shape: tuple[int, int]) -> int:
    """How many terms the cost's mean is taken over for outputs of ``shape`` (N, k): none for
    ``half_sse`` (1), the N examples for softmax cross-entropy, the N*k elements otherwise."""
    if loss == "half_sse":
        return 1
    if loss == "softmax_cross_entropy":
        return shape[0]
    return shape[0] * shape[1]


def loss_scale(loss: str, shape: tuple[int, int]) -> float:
    """The factor between the summed per-element cost derivatives and those of ``J``.

    ``half_sse`` sums and does not divide; ``mse`` is ``(1/(N*k)) sum (y - yhat)^2`` whose
    derivative carries a 2; ``bce`` is a mean over the ``N*k`` elements, softmax cross-entropy
    over the ``N`` examples.
    """
    return (2.0 if loss == "mse" else 1.0) / averaged_over(loss, shape)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax along the last axis, from ``z - max``: no overflow, no log(0)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def summed_cost(loss: str, out_name: str, yhat: np.ndarray, y: np.ndarray,
                z_out: np.ndarray | None) -> float:
    """Sum over all elements of the per-element cost, before any ``1/(N*k)``."""
    if loss in ("half_sse", "mse"):
        r = (y - yhat).ravel()
        s = float(r @ r)
        return 0.5 * s if loss == "half_sse" else s
    if loss == "softmax_cross_entropy":  # the outputs are the logits (z_L itself for the digits)
        return float(-np.sum(y * _log_softmax(yhat)))
    if out_name == "sigmoid" and z_out is not None:
        # -(y log p + (1-y) log(1-p)) with p = sigmoid(z) equals softplus(z) - y z.
        return float(np.sum(np.logaddexp(0.0, z_out) - y * z_out))
    return float(-np.sum(y * np.log(yhat) + (1.0 - y) * np.log1p(-yhat)))


def output_delta_unscaled(loss: str, out_name: str, yhat: np.ndarray,
                          y: np.ndarray) -> np.ndarray:
    """Per-element ``dJ/dz`` of the output layer before the loss's ``loss_scale`` factor.

    half-SSE and MSE: ``-(y - a) * f'(z)`` (document 000's delta^(4); the slides' output delta).
    BCE + sigmoid:    ``a - y``             (the sigmoid's slope cancels dJ/da's denominator).
    BCE otherwise:    ``(a - y) / (a (1 - a)) * f'(z)``.
    softmax cross-entropy: ``(softmax(a) sum_j y_j - y) * f'(z)``: for one-hot rows and the
    digits' linear output, ``softmax(z) - y``.
    Returns a new array.
    """
    if loss == "softmax_cross_entropy":
        delta = np.exp(_log_softmax(yhat)) * y.sum(axis=-1, keepdims=True) - y
        return times_slope(delta, out_name, yhat)
    delta = yhat - y  # -(y - a)
    if loss == "bce":
        if out_name == "sigmoid":
            return delta
        np.divide(delta, yhat * (1.0 - yhat), out=delta)
    return times_slope(delta, out_name, yhat)


def _penalised(W: np.ndarray, bias_row: bool) -> np.ndarray:
    """The part of ``W`` the penalty covers: all of it, or all but the bias row (a view)."""
    return W[:-1] if bias_row else W


def penalty(net: ManualMLP) -> float:
    """``(l2/2) * sum(W**2)`` over weight matrices, bias rows excluded."""
    if net.l2 == 0.0:
        return 0.0
    total = 0.0
    for W in net.weights:
        Wp = _penalised(W, net.has_bias_rows)
        total += float(np.vdot(Wp, Wp))
    return 0.5 * net.l2 * total


def add_penalty_gradient(net: ManualMLP, layer: int, grad_W: np.ndarray) -> None:
    """``dJ/dW += l2 * W`` in place (document 000, ch. 8, sign corrected), bias row left alone."""
    if net.l2:
        weights_part = _penalised(grad_W, net.has_bias_rows)
        weights_part += net.l2 * _penalised(net.weights[layer], net.has_bias_rows)


def cost_from_sum(net: ManualMLP, summed: float, shape: tuple[int, int]) -> float:
    """``J`` from the summed per-element cost of outputs of ``shape``: a mean unless half-SSE
    (see :func:`averaged_over`), plus the L2 penalty."""
    return summed / averaged_over(net.loss_name, shape) + penalty(net)


def cost(net: ManualMLP, yhat: np.ndarray, y: np.ndarray, z_out: np.ndarray | None) -> float:
    """``J`` (including the L2 term) of predictions ``yhat`` (logits ``z_out`` if kept) for ``y``."""
    summed = summed_cost(net.loss_name, net.output_activation, yhat, y, z_out)
    return cost_from_sum(net, summed, yhat.shape)
