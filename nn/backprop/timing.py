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
               repeats: int = DEFAULT_REPEATS) -> StepTiming:
    """Time two step functions in the same run, interleaved.

    After a warm-up, both are calibrated to one ``steps_per_sample`` (so a sample of the slower
    one lasts about ``SAMPLE_SECONDS``); then ``repeats`` rounds each time one sample of both,
    alternating which goes first, so that machine noise hits both alike. Reports medians.
    """
    for step in (autograd_step, manual_step):
        step()
    slowest = max(seconds_for_calls(autograd_step, 1), seconds_for_calls(manual_step, 1))
    number = max(1, min(1000, int(SAMPLE_SECONDS / max(slowest, 1e-9))))
    auto_times: list[float] = []
    manual_times: list[float] = []
    for r in range(repeats):
        order = [(autograd_step, auto_times), (manual_step, manual_times)]
        if r % 2:
            order.reverse()
        for step, times in order:
            times.append(seconds_for_calls(step, number) / number)
    auto_us = statistics.median(auto_times) * 1e6
    manual_us = statistics.median(manual_times) * 1e6
    return StepTiming(auto_us, manual_us, auto_us / manual_us if manual_us > 0 else math.inf, repeats, number)
