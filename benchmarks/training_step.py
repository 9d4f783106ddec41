"""Time one full training step (forward, loss, backward, SGD update) of small networks.

The workloads are in :mod:`benchmarks.workloads`; each library's step in
:mod:`benchmarks.steps` (hand-written numpy, autotensor eager and compiled, and the optional
peers: PyTorch eager and ``torch.compile``, ``jax.jit``, ``tf.function``, HIPS autograd,
micrograd); the tables in :mod:`benchmarks.training_report`.  Every implementation starts from
the same parameters, float64, one thread.

Before anything is timed, every implementation's gradients at the starting parameters are
compared with the hand-written ones (``np.allclose``, rtol 1e-6), twice: for a library that
compiles, the first call traces or compiles and the second runs what it made, and both must
agree.  One that disagrees is left out of the table with a message, never timed.  The first
call's time of each compiling library is kept (trace or compile time).  Then all the steps of a
workload are timed interleaved in the same run, and ratios are to the hand-written numpy median
of that run.  Run ``python -m benchmarks.training_step [--quick] [--only car_32,tanh]``.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
import numpy as np

from benchmarks.steps import LIBRARIES, Implementation
from benchmarks.timing import Settings, Timing, describe_machine, log, machine, measure
from benchmarks.training_report import report
from benchmarks.workloads import Workload, workloads

RTOL, ATOL = 1e-6, 1e-9
# torch.compile spends 15-30 s compiling each workload's step (Inductor builds C++ with gcc):
# more than the whole quick run may take, so only the full run times it.
FULL_RUN_ONLY = ("torch_compile",)


def check(implementation: Implementation, reference: list[np.ndarray]) -> tuple[str | None, list[float]]:
    """Compare the gradients of two calls with the reference; return a message saying where they
    differ (None when they agree) and the seconds each call took."""
    seconds = []
    for call in ("first", "second"):
        start = time.perf_counter()
        grads = implementation.gradients()
        seconds.append(time.perf_counter() - start)
        problem = _difference(grads, reference)
        if problem:
            return f"{call} call: {problem}", seconds
    return None, seconds


def _difference(grads: list[np.ndarray], reference: list[np.ndarray]) -> str | None:
    if len(grads) != len(reference):
        return f"{len(grads)} gradients, the reference has {len(reference)}"
    for index, (got, want) in enumerate(zip(grads, reference)):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape or not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            error = np.max(np.abs(got - want)) if got.shape == want.shape else f"shape {got.shape} vs {want.shape}"
            return f"gradient {index} differs from the hand-written one (max |difference| {error})"
    return None


def run(quick: bool = False, only: Sequence[str] = ()) -> dict[str, Any]:
    """Check and time every workload (or those whose key is in ``only``); return the results
    as a JSON-ready dict."""
    settings = Settings.for_mode(quick)
    found, data_note = workloads()
    results: dict[str, Any] = {"data": data_note, "workloads": [], "problems": [], "skipped": [],
                               "first_calls": []}
    libraries = []
    for library in LIBRARIES:
        note = library.missing()
        if note is None and quick and library.key in FULL_RUN_ONLY:
            note = f"{library.title}: compiling takes tens of seconds per workload, timed in the full run only"
        if note:
            log("training_step: " + note)
            results["skipped"].append(note)
        else:
            libraries.append(library)
    for workload in found:
        if only and workload.key not in only:
            continue
        log(f"training_step: {workload.title}")
        reference = LIBRARIES[0].build(workload.spec).gradients()
        steps = {}
        for library in libraries:
            implementation = None if library.key in workload.excluded else library.build(workload.spec)
            if implementation is None:
                continue
            problem, seconds = check(implementation, reference)
            if library.compiled:
                results["first_calls"].append({"workload": workload.key, "library": library.key,
                                               "first_s": seconds[0], "second_s": seconds[-1]})
            if problem:
                message = f"{workload.title}: {library.title} left out, {problem}"
                log("  " + message)
                results["problems"].append(message)
                continue
            steps[library.key] = implementation.step
        results["workloads"].append(_summary(workload, measure(steps, settings)))
    return results


def _summary(workload: Workload, timings: dict[str, Timing]) -> dict[str, Any]:
    base = timings["numpy"].median
    return {
        "key": workload.key, "title": workload.title,
        "eager_target": workload.eager_target, "compiled_target": workload.compiled_target,
        "small_network": workload.small_network,
        "timings_us": {name: timing.as_dict() for name, timing in timings.items()},
        "ratio_to_numpy": {name: timing.median / base for name, timing in timings.items()},
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI): fewer, shorter samples")
    parser.add_argument("--only", default="", help="comma-separated workload keys, e.g. car_32,tanh")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, only=[key for key in args.only.split(",") if key])
    results["machine"] = machine()
    print(describe_machine(results["machine"]))
    print()
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return results


if __name__ == "__main__":
    main()
