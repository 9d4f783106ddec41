"""A picture of a training run: the loss curves and the predicted against the actual prices."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nn.carprice.training import TrainResult
from nn.figures import plot_formats, pyplot

__all__ = ["plot_formats", "plot_training"]


def plot_training(result: TrainResult, path: str | Path, format: str | None = None) -> Path:
    """Loss curves (train and test) and predicted-vs-actual test prices, as one image.

    ``format`` (``"png"``, ``"svg"`` ...) defaults to the extension of ``path``.  Needs
    matplotlib (``pip install 'autotensor[plot]'``); raises ImportError with that hint.
    """
    plt = pyplot()
    figure, (curves, scatter) = plt.subplots(1, 2, figsize=(11, 4.5))
    epochs = np.arange(1, len(result.train_loss) + 1)
    curves.plot(epochs, result.train_loss, label="train")
    curves.plot(epochs, result.test_loss, label="test")
    curves.set_yscale("log")
    curves.set_xlabel("epoch")
    curves.set_ylabel("MSE (normalised price)")
    curves.set_title("Loss")
    curves.legend()
    actual = result.test_table.price
    predicted = result.test_predictions()
    scatter.scatter(actual, predicted, s=4, alpha=0.4)
    low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
    scatter.plot([low, high], [low, high], color="black", linewidth=1, label="perfect")
    test = result.metrics.get("test")
    title = "Test cars" if test is None else f"Test cars: R² {test.r2:.3f}, MAE {test.mae:,.0f} EUR"
    scatter.set_title(title)
    scatter.set_xlabel("actual price (EUR)")
    scatter.set_ylabel("predicted price (EUR)")
    scatter.legend()
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110, format=format)
    plt.close(figure)
    return path
