"""A picture of a digits run: the loss curves, and the test digits the network got wrong."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nn.digits.training import DigitsResult
from nn.figures import plot_formats, pyplot

__all__ = ["plot_formats", "plot_training"]

#: At most this many misclassified digits are drawn (4 rows of 8).
SHOWN = 32


def plot_training(result: DigitsResult, path: str | Path, format: str | None = None) -> Path:
    """Loss curves (train and test) beside a grid of misclassified test digits, each titled
    with its label and what the network said, as one image.

    ``format`` (``"png"``, ``"svg"`` ...) defaults to the extension of ``path``.  Needs
    matplotlib (``pip install 'autotensor[plot]'``); raises ImportError with that hint.
    """
    plt = pyplot()
    figure = plt.figure(figsize=(10, 4))
    grid = figure.add_gridspec(4, 12, wspace=0.3, hspace=0.5, top=0.85)
    curves = figure.add_subplot(grid[:, :4])
    rounds = np.arange(1, len(result.train_loss) + 1)
    curves.plot(rounds, result.train_loss, label="train")
    curves.plot(rounds, result.test_loss, label="test")
    curves.set_yscale("log")
    curves.set_xlabel("iteration" if result.config.batch == 0 else "epoch")
    curves.set_ylabel("loss")
    curves.set_title(f"{result.config.recipe.name}: test accuracy {result.accuracy:.4f}")
    curves.legend()
    wrong = np.flatnonzero(result.predicted != result.test_digits.labels)
    for position, index in enumerate(wrong[:SHOWN]):
        cell = figure.add_subplot(grid[position // 8, 4 + position % 8])
        cell.imshow(result.test_digits.images[index], cmap="gray_r", vmin=0, vmax=16)
        cell.set_title(f"{result.test_digits.labels[index]}→{result.predicted[index]}", fontsize=8)
        cell.set_axis_off()
    figure.suptitle(f"{len(wrong)} of {len(result.predicted)} test digits misclassified (label→predicted)"
                    + (f", the first {SHOWN} shown" if len(wrong) > SHOWN else ""), fontsize=10)
    path = Path(path)
    figure.savefig(path, dpi=80, format=format)
    plt.close(figure)
    return path
