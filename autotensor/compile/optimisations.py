"""Making the replay cheaper without changing a single bit of what it computes.

* **Common subexpressions**: a pure statement repeating an earlier one (the same function of
  the same variables, as the two halves of ``mul``'s rule for ``x * x`` are) reuses its result.
* **Cheaper spellings**: ``a.sum(...)`` and ``a.mean(...)`` go through numpy's Python-level
  wrappers; ``np.add.reduce`` (and a division by the count, for a mean) is what they call.
* **Buffers**: a replay runs the same shapes every time, so results can be written into arrays
  allocated once per trace (``out=``) instead of fresh ones, and an array no later statement
  reads can take the next result of its shape.  numpy computes the same values into a buffer as
  into a fresh array.  What leaves the call -- gradients stored into ``.grad``, returned values
  -- is never a buffer: a later call must not overwrite what an earlier one handed out.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotensor.compile.naming import Names
from autotensor.compile.program import Statement, Variable
from autotensor.nested import map_leaves

# Functions that write their result into ``out=`` (ufuncs and their reductions, BLAS products);
# np.dot's output must not overlap its inputs, which buffers that are free never do.
_ACCEPTS_OUT = {"np.dot"}


@dataclass
class Plan:
    """Which statement writes into which buffer, and the buffers to allocate."""

    buffer_of: dict[int, str] = field(default_factory=dict)         # id(statement) -> buffer name
    buffers: dict[str, tuple[tuple[int, ...], np.dtype]] = field(default_factory=dict)

    def allocate(self) -> dict[str, np.ndarray]:
        return {name: np.empty(shape, dtype) for name, (shape, dtype) in self.buffers.items()}


def eliminate_common_subexpressions(statements: list[Statement]) -> list[Statement]:
    """Drop a pure statement that repeats an earlier one; later reads use the earlier result."""
    seen: dict[Any, Variable] = {}
    replaced: dict[int, Variable] = {}
    kept = []
    written: set[int] = set()  # memories written in place so far: their earlier reads are stale
    for statement in statements:
        _substitute(statement, replaced)
        if statement.writes is not None:
            written.add(id(statement.writes.memory))
            seen = {key: value for key, value in seen.items() if id(value.memory) not in written}
        key = _key(statement)
        if key is not None and all(id(v.memory) not in written for v in statement.variables()):
            earlier = seen.get(key)
            if earlier is not None:
                replaced[id(statement.result)] = earlier
                continue
            seen[key] = statement.result
        kept.append(statement)
    return kept


def _key(statement: Statement) -> Any:
    """What makes two statements the same computation, or None if the statement is not pure."""
    if statement.effect or statement.writes is not None or statement.result is None:
        return None
    arithmetic = statement.function in ("+", "-", "*", "/", "**", "neg")  # on numbers (1 - beta1)
    if not (arithmetic or statement.function.startswith("np.")) or statement.function.endswith((".at", "random")):
        return None
    try:
        return statement.function, _hashable(statement.arguments), _hashable(statement.keywords)
    except TypeError:
        return None


def _hashable(value: Any) -> Any:
    if isinstance(value, Variable):
        return ("variable", id(value))
    if isinstance(value, (tuple, list)):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, slice):
        return ("slice", _hashable(value.start), _hashable(value.stop), _hashable(value.step))
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    hash(value)
    return (type(value).__name__, value)


def _substitute(statement: Statement, replaced: dict[int, Variable]) -> None:
    if replaced:
        statement.arguments = _replace(statement.arguments, replaced)
        statement.keywords = _replace(statement.keywords, replaced)


def _replace(value: Any, replaced: dict[int, Variable]) -> Any:
    return map_leaves(lambda item: replaced.get(id(item), item) if isinstance(item, Variable) else item, value)


def cheaper_spellings(statements: list[Statement]) -> None:
    """``.sum``/``.mean`` of float32 and float64 arrays as the ``np.add.reduce`` they run."""
    for statement in statements:
        if statement.function not in (".sum", ".mean") or statement.result is None:
            continue
        source = statement.arguments[0]
        if not isinstance(source, Variable) or source.dtype not in (np.float32, np.float64):
            continue
        axis, keepdims = _reduction_arguments(statement)
        if axis is _UNKNOWN:
            continue
        statement.arguments = (source,)
        statement.keywords = {"axis": axis, "keepdims": keepdims}
        if statement.function == ".sum":
            statement.function = "np.add.reduce"
        else:
            count = int(np.prod([source.shape[a] for a in (range(len(source.shape)) if axis is None else axis)]))
            statement.function = "mean"  # np.add.reduce(...) / count, spelled by the code generator
            statement.keywords["count"] = count


_UNKNOWN = object()


def _reduction_arguments(statement: Statement) -> tuple[Any, bool]:
    """(axis, keepdims) of a ``.sum``/``.mean`` call given only those arguments, else _UNKNOWN."""
    names = ("axis", "dtype", "out", "keepdims")
    given = dict(zip(names, statement.arguments[1:]))
    given.update(statement.keywords)
    if set(given) - {"axis", "keepdims"} or any(isinstance(v, Variable) for v in given.values()):
        return _UNKNOWN, False
    axis = given.get("axis")
    if isinstance(axis, int):
        axis = (axis,)
    return axis, bool(given.get("keepdims", False))


def plan_buffers(statements: list[Statement], escaping: set[int]) -> Plan:
    """Assign buffers to results that stay inside the call (see the module docstring)."""
    last_read = _last_reads(statements)
    plan = Plan()
    free: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    releasing: dict[int, list[tuple[tuple[Any, ...], str]]] = defaultdict(list)
    for position, statement in enumerate(statements):
        for key, name in releasing.pop(position, ()):  # buffers whose last reader was the previous statement
            free[key].append(name)
        result = statement.result
        if not _can_write_into_a_buffer(statement) or id(result) in escaping or result.shape is None:
            continue
        end = last_read.get(id(result), position)
        if end <= position:
            continue
        key = (result.shape, result.dtype.str)
        name = free[key].pop() if free[key] else f"buffer{len(plan.buffers) + 1}"
        plan.buffers.setdefault(name, (result.shape, result.dtype))
        plan.buffer_of[id(statement)] = name
        releasing[end + 1].append((key, name))
    return plan


def _can_write_into_a_buffer(statement: Statement) -> bool:
    result = statement.result
    if result is None or statement.writes is not None or result.storage is not None or statement.effect:
        return False
    if not isinstance(result.dtype, np.dtype) or result.shape is None:
        return False
    function = statement.function
    if function in _ACCEPTS_OUT or function == "np.add.reduce":
        return function != "np.add.reduce" or result.shape != ()
    if function.startswith("np.") and function.count(".") == 1:
        return isinstance(getattr(np, function[3:], None), np.ufunc) and result.shape != ()
    return False


def _last_reads(statements: list[Statement]) -> dict[int, int]:
    """For each result, the position of the last statement that reads it or a view of it."""
    last: dict[int, int] = {}
    owner: dict[int, int] = {}  # id(variable) -> id(the result whose memory it is)
    for statement in statements:
        if statement.result is not None:
            memory = statement.result.memory
            owner[id(statement.result)] = id(memory)
    for position, statement in enumerate(statements):
        for variable in statement.variables():
            last[owner.get(id(variable), id(variable.memory))] = position
            last[id(variable.memory)] = position
        if statement.writes is not None:
            last[id(statement.writes.memory)] = position
    return last


def alias(function: str, namespace: dict[str, Any]) -> str:
    """``np.tanh`` called as ``tanh`` (a global of the replay, one attribute lookup less per call)
    when the namespace reserved that name for it (see ``aliases``)."""
    name = function[3:] if function.startswith("np.") else ""
    known = namespace.get(name)
    return name if known is not None and known is getattr(np, name, None) else function


def aliases(statements: list[Statement]) -> dict[str, Any]:
    """numpy's ufuncs and ``np.dot`` that the statements call, by their own names."""
    found = {}
    for statement in statements:
        name = statement.function[3:] if statement.function.startswith("np.") else ""
        function = getattr(np, name, None) if name.isidentifier() else None
        if isinstance(function, np.ufunc) or function is np.dot:
            found[name] = function
    return found


