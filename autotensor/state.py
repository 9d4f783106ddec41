"""The engine's switches: grad mode, anomaly detection and the naming scope, one set per thread.

Every switch belongs to the thread that set it (PyTorch keeps grad mode per thread too): one
thread evaluating a model under ``no_grad()`` must not stop another thread's training from
recording, and the grad-mode change a backward pass makes while it runs stays in its thread.
A new thread starts with the defaults: recording on, anomaly detection off, no scope.

Ops read the switches on every call, so reading them must be cheap: ``current()`` costs one
thread-local lookup, after which the three switches are plain slot reads.  Every switch is a
context manager that restores the previous value on exit, even on error.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class Switches:
    """The switches of one thread (read by ops on every call)."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "tracer")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: str | None = None
        self.tracer: Any = None  # the at.compile tracer recording this thread's calls, if any


class _PerThread(threading.local):
    """``threading.local`` runs ``__init__`` once in every thread that touches it."""

    def __init__(self) -> None:
        self.switches = Switches()


per_thread = _PerThread()  # read by the engine's hot paths as per_thread.switches

# How many threads are tracing a compiled function right now.  One cheap read tells the hot
# paths (conversion of operands) that no thread traces, so they skip asking for this thread's
# tracer; only while it is non-zero does per_thread.switches.tracer matter.  A list, so that
# modules importing it see every change.
tracing_threads = [0]


def current() -> Switches:
    """This thread's switches."""
    return per_thread.switches


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets this thread's grad mode and restores it on exit."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        switches = per_thread.switches
        self._previous.append(switches.grad_enabled)
        switches.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        per_thread.switches.grad_enabled = self._previous.pop()


def no_grad() -> _GradMode:
    """Record nothing inside: ops return plain results with ``requires_grad=False``.

    Use it for evaluation and for parameter updates (``with at.no_grad(): W -= lr * W.grad``).
    Works as ``with at.no_grad():`` and as the decorator ``@at.no_grad()``.  It affects only the
    calling thread.
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a ``no_grad`` block (context manager or decorator)."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - named like the function PyTorch users know
    """Set this thread's grad mode: ``at.set_grad_enabled(False)`` as a plain call switches it
    until changed again; ``with at.set_grad_enabled(flag):`` restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        super().__init__(bool(mode))
        switches = per_thread.switches
        self._previous.append(switches.grad_enabled)  # the mode to restore if used with ``with``
        switches.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass  # already set by the call

    def __call__(self, function):  # type: ignore[no-untyped-def]
        # Used as a decorator: creating it switched the mode, which only the calls should do.
        per_thread.switches.grad_enabled = self._previous.pop()
        return super().__call__(function)

    def _recreate_cm(self) -> _GradMode:
        return _GradMode(self.enabled)  # as a decorator: set on every call, restored after it


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph in this thread."""
    return per_thread.switches.grad_enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`~autotensor.errors.AnomalyError` at the first NaN/Inf (in this thread).

    Inside the block every op checks its forward output and the backward pass checks every
    gradient a derivative rule returns; the error names the op (and for backward the forward
    op the rule belongs to and where it was called).  Off by default: outside the block the
    only cost is one attribute read per op.
    """
    switches = per_thread.switches
    previous = switches.anomaly
    switches.anomaly = True
    try:
        yield
    finally:
        switches.anomaly = previous


class _NameScope(contextlib.ContextDecorator):
    """Context manager and decorator that extends the naming scope and restores it on exit.

    A class rather than a generator-based context manager: ``nn`` opens one per module call,
    and this costs a third as much.
    """

    __slots__ = ("name", "_previous")

    def __init__(self, name: str) -> None:
        self.name = name
        self._previous: str | None = None

    def _recreate_cm(self) -> _NameScope:
        return _NameScope(self.name)  # as a decorator, a fresh scope per call (recursion-safe)

    def __enter__(self) -> None:
        switches = per_thread.switches
        self._previous = previous = switches.scope
        switches.scope = self.name if previous is None else f"{previous}.{self.name}"

    def __exit__(self, *exc: object) -> None:
        per_thread.switches.scope = self._previous


def name_scope(name: str) -> _NameScope:
    """Tag every tensor produced inside (in this thread) with ``scope`` (nested scopes join with ".").

    The engine does nothing with the tag; graph drawing groups nodes by it, and ``nn`` opens a
    scope per module so a drawing shows which layer made which node.  Works as ``with
    at.name_scope("layer1"):`` and as the decorator ``@at.name_scope("layer1")``.
    """
    return _NameScope(name)
