"""Fixtures of the car-price tests: the real listings, as read and as cleaned."""
from pathlib import Path

import pytest

from nn.carprice import CarTable, clean, read_car_csv


@pytest.fixture(scope="module")
def real_table(car_csv_path: Path) -> CarTable:
    return read_car_csv(car_csv_path)


@pytest.fixture(scope="module")
def cleaned(real_table: CarTable) -> CarTable:
    return clean(real_table)[0]
