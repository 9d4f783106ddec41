"""Normalising the car listings for the network, and prices back to euros."""
import json
import re

import numpy as np
import pytest

from nn.carprice import DataError, Normalizer
from tests.carprice.tables import small_table


def test_normalizer_uses_population_std_and_price_min_max():
    table = small_table(km=[0, 2], fuel=["Diesel", "Essence"], age=[1, 5], price=[2000, 6000])
    normalizer = Normalizer().fit(table)
    X = normalizer.transform(table.km, table.fuel, table.age)
    np.testing.assert_array_equal(X, [[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    y = normalizer.transform_price([2000, 4000, 6000])
    np.testing.assert_array_equal(y, [[0.0], [0.5], [1.0]])


def test_features_of_the_fit_data_have_mean_0_and_std_1(cleaned):
    X, y = Normalizer().fit(cleaned).transform_table(cleaned)
    assert X.shape == (9061, 3) and X.dtype == np.float64 and y.shape == (9061, 1)
    np.testing.assert_allclose(X[:, [0, 2]].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X[:, [0, 2]].std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(X[:, 1], np.where(cleaned.fuel == "Diesel", -1.0, 1.0))
    assert y.min() == 0.0 and y.max() == 1.0


def test_inverse_price_undoes_transform_price(cleaned):
    normalizer = Normalizer().fit(cleaned)
    prices = np.array([1300.0, 9999.5, 17000.0, 85000.0, 120000.0])
    round_trip = normalizer.inverse_price(normalizer.transform_price(prices))
    np.testing.assert_allclose(round_trip.ravel(), prices, rtol=1e-12)


def test_one_car_can_be_transformed_from_scalars(cleaned):
    normalizer = Normalizer().fit(cleaned)
    X = normalizer.transform(38000, "petrol", 3)
    np.testing.assert_array_equal(X, normalizer.transform([38000], ["Essence"], [3]))
    assert X.shape == (1, 3)


def test_transform_refuses_unknown_fuels_and_ragged_columns(cleaned):
    normalizer = Normalizer().fit(cleaned)
    with pytest.raises(DataError, match="unknown fuel 'GPL'"):
        normalizer.transform([1], ["GPL"], [1])
    with pytest.raises(ValueError, match="differ in length: 2, 1, 1"):
        normalizer.transform([1, 2], ["Diesel"], [1])


def test_normalizer_refuses_to_transform_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        Normalizer().transform([1], ["Diesel"], [1])
    with pytest.raises(RuntimeError, match="not fitted"):
        Normalizer().inverse_price([0.5])


def test_normalizer_cannot_be_fitted_to_a_constant_column():
    table = small_table(km=[5, 5], fuel=["Diesel", "Diesel"], age=[1, 2], price=[2000, 3000])
    with pytest.raises(DataError, match="'km_std' must be positive"):
        Normalizer().fit(table)


def test_statistics_survive_a_json_round_trip(cleaned):
    normalizer = Normalizer().fit(cleaned)
    restored = Normalizer.from_dict(json.loads(json.dumps(normalizer.to_dict())))
    assert restored.to_dict() == normalizer.to_dict()
    np.testing.assert_array_equal(
        restored.transform(cleaned.km, cleaned.fuel, cleaned.age),
        normalizer.transform(cleaned.km, cleaned.fuel, cleaned.age),
    )
    assert all(type(value) is float for value in normalizer.to_dict().values())


def test_from_dict_names_missing_and_unexpected_keys():
    stats = {"km_mean": 1.0, "km_std": 1.0, "age_mean": 1.0, "age_std": 1.0, "price_min": 0.0}
    expected = r"missing keys \['price_max'\], unexpected keys \['extra'\]"
    with pytest.raises(DataError, match=expected):
        Normalizer.from_dict(stats | {"extra": 1.0})


@pytest.mark.parametrize("bad", [float("nan"), "3", None, True])
def test_from_dict_refuses_values_that_are_not_finite_numbers(bad):
    stats = dict(km_mean=1.0, km_std=1.0, age_mean=1.0, age_std=bad, price_min=0.0, price_max=1.0)
    with pytest.raises(DataError, match="'age_std' must be a finite number"):
        Normalizer.from_dict(stats)


@pytest.mark.parametrize("name, value", [("price_max", 1e308), ("km_mean", -1e300), ("age_std", 1e200)])
def test_from_dict_refuses_statistics_beyond_any_car(name, value):
    stats = dict(km_mean=1.0, km_std=1.0, age_mean=1.0, age_std=1.0, price_min=0.0, price_max=1.0) | {name: value}
    with pytest.raises(DataError, match=re.escape(f"'{name}' is {value!r}, beyond the largest plausible value")):
        Normalizer.from_dict(stats)
