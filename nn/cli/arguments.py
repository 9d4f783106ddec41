"""Parsing the command line: a parser whose errors are one line, and checked argument types.

Each type turns the text of one option into a value or raises ``argparse.ArgumentTypeError``
with a one-line reason, which the parser reports with the option's name and exit status 2.
"""
from __future__ import annotations

import argparse
import math
from typing import Any, NoReturn

from nn.cli.errors import EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``prog: error: message (see prog --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def whole_number_from(minimum: int) -> Any:
    """An argparse type: a whole number of at least ``minimum``, else a one-line reason."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = whole_number_from(1)
non_negative_int = whole_number_from(0)


def number(text: str) -> float:
    """A finite number (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_number(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def non_negative_number(text: str) -> float:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    value = number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def layer_sizes(text: str) -> tuple[int, ...]:
    """"3,2" -> (3, 2); "" or "none" -> no hidden layer."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 3,2, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def add_training_options(parser: argparse.ArgumentParser, *, seed_help: str, held_out: str, test_fraction: float,
                         out: str) -> None:
    """The options every training command shares: its two seeds, the test fraction (``held_out``
    names what is held out: rows, digits), eager or compiled steps, and the model file."""
    parser.add_argument("--seed", type=non_negative_int, default=0, help=f"{seed_help} (default: 0)")
    parser.add_argument("--split-seed", type=non_negative_int, default=0,
                        help=f"which {held_out} are held out for testing (default: 0)")
    parser.add_argument("--test-fraction", type=fraction, default=test_fraction,
                        help=f"share of {held_out} held out (default: {test_fraction:g})")
    parser.add_argument("--no-compile", action="store_true",
                        help="run the training step eagerly instead of compiled (at.compile; the same model to 1e-12)")
    parser.add_argument("--out", default=out, metavar="PATH", help=f"model file (default: {out})")
