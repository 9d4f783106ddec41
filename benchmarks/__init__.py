"""Benchmarks of autotensor against hand-written numpy backprop, PyTorch and other autograds.

Scripts, not tests: they time, print tables and write results files, and assert nothing about
time (only that every library's gradients agree with the hand-written reference before it is
timed).  ``python -m benchmarks`` runs them all; ``python -m benchmarks --quick`` is the short
version CI runs.

Importing the package pins the BLAS and OpenMP thread pools to one thread *before* numpy is
imported, so that every library is measured on one core with the same BLAS.
"""
from __future__ import annotations

import os
import sys
import warnings

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

if "numpy" in sys.modules and any(os.environ.get(name) != "1" for name in _THREAD_VARIABLES):
    warnings.warn(
        "benchmarks: numpy was imported before the thread count could be pinned to 1; "
        "run the benchmarks as `python -m benchmarks` so the numbers are single-threaded",
        stacklevel=2,
    )
for _name in _THREAD_VARIABLES:
    os.environ[_name] = "1"
