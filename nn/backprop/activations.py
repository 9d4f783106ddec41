"""The activations of the hand-written network and their derivatives, in plain numpy.

``"tanh"``, ``"sigmoid"``, ``"relu"`` (sub-gradient 0 at 0, as the slides choose) and
``"identity"``, for the hidden layers and for the output separately.  Each derivative is
computed from the activation's output ``a`` (``1 - a**2``, ``a (1 - a)``, ``a > 0``, ``1``), so
the pre-activations need not be kept for the backward pass.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "identity")


def activate(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``f(z)`` written into ``out`` (which may be ``z`` itself, or a view of a wider array)."""
    if out is None:
        out = np.empty_like(z)
    if name == "tanh":
        return np.tanh(z, out=out)
    if name == "sigmoid":
        # Stable logistic: with e = exp(-|z|) in (0, 1], sigmoid(z) = 1/(1+e) for z >= 0 and
        # e/(1+e) for z < 0, so exp never overflows and small outputs keep full precision.
        e = np.exp(-np.abs(z))
        return np.divide(np.where(z >= 0, 1.0, e), 1.0 + e, out=out)
    if name == "relu":
        return np.maximum(z, 0.0, out=out)
    if out is not z:  # identity
        out[...] = z
    return out


def _slope(name: str, a: np.ndarray) -> np.ndarray | None:
    """``f'(z)`` expressed through ``a = f(z)``; ``None`` for the identity (a factor of one)."""
    if name == "tanh":
        s = a * a
        return np.subtract(1.0, s, out=s)  # tanh' = 1 - tanh(z)^2
    if name == "sigmoid":
        return a * (1.0 - a)  # sigmoid' = sigmoid(z) (1 - sigmoid(z))
    if name == "relu":
        return a > 0.0  # 1 where z > 0, else 0 (sub-gradient 0 at z = 0)
    return None


def times_slope(delta: np.ndarray, name: str, a: np.ndarray) -> np.ndarray:
    """``delta * f'(z)`` in place (``delta`` must be an array the caller owns)."""
    s = _slope(name, a)
    if s is not None:
        np.multiply(delta, s, out=delta)
    return delta
