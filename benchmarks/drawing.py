"""How the time to draw a graph grows with its size: ``to_dot`` on chains of 1,000 to 100,000 ops.

Conversion must be linear in the number of nodes, so the time per node should stay flat.  The
unit tests check that by counting the lines of Python run (``tests/work.py``), which a loaded
machine cannot disturb; this script measures the time itself, best of three runs per size.
Run ``python -m benchmarks.drawing [--quick]``.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
import autotensor as at
from benchmarks.timing import describe_machine, log, machine, markdown_table, time_once


def chain(n: int) -> at.Tensor:
    """``n`` tanh ops in a row on one number: 2n + 1 nodes to draw."""
    y = at.Tensor(0.5, requires_grad=True)
    for _ in range(n):
        y = y.tanh()
    return y


def run(sizes: Sequence[int]) -> dict[int, float]:
    """Seconds for ``to_dot`` (no legend) on a chain of each size."""
    seconds = {}
    for n in sizes:
        log(f"drawing: chain of {n:,} ops")
        root = chain(n)
        seconds[n] = time_once(lambda: at.viz.to_dot(root, legend=False))
    return seconds


def report(seconds: dict[int, float]) -> str:
    rows = [[f"{n:,}", f"{2 * n + 1:,}", f"{s * 1e3:,.1f}", f"{s / (2 * n + 1) * 1e6:.2f}"] for n, s in seconds.items()]
    return markdown_table(["ops", "nodes", "to_dot (ms)", "per node (us)"], rows)


def main(argv: Sequence[str] | None = None) -> dict[int, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run: fewer sizes")
    args = parser.parse_args(argv)
    seconds = run([1_000, 10_000] if args.quick else [1_000, 3_000, 10_000, 30_000, 100_000])
    print(describe_machine(machine()))
    print()
    print(report(seconds))
    return seconds


if __name__ == "__main__":
    main()
