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
import keyword
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotensor.compile.buffers import cheaper_spellings, eliminate_common_subexpressions, plan_buffers
from autotensor.compile.program import Program, Statement, Variable
from autotensor.tensor import requires_grad_changes

_OPERATORS = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "**"}


RETRACE = object()  # what a replay returns when the call must be traced anew (see _layout_check)


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
    found, pending = [], [outputs]
    while pending:
        item = pending.pop()
        if isinstance(item, TensorOutput):
            item = item.variable
        if isinstance(item, Variable):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return found


class Names:
    """Unique Python names for the program's variables (documents' names where possible)."""

    def __init__(self) -> None:
        self._taken: set[str] = {"np", "tensors", "objects", "replayed", "new_tensor", "seen", "check_layout", "requires_grad_changes", "RETRACE"}
        self._counters: dict[str, int] = defaultdict(int)
        self._layer = 0  # linear layers met so far, for z{k+1} / a{k+1}
        self._tensors: dict[str, str] = {}  # dotted tensor name -> its name in the code
        self.inline: dict[int, tuple[Variable, str]] = {}  # written as (source, ".T") where read
        self.as_array: set[int] = set()  # Python numbers the code turns into 0-d arrays once

    def reserve(self, taken: Any) -> None:
        """Names used by something else in the namespace (the buffers)."""
        self._taken.update(taken)

    def fresh(self, base: str) -> str:
        """``base`` itself if free (``t`` is always numbered), else ``base2``, ``base3`` ... (or
        ``base_2`` ... when ``base`` ends with a digit)."""
        base = _identifier(base)
        if base not in self._taken and base != "t":
            self._taken.add(base)
            return base
        separator = "_" if base[-1].isdigit() else ""
        while True:
            self._counters[base] += 1
            candidate = f"{base}{separator}{self._counters[base] + (base != 't')}"
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate

    def name(self, variable: Variable) -> str:
        if variable.name:
            return variable.name
        if id(variable) in self.inline:
            source, suffix = self.inline[id(variable)]
            return self.name(source) + suffix
        storage = variable.storage
        statement = variable.statement
        if statement is not None and statement.writes is not None and storage is statement.writes:
            variable.name = self.name(storage)  # an in-place write: the same array, the same name
            return variable.name
        variable.name = self._choose(variable)
        return variable.name

    def _choose(self, variable: Variable) -> str:
        if variable.kind == "tensor" and "." in variable.hint:
            # A parameter named by nn ("layers.2.W"): W1, W2 ... in order of use, as in the
            # documents; a buffer named after one ("layers.2.W.m") is m_W2.
            owner, base = variable.hint.rsplit(".", 1)
            if owner in self._tensors:
                chosen = self._exact(f"{base}_{self._tensors[owner]}")
            else:
                self._counters["#" + base] += 1
                chosen = self._exact(f"{base}{self._counters['#' + base]}")
            self._tensors[variable.hint] = chosen
            return chosen
        if variable.gradient_of is not None:
            target = self.name(variable.gradient_of)
            if re.fullmatch(r"z\d+", target):
                return self._exact(f"delta{target[1:]}")
            return self.fresh(f"d{target}")
        if variable.hint == "z":
            self._layer += 1
            return self._exact(f"z{self._layer + 1}")
        if variable.hint == "a":
            return self._exact(f"a{self._layer + 1}")
        return self.fresh(variable.hint)

    def _exact(self, wanted: str) -> str:
        if wanted not in self._taken:
            self._taken.add(wanted)
            return wanted
        return self.fresh(wanted + "_")


def _identifier(text: str) -> str:
    text = re.sub(r"\W", "_", text).strip("_") or "t"
    if keyword.iskeyword(text):
        return text + "_"
    return f"_{text}" if text[0].isdigit() else text


