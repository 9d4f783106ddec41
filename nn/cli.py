"""The ``autotensor`` command line.

Subcommands are listed in :data:`COMMANDS` as ``name -> "module:attribute"`` (or just
``"module"``).  The target is any object - a module or a class - with

* ``add_arguments(parser)``: declare the subcommand's options on an argparse parser,
* ``run(args) -> int``: do the work and return the exit status,
* a ``HELP`` string (else the first line of its docstring) for ``autotensor --help``, and
  optionally a longer ``DESCRIPTION`` for ``autotensor <command> --help``.

Adding a command is one line in the table; targets are imported only when the command line is
built, so an optional dependency of one command never breaks the others.

Exit status: 0 success, 1 failure (bad data file, damaged model, failed check), 2 bad usage
(unknown options, impossible values such as a negative km), 130 interrupted by Ctrl-C.  Errors
are one line on stderr, never a traceback (set ``AUTOTENSOR_DEBUG=1`` to see one).
"""
from __future__ import annotations

import argparse
import csv
import importlib
import math
import os
import sys
import time
import types
from pathlib import Path
from typing import Any, NoReturn, Sequence, TextIO

COMMANDS: dict[str, str] = {
    "train": "nn.cli:TrainCommand",
    "predict": "nn.cli:PredictCommand",
    "graph": "nn.graphing",
    "compare": "nn.compare",
    "gradcheck": "nn.cli:GradcheckCommand",
    "data": "nn.cli:DataCommand",
}

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Input the user must correct (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``prog: error: message (see prog --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---------------------------------------------------------------------- argument types
def _whole_number_from(minimum: int) -> Any:
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


_positive_int = _whole_number_from(1)
_non_negative_int = _whole_number_from(0)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_number(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _layer_sizes(text: str) -> tuple[int, ...]:
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


def _error(command: str, message: str) -> None:
    print(f"autotensor {command}: error: {message}", file=sys.stderr)


# ---------------------------------------------------------------------- progress
class ProgressReporter:
    """Training progress: a redrawn bar on a terminal, a few plain lines in logs.

    On a TTY the bar is redrawn at most ten times a second; otherwise one line is written at
    the first epoch, every tenth of the run and the last epoch (so logs get about 11 lines).
    """

    def __init__(self, stream: TextIO, interactive: bool | None = None, width: int = 24) -> None:
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self.width = width
        self.started = time.perf_counter()
        self.last_draw = 0.0
        self.epoch = 0

    def __call__(self, epoch: int, epochs: int, train_loss: float, test_loss: float) -> None:
        self.epoch = epoch
        elapsed = time.perf_counter() - self.started
        if self.interactive:
            now = time.perf_counter()
            if epoch < epochs and now - self.last_draw < 0.1:
                return
            self.last_draw = now
            filled = round(self.width * epoch / epochs)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(
                f"\r[{bar}] epoch {epoch}/{epochs}  loss {train_loss:.6f}  test {test_loss:.6f}  {elapsed:.1f}s"
            )
            if epoch == epochs:
                self.stream.write("\n")
            self.stream.flush()
            return
        every = max(1, epochs // 10)
        if epoch == 1 or epoch == epochs or epoch % every == 0:
            self.stream.write(
                f"epoch {epoch:>{len(str(epochs))}}/{epochs}  train loss {train_loss:.6f}  "
                f"test loss {test_loss:.6f}  ({elapsed:.1f} s)\n"
            )
            self.stream.flush()

    def interrupt(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------- train
class TrainCommand:
    """Train the car-price network; print R^2, MAE and RMSE in euros; save the model."""

    HELP = "train the car-price network and save it"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        from nn.carprice import DEFAULT_LR, OPTIMIZERS, SCHEDULES, TrainConfig
        from nn.layers import ACTIVATIONS

        d = TrainConfig()
        activations = sorted(ACTIVATIONS)
        parser.add_argument("--data", metavar="PATH", help="listings CSV (km,fuel,age,price); default: the "
                            "cached real listings, else a synthetic sample")
        parser.add_argument("--hidden", type=_layer_sizes, default=d.hidden, metavar="SIZES",
                            help=f"hidden layer widths, comma-separated (default: {','.join(map(str, d.hidden))})")
        parser.add_argument("--activation", choices=activations, default=d.activation,
                            help=f"hidden activation (default: {d.activation})")
        parser.add_argument("--output-activation", choices=activations, default=d.output_activation,
                            help=f"output activation (default: {d.output_activation})")
        parser.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                            help=f"default: {d.optimizer}")
        parser.add_argument("--lr", type=_positive_number, default=None,
                            help="learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
        parser.add_argument("--momentum", type=_non_negative_number, default=d.momentum,
                            help=f"SGD momentum (default: {d.momentum:g})")
        parser.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                            help=f"learning-rate schedule over the epochs (default: {d.schedule})")
        parser.add_argument("--epochs", type=_positive_int, default=d.epochs, help=f"default: {d.epochs}")
        parser.add_argument("--batch-size", type=_non_negative_int, default=d.batch_size,
                            help=f"rows per update, 0 = full batch (default: {d.batch_size})")
        parser.add_argument("--l2", type=_non_negative_number, default=d.l2,
                            help="L2 weight decay lambda on the weight matrices (default: 0)")
        parser.add_argument("--seed", type=int, default=d.seed, help="initial weights and batch order (default: 0)")
        parser.add_argument("--split-seed", type=int, default=d.split_seed,
                            help="which rows are held out for testing (default: 0)")
        parser.add_argument("--test-fraction", type=_fraction, default=d.test_fraction,
                            help=f"share of rows held out (default: {d.test_fraction:g})")
        parser.add_argument("--out", default="model.npz", metavar="PATH", help="model file (default: model.npz)")
        parser.add_argument("--plot", metavar="FILE.png", help="also draw loss curves and predicted vs actual prices")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from nn import carprice

        try:
            config = carprice.TrainConfig(
                hidden=args.hidden, activation=args.activation, output_activation=args.output_activation,
                optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, epochs=args.epochs,
                batch_size=args.batch_size, l2=args.l2, schedule=args.schedule, seed=args.seed,
                split_seed=args.split_seed, test_fraction=args.test_fraction,
            )
        except ValueError as error:
            raise UsageError(str(error)) from None
        out = Path(args.out)
        if not out.parent.is_dir():
            raise UsageError(f"--out: directory {out.parent} does not exist")
        if args.plot:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                _error("train", "--plot needs matplotlib: pip install 'autotensor[plot]'")
                return EXIT_FAILURE
        source = carprice.choose_data(args.data)
        print(f"data: {source.description}")
        print(f"model: {config.describe()}")
        progress = ProgressReporter(sys.stderr)
        try:
            result = carprice.train(source, config, progress)
        except KeyboardInterrupt:
            progress.interrupt()
            kept = f"{out} left as it was" if out.exists() else "no model file written"
            print(f"autotensor train: interrupted at epoch {progress.epoch}/{config.epochs}; nothing saved, "
                  f"{kept}", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"trained in {result.seconds:.1f} s on {len(result.train_table)} listings, "
              f"tested on {len(result.test_table)}")
        print(_metrics_table(result.metrics))
        result.save(out)
        print(f"model saved to {out}")
        if args.plot:
            print(f"plot saved to {carprice.plot_training(result, args.plot)}")
        return EXIT_OK


def _metrics_table(metrics: dict[str, Any]) -> str:
    lines = [f"{'':8}{'R^2':>8}{'MAE (EUR)':>12}{'RMSE (EUR)':>13}"]
    for part, m in metrics.items():
        lines.append(f"{part:8}{m.r2:>8.4f}{m.mae:>12,.0f}{m.rmse:>13,.0f}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- predict
class PredictCommand:
    """Price one car (--km --fuel --age) or every car of a CSV (columns km,fuel,age) in euros."""

    HELP = "price a car (or a CSV of cars) with a saved model"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--model", default="model.npz", metavar="PATH", help="model file (default: model.npz)")
        parser.add_argument("--km", type=_number, help="kilometres driven")
        parser.add_argument("--fuel", help="diesel or petrol (also: essence, gasoline; any case)")
        parser.add_argument("--age", type=_number, help="age in years")
        parser.add_argument("--csv", metavar="PATH", help="CSV with columns km,fuel,age (others are ignored)")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from nn import carprice
        from nn.carprice import DataError, encode_fuel

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
        model = carprice.CarPriceModel.load(args.model)
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
    from nn.carprice import DataError, encode_fuel

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


# ---------------------------------------------------------------------- gradcheck
class GradcheckCommand:
    """Every registered op through the finite-difference checker, first and second order."""

    HELP = "check every op's derivative rules against finite differences"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--op", action="append", metavar="NAME", help="only this op (repeatable)")
        parser.add_argument("--first-order", action="store_true", help="skip the second-order checks")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from autotensor.gradcheck import check_op
        from autotensor.registry import REGISTRY

        names = args.op or list(REGISTRY)
        unknown = [name for name in names if name not in REGISTRY]
        if unknown:
            raise UsageError(f"unknown op(s) {', '.join(unknown)}; registered: {', '.join(REGISTRY)}")
        rows = [row for name in names for row in check_op(REGISTRY[name], second_order=not args.first_order)]
        op_width = max(len("op"), *(len(r.op) for r in rows)) if rows else 2
        case_width = max(len("case"), *(len(r.case) for r in rows)) if rows else 4
        print(f"{'op':<{op_width}}  {'case':<{case_width}}  order  {'max abs error':>13}  {'rel error':>10}  status")
        for r in rows:
            status = "ok" if r.result.passed else "FAILED"
            order = "1st" if r.order == 1 else "2nd"
            print(f"{r.op:<{op_width}}  {r.case:<{case_width}}  {order:<5}  {r.result.max_abs_error:>13.2e}  "
                  f"{r.result.relative_error:>10.2e}  {status}")
        failed = [r for r in rows if not r.result.passed]
        cases = len({(r.op, r.case) for r in rows})
        if failed:
            print(f"{len(rows)} checks ({cases} cases of {len(names)} ops), {len(failed)} FAILED:")
            for r in failed:
                print(f"  {r.result}")
            return EXIT_FAILURE
        print(f"{len(rows)} checks ({cases} cases of {len(names)} ops), all passed")
        return EXIT_OK


# ---------------------------------------------------------------------- data
class DataCommand:
    """Manage the real car listings: `autotensor data fetch` downloads them into the cache."""

    HELP = "download the real car listings into the local cache"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        from nn.carprice import download

        actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
        actions.required = True
        fetch = actions.add_parser("fetch", help="download the listings (checksum-verified) unless cached",
                                   description="Download the listings from their pinned address into the "
                                   "cache ($AUTOTENSOR_CACHE or the platform cache directory).")
        fetch.add_argument("--url", default=download.PINNED_URL, help="source address (default: the pinned one)")
        fetch.add_argument("--sha256", default=download.PINNED_SHA256, help="expected checksum (default: pinned)")
        fetch.add_argument("--cache-dir", metavar="DIR", help="cache directory (default: $AUTOTENSOR_CACHE or "
                           "the platform cache)")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from nn.carprice import download

        path = download.fetch(args.url, args.sha256, args.cache_dir)
        print(f"listings ready at {path} (sha256 verified)")
        return EXIT_OK


# ---------------------------------------------------------------------- main
def _resolve(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def _help_of(command: Any) -> str:
    text = getattr(command, "HELP", None) or (command.__doc__ or "").strip()
    return text.splitlines()[0] if text else ""


_EPILOG = """examples:
  autotensor data fetch                      download the real listings (once)
  autotensor train --plot training.png       train the 3-3-2-1 network, save model.npz
  autotensor predict --km 38000 --fuel diesel --age 3
  autotensor gradcheck                       check every op's derivatives

exit status: 0 ok, 1 failure, 2 bad usage, 130 interrupted"""


def _description_of(command: Any) -> str:
    """DESCRIPTION if given; else a class's docstring; a module's docstring is too long, so its help."""
    text = getattr(command, "DESCRIPTION", None)
    if text:
        return text
    if isinstance(command, types.ModuleType):
        return _help_of(command)
    return (command.__doc__ or "").strip()


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    """The parser with one subparser per entry of COMMANDS, and the resolved command objects."""
    parser = _Parser(
        prog="autotensor", description="autotensor: autodiff on numpy and the car-price network.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = {}
    for name, target in COMMANDS.items():
        command = _resolve(target)
        sub = subparsers.add_parser(name, help=_help_of(command), description=_description_of(command))
        command.add_arguments(sub)
        commands[name] = command
    return parser, commands


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit status."""
    parser, commands = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _run(args.command, commands[args.command], args)


def _run(name: str, command: Any, args: argparse.Namespace) -> int:
    from autotensor.errors import AutotensorError
    from nn.carprice import DataError
    from nn.serialization import ModelFileError

    try:
        return int(command.run(args))
    except UsageError as error:
        _error(name, str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\nautotensor {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `autotensor predict --csv cars.csv | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (DataError, ModelFileError, AutotensorError, ImportError, ValueError, RuntimeError) as error:
        if os.environ.get("AUTOTENSOR_DEBUG"):
            raise
        _error(name, str(error))
        return EXIT_FAILURE
    except OSError as error:
        if os.environ.get("AUTOTENSOR_DEBUG"):
            raise
        where = f": {error.filename}" if error.filename else ""
        _error(name, f"{error.strerror or error}{where}")
        return EXIT_FAILURE
    except Exception as error:  # a bug: still one line, with a way to see more
        if os.environ.get("AUTOTENSOR_DEBUG"):
            raise
        _error(name, f"internal error {type(error).__name__}: {error} (set AUTOTENSOR_DEBUG=1 for a traceback)")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
