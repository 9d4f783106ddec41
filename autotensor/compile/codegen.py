"""From a traced program to Python source: which statements stay, what they are called, how
they are written.

1. **Dead code goes**: a statement stays if it is an effect (a parameter update, a gradient
   stored, a version bump, a replayed call), if something kept reads its result, or if it writes
   into memory something kept reads later.
2. **Names follow the documents** where name scopes tell the layers: the k-th layer's
   pre-activation is ``z{k+1}``, its activation ``a{k+1}``, the gradient flowing into a
   pre-activation is its delta ``delta{k+1}``, into a weight ``dW{k}``; other values are
   ``t1, t2 ...``.  Inputs are named after the function's parameters and the tensors' names.
3. **Buffers** (see :mod:`autotensor.compile.buffers`) turn allocating calls into writes into
   arrays allocated once per trace where that is safe.
4. Every statement is one line of numpy; a comment says which op's forward, which op's
   derivative rule or which update each group of lines comes from.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotensor.compile.checks import guard_checks, layout_check
from autotensor.compile.naming import Names, identifier, index, literal, object_reference, tensor_reference
from autotensor.compile.optimisations import (
    alias, aliases, cheaper_spellings, drop_identities, eliminate_common_subexpressions, inline_transposes,
    numbers_as_arrays, plan_buffers, spread_narrow_rows,
)
from autotensor.compile.program import Program, Statement, Variable
from autotensor.nested import leaves, map_leaves

_OPERATORS = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "**"}


@dataclass
class Generated:
    """The source of a replay function and the objects its names are bound to."""

    source: str
    namespace: dict[str, Any] = field(default_factory=dict)


def kept_statements(program: Program) -> list[Statement]:
    """The statements a replay must run (dead-code elimination, scanning backwards)."""
    needed: set[int] = {id(v) for v in _output_variables(program.outputs)}
    needed_memory: set[int] = {id(v.memory) for v in _output_variables(program.outputs)}
    kept: list[Statement] = []
    grads_assigned_later: set[int] = set()
    for statement in reversed(program.statements):
        if statement.function == "set_grad":  # only the last assignment of a tensor's .grad counts
            tensor = id(statement.arguments[0])
            if tensor in grads_assigned_later:
                continue
            grads_assigned_later.add(tensor)
        result = statement.result
        writes = statement.writes
        keep = (
            statement.effect
            or (result is not None and id(result) in needed)
            or (writes is not None and (writes.memory.is_input or id(writes.memory) in needed_memory))
        )
        if not keep:
            continue
        kept.append(statement)
        for variable in statement.variables():
            needed.add(id(variable))
            needed_memory.add(id(variable.memory))
        if statement.writes is not None:
            needed.add(id(statement.writes))
    kept.reverse()
    return kept


def _output_variables(outputs: Any) -> list[Variable]:
    found = [item.variable if isinstance(item, TensorOutput) else item for item in leaves(outputs)]
    return [item for item in found if isinstance(item, Variable)]


@dataclass(frozen=True)
class TensorOutput:
    """A returned Tensor: its value becomes a new constant Tensor at every call."""

    variable: Variable


@dataclass(frozen=True)
class ObjectOutput:
    """A returned object that is not a traced value: returned as it is at every call."""

    value: Any


def generate(program: Program, function_name: str, positional: int, keywords: list[str]) -> Generated:
    """The source of ``def <function_name>(<arguments>):`` replaying ``program``, called with the
    arguments of the traced call (``positional`` of them, then ``keywords``)."""
    replaced: dict[int, Variable] = {}
    program.statements = drop_identities(program.statements, replaced)
    program.outputs = map_leaves(lambda item: _replaced_output(item, replaced), program.outputs)
    statements = eliminate_common_subexpressions(kept_statements(program), replaced)
    program.outputs = map_leaves(lambda item: _replaced_output(item, replaced), program.outputs)
    cheaper_spellings(statements)
    statements = spread_narrow_rows(statements, program)
    copies = _gradients_to_copy(statements, program)
    plan = plan_buffers(statements, _escaping(statements, program))
    names = Names()
    numpy_names = {name: f for name, f in aliases(statements).items() if name not in keywords}
    namespace: dict[str, Any] = {"np": np, "tensors": {}, "objects": [], "replayed": [], **plan.allocate(),
                                 **numpy_names}
    names.reserve(plan.buffers)
    names.reserve(numpy_names)
    statements = inline_transposes(statements, names)
    names.as_array = numbers_as_arrays(statements, numpy_names)
    parameters = _parameters(program, names, positional, keywords)
    lines = [f"def {identifier(function_name)}({parameters}):"]
    if numpy_names:
        lines.append(f"    # numpy's functions by their names: {', '.join(sorted(numpy_names))}; an output array, "
                     f"where given, is the last argument")
    lines += guard_checks(program, namespace)
    lines += _bind_inputs(program, statements, names, namespace)
    origin = None
    for statement in statements:
        if statement.origin != origin and statement.origin:
            lines.append(f"    # {statement.origin}")
        origin = statement.origin
        lines.append("    " + _line(statement, names, namespace, copies, plan.buffer_of.get(id(statement))))
    lines.append(f"    return {_returned(program.outputs, names, namespace)}")
    return Generated("\n".join(lines) + "\n", namespace)


def _replaced_output(item: Any, replaced: dict[int, Variable]) -> Any:
    """A returned value after dropped statements: the variable that stands for it now."""
    while True:
        if isinstance(item, TensorOutput) and id(item.variable) in replaced:
            item = TensorOutput(replaced[id(item.variable)])
        elif isinstance(item, Variable) and id(item) in replaced:
            item = replaced[id(item)]
        else:
            return item


def _escaping(statements: list[Statement], program: Program) -> set[int]:
    """Memories that leave the call (stored gradients, returned values): never buffers."""
    escaping = {id(v.memory) for v in _output_variables(program.outputs)}
    for statement in statements:
        if statement.function == "set_grad" and statement.arguments[1] is not None:
            escaping.add(id(statement.arguments[1].memory))
    return escaping


def _parameters(program: Program, names: Names, positional: int, keywords: list[str]) -> str:
    """The replay function's parameters: one per argument of the call, named like the traced
    function's (arguments nothing reads are named too, so every call fits)."""
    by_key = {v.source[1]: v for v in program.inputs if v.kind == "argument"}
    spelled = []
    for key in [*range(positional), *keywords]:
        variable = by_key.get(key)
        spelled.append(names.name(variable) if variable is not None else names.fresh(f"unused_{key}"))
    if keywords:
        spelled.insert(positional, "*")
    return ", ".join(spelled)


