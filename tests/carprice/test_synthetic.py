"""Synthetic listings: drawn from a model fitted to the real ones, and refitted from them."""

import numpy as np
import pytest

from nn.carprice import CarTable, DataError, clean, synthetic


RELATIVE_TOLERANCE = 0.10
FUEL_SHARE_TOLERANCE = 0.02
CORRELATION_TOLERANCE = 0.1


@pytest.fixture(scope="module")
def generated() -> CarTable:
    return synthetic.generate(n=9061, seed=0)


@pytest.mark.parametrize("column", ["km", "age", "price"])
def test_synthetic_means_and_spreads_match_the_real_listings(cleaned, generated, column):
    real, fake = getattr(cleaned, column), getattr(generated, column)
    assert fake.mean() == pytest.approx(real.mean(), rel=RELATIVE_TOLERANCE)
    assert fake.std() == pytest.approx(real.std(), rel=RELATIVE_TOLERANCE)


def test_synthetic_petrol_share_matches_the_real_listings(cleaned, generated):
    share = np.mean(generated.fuel == "Essence")
    assert share == pytest.approx(np.mean(cleaned.fuel == "Essence"), abs=FUEL_SHARE_TOLERANCE)


@pytest.mark.parametrize("a, b", [("price", "age"), ("price", "km"), ("km", "age")])
def test_synthetic_correlations_match_the_real_listings(cleaned, generated, a, b):
    def correlation(table):
        return np.corrcoef(getattr(table, a), getattr(table, b))[0, 1]

    assert correlation(generated) == pytest.approx(correlation(cleaned), abs=CORRELATION_TOLERANCE)


def test_refitting_the_real_listings_reproduces_the_stored_parameters(cleaned):
    fitted = synthetic.fit_parameters(cleaned)
    assert fitted.keys() == synthetic.FITTED.keys()
    for name, value in fitted.items():
        assert synthetic.FITTED[name] == pytest.approx(value, rel=1e-6), name


def test_fit_command_prints_a_literal_of_the_parameters(car_csv_path, capsys):
    synthetic.main(["--fit", str(car_csv_path)])
    namespace: dict = {}
    exec(capsys.readouterr().out, namespace)
    assert namespace["FITTED"] == synthetic.FITTED


def test_fitting_synthetic_listings_recovers_the_model_that_made_them():
    refitted = synthetic.fit_parameters(synthetic.generate(n=20000, seed=1))
    for name in ("petrol_share", "age_beta_a", "age_beta_b", "km_per_year", "log_price_per_year",
                 "log_price_per_km", "log_price_petrol", "log_price_noise_std"):
        assert refitted[name] == pytest.approx(synthetic.FITTED[name], rel=0.10), name


def test_synthetic_listings_are_reproducible_whole_numbers_that_survive_cleaning(generated):
    again, other = synthetic.generate(n=9061, seed=0), synthetic.generate(n=9061, seed=1)
    np.testing.assert_array_equal(again.price, generated.price)
    assert not np.array_equal(other.price, generated.price)
    for column in (generated.km, generated.age, generated.price):
        np.testing.assert_array_equal(column, np.round(column))
    kept, report = clean(generated)
    assert report.rows_kept == len(generated) == 9061


def test_fit_parameters_refuses_uncleaned_listings(real_table):
    with pytest.raises(DataError, match="other fuels"):
        synthetic.fit_parameters(real_table)
