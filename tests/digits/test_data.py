"""Document 003's digits as the application prepares them: the shipped images, one-hot targets,
standardised pixels."""
from __future__ import annotations

import numpy as np
import pytest

from nn import digits

pytest.importorskip("sklearn")


def test_the_digits_are_the_1797_images_shipped_with_scikit_learn() -> None:
    data = digits.load_digits()
    assert len(data) == digits.COUNT == 1797
    assert data.images.shape == (1797, 8, 8) and data.images.dtype == np.float64
    assert data.images.min() == 0 and data.images.max() == 16
    assert sorted(set(data.labels.tolist())) == list(range(10))
    assert data.features.shape == (1797, 64)
    np.testing.assert_array_equal(data.features[5], data.images[5].ravel())


def test_one_hot_rows_have_a_single_one_at_the_label() -> None:
    np.testing.assert_array_equal(digits.one_hot(np.array([9, 0, 3])),
                                  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                                   [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]])
    for bad in (np.array([10]), np.array([-1]), np.array([1.0]), np.array([[1]])):
        with pytest.raises(ValueError, match="one_hot"):
            digits.one_hot(bad)


def test_standardising_gives_each_pixel_mean_0_and_std_1_on_the_digits_it_was_fitted_on() -> None:
    features = digits.load_digits().features
    fitted = digits.Standardizer().fit(features[:1000])
    scaled = fitted.transform(features[:1000])
    varying = features[:1000].std(axis=0) > 0
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0)[varying], 1, rtol=1e-12)
    assert not varying.all() and np.all(scaled[:, ~varying] == 0)  # a pixel that is always 0 stays 0
    assert fitted.transform(features[1000:]).shape == (797, 64)  # later digits: the same statistics


def test_the_statistics_round_trip_and_damaged_ones_are_refused() -> None:
    fitted = digits.Standardizer().fit(digits.load_digits().features)
    again = digits.Standardizer.from_dict(fitted.to_dict())
    np.testing.assert_array_equal(again.mean, fitted.mean)
    np.testing.assert_array_equal(again.scale, fitted.scale)
    for damaged in ({}, {"mean": [0.0] * 64}, {"mean": [0.0] * 3, "scale": [1.0] * 3},
                    {"mean": [0.0] * 64, "scale": [0.0] * 64}, {"mean": ["a"] * 64, "scale": [1.0] * 64}):
        with pytest.raises(ValueError, match="standardiser statistics"):
            digits.Standardizer.from_dict(damaged)


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'autotensor\[digits\]'"):
        digits.load_digits()
