"""Time per training step of each network, measured in the same run, interleaved.

Machine noise (other processes, frequency changes) comes in bursts; timing the two
implementations in alternating samples makes a burst hit both alike, so their *ratio* is
trustworthy even when the microseconds are not.  The garbage collector is paused while a
sample runs, so a collection triggered by one side is not billed to it at random.
"""
from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_REPEATS = 15
SAMPLE_SECONDS = 0.003  # one timing sample runs about this long (several steps when they are fast)


@dataclass(frozen=True)
class StepTiming:
    """Microseconds per training step, median over ``repeats`` interleaved samples."""

    autograd_us: float
    manual_us: float
    ratio: float  # autograd / manual
    repeats: int
    steps_per_sample: int
    compiled_us: float | None = None  # the autograd step through at.compile, when timed
    compiled_ratio: float | None = None  # compiled / manual


def seconds_for_calls(function: Callable[[], Any], number: int) -> float:
    """Seconds for ``number`` calls of ``function`` with the garbage collector paused."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            function()
        return time.perf_counter() - start
    finally:
        if collecting:
            gc.enable()


def time_steps(autograd_step: Callable[[], None], manual_step: Callable[[], None],
               repeats: int = DEFAULT_REPEATS, compiled_step: Callable[[], None] | None = None) -> StepTiming:
    """Time the step functions in the same run, interleaved.

    After a warm-up (which also traces a compiled step), all are calibrated to one
    ``steps_per_sample`` (so a sample of the slowest lasts about ``SAMPLE_SECONDS``); then
    ``repeats`` rounds each time one sample of each, rotating which goes first, so that machine
    noise hits all alike. Reports medians.
    """
    steps = [autograd_step, manual_step] + ([compiled_step] if compiled_step is not None else [])
    for step in steps:
        step()
    slowest = max(seconds_for_calls(step, 1) for step in steps)
    number = max(1, min(1000, int(SAMPLE_SECONDS / max(slowest, 1e-9))))
    times: list[list[float]] = [[] for _ in steps]
    for r in range(repeats):
        for i in range(len(steps)):
            index = (i + r) % len(steps)
            times[index].append(seconds_for_calls(steps[index], number) / number)
    medians = [statistics.median(samples) * 1e6 for samples in times]

    def ratio(us: float) -> float:
        return us / medians[1] if medians[1] > 0 else math.inf

    compiled_us = medians[2] if compiled_step is not None else None
    return StepTiming(medians[0], medians[1], ratio(medians[0]), repeats, number,
                      compiled_us, None if compiled_us is None else ratio(compiled_us))
