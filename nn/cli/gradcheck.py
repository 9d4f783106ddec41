"""``autotensor gradcheck``: every registered op through the finite-difference checker.

One row per sample case and order (first and second derivatives), with the largest absolute
and relative errors; exit status 1 if any check fails.
"""
from __future__ import annotations

import argparse

from autotensor.gradcheck import check_op
from autotensor.registry import REGISTRY
from nn.cli.errors import EXIT_FAILURE, EXIT_OK, UsageError

HELP = "check every op's derivative rules against finite differences"
DESCRIPTION = "Every registered op through the finite-difference checker, first and second order."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor gradcheck``: which ops, which orders."""
    parser.add_argument("--op", action="append", metavar="NAME", help="only this op (repeatable)")
    parser.add_argument("--first-order", action="store_true", help="skip the second-order checks")


def run(args: argparse.Namespace) -> int:
    """Check the ops, print one row per check and a summary; 1 if any check failed."""
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
