"""Making the replay cheaper without changing a single bit of what it computes.

* **Common subexpressions**: a pure statement repeating an earlier one (the same function of
  the same variables, as the two halves of ``mul``'s rule for ``x * x`` are) reuses its result.
* **Cheaper spellings**: ``a.sum(...)`` and ``a.mean(...)`` go through numpy's Python-level
  wrappers; ``np.add.reduce`` (and a division by the count, for a mean) is what they call.
* **Identities**: a product with ones and a first power hold their operand's bits; the operand
  is read instead.
* **Rows spread by a product**: adding a bias ``b`` of a few numbers to each of many rows
  (``z + b``) runs numpy's broadcasting loop a few numbers at a time; ``ones(N, 1) @ b(1, k)``
  (BLAS writes each ``1 * b_j``, which is ``b_j`` exactly) and a same-shape add are cheaper.
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
from autotensor.compile.program import Program, Statement, Variable
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


def eliminate_common_subexpressions(statements: list[Statement], replaced: dict[int, Variable]) -> list[Statement]:
    """Drop a pure statement that repeats an earlier one; later reads use the earlier result
    (``replaced`` collects which variable stands for which, for the returned values)."""
    seen: dict[Any, Variable] = {}
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


def drop_identities(statements: list[Statement], replaced: dict[int, Variable]) -> list[Statement]:
    """Drop a product with ones (the implicit 1 that starts backward, the exponent 1 of ``x ** 1``
    and the ``x ** 0`` of its rule) and a power with exponent 1: later reads use the other
    operand, which holds the same bits (x * 1 and x ** 1 are x exactly, NaN and -0 included).

    Only a computed value stands in for another, and only if neither memory is ever written in
    place: an input or a constant would be handed out as a result, and a later in-place write
    would reach both names."""
    written = {id(s.writes.memory) for s in statements if s.writes is not None}
    ones: set[int] = set()  # results of x ** 0, which are ones for every x (NaN and inf too)
    kept = []
    for statement in statements:
        _substitute(statement, replaced)
        if _power_of(statement, 0) is not None and statement.result.shape == statement.arguments[0].shape:
            ones.add(id(statement.result))
        operand = _identity_operand(statement, ones)
        if operand is not None and not operand.is_input and not {id(operand.memory), id(statement.result.memory)} & written:
            replaced[id(statement.result)] = operand
            continue
        kept.append(statement)
    return kept


def _power_of(statement: Statement, exponent: int) -> Variable | None:
    """The base of ``np.power(base, exponent)``, or None if the statement is not that."""
    if statement.function != "np.power" or statement.result is None or statement.writes is not None:
        return None
    if statement.keywords or len(statement.arguments) != 2:
        return None
    base, power = statement.arguments
    if isinstance(base, Variable) and isinstance(power, (int, float, np.generic)) and power == exponent:
        return base
    return None


def _identity_operand(statement: Statement, ones: set[int]) -> Variable | None:
    """The operand an identity statement returns unchanged (same shape and dtype), or None."""
    result = statement.result
    base = _power_of(statement, 1)
    if base is not None:
        return base if _same_layout(base, result) else None
    if statement.function != "np.multiply" or statement.writes is not None or statement.keywords:
        return None
    if result is None or len(statement.arguments) != 2:
        return None
    first, second = statement.arguments
    for kept, other in ((first, second), (second, first)):
        if _same_layout(kept, result) and (_is_one(other) or _constant_ones(other) or id(other) in ones):
            return kept
    return None


def _same_layout(value: Any, result: Variable) -> bool:
    return isinstance(value, Variable) and value.shape == result.shape and value.dtype == result.dtype


def _is_one(value: Any) -> bool:
    """A Python or numpy scalar 1 (a weak scalar: it cannot change the other operand's dtype)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 1


def _constant_ones(value: Any) -> bool:
    """An array the engine made read-only and full of ones (cached seeds and ones vectors)."""
    return (isinstance(value, Variable) and value.kind == "array" and isinstance(value.source, np.ndarray)
            and not value.source.flags.writeable and bool(np.all(value.source == 1)))


# Where spreading a bias over the rows first pays (measured on one core: on 7,249 x 3 the
# broadcasting add takes 51 us, the product and the plain add 22 us; one column, or more than a
# handful, gain nothing).
_SPREAD_ROWS = 256
_SPREAD_COLUMNS = range(2, 9)


def spread_narrow_rows(statements: list[Statement], program: Program) -> list[Statement]:
    """``z + b`` with z of many rows and few columns and b one row, as ``z + ones @ b``."""
    kept = []
    ones: dict[tuple[int, str], Variable] = {}
    for statement in statements:
        rows = _narrow_rows_and_bias(statement)
        if rows is not None:
            tall, bias = rows
            (n, k), dtype = tall.shape, tall.dtype
            key = (n, dtype.str)
            if key not in ones:
                column = np.ones((n, 1), dtype)
                column.flags.writeable = False
                ones[key] = program.input("array", column, column, "ones")
            row = bias
            if bias.shape != (1, k):
                row = Variable("result", (1, k), dtype, storage=bias, hint="row")
                kept.append(Statement(".reshape", (bias, (1, k)), {}, row, origin=statement.origin))
                row.statement = kept[-1]
            spread = Variable("result", (n, k), dtype, hint="t")
            kept.append(Statement("np.dot", (ones[key], row), {}, spread, origin=statement.origin))
            spread.statement = kept[-1]
            statement.arguments = tuple(spread if argument is bias else argument for argument in statement.arguments)
        kept.append(statement)
    return kept


def _narrow_rows_and_bias(statement: Statement) -> tuple[Variable, Variable] | None:
    """(z, b) of an ``np.add`` of a tall, narrow 2-D z and a row b of its dtype, else None."""
    if statement.function != "np.add" or len(statement.arguments) != 2 or statement.result is None:
        return None
    if set(statement.keywords) - {"out"}:
        return None
    first, second = statement.arguments
    for tall, bias in ((first, second), (second, first)):
        if not (isinstance(tall, Variable) and isinstance(bias, Variable) and tall is not bias):
            continue
        if tall.shape is None or len(tall.shape) != 2 or tall.shape != statement.result.shape:
            continue
        n, k = tall.shape
        if (n >= _SPREAD_ROWS and k in _SPREAD_COLUMNS and bias.shape in ((k,), (1, k))
                and tall.dtype == bias.dtype == statement.result.dtype and tall.dtype.kind == "f"):
            return tall, bias
    return None


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
