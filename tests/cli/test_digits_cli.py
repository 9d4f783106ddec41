"""``autotensor digits``: the default commands meet their targets; accuracy, confusion matrix, a
saved model and a picture; every output checked before training; the exit-code rule."""
from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from nn import cli, digits
from tests.cli.running import assert_one_line_error, interrupt_at_epoch, run

pytest.importorskip("sklearn")


def accuracy_printed(out: str) -> float:
    return float(re.search(r"test accuracy (\d\.\d{4}) \((\d+) of 359 test digits\)", out).group(1))


def confusion_printed(out: str) -> np.ndarray:
    rows = re.findall(r"^ {3}(\d) ((?: +(?:\d+|\.))+)$", out, re.M)  # "   k " then the counts
    return np.array([[0 if cell == "." else int(cell) for cell in cells.split()] for _, cells in rows])


def test_the_default_mlp_command_meets_its_target(capsys, tmp_path) -> None:
    status, out, err = run(capsys, "digits", "--out", tmp_path / "digits.npz")
    assert status == 0, err
    assert "model: MLP 64-30-10 (relu)" in out and "1,438 for training, 359 for testing" in out
    assert accuracy_printed(out) >= 0.96
    confusion = confusion_printed(out)
    assert confusion.shape == (10, 10) and confusion.sum() == 359
    assert np.trace(confusion) == round(accuracy_printed(out) * 359)
    assert "epoch 60/60" in err  # the progress lines
    classifier = digits.DigitsClassifier.load(tmp_path / "digits.npz")
    assert classifier.metadata["accuracy"]["test"] == pytest.approx(accuracy_printed(out), abs=5e-5)


@pytest.mark.slow
def test_the_default_cnn_command_meets_its_target(capsys, tmp_path) -> None:
    status, out, err = run(capsys, "digits", "--arch", "cnn", "--out", tmp_path / "digits.npz")
    assert status == 0, err
    assert "model: CNN conv 3x3 x16" in out
    assert accuracy_printed(out) >= 0.98


def test_plot_draws_the_curves_and_the_misclassified_digits_beside_the_model(capsys, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    status, out, err = run(capsys, "digits", "--epochs", "2", "--out", tmp_path / "d.npz", "--plot", tmp_path / "d.png")
    assert status == 0, err
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "d.npz").exists()
    assert out.splitlines()[-2:] == [f"model saved to {tmp_path / 'd.npz'}", f"plot saved to {tmp_path / 'd.png'}"]


def test_a_picture_that_cannot_be_drawn_leaves_no_model_either(capsys, tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")

    def broken(*args, **kwargs):
        raise RuntimeError("the picture failed")

    monkeypatch.setattr(digits, "plot_training", broken)
    status, out, err = run(capsys, "digits", "--epochs", "1", "--out", tmp_path / "d.npz", "--plot", tmp_path / "d.png")
    assert status == 1
    assert err.splitlines()[-1] == "autotensor digits: error: the picture failed"  # after the progress lines
    assert list(tmp_path.iterdir()) == []


def test_no_compile_trains_the_same_model(capsys, tmp_path) -> None:
    for name, extra in (("compiled", ()), ("eager", ("--no-compile",))):
        status, _, err = run(capsys, "digits", "--arch", "cnn", "--epochs", "1", "--out", tmp_path / f"{name}.npz", *extra)
        assert status == 0, err
    compiled, eager = (digits.DigitsClassifier.load(tmp_path / f"{name}.npz").model for name in ("compiled", "eager"))
    for p, q in zip(compiled.parameters(), eager.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-12)


WRONG = {  # the options of a wrong command line, and what the one error line says
    "--document --arch cnn": "drop --arch cnn",
    "--document --epochs 10 --lr 1": "drop --epochs, --lr",
    "--arch rnn": "--arch",
    "--epochs 0": "--epochs",
    "--batch-size -1": "--batch-size",
    "--lr 0": "--lr",
    "--seed -1": "--seed",
    "--test-fraction 0.001": "--test-fraction 0.001: a test fraction of 0.001 leaves 2 of 1797 digits",
    "--out {d}": "--out",
    "--out {d}/no/such/m.npz": "does not exist",
    "--plot {d}/p.txt": "--plot",
    "--plot {d}/same.png --out {d}/same.png": "is the same file as --out",
}


@pytest.mark.parametrize("argv, fragment", [(argv.split(), fragment) for argv, fragment in WRONG.items()], ids=list(WRONG))
def test_a_wrong_command_line_exits_2_before_any_work(capsys, tmp_path, argv, fragment) -> None:
    if "--plot" in argv:
        pytest.importorskip("matplotlib")
    status, out, err = run(capsys, "digits", *[a.format(d=tmp_path) for a in argv])
    assert (status, out) == (2, "")
    assert_one_line_error(err, fragment.format(d=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_without_scikit_learn_it_exits_1_naming_the_extra_after_checking_the_outputs(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    status, out, err = run(capsys, "digits", "--out", tmp_path / "absent" / "m.npz")
    assert status == 2  # the command line is checked first
    status, out, err = run(capsys, "digits", "--out", tmp_path / "m.npz")
    assert (status, out) == (1, "")
    assert_one_line_error(err, "pip install 'autotensor[digits]'")


def test_ctrl_c_exits_130_and_keeps_the_previous_model(capsys, tmp_path, monkeypatch) -> None:
    out_path = tmp_path / "digits.npz"
    out_path.write_bytes(b"the previous model")

    monkeypatch.setattr(cli.ProgressReporter, "__call__", interrupt_at_epoch(2))
    status, out, err = run(capsys, "digits", "--out", out_path)
    assert status == 130
    assert "interrupted at epoch 2/60" in err and "left as it was" in err
    assert out_path.read_bytes() == b"the previous model" and [p.name for p in tmp_path.iterdir()] == ["digits.npz"]


def test_a_diverging_run_exits_1(capsys, tmp_path) -> None:
    status, out, err = run(capsys, "digits", "--lr", "1e300", "--epochs", "3", "--out", tmp_path / "m.npz")
    assert status == 1
    assert_one_line_error(err, "lower the learning rate")
    assert list(tmp_path.iterdir()) == []
