"""The ``autotensor`` command line: a table of commands, one module per command.

* ``commands``   the table, the parser built from it, and how a run ends (``main``);
* ``arguments``  the parser with one-line errors and the checked argument types;
* ``errors``     the exit-code rule, usage errors, one-line error messages;
* ``outputs``    output paths checked before any work, files written whole or not at all;
* ``progress``   the training progress bar;
* ``train``, ``predict``, ``graph``, ``compare``, ``gradcheck``, ``data``: one command each.

Installed as the ``autotensor`` console script (``nn.cli:main``); ``python -m nn.cli`` runs
the same.
"""
from nn.cli.commands import COMMANDS, build_parser, main
from nn.cli.progress import ProgressReporter

__all__ = ["COMMANDS", "ProgressReporter", "build_parser", "main"]