def literal(value: Any, names: Names) -> str:
    """Python code for an argument: a variable's name or a literal the code can spell."""
    if isinstance(value, Variable):
        return names.name(value)
    if isinstance(value, (bool, type(None), str, int)) and not isinstance(value, np.generic):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, np.floating):  # its shortest repr as a string: exact, also for longdouble
        return f"np.{type(value).__name__}({str(value)!r})"
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({literal(value.item(), names)})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.dtype):
        return f"np.dtype({str(value)!r})"
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    if isinstance(value, slice):
        return f"slice({literal(value.start, names)}, {literal(value.stop, names)}, {literal(value.step, names)})"
    if isinstance(value, tuple):
        inner = ", ".join(literal(item, names) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item, names) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {literal(item, names)}" for key, item in value.items()) + "}"
    if isinstance(value, complex):
        return repr(value)
    raise TypeError(f"cannot spell {value!r} in generated code")


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
    statements = eliminate_common_subexpressions(kept_statements(program))
    cheaper_spellings(statements)
    copies = _gradients_to_copy(statements, program)
    plan = plan_buffers(statements, _escaping(statements, program))
    names = Names()
    numpy_names = {name: f for name, f in aliases(statements).items() if name not in keywords}
    namespace: dict[str, Any] = {"np": np, "tensors": {}, "objects": [], "replayed": [], **plan.allocate(),
                                 **numpy_names}
    names.reserve(plan.buffers)
    names.reserve(numpy_names)
    statements = _inline_transposes(statements, names)
    names.as_array = _numbers_as_arrays(statements, numpy_names)
    parameters = _parameters(program, names, positional, keywords)
    lines = [f"def {_identifier(function_name)}({parameters}):"]
    if numpy_names:
        lines.append(f"    # numpy's functions by their names: {', '.join(sorted(numpy_names))}; an output array, "
                     f"where given, is the last argument")
    lines += _guard_checks(program, namespace)
    lines += _bind_inputs(program, statements, names, namespace)
    origin = None
    for statement in statements:
        if statement.origin != origin and statement.origin:
            lines.append(f"    # {statement.origin}")
        origin = statement.origin
        lines.append("    " + _line(statement, names, namespace, copies, plan.buffer_of.get(id(statement))))
    lines.append(f"    return {_returned(program.outputs, names, namespace)}")
    return Generated("\n".join(lines) + "\n", namespace)


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
            reference = _tensor_reference(variable.source, namespace)
            lines.append(f"    {name} = {reference}{'.data' if variable.kind == 'tensor' else '.grad.data'}")
        elif variable.kind == "array":
            lines.append(f"    {name} = {_object(variable.source, namespace)}")
    return lines + _layout_check(program, used, names, namespace)


def _guard_checks(program: Program, namespace: dict[str, Any]) -> list[str]:
    """Lines returning RETRACE unless the conditions the trace was recorded under still hold: the
    tensors that had (or had no) gradient, the modules' ``training`` flags (tracer.Guard)."""
    conditions = []
    for guard in program.guards:
        if guard.attribute == "_grad":
            test = "is None" if guard.expected else "is not None"
            conditions.append(f"{_tensor_reference(guard.target, namespace)}._grad {test}")
        elif isinstance(guard.expected, bool):
            conditions.append(f"{_object(guard.target, namespace)}.{guard.attribute} is not {guard.expected}")
        elif isinstance(guard.expected, (int, str)):
            conditions.append(f"{_object(guard.target, namespace)}.{guard.attribute} != {guard.expected!r}")
        else:
            conditions.append(f"{_object(guard.target, namespace)}.{guard.attribute} != "
                              f"{_object(guard.expected, namespace)}")
    if not conditions:
        return []
    namespace["RETRACE"] = RETRACE
    joined = "\n            or ".join(conditions)
    return [f"    if ({joined}):",
            "        return RETRACE  # recorded under other conditions: another trace (or a new one) applies"]


def _layout_check(program: Program, used: set[int], names: Names, namespace: dict[str, Any]) -> list[str]:
    """Lines returning RETRACE when a tensor the code reads is not laid out as at trace time:
    another shape or dtype (its ``.data`` was replaced), or it stopped or started requiring
    grad.  The compiled function then traces the call anew instead of computing wrongly.

    The common case is cheap: the very arrays of the last call, and no tensor anywhere switched
    ``requires_grad`` since (one counter); only otherwise are shapes and flags compared.
    """
    checked = [v for v in program.inputs if v.kind in ("tensor", "grad") and id(v) in used]
    if not checked:
        return []
    arrays = [names.name(v) for v in checked]
    tensors = [v.source for v in checked if v.kind == "tensor"]
    expected = [(v.shape, v.dtype) for v in checked]
    flags = [t._requires_grad for t in tensors]
    seen = [v.statement for v in checked]  # placeholders until the first replay records the arrays
    namespace.update(seen=seen, RETRACE=RETRACE, requires_grad_changes=requires_grad_changes,
                     check_layout=_layout_checker(seen, expected, tensors, flags))
    tests = [f"{name} is not seen[{i}]" for i, name in enumerate(arrays)] + ["requires_grad_changes[0] != seen[-1]"]
    rows = [" or ".join(tests[i:i + 4]) for i in range(0, len(tests), 4)]
    return [f"    if ({chr(10).join(rows[:1] + ['            or ' + row for row in rows[1:]])}):",
            f"        if check_layout({', '.join(arrays)}) is RETRACE:",
            "            return RETRACE  # a tensor changed shape, dtype or requires_grad since the trace"]


