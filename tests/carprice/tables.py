"""Small listing tables and files written for one test."""
from pathlib import Path

import numpy as np

from nn.carprice import CarTable

HEADER = "km,fuel,age,price\n"


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cars.csv"
    path.write_text(text, encoding="utf-8")
    return path


def small_table(km, fuel, age, price) -> CarTable:
    return CarTable(
        km=np.array(km, dtype=float),
        fuel=np.array(fuel, dtype=str),
        age=np.array(age, dtype=float),
        price=np.array(price, dtype=float),
    )
