"""``autotensor data``: manage the real car listings (``fetch`` downloads them into the cache)."""
from __future__ import annotations

import argparse
from pathlib import Path

from nn.carprice import DataError, download
from nn.cli.arguments import Parser
from nn.cli.errors import EXIT_OK
from nn.cli.outputs import check_output_directory

OFFLINE_HINT = (
    f"without network access, fetch a copy with --url file:///path/to/{download.CACHE_FILE_NAME}, "
    f"or train on any listings file with `autotensor train --data PATH`"
)

HELP = "download the real car listings into the local cache"
DESCRIPTION = "Manage the real car listings: `autotensor data fetch` downloads them into the cache."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The actions of ``autotensor data`` (only ``fetch`` so far) and their options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    fetch = actions.add_parser("fetch", help="download the listings (checksum-verified) unless cached",
                               description="Download the listings from their pinned address into the "
                               "cache ($AUTOTENSOR_CACHE or the platform cache directory).")
    fetch.add_argument("--url", default=download.PINNED_URL, help="source address (default: the pinned one)")
    fetch.add_argument("--sha256", default=download.PINNED_SHA256, help="expected checksum (default: pinned)")
    fetch.add_argument("--cache-dir", metavar="DIR", help="cache directory (default: $AUTOTENSOR_CACHE or "
                       "the platform cache)")


def run(args: argparse.Namespace) -> int:
    """Fetch the listings into the cache (or find them there); say where they are."""
    if args.cache_dir is not None:
        check_output_directory("--cache-dir", Path(args.cache_dir))
    try:
        path = download.fetch(args.url, args.sha256, args.cache_dir)
    except DataError as error:
        raise DataError(f"{error}; {OFFLINE_HINT}") from error
    print(f"listings ready at {path} (sha256 verified)")
    return EXIT_OK