def _layout_checker(seen: list[Any], expected: list[tuple[Any, Any]], tensors: list[Any],
                    flags: list[bool]) -> Any:
    seen.append(None)  # the requires_grad_changes count of the last check

    def check_layout(*arrays: Any) -> Any:
        if any(a.shape != shape or a.dtype != dtype for a, (shape, dtype) in zip(arrays, expected)):
            return RETRACE
        if any(t._requires_grad != flag for t, flag in zip(tensors, flags)):
            return RETRACE
        seen[:-1] = arrays
        seen[-1] = requires_grad_changes[0]
        return None

    return check_layout


def _tensor_reference(tensor: Any, namespace: dict[str, Any]) -> str:
    tensors = namespace["tensors"]
    for key, known in tensors.items():
        if known is tensor:
            return f"tensors[{key!r}]"
    key = tensor.name or f"#{len(tensors)}"
    while key in tensors:
        key += "'"
    tensors[key] = tensor
    return f"tensors[{key!r}]"


def _object(value: Any, namespace: dict[str, Any]) -> str:
    """A reference to an object the code uses as it is (an outside array, a returned object)."""
    objects = namespace["objects"]
    for index, known in enumerate(objects):
        if known is value:
            return f"objects[{index}]"
    objects.append(value)
    return f"objects[{len(objects) - 1}]"


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
            return f"{_tensor_reference(tensor, namespace)}._grad = None"
        value_code = names.name(value) + (".copy()" if id(statement) in copies else "")
        return f"{_tensor_reference(tensor, namespace)}._grad = {value_code}  # (.grad makes it a Tensor when read)"
    if function == "bump_version":
        return f"{_tensor_reference(arguments[0], namespace)}._version[0] += 1  # an in-place edit"
    result = names.name(statement.result) if statement.result is not None else ""
    if function == "replayed":
        callable_, args, kwargs = arguments
        namespace["replayed"].append(functools.partial(callable_, *args, **kwargs))
        call = f"replayed[{len(namespace['replayed']) - 1}]()  # {callable_.__qualname__}"
        return f"{result} = {call}" if result else call
    spelled = [literal(a, names) for a in arguments]
    if function == "getitem":
        value = f"{spelled[0]}[{_index(arguments[1], names)}]"
        if statement.result is not None and id(statement.result) in names.as_array:
            value = f"np.array({value})"
        return f"{result} = {value}"
    if function == "setitem":
        return f"{spelled[0]}[{_index(arguments[1], names)}] = {spelled[2]}"
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
    callee = _alias(function, namespace)
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


def _alias(function: str, namespace: dict[str, Any]) -> str:
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


def _numbers_as_arrays(statements: list[Statement], numpy_names: dict[str, Any]) -> set[int]:
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


def _inline_transposes(statements: list[Statement], names: Names) -> list[Statement]:
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


def _index(index: Any, names: Names) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    spelled = []
    for part in parts:
        if isinstance(part, slice):
            text = ":".join("" if p is None else literal(p, names) for p in (part.start, part.stop, part.step))
            spelled.append(text[:-1] if text.endswith(":") and part.step is None else text)
        elif part is None:
            spelled.append("None")
        else:
            spelled.append(literal(part, names))
    if not isinstance(index, tuple):
        return spelled[0]
    return ", ".join(spelled) + ("," if len(spelled) == 1 else "") if spelled else "()"


def _returned(outputs: Any, names: Names, namespace: dict[str, Any]) -> str:
    if isinstance(outputs, TensorOutput):
        return f"new_tensor({names.name(outputs.variable)})"
    if isinstance(outputs, Variable):
        return names.name(outputs)
    if isinstance(outputs, ObjectOutput):
        return _object(outputs.value, namespace) if outputs.value is not None else "None"
    if isinstance(outputs, tuple):
        inner = ", ".join(_returned(item, names, namespace) for item in outputs)
        return f"({inner},)" if len(outputs) == 1 else f"({inner})"
    if isinstance(outputs, list):
        return "[" + ", ".join(_returned(item, names, namespace) for item in outputs) + "]"
    if isinstance(outputs, dict):
        return "{" + ", ".join(f"{key!r}: {_returned(v, names, namespace)}" for key, v in outputs.items()) + "}"
    raise TypeError(f"cannot return {outputs!r}")
