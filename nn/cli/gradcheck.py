"""``autotensor gradcheck``: every registered op through the finite-difference checker.

One row per sample case and order (first and second derivatives), with the largest absolute
and relative errors; exit status 1 if any check fails.  ``--import MODULE`` (a module name, or
a ``.py`` file) imports it first, so the ops it adds with ``at.custom_op`` are checked too.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from autotensor.gradcheck import check_op
from autotensor.registry import REGISTRY
from nn.cli.errors import EXIT_FAILURE, EXIT_OK, UsageError

HELP = "check every op's derivative rules against finite differences"
DESCRIPTION = "Every registered op through the finite-difference checker, first and second order."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor gradcheck``: which ops, which orders."""
    parser.add_argument("--op", action="append", metavar="NAME", help="only this op (repeatable)")
    parser.add_argument("--first-order", action="store_true", help="skip the second-order checks")
    parser.add_argument("--import", dest="modules", action="append", default=[], metavar="MODULE",
                        help="import MODULE (a module name, or a .py file) first, so the ops it registers "
                             "with at.custom_op are checked too (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Check the ops, print one row per check and a summary; 1 if any check failed."""
    for module in args.modules:
        added = import_ops(module)
        print(f"imported {module}: {len(added)} op(s) registered ({', '.join(added) or 'none'})")
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


def import_ops(module: str) -> list[str]:
    """Import ``module`` (a name looked up from the current directory too, or a ``.py`` path) and
    return the names of the ops it registered.  A module that cannot be imported, or fails while
    it runs, is an input that cannot be read: an ImportError naming it (exit status 1)."""
    before = set(REGISTRY)
    try:
        if module.endswith(".py"):
            path = Path(module)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None or not path.is_file():
                raise FileNotFoundError(f"no such file {module}")
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        else:
            sys.path.insert(0, os.getcwd())  # as `python -m` would find it
            try:
                importlib.import_module(module)
            finally:
                sys.path.remove(os.getcwd())
    except Exception as error:  # noqa: BLE001 - whatever the module raised, it names the module
        raise ImportError(f"--import {module}: {type(error).__name__}: {error}") from error
    return [name for name in REGISTRY if name not in before]
