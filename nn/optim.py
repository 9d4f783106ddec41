"""Optimisers: turn the gradients in ``.grad`` into parameter updates.

``step()`` edits every parameter in place (``p -= ...``) under ``autotensor.no_grad()``: the
Parameter objects stay the same (a model and its optimiser keep sharing them) and the engine's
version counter records the edit, so a backward pass through a graph built before the step
refuses to run with stale values.  Parameters whose ``.grad`` is None are skipped.

Weight decay is the documents' L2 term: ``lambda * W`` is added to the gradient of each weight
*matrix* (ndim >= 2); biases are not decayed, matching :func:`nn.losses.l2_penalty` and
``nn.backprop``.  (PyTorch decays every parameter it is given.)

The update rules run on the raw ndarrays with in-place numpy ufuncs, so a step costs about what
hand-written numpy would.  Written that way they also compile: the arrays come from
``at.arrays``/``at.grads`` (traced stand-ins while ``at.compile`` traces a step) and the numbers
that may change between steps -- the learning rate a schedule or the user sets, Adam's step
count and bias corrections -- from one ``@at.replayed`` method, which a compiled step calls
again at every replay.  ``state_dict()``/``load_state_dict()`` save and restore all of it, so a
resumed run continues exactly.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

import autotensor as at
from nn.module import Module, as_parameter_list

__all__ = ["Adam", "CosineSchedule", "Optimizer", "SGD"]


class Optimizer:
    """Holds the parameters, the learning rate ``lr`` (an attribute a schedule may change) and,
    per parameter, the buffers of the update rule (``self.buffers[index][name]``)."""

    buffer_names: tuple[str, ...] = ()

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
        # Buffers are named tensors (``layers.0.W.m``), so a compiled step can name them too.
        self.buffers = [
            {name: at.Tensor(np.zeros_like(p.data), name=None if p.name is None else f"{p.name}.{name}")
             for name in self.buffer_names}
            for p in self.params
        ]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (the next backward starts from nothing)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place (bumping its version counter)."""
        numbers = self.step_numbers()
        with at.no_grad(), at.name_scope(f"{type(self).__name__}.step"):
            for index, (p, g) in enumerate(zip(self.params, at.grads(*self.params))):
                if g is None:
                    continue
                if self._decays[index]:
                    (values,) = at.arrays(p)
                    g = g + numbers["weight_decay"] * values  # a new array: .grad itself is never modified
                self.update(p, g, at.arrays(*self.buffers[index].values()), numbers)

    @at.replayed
    def step_numbers(self) -> dict[str, float]:
        """The numbers one step uses, read afresh at every step (a compiled step replays this)."""
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def update(self, p: at.Tensor, g: np.ndarray, buffers: list[np.ndarray], numbers: dict[str, float]) -> None:
        """Move ``p`` along its gradient ``g``, editing ``buffers`` in place."""
        raise NotImplementedError

    # ------------------------------------------------------------------ saving and resuming
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs: hyperparameters, counters and copies of the buffers."""
        return {"type": type(self).__name__, "numbers": self._numbers(),
                "buffers": [{name: t.data.copy() for name, t in buffers.items()} for buffers in self.buffers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (buffers copied in place; nothing changes unless all fits)."""
        if state.get("type") != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is of a {state.get('type')!r}")
        numbers, buffers = state.get("numbers"), state.get("buffers")
        if not isinstance(numbers, dict) or set(numbers) != set(self._numbers()):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected numbers {sorted(self._numbers())}")
        if not isinstance(buffers, list) or len(buffers) != len(self.buffers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected buffers for {len(self.buffers)} parameters")
        for index, (given, own) in enumerate(zip(buffers, self.buffers)):
            if set(given) != set(own):
                raise ValueError(f"{type(self).__name__}.load_state_dict: parameter {index} needs buffers {sorted(own)}")
            for name, buffer in own.items():
                if np.shape(given[name]) != buffer.shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: buffer {name!r} of parameter "
                                     f"{index} has shape {np.shape(given[name])}, expected {buffer.shape}")
        for given, own in zip(buffers, self.buffers):
            for name, buffer in own.items():
                buffer.data[...] = given[name]
        for name, value in numbers.items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)

    def _numbers(self) -> dict[str, Any]:
        return {"lr": self.lr, "weight_decay": self.weight_decay}


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
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.buffer_names = ("velocity",) if momentum else ()
        super().__init__(params, lr, weight_decay)

    @at.replayed
    def step_numbers(self) -> dict[str, float]:
        return {"lr": self.lr, "weight_decay": self.weight_decay, "momentum": self.momentum}

    def update(self, p: at.Tensor, g: np.ndarray, buffers: list[np.ndarray], numbers: dict[str, float]) -> None:
        if self.momentum:
            (velocity,) = buffers
            velocity *= numbers["momentum"]
            velocity += g
            g = velocity
        p -= numbers["lr"] * g

    def _numbers(self) -> dict[str, Any]:
        return {**super()._numbers(), "momentum": self.momentum}


class Adam(Optimizer):
    """Adam (Kingma & Ba): a step per parameter scaled by running gradient statistics.

    With ``g`` as for SGD and ``t`` the step number (from 1)::

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        p <- p - lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)

    Weight decay is added to the gradient (classic Adam with L2, not AdamW).
    """

    buffer_names = ("m", "v")

    def __init__(
        self, params: Module | Iterable[at.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0,
    ) -> None:
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"Adam: eps must be positive, got {eps}")
        super().__init__(params, lr, weight_decay)
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.t = 0

    @at.replayed
    def step_numbers(self) -> dict[str, float]:
        """Advance the step count; fold both bias corrections into the step size,
        lr * sqrt(1 - b2^t) / (1 - b1^t), with eps scaled to match, so the update is exactly the
        formula above."""
        self.t += 1
        beta1, beta2 = self.betas
        correction2 = math.sqrt(1 - beta2 ** self.t)
        return {"step_size": self.lr * correction2 / (1 - beta1 ** self.t), "eps": self.eps * correction2,
                "beta1": beta1, "beta2": beta2, "weight_decay": self.weight_decay}

    def update(self, p: at.Tensor, g: np.ndarray, buffers: list[np.ndarray], numbers: dict[str, float]) -> None:
        m, v = buffers
        beta1, beta2 = numbers["beta1"], numbers["beta2"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        denominator = np.sqrt(v)
        denominator += numbers["eps"]
        p -= numbers["step_size"] * (m / denominator)

    def _numbers(self) -> dict[str, Any]:
        return {**super()._numbers(), "betas": list(self.betas), "eps": self.eps, "t": self.t}


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

    @at.replayed
    def step(self) -> float:
        """Advance one step and return the new learning rate (a compiled step replays this)."""
        self.count = min(self.count + 1, self.total)
        progress = self.count / self.total
        lr = self.lr_min + 0.5 * (self.lr_max - self.lr_min) * (1 + math.cos(math.pi * progress))
        self.optimizer.lr = lr
        return lr
