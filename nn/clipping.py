"""Gradient clipping: keep one bad batch from throwing the parameters far away.

``clip_grad_norm(params, max_norm)`` treats all gradients as one long vector g.  When its
Euclidean norm ||g|| exceeds ``max_norm``, every gradient is scaled by ``max_norm / ||g||`` (the
direction of the step is kept, only its length is capped); otherwise nothing changes.  As in
PyTorch's ``clip_grad_norm_``, 1e-6 is added to the norm in that ratio, so a clipped norm ends
just below ``max_norm``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

import autotensor as at
from nn.module import Module, as_parameter_list

__all__ = ["clip_grad_norm"]

_EPSILON = 1e-6


def clip_grad_norm(params: Module | Iterable[at.Tensor], max_norm: float) -> float:
    """Scale the gradients of ``params`` in place so that their joint L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping (useful to log).  Parameters without a gradient are
    skipped.  The norm is summed in float64 whatever the gradients' dtype.  A NaN or infinite
    norm raises ValueError and leaves the gradients as they were: no scaling can repair them
    (PyTorch would silently turn them into zeros or NaN).
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.integer, np.floating)):
        raise TypeError(f"clip_grad_norm: max_norm must be a number, got {type(max_norm).__name__}")
    if not max_norm > 0 or not math.isfinite(max_norm):
        raise ValueError(f"clip_grad_norm: max_norm must be a positive finite number, got {max_norm}")
    grads = [p.grad for p in as_parameter_list(params) if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(np.square(g.data, dtype=np.float64))) for g in grads))
    if not math.isfinite(total):
        raise ValueError(f"clip_grad_norm: the gradients' norm is {total}; no scaling can cap it (NaN or inf?)")
    scale = max_norm / (total + _EPSILON)
    if scale < 1:
        with at.no_grad():
            for g in grads:
                g *= scale
    return total