def _bind_inputs(program: Program, statements: list[Statement], names: Names, namespace: dict[str, Any]) -> list[str]:
    used = {id(v) for s in statements for v in s.variables()}
    used |= {id(s.writes) for s in statements if s.writes is not None}
    used |= {id(v) for v in _output_variables(program.outputs)}
    lines = []
    for variable in program.inputs:
        if id(variable) not in used:
            continue
        name = names.name(variable)
        if variable.kind == "argument":
            if variable.source[2] == "tensor":
                lines.append(f"    {name} = {name}.data")
        elif variable.kind in ("tensor", "grad"):
            reference = tensor_reference(variable.source, namespace)
            lines.append(f"    {name} = {reference}{'.data' if variable.kind == 'tensor' else '.grad.data'}")
        elif variable.kind == "array":
            lines.append(f"    {name} = {object_reference(variable.source, namespace)}")
    return lines + layout_check(program, used, names, namespace)


def _gradients_to_copy(statements: list[Statement], program: Program) -> set[int]:
    """Gradient values a tensor may not adopt as they are: memory of an input, memory that
    another stored gradient or a returned value also uses, or memory written after it was
    stored (no two gradients may share memory, and none may change later, as in eager)."""
    users: dict[int, int] = defaultdict(int)
    for statement in statements:
        if statement.function == "set_grad" and statement.arguments[1] is not None:
            users[id(statement.arguments[1].memory)] += 1
    for variable in _output_variables(program.outputs):
        users[id(variable.memory)] += 1
    copies = set()
    for position, statement in enumerate(statements):
        if statement.function == "set_grad" and statement.arguments[1] is not None:
            memory = statement.arguments[1].memory
            written_later = any(s.writes is not None and s.writes.memory is memory for s in statements[position:])
            if memory.is_input or users[id(memory)] > 1 or written_later:
                copies.add(id(statement))
    return copies


