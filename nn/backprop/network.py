"""``ManualMLP``: a fully connected network whose every derivative is written out by hand.

This is the reference the autograd engine is compared against, following the derivation of the
background documents (000: "Deep Neural Network from scratch", chapters 3-8; 003: the lecture
slides on backprop).  The class holds the weights and the choices (activations, cost, L2,
bias layout) and checks them; the passes themselves live beside it: :mod:`~nn.backprop.forward`,
:mod:`~nn.backprop.backward` (whole batch), :mod:`~nn.backprop.per_sample` (the slides' loop),
:mod:`~nn.backprop.costs` and :mod:`~nn.backprop.activations`.

Two bias layouts:

* ``"separate"``: ``W_l`` of shape ``(in, out)`` and a bias vector ``b_l`` of shape ``(out,)``, as
  ``nn.Linear`` computes ``x @ W + b``. ``parameters()`` is ``[W_1, b_1, W_2, b_2, ...]``.
* ``"row"``: document 000's layout. A column of ones is appended to the input and to every hidden
  activation and each matrix, of shape ``(in + 1, out)``, carries the biases as its last row.
  ``parameters()`` is ``[W_1, W_2, ...]``, and the gradient of the bias row comes out of
  ``[a, 1].T @ delta`` like any other row.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from nn.backprop.activations import ACTIVATIONS
from nn.backprop.backward import ManualResult, backward_pass, in_parameter_order
from nn.backprop.costs import LOSSES, cost
from nn.backprop.forward import forward_pass
from nn.backprop.per_sample import per_sample_backward

BIAS_LAYOUTS: tuple[str, ...] = ("separate", "row")


def _as_float_array(value: object) -> np.ndarray:
    """``np.asarray`` that keeps a floating dtype and turns anything else into float64."""
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


class ManualMLP:
    """A fully connected network whose forward and backward passes are derived by hand.

    Parameters
    ----------
    weights:
        One matrix per layer, ``(in, out)`` (``"separate"``) or ``(in + 1, out)`` with the biases
        as the last row (``"row"``). The arrays are used as given (not copied) when they already
        have a floating dtype, so ``step`` updates them in place; ``from_parameters`` copies.
    biases:
        One vector ``(out,)`` per layer for ``"separate"`` (required); ``None`` for ``"row"``.
    activation, output_activation:
        Hidden and output non-linearities, each one of ``ACTIVATIONS``.
    loss:
        One of ``LOSSES`` (see the module docstring for the exact definitions).
    l2:
        Weight of the penalty ``(l2/2) * sum(W**2)`` over weight matrices (never biases).
    bias_layout:
        ``"separate"`` or ``"row"``.
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray] | None = None,
        *,
        activation: str = "tanh",
        output_activation: str = "tanh",
        loss: str = "half_sse",
        l2: float = 0.0,
        bias_layout: str = "separate",
    ) -> None:
        if bias_layout not in BIAS_LAYOUTS:
            raise ValueError(f"unknown bias_layout {bias_layout!r}; choose one of {BIAS_LAYOUTS}")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r} for the hidden layers; "
                f"choose one of {ACTIVATIONS}")
        if output_activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {output_activation!r} for the output layer; "
                f"choose one of {ACTIVATIONS}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
        l2 = float(l2)
        if not np.isfinite(l2) or l2 < 0.0:
            raise ValueError(f"l2 must be a finite number >= 0, got {l2}")

        self.weights: list[np.ndarray] = [_as_float_array(w) for w in weights]
        if not self.weights:
            raise ValueError("a ManualMLP needs at least one weight matrix")
        self.bias_layout = bias_layout
        self.activation = activation
        self.output_activation = output_activation
        self.loss_name = loss
        self.l2 = l2
        row = self.has_bias_rows

        extra = 1 if row else 0
        for l, W in enumerate(self.weights):
            if W.ndim != 2:
                raise ValueError(f"layer {l}: weight must be a 2-D matrix, got shape {W.shape}")
            if W.shape[0] < 1 + extra or W.shape[1] < 1:
                need = ("(in + 1, out) with in >= 1, out >= 1" if row
                        else "(in, out) with in >= 1, out >= 1")
                raise ValueError(f"layer {l}: weight of shape {W.shape} must have shape {need}")
            if l > 0:
                prev = self.weights[l - 1]
                if W.shape[0] != prev.shape[1] + extra:
                    rows = (f"{prev.shape[1]} inputs + 1 bias row" if row
                            else f"{prev.shape[1]} inputs")
                    raise ValueError(
                        f"layer {l}: weight of shape {W.shape} should have {prev.shape[1] + extra} "
                        f"rows ({rows}) to follow layer {l - 1} with weight of shape {prev.shape}")

        if row:
            if biases is not None:
                raise ValueError(
                    "bias_layout='row' keeps the biases as the last row of each weight matrix; "
                    "pass biases=None")
            self.biases: list[np.ndarray] = []
        else:
            if biases is None:
                raise ValueError("bias_layout='separate' needs one bias vector per layer")
            self.biases = [_as_float_array(b) for b in biases]
            if len(self.biases) != len(self.weights):
                raise ValueError(
                    f"got {len(self.weights)} weight matrices but {len(self.biases)} bias vectors")
            for l, (W, b) in enumerate(zip(self.weights, self.biases)):
                if b.shape != (W.shape[1],):
                    raise ValueError(
                        f"layer {l}: bias of shape {b.shape} does not match weight of shape "
                        f"{W.shape}; expected shape ({W.shape[1]},)")

    # ---------------------------------------------------------------- construction helpers

    @classmethod
    def from_parameters(cls, params: Sequence[np.ndarray], **kwargs: object) -> "ManualMLP":
        """Build from ``[W0, b0, W1, b1, ...]`` (the order of ``nn.MLP.parameters()``), copying.

        ``W`` has shape ``(in, out)`` and ``b`` shape ``(out,)``; anything ``np.asarray`` accepts
        (Tensors included) will do. With ``bias_layout="row"`` each ``b`` is stacked under its
        ``W`` as the bias row.
        """
        arrays = [np.array(p, copy=True) for p in params]
        arrays = [a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)
                  for a in arrays]
        if not arrays or len(arrays) % 2:
            raise ValueError(
                f"from_parameters expects W0, b0, W1, b1, ... (an even, non-zero count), "
                f"got {len(arrays)} arrays with shapes {[a.shape for a in arrays]}")
        if "biases" in kwargs:
            raise ValueError("from_parameters takes the biases from params; do not pass biases=")
        weights, biases = arrays[0::2], arrays[1::2]
        for l, (W, b) in enumerate(zip(weights, biases)):
            if W.ndim != 2 or b.shape != (W.shape[-1],):
                raise ValueError(
                    f"layer {l}: expected a weight (in, out) followed by a bias (out,), got "
                    f"shapes {W.shape} and {b.shape}")
        if kwargs.get("bias_layout", "separate") == "row":
            stacked = [np.vstack([W, b[np.newaxis, :]]) for W, b in zip(weights, biases)]
            return cls(stacked, None, **kwargs)  # type: ignore[arg-type]
        return cls(weights, biases, **kwargs)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- introspection

    @property
    def sizes(self) -> list[int]:
        """Layer widths ``[n_0, n_1, ..., n_L]`` (inputs first, bias units not counted)."""
        first = self.weights[0].shape[0] - (1 if self.has_bias_rows else 0)
        return [first] + [W.shape[1] for W in self.weights]

    @property
    def has_bias_rows(self) -> bool:
        """True in the documents' layout, where each weight matrix ends with its bias row."""
        return self.bias_layout == "row"

    def parameters(self) -> list[np.ndarray]:
        """The live arrays: ``[W0, b0, W1, b1, ...]``, or ``[W0, W1, ...]`` for ``"row"``."""
        return in_parameter_order(self.weights, self.biases, self.has_bias_rows)

    def __repr__(self) -> str:
        return (f"ManualMLP(sizes={self.sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, loss={self.loss_name!r}, "
                f"l2={self.l2}, bias_layout={self.bias_layout!r})")

    # ---------------------------------------------------------------- input checks

    def _check_X(self, X: object) -> np.ndarray:
        X = _as_float_array(X)
        n_in = self.sizes[0]
        if X.ndim != 2 or X.shape[1] != n_in:
            raise ValueError(f"input: expected X of shape (N, {n_in}), got {X.shape}")
        return X

    def _check_y(self, y: object, n: int) -> np.ndarray:
        y = _as_float_array(y)
        k = self.sizes[-1]
        if y.ndim == 1 and k == 1 and y.shape[0] == n:
            y = y.reshape(n, 1)  # explicit, so (N,) never broadcasts against (N, 1) into (N, N)
        if y.shape != (n, k):
            raise ValueError(f"target: expected y of shape ({n}, {k}) for X with {n} rows, "
                             f"got {y.shape}")
        return y

    # ---------------------------------------------------------------- forward

    # ---------------------------------------------------------------- the passes

    def forward(self, X: object) -> np.ndarray:
        """The predictions ``yhat = a_L``, shape ``(N, n_L)``."""
        return forward_pass(self, self._check_X(X)).activations[-1]

    __call__ = forward

    def loss(self, X: object, y: object) -> float:
        """The cost ``J`` (including the L2 term) on ``(X, y)``."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        _, activations, z_out = forward_pass(self, X)
        return cost(self, activations[-1], y, z_out)

    def backward(self, X: object, y: object) -> ManualResult:
        """Forward pass, cost and every gradient for the whole batch at once (no Python loop)."""
        X = self._check_X(X)
        return backward_pass(self, X, self._check_y(y, X.shape[0]))

    def backward_per_sample(self, X: object, y: object) -> ManualResult:
        """The slides' loop, one example at a time; equal to ``backward()`` up to round-off."""
        X = self._check_X(X)
        return per_sample_backward(self, X, self._check_y(y, X.shape[0]))

    # ---------------------------------------------------------------- update

    def step(self, grads: Sequence[np.ndarray], lr: float) -> None:
        """Plain gradient descent, in place: ``p <- p - lr * g`` for each parameter.

        Document 000's update ``W <- W - alpha * (1/N) * dJ/dW`` is ``step(grads, alpha / N)``.
        """
        params = self.parameters()
        if len(grads) != len(params):
            raise ValueError(f"step: expected {len(params)} gradients (one per parameter), "
                             f"got {len(grads)}")
        for i, (p, g) in enumerate(zip(params, grads)):
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(f"step: gradient {i} has shape {g.shape} but parameter {i} "
                                 f"has shape {p.shape}")
        for p, g in zip(params, grads):
            p -= lr * np.asarray(g)
