"""``autotensor train``: train the car-price network, report it in euros, save it.

Parses the settings into a :class:`nn.carprice.TrainConfig` and checks every output path and
the train/test split before the first epoch, says which listings and which network it uses,
shows progress, prints R^2, MAE and RMSE on the training and test cars, and saves the model
(and, with ``--plot``, the loss curves) - both or neither.  Ctrl-C stops training at once and
leaves any previous model file as it was (exit status 130).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from nn import carprice
from nn.carprice import DEFAULT_LR, OPTIMIZERS, SCHEDULES, Metrics, TrainConfig
from nn.cli.arguments import (
    add_training_options, layer_sizes, non_negative_int, non_negative_number, positive_int, positive_number,
)
from nn.cli.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError
from nn.cli.outputs import check_model_and_plot, save_model_and_plot
from nn.cli.progress import train_with_progress
from nn.layers import ACTIVATIONS

HELP = "train the car-price network and save it"
DESCRIPTION = "Train the car-price network; print R^2, MAE and RMSE in euros; save the model."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor train``; the defaults are those of ``TrainConfig``."""
    d = TrainConfig()
    activations = sorted(ACTIVATIONS)
    parser.add_argument("--data", metavar="PATH", help="listings CSV (km,fuel,age,price); default: the "
                        "cached real listings, else a synthetic sample")
    parser.add_argument("--hidden", type=layer_sizes, default=d.hidden, metavar="SIZES",
                        help=f"hidden layer widths, comma-separated (default: {','.join(map(str, d.hidden))})")
    parser.add_argument("--activation", choices=activations, default=d.activation,
                        help=f"hidden activation (default: {d.activation})")
    parser.add_argument("--output-activation", choices=activations, default=d.output_activation,
                        help=f"output activation (default: {d.output_activation})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                        help=f"default: {d.optimizer}")
    parser.add_argument("--lr", type=positive_number, default=None,
                        help="learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    parser.add_argument("--momentum", type=non_negative_number, default=d.momentum,
                        help=f"SGD momentum (default: {d.momentum:g})")
    parser.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                        help=f"learning-rate schedule over the epochs (default: {d.schedule})")
    parser.add_argument("--epochs", type=positive_int, default=d.epochs, help=f"default: {d.epochs}")
    parser.add_argument("--batch-size", type=non_negative_int, default=d.batch_size,
                        help=f"rows per update, 0 = full batch (default: {d.batch_size})")
    parser.add_argument("--l2", type=non_negative_number, default=d.l2,
                        help="L2 weight decay lambda on the weight matrices (default: 0)")
    add_training_options(parser, seed_help="initial weights and batch order", held_out="rows",
                         test_fraction=d.test_fraction, out="model.npz")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw loss curves and predicted vs actual prices")


def run(args: argparse.Namespace) -> int:
    """Check the settings and every output, train, report, save; return the exit status."""
    config = _config(args)
    out = Path(args.out)
    plot = None if args.plot is None else Path(args.plot)
    check_model_and_plot(out, plot)
    source = carprice.choose_data(args.data)
    _check_split(source, config, args.data)
    print(f"data: {source.description}")
    print(f"model: {config.describe()}")
    result = train_with_progress("train", out, config.epochs, lambda progress: carprice.train(source, config, progress))
    if result is None:
        return EXIT_INTERRUPTED
    print(f"trained in {result.seconds:.1f} s on {len(result.train_table)} listings, "
          f"tested on {len(result.test_table)}")
    print(_metrics_table(result.metrics))
    _save(result, out, plot)
    return EXIT_OK


def _config(args: argparse.Namespace) -> TrainConfig:
    try:
        return TrainConfig(
            hidden=args.hidden, activation=args.activation, output_activation=args.output_activation,
            optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, epochs=args.epochs,
            batch_size=args.batch_size, l2=args.l2, schedule=args.schedule, seed=args.seed,
            split_seed=args.split_seed, test_fraction=args.test_fraction, compiled=not args.no_compile,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def _check_split(source: carprice.DataSource, config: TrainConfig, data: str | None) -> None:
    """Enough listings on both sides of the split, known before the first epoch."""
    try:
        carprice.check_split(len(source.table), config.test_fraction)
    except carprice.SplitError as error:
        raise UsageError(f"--test-fraction {config.test_fraction:g}: {error}") from None
    except carprice.DataError as error:
        raise carprice.DataError(f"{data or source.kind + ' listings'}: {error}") from None


def _save(result: carprice.TrainResult, out: Path, plot: Path | None) -> None:
    save_model_and_plot(out, plot, result.save,
                        lambda path, format: carprice.plot_training(result, path, format=format))


def _metrics_table(metrics: dict[str, Metrics]) -> str:
    lines = [f"{'':8}{'R^2':>8}{'MAE (EUR)':>12}{'RMSE (EUR)':>13}"]
    for part, m in metrics.items():
        r2 = f"{m.r2:>8.4f}" if math.isfinite(m.r2) else f"{'n/a':>8}"  # n/a: the test prices are all equal
        lines.append(f"{part:8}{r2}{m.mae:>12,.0f}{m.rmse:>13,.0f}")
    return "\n".join(lines)
