"""``autotensor predict``: price one car, or every car of a CSV file, with a saved model.

The model file carries the normaliser statistics, so a car is given as people say it: km,
fuel name (French or English, any case) and age in years.  A car outside the training range
is still priced, with a note on stderr that the price is an extrapolation.
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

from nn.carprice import CarPriceModel, DataError, encode_fuel
from nn.cli.arguments import number
from nn.cli.errors import EXIT_OK, UsageError

HELP = "price a car (or a CSV of cars) with a saved model"
DESCRIPTION = "Price one car (--km --fuel --age) or every car of a CSV (columns km,fuel,age) in euros."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor predict``: one car, or a CSV file of cars."""
    parser.add_argument("--model", default="model.npz", metavar="PATH", help="model file (default: model.npz)")
    parser.add_argument("--km", type=number, help="kilometres driven")
    parser.add_argument("--fuel", help="diesel or petrol (also: essence, gasoline; any case)")
    parser.add_argument("--age", type=number, help="age in years")
    parser.add_argument("--csv", metavar="PATH", help="CSV with columns km,fuel,age (others are ignored)")


def run(args: argparse.Namespace) -> int:
    """Check the car(s), load the model, print the price(s); return the exit status."""
    single = [name for name in ("km", "fuel", "age") if getattr(args, name) is not None]
    if args.csv and single:
        raise UsageError("give either --csv or --km/--fuel/--age, not both")
    if not args.csv and len(single) != 3:
        missing = [f"--{name}" for name in ("km", "fuel", "age") if getattr(args, name) is None]
        raise UsageError(f"missing {', '.join(missing)} (or give --csv with columns km,fuel,age)")
    if args.csv:
        km, fuel, age = _read_cars(Path(args.csv))
    else:
        km, fuel, age = [args.km], [args.fuel], [args.age]
        try:
            encode_fuel(args.fuel)
        except DataError as error:
            raise UsageError(str(error)) from None
        for name, value in (("km", args.km), ("age", args.age)):
            if value < 0:
                raise UsageError(f"--{name} must be >= 0, got {value:g}")
    model = CarPriceModel.load(args.model)
    prices = model.predict(km, fuel, age)
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["km", "fuel", "age", "price_eur"])
        for row in zip(km, fuel, age, prices):
            writer.writerow([f"{row[0]:g}", row[1], f"{row[2]:g}", f"{row[3]:.0f}"])
    else:
        for note in model.outside_training_range(args.km, args.age):
            print(f"note: {note}; the price is an extrapolation", file=sys.stderr)
        print(f"{prices[0]:,.0f} EUR  ({args.km:,.0f} km, {args.fuel}, {args.age:g} years)")
    return EXIT_OK


def _read_cars(path: Path) -> tuple[list[float], list[str], list[float]]:
    """km, fuel and age columns of a CSV, every row checked (errors name the line)."""
    if not path.is_file():
        raise UsageError(f"--csv: no such file {path}")
    km: list[float] = []
    fuel: list[str] = []
    age: list[float] = []
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = [c for c in ("km", "fuel", "age") if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}: missing column(s) {', '.join(missing)}; expected a header with km,fuel,age")
        for row in reader:
            line = reader.line_num
            values = {}
            for name in ("km", "age"):
                try:
                    value = float(row[name] or "nan")
                except ValueError:
                    value = float("nan")
                if not (math.isfinite(value) and value >= 0):
                    raise UsageError(f"{path}:{line}: {name} must be a number >= 0, got {row[name]!r}")
                values[name] = value
            try:
                encode_fuel(row["fuel"] or "")
            except DataError as error:
                raise UsageError(f"{path}:{line}: {error}") from None
            km.append(values["km"])
            fuel.append(row["fuel"])
            age.append(values["age"])
    if not km:
        raise UsageError(f"{path}: no cars in the file")
    return km, fuel, age