def _line(statement: Statement, names: Names, namespace: dict[str, Any], copies: set[int],
          buffer: str | None = None) -> str:
    """One statement as one line of Python (``buffer``: the array its result is written into)."""
    function, arguments = statement.function, statement.arguments
    if function == "set_grad":
        tensor, value = arguments
        if value is None:
            return f"{tensor_reference(tensor, namespace)}._grad = None"
        value_code = names.name(value) + (".copy()" if id(statement) in copies else "")
        return f"{tensor_reference(tensor, namespace)}._grad = {value_code}  # (.grad makes it a Tensor when read)"
    if function == "bump_version":
        return f"{tensor_reference(arguments[0], namespace)}._version[0] += 1  # an in-place edit"
    result = names.name(statement.result) if statement.result is not None else ""
    if function == "replayed":
        callable_, args, kwargs = arguments
        namespace["replayed"].append(functools.partial(callable_, *args, **kwargs))
        call = f"replayed[{len(namespace['replayed']) - 1}]()  # {callable_.__qualname__}"
        return f"{result} = {call}" if result else call
    spelled = [literal(a, names) for a in arguments]
    if function == "getitem":
        value = f"{spelled[0]}[{index(arguments[1], names)}]"
        if statement.result is not None and id(statement.result) in names.as_array:
            value = f"np.array({value})"
        return f"{result} = {value}"
    if function == "setitem":
        return f"{spelled[0]}[{index(arguments[1], names)}] = {spelled[2]}"
    if function in _OPERATORS:
        value = f"{spelled[0]} {_OPERATORS[function]} {spelled[1]}"
        if id(statement.result) in names.as_array:
            value = f"np.array({value})"
        return f"{result} = {value}"
    if function == "neg":
        return f"{result} = -{spelled[0]}"
    if function == "mean":  # np.add.reduce and a division by the count, as ndarray.mean does
        keywords = {key: value for key, value in statement.keywords.items() if key != "count"}
        spelled_keywords = ", ".join(f"{key}={literal(value, names)}" for key, value in keywords.items())
        return f"{result} = np.add.reduce({spelled[0]}, {spelled_keywords}) / {statement.keywords['count']}"
    given = dict(statement.keywords)
    out = given.pop("out", None)
    out_code = buffer if out is None else literal(out[0] if isinstance(out, tuple) and len(out) == 1 else out, names)
    keywords = [f"{key}={literal(value, names)}" for key, value in given.items()]
    callee = alias(function, namespace)
    if out_code is not None:
        # A ufunc's or np.dot's output array is their next positional argument (numpy 2.4 warns
        # about that for maximum and minimum, which take it by keyword only).
        if callee != function and callee not in ("maximum", "minimum", "fmax", "fmin"):
            spelled.append(out_code)
        else:
            keywords.append(f"out={out_code}")
    if function.startswith("."):
        call = f"{spelled[0]}{function}({', '.join(spelled[1:] + keywords)})"
    else:
        call = f"{callee}({', '.join(spelled + keywords)})"
    if statement.writes is not None and function.endswith(".at"):
        return call
    if statement.writes is not None:
        return call  # out=...: the written array keeps its name
    return f"{result} = {call}"


def _returned(outputs: Any, names: Names, namespace: dict[str, Any]) -> str:
    if isinstance(outputs, TensorOutput):
        return f"new_tensor({names.name(outputs.variable)})"
    if isinstance(outputs, Variable):
        return names.name(outputs)
    if isinstance(outputs, ObjectOutput):
        return object_reference(outputs.value, namespace) if outputs.value is not None else "None"
    if isinstance(outputs, tuple):
        inner = ", ".join(_returned(item, names, namespace) for item in outputs)
        return f"({inner},)" if len(outputs) == 1 else f"({inner})"
    if isinstance(outputs, list):
        return "[" + ", ".join(_returned(item, names, namespace) for item in outputs) + "]"
    if isinstance(outputs, dict):
        return "{" + ", ".join(f"{key!r}: {_returned(v, names, namespace)}" for key, v in outputs.items()) + "}"
    raise TypeError(f"cannot return {outputs!r}")
