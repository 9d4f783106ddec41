"""Optimisers: turn the gradients in ``.grad`` into parameter updates.

``step()`` edits every parameter in place (``p -= ...``) under ``autotensor.no_grad()``: the
Parameter objects stay the same (a model and its optimiser keep sharing them) and the engine's
version counter records the edit, so a backward pass through a graph built before the step
refuses to run with stale values.  Parameters whose ``.grad`` is None are skipped.

Weight decay is the documents' L2 term: ``lambda * W`` is added to the gradient of each weight
*matrix* (ndim >= 2); biases are not decayed, matching :func:`nn.losses.l2_penalty` and
``nn.backprop``.  (PyTorch decays every parameter it is given.)

The update rules run on the raw ndarrays with in-place numpy ufuncs, so a step costs about what
hand-written numpy would.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

import autotensor as at
from nn.module import Module, as_parameter_list

__all__ = ["Adam", "CosineSchedule", "Optimizer", "SGD"]


class Optimizer:
    """Holds the parameters and the learning rate ``lr`` (an attribute a schedule may change)."""

    def __init__(self, params: Module | Iterable[at.Tensor], lr: float, weight_decay: float = 0.0) -> None:
        self.params = as_parameter_list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got no parameters to optimise")
        for index, p in enumerate(self.params):
            if not isinstance(p, at.Tensor) or not p.requires_grad or not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: parameter {index} must be a leaf Tensor with requires_grad=True"
                )
        if not (lr > 0 and math.isfinite(lr)):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr}")
        if not weight_decay >= 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0, got {weight_decay}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self._decays = [weight_decay > 0 and p.ndim >= 2 for p in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (the next backward starts from nothing)."""
        for p in self.params:
            p.grad = None

    def _gradients(self) -> list[tuple[int, at.Tensor, np.ndarray]]:
        """(index, parameter, gradient array) for each parameter that has a gradient, weight
        decay added (into a new array: ``.grad`` itself is never modified)."""
        found = []
        decay = self.weight_decay
        for index, (p, decays) in enumerate(zip(self.params, self._decays)):
            g = p.grad
            if g is None:
                continue
            g = g.data if isinstance(g, at.Tensor) else np.asarray(g)
            found.append((index, p, g + decay * p.data if decays else g))
        return found

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent, optionally with momentum.

    With ``g = dJ/dp (+ weight_decay * p for weight matrices)``::

        momentum == 0:  p <- p - lr * g
        momentum  > 0:  v <- momentum * v + g;  p <- p - lr * v      (v starts at 0)

    the PyTorch convention (equal to the "v <- mu v - lr g; p <- p + v" form for a fixed lr).
    """

    def __init__(
        self, params: Module | Iterable[at.Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p.data) for p in self.params] if momentum else []

    def step(self) -> None:
        lr, momentum = self.lr, self.momentum
        with at.no_grad():
            for index, p, g in self._gradients():
                if momentum:
                    v = self.velocity[index]
                    v *= momentum
                    v += g
                    g = v
                p -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): a step per parameter scaled by running gradient statistics.

    With ``g`` as for SGD and ``t`` the step number (from 1)::

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)

    Weight decay is added to the gradient (classic Adam with L2, not AdamW).
    """

    def __init__(
        self, params: Module | Iterable[at.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"Adam: eps must be positive, got {eps}")
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        beta1, beta2 = self.betas
        self.t += 1
        # Fold both bias corrections into the step size: lr * sqrt(1 - b2^t) / (1 - b1^t),
        # with eps scaled to match, so the update is exactly the formula above.
        correction2 = math.sqrt(1 - beta2 ** self.t)
        step_size = self.lr * correction2 / (1 - beta1 ** self.t)
        eps = self.eps * correction2
        with at.no_grad():
            for index, p, g in self._gradients():
                m, v = self.m[index], self.v[index]
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * (g * g)
                denominator = np.sqrt(v)
                denominator += eps
                p -= step_size * (m / denominator)


class CosineSchedule:
    """Learning rate from ``lr_max`` down to ``lr_min`` along half a cosine over ``total`` steps.

    Call ``step()`` once per epoch (or per update); it writes ``optimizer.lr``.  A late small
    learning rate lets Adam settle into the minimum instead of rattling around it.
    """

    def __init__(self, optimizer: Optimizer, total: int, lr_min: float = 0.0) -> None:
        if total < 1:
            raise ValueError(f"CosineSchedule: total must be >= 1, got {total}")
        self.optimizer = optimizer
        self.lr_max = optimizer.lr
        self.lr_min = float(lr_min)
        self.total = int(total)
        self.count = 0

    def step(self) -> float:
        """Advance one step and return the new learning rate."""
        self.count = min(self.count + 1, self.total)
        progress = self.count / self.total
        lr = self.lr_min + 0.5 * (self.lr_max - self.lr_min) * (1 + math.cos(math.pi * progress))
        self.optimizer.lr = lr
        return lr
