"""``autotensor compare``: autograd against the hand-written backprop of the documents.

Parses the options, builds the two networks (the documents' seed example, or an ``nn.MLP`` and
its manual twin on the listings ``train`` would use), runs :func:`nn.backprop.run_comparison`
and prints its table or its JSON.  Exit status: 0 when everything agrees, 1 when a difference
exceeds ``--tolerance`` (or the data file cannot be read), 2 on bad usage.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from nn.backprop import (
    ACTIVATIONS, DEFAULT_REPEATS, DEFAULT_STEPS, DEFAULT_TOLERANCE, LOSSES, derived_code, format_table,
    manual_like, run_comparison, seed_example, seed_pair,
)
from nn.carprice import Normalizer, choose_data
from nn.cli.arguments import layer_sizes, non_negative_int, non_negative_number, positive_int, positive_number
from nn.cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, report_error
from nn.layers import MLP

HELP = "autograd vs hand-written backprop: gradients and deltas side by side, time per step, lockstep training"
DESCRIPTION = (
    "Run the same network with autograd (nn.MLP) and with the hand-derived backprop of the documents "
    "(nn.backprop.ManualMLP), from identical weights on the same batch, and print: for every parameter "
    "and every layer's delta dJ/dz the largest difference and the relative error ||a-m||/||a+m||; "
    "the time of a training step of each (median of interleaved samples) and their ratio; the "
    "largest weight difference after --steps identical SGD steps. --example seed runs the "
    "documents' five cars with their weights and prints their numbers; --example digits the ten-class "
    "network of document 003 (softmax cross-entropy) on the digits. Exit status: 0 agreement, "
    "1 a difference above --tolerance (or an unreadable data file), 2 bad usage."
)
DEFAULT_HIDDEN = (3, 2)
DIGITS_HIDDEN = (30,)
DEFAULT_LR = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor compare``."""
    parser.add_argument("--example", choices=["seed", "digits"], default=None,
                        help="'seed': the documents' five-car example with their weights (bias-row layout "
                             "for the manual side), printing the documents' numbers; 'digits': document 003's "
                             "ten-class network 64-30-10 (relu, linear output, softmax cross-entropy) on the "
                             "standardised digits with one-hot targets (needs scikit-learn)")
    parser.add_argument("--data", metavar="CSV", default=None,
                        help="listings CSV (km,fuel,age,price); default: the cached real listings "
                             "(`autotensor data fetch`), else a synthetic sample")
    parser.add_argument("--batch", type=positive_int, default=None, metavar="N",
                        help="use N randomly chosen rows of the data (default: all rows)")
    parser.add_argument("--hidden", type=layer_sizes, default=None, metavar="SIZES",
                        help=f"hidden layer widths, comma-separated, 'none' for no hidden layer "
                             f"(default: {','.join(map(str, DEFAULT_HIDDEN))}: the documents' 3-3-2-1 network)")
    parser.add_argument("--activation", choices=ACTIVATIONS, default=None,
                        help="hidden activation (default: tanh)")
    parser.add_argument("--output-activation", choices=ACTIVATIONS, default=None,
                        help="output activation (default: tanh; sigmoid with --loss bce)")
    parser.add_argument("--loss", choices=LOSSES, default=None,
                        help="cost: half_sse = 0.5 sum (y - yhat)^2 (default, the documents'), mse, "
                             "bce (needs a sigmoid output), softmax_cross_entropy (--example digits)")
    parser.add_argument("--l2", type=non_negative_number, default=0.0, help="L2 weight lambda: J += lambda/2 sum W^2 (default: 0)")
    parser.add_argument("--lr", type=positive_number, default=DEFAULT_LR,
                        help="learning rate alpha (default: 0.1); with half_sse the step is alpha/N, as in the "
                             "documents' W <- W - alpha (1/N) dJ/dW")
    parser.add_argument("--steps", type=non_negative_int, default=DEFAULT_STEPS,
                        help=f"lockstep training steps (default: {DEFAULT_STEPS}; 0 skips)")
    parser.add_argument("--repeats", type=non_negative_int, default=DEFAULT_REPEATS,
                        help=f"timing samples of each implementation (default: {DEFAULT_REPEATS}; 0 skips timing)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the initial weights and of --batch (default: 0)")
    parser.add_argument("--tolerance", type=positive_number, default=DEFAULT_TOLERANCE,
                        help=f"largest accepted relative error (default: {DEFAULT_TOLERANCE:g})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    parser.add_argument("--show-code", action="store_true",
                        help="also print the code at.compile generates for a training step of the network, "
                             "with the documents' formulas above the lines that compute them")


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.example == "seed":
        given = [flag for flag, value in (("--data", args.data), ("--batch", args.batch), ("--hidden", args.hidden),
                                          ("--activation", args.activation),
                                          ("--output-activation", args.output_activation),
                                          ("--loss", args.loss)) if value is not None]
        if given:
            return f"--example seed fixes the network, the data and the cost; drop {', '.join(given)}"
        if args.l2:
            return "--example seed uses the documents' cost without L2; drop --l2"
    if args.example == "digits":
        given = [flag for flag, value in (("--data", args.data), ("--loss", args.loss),
                                          ("--output-activation", args.output_activation)) if value is not None]
        if given:
            return f"--example digits fixes the data, the cost and the linear output; drop {', '.join(given)}"
    elif args.loss == "softmax_cross_entropy":
        return "--loss softmax_cross_entropy needs classes to choose between: use --example digits"
    if args.loss == "bce" and args.output_activation not in (None, "sigmoid"):
        return f"--loss bce needs a sigmoid output (probabilities), got --output-activation {args.output_activation}"
    return None


