"""The engine's eager overhead in this checkout against another one (an earlier commit).

``python -m benchmarks.before_after OTHER [--rounds N] [--out FILE]`` where ``OTHER`` is a
checkout of an earlier commit (``git worktree add /tmp/before <commit>``).  Two versions of a
package cannot share one process, so each measurement is a fresh process that imports one
checkout (``PYTHONPATH``) and times, with that checkout's own ``benchmarks/overhead.py``, the
per-op costs on 4x4 tensors, plus one eager training step of the car network.  The two
checkouts take turns, ``N`` rounds in alternating order, so that the machine's slow and fast
moments fall on both; the table gives the median over rounds and the ratio after / before.
Nothing here asserts anything about time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
# What each process reports, from overhead.py's table (per op) and the training step.
OP_COLUMNS = {"recording": "recording", "backward": "backward / op (chain of 50)", "fixed": "fixed backward cost"}


def measure_here(quick: bool) -> dict[str, float]:
    """Run in the child process: the checkout on ``sys.path`` is the one measured."""
    import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
    import numpy as np

    import autotensor as at
    import nn
    from benchmarks.overhead import _cases, measure_case
    from benchmarks.timing import Settings, measure

    settings = Settings.for_mode(quick)
    found: dict[str, float] = {}
    for case in _cases():
        row = measure_case(case, settings)
        for key, label in OP_COLUMNS.items():
            found[f"{case.name}: {label}"] = row[key]
    rng = np.random.default_rng(0)
    for rows in (32, 7249):
        model = nn.MLP([3, 3, 2, 1], activation="tanh", output_activation="identity", seed=0)
        parameters = list(model.parameters())
        X, y = rng.normal(size=(rows, 3)), rng.normal(size=(rows, 1))

        def step() -> None:
            for p in parameters:
                p.grad = None
            loss = ((model(X) - y) ** 2).mean()
            loss.backward()
            with at.no_grad():
                for p in parameters:
                    p.data -= 0.01 * p.grad.data

        found[f"car 3-3-2-1 training step, batch {rows:,}"] = measure({"step": step}, settings)["step"].median
    found["imported from"] = str(Path(at.__file__).resolve().parent.parent)  # type: ignore[assignment]
    return found


def run_in(checkout: Path, quick: bool) -> dict[str, float]:
    """One measurement in a fresh process importing ``checkout``."""
    environment = dict(os.environ, PYTHONPATH=str(checkout))
    command = [sys.executable, str(Path(__file__).resolve()), "--child"] + (["--quick"] if quick else [])
    finished = subprocess.run(command, cwd=checkout, env=environment, capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"before_after: measuring {checkout} failed:\n{finished.stderr[-3000:]}")
    result = json.loads(finished.stdout.splitlines()[-1])
    imported = Path(result.pop("imported from"))
    if imported != checkout.resolve():
        raise SystemExit(f"before_after: {checkout} was asked for but {imported} was imported")
    return result


def compare(before: Path, rounds: int, quick: bool) -> dict[str, Any]:
    sides = {"before": before, "after": CHECKOUT}
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for number in range(rounds):
        order = ["before", "after"] if number % 2 == 0 else ["after", "before"]
        for side in order:
            print(f"before_after: round {number + 1}/{rounds}, {side}", file=sys.stderr)
            runs[side].append(run_in(sides[side], quick))
    names = [name for name in runs["after"][0] if name in runs["before"][0]]
    table = {}
    for name in names:
        b = statistics.median(run[name] for run in runs["before"])
        a = statistics.median(run[name] for run in runs["after"])
        table[name] = {"before": b, "after": a, "ratio": a / b}
    return {"before": str(before), "after": str(CHECKOUT), "rounds": rounds, "rows": table}


def report(results: dict[str, Any], before_label: str) -> str:
    lines = [
        f"## Eager overhead: this checkout against {before_label}",
        "",
        f"Median over {results['rounds']} alternating runs of each checkout (microseconds; per-op rows on "
        "4x4 float64 tensors, from `benchmarks/overhead.py`).",
        "",
        "| measurement | before | after | after / before |",
        "|---|---|---|---|",
    ]
    for name, row in results["rows"].items():
        lines.append(f"| {name} | {row['before']:.2f} | {row['after']:.2f} | {row['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?", type=Path, help="a checkout of the earlier commit")
    parser.add_argument("--label", help="how the table names the earlier checkout (default: its path)")
    parser.add_argument("--rounds", type=int, default=8, help="runs of each checkout (default 8)")
    parser.add_argument("--quick", action="store_true", help="shorter samples in each run")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(args.quick)))
        return
    if args.before is None or not (args.before / "autotensor" / "__init__.py").is_file():
        parser.error("give the path of a checkout of the earlier commit (it holds autotensor/__init__.py)")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    results = compare(args.before.resolve(), args.rounds, args.quick)
    text = report(results, args.label or str(args.before))
    print(text)
    if args.out is not None:
        partial = args.out.with_name(args.out.name + ".partial")
        partial.write_text(text)
        partial.replace(args.out)  # written whole or not at all


if __name__ == "__main__":
    main()
