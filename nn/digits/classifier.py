"""A saved digits model, classifying new 8x8 images as training classified the test digits.

The model file (``nn.save``) carries the standardiser's statistics and whether the network
takes images or rows of pixels, so :class:`DigitsClassifier` prepares an image exactly as
training did.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nn.digits.data import PIXELS, SIDE, Standardizer
from nn.digits.training import APPLICATION, classify
from nn.module import Module
from nn.serialization import ModelFileError, load

__all__ = ["DigitsClassifier"]


@dataclass(frozen=True)
class DigitsClassifier:
    """``DigitsClassifier.load(path).predict(images)``: the digit shown in each 8x8 image.

    ``images``: whether the network takes (n, 1, 8, 8) images (a CNN) or rows of 64 pixels.
    """

    model: Module
    standardizer: Standardizer
    images: bool
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> DigitsClassifier:
        """Read a model file written by ``autotensor digits``; anything missing raises ModelFileError."""
        model, metadata = load(path)
        if metadata.get("application") != APPLICATION or not isinstance(metadata.get("images"), bool):
            raise ModelFileError(f"{path}: not a digits model (its metadata has no standardiser)")
        try:
            standardizer = Standardizer.from_dict(metadata.get("standardizer") or {})
        except ValueError as error:
            raise ModelFileError(f"{path}: {error}") from None
        return cls(model.eval(), standardizer, metadata["images"], metadata)

    def predict(self, images: Any) -> np.ndarray:
        """The digits (ints 0-9) shown in ``images``: grey levels 0-16, shape (n, 8, 8) or (n, 64)."""
        pixels = np.asarray(images, dtype=np.float64)
        if pixels.ndim not in (2, 3) or pixels[0].size != PIXELS:
            raise ValueError(f"expected images of shape (n, {SIDE}, {SIDE}) or (n, {PIXELS}), got {pixels.shape}")
        rows = self.standardizer.transform(pixels.reshape(len(pixels), PIXELS))
        return classify(self.model, rows.reshape(-1, 1, SIDE, SIDE) if self.images else rows)
