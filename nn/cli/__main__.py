"""``python -m nn.cli``: the ``autotensor`` command line."""
import sys

from nn.cli.commands import main

sys.exit(main())
