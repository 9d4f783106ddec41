"""Checking gradients by finite differences (document 000, chapter 7).

The documents check their hand-derived gradients against central differences of the cost and
report ``||analytic - numeric|| / ||analytic + numeric||``; these are those two tools, for any
model with ``parameters()`` (arrays changed in place) and ``loss(X, y)``.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class _HasLoss(Protocol):
    def parameters(self) -> list[np.ndarray]: ...

    def loss(self, X: object, y: object) -> float: ...


def numerical_gradients(model: _HasLoss, X: object, y: object, h: float = 1e-4) -> list[np.ndarray]:
    """Central differences ``(J(w + h) - J(w - h)) / (2h)`` for every parameter element.

    Perturbs ``model.parameters()`` in place, one element at a time, and restores each value.
    """
    grads: list[np.ndarray] = []
    for p in model.parameters():
        g = np.empty(p.shape, dtype=np.float64)
        for idx in np.ndindex(p.shape):
            original = p[idx]
            try:
                p[idx] = original + h
                j_plus = model.loss(X, y)
                p[idx] = original - h
                j_minus = model.loss(X, y)
            finally:
                p[idx] = original
            g[idx] = (j_plus - j_minus) / (2.0 * h)
        grads.append(g)
    return grads


def _flatten(arrays: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    if isinstance(arrays, np.ndarray):
        return arrays.ravel().astype(np.float64, copy=False)
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def relative_error(a: np.ndarray | Sequence[np.ndarray],
                   n: np.ndarray | Sequence[np.ndarray]) -> float:
    """``||a - n|| / ||a + n||`` over all parameters at once (document 000's metric).

    ``a`` and ``n`` are arrays or lists of arrays (e.g. analytic and numeric gradients). Two
    all-zero gradients agree perfectly (0.0).
    """
    va, vn = _flatten(a), _flatten(n)
    if va.shape != vn.shape:
        raise ValueError(f"relative_error: {va.size} analytic values but {vn.size} numeric ones")
    num = float(np.linalg.norm(va - vn))
    den = float(np.linalg.norm(va + vn))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den
