"""The library's own exception types.

Every error the engine raises on bad input is an :class:`AutotensorError`, so callers (and the
fuzz tests) can tell "the library refused this, with a reason" apart from a bug.  The concrete
classes also derive from the matching built-in exception so ordinary ``except ValueError``
code keeps working.
"""


class AutotensorError(Exception):
    """Base class of every error raised by autotensor."""


class ShapeError(AutotensorError, ValueError):
    """Operand shapes do not fit the op (broadcasting, matmul, reshape, axes, gradients)."""


class DTypeError(AutotensorError, TypeError):
    """Data of a kind the op cannot use (non-numeric, integer tensors asking for gradients)."""


class GraphError(AutotensorError, RuntimeError):
    """Misuse of the recorded graph: freed graphs, in-place edits, inputs not in the graph."""


class AnomalyError(AutotensorError, FloatingPointError):
    """Raised under :func:`autotensor.detect_anomaly` when an op produces NaN or Inf."""
