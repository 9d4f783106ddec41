"""Layers: ``Linear`` (the documents' ``x @ W + b``), activation modules and the ``MLP``.

Layout: one example per row.  A ``Linear(in_features, out_features)`` holds ``W`` of shape
``(in, out)`` and ``b`` of shape ``(out,)`` and maps an ``(n, in)`` batch to ``(n, out)``.  The
background document instead appends a column of ones and keeps the bias as the last row of a
``(in + 1, out)`` matrix; :func:`split_bias_row` converts such a matrix to ``(W, b)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autotensor as at
from nn import init as initialisers
from nn.module import Module, Parameter, Sequential

__all__ = [
    "ACTIVATIONS", "Dropout", "Identity", "LeakyReLU", "Linear", "MLP", "ReLU", "Sigmoid", "Softplus", "Tanh",
    "activation_module", "explicit_weights", "split_bias_row",
]


def _as_input(x: Any) -> at.Tensor:
    return x if isinstance(x, at.Tensor) else at.Tensor(x)


def explicit_weights(
    layer: str, pair: Any, shape: tuple[int, ...], layout: str, outputs: int, bias: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """A layer's ``init=(W, b)`` as float64 arrays, checked: W of ``shape`` (``layout`` names its
    axes in messages), b of shape (outputs,) or None (zeros, or no bias with ``bias=False``)."""
    try:
        weights, biases = pair
    except (TypeError, ValueError):
        raise TypeError(f"{layer}: init must be an initialiser name or a (W, b) pair of arrays") from None
    weights = np.asarray(weights.data if isinstance(weights, at.Tensor) else weights, dtype=np.float64)
    if weights.shape != shape:
        raise ValueError(f"{layer}: W must have shape {shape} {layout}, got {weights.shape}")
    if not bias:
        if biases is not None:
            raise ValueError(f"{layer}: bias=False but a bias vector was given")
        return weights, None
    if biases is None:
        return weights, np.zeros(outputs)
    biases = np.asarray(biases.data if isinstance(biases, at.Tensor) else biases, dtype=np.float64)
    if biases.shape != (outputs,):
        raise ValueError(f"{layer}: b must have shape ({outputs},), got {biases.shape}")
    return weights, biases


class Linear(Module):
    """``x @ W + b`` with ``W`` of shape (in_features, out_features) and ``b`` of shape (out_features,).

    ``init`` is an initialiser name from :mod:`nn.init` ("xavier" = Xavier uniform, "he" = He
    normal, "zeros", ...) drawn with ``seed`` (an int, a ``numpy.random.Generator`` or None),
    or an explicit ``(W, b)`` pair of arrays (``b`` may be None when ``bias=False``), which is
    copied.  Biases start at zero.  ``bias=False`` leaves ``b`` out (``self.b is None``).
    """

    def __init__(
        self, in_features: int, out_features: int, *, init: str | tuple[Any, Any] = "xavier",
        seed: initialisers.Seed = None, bias: bool = True,
    ) -> None:
        super().__init__()
        if int(in_features) < 1 or int(out_features) < 1:
            raise ValueError(f"Linear: sizes must be positive, got ({in_features}, {out_features})")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        if isinstance(init, str):
            weights = initialisers.initialiser(init)(self.in_features, self.out_features, initialisers.rng(seed))
            biases = np.zeros(self.out_features) if bias else None
        else:
            shape = (self.in_features, self.out_features)
            weights, biases = explicit_weights("Linear", init, shape, "(in, out)", self.out_features, bias)
        self.W = Parameter(weights)
        self.b = Parameter(biases) if bias else None

    def forward(self, x: Any) -> at.Tensor:
        return at.linear(_as_input(x), self.W, self.b)  # z = x @ W + b, one graph node

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.b is not None}

    @classmethod
    def _parameter_count(cls, config: dict[str, Any]) -> int:
        """How many numbers ``from_config(config)`` allocates (checked by ``nn.load`` before building)."""
        fan_in, fan_out = int(config["in_features"]), int(config["out_features"])
        return fan_in * fan_out + (fan_out if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.b is not None}"


# ---------------------------------------------------------------------- activations
class _Activation(Module):
    """An elementwise function as a module (no parameters)."""

    name = ""

    def forward(self, x: Any) -> at.Tensor:
        return self.apply(_as_input(x))

    def apply(self, x: at.Tensor) -> at.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}


class Tanh(_Activation):
    """tanh(z): the documents' activation, f'(z) = 1 - tanh(z)^2."""

    name = "tanh"

    def apply(self, x: at.Tensor) -> at.Tensor:
        return x.tanh()


class Sigmoid(_Activation):
    """1 / (1 + e^-z), computed stably; f'(z) = sigma(z) (1 - sigma(z))."""

    name = "sigmoid"

    def apply(self, x: at.Tensor) -> at.Tensor:
        return x.sigmoid()


