"""Splitting rows into training and test parts, reproducibly."""

import numpy as np
import pytest

from nn.data import train_test_split


def test_split_is_disjoint_covers_every_row_and_has_the_asked_size():
    train, test = train_test_split(101, test_fraction=0.2, seed=3)
    assert len(test) == 20 and len(train) == 81
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(101))


def test_same_seed_gives_the_same_split_and_another_seed_a_different_one():
    first, again, other = (train_test_split(1000, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[0], again[0])
    assert set(first[1].tolist()) != set(other[1].tolist())


def test_arrays_are_split_with_their_rows_kept_together():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    X_train, X_test, y_train, y_test = train_test_split([X, y], test_fraction=0.3, seed=1)
    assert len(X_test) == len(y_test) == 3
    np.testing.assert_array_equal(X_train[:, 0] * 5, y_train)
    np.testing.assert_array_equal(X_test[:, 0] * 5, y_test)
    assert not set(y_train.tolist()) & set(y_test.tolist())


@pytest.mark.parametrize("n, fraction", [(10, 0.0), (10, 1.0), (1, 0.5), (10, 0.01)])
def test_split_refuses_an_empty_part(n, fraction):
    with pytest.raises(ValueError):
        train_test_split(n, test_fraction=fraction)
