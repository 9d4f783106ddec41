"""Process-wide switches of the engine: grad mode, anomaly detection and the naming scope.

They live in one tiny module so that the hot path reads a module global (cheap) and so that
every switch is a context manager that restores the previous value, even on error.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator


class _Flags:
    """Mutable switches; a single instance, read by ops on every call."""

    __slots__ = ("grad_enabled", "anomaly", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: str | None = None


flags = _Flags()


class _GradMode(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode and restores it on exit."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(flags.grad_enabled)
        flags.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        flags.grad_enabled = self._previous.pop()


def no_grad() -> _GradMode:
    """Record nothing inside: ops return plain results with ``requires_grad=False``.

    Use it for evaluation and for parameter updates (``with at.no_grad(): W -= lr * W.grad``).
    Works as ``with at.no_grad():`` and as the decorator ``@at.no_grad()``.
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a ``no_grad`` block (context manager or decorator)."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph."""
    return flags.grad_enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`~autotensor.errors.AnomalyError` at the first NaN/Inf.

    Inside the block every op checks its forward output and the backward pass checks every
    gradient a derivative rule returns; the error names the op (and for backward the forward
    op the rule belongs to and where it was called).  Off by default: outside the block the
    only cost is one attribute read per op.
    """
    previous = flags.anomaly
    flags.anomaly = True
    try:
        yield
    finally:
        flags.anomaly = previous


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
        self._previous = previous = flags.scope
        flags.scope = self.name if previous is None else f"{previous}.{self.name}"

    def __exit__(self, *exc: object) -> None:
        flags.scope = self._previous


def name_scope(name: str) -> _NameScope:
    """Tag every tensor produced inside with ``scope`` (nested scopes join with ".").

    The engine does nothing with the tag; graph drawing groups nodes by it, and ``nn`` opens a
    scope per module so a drawing shows which layer made which node.  Works as ``with
    at.name_scope("layer1"):`` and as the decorator ``@at.name_scope("layer1")``.
    """
    return _NameScope(name)
