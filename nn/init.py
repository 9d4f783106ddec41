"""Weight initialisers: starting values that keep signals at a steady scale through the layers.

With ``z = x @ W`` and independent inputs of unit variance, ``Var(z) = fan_in * Var(W)``.

* **Xavier/Glorot** (for tanh and sigmoid, which are linear near 0) balances the forward and
  the backward pass: ``Var(W) = 2 / (fan_in + fan_out)``.  The uniform form draws from
  ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.
* **He/Kaiming** (for ReLU, which zeroes half its inputs) doubles the forward variance:
  ``Var(W) = 2 / fan_in``; the normal form draws from ``N(0, 2 / fan_in)``.

Biases start at zero.  Every initialiser takes a ``numpy.random.Generator`` so a whole model
is reproducible from one seed; :func:`rng` turns a seed (or None, or a Generator) into one.

A convolution's filters ``(out, in, kh, kw)`` are drawn with ``shape=`` and the fans of a filter,
``fan_in = in * kh * kw`` and ``fan_out = out * kh * kw`` (PyTorch's convention).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["INITIALISERS", "he_normal", "he_uniform", "initialiser", "rng", "xavier_normal",
           "xavier_uniform", "zeros"]

Seed = int | np.random.Generator | None
Initialiser = Callable[..., np.ndarray]  # (fan_in, fan_out, generator, shape=None) -> weights
Shape = tuple[int, ...] | None


def rng(seed: Seed) -> np.random.Generator:
    """A Generator from a seed; a Generator is passed through, so layers can share one stream."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def xavier_uniform(fan_in: int, fan_out: int, generator: np.random.Generator, shape: Shape = None) -> np.ndarray:
    """(fan_in, fan_out) weights (or ``shape``) from U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return generator.uniform(-limit, limit, size=shape or (fan_in, fan_out))


def xavier_normal(fan_in: int, fan_out: int, generator: np.random.Generator, shape: Shape = None) -> np.ndarray:
    """(fan_in, fan_out) weights from N(0, 2 / (fan_in + fan_out))."""
    return generator.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape or (fan_in, fan_out))


def he_normal(fan_in: int, fan_out: int, generator: np.random.Generator, shape: Shape = None) -> np.ndarray:
    """(fan_in, fan_out) weights from N(0, 2 / fan_in)."""
    return generator.normal(0.0, np.sqrt(2.0 / fan_in), size=shape or (fan_in, fan_out))


def he_uniform(fan_in: int, fan_out: int, generator: np.random.Generator, shape: Shape = None) -> np.ndarray:
    """(fan_in, fan_out) weights from U(-a, a), a = sqrt(6 / fan_in) (variance 2 / fan_in)."""
    limit = np.sqrt(6.0 / fan_in)
    return generator.uniform(-limit, limit, size=shape or (fan_in, fan_out))


def zeros(fan_in: int, fan_out: int, generator: np.random.Generator, shape: Shape = None) -> np.ndarray:
    """All-zero weights: useful for checks (every unit of a layer stays identical in training)."""
    return np.zeros(shape or (fan_in, fan_out))


INITIALISERS: dict[str, Initialiser] = {
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


def initialiser(name: str) -> Initialiser:
    """The initialiser called ``name`` ("xavier" = Xavier uniform, "he" = He normal, ...)."""
    try:
        return INITIALISERS[name]
    except KeyError:
        raise ValueError(f"unknown initialiser {name!r}; choose one of {sorted(INITIALISERS)}") from None