def numbers_as_arrays(statements: list[Statement], numpy_names: dict[str, Any]) -> set[int]:
    """Numbers (a learning rate ...) that only ever meet float64 arrays in ufunc calls: made 0-d
    float64 arrays once, they save numpy converting the Python float at every call, with the
    same result (a Python float next to float64 is float64 either way; next to float32 the two
    would differ, so those numbers stay Python floats)."""
    uses: dict[int, bool] = {}
    for statement in statements:
        name = statement.function[3:] if statement.function.startswith("np.") else ""
        ufunc = isinstance(numpy_names.get(name), np.ufunc)
        arrays = [v for v in statement.variables() if v.shape is not None]
        float64 = ufunc and arrays and all(v.dtype == np.float64 for v in arrays)
        for variable in statement.variables():
            if variable.shape is None and variable.statement is not None:
                uses[id(variable)] = uses.get(id(variable), True) and bool(float64)
    return {key for key, only_float64 in uses.items() if only_float64}


def inline_transposes(statements: list[Statement], names: Names) -> list[Statement]:
    """A 2-D transpose read by one statement only is written where it is read (``X.T``)."""
    reads: dict[int, int] = defaultdict(int)
    for statement in statements:
        for variable in statement.variables():
            reads[id(variable)] += 1
    kept = []
    for statement in statements:
        result = statement.result
        source = statement.arguments[0] if statement.arguments else None
        if (statement.function == ".transpose" and len(statement.arguments) == 1 and not statement.keywords
                and isinstance(source, Variable) and source.shape is not None and len(source.shape) == 2
                and reads[id(result)] == 1):
            names.inline[id(result)] = (source, ".T")
            continue
        kept.append(statement)
    return kept
