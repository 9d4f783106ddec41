"""Where the listings come from: the user's file, the cached real listings, or a synthetic sample.

``train``, ``graph --model`` and ``compare`` all take their cars from :func:`choose_data`, so
they agree on which listings are used, and each says which in one sentence.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nn.carprice.download import cached_data_path
from nn.carprice.listings import CarTable, clean, load_car_data


@dataclass(frozen=True)
class DataSource:
    """Cleaned listings and a sentence saying where they come from."""

    table: CarTable
    description: str
    kind: str  # "file", "cache" or "synthetic"


def choose_data(path: str | Path | None = None) -> DataSource:
    """Listings from ``path``; else the cached real listings; else the synthetic sample."""
    if path is not None:
        table, report = load_car_data(path)
        return DataSource(table, f"listings from {path} ({report})", "file")
    cached = cached_data_path()
    if cached is not None:
        table, report = load_car_data(cached)
        return DataSource(table, f"the cached real listings at {cached} ({report})", "cache")
    # Imported only when needed, so that loading the package never loads the module that
    # `python -m nn.carprice.synthetic` runs as a script (which would then exist twice).
    from nn.carprice.synthetic import generate

    table, _ = clean(generate(seed=0))
    return DataSource(
        table,
        f"a SYNTHETIC sample of {len(table)} listings (nn.carprice.synthetic; no --data given and no cached "
        f"real listings - run `autotensor data fetch` to download them)",
        "synthetic",
    )
