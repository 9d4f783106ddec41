"""The training steps of every library, one module per library, and the table that lists them.

Each ``with_<library>`` module builds, from a workload's spec
(:mod:`benchmarks.workloads`), the same step written the way that library is meant to be
used: a function named after the spec's ``kind`` (``mlp``, ``tanh``, ``seed``) taking the spec
and ``compiled`` (whether to build the library's compiled form: ``at.compile``,
``torch.compile``; jax and TensorFlow are only timed compiled) and returning an
:class:`Implementation`.  A module without a function for a kind has no step for that workload.

A peer library is imported only when its step is built, and only if it is installed: a missing
one is a note in the results, never an error.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.timing import optional
from benchmarks.workloads import Spec


@dataclass
class Implementation:
    """``step()`` runs one training step, the thing timed.  ``gradients()`` returns dJ/dparams at
    the workload's starting parameters, in the order W0, b0, W1, b1, ... (or the workload's own);
    where the library compiles, it restarts from those parameters and runs the timed step itself,
    so calling it twice checks the first (tracing) call and a replay."""

    step: Callable[[], Any]
    gradients: Callable[[], list[np.ndarray]]


def from_the_step(step: Callable[[], Any], restart: Callable[[], None],
                  read: Callable[[Any], list[np.ndarray]]) -> Implementation:
    """An implementation checked on exactly what is timed: ``restart()`` puts the starting
    parameters back, one ``step()`` runs, and ``read(its result)`` gives the gradients it used."""

    def gradients() -> list[np.ndarray]:
        restart()
        return read(step())

    return Implementation(step, gradients)


def pytorch_style_step(optimizer: Any, loss_of: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """The training step as autotensor and PyTorch users both write it (their optimisers and
    tensors share these names): zero the gradients, compute the loss, backward, update."""

    def train_step(X: Any, y: Any) -> Any:
        optimizer.zero_grad()
        loss = loss_of(X, y)
        loss.backward()
        optimizer.step()
        return loss

    return train_step


@dataclass(frozen=True)
class Library:
    """One column of the tables: which module builds it and what must be installed for it."""

    key: str
    title: str
    module: str  # benchmarks.steps.<module>
    compiled: bool = False  # its first call traces or compiles: timed and reported apart
    requires: str | None = None  # the module to import, for a peer that may be missing
    install: str = ""  # how to get it, for the note when it is missing

    def missing(self) -> str | None:
        """None when the library can be imported, else a note saying how to install it."""
        if self.requires is None or optional(self.requires) is not None:
            return None
        return f"{self.title}: not installed, skipped ({self.install})"

    def build(self, spec: Spec) -> Implementation | None:
        """This library's step for the workload, or None when it has none for this kind."""
        builder = getattr(importlib.import_module(f"benchmarks.steps.{self.module}"), spec.kind, None)
        return None if builder is None else builder(spec, self.compiled)


_TORCH = "pip install torch==2.13.0, the CPU build"
LIBRARIES = (
    Library("numpy", "hand-written numpy", "with_numpy"),
    Library("autotensor", "autotensor", "with_autotensor"),
    Library("autotensor_compiled", "autotensor compiled", "with_autotensor", compiled=True),
    Library("torch", "PyTorch", "with_torch", requires="torch", install=_TORCH),
    Library("torch_compile", "torch.compile", "with_torch", compiled=True, requires="torch", install=_TORCH),
    Library("jax_jit", "jax.jit", "with_jax", compiled=True, requires="jax", install="pip install jax jaxlib"),
    Library("tf_function", "tf.function", "with_tensorflow", compiled=True, requires="tensorflow",
            install="pip install tensorflow-cpu"),
    Library("autograd", "HIPS autograd", "with_autograd", requires="autograd", install="pip install autograd"),
    Library("micrograd", "micrograd", "with_micrograd", requires="micrograd.engine", install="pip install micrograd"),
)
TITLES = {library.key: library.title for library in LIBRARIES}
