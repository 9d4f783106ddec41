"""The slides' batch gradient-descent loop: backprop one example at a time, then accumulate.

For each example: a forward pass keeping every ``a``; the output delta; the hidden deltas by
``delta_l = (W_{l+1} delta_{l+1}) * f'(z_l)``; ``DeltaW_l += a_{l-1} delta_l^T`` and
``Deltab_l += delta_l``.  After the loop the sums are scaled as the loss requires (half-SSE:
not at all; MSE: ``2/(N*k)``; BCE: ``1/(N*k)``; softmax cross-entropy: ``1/N``) and the L2 term
is added.  Slow by design: it is
the reference for the vectorised :mod:`nn.backprop.backward`, equal to it up to round-off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nn.backprop.activations import activate, times_slope
from nn.backprop.backward import ManualResult, in_parameter_order
from nn.backprop.costs import (
    add_penalty_gradient, cost_from_sum, keeps_logits, loss_scale, output_delta_unscaled, summed_cost,
)

if TYPE_CHECKING:
    from nn.backprop.network import ManualMLP


def per_sample_backward(net: ManualMLP, X: np.ndarray, y: np.ndarray) -> ManualResult:
    """Cost, gradients and deltas of ``net`` on a checked batch, example by example."""
    n, L = X.shape[0], len(net.weights)
    row = net.has_bias_rows
    keep_logits = keeps_logits(net.loss_name, net.output_activation)
    acc_W = [np.zeros_like(W) for W in net.weights]  # DeltaW, initialised to zero
    acc_b = [np.zeros_like(b) for b in net.biases]  # Deltab (separate layout only)
    acts = [np.empty((n, width)) for width in net.sizes]
    deltas = [np.empty((n, width)) for width in net.sizes[1:]]
    summed = 0.0
    for i in range(n):
        # Forward pass for example i, as a 1-D row vector.
        a = [X[i]]
        z = X[i]
        for l, W in enumerate(net.weights):
            a_in = np.append(a[l], 1.0) if row else a[l]  # bias unit, row layout
            z = a_in @ W if row else a_in @ W + net.biases[l]
            name = net.output_activation if l == L - 1 else net.activation
            a.append(activate(name, z))
        summed += summed_cost(net.loss_name, net.output_activation, a[L], y[i], z if keep_logits else None)
        # Backward pass for example i.
        d = output_delta_unscaled(net.loss_name, net.output_activation, a[L], y[i])
        for l in range(L - 1, -1, -1):
            deltas[l][i] = d
            a_in = np.append(a[l], 1.0) if row else a[l]
            acc_W[l] += np.outer(a_in, d)  # DeltaW += a^(l+1) delta^(l+2)^T (x @ W layout)
            if not row:
                acc_b[l] += d  # Deltab += delta^(l+2)
            if l > 0:
                back = net.weights[l] @ d  # W_{l+1} delta^(l+2): one entry per input unit
                if row:
                    back = back[:-1]  # the bias unit's error is not propagated
                d = times_slope(back, net.activation, a[l])
        for l in range(L + 1):
            acts[l][i] = a[l]

    shape = (n, net.sizes[-1])
    scale = loss_scale(net.loss_name, shape)
    for l in range(L):
        deltas[l] *= scale
        acc_W[l] *= scale
        add_penalty_gradient(net, l, acc_W[l])
        if not row:
            acc_b[l] *= scale
    return ManualResult(loss=cost_from_sum(net, summed, shape), grads=in_parameter_order(acc_W, acc_b, row),
                        deltas=deltas, activations=acts, yhat=acts[-1])
