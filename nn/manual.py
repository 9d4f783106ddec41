"""Hand-derived backpropagation for a multilayer perceptron, in plain numpy.

This is the reference the autograd engine is compared against: forward pass, cost and every
gradient are written out by hand, following the derivation of the background documents
(000: "Deep Neural Network from scratch", chapters 3-8; 003: the lecture slides on backprop).

Notation. A network with ``L`` weight matrices maps ``a_0 = X`` (shape ``(N, n_0)``) through

    z_l = a_{l-1} @ W_l + b_l,      a_l = f_l(z_l),      yhat = a_L

with row-per-example matrices (the documents' ``X . W`` layout: ``W_l`` has shape
``(n_{l-1}, n_l)``). Our 0-based list index ``l`` maps to the documents' 1-based numbering:
``weights[l]`` is the documents' ``W_{l+1}``, its pre-activation is ``z^{(l+2)}`` and
``deltas[l] = dJ/dz`` of that layer is the documents' ``delta^{(l+2)}``. For the car-price network
(3-3-2-1) ``deltas[2]``, ``deltas[1]``, ``deltas[0]`` are the documents' ``delta^(4)``,
``delta^(3)``, ``delta^(2)``.

The recursion (document 000, chapter 6; slides "Calculating delta"):

    output layer   delta_L = dJ/dyhat * f_L'(z_L)        = -(y - a_L) * f_L'(z_L) for half-SSE
    hidden layer   delta_l = (delta_{l+1} @ W_{l+1}.T) * f_l'(z_l)
    weights        dJ/dW_l = a_{l-1}.T @ delta_l          (the matmul sums over the examples)
    biases         dJ/db_l = column sums of delta_l

Losses (``k`` outputs per example, ``N`` examples):

* ``"half_sse"``: ``J = 0.5 * sum((y - yhat)**2)``, no ``1/N`` (document 000); the update of that
  document then divides by ``N`` itself (``W <- W - lr * (1/N) * dJ/dW``).
* ``"mse"``: ``J = mean((y - yhat)**2)`` over all ``N*k`` elements; the output delta is the
  half-SSE one scaled by ``2/(N*k)``.
* ``"bce"``: mean binary cross-entropy over all ``N*k`` elements of the probabilities ``yhat``.
  With a sigmoid output ``f'(z) = yhat (1 - yhat)`` cancels the denominator of ``dJ/dyhat`` and
  ``delta_L = (yhat - y) / (N*k)`` (document 002's ``h(x) - y``); with another output activation
  the general ``(yhat - y) / (yhat (1 - yhat)) * f'(z) / (N*k)`` is used, which needs outputs
  strictly inside (0, 1). With a sigmoid output the cost is evaluated from the logit as
  ``softplus(z) - y z`` - the same number as ``-(y log yhat + (1-y) log(1-yhat))``, without
  ``log(0)`` when the sigmoid saturates.

Optional L2 penalty: ``J += (l2/2) * sum(W**2)`` over the weight matrices only - never the biases,
so in the bias-row layout the last row of each matrix is excluded - and ``dJ/dW += l2 * W``
(document 000, chapter 8, with the sign corrected: the penalty is added, not subtracted).

Two bias layouts:

* ``"separate"``: ``W_l`` of shape ``(in, out)`` and a bias vector ``b_l`` of shape ``(out,)``, as
  ``nn.Linear`` computes ``x @ W + b``. ``parameters()`` is ``[W_1, b_1, W_2, b_2, ...]``.
* ``"row"``: document 000's layout. A column of ones is appended to the input and to every hidden
  activation and each matrix, of shape ``(in + 1, out)``, carries the biases as its last row.
  ``parameters()`` is ``[W_1, W_2, ...]``, and the gradient of the bias row comes out of
  ``[a, 1].T @ delta`` like any other row.

Activations, for the hidden layers and for the output separately: ``"tanh"``, ``"sigmoid"``,
``"relu"`` (sub-gradient 0 at 0, as the slides choose) and ``"identity"``. Each derivative is
computed from the activation's output ``a`` (``1 - a**2``, ``a (1 - a)``, ``a > 0``, ``1``), so the
pre-activations need not be kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "BIAS_LAYOUTS",
    "LOSSES",
    "ManualMLP",
    "ManualResult",
    "numerical_gradients",
    "relative_error",
]

ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "identity")
LOSSES: tuple[str, ...] = ("half_sse", "mse", "bce")
BIAS_LAYOUTS: tuple[str, ...] = ("separate", "row")


# --------------------------------------------------------------------------------------------
# Activations and their derivatives
# --------------------------------------------------------------------------------------------


def _activate(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
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


def _times_slope(delta: np.ndarray, name: str, a: np.ndarray) -> np.ndarray:
    """``delta * f'(z)`` in place (``delta`` must be an array this module owns)."""
    s = _slope(name, a)
    if s is not None:
        np.multiply(delta, s, out=delta)
    return delta


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def _loss_scale(loss: str, n_elements: int) -> float:
    """The factor between the summed per-element cost derivatives and those of ``J``.

    ``half_sse`` sums and does not divide; ``mse`` is ``(1/(N*k)) sum (y - yhat)^2`` whose
    derivative carries a 2; ``bce`` is a mean over the ``N*k`` elements.
    """
    if loss == "half_sse":
        return 1.0
    if loss == "mse":
        return 2.0 / n_elements
    return 1.0 / n_elements


