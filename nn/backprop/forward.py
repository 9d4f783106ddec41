"""The forward pass of the hand-written network, keeping what the backward pass needs.

``z_l = a_{l-1} @ W_l + b_l`` and ``a_l = f_l(z_l)``, layer by layer, in place wherever an
array is not needed again: the backward pass reads each layer's matmul input (for ``dJ/dW``)
and each activation (for ``f'``, computed from ``a``), never the pre-activations - except the
output's logit when the cost is computed from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from nn.backprop.activations import activate
from nn.backprop.costs import keeps_logits

if TYPE_CHECKING:
    from nn.backprop.network import ManualMLP


class ForwardPass(NamedTuple):
    """What one forward pass keeps, layer by layer."""

    inputs: list[np.ndarray]  # each layer's matmul input: a_{l-1}, or [a_{l-1}, 1] with bias rows
    activations: list[np.ndarray]  # a_0 = X, a_1, ..., a_L = yhat (without the appended ones)
    logits: np.ndarray | None  # z_L, when the cost is computed from it (BCE of a sigmoid output)


def forward_pass(net: ManualMLP, X: np.ndarray) -> ForwardPass:
    """Run ``X`` (already checked, shape ``(N, n_0)``) through ``net``.

    In the bias-row layout the matmul input of a layer is ``[a, 1]``: the activation is
    written straight into the first columns of a buffer whose last column holds the ones, so
    appending the bias unit costs no extra copy.
    """
    L = len(net.weights)
    row = net.has_bias_rows
    keep_logits = keeps_logits(net.loss_name, net.output_activation)
    if row:
        a_in = np.empty((X.shape[0], X.shape[1] + 1), dtype=np.result_type(X, net.weights[0]))
        a_in[:, :-1] = X
        a_in[:, -1] = 1.0
    else:
        a_in = X
    inputs: list[np.ndarray] = []
    activations: list[np.ndarray] = [X]
    z_out: np.ndarray | None = None
    for l, W in enumerate(net.weights):
        inputs.append(a_in)
        z = a_in @ W  # z^(l+2) = a^(l+1) . W_{l+1} (row layout: [a, 1] picks up the bias row)
        if not row:
            z += net.biases[l]
        if l == L - 1:
            if keep_logits:
                z_out = z
                a = activate(net.output_activation, z)
            else:
                a = activate(net.output_activation, z, out=z)
        elif row:
            a_in = np.empty((z.shape[0], z.shape[1] + 1), dtype=z.dtype)
            a_in[:, -1] = 1.0
            a = activate(net.activation, z, out=a_in[:, :-1])
        else:
            a = a_in = activate(net.activation, z, out=z)
        activations.append(a)
    return ForwardPass(inputs, activations, z_out)
