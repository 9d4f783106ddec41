"""The checks at the top of a replay: is the world still as the trace found it?

A replay that would compute something else than the eager call returns :data:`RETRACE`
instead of running, and the compiled function traces anew: when a guard no longer holds (a
tensor that had a gradient has none, a module left ``train()`` mode), or a tensor the code reads
is laid out otherwise (its ``.data`` replaced by an array of another shape or dtype, or it
stopped or started requiring grad).
"""
from __future__ import annotations

from typing import Any

from autotensor.compile.naming import Names, object_reference, tensor_reference
from autotensor.compile.program import Program
from autotensor.tensor import requires_grad_changes

RETRACE = object()  # what a replay returns when the call must be traced anew


def guard_checks(program: Program, namespace: dict[str, Any]) -> list[str]:
    """Lines returning RETRACE unless the conditions the trace was recorded under still hold: the
    tensors that had (or had no) gradient, the modules' ``training`` flags (tracer.Guard)."""
    conditions = []
    for guard in program.guards:
        if guard.attribute == "_grad":
            test = "is None" if guard.expected else "is not None"
            conditions.append(f"{tensor_reference(guard.target, namespace)}._grad {test}")
        elif isinstance(guard.expected, bool):
            conditions.append(f"{object_reference(guard.target, namespace)}.{guard.attribute} is not {guard.expected}")
        elif isinstance(guard.expected, (int, str)):
            conditions.append(f"{object_reference(guard.target, namespace)}.{guard.attribute} != {guard.expected!r}")
        else:
            conditions.append(f"{object_reference(guard.target, namespace)}.{guard.attribute} != "
                              f"{object_reference(guard.expected, namespace)}")
    if not conditions:
        return []
    namespace["RETRACE"] = RETRACE
    joined = "\n            or ".join(conditions)
    return [f"    if ({joined}):",
            "        return RETRACE  # recorded under other conditions: another trace (or a new one) applies"]


def layout_check(program: Program, used: set[int], names: Names, namespace: dict[str, Any]) -> list[str]:
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
            "        if check_layout(" + ",\n                        ".join(
                ", ".join(arrays[i:i + 8]) for i in range(0, len(arrays), 8)) + ") is RETRACE:",
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