def _summed_cost(loss: str, out_name: str, yhat: np.ndarray, y: np.ndarray,
                 z_out: np.ndarray | None) -> float:
    """Sum over all elements of the per-element cost, before any ``1/(N*k)``."""
    if loss in ("half_sse", "mse"):
        r = (y - yhat).ravel()
        s = float(r @ r)
        return 0.5 * s if loss == "half_sse" else s
    if out_name == "sigmoid" and z_out is not None:
        # -(y log p + (1-y) log(1-p)) with p = sigmoid(z) equals softplus(z) - y z.
        return float(np.sum(np.logaddexp(0.0, z_out) - y * z_out))
    return float(-np.sum(y * np.log(yhat) + (1.0 - y) * np.log1p(-yhat)))


def _output_delta_unscaled(loss: str, out_name: str, yhat: np.ndarray,
                           y: np.ndarray) -> np.ndarray:
    """Per-element ``dJ/dz`` of the output layer before the loss's ``_loss_scale`` factor.

    half-SSE and MSE: ``-(y - a) * f'(z)`` (document 000's delta^(4); the slides' output delta).
    BCE + sigmoid:    ``a - y``             (the sigmoid's slope cancels dJ/da's denominator).
    BCE otherwise:    ``(a - y) / (a (1 - a)) * f'(z)``.
    Returns a new array.
    """
    delta = yhat - y  # -(y - a)
    if loss == "bce":
        if out_name == "sigmoid":
            return delta
        np.divide(delta, yhat * (1.0 - yhat), out=delta)
    return _times_slope(delta, out_name, yhat)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class ManualResult:
    """What one hand-written forward/backward pass produced.

    ``grads`` follows ``ManualMLP.parameters()``; ``deltas[l]`` is ``dJ/dz`` of layer ``l``, shape
    ``(N, n_l)``, first hidden layer first and the output layer last; ``activations`` holds
    ``a_0 = X, a_1, ..., a_L = yhat`` (without the appended ones in the bias-row layout).
    """

    loss: float
    grads: list[np.ndarray]
    deltas: list[np.ndarray]
    activations: list[np.ndarray]
    yhat: np.ndarray


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


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
        self._row = bias_layout == "row"
        self._ones = np.ones(0)  # cached ones vector for the bias gradient (see backward)

        extra = 1 if self._row else 0
        for l, W in enumerate(self.weights):
            if W.ndim != 2:
                raise ValueError(f"layer {l}: weight must be a 2-D matrix, got shape {W.shape}")
            if W.shape[0] < 1 + extra or W.shape[1] < 1:
                need = ("(in + 1, out) with in >= 1, out >= 1" if self._row
                        else "(in, out) with in >= 1, out >= 1")
                raise ValueError(f"layer {l}: weight of shape {W.shape} must have shape {need}")
            if l > 0:
                prev = self.weights[l - 1]
                if W.shape[0] != prev.shape[1] + extra:
                    rows = (f"{prev.shape[1]} inputs + 1 bias row" if self._row
                            else f"{prev.shape[1]} inputs")
                    raise ValueError(
                        f"layer {l}: weight of shape {W.shape} should have {prev.shape[1] + extra} "
                        f"rows ({rows}) to follow layer {l - 1} with weight of shape {prev.shape}")

        if self._row:
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
        first = self.weights[0].shape[0] - (1 if self._row else 0)
        return [first] + [W.shape[1] for W in self.weights]

    def parameters(self) -> list[np.ndarray]:
        """The live arrays: ``[W0, b0, W1, b1, ...]``, or ``[W0, W1, ...]`` for ``"row"``."""
        if self._row:
            return list(self.weights)
        params: list[np.ndarray] = []
        for W, b in zip(self.weights, self.biases):
            params += [W, b]
        return params

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

    def _forward(
        self, X: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray | None]:
        """Return (matmul inputs per layer, activations a_0..a_L, output logits if kept).

        In the bias-row layout the matmul input of a layer is ``[a, 1]``: the activation is
        written straight into the first columns of a buffer whose last column holds the ones, so
        appending the bias unit costs no extra copy.
        """
        L = len(self.weights)
        keep_logits = self.loss_name == "bce" and self.output_activation == "sigmoid"
        if self._row:
            a_in = np.empty((X.shape[0], X.shape[1] + 1), dtype=np.result_type(X, self.weights[0]))
            a_in[:, :-1] = X
            a_in[:, -1] = 1.0
        else:
            a_in = X
        inputs: list[np.ndarray] = []
        activations: list[np.ndarray] = [X]
        z_out: np.ndarray | None = None
        for l, W in enumerate(self.weights):
            inputs.append(a_in)
            z = a_in @ W  # z^(l+2) = a^(l+1) . W_{l+1} (row layout: [a, 1] picks up the bias row)
            if not self._row:
                z += self.biases[l]
            if l == L - 1:
                if keep_logits:
                    z_out = z
                    a = _activate(self.output_activation, z)
                else:
                    a = _activate(self.output_activation, z, out=z)
            elif self._row:
                a_in = np.empty((z.shape[0], z.shape[1] + 1), dtype=z.dtype)
                a_in[:, -1] = 1.0
                a = _activate(self.activation, z, out=a_in[:, :-1])
            else:
                a = a_in = _activate(self.activation, z, out=z)
            activations.append(a)
        return inputs, activations, z_out

    def forward(self, X: object) -> np.ndarray:
        """The predictions ``yhat = a_L``, shape ``(N, n_L)``."""
        return self._forward(self._check_X(X))[1][-1]

    __call__ = forward

    # ---------------------------------------------------------------- cost

    def _penalty(self) -> float:
        """``(l2/2) * sum(W**2)`` over weight matrices, bias rows excluded."""
        if self.l2 == 0.0:
            return 0.0
        total = 0.0
        for W in self.weights:
            Wp = W[:-1] if self._row else W
            total += float(np.vdot(Wp, Wp))
        return 0.5 * self.l2 * total

    def _cost(self, yhat: np.ndarray, y: np.ndarray, z_out: np.ndarray | None) -> float:
        summed = _summed_cost(self.loss_name, self.output_activation, yhat, y, z_out)
        if self.loss_name != "half_sse":
            summed /= yhat.size
        return summed + self._penalty()

    def loss(self, X: object, y: object) -> float:
        """The cost ``J`` (including the L2 term) on ``(X, y)``."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        _, activations, z_out = self._forward(X)
        return self._cost(activations[-1], y, z_out)

    # ---------------------------------------------------------------- backward, vectorised

    def _ones_for(self, n: int, dtype: np.dtype) -> np.ndarray:
        if self._ones.shape[0] != n or self._ones.dtype != dtype:
            self._ones = np.ones(n, dtype=dtype)
        return self._ones

    def backward(self, X: object, y: object) -> ManualResult:
        """Forward pass, cost and every gradient for the whole batch at once (no Python loop)."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        inputs, acts, z_out = self._forward(X)
        yhat = acts[-1]
        L = len(self.weights)
        scale = _loss_scale(self.loss_name, yhat.size)

        # Comments below use the documents' numbering: list index l holds W_{l+1}, whose input is
        # a^(l+1) (a^(1) = X) and whose delta is delta^(l+2); the car net's output is delta^(4).
        # Output delta: half-SSE -(y - a) * f'(z) (000's delta^(4), the slides' delta^(n_l));
        # MSE: the same times 2/(N*k); BCE + sigmoid output: (a - y)/(N*k).
        delta = _output_delta_unscaled(self.loss_name, self.output_activation, yhat, y)
        if scale != 1.0:
            delta *= scale  # the loss's 1/(N*k) (and MSE's 2) enter once, here, via delta_L

        grads_W: list[np.ndarray] = [np.empty(0)] * L
        grads_b: list[np.ndarray] = [np.empty(0)] * L
        deltas: list[np.ndarray] = [np.empty(0)] * L
        ones = None if self._row else self._ones_for(X.shape[0], delta.dtype)
        for l in range(L - 1, -1, -1):
            W = self.weights[l]
            deltas[l] = delta  # delta^(l+2) = dJ/dz^(l+2)
            gW = inputs[l].T @ delta  # dJ/dW_{l+1} = a^(l+1)T . delta^(l+2); sums the examples
            if self.l2:
                if self._row:
                    gW[:-1] += self.l2 * W[:-1]  # + l2 * W, bias row left unpenalised
                else:
                    gW += self.l2 * W  # + l2 * W (document 000, ch. 8, sign corrected)
            grads_W[l] = gW
            if not self._row:
                # dJ/db_{l+1} = column sums of delta^(l+2): ones @ delta (BLAS gemv) measured ~25x
                # faster than delta.sum(axis=0) on a (7248, 3) float64 delta (4 us vs 106 us).
                grads_b[l] = ones @ delta
            if l > 0:
                # Hidden delta^(l+1) = (delta^(l+2) . W_{l+1}^T) * f'(z^(l+1)). In the row layout
                # the bias row is dropped first: the bias unit has no incoming weights, so its
                # error is not propagated further back (document 000, "remove the bias error").
                Wt = np.ascontiguousarray((W[:-1] if self._row else W).T)  # tiny copy
                # delta^(l+2) . W_{l+1}^T, one column per unit of a^(l+1); np.dot with a contiguous
                # W^T measured up to 3x faster than `@` on the transposed view (N = 7248).
                delta = np.dot(delta, Wt)
                _times_slope(delta, self.activation, acts[l])  # * f'(z^(l+1)), from a^(l+1)

        grads = grads_W if self._row else [g for pair in zip(grads_W, grads_b) for g in pair]
        return ManualResult(loss=self._cost(yhat, y, z_out), grads=grads, deltas=deltas,
                            activations=acts, yhat=yhat)

    # ---------------------------------------------------------------- backward, example by example

    def backward_per_sample(self, X: object, y: object) -> ManualResult:
        """The slides' batch gradient-descent loop: one example at a time, then accumulate.

        For each example: forward pass keeping every ``a``; output delta; hidden deltas by
        ``delta_l = (W_{l+1} delta_{l+1}) * f'(z_l)``; ``DeltaW_l += a_{l-1} delta_l^T`` and
        ``Deltab_l += delta_l``. After the loop the sums are scaled as the loss requires
        (half-SSE: not at all; MSE: ``2/(N*k)``; BCE: ``1/(N*k)``) and the L2 term is added.
        Slow by design; equal to ``backward()`` up to round-off.
        """
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        n, L = X.shape[0], len(self.weights)
        keep_logits = self.loss_name == "bce" and self.output_activation == "sigmoid"
        acc_W = [np.zeros_like(W) for W in self.weights]  # DeltaW, initialised to zero
        acc_b = [np.zeros_like(b) for b in self.biases]  # Deltab (separate layout only)
        acts = [np.empty((n, width)) for width in self.sizes]
        deltas = [np.empty((n, width)) for width in self.sizes[1:]]
        summed = 0.0
        for i in range(n):
            # Forward pass for example i, as a 1-D row vector.
            a = [X[i]]
            z = X[i]
            for l, W in enumerate(self.weights):
                a_in = np.append(a[l], 1.0) if self._row else a[l]  # bias unit, row layout
                z = a_in @ W if self._row else a_in @ W + self.biases[l]
                name = self.output_activation if l == L - 1 else self.activation
                a.append(_activate(name, z))
            summed += _summed_cost(self.loss_name, self.output_activation, a[L], y[i],
                                   z if keep_logits else None)
            # Backward pass for example i.
            d = _output_delta_unscaled(self.loss_name, self.output_activation, a[L], y[i])
            for l in range(L - 1, -1, -1):
                deltas[l][i] = d
                a_in = np.append(a[l], 1.0) if self._row else a[l]
                acc_W[l] += np.outer(a_in, d)  # DeltaW += a^(l+1) delta^(l+2)^T (x @ W layout)
                if not self._row:
                    acc_b[l] += d  # Deltab += delta^(l+2)
                if l > 0:
                    back = self.weights[l] @ d  # W_{l+1} delta^(l+2): one entry per input unit
                    if self._row:
                        back = back[:-1]  # the bias unit's error is not propagated
                    d = _times_slope(back, self.activation, a[l])
            for l in range(L + 1):
                acts[l][i] = a[l]

        scale = _loss_scale(self.loss_name, n * self.sizes[-1])
        for l in range(L):
            deltas[l] *= scale
            acc_W[l] *= scale
            if self.l2:
                if self._row:
                    acc_W[l][:-1] += self.l2 * self.weights[l][:-1]
                else:
                    acc_W[l] += self.l2 * self.weights[l]
            if not self._row:
                acc_b[l] *= scale
        if self.loss_name != "half_sse":
            summed /= n * self.sizes[-1]
        grads = acc_W if self._row else [g for pair in zip(acc_W, acc_b) for g in pair]
        return ManualResult(loss=summed + self._penalty(), grads=grads, deltas=deltas,
                            activations=acts, yhat=acts[-1])

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


# --------------------------------------------------------------------------------------------
# Gradient checking (document 000, chapter 7)
# --------------------------------------------------------------------------------------------


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
