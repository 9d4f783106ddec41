"""``autotensor predict``: price one car, or every car of a CSV file, with a saved model.

The model file carries the normaliser statistics, so a car is given as people say it: km,
fuel name (French or English, any case) and age in years.  Only cars inside the model's
domain are priced (:mod:`nn.carprice.domain`): no more km and no older than its training
cars, and a price within its training prices.  Any other car is refused with the reason,
never given a negative or made-up price.

Exit status: 2 for a car given on the command line that is impossible or outside the domain;
1 for a model or ``--csv`` file that cannot be read or is invalid - a malformed file, or a row
that cannot be priced, unless ``--skip-invalid`` prices the other rows and reports each
skipped one with its line and reason.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from nn.carprice import FUEL_SPELLINGS, CarPriceModel, DataError, SkippedRow, fuel_name, read_cars_to_price
from nn.cli.arguments import non_negative_number
from nn.cli.errors import EXIT_OK, UsageError

HELP = "price a car (or a CSV of cars) with a saved model"
DESCRIPTION = (
    "Price one car (--km --fuel --age) or every car of a CSV (columns km,fuel,age) in euros. Only cars "
    "like the training cars are priced: at most their km and age, and a price within their prices; "
    "others are refused with the reason."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor predict``: one car, or a CSV file of cars."""
    parser.add_argument("--model", default="model.npz", metavar="PATH", help="model file (default: model.npz)")
    parser.add_argument("--km", type=non_negative_number, help="kilometres driven")
    parser.add_argument("--fuel", help=f"diesel or petrol, any case (accepted: {', '.join(FUEL_SPELLINGS)})")
    parser.add_argument("--age", type=non_negative_number, help="age in years")
    parser.add_argument("--csv", metavar="PATH", help="CSV with columns km,fuel,age in any order (others are ignored)")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="with --csv: price the valid rows, report each invalid one (line and reason) on stderr")


def run(args: argparse.Namespace) -> int:
    """Check the car(s), load the model, print the price(s); return the exit status."""
    single = [name for name in ("km", "fuel", "age") if getattr(args, name) is not None]
    if args.csv and single:
        raise UsageError("give either --csv or --km/--fuel/--age, not both")
    if not args.csv:
        if args.skip_invalid:
            raise UsageError("--skip-invalid only applies with --csv")
        return _price_one(args)
    return _price_file(Path(args.csv), args.model, args.skip_invalid)


def _price_one(args: argparse.Namespace) -> int:
    missing = [f"--{name}" for name in ("km", "fuel", "age") if getattr(args, name) is None]
    if missing:
        raise UsageError(f"missing {', '.join(missing)} (or give --csv with columns km,fuel,age)")
    try:
        fuel_name(args.fuel)
    except DataError as error:
        raise UsageError(f"--fuel: {error}") from None
    model = CarPriceModel.load(args.model)
    (quote,) = model.price([args.km], [args.fuel], [args.age])
    if quote.refusal:
        raise UsageError(f"cannot price this car: {quote.refusal} (this model prices {model.domain.describe()})")
    print(f"{quote.price:,.0f} EUR  ({args.km:,.0f} km, {args.fuel}, {args.age:g} years)")
    return EXIT_OK


def _price_file(path: Path, model_path: str, skip_invalid: bool) -> int:
    """Price the cars of ``path``: all of them, or with ``skip_invalid`` the valid ones."""
    cars = read_cars_to_price(path)
    model = CarPriceModel.load(model_path)
    quotes = model.price(cars.km, cars.fuel, cars.age) if len(cars) else []
    invalid = sorted(
        cars.invalid + [SkippedRow(line, f"{path}:{line}: cannot price this car: {quote.refusal}")
                        for line, quote in zip(cars.lines, quotes) if quote.refusal],
        key=lambda row: row.line,
    )
    if invalid and not skip_invalid:
        more = len(invalid) - 1
        others = f" (and {more} more invalid row{'s' if more > 1 else ''})" if more else ""
        raise DataError(f"{invalid[0].reason}{others}; fix the file, or --skip-invalid prices the valid rows")
    cars_and_quotes = zip(zip(cars.km, cars.fuel, cars.age), quotes)
    priced = [(car, quote) for car, quote in cars_and_quotes if not quote.refusal]
    if not priced:
        raise DataError(f"{path}: none of its {len(invalid)} rows can be priced; the first: {invalid[0].reason}")
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["km", "fuel", "age", "price_eur"])
    for (km, fuel, age), quote in priced:
        writer.writerow([f"{km:.15g}", fuel, f"{age:.15g}", f"{quote.price:.0f}"])  # km and age as given
    for row in invalid:
        print(f"autotensor predict: skipped {row.reason}", file=sys.stderr)
    if invalid:
        print(f"autotensor predict: priced {len(priced)} cars of {path}, skipped {len(invalid)} invalid rows",
              file=sys.stderr)
    return EXIT_OK
