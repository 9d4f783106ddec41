"""Benchmarks of autotensor against hand-written numpy backprop, PyTorch and other autograds.

Scripts, not tests: they time, print tables and write results files, and assert nothing about
time (only that every library's gradients agree with the hand-written reference before it is
timed).  ``python -m benchmarks`` runs them all; ``python -m benchmarks --quick`` is the short
version CI runs.

Importing the package pins the BLAS and OpenMP thread pools to one thread *before* numpy is
imported, so that every library is measured on one core with the same BLAS; the optional peers'
own pools too, before they are imported (XLA's for jax, TensorFlow's intra- and inter-op pools,
Inductor's compile workers), and TensorFlow's start-up messages are silenced.

It also asks glibc's allocator to keep freed memory instead of handing it back to the kernel
(``mallopt``: no trimming, no ``mmap`` for blocks under 1 GiB).  By default glibc returns the
top of the heap as soon as enough is free, so every training step on a large batch page-faults
its arrays back in; on the measured virtual machine a fault costs about 2 us, hundreds of them
per step, and how many depends on the process's allocation history (even on which library ran
before).  Keeping freed memory removes that noise for every library alike.  Set
``AUTOTENSOR_BENCH_DEFAULT_MALLOC=1`` to measure with glibc's defaults instead; the full run
does both and reports both.
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
for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TORCHINDUCTOR_COMPILE_THREADS"):
    os.environ[_name] = "1"
os.environ["XLA_FLAGS"] = " ".join(
    [os.environ.get("XLA_FLAGS", ""), "--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
).strip()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _keep_freed_memory() -> str:
    """Switch off heap trimming and mmap for blocks under 1 GiB (glibc only); say what was done."""
    if os.environ.get("AUTOTENSOR_BENCH_DEFAULT_MALLOC") == "1":
        return "glibc defaults (freed memory returned to the kernel)"
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        if libc.mallopt(m_mmap_threshold, 1 << 30) and libc.mallopt(m_trim_threshold, 1 << 30):
            return "freed memory kept (mallopt: M_TRIM_THRESHOLD = M_MMAP_THRESHOLD = 1 GiB)"
    except (OSError, AttributeError):
        pass
    return "system default (mallopt not available)"


ALLOCATOR = _keep_freed_memory()
