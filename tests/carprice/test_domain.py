"""The prediction domain: a saved model prices only cars like its training cars, never below 0."""
import numpy as np
import pytest

import nn
from nn.carprice import CarPriceModel, PricingDomain, Quote
from tests.carprice.model_files import resaved


def test_the_domain_is_read_from_the_model_file(car_model_path):
    model = CarPriceModel.load(car_model_path)
    ranges, stats = model.metadata["input_ranges"], model.metadata["normalizer"]
    assert model.domain == PricingDomain(ranges["km"][1], ranges["age"][1], stats["price_min"], stats["price_max"])
    assert model.domain == PricingDomain(830000.0, 21.0, 1300.0, 85000.0)  # the real listings, default split


def test_inside_the_domain_a_quote_is_the_networks_price(car_model_path):
    model = CarPriceModel.load(car_model_path)
    km, fuel, age = [38000, 150000, 0], ["diesel", "Essence", "PETROL"], [3, 10, 0]
    assert model.price(km, fuel, age) == [Quote(price) for price in model.predict(km, fuel, age).tolist()]


def test_cars_beyond_the_training_cars_are_refused_with_the_reason(car_model_path):
    model = CarPriceModel.load(car_model_path)
    too_far, too_old = model.price([3_800_000, 38000], ["diesel", "diesel"], [3, 60])
    assert too_far == Quote(None, "km 3,800,000 is beyond the training cars (at most 830,000 km)")
    assert too_old == Quote(None, "age 60 is beyond the training cars (at most 21 years)")
    assert model.domain.describe() == "km 0 to 830,000, age 0 to 21 years, prices 1,300 to 85,000 EUR"


def test_no_car_gets_a_negative_price_or_one_outside_the_training_prices(car_model_path):
    model = CarPriceModel.load(car_model_path)
    domain = model.domain
    km, age = np.meshgrid(np.linspace(0, 2 * domain.km_max, 41), np.linspace(0, 2 * domain.age_max, 43))
    km, age = km.ravel().tolist() * 2, age.ravel().tolist() * 2
    fuel = ["diesel"] * (len(km) // 2) + ["petrol"] * (len(km) // 2)
    quotes = model.price(km, fuel, age)
    priced = [q.price for q in quotes if q.refusal is None]
    assert priced and all(domain.price_min <= price <= domain.price_max for price in priced)
    # Inside the input ranges the network still goes below every training price where no
    # training car was (many km and many years together): those cars are refused for their price.
    network = model.predict(km, fuel, age)
    inside = (np.array(km) <= domain.km_max) & (np.array(age) <= domain.age_max)
    cheap_inside = inside & (network < domain.price_min)
    assert cheap_inside.any() and network.min() < 0
    for index in np.flatnonzero(cheap_inside):
        assert quotes[index].price is None and quotes[index].refusal.startswith("the network's price, ")
        assert "is outside the training prices (1,300 to 85,000 EUR)" in quotes[index].refusal


@pytest.mark.parametrize("ranges, fragment", [
    (None, "'input_ranges' must be an object"),
    ("km 0-10", "'input_ranges' must be an object"),
    ({"km": [0, 830000]}, "input_ranges['age'] must be [min, max]"),
    ({"km": "0..830000", "age": [0, 21]}, "input_ranges['km'] must be [min, max]"),
    ({"km": [0, 830000], "age": ["0", "21"]}, "input_ranges['age']"),
    ({"km": [0, 830000], "age": [21, 0]}, "input_ranges['age']"),
    ({"km": [0, True], "age": [0, 21]}, "input_ranges['km']"),
    ({"km": [0, 1e300], "age": [0, 21]}, "input_ranges['km'] must be [min, max] with 0 <= min <= max <= 10,000,000"),
])
def test_wrongly_typed_input_ranges_are_a_damaged_model_file(car_model_path, tmp_path, ranges, fragment):
    path = resaved(car_model_path, tmp_path, input_ranges=ranges)
    with pytest.raises(nn.ModelFileError, match=r"changed\.npz: ") as raised:
        CarPriceModel.load(path)
    assert fragment in str(raised.value)


def test_huge_normaliser_statistics_are_a_damaged_model_file(car_model_path, tmp_path):
    stats = nn.load(car_model_path).metadata["normalizer"] | {"price_max": 1e308, "price_min": -1e308}
    with pytest.raises(nn.ModelFileError, match="damaged normaliser statistics: .*'price_min' is -1e"):
        CarPriceModel.load(resaved(car_model_path, tmp_path, normalizer=stats))


def test_a_network_that_gives_no_finite_price_is_a_damaged_model_file(car_model_path, tmp_path):
    overflowing = nn.MLP([3, 1], output_activation="identity")
    for parameter in overflowing.parameters():
        parameter.data[...] = 1e308  # finite weights whose products overflow to inf
    model = CarPriceModel.load(resaved(car_model_path, tmp_path, model=overflowing))
    with pytest.raises(nn.ModelFileError, match=r"changed\.npz: the network gives no finite price \(-?inf\)"):
        model.price([38000], ["diesel"], [3])
