"""Convolutional layers: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` and ``Flatten``.

Images are batches of shape (N, C, H, W), PyTorch's layout.  A ``Conv2d(in_channels,
out_channels, kernel_size)`` holds filters ``W`` of shape (out, in, kh, kw) and a bias ``b`` of
shape (out,) and computes ``at.conv2d``; the pooling layers have no parameters; ``Flatten``
turns (N, C, H, W) into the (N, C * H * W) rows a ``Linear`` layer takes.  Like every nn module
they describe themselves with ``get_config()``, so models built from them save and load.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autotensor as at
from nn import init as initialisers
from nn.layers import explicit_weights
from nn.module import Module, Parameter

__all__ = ["AvgPool2d", "Conv2d", "Flatten", "MaxPool2d"]


def _as_input(x: Any) -> at.Tensor:
    return x if isinstance(x, at.Tensor) else at.Tensor(x)


def _pair(layer: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """An int or a (height, width) pair of ints, each at least ``minimum``, as a pair."""
    values = [value, value] if isinstance(value, (int, np.integer)) else value
    if (not isinstance(values, (tuple, list)) or len(values) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)):
        raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    if min(values) < minimum:
        raise ValueError(f"{layer}: {name} must be at least {minimum}, got {value!r}")
    return int(values[0]), int(values[1])


class Conv2d(Module):
    """``at.conv2d(x, W, b, stride, padding)`` with filters ``W`` of shape (out, in, kh, kw).

    ``init`` is an initialiser name from :mod:`nn.init` drawn with the filter's fans
    (``fan_in = in * kh * kw``; default "he", for ReLU networks) and ``seed``, or an explicit
    ``(W, b)`` pair of arrays (copied).  Biases start at zero; ``bias=False`` leaves ``b`` out.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], stride: Any = 1,
        padding: Any = 0, *, init: str | tuple[Any, Any] = "he", seed: initialisers.Seed = None, bias: bool = True,
    ) -> None:
        super().__init__()
        if int(in_channels) < 1 or int(out_channels) < 1:
            raise ValueError(f"Conv2d: channel counts must be positive, got ({in_channels}, {out_channels})")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.padding = _pair("Conv2d", "padding", padding, 0)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        if isinstance(init, str):
            receptive = self.kernel_size[0] * self.kernel_size[1]
            weights = initialisers.initialiser(init)(
                self.in_channels * receptive, self.out_channels * receptive, initialisers.rng(seed), shape=shape)
            biases = np.zeros(self.out_channels) if bias else None
        else:
            weights, biases = explicit_weights("Conv2d", init, shape, "(out, in, kh, kw)", self.out_channels, bias)
        self.W = Parameter(weights)
        self.b = Parameter(biases) if bias else None

    def forward(self, x: Any) -> at.Tensor:
        return at.conv2d(_as_input(x), self.W, self.b, self.stride, self.padding)

    def get_config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.b is not None}

    @classmethod
    def _parameter_count(cls, config: dict[str, Any]) -> int:
        """How many numbers ``from_config(config)`` allocates (checked by ``nn.load`` before building)."""
        kh, kw = _pair("Conv2d", "kernel_size", config["kernel_size"], 1)
        filters = int(config["out_channels"])
        return filters * int(config["in_channels"]) * kh * kw + (filters if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.b is not None}")


class _Pool2d(Module):
    """A pooling window: ``kernel_size`` pixels, ``stride`` apart (default: the kernel)."""

    name = ""

    def __init__(self, kernel_size: int | tuple[int, int], stride: Any = None) -> None:
        super().__init__()
        layer = type(self).__name__
        self.kernel_size = _pair(layer, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair(layer, "stride", stride, 1)

    def forward(self, x: Any) -> at.Tensor:
        return getattr(at, self.name)(_as_input(x), self.kernel_size, self.stride)

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """The largest value of each window (``at.max_pool2d``)."""

    name = "max_pool2d"


class AvgPool2d(_Pool2d):
    """The mean of each window (``at.avg_pool2d``)."""

    name = "avg_pool2d"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): images to the rows a Linear layer takes."""

    def forward(self, x: Any) -> at.Tensor:
        x = _as_input(x)
        if x.ndim < 1:
            raise at.ShapeError(f"Flatten: needs a batch axis, got a tensor of shape {x.shape}")
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))
