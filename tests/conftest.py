"""Shared fixtures."""

import os
from pathlib import Path

import pytest

REAL_CAR_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "car_features.csv"


@pytest.fixture(scope="session")
def car_csv_path() -> Path:
    """The real listings; CI must have them, so there a missing file fails instead of skipping."""
    if not REAL_CAR_CSV.is_file():
        message = f"real car data not found at {REAL_CAR_CSV}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REAL_CAR_CSV
