"""matplotlib for the applications' pictures: the file-only backend and the formats it writes.

Imported only when a picture is drawn, so matplotlib stays an optional extra
(``pip install 'autotensor[plot]'``).
"""
from __future__ import annotations

from types import ModuleType

__all__ = ["plot_formats", "pyplot"]


def pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only Agg backend; ImportError says how to install it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'autotensor[plot]'") from None
    return plt


def plot_formats() -> set[str]:
    """The file extensions (``.png``, ``.svg`` ...) matplotlib can write here; needs matplotlib.

    All of matplotlib's but ``.pgf``, which needs a LaTeX installation and would fail only
    once the image is written, after training.
    """
    pyplot()
    from matplotlib.backend_bases import FigureCanvasBase

    return {f".{extension}" for extension in FigureCanvasBase.get_supported_filetypes()} - {".pgf"}
