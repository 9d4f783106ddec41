"""The backprop autograd derived, beside the documents' formulas.

``at.compile`` writes a training step out as straight-line numpy: the same network's forward
pass, every derivative rule the backward pass applied, the update.  For an ``nn.MLP`` its name
scopes give the lines the documents' names (``z2``, ``a2``, ``delta2``, ``dW1`` ...), so the
code can be read against the hand derivation line by line: :func:`derived_code` puts each
formula of the documents right above the line of generated code that computes it.
"""
from __future__ import annotations

import re

import numpy as np

import autotensor as at
from nn.backprop.autograd_pass import autograd_loss
from nn.layers import MLP
from nn.optim import SGD

# The documents' formulas (000 and 003), in their 1-based numbering: layer l's weights W^(l)
# map a^(l) to z^(l+1) = a^(l) W^(l) + b^(l), and delta^(l) = dJ/dz^(l).
OUTPUT_DELTA = {
    "half_sse": "δ^({k}) = -(y - a^({k})) ⊙ f'(z^({k}))        the output delta (cost ½ Σ (y - ŷ)²)",
    "mse": "δ^({k}) = (2/n) (a^({k}) - y) ⊙ f'(z^({k}))      the output delta (mean squared error)",
    "bce": "δ^({k}) = (a^({k}) - y) / n                     the output delta (cross-entropy, sigmoid)",
    "softmax_cross_entropy": "δ^({k}) = (softmax(z^({k})) - y) / n            the output delta (softmax cross-entropy)",
}
HIDDEN_DELTA = "δ^({k}) = (δ^({next}) W^({k})ᵀ) ⊙ f'(z^({k}))    a hidden layer's delta"
WEIGHT_GRADIENT = "∂J/∂W^({l}) = a^({l})ᵀ δ^({next})"
BIAS_GRADIENT = "∂J/∂b^({l}) = Σ_rows δ^({next})"
UPDATE = "W^({l}) ← W^({l}) - α ∂J/∂W^({l})"


def derived_code(mlp: MLP, X: np.ndarray, y: np.ndarray, loss: str = "half_sse", l2: float = 0.0,
                 lr: float = 0.1) -> str:
    """The generated code of one SGD training step of ``mlp``, each of the documents' formulas
    above the line that computes it.  Runs one (traced) step on copies of the weights."""
    twin = MLP(mlp.sizes, mlp.activation, mlp.output_activation,
               weights=[(W.data.copy(), b.data.copy()) for W, b in zip(mlp.parameters()[0::2], mlp.parameters()[1::2])])
    optimiser = SGD(twin.parameters(), lr=lr)

    @at.compile
    def step(X: np.ndarray, y: np.ndarray) -> at.Tensor:
        optimiser.zero_grad()
        cost = autograd_loss(twin, X, y, loss, l2)
        cost.backward()
        optimiser.step()
        return cost

    step(X, y)
    return annotate(step.source, loss)


def annotate(source: str, loss: str) -> str:
    """``source`` with the documents' formula above each line defining a delta, a weight or bias
    gradient, or updating a weight."""
    deltas = [int(k) for k in re.findall(r"^\s+delta(\d+) = ", source, re.M)]
    last = max(deltas, default=0)
    lines = []
    for line in source.splitlines():
        formula = _formula(line, last, loss)
        if formula:
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f"{indent}#   the documents: {formula}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _formula(line: str, last: int, loss: str) -> str | None:
    if match := re.match(r"\s+delta(\d+) = ", line):
        k = int(match.group(1))
        return OUTPUT_DELTA[loss].format(k=k) if k == last else HIDDEN_DELTA.format(k=k, next=k + 1)
    if match := re.match(r"\s+dW(\d+) = ", line):
        l = int(match.group(1))  # noqa: E741 - the documents' layer index
        return WEIGHT_GRADIENT.format(l=l, next=l + 1)
    if match := re.match(r"\s+db(\d+) = ", line):
        l = int(match.group(1))  # noqa: E741
        return BIAS_GRADIENT.format(l=l, next=l + 1)
    if match := re.match(r"\s+subtract\(W(\d+), \w+, W\1\)", line):
        return UPDATE.format(l=match.group(1))
    return None
