"""``autotensor digits``: document 003's handwritten digits, classified by an MLP or a small CNN.

Parses the settings into a :class:`nn.digits.DigitsConfig`, checks every output path and the
train/test split before any work, says which digits and which network it uses, shows progress,
prints the test accuracy and the confusion matrix, and saves the model (and, with ``--plot``, the
loss curves beside a grid of the misclassified test digits) - both or neither.  ``--document``
trains document 003's own setting instead (sigmoid, quadratic cost, plain gradient descent,
rate 0.25, 3,000 iterations).  Ctrl-C stops at once and leaves any previous model file as it was
(exit status 130).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nn import digits
from nn.cli.arguments import add_training_options, non_negative_int, positive_int, positive_number
from nn.cli.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError
from nn.cli.outputs import check_model_and_plot, save_model_and_plot
from nn.cli.progress import train_with_progress

HELP = "train the digits classifier of document 003 (MLP or CNN): accuracy and confusion matrix"
DESCRIPTION = ("Classify the 1,797 8x8 handwritten digits shipped with scikit-learn (document 003: one-hot "
               "targets, standardised pixels) with the 64-30-10 MLP or a small CNN; print the test accuracy "
               "and the confusion matrix; save the model.  Needs: pip install 'autotensor[digits]'.")

#: Options that --document fixes (the document's rate, iterations and batch).
FIXED_BY_DOCUMENT = ("epochs", "batch_size", "lr")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor digits``; None defaults come from the chosen recipe."""
    d = digits.DigitsConfig()
    parser.add_argument("--arch", choices=digits.ARCHITECTURES, default=d.arch,
                        help="mlp: 64-30-10 (relu); cnn: two 3x3 convolutions with max pooling (default: mlp)")
    parser.add_argument("--document", action="store_true",
                        help="document 003's own setting: the 64-30-10 MLP with sigmoid units, weights from "
                             "U[0, 1), quadratic cost, plain gradient descent with rate 0.25 for 3,000 iterations")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"default: {digits.RECIPES['mlp'].epochs} (mlp), {digits.RECIPES['cnn'].epochs} (cnn)")
    parser.add_argument("--batch-size", type=non_negative_int, default=None,
                        help=f"digits per update, 0 = all (default: {digits.RECIPES['mlp'].batch_size} (mlp), "
                             f"{digits.RECIPES['cnn'].batch_size} (cnn))")
    parser.add_argument("--lr", type=positive_number, default=None,
                        help=f"Adam's learning rate (default: {digits.RECIPES['mlp'].lr:g} (mlp), "
                             f"{digits.RECIPES['cnn'].lr:g} (cnn))")
    add_training_options(parser, seed_help="initial weights, dropout and batch order", held_out="digits",
                         test_fraction=d.test_fraction, out="digits.npz")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="also draw the loss curves and the misclassified test digits")


def run(args: argparse.Namespace) -> int:
    """Check the settings and every output, train, report, save; return the exit status."""
    config = _config(args)
    out = Path(args.out)
    plot = None if args.plot is None else Path(args.plot)
    check_model_and_plot(out, plot)
    try:
        trained, tested = digits.check_split(digits.COUNT, config.test_fraction)
    except digits.SplitError as error:
        raise UsageError(f"--test-fraction {config.test_fraction:g}: {error}") from None
    data = digits.load_digits()  # ImportError without scikit-learn: exit 1, naming the extra
    print(f"data: {len(data):,} handwritten digits of 8x8 pixels (scikit-learn's copy); {trained:,} for "
          f"training, {tested:,} for testing; one-hot targets, pixels standardised on the training digits")
    print(f"model: {config.describe()}")
    result = train_with_progress("digits", out, config.total_epochs,
                                 lambda progress: digits.train(config, progress, data))
    if result is None:
        return EXIT_INTERRUPTED
    right = int((result.predicted == result.test_digits.labels).sum())
    print(f"trained in {result.seconds:.1f} s on {len(result.train_digits):,} digits")
    print(f"test accuracy {result.accuracy:.4f} ({right} of {len(result.predicted)} test digits); "
          f"training digits {result.train_accuracy:.4f}")
    print(digits.format_confusion(result.confusion))
    save_model_and_plot(out, plot, result.save, lambda path, format: digits.plot_training(result, path, format=format))
    return EXIT_OK


def _config(args: argparse.Namespace) -> digits.DigitsConfig:
    if args.document:
        given = [f"--{name.replace('_', '-')}" for name in FIXED_BY_DOCUMENT if getattr(args, name) is not None]
        if args.arch != "mlp":
            given.insert(0, f"--arch {args.arch}")
        if given:
            raise UsageError(f"--document trains document 003's own MLP with its rate, iterations and full "
                             f"batch; drop {', '.join(given)}")
    try:
        return digits.DigitsConfig(
            arch=args.arch, document=args.document, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            seed=args.seed, split_seed=args.split_seed, test_fraction=args.test_fraction,
            compiled=not args.no_compile,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
