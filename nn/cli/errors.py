"""How a command ends: its exit status, and errors as one line on stderr.

One rule for every command:

* 0  success;
* 2  the command line is wrong (``UsageError``, or argparse): an unknown option, an impossible
  value (a negative km, a seed of -1, a test fraction leaving too few listings), a car outside
  the model's domain, an output path that cannot be written.  Checked before any work starts,
  and the message names the option;
* 1  an input cannot be read or is invalid - a data file, a model file, a CSV of cars, a
  download - and the message names it (with the line and column inside a file); or a check
  the command exists to make failed (``gradcheck``, ``compare``), training diverged, or an
  optional package is missing (matplotlib, Graphviz);
* 130 interrupted by Ctrl-C.
"""
from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Input the user must correct (exit status 2)."""


def describe(error: BaseException) -> str:
    """An error as one line: an OSError as "reason: file", anything else by its first line."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


def report_error(command: str, message: str) -> None:
    """``autotensor <command>: error: <message>`` on stderr."""
    print(f"autotensor {command}: error: {message}", file=sys.stderr)
