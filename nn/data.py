"""Rows for training: a reproducible train/test split and shuffled mini-batches.

Every application that fits a model to a table of examples needs both: a test part the model
never trains on, drawn the same way every run so that runs can be compared, and a fresh order
of the training rows every epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["minibatches", "split_problems", "train_test_split"]


def train_test_split(
    n_or_arrays: int | Sequence[np.ndarray], test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """A shuffled split that the same seed always reproduces.

    With a row count ``n`` it returns ``(train_indices, test_indices)``. With a sequence of
    arrays of equal length it returns each array split the same way, in the order
    ``a_train, a_test, b_train, b_test, …``. The test part has ``round(n * test_fraction)``
    rows; both parts must be non-empty.
    """
    if isinstance(n_or_arrays, (int, np.integer)):
        arrays, n = None, int(n_or_arrays)
    else:
        arrays = [np.asarray(a) for a in n_or_arrays]
        n = _common_length(arrays)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    n_test = round(n * test_fraction)
    if not 0 < n_test < n:
        raise ValueError(
            f"cannot split {n} rows with test_fraction={test_fraction}: a part would be empty"
        )
    order = np.random.default_rng(seed).permutation(n)
    train, test = order[n_test:], order[:n_test]
    if arrays is None:
        return train, test
    return tuple(part for a in arrays for part in (a[train], a[test]))


def _common_length(arrays: list[np.ndarray]) -> int:
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"arrays to split differ in length: {sorted(lengths)}")
    return lengths.pop()


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[slice | np.ndarray]:
    """The rows of one epoch, ``batch_size`` at a time, in a fresh random order from ``rng``.

    When one batch holds every row, the single selection is ``slice(None)``: all rows in
    their order, without shuffling (which would change nothing) or copying.
    """
    if batch_size >= n:
        yield slice(None)
        return
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def split_problems(seed: int, split_seed: int, test_fraction: float) -> list[str]:
    """What is wrong with a run's seeds (each >= 0) and test fraction (strictly between 0 and 1),
    one sentence each, for a settings object to report together with its own checks."""
    problems = [f"{name} must be >= 0, got {value}" for name, value in (("seed", seed), ("split_seed", split_seed))
                if value < 0]
    if not 0 < test_fraction < 1:
        problems.append(f"test fraction must be between 0 and 1, got {test_fraction}")
    return problems
