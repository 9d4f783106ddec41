"""`autotensor train` compiles its step by default; `--no-compile` trains eagerly: the same model."""
from __future__ import annotations

import dataclasses

import numpy as np

from nn import carprice
from nn.carprice import TrainConfig
from nn.cli.commands import main


def test_compiled_training_gives_the_eager_model_to_1e_12(car_csv_path) -> None:
    source = carprice.choose_data(car_csv_path)
    for config in (TrainConfig(epochs=4), TrainConfig(epochs=3, optimizer="sgd", batch_size=100, l2=0.01)):
        compiled = carprice.train(source, config)
        eager = carprice.train(source, dataclasses.replace(config, compiled=False))
        for a, b in zip(compiled.model.parameters(), eager.model.parameters()):
            np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-12)
        np.testing.assert_allclose(compiled.train_loss, eager.train_loss, rtol=0, atol=1e-12)
        np.testing.assert_allclose(compiled.test_loss, eager.test_loss, rtol=0, atol=1e-12)


def test_train_and_train_no_compile_write_the_same_model(car_csv_path, tmp_path) -> None:
    import nn

    paths = {}
    for flags in ([], ["--no-compile"]):
        out = tmp_path / f"model{len(flags)}.npz"
        assert main(["train", "--data", str(car_csv_path), "--epochs", "3", "--out", str(out), *flags]) == 0
        paths[bool(flags)] = out
    compiled, meta_compiled = nn.load(paths[False])
    eager, meta_eager = nn.load(paths[True])
    assert meta_compiled["training"]["compiled"] is True and meta_eager["training"]["compiled"] is False
    for a, b in zip(compiled.parameters(), eager.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-12)
