"""The handwritten digits of document 003, prepared as the slides prepare them.

The 1,797 digits are the 8x8 images (grey levels 0 to 16) that scikit-learn ships inside its
package (``sklearn.datasets.load_digits``: a file of the installed package, nothing is
downloaded); ``pip install 'autotensor[digits]'`` installs it.  The slides' two preprocessing
steps:

* **one-hot targets**: digit ``k`` becomes the row with a 1 in column ``k`` and 0 elsewhere, one
  output unit per digit (their ``convert_y_to_vect``);
* **feature scaling**: every pixel is standardised, ``x' = (x - mean) / std`` with the mean and
  the (population) standard deviation of that pixel (their ``StandardScaler``).  Here they are
  measured on the training digits only and kept with the model; a pixel that is 0 in every
  training digit keeps a scale of 1 (it stays 0), as in scikit-learn.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CLASSES", "COUNT", "PIXELS", "Digits", "Standardizer", "load_digits", "one_hot"]

COUNT = 1797  # the digits scikit-learn ships
CLASSES = 10
SIDE = 8
PIXELS = SIDE * SIDE


@dataclass(frozen=True)
class Digits:
    """Images (n, 8, 8) as float64 grey levels 0-16, and their labels (n,) as ints 0-9."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def features(self) -> np.ndarray:
        """One row of 64 pixels per digit (the slides' ``digits.data``)."""
        return self.images.reshape(len(self), PIXELS)

    def take(self, rows: np.ndarray) -> Digits:
        return Digits(self.images[rows], self.labels[rows])


def load_digits() -> Digits:
    """scikit-learn's copy of the UCI digits (1,797 images); ImportError says how to get it."""
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError:
        raise ImportError(
            "the digits come with scikit-learn (a file inside its package, no download): "
            "pip install 'autotensor[digits]'"
        ) from None
    bunch = _load()
    return Digits(np.asarray(bunch.images, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64))


def one_hot(labels: np.ndarray, classes: int = CLASSES) -> np.ndarray:
    """Rows of ``classes`` zeros with a 1 at each label (float64)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or (labels.size and not 0 <= labels.min() <= labels.max() < classes):
        raise ValueError(f"one_hot: expected integer labels in [0, {classes}), got {labels!r:.60}")
    return np.eye(classes)[labels]


class Standardizer:
    """Per-pixel ``(x - mean) / scale``: the slides' StandardScaler, fitted on training digits."""

    def __init__(self, mean: np.ndarray | None = None, scale: np.ndarray | None = None) -> None:
        self.mean = mean
        self.scale = scale

    def fit(self, features: np.ndarray) -> Standardizer:
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or len(features) == 0:
            raise ValueError(f"Standardizer.fit: expected rows of features, got shape {features.shape}")
        std = features.std(axis=0)
        self.mean, self.scale = features.mean(axis=0), np.where(std > 0, std, 1.0)
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        if self.mean is None or self.scale is None:
            raise RuntimeError("Standardizer is not fitted: call fit(features) first")
        return (np.asarray(features, dtype=np.float64) - self.mean) / self.scale

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], pixels: int = PIXELS) -> Standardizer:
        """From ``to_dict``'s output; a ValueError names what is missing or wrong."""
        try:
            mean = np.asarray(data["mean"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"standardiser statistics: {error}") from None
        if mean.shape != (pixels,) or scale.shape != (pixels,):
            raise ValueError(f"standardiser statistics: expected {pixels} means and scales, got {mean.shape} and {scale.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("standardiser statistics: means must be finite and scales positive")
        return cls(mean, scale)
