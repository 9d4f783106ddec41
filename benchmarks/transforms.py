"""What forward mode by the double vjp costs: ``at.jvp`` against one ``at.vjp``.

``at.jvp`` has no forward-mode rules: it records a backward pass from an upstream gradient ``u``
that requires grad (``u -> J^T u``, linear in ``u``) and differentiates that with respect to
``u`` (``J v``), see :mod:`autotensor.functional`.  So it costs a forward pass, a *recorded*
backward pass and a backward pass through the recorded one.  One vjp is a forward pass and a
backward pass (``at.vjp(fn, x)`` and one call of its ``vjp_fn``).  For each workload the table
gives both times and their ratio; the design bound is about 3x.  The values are checked first:
``<u, J v>`` from jvp must equal ``<J^T u, v>`` from vjp.

Run ``python -m benchmarks.transforms [--quick]``.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
import numpy as np

import autotensor as at
from benchmarks.timing import Settings, describe_machine, log, machine, markdown_table, measure, microseconds


def _mlp(sizes: list[int], rows: int, seed: int = 0) -> tuple[Callable[[Any], Any], np.ndarray]:
    """fn(first weight matrix) -> the network's outputs, the other weights fixed."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, sizes[0]))
    weights = [rng.normal(size=(n, m)) / np.sqrt(n) for n, m in zip(sizes, sizes[1:])]
    biases = [at.Tensor(rng.normal(size=m) * 0.1) for m in sizes[1:]]
    rest = [at.Tensor(w) for w in weights[1:]]

    def network(W1: Any) -> Any:
        a = at.linear(X, W1, biases[0]).tanh()
        for W, b in zip(rest, biases[1:]):
            a = at.linear(a, W, b).tanh()
        return a

    return network, weights[0]


def _chain(length: int) -> tuple[Callable[[Any], Any], np.ndarray]:
    def chain(x: Any) -> Any:
        for _ in range(length):
            x = (x * 0.9).tanh()
        return x

    return chain, np.random.default_rng(1).uniform(-1, 1, size=(4, 4))


def workloads() -> dict[str, tuple[Callable[[Any], Any], np.ndarray]]:
    return {
        "car MLP 3-3-2-1 tanh, batch 32": _mlp([3, 3, 2, 1], 32),
        "64-256-256-10 tanh, batch 256": _mlp([64, 256, 256, 10], 256),
        "chain of 50 (x * 0.9).tanh() on 4x4": _chain(50),
    }


def _check(fn: Callable[[Any], Any], x: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    _, tangent = at.jvp(fn, (x,), (v,))
    _, pull_back = at.vjp(fn, x)
    (cotangent,) = pull_back(u)
    left, right = float(np.sum(u * tangent.data)), float(np.sum(cotangent.data * v))
    if not np.isclose(left, right, rtol=1e-10, atol=1e-12):
        raise AssertionError(f"jvp and vjp disagree: <u, Jv> = {left}, <J^T u, v> = {right}")


def measure_workload(fn: Callable[[Any], Any], x: np.ndarray, settings: Settings) -> dict[str, float]:
    rng = np.random.default_rng(2)
    u = rng.normal(size=fn(at.Tensor(x)).shape)
    v = rng.normal(size=x.shape)
    _check(fn, x, u, v)

    def one_vjp() -> Any:
        _, pull_back = at.vjp(fn, x)
        return pull_back(u)

    def one_jvp() -> Any:
        return at.jvp(fn, (x,), (v,))

    timings = measure({"vjp": one_vjp, "jvp": one_jvp}, settings)
    vjp_time, jvp_time = timings["vjp"].median, timings["jvp"].median
    return {"vjp": vjp_time, "jvp": jvp_time, "ratio": jvp_time / vjp_time}


def run(quick: bool = False) -> dict[str, Any]:
    settings = Settings.for_mode(quick)
    rows = {}
    for name, (fn, x) in workloads().items():
        log(f"transforms: {name}")
        rows[name] = measure_workload(fn, x, settings)
    return {"workloads": rows}


def report(results: dict[str, Any]) -> str:
    rows = [[name, microseconds(r["vjp"]), microseconds(r["jvp"]), f"{r['ratio']:.2f}x"]
            for name, r in results["workloads"].items()]
    return "\n".join([
        "## Forward mode by the double vjp",
        "",
        "Median microseconds of one vjp (forward + backward) and of one jvp (forward, recorded "
        "backward, backward through it), interleaved; float64, one thread.",
        "",
        markdown_table(["workload", "vjp", "jvp", "jvp / vjp"], rows),
    ])


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """``--quick``: short samples.  Prints the machine and the table; returns the results."""
    quick = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick.add_argument("--quick", action="store_true", help="short run")
    results = run(quick=quick.parse_args(argv).quick)
    print(f"{describe_machine(machine())}\n\n{report(results)}")
    return results


if __name__ == "__main__":
    main()
