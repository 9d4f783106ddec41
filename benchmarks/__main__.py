"""Run every benchmark: ``python -m benchmarks`` (full) or ``python -m benchmarks --quick`` (CI).

The full run writes ``results.md``, ``results.json`` and ``scaling.png`` next to this file;
``results.md`` ends with ``compiled_misses.md``, the hand-written reading of its profiles.
``--quick`` (under a minute) runs the same code on fewer sizes and shorter samples and writes
into a temporary directory, so the committed results are never overwritten by a noisy CI run;
``--out DIR`` chooses where either mode writes.  Nothing here asserts anything about time: the
only failure is a library whose gradients disagree with the hand-written reference, which is
reported and left out, or an error in the scripts themselves.  The time to draw graphs of
growing size is measured on its own: ``python -m benchmarks.drawing``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
from benchmarks import overhead, profiles, scaling, training_report, training_step
from benchmarks.timing import describe_machine, log, machine

HERE = Path(__file__).resolve().parent
# Written by hand after reading a full run's profiles: why each missed target is missed.
ANALYSIS = HERE / "compiled_misses.md"


def default_allocator_run(quick: bool) -> dict[str, Any] | None:
    """The training-step table again, in a fresh process with glibc's default allocator."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "default.json"
        command = [sys.executable, "-m", "benchmarks.training_step", "--json", str(path)] + (["--quick"] if quick else [])
        environment = dict(os.environ, AUTOTENSOR_BENCH_DEFAULT_MALLOC="1")
        finished = subprocess.run(command, cwd=HERE.parent, env=environment, capture_output=True, text=True)
        if finished.returncode != 0:
            log(f"the default-allocator run failed:\n{finished.stderr[-2000:]}")
            return None
        return json.loads(path.read_text())


def write_results(out: Path, info: dict[str, Any], results: dict[str, Any], quick: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    plot_name = "scaling.png"
    try:
        scaling.plot(results["scaling"], str(out / plot_name))
    except ImportError:
        log("matplotlib is not installed: no scaling.png (pip install matplotlib)")
    default = results.get("training_step_default_allocator")
    extra = []
    if default:
        extra = [
            "### The same with glibc's default allocator",
            "",
            "A separate process (`AUTOTENSOR_BENCH_DEFAULT_MALLOC=1`): freed memory goes back to the "
            "kernel and large batches page-fault it back in every step. Allocator: "
            f"{default['machine']['allocator']}.",
            "",
            training_report.table(default),
            "",
        ]
    if results.get("profile"):
        extra += ["### Where the eager step's time goes", "", results["profile"], ""]
    if results.get("compiled_profiles"):
        extra += ["### Where the compiled step's time goes", "", profiles.METHOD, "",
                  *(part + "\n" for part in results["compiled_profiles"])]
        if ANALYSIS.is_file():
            extra += [ANALYSIS.read_text().strip(), ""]
    markdown = "\n".join([
        "# Benchmarks",
        "",
        f"Machine: {describe_machine(info)}.",
        "",
        ("**Quick run** (CI mode: short samples, few sizes): numbers are indicative only."
         if quick else
         "Full run of `python -m benchmarks`. Every number is a median of interleaved "
         "samples taken after warm-up; ratios are to hand-written numpy in the same run. The "
         "machine is shared (its 2 cores also run other engineers' test suites), so the "
         "microseconds are noisy; ratios measured interleaved in one run are what to quote."),
        "",
        training_report.report(results["training_step"]),
        "",
        *extra,
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
    if not args.quick:
        log("training step again with the default allocator, and a profile")
        results["training_step_default_allocator"] = default_allocator_run(args.quick)
        results["profile"] = profiles.eager_profile("car_32", steps=1000)
        results["compiled_profiles"] = [profiles.generated_code_profile(entry["key"])
                                        for entry in results["training_step"]["workloads"]
                                        if training_report.compiled_verdict(entry).startswith("MISSED")]
    print(f"Machine: {describe_machine(info)}\n")
    print(training_report.report(results["training_step"]))
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
