"""How a command ends: its exit status, and errors as one line on stderr.

Exit status: 0 success, 1 failure (bad data file, damaged model, failed check), 2 bad usage
(unknown options, impossible values such as a negative km), 130 interrupted by Ctrl-C.
"""
from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Input the user must correct (exit status 2)."""


def report_error(command: str, message: str) -> None:
    """``autotensor <command>: error: <message>`` on stderr."""
    print(f"autotensor {command}: error: {message}", file=sys.stderr)
