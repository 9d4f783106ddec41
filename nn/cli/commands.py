"""The ``autotensor`` command line: a table of commands, one parser, one way to fail.

Subcommands are listed in :data:`COMMANDS` as ``name -> "module:attribute"`` (or just
``"module"``).  The target is any object - a module or a class - with

* ``add_arguments(parser)``: declare the subcommand's options on an argparse parser,
* ``run(args) -> int``: do the work and return the exit status,
* a ``HELP`` string (else the first line of its docstring) for ``autotensor --help``, and
  optionally a longer ``DESCRIPTION`` for ``autotensor <command> --help``.

Each built-in command is one module of this package (``nn/cli/train.py`` ...): it parses and
prints, and calls the library and the applications.  Adding a command is one module and one
line in the table; targets are imported only when the command line is built.

Exit status, the same rule for every command (:mod:`nn.cli.errors`): 0 success; 2 a wrong
command line - unknown options, impossible values (a negative km, a seed of -1), a car outside
the model's domain, an output path that cannot be written - found before any work starts;
1 an input that cannot be read or is invalid (a data or model file, a CSV of cars, a download),
named in the message, or a check that failed; 130 interrupted by Ctrl-C.  Errors are one line
on stderr, never a traceback (set ``AUTOTENSOR_DEBUG=1`` to see one).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

from autotensor.errors import AutotensorError
from nn.cli.arguments import Parser
from nn.cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, describe, report_error

COMMANDS: dict[str, str] = {
    "train": "nn.cli.train",
    "predict": "nn.cli.predict",
    "graph": "nn.cli.graph",
    "compare": "nn.cli.compare",
    "gradcheck": "nn.cli.gradcheck",
    "data": "nn.cli.data",
    "digits": "nn.cli.digits",
}


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
  autotensor digits --arch cnn               classify the handwritten digits (document 003)

exit status: 0 ok; 2 wrong arguments (checked before any work); 1 an input file that cannot be
read or is invalid (named), or a failed check; 130 interrupted"""


def _description_of(command: Any) -> str:
    """DESCRIPTION if given; else a class's docstring; a module's docstring is too long, so its help."""
    text = getattr(command, "DESCRIPTION", None)
    if text:
        return text
    if isinstance(command, types.ModuleType):
        return _help_of(command)
    return (command.__doc__ or "").strip()


def _version() -> str:
    """The installed distribution's version (a source tree that was never installed has none)."""
    try:
        return importlib.metadata.version("autotensor")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: run pip install -e .)"


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    """The parser with one subparser per entry of COMMANDS, and the resolved command objects."""
    parser = Parser(
        prog="autotensor", description="autotensor: autodiff on numpy and the car-price network.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"autotensor {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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
    try:
        return int(command.run(args))
    except UsageError as error:
        report_error(name, str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\nautotensor {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `autotensor predict --csv cars.csv | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (AutotensorError, ImportError, ValueError, RuntimeError, OSError) as error:  # DataError, ModelFileError too
        if os.environ.get("AUTOTENSOR_DEBUG"):
            raise
        report_error(name, describe(error))
        return EXIT_FAILURE
    except Exception as error:  # a bug: still one line, with a way to see more
        if os.environ.get("AUTOTENSOR_DEBUG"):
            raise
        report_error(name, f"internal error {type(error).__name__}: {describe(error)} (set AUTOTENSOR_DEBUG=1 for a traceback)")
        return EXIT_FAILURE
