"""The training-step tables: times and ratios, their spread, the targets, the first calls.

Everything here reads the JSON-ready results of :func:`benchmarks.training_step.run`, so a
results file can be turned into tables again without timing anything.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.steps import LIBRARIES, TITLES
from benchmarks.timing import markdown_table, microseconds

Results = dict[str, Any]


def _present(results: Results) -> list[str]:
    """The libraries timed on at least one workload, in the order of ``LIBRARIES``."""
    timed = {name for entry in results["workloads"] for name in entry["timings_us"]}
    return [library.key for library in LIBRARIES if library.key in timed]


def _library_table(results: Results, first: str, cell: Callable[[Results, str], str]) -> str:
    """A row per workload (its ``first`` field), a column per library, ``cell(entry, library)``
    where the library was timed on that workload and "-" where not."""
    present = _present(results)
    rows = [[entry[first]] + [cell(entry, name) if name in entry["timings_us"] else "-" for name in present]
            for entry in results["workloads"]]
    return markdown_table(["workload"] + [TITLES[name] for name in present], rows)


def table(results: Results) -> str:
    """Median microseconds per step (ratio to hand-written numpy) for every library."""

    def cell(entry: Results, name: str) -> str:
        median = microseconds(entry["timings_us"][name]["median"])
        return median if name == "numpy" else f"{median} ({entry['ratio_to_numpy'][name]:.2f}x)"

    return _library_table(results, "title", cell)


def ratio_table(results: Results) -> str:
    """Ratios to hand-written numpy only (what the README quotes; the microseconds are noisier)."""
    return _library_table(results, "title", lambda entry, name: f"{entry['ratio_to_numpy'][name]:.2f}")


def spread_table(results: Results) -> str:
    """p10 / median / p90 for every cell, to show how noisy each number is."""

    def cell(entry: Results, name: str) -> str:
        t = entry["timings_us"][name]
        return f"{microseconds(t['p10'])} / {microseconds(t['median'])} / {microseconds(t['p90'])}"

    return _library_table(results, "key", cell)


def _than(speedup: float, peer: str) -> str:
    """'2.10x faster than X' or '1.30x slower than X' (never 'slower' with a factor below 1)."""
    return f"{speedup:.2f}x faster than {peer}" if speedup > 1 else f"{1 / speedup:.2f}x slower than {peer}"


def compiled_verdict(entry: Results) -> str:
    """The compiler issue's targets: ratio to numpy, and on small networks faster than jax.jit
    and torch.compile (where they were timed)."""
    ratios = entry["ratio_to_numpy"]
    ratio = ratios.get("autotensor_compiled")
    if ratio is None:
        return "not timed"
    target = entry["compiled_target"]
    parts, met = [], True
    if target is not None:
        met = ratio <= target
        parts.append(f"{ratio:.2f} {'<=' if met else '>'} {target:.2f}")
    if entry["small_network"]:
        for peer in ("jax_jit", "torch_compile"):
            if peer in ratios:
                speedup = ratios[peer] / ratio
                met = met and speedup > 1
                parts.append(_than(speedup, TITLES[peer]))
    if not parts:
        return "no target"
    return ("met: " if met else "MISSED: ") + ", ".join(parts)


def eager_verdict(entry: Results) -> str:
    """The benchmarks issue's targets for eager autotensor: ratio to numpy, speed-up over PyTorch."""
    ratios = entry["ratio_to_numpy"]
    if entry["eager_target"] is None or "autotensor" not in ratios:
        return "no target"
    most, need = entry["eager_target"]
    ratio = ratios["autotensor"]
    parts, met = [f"{ratio:.2f} {'<=' if ratio <= most else '>'} {most:g}"], ratio <= most
    if "torch" in ratios:
        speedup = ratios["torch"] / ratio
        met = met and (speedup >= need if need > 1 else speedup > 1)
        parts.append(_than(speedup, "PyTorch") + ("" if need == 1 else f" (need {need:g}x)"))
    return ("met: " if met else "MISSED: ") + ", ".join(parts)


def targets_table(results: Results) -> str:
    rows = [[entry["title"], compiled_verdict(entry), eager_verdict(entry)] for entry in results["workloads"]]
    return markdown_table(["workload", "autotensor compiled (compiler issue)", "autotensor eager (benchmarks issue)"],
                          rows)


def first_call_table(results: Results) -> str:
    """Milliseconds of the first call (trace or compile, and the step itself) and of the second."""
    libraries = [library.key for library in LIBRARIES
                 if any(item["library"] == library.key for item in results["first_calls"])]
    rows = []
    for entry in results["workloads"]:
        row = [entry["title"]]
        for name in libraries:
            found = [item for item in results["first_calls"] if item["workload"] == entry["key"] and item["library"] == name]
            row.append(f"{found[0]['first_s'] * 1e3:,.1f} / {found[0]['second_s'] * 1e3:,.2f}" if found else "-")
        rows.append(row)
    return markdown_table(["workload"] + [TITLES[name] for name in libraries], rows)


def report(results: Results) -> str:
    lines = [
        "## One training step (forward, loss, backward, SGD update)",
        "",
        "Median microseconds per step; in parentheses the ratio to hand-written numpy measured in "
        "the same run, interleaved. " + results["data"] + ".",
        "",
        table(results),
        "",
        "The same as ratios to hand-written numpy (the README's table):",
        "",
        ratio_table(results),
        "",
        "p10 / median / p90 (us):",
        "",
        spread_table(results),
        "",
        "### Targets",
        "",
        targets_table(results),
    ]
    if results["first_calls"]:
        lines += [
            "",
            "### First calls: tracing and compiling",
            "",
            "Milliseconds of the first call of each compiled step (it traces or compiles, then "
            "runs the step) / of the second (the compiled step, plus restoring the starting "
            "parameters and reading the gradients), measured during the gradient check. "
            "torch.compile runs with Inductor's caches switched off: a whole compilation, as on a "
            "first run.",
            "",
            first_call_table(results),
        ]
    if results["skipped"]:
        lines += ["", "Not timed:", ""] + [f"- {note}" for note in results["skipped"]]
    if results["problems"]:
        lines += ["", "Left out (gradients disagreed with the reference):", ""]
        lines += [f"- {problem}" for problem in results["problems"]]
    return "\n".join(lines)
