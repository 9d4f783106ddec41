"""The library's own exception types.

Every error the engine raises on bad input is an :class:`AutotensorError`, so callers (and the
fuzz tests) can tell "the library refused this, with a reason" apart from a bug.  Each concrete
class also derives from the built-in exception a caller would catch for the same mistake, so
ordinary ``except ValueError`` / ``except IndexError`` / ``except TypeError`` code keeps working
(as numpy's ``AxisError`` is both a ValueError and an IndexError).
"""


class AutotensorError(Exception):
    """Base class of every error raised by autotensor."""


class ShapeError(AutotensorError, ValueError):
    """Operand shapes do not fit the op (broadcasting, matmul, reshape, gradients)."""


class IndexingError(ShapeError, IndexError):
    """An index or an axis that does not exist in the tensor (also an ``IndexError``)."""


class DTypeError(AutotensorError, TypeError):
    """Data or an argument of a kind the op cannot use: strings, None, a float axis, integer
    tensors asking for gradients."""


class ArgumentError(AutotensorError, ValueError):
    """An argument of the right kind with a value the op does not accept (``clip`` with no
    bounds, an integer raised to a negative integer power)."""


class GraphError(AutotensorError, RuntimeError):
    """Misuse of the recorded graph: freed graphs, in-place edits, inputs not in the graph."""


class AnomalyError(AutotensorError, FloatingPointError):
    """Raised under :func:`autotensor.detect_anomaly` when an op produces NaN or Inf."""


class TraceError(AutotensorError, RuntimeError):
    """:func:`autotensor.compile` met something a replay could not repeat faithfully (Python
    control flow on tensor values, anomaly mode, ``create_graph`` ...); names the call and the line."""
