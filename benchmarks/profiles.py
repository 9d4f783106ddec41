"""Where a step's time goes: cProfile of the eager engine, and the generated code of a compiled
step timed statement by statement (:data:`METHOD` says how).
``python -m benchmarks.profiles car_full tanh`` prints the latter for the workloads named.
"""
from __future__ import annotations

import ast
import cProfile
import functools
import io
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.steps import LIBRARIES
from benchmarks.timing import Settings, markdown_table, measure
from benchmarks.workloads import Workload, workloads

_LIBRARY = {library.key: library for library in LIBRARIES}

METHOD = (
    "The generated code (`step.source`) is straight-line Python, so it is profiled the way a line "
    "profiler does it: every statement of the replay function is wrapped in two clock reads whose "
    "difference goes to that statement's account, and the cost of the clock reads (measured on an "
    "empty statement) is taken off; each statement's figure is the median over rounds. Beside it, "
    "the whole compiled call and the bare replay function (the source run on its own, "
    "`exec(source, bindings)`) are timed against the hand-written numpy step, interleaved: their "
    "difference is what `CompiledFunction.__call__` adds (signature, guards, lock)."
)


def _workload(key: str) -> Workload:
    return next(workload for workload in workloads()[0] if workload.key == key)


def eager_profile(key: str, steps: int = 300, lines: int = 14) -> str:
    """cProfile of ``steps`` eager autotensor training steps of one workload."""
    workload = _workload(key)
    step = _LIBRARY["autotensor"].build(workload.spec).step
    for _ in range(20):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(lines)
    body = text.getvalue()
    table = body[body.index("   ncalls"):].rstrip()
    return f"cProfile of {steps} eager autotensor steps, {workload.title} (sorted by own time):\n\n```\n{table}\n```"


@dataclass
class Statement:
    line: str
    nanoseconds: float  # per call, clock cost taken off


def _instrumented(source: str) -> str:
    """The replay function with each top-level statement's time added to ``_account[i]``; the
    last account times an empty statement: the cost of the two clock reads."""
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    body: list[ast.stmt] = []
    for index, statement in enumerate([*function.body, ast.Pass()]):
        returned = isinstance(statement, ast.Return) and statement.value is not None
        if returned:  # time the returned expression, then return it
            statement = ast.Assign([ast.Name("_returned", ast.Store())], statement.value)
        body += ast.parse("_start = _clock()").body
        body.append(statement)
        body += ast.parse(f"_account[{index}] += _clock() - _start").body
        if returned:
            body += ast.parse("return _returned").body
    function.body = body[-3:] + body[:-3]  # the empty statement first, before any return
    return ast.unparse(ast.fix_missing_locations(function))


def statement_times(compiled: Any, arguments: tuple[Any, ...], calls: int, rounds: int = 9) -> list[Statement]:
    """Nanoseconds per call of each statement of the latest trace of ``compiled``: the median over
    ``rounds`` rounds of ``calls`` calls, so that a burst of machine noise counts once at most."""
    source = compiled.source
    lines = [ast.unparse(node) for node in ast.parse(source).body[0].body]
    account = [0.0] * (len(lines) + 1)
    namespace = dict(compiled.bindings, _clock=time.perf_counter, _account=account)
    exec(_instrumented(source), namespace)  # noqa: S102 - the generated code, instrumented
    replay = namespace[ast.parse(source).body[0].name]
    per_round = []
    for _ in range(rounds):
        account[:] = [0.0] * len(account)
        for _ in range(calls):
            replay(*arguments)
        clock = account[-1] / calls
        per_round.append([max(0.0, seconds / calls - clock) * 1e9 for seconds in account[:-1]])
    medians = np.median(np.array(per_round), axis=0)
    return [Statement(line, float(nanoseconds)) for line, nanoseconds in zip(lines, medians)]


_UNBOUND = object()  # a name the generated code's bindings do not hold


