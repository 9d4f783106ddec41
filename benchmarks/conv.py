"""Convolution and pooling, forward + backward, against PyTorch: ``python -m benchmarks.conv``.

One call is ``op(x, ...).backward(u)``, for a fixed random upstream gradient ``u``, with the
gradients of the previous call cleared, on the digits' batch shape (64x1x8x8) and a CIFAR-sized one (32x3x32x32), float64, one
thread: ``conv2d`` with 16 filters of 3x3 and padding 1 (with bias), ``max_pool2d`` and
``avg_pool2d`` over 2x2, and a whole convolutional block (conv, relu, max pool).  Columns:
autotensor eager, the same function through ``at.compile``, PyTorch's CPU build; the ratios are
to PyTorch, measured in the same run (interleaved samples, medians; see ``benchmarks.timing``).
Every library's gradients are checked against PyTorch's before it is timed.  Without PyTorch
the autotensor columns are still timed.  ``--quick`` takes shorter samples (CI runs it).
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
import numpy as np

import autotensor as at
from benchmarks.timing import Settings, describe_machine, log, machine, markdown_table, measure, microseconds, torch_module

SHAPES = [(64, 1, 8, 8), (32, 3, 32, 32)]
FILTERS = 16


def _conv(lib: Any, x: Any, w: Any, b: Any) -> Any:
    return lib.conv2d(x, w, b, padding=1)


def _block(lib: Any, x: Any, w: Any, b: Any) -> Any:
    return lib.max_pool2d(lib.conv2d(x, w, b, padding=1).relu(), 2)


# name -> (what the call computes, given a library exposing conv2d/max_pool2d/avg_pool2d; uses w and b?)
WORKLOADS: dict[str, tuple[Callable[..., Any], bool]] = {
    "conv2d 3x3, 16 filters, padding 1": (_conv, True),
    "max_pool2d 2x2": (lambda lib, x, w, b: lib.max_pool2d(x, 2), False),
    "avg_pool2d 2x2": (lambda lib, x, w, b: lib.avg_pool2d(x, 2), False),
    "conv2d + relu + max_pool2d": (_block, True),
}


def _functions(workload: str, shape: tuple[int, ...]) -> tuple[dict[str, Callable[[], Any]], dict[str, list[Any]]]:
    """The timed calls of each library, and the gradients each left after one call."""
    compute, uses_weights = WORKLOADS[workload]
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=shape), rng.normal(size=(FILTERS, shape[1], 3, 3)) * 0.3, rng.normal(size=FILTERS)]
    if not uses_weights:
        arrays = arrays[:1]
    ours = [at.Tensor(a.copy(), requires_grad=True) for a in arrays]
    with at.no_grad():
        upstream = rng.normal(size=compute(at, *ours, *([None] * (3 - len(ours)))).shape)

    def autotensor_call(u: np.ndarray) -> None:
        for t in ours:
            t.grad = None
        compute(at, *ours, *([None] * (3 - len(ours)))).backward(u)

    # u is an argument, so that the compiled call reads it afresh at every call (an array
    # that only meets untraced values is folded into the trace as a constant)
    compiled = at.compile(autotensor_call)
    functions = {"autotensor": lambda: autotensor_call(upstream), "compiled": lambda: compiled(upstream)}
    grads = {}
    for name in ("autotensor", "compiled"):
        functions[name]()
        functions[name]()  # the compiled one: traced, then replayed
        grads[name] = [t.grad.data.copy() for t in ours]
    torch = torch_module()
    if torch is not None:
        F = torch.nn.functional
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        upstream_t = torch.tensor(upstream)

        def torch_call() -> None:
            for t in theirs:
                t.grad = None
            compute(F, *theirs, *([None] * (3 - len(theirs)))).backward(upstream_t)

        torch_call()
        functions["PyTorch"] = torch_call
        grads["PyTorch"] = [t.grad.numpy().copy() for t in theirs]
    return functions, grads


def run(quick: bool = False) -> dict[str, Any]:
    """Time every workload on every shape; libraries whose gradients differ from PyTorch's are
    reported in ``problems`` and left out."""
    settings = Settings.for_mode(quick)
    rows, problems = [], []
    for shape in SHAPES:
        for workload in WORKLOADS:
            log(f"conv benchmark: {workload} on {'x'.join(map(str, shape))}")
            functions, grads = _functions(workload, shape)
            reference = grads.get("PyTorch")
            for name in ("autotensor", "compiled"):
                if reference is not None and not all(np.allclose(a, r, rtol=1e-9, atol=1e-9)
                                                     for a, r in zip(grads[name], reference)):
                    problems.append(f"{name} on {workload} {shape}: gradients differ from PyTorch's")
                    del functions[name]
            timings = measure(functions, settings)
            rows.append({"shape": list(shape), "workload": workload,
                         "microseconds": {name: timing.median for name, timing in timings.items()}})
    return {"rows": rows, "problems": problems, "quick": quick}


def table(results: dict[str, Any]) -> str:
    """Median microseconds per forward + backward call; in parentheses the ratio to PyTorch."""
    header = ["input", "workload", "autotensor", "autotensor compiled", "PyTorch"]
    lines = []
    for row in results["rows"]:
        times = row["microseconds"]
        torch_time = times.get("PyTorch")

        def cell(name: str) -> str:
            if name not in times:
                return "-"
            ratio = f" ({times[name] / torch_time:.2f}x)" if torch_time and name != "PyTorch" else ""
            return microseconds(times[name]) + ratio

        lines.append(["x".join(map(str, row["shape"])), row["workload"],
                      cell("autotensor"), cell("compiled"), cell("PyTorch")])
    return markdown_table(header, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conv", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short samples (CI)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    info = machine()
    results = run(quick=args.quick)
    print(f"Machine: {describe_machine(info)}\n")
    print("Forward + backward, median microseconds per call (ratio to PyTorch):\n")
    print(table(results))
    for problem in results["problems"]:
        log(f"left out: {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, **results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