def _load_batch(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The listings ``train`` would use (``--data``, else the cached download, else the
    synthetic sample: ``nn.carprice.choose_data``), normalised, optionally ``--batch`` rows."""
    source = choose_data(args.data)
    X, y = Normalizer().fit(source.table).transform_table(source.table)
    if args.batch is not None and args.batch < len(X):
        rows = np.sort(np.random.default_rng(args.seed).choice(len(X), size=args.batch, replace=False))
        X, y = X[rows], y[rows]
    description = f"{source.description}; {len(X)} rows used, normalised"
    return X, y, {"source": source.kind, "path": None if args.data is None else str(args.data),
                  "rows": int(len(X)), "description": description}


def _digits_batch(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Document 003's digits: pixels standardised, one-hot targets, optionally ``--batch`` rows."""
    from nn import digits

    data = digits.load_digits()
    X = digits.Standardizer().fit(data.features).transform(data.features)
    y = digits.one_hot(data.labels)
    if args.batch is not None and args.batch < len(X):
        rows = np.sort(np.random.default_rng(args.seed).choice(len(X), size=args.batch, replace=False))
        X, y = X[rows], y[rows]
    description = (f"document 003's handwritten digits (scikit-learn's copy); {len(X)} of {len(data)} used, pixels "
                   f"standardised, one-hot targets")
    return X, y, {"source": "digits", "path": None, "rows": int(len(X)), "description": description}


def run(args: argparse.Namespace) -> int:
    """Run the comparison, print the table (or JSON); 0 ok, 1 mismatch, 2 bad usage."""
    problem = _usage_problem(args)
    if problem:
        report_error("compare", problem)
        return EXIT_USAGE
    if args.example == "seed":
        loss = "half_sse"
        mlp, manual = seed_pair(loss)
        X, y = seed_example.X, seed_example.Y
        data = {"source": "seed example", "path": None, "rows": int(len(X)),
                "description": "the documents' five cars (nn/backprop/seed_example.py), weights W1, W2, W3 of the documents"}
    elif args.example == "digits":
        X, y, data = _digits_batch(args)  # without scikit-learn: ImportError, exit 1 naming the extra
        loss = "softmax_cross_entropy"
        hidden = list(DIGITS_HIDDEN) if args.hidden is None else list(args.hidden)
        mlp = MLP([X.shape[1], *hidden, y.shape[1]], args.activation or "relu", "identity", seed=args.seed)
        manual = manual_like(mlp, loss, args.l2)
    else:
        X, y, data = _load_batch(args)  # an unreadable file raises: exit 1 from nn.cli, like `train`
        loss = args.loss or "half_sse"
        output = args.output_activation or ("sigmoid" if loss == "bce" else "tanh")
        hidden = list(DEFAULT_HIDDEN) if args.hidden is None else list(args.hidden)
        sizes = [X.shape[1], *hidden, y.shape[1]]
        mlp = MLP(sizes, args.activation or "tanh", output, seed=args.seed)
        manual = manual_like(mlp, loss, args.l2)
    lr = args.lr / len(X) if loss == "half_sse" else args.lr
    report = run_comparison(mlp, manual, X, y, loss=loss, l2=args.l2, lr=lr, steps=args.steps,
                            repeats=args.repeats, tolerance=args.tolerance, example=args.example, data=data)
    if args.json:
        document = report.to_dict()
        if args.show_code:
            document["code"] = derived_code(mlp, X, y, loss, args.l2, lr)
        print(json.dumps(document, indent=2))
    else:
        print(format_table(report))
        if args.show_code:
            print("\nThe training step autograd derived (at.compile's code), the documents' formulas beside it:\n")
            print(derived_code(mlp, X, y, loss, args.l2, lr))
    return EXIT_OK if report.ok else EXIT_FAILURE