def _callee(line: str, bindings: dict[str, Any]) -> str:
    """What a statement calls (``np.dot``, ``replayed[0]``, ...), or what it does; numpy's
    functions, which the generated code calls by their bare names, are named ``np.`` here."""
    value = ast.parse(line).body[0]
    node = value.value if isinstance(value, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)) else value
    if isinstance(node, ast.Call):
        callee = ast.unparse(node.func)
        if "." not in callee and getattr(np, callee, None) is bindings.get(callee, _UNBOUND):
            return "np." + callee
        return callee if callee.startswith("np.") or "." not in callee else "." + callee.split(".")[-1]
    if isinstance(value, ast.AugAssign):
        return "version bump (+= 1)"
    return "attribute, item or name (no call)"


def generated_code_profile(key: str, calls: int = 300, top: int = 12) -> str:
    """The compiled step of one workload: whole-call and bare-replay times against hand-written
    numpy, then its statements by time, and the same grouped by what they call."""
    workload = _workload(key)
    step = _LIBRARY["autotensor_compiled"].build(workload.spec).step
    step()  # traces
    # The step is the compiled function, or a functools.partial of it with the workload's data.
    compiled, arguments = getattr(step, "func", step), getattr(step, "args", ())
    namespace = dict(compiled.bindings)
    exec(compiled.source, namespace)  # noqa: S102 - the generated code, run on its own
    replay = namespace[ast.parse(compiled.source).body[0].name]
    functions: dict[str, Callable[[], Any]] = {
        "hand-written numpy step": _LIBRARY["numpy"].build(workload.spec).step,
        "compiled step (the CompiledFunction call)": step,
        "the replay function alone": functools.partial(replay, *arguments),
    }
    timings = measure(functions, Settings.for_mode(quick=False))
    statements = statement_times(compiled, arguments, calls)
    total = sum(statement.nanoseconds for statement in statements)
    ranked = sorted(statements, key=lambda statement: -statement.nanoseconds)[:top]
    grouped: dict[str, list[float]] = defaultdict(list)
    for statement in statements:
        grouped[_callee(statement.line, compiled.bindings)].append(statement.nanoseconds)
    by_callee = sorted(grouped.items(), key=lambda item: -sum(item[1]))
    arithmetic = [statement.nanoseconds for statement in statements
                  if _callee(statement.line, compiled.bindings).startswith(("np.", "."))]
    split = (f"numpy calls and array methods: {len(arithmetic)} statements, {sum(arithmetic) / 1e3:.2f} us; "
             f"the rest (gradients stored, version counters bumped, the "
             f"optimiser's replayed call, tensors and objects read): {len(statements) - len(arithmetic)} "
             f"statements, {(total - sum(arithmetic)) / 1e3:.2f} us.")
    numpy_us, compiled_us, replay_us = (timing.median for timing in timings.values())
    budget = []
    if workload.compiled_target is not None:
        allowed = workload.compiled_target * numpy_us
        excess = (f"{compiled_us - allowed:.2f} us too many" if compiled_us > allowed
                  else "within it in this measurement")
        budget = [f"Target: at most {workload.compiled_target:.2f} x {numpy_us:.2f} = {allowed:.2f} us; the "
                  f"compiled step takes {compiled_us:.2f} us, {excess}; the call around the replay "
                  f"costs {compiled_us - replay_us:.2f} us of it.", ""]
    return "\n".join([
        f"#### {workload.title}",
        "",
        markdown_table(["", "us per step"], [[name, f"{timing.median:.2f}"] for name, timing in timings.items()]),
        "",
        *budget,
        f"Statements of the generated code: {len(statements)}, adding up to {total / 1e3:.2f} us "
        f"per call (clock cost taken off); {split} The {top} slowest:",
        "",
        markdown_table(["ns per call", "share", "statement"],
                       [[f"{s.nanoseconds:,.0f}", f"{s.nanoseconds / total:.0%}", f"`{s.line}`"] for s in ranked]),
        "",
        "Grouped by what the statement calls:",
        "",
        markdown_table(["calls", "statements", "ns per call, together", "share"],
                       [[f"`{name}`", str(len(times)), f"{sum(times):,.0f}", f"{sum(times) / total:.0%}"]
                        for name, times in by_callee]),
    ])


if __name__ == "__main__":
    import sys

    for key in sys.argv[1:] or ["car_32"]:
        print(generated_code_profile(key), end="\n\n")
