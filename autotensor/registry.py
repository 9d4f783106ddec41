"""The one registry of ops: each op's derivative rules and the sample inputs that check them.

An op is registered right below its forward function, with

* ``vjps``: one derivative rule per differentiable input, ``rule(g, out, *inputs, **params)``
  returning ``g`` pulled back to that input (a vector-Jacobian product).  Rules are written
  with operators and methods that ndarrays and Tensors share, so the same rule runs on plain
  arrays in an ordinary backward pass and on Tensors when the backward pass is recorded
  (``create_graph=True``) for second derivatives.  Only the rules of inputs that need a
  gradient are called, so a constant input (the data ``X`` in ``X @ W``) costs nothing.
* ``saves``: which values the rules read ("inputs", "output", both or neither), so backward
  can refuse to run when one of them was edited in place after the forward pass.
* ``view``: the output may share memory with the first input (reshape, transpose).  Such an
  output shares its input's version counter, so an in-place edit through either is seen by
  every recorded op that saved the other.
* ``samples``: inputs inside the op's domain (positive for log, away from kinks for relu),
  including broadcast and 1-D shapes.  ``gradcheck`` runs every sample, so an op cannot be
  registered unchecked; ``tests/test_registry.py`` also fails on an exported op that is not
  registered.

Users add ops of their own with :func:`autotensor.custom_op` (``custom=True`` here); those can
be removed again (:func:`unregister`), and :func:`isolated` undoes every registration made
inside it (the test suite runs each test inside it, so no test's ops reach another's).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Rule = Callable[..., Any]


@dataclass(frozen=True)
class Sample:
    """One checked case of an op: float64 inputs (all differentiated) and how to call the op."""

    case: str
    inputs: tuple[np.ndarray, ...]
    call: Callable[..., Any]
    twice_differentiable: bool = True


@dataclass(eq=False)
class Op:
    """A differentiable primitive: its name, derivative rules and checked samples."""

    name: str
    function: Callable[..., Any]
    vjps: Sequence[Rule]
    saves: str = "inputs"
    variadic: bool = False
    view: bool = False
    samples: list[Sample] = field(default_factory=list)
    custom: bool = False  # registered by at.custom_op (not one of the engine's own)

    @property
    def composite(self) -> bool:
        """Built from other ops, so its gradient comes from theirs (no rules of its own)."""
        return not self.vjps

    @property
    def saves_inputs(self) -> bool:
        return "inputs" in self.saves

    @property
    def saves_output(self) -> bool:
        return "output" in self.saves

    def rule(self, argnum: int) -> Rule:
        """The derivative rule for input ``argnum`` (variadic ops share one rule taking the index)."""
        if self.variadic:
            shared = self.vjps[0]
            return lambda g, out, *inputs, **params: shared(argnum, g, out, *inputs, **params)
        return self.vjps[argnum]

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


REGISTRY: dict[str, Op] = {}


def register(
    name: str,
    function: Callable[..., Any],
    vjps: Sequence[Rule],
    *,
    saves: str = "inputs",
    samples: Sequence[Sample] = (),
    variadic: bool = False,
    view: bool = False,
    custom: bool = False,
) -> Op:
    """Enter an op in the registry (once) and return it for the forward function to record."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is registered twice")
    if saves not in {"", "inputs", "output", "inputs+output"}:
        raise ValueError(f"op {name!r}: saves must name 'inputs' and/or 'output', got {saves!r}")
    if view and "output" in saves:
        # A view's counter is its base's, so "edited since the forward pass" cannot be read off it.
        raise ValueError(f"op {name!r}: an op whose output is a view cannot save its output")
    op = Op(name, function, tuple(vjps), saves, variadic, view, list(samples), custom)
    REGISTRY[name] = op
    return op


def unregister(name: str) -> None:
    """Remove an op that :func:`autotensor.custom_op` registered (the engine's own stay)."""
    from autotensor.errors import ArgumentError

    op = REGISTRY.get(name)
    if op is None or not op.custom:
        what = "is not registered" if op is None else "is one of the engine's own ops"
        raise ArgumentError(f"unregister: op {name!r} {what}; only ops added with at.custom_op can be removed")
    del REGISTRY[name]


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Undo, on exit, every registration and removal made inside (tests, notebooks' experiments)."""
    before = dict(REGISTRY)
    try:
        yield
    finally:
        REGISTRY.clear()
        REGISTRY.update(before)


# ---------------------------------------------------------------- sample inputs
# A fixed seed keeps the samples (and so the gradcheck table) identical from run to run.
_rng = np.random.default_rng(20170418)


def uniform(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """Random float64 values in [low, high)."""
    return _rng.uniform(low, high, size=shape)


def away_from(*shape: int, kink: float = 0.0, gap: float = 0.2, spread: float = 2.0) -> np.ndarray:
    """Values at least ``gap`` from a kink (relu, abs, clip), of both signs."""
    magnitude = _rng.uniform(gap, spread, size=shape)
    sign = np.where(_rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    return kink + sign * magnitude


def distinct(*shape: int) -> np.ndarray:
    """A permutation of well-separated values (no ties: max/min/maximum are smooth there)."""
    count = int(np.prod(shape)) if shape else 1
    return (_rng.permutation(count) * 0.37 - count * 0.15).reshape(shape)
