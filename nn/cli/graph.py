"""``autotensor graph``: draw the computation graph of a loss to SVG, PNG, PDF or DOT.

Two sources of graphs:

* ``--example seed``: the documents' five cars through their 3-3-2-1 tanh network, every
  tensor named as in the documents and the gradients shown (:mod:`nn.backprop.seed_graph`);
* ``--model model.npz``: a model saved with ``nn.save`` (e.g. by ``autotensor train``); its
  MSE loss on a small batch of cars (from ``--data``, else the cached real listings, else the
  synthetic sample), normalised with the statistics stored in the model's metadata
  (:mod:`nn.carprice.loss_graph`).

The format follows the extension of ``--out`` (:func:`autotensor.viz.render`).  Exit codes: 0
written, 1 failure (missing ``dot``, unreadable model or data ...), 2 bad usage (checked before
any drawing, the output path included); errors are one line on stderr.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from autotensor import viz
from nn.backprop.seed_graph import seed_graph
from nn.carprice.loss_graph import model_graph
from nn.cli.arguments import non_negative_int, positive_int
from nn.cli.errors import EXIT_OK, UsageError
from nn.cli.outputs import check_output_file

HELP = "draw the computation graph of a loss (the seed example or a saved model) to SVG/PNG/PDF/DOT"
# The seed network's tensors have at most 15 numbers: show them all, as in the document.
SEED_MAX_ELEMENTS = 15
MODEL_MAX_ELEMENTS = 6


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor graph``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--example", choices=["seed"], help="draw a built-in example: 'seed' is the documents' five-car network")
    source.add_argument("--model", metavar="MODEL.npz", help="draw the loss graph of a model saved with nn.save")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="output file; the extension picks the format: " + ", ".join(viz.RENDER_FORMATS))
    parser.add_argument("--values", action=argparse.BooleanOptionalAction, default=True,
                        help="show each tensor's value (default: on)")
    parser.add_argument("--grads", action=argparse.BooleanOptionalAction, default=True,
                        help="show gradients after a backward pass (default: on)")
    parser.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                        help="layout direction: LR left to right (default) or TB top to bottom")
    parser.add_argument("--max-depth", type=non_negative_int, default=None, metavar="N",
                        help="draw only ops within N steps of the loss, the rest as one summary node")
    parser.add_argument("--collapse", action="store_true", help="draw each module (name scope) as one node")
    parser.add_argument("--legend", action=argparse.BooleanOptionalAction, default=True,
                        help="include the colour legend (default: on)")
    parser.add_argument("--max-elements", type=non_negative_int, default=None, metavar="N",
                        help=f"print tensors of at most N numbers in full, larger ones as min/max/norm "
                             f"(default: {SEED_MAX_ELEMENTS} for the seed example, {MODEL_MAX_ELEMENTS} for models)")
    parser.add_argument("--batch", type=positive_int, default=4, metavar="N",
                        help="with --model: number of cars in the batch whose loss is drawn (default: 4)")
    parser.add_argument("--data", metavar="CSV", help="with --model: take the batch from these listings "
                        "(default: the cached real listings, else synthetic cars)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="with --model: random seed of the batch (default: 0)")


def run(args: argparse.Namespace) -> int:
    """Build the graph, render it to ``args.out``; return the exit code.

    Failures (no ``dot``, an unreadable model or data file) propagate to :func:`nn.cli.main`,
    which reports them in one line with exit status 1.
    """
    if args.model is None and args.data is not None:
        raise UsageError("--data only applies with --model")
    check_output_file("--out", Path(args.out), viz.RENDER_FORMATS)
    if args.example == "seed":
        loss, names, description = seed_graph()
        max_elements = SEED_MAX_ELEMENTS
    else:
        loss, names, description = model_graph(args.model, batch=args.batch, data=args.data, seed=args.seed)
        max_elements = MODEL_MAX_ELEMENTS
    if args.max_elements is not None:
        max_elements = args.max_elements
    path = viz.render(
        loss, args.out, values=args.values, grads=args.grads, rankdir=args.rankdir,
        max_depth=args.max_depth, collapse_scopes=args.collapse, legend=args.legend,
        names=names, max_elements=max_elements,
    )
    print(f"wrote {path} ({description})")
    return EXIT_OK
