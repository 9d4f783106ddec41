"""Loss functions: a scalar Tensor measuring how far predictions are from targets.

Every loss takes the prediction first (a Tensor from the model) and the target second (an
array or Tensor; targets are never differentiated in practice, but may be).  Prediction and
target must have the same shape: numpy would silently broadcast ``(n, 1)`` against ``(n,)``
into an ``(n, n)`` matrix, a classic way to train on nonsense, so that is refused.

============================  ================================================================
``half_sse``                  ``0.5 * sum((y - yhat)^2)``: the documents' cost J (no 1/n)
``mse``                       ``mean((y - yhat)^2)`` over all elements
``binary_cross_entropy``      ``-mean(y log p + (1 - y) log(1 - p))`` from probabilities p
``bce_with_logits``           the same from logits z, as ``mean(softplus(z) - y z)``
``softmax_cross_entropy``     ``-mean over rows of log_softmax(z)[target]``
``l2_penalty``                ``(lambda / 2) * sum(W^2)`` over weight matrices (not biases)
============================  ================================================================
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import autotensor as at
from nn.module import Module, as_parameter_list

__all__ = [
    "LOSSES", "binary_cross_entropy", "binary_cross_entropy_with_logits", "get_loss", "half_sse",
    "l2_penalty", "mse", "softmax_cross_entropy",
]

# Probabilities are kept this far from 0 and 1 so log never sees 0 (log(1e-12) ~ -27.6) -- or
# further in float32 and float16, where 1 - 1e-12 rounds to 1 (see _probability_floor).
PROBABILITY_FLOOR = 1e-12


def _pair(name: str, prediction: Any, target: Any) -> tuple[at.Tensor, Any]:
    prediction = prediction if isinstance(prediction, at.Tensor) else at.Tensor(prediction)
    target_shape = np.shape(target.data if isinstance(target, at.Tensor) else target)
    if target_shape != prediction.shape:
        raise at.ShapeError(
            f"{name}: prediction has shape {prediction.shape} but target has shape {target_shape}; "
            f"they must match (reshape the target, e.g. y.reshape(-1, 1))"
        )
    if not isinstance(target, at.Tensor):
        target = at.Tensor(target, dtype=prediction.dtype)  # a constant of the prediction's dtype
    return prediction, target


def half_sse(yhat: Any, y: Any) -> at.Tensor:
    """J = 0.5 * sum((y - yhat)^2), the cost of the background document (summed, not averaged).

    Its gradient is ``dJ/dyhat = yhat - y``; the document divides by the number of examples in
    the update instead (``W <- W - lr * (1/n) * dJ/dW``).
    """
    yhat, y = _pair("half_sse", yhat, y)
    diff = yhat - y
    return 0.5 * (diff * diff).sum()


def mse(yhat: Any, y: Any) -> at.Tensor:
    """Mean squared error over all elements: mean((y - yhat)^2)."""
    yhat, y = _pair("mse", yhat, y)
    diff = yhat - y
    return (diff * diff).mean()


def binary_cross_entropy(p: Any, y: Any) -> at.Tensor:
    """-mean(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1].

    p is clipped to [floor, 1 - floor] first, so a saturated output gives a large finite loss
    instead of inf (and no gradient through the clipped elements): floor is 1e-12 in float64
    (a loss of 27.63 at most per element) and the dtype's resolution in lower precisions
    (1.19e-7 in float32, at most 15.9).  Prefer :func:`binary_cross_entropy_with_logits` when
    the logits are at hand.
    """
    p, y = _pair("binary_cross_entropy", p, y)
    floor = _probability_floor(p.dtype)
    p = p.clip(floor, 1.0 - floor)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def _probability_floor(dtype: np.dtype) -> float:
    """1e-12, or the dtype's machine epsilon where that is coarser: 1 - 1e-12 is 1 in float32."""
    return max(PROBABILITY_FLOOR, float(np.finfo(dtype).eps)) if dtype.kind == "f" else PROBABILITY_FLOOR


def binary_cross_entropy_with_logits(logits: Any, y: Any) -> at.Tensor:
    """Binary cross-entropy of ``sigmoid(logits)``, computed from the logits z.

    -(y log s(z) + (1-y) log(1 - s(z))) simplifies to softplus(z) - y z, finite for any z
    (at z = +-1000 too); its gradient is (s(z) - y) / n, the documents' ``h(x) - y``.
    """
    logits, y = _pair("binary_cross_entropy_with_logits", logits, y)
    return (logits.softplus() - y * logits).mean()


def softmax_cross_entropy(logits: Any, targets: Any) -> at.Tensor:
    """Mean over the batch of -log softmax(logits)[target class].

    ``logits`` has shape (n, classes).  ``targets`` is either integer class indices of shape
    (n,) or one-hot (or any probability) rows of shape (n, classes); both give the same value
    for the same classes.  Computed with ``log_softmax``, so large logits are safe.
    """
    logits = logits if isinstance(logits, at.Tensor) else at.Tensor(logits)
    if logits.ndim != 2:
        raise at.ShapeError(f"softmax_cross_entropy: logits must have shape (n, classes), got {logits.shape}")
    n, classes = logits.shape
    raw = targets.data if isinstance(targets, at.Tensor) else targets
    if not hasattr(raw, "shape") or not hasattr(raw, "dtype"):
        raw = np.asarray(raw)  # lists; an array argument of a compiled step stays traced
    log_probabilities = logits.log_softmax(axis=1)
    if raw.shape == (n,) and raw.dtype.kind in "iu":
        if raw.size and (raw.min() < 0 or raw.max() >= classes):
            raise ValueError(
                f"softmax_cross_entropy: class indices must lie in [0, {classes}), "
                f"got values from {raw.min()} to {raw.max()}"
            )
        return -log_probabilities[np.arange(n), raw].mean()
    if raw.shape == (n, classes):
        weights = targets if isinstance(targets, at.Tensor) else raw.astype(logits.dtype)
        return -(weights * log_probabilities).sum(axis=1).mean()
    raise at.ShapeError(
        f"softmax_cross_entropy: targets must be integer indices of shape ({n},) or rows of shape "
        f"{(n, classes)}, got shape {raw.shape} and dtype {raw.dtype}"
    )


def l2_penalty(params: Module | Iterable[at.Tensor], lam: float) -> at.Tensor:
    """(lam / 2) * sum of squared weights over the weight *matrices* (ndim >= 2) only.

    Biases are not penalised, as in the document (chapter 8, with the sign corrected: the term
    is added to J).  Its gradient is ``lam * W``, the documents' regularisation term.
    """
    weights = [p for p in as_parameter_list(params) if p.ndim >= 2]
    total: at.Tensor = at.Tensor(0.0)
    for W in weights:
        total = total + (W * W).sum()
    return (0.5 * lam) * total


# Names shared with nn.backprop and the command line.
LOSSES: dict[str, Callable[[Any, Any], at.Tensor]] = {
    "half_sse": half_sse,
    "mse": mse,
    "bce": binary_cross_entropy,
    "bce_with_logits": binary_cross_entropy_with_logits,
    "softmax_cross_entropy": softmax_cross_entropy,
}


def get_loss(name: str) -> Callable[[Any, Any], at.Tensor]:
    """The loss function called ``name`` (see :data:`LOSSES`)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
