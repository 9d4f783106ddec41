"""Counting work instead of timing it: no unit test reads the clock.

``lines_run(function)`` runs ``function()`` and returns how many lines of the ``autotensor``
package's Python source it executed (``sys.settrace`` line events).  The count is the same on
a loaded machine as on an idle one, and it grows with every Python-level visit of a node or an
edge, so it exposes re-visiting (exponential on diamonds) and loops within loops (quadratic).
Work inside numpy or Python's C built-ins is not counted: measuring time, up to 10^6 nodes, is
the job of ``benchmarks/scaling.py`` and ``benchmarks/drawing.py``.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import autotensor

PACKAGE = str(Path(autotensor.__file__).parent)


def lines_run(function: Callable[[], Any]) -> int:
    """Lines of autotensor's own source executed by ``function()``."""
    count = 0

    def in_package(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return in_package

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return in_package if frame.f_code.co_filename.startswith(PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        function()
    finally:
        sys.settrace(previous)
    return count


def assert_linear(work: Callable[[int], int], n: int) -> None:
    """``work(size)`` (a count of lines) grows by the same step from n to 2n as from 2n to 3n.

    Linear work a + b * size has equal steps; quadratic work has a second step larger by
    2c * n^2.  A first call at ``n`` warms the caches that only the first run fills.
    """
    work(n)
    counts = [work(size) for size in (n, 2 * n, 3 * n)]
    first, second = counts[1] - counts[0], counts[2] - counts[1]
    assert first > 0 and abs(second - first) <= 0.01 * first, f"lines run for {n}, {2 * n}, {3 * n}: {counts}"