class ReLU(_Activation):
    """max(z, 0)."""

    name = "relu"

    def apply(self, x: at.Tensor) -> at.Tensor:
        return x.relu()


class LeakyReLU(_Activation):
    """z for z > 0, ``slope * z`` otherwise."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = float(slope)

    def apply(self, x: at.Tensor) -> at.Tensor:
        return x.leaky_relu(self.slope)

    def get_config(self) -> dict[str, Any]:
        return {"slope": self.slope}

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class Softplus(_Activation):
    """log(1 + e^z), a smooth ReLU."""

    name = "softplus"

    def apply(self, x: at.Tensor) -> at.Tensor:
        return x.softplus()


class Identity(_Activation):
    """f(z) = z: a linear output, e.g. for regression."""

    name = "identity"

    def apply(self, x: at.Tensor) -> at.Tensor:
        return x


ACTIVATIONS: dict[str, type[_Activation]] = {
    cls.name: cls for cls in (Tanh, Sigmoid, ReLU, LeakyReLU, Softplus, Identity)
}


def activation_module(name: str) -> _Activation:
    """A fresh activation module from its name ("tanh", "sigmoid", "relu", "leaky_relu", ...)."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


# ---------------------------------------------------------------------- dropout
class Dropout(Module):
    """Inverted dropout: in training, each input is zeroed with probability ``p`` and the rest
    are scaled by ``1 / (1 - p)``, so the expected output equals the input and evaluation
    (``eval()``) passes inputs through unchanged.

    The masks come from a generator seeded with ``seed`` (an int, a ``numpy.random.Generator``
    to share a stream, or None for fresh entropy), so a seeded model drops the same units in
    every run (a model saved with an int seed restarts that stream when loaded; one with a
    Generator draws fresh masks).  Each mask is drawn by :meth:`_keep_mask` alone, so a tracer
    can replay it.
    """

    def __init__(self, p: float = 0.5, *, seed: initialisers.Seed = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a probability (a number), got {type(p).__name__}")
        if not 0 <= p < 1:  # also refuses NaN; p = 1 would scale by 1 / 0
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        if isinstance(seed, bool) or not (seed is None or isinstance(seed, (int, np.integer, np.random.Generator))):
            raise TypeError(f"Dropout: seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
        if isinstance(seed, (int, np.integer)) and seed < 0:
            raise ValueError(f"Dropout: seed must be >= 0, got {seed}")
        self.p = float(p)
        self.seed = int(seed) if isinstance(seed, (int, np.integer)) else None  # a Generator is not saved
        self._generator = initialisers.rng(seed)

    @at.replayed  # a compiled step draws a fresh mask at every call, as the eager step does
    def _keep_mask(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A fresh mask: ``1 / (1 - p)`` where an input is kept, 0 where it is dropped."""
        kept = self._generator.random(shape) >= self.p
        return kept.astype(dtype) / dtype.type(1 - self.p)

    def forward(self, x: Any) -> at.Tensor:
        x = _as_input(x)
        if not self.training or self.p == 0:
            return x
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        return x * self._keep_mask(x.shape, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p, "seed": self.seed}

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------------- the MLP
def split_bias_row(W_row: Any) -> tuple[np.ndarray, np.ndarray]:
    """The document's ``(in + 1, out)`` matrix with the biases as last row -> ``(W, b)`` copies."""
    matrix = np.asarray(W_row, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] < 2:
        raise ValueError(f"split_bias_row: expected a matrix of shape (in + 1, out) with in >= 1, got {matrix.shape}")
    return matrix[:-1].copy(), matrix[-1].copy()


class MLP(Sequential):
    """A multilayer perceptron: ``Linear`` layers with an activation after each.

    ``sizes = [n_in, h_1, ..., n_out]`` gives ``len(sizes) - 1`` Linear layers.  ``self.layers``
    alternates Linear and activation modules, so parameters are named ``layers.0.W``,
    ``layers.0.b``, ``layers.2.W``, ... and ``parameters()`` is ``[W0, b0, W1, b1, ...]``.
    Hidden layers use ``activation``, the last layer ``output_activation`` (names as in
    :data:`ACTIVATIONS`; the default "identity" suits regression).

    Weights come from ``init`` (drawn from one generator seeded with ``seed``, so the same seed
    gives the same model) or explicitly from ``weights=[(W0, b0), (W1, b1), ...]``; the
    document's bias-row matrices load with ``weights=[split_bias_row(w) for w in ...]``.

    **Reading the deltas.**  With ``record_deltas=True`` (constructor argument or attribute),
    ``forward`` keeps each layer's pre-activation ``z = a @ W + b`` in ``self.pre_activations``
    (first layer first) and calls ``retain_grad()`` on it, so after ``loss.backward()``
    ``[z.grad for z in mlp.pre_activations]`` are the per-layer deltas ``dJ/dz`` of the
    documents (the last entry is the output delta).  Off by default: it keeps arrays alive.
    """

    def __init__(
        self, sizes: Sequence[int], activation: str = "tanh", output_activation: str = "identity", *,
        init: str = "xavier", seed: initialisers.Seed = 0, weights: Sequence[tuple[Any, Any]] | None = None,
        record_deltas: bool = False,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: sizes must list at least 2 positive layer widths, got {sizes}")
        if weights is not None and len(weights) != len(sizes) - 1:
            raise ValueError(f"MLP: sizes {sizes} need {len(sizes) - 1} (W, b) pairs, got {len(weights)}")
        for name in (activation, output_activation):
            if name not in ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
        generator = initialisers.rng(seed)
        layers: list[Module] = []
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layer_init: Any = init if weights is None else tuple(weights[index])
            layers.append(Linear(fan_in, fan_out, init=layer_init, seed=generator))
            last = index == len(sizes) - 2
            layers.append(activation_module(output_activation if last else activation))
        super().__init__(*layers)
        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        self.record_deltas = record_deltas
        self.pre_activations: list[at.Tensor] = []

    @property
    def linear_layers(self) -> list[Linear]:
        """The Linear layers, first to last."""
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def forward(self, x: Any) -> at.Tensor:
        if not self.record_deltas:
            return super().forward(x)
        self.pre_activations = []
        for layer in self.layers:
            x = layer(x)
            if isinstance(layer, Linear):
                if x.requires_grad:
                    x.retain_grad()
                self.pre_activations.append(x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {"sizes": list(self.sizes), "activation": self.activation,
                "output_activation": self.output_activation, "record_deltas": self.record_deltas}

    @classmethod
    def _parameter_count(cls, config: dict[str, Any]) -> int:
        sizes = [int(size) for size in config["sizes"]]
        return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, activation={self.activation!r}, output_activation={self.output_activation!r}"
