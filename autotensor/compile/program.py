"""The program a trace records: variables, statements, and what a replay must repeat.

A trace appends one :class:`Statement` per numpy call the traced function made on traced
values (``z = np.dot(a, W)``, ``np.subtract(W, step, out=W)``), in order.  Each value is a
:class:`Variable`: an *input* bound afresh at every call (an argument, the current data or
gradient of a tensor the function reads, an array from its surroundings, read and written by
reference) or the result of a statement.

Memory matters for a replay that reuses buffers, so every variable knows its **storage**: the
variable whose memory it lives in.  A fresh result is its own storage; a view (``reshape``,
``.T``, a basic slice) and the result of an in-place write share the storage of their base.

Statements that write into an input's storage (a parameter update), set a tensor's gradient,
bump a version counter or call replayed Python are **effects**: with the returned values they
are what a replay must reproduce; everything else is kept only if an effect or a returned value
needs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotensor.nested import leaves

INPUT_KINDS = ("argument", "tensor", "grad", "array")


@dataclass(eq=False)
class Variable:
    """A value of the program (an array, a 0-d array or a Python number)."""

    kind: str                          # one of INPUT_KINDS, or "result"
    shape: tuple[int, ...] | None      # None for Python numbers
    dtype: np.dtype | None
    source: Any = None                 # what an input is bound to (see Program.bind)
    statement: Statement | None = None
    storage: Variable | None = None    # None: its own memory
    hint: str = "t"                    # naming hint for the generated code (z, a, W ...)
    scope: str | None = None           # the name scope it was made in (nn: the layer)
    gradient_of: Variable | None = None  # this is d loss / d (that variable): delta, dW ...
    name: str = ""                     # assigned when the code is generated

    @property
    def is_input(self) -> bool:
        return self.kind != "result"

    @property
    def memory(self) -> Variable:
        """The variable that owns this one's memory."""
        variable = self
        while variable.storage is not None:
            variable = variable.storage
        return variable


@dataclass(eq=False)
class Statement:
    """One call of the program: ``result = function(*arguments, **keywords)``.

    ``function`` is code: ``"np.tanh"``, ``".reshape"`` (a method of the first argument),
    ``"setitem"`` (``arguments[0][arguments[1]] = arguments[2]``), ``"set_grad"``,
    ``"bump_version"`` or ``"replayed"`` (a Python call repeated at every replay).
    ``writes`` is the variable whose memory the statement changes in place, if any.
    """

    function: str
    arguments: tuple[Any, ...]
    keywords: dict[str, Any]
    result: Variable | None
    writes: Variable | None = None
    origin: str = ""                   # which op (or rule) the statement comes from
    effect: bool = False               # must be replayed whatever uses its result

    def variables(self) -> list[Variable]:
        """The variables the statement reads (in arguments, keywords, nested tuples and slices)."""
        return [item for item in leaves((self.arguments, self.keywords), slices=True) if isinstance(item, Variable)]


@dataclass
class Program:
    """The statements of one trace, its inputs, and where its outputs are."""

    statements: list[Statement] = field(default_factory=list)
    inputs: list[Variable] = field(default_factory=list)
    outputs: Any = None                # the function's return value, variables in place of arrays
    guards: list[Any] = field(default_factory=list)  # what the trace was recorded under (tracer.Guard)

    def input(self, kind: str, source: Any, value: Any, hint: str) -> Variable:
        """A new input: bound at every call to ``source`` (an argument path, a tensor, an array ...)."""
        shape, dtype = _shape_and_dtype(value)
        variable = Variable(kind, shape, dtype, source=source, hint=hint)
        self.inputs.append(variable)
        return variable

    def add(self, statement: Statement) -> Statement:
        self.statements.append(statement)
        return statement


def _shape_and_dtype(value: Any) -> tuple[tuple[int, ...] | None, np.dtype | None]:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.shape, value.dtype
    return None, None
