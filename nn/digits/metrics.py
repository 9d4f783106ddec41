"""How well digits are recognised: accuracy and the confusion matrix."""
from __future__ import annotations

import numpy as np

from nn.digits.data import CLASSES

__all__ = ["accuracy", "confusion_matrix", "format_confusion"]


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """The fraction of digits whose predicted class is their label."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if labels.shape != predicted.shape or labels.size == 0:
        raise ValueError(f"accuracy: {labels.shape} labels and {predicted.shape} predictions")
    return float(np.mean(labels == predicted))


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    """counts[true, predicted]: row k counts how the digits labelled k were classified."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(predicted)), 1)
    return counts


def format_confusion(counts: np.ndarray) -> str:
    """The matrix as text: one row per true digit, one column per predicted digit, the number
    of correct ones on the diagonal and a dot for zero off it."""
    classes = len(counts)
    width = max(3, len(str(int(counts.max()))) + 1)
    lines = ["true \\ predicted" if classes else "", "     " + "".join(f"{k:>{width}}" for k in range(classes))]
    for k, row in enumerate(counts):
        cells = "".join(f"{('.' if value == 0 and j != k else value):>{width}}" for j, value in enumerate(row))
        lines.append(f"{k:>4} {cells}")
    return "\n".join(lines)
