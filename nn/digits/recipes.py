"""The networks that classify the digits, and how each is trained.

* ``mlp``: the 64-30-10 network of document 003's classification (one hidden layer of 30
  units), with ReLU, ten logits and softmax cross-entropy, trained by Adam on mini-batches with
  a cosine decay and a little weight decay.
* ``cnn``: a small convolutional network for the 8x8 images: two 3x3 convolutions (16 and 32
  filters, padding 1) each followed by ReLU and a 2x2 max pool, then dropout and one Linear
  layer to the ten logits.
* ``document``: document 003's own setting, reproduced as a reference: the same 64-30-10
  network with sigmoid hidden *and* output units, weights and biases drawn uniformly from
  [0, 1) (their ``r.random_sample``), the quadratic cost ``J = (1/N) sum 1/2 ||y - yhat||^2``
  over the N training digits and plain batch gradient descent ``W <- W - alpha (1/N) Delta W``
  with ``alpha = 0.25`` for 3,000 iterations.  The slides credit the tutorial this comes from
  for the algorithm and the code; its digits run uses these sizes, rate and iteration count.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import autotensor as at
from nn.conv import Conv2d, Flatten, MaxPool2d
from nn.digits.data import CLASSES, PIXELS, SIDE
from nn.layers import MLP, Dropout, Linear, ReLU
from nn.losses import half_sse, softmax_cross_entropy
from nn.module import Module, Sequential
from nn.optim import SGD, Adam, CosineSchedule, Optimizer

__all__ = ["RECIPES", "Recipe", "recipe_for"]


@dataclass(frozen=True)
class Recipe:
    """A network and its training: what ``autotensor digits`` runs for one setting."""

    name: str
    description: str
    build: Callable[[int], Module]            # seed -> a fresh network
    images: bool                              # inputs as (n, 1, 8, 8) images, else (n, 64) rows
    loss: Callable[[Any, Any], at.Tensor]     # (logits or outputs, one-hot targets) -> scalar
    optimizer: str                            # "adam" or "gd" (plain gradient descent)
    lr: float
    epochs: int
    batch_size: int                           # 0: the whole training set (batch gradient descent)
    weight_decay: float = 0.0
    cosine: bool = False                      # decay the rate along half a cosine over the epochs

    def make_optimizer(self, model: Module, lr: float, epochs: int) -> tuple[Optimizer, CosineSchedule | None]:
        if self.optimizer == "gd":
            return SGD(model.parameters(), lr=lr), None
        optimizer = Adam(model.parameters(), lr=lr, weight_decay=self.weight_decay)
        return optimizer, (CosineSchedule(optimizer, epochs, lr * 0.01) if self.cosine else None)

    def inputs(self, standardised: np.ndarray) -> np.ndarray:
        """Standardised pixel rows (n, 64) as the network takes them."""
        return standardised.reshape(-1, 1, SIDE, SIDE) if self.images else standardised


def _mlp(seed: int) -> Module:
    return MLP([PIXELS, 30, CLASSES], "relu", "identity", seed=seed)


def _cnn(seed: int) -> Module:
    generator = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 16, 3, padding=1, seed=generator), ReLU(), MaxPool2d(2),      # 16 x 4 x 4
        Conv2d(16, 32, 3, padding=1, seed=generator), ReLU(), MaxPool2d(2),     # 32 x 2 x 2
        Flatten(), Dropout(0.25, seed=seed), Linear(4 * 32, CLASSES, seed=generator),
    )


def _document_network(seed: int) -> Module:
    """64-30-10, sigmoid throughout, every weight and bias from U[0, 1) (the slides' random_sample)."""
    generator = np.random.default_rng(seed)
    sizes = [PIXELS, 30, CLASSES]
    weights = [(generator.random((fan_in, fan_out)), generator.random(fan_out))
               for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return MLP(sizes, "sigmoid", "sigmoid", weights=weights)


def _quadratic_cost(outputs: Any, targets: Any) -> at.Tensor:
    """The slides' J = (1/N) sum over the N digits of 1/2 ||y - yhat||^2."""
    return half_sse(outputs, targets) / len(targets)


RECIPES: dict[str, Recipe] = {
    "mlp": Recipe("mlp", "MLP 64-30-10 (relu), softmax cross-entropy", _mlp, images=False,
                  loss=softmax_cross_entropy, optimizer="adam", lr=0.01, epochs=60, batch_size=32,
                  weight_decay=1e-3, cosine=True),
    "cnn": Recipe("cnn", "CNN conv 3x3 x16, relu, max pool 2, conv 3x3 x32, relu, max pool 2, dropout 0.25, "
                  "linear 128-10; softmax cross-entropy", _cnn, images=True, loss=softmax_cross_entropy,
                  optimizer="adam", lr=0.005, epochs=30, batch_size=64, cosine=True),
    "document": Recipe("document", "document 003's setting: MLP 64-30-10 (sigmoid, sigmoid output), weights "
                       "from U[0, 1), quadratic cost", _document_network, images=False, loss=_quadratic_cost,
                       optimizer="gd", lr=0.25, epochs=3000, batch_size=0),
}


def recipe_for(arch: str, document: bool = False) -> Recipe:
    """The recipe of ``--arch`` (``mlp`` or ``cnn``), or document 003's own (an MLP)."""
    if arch not in ("mlp", "cnn"):
        raise ValueError(f"unknown architecture {arch!r}; choose mlp or cnn")
    if document and arch != "mlp":
        raise ValueError("document 003's own setting is an MLP (64-30-10); it has no convolutional version")
    return RECIPES["document" if document else arch]
