"""A saved car-price model's loss on a few cars, as a graph ready to draw (``autotensor graph``).

MSE on normalised prices is what training minimises, so that is the loss drawn.  The cars are
drawn from the listings training would use and normalised with the statistics saved in the
model's metadata: any other scaling would draw a loss the model never saw.
"""
from __future__ import annotations

import numpy as np

import autotensor as at
from nn.carprice.listings import DataError
from nn.carprice.normalizer import Normalizer
from nn.carprice.sources import choose_data
from nn.losses import mse
from nn.serialization import ModelFileError, load


def model_graph(
    path: str, *, batch: int = 4, data: str | None = None, seed: int = 0
) -> tuple[at.Tensor, dict[at.Tensor, str], str]:
    """The MSE loss of the model saved at ``path`` on ``batch`` cars, after ``backward(retain_graph=True)``.

    The cars come from ``data``, else the cached real listings, else the synthetic sample (see
    :func:`~nn.carprice.sources.choose_data`), ``seed`` choosing which.  Returns the loss, names
    for the parameters, prediction and loss, and a one-line description.  A model saved without
    normaliser statistics (``metadata["normalizer"]``) raises :class:`nn.ModelFileError`.
    """
    model, metadata = load(path)
    stats = metadata.get("normalizer")
    if not isinstance(stats, dict):
        raise ModelFileError(
            f"{path}: the model's metadata has no 'normalizer' statistics, so car data cannot be scaled for it"
        )
    try:
        normalizer = Normalizer.from_dict(stats)
    except DataError as error:
        raise ModelFileError(f"{path}: {error}") from None
    source = choose_data(data)
    table = source.table
    if len(table) == 0:
        raise DataError(f"{data}: no usable listings")
    rows = np.random.default_rng(seed).choice(len(table), size=min(batch, len(table)), replace=False)
    X, y = normalizer.transform_table(table.take(np.sort(rows)))
    names: dict[at.Tensor, str] = {p: name for name, p in model.named_parameters()}
    inputs = at.Tensor(X, name="X")
    targets = at.Tensor(y, name="y")
    prediction = model(inputs)
    with at.name_scope("loss"):
        loss = mse(prediction, targets)
    names[prediction] = "prediction"
    names[loss] = "loss (mse)"
    model.zero_grad()
    loss.backward(retain_graph=True)
    kind = "synthetic" if source.kind == "synthetic" else "real"
    return loss, names, f"MSE loss of {path} on {len(rows)} {kind} cars: {loss.item():.6g}"
