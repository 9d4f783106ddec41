"""What every benchmark shares: interleaved timing with robust statistics, the machine
description, optional libraries, and small table helpers.

Timing method.  Each implementation is first calibrated so that one *sample* (a loop of
``number`` calls) lasts about ``sample_seconds``; then, after a warm-up, the implementations are
timed in rounds, round-robin and in a rotating order, so that a burst of machine noise hits all
of them alike.  A sample's time divided by ``number`` is one observation; we report the median
and the 10th/90th percentiles of the observations, in microseconds per call.  The garbage
collector is paused inside a sample, as ``timeit`` does (no library under test builds cycles).
"""
from __future__ import annotations

import ctypes
import datetime
import gc
import importlib
import os
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

import benchmarks
from nn.backprop.timing import seconds_for_calls


@dataclass(frozen=True)
class Timing:
    """Microseconds per call: median and 10th/90th percentiles over the samples."""

    median: float
    p10: float
    p90: float
    samples: int
    calls_per_sample: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    """How long to measure: ``--quick`` (CI) or the full run that writes the results."""

    rounds: int
    sample_seconds: float
    warmup_seconds: float

    @classmethod
    def for_mode(cls, quick: bool) -> Settings:
        if quick:
            return cls(rounds=5, sample_seconds=0.004, warmup_seconds=0.02)
        return cls(rounds=31, sample_seconds=0.02, warmup_seconds=0.2)


def _calibrate(function: Callable[[], Any], sample_seconds: float, warmup_seconds: float) -> int:
    """Warm ``function`` up and return how many calls make one sample of ``sample_seconds``."""
    number = 1
    spent = 0.0
    while True:
        elapsed = seconds_for_calls(function, number)
        spent += elapsed
        if elapsed >= sample_seconds / 4 and spent >= warmup_seconds:
            break
        if elapsed < sample_seconds / 4:
            number *= 2
    return max(1, round(number * sample_seconds / max(elapsed, 1e-9)))


def measure(functions: Mapping[str, Callable[[], Any]], settings: Settings) -> dict[str, Timing]:
    """Time each function (no arguments, one call = one unit of work), interleaved round-robin."""
    names = list(functions)
    numbers = {
        name: _calibrate(functions[name], settings.sample_seconds, settings.warmup_seconds)
        for name in names
    }
    observations: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(settings.rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = seconds_for_calls(functions[name], numbers[name])
            observations[name].append(elapsed / numbers[name] * 1e6)
        gc.collect()
    result = {}
    for name in names:
        values = np.array(observations[name])
        p10, median, p90 = np.percentile(values, [10, 50, 90])
        result[name] = Timing(float(median), float(p10), float(p90), len(values), numbers[name])
    return result


def time_once(function: Callable[[], Any], repeats: int = 3) -> float:
    """Best of ``repeats`` single calls, in seconds (for long runs such as huge graphs)."""
    best = float("inf")
    for _ in range(repeats):
        best = min(best, seconds_for_calls(function, 1))
    return best


# ---------------------------------------------------------------- optional libraries
def optional(module: str) -> Any | None:
    """Import an optional peer library, or return None when it is not installed."""
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a broken optional install must not stop the benchmarks
        return None


_torch: Any = None


def torch_module() -> Any | None:
    """PyTorch pinned to one thread, or None when it is not installed."""
    global _torch
    if _torch is None:
        _torch = optional("torch") or False
        if _torch:
            _torch.set_num_threads(1)
    return _torch or None


# ---------------------------------------------------------------- the machine
def blas_threads() -> int | None:
    """The thread count the BLAS behind numpy will use, asked of OpenBLAS itself."""
    names = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in paths:
        library = ctypes.CDLL(path)
        for name in names:
            function = getattr(library, name, None)
            if function is not None:
                return int(function())
    return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Versions, processor and thread settings, for the header of every results file."""
    torch = torch_module()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "autograd": _version("autograd"),
        "micrograd": _version("micrograd"),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "tensorflow": _version("tensorflow-cpu") or _version("tensorflow"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "blas_threads": blas_threads(),
        "torch_threads": torch.get_num_threads() if torch else None,
        "allocator": benchmarks.ALLOCATOR,
        "thread_variables": {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def _version(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def describe_machine(info: Mapping[str, Any]) -> str:
    """One paragraph for the top of a results file."""
    peers = ", ".join(f"{name} {info[name]}" for name in ("torch", "jax", "jaxlib", "tensorflow", "autograd", "micrograd")
                      if info.get(name))
    return (
        f"{info['date']}; {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"numpy {info['numpy']}{', ' + peers if peers else ''}; float64; threads: BLAS "
        f"{info['blas_threads']}, torch {info['torch_threads']}; allocator: {info['allocator']}"
    )


# ---------------------------------------------------------------- tables
def microseconds(value: float) -> str:
    """A time in microseconds with the precision that the noise allows."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
