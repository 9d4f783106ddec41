"""Synthetic car listings, for training and demos when the real file is not at hand.

The generator is a small model of one car listing whose parameters were fitted to the real
(cleaned) listings, so that a network trained on its output meets the same scales, the same
correlations and roughly the same difficulty:

* fuel: petrol (``Essence``) with probability ``petrol_share``, else ``Diesel``;
* age in whole years: the true age ``t`` is ``age_min + (age_max - age_min + 1) * B`` with
  ``B ~ Beta(age_beta_a, age_beta_b)``, and the listing shows ``floor(t)``. ``age_max`` is the
  99.9th percentile of the real ages, since the few older listings are outliers; the Beta
  law, unlike a gamma, puts the many nearly new cars next to a hard upper age, as in the data.
  ``a`` and ``b`` are matched to the mean and variance of ``(age - age_min + 0.5)`` scaled
  to [0, 1];
* km given age: a gamma law with mean ``km_intercept + km_per_year * age`` (least squares)
  and standard deviation ``km_noise_std`` (the residual spread), so it is never negative,
  rounded and clipped to the observed [km_min, km_max];
* price: ``log(price) = log_price_intercept + log_price_per_year * age + log_price_per_km * km
  + log_price_petrol * [petrol] + e`` with ``e ~ Normal(0, log_price_noise_std)`` (least
  squares on log prices, so effects are proportional), rounded and clipped to the observed
  [price_min, price_max]; ``price_min`` is above the 1000 EUR cleaning floor, so every
  generated listing survives ``nn.carprice.listings.clean``.

``FITTED`` holds the values;
``python -m nn.carprice.synthetic --fit ../shared/data/car_features.csv`` recomputes and prints
them.
"""

from __future__ import annotations

import argparse
from typing import Mapping, Sequence

import numpy as np

from nn.carprice.listings import KEPT_FUELS, CarTable, DataError, load_car_data

DIESEL, PETROL = KEPT_FUELS
AGE_QUANTILE = 99.9

# Produced by `python -m nn.carprice.synthetic --fit ../shared/data/car_features.csv`.
FITTED: dict[str, float] = {
    "age_min": 0.0,
    "age_max": 13.0,
    "age_beta_a": 1.6849728,
    "age_beta_b": 1.785852,
    "km_intercept": 13730.479,
    "km_per_year": 14602.827,
    "km_noise_std": 42637.293,
    "km_min": 1.0,
    "km_max": 970000.0,
    "petrol_share": 0.08773866,
    "log_price_intercept": 10.294719,
    "log_price_per_year": -0.092214743,
    "log_price_per_km": -2.6297078e-06,
    "log_price_petrol": 0.14578915,
    "log_price_noise_std": 0.22711568,
    "price_min": 1300.0,
    "price_max": 85000.0,
}


def fit_parameters(table: CarTable) -> dict[str, float]:
    """The model's parameters, measured on cleaned listings (fuel Diesel or Essence only)."""
    unexpected = sorted(set(table.fuel.tolist()) - set(KEPT_FUELS))
    if len(table) < 2 or unexpected:
        raise DataError(
            f"fit_parameters needs at least 2 cleaned listings (fuel in {KEPT_FUELS}); "
            f"got {len(table)} rows, other fuels {unexpected}"
        )
    return _age_parameters(table.age) | _km_parameters(table) | _price_parameters(table)


def _age_parameters(age: np.ndarray) -> dict[str, float]:
    age_min, age_max = float(np.min(age)), float(np.percentile(age, AGE_QUANTILE))
    share = (age - age_min + 0.5) / (age_max - age_min + 1)
    mean, var = float(np.mean(share)), float(np.var(share))
    concentration = mean * (1 - mean) / var - 1
    return {
        "age_min": age_min,
        "age_max": age_max,
        "age_beta_a": mean * concentration,
        "age_beta_b": (1 - mean) * concentration,
    }


def _km_parameters(table: CarTable) -> dict[str, float]:
    per_year, intercept = np.polyfit(table.age, table.km, 1)
    residual = table.km - (intercept + per_year * table.age)
    return {
        "km_intercept": float(intercept),
        "km_per_year": float(per_year),
        "km_noise_std": float(np.std(residual)),
        "km_min": float(np.min(table.km)),
        "km_max": float(np.max(table.km)),
    }


def _price_parameters(table: CarTable) -> dict[str, float]:
    petrol = (table.fuel == PETROL).astype(np.float64)
    design = np.column_stack([np.ones(len(table)), table.age, table.km, petrol])
    log_price = np.log(table.price)
    coefficients, *_ = np.linalg.lstsq(design, log_price, rcond=None)
    intercept, per_year, per_km, petrol_effect = (float(c) for c in coefficients)
    return {
        "petrol_share": float(np.mean(petrol)),
        "log_price_intercept": intercept,
        "log_price_per_year": per_year,
        "log_price_per_km": per_km,
        "log_price_petrol": petrol_effect,
        "log_price_noise_std": float(np.std(log_price - design @ coefficients)),
        "price_min": float(np.min(table.price)),
        "price_max": float(np.max(table.price)),
    }


def generate(n: int = 9061, seed: int = 0, parameters: Mapping[str, float] = FITTED) -> CarTable:
    """``n`` listings drawn from the model; the same seed gives the same listings."""
    p = parameters
    rng = np.random.default_rng(seed)
    petrol = rng.random(n) < p["petrol_share"]
    age = _draw_age(rng, n, p)
    km = _draw_km(rng, age, p)
    log_price = (
        p["log_price_intercept"]
        + p["log_price_per_year"] * age
        + p["log_price_per_km"] * km
        + p["log_price_petrol"] * petrol
        + rng.normal(0.0, p["log_price_noise_std"], n)
    )
    return CarTable(
        km=km,
        fuel=np.where(petrol, PETROL, DIESEL),
        age=age,
        price=np.clip(np.round(np.exp(log_price)), p["price_min"], p["price_max"]),
    )


def _draw_age(rng: np.random.Generator, n: int, p: Mapping[str, float]) -> np.ndarray:
    years = p["age_max"] - p["age_min"] + 1
    true_age = p["age_min"] + years * rng.beta(p["age_beta_a"], p["age_beta_b"], n)
    return np.minimum(np.floor(true_age), p["age_max"])


def _draw_km(rng: np.random.Generator, age: np.ndarray, p: Mapping[str, float]) -> np.ndarray:
    # A gamma law needs a positive mean; the floor only matters for a fit with a negative intercept.
    mean = np.maximum(p["km_intercept"] + p["km_per_year"] * age, 1.0)
    spread = p["km_noise_std"]
    km = rng.gamma(shape=(mean / spread) ** 2, scale=spread**2 / mean)
    return np.clip(np.round(km), p["km_min"], p["km_max"])


def format_parameters(parameters: Mapping[str, float]) -> str:
    """A ``FITTED = {...}`` literal to paste into this module (8 significant digits)."""
    lines = [f'    "{name}": {float(f"{value:.8g}")!r},' for name, value in parameters.items()]
    return "FITTED: dict[str, float] = {\n" + "\n".join(lines) + "\n}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m nn.carprice.synthetic", description="Fit the synthetic listing model."
    )
    parser.add_argument("--fit", metavar="CSV", required=True, help="real listings to fit to")
    args = parser.parse_args(argv)
    table, _ = load_car_data(args.fit)
    print(format_parameters(fit_parameters(table)))


if __name__ == "__main__":
    main()
