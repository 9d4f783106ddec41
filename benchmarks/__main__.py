"""Run every benchmark: ``python -m benchmarks`` (full) or ``python -m benchmarks --quick`` (CI).

The full run writes ``results.md``, ``results.json`` and ``scaling.png`` next to this file.
``--quick`` (under a minute) runs the same code on fewer sizes and shorter samples and writes
into a temporary directory, so the committed results are never overwritten by a noisy CI run;
``--out DIR`` chooses where either mode writes.  Nothing here asserts anything about time: the
only failure is a library whose gradients disagree with the hand-written reference, which is
reported and left out, or an error in the scripts themselves.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
from benchmarks import overhead, scaling, training_step
from benchmarks.timing import describe_machine, log, machine

HERE = Path(__file__).resolve().parent


def write_results(out: Path, info: dict[str, Any], results: dict[str, Any], quick: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plot_name = "scaling.png"
    scaling.plot(results["scaling"], str(out / plot_name))
    markdown = "\n".join([
        "# Benchmarks",
        "",
        f"Machine: {describe_machine(info)}.",
        "",
        ("**Quick run** (CI mode: short samples, few sizes): numbers are indicative only."
         if quick else
         "Full run of `python -m benchmarks`. Every number is a median of interleaved "
         "samples taken after warm-up; ratios are to hand-written numpy in the same run."),
        "",
        training_step.report(results["training_step"]),
        "",
        overhead.report(results["overhead"]),
        "",
        scaling.report(results["scaling"]),
        "",
        f"![scaling]({plot_name})",
        "",
    ])
    (out / "results.md").write_text(markdown)
    (out / "results.json").write_text(json.dumps({"machine": info, "quick": quick, **results}, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run for CI (under a minute); writes to a temp dir")
    parser.add_argument("--out", help="directory for results.md, results.json and scaling.png")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else (Path(tempfile.mkdtemp(prefix="autotensor-bench-")) if args.quick else HERE)

    start = time.perf_counter()
    info = machine()
    results = {
        "training_step": training_step.run(quick=args.quick),
        "overhead": overhead.run(quick=args.quick),
        "scaling": scaling.run(quick=args.quick),
    }
    print(f"Machine: {describe_machine(info)}\n")
    print(training_step.report(results["training_step"]))
    print()
    print(overhead.report(results["overhead"]))
    print()
    print(scaling.report(results["scaling"]))
    write_results(out, info, results, args.quick)
    print(f"\nresults written to {out} in {time.perf_counter() - start:.0f} s")
    if results["training_step"]["problems"]:
        log("some libraries were left out because their gradients disagreed: see the list above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
