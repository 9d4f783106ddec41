"""`autotensor train` checks everything it can before the first epoch, and writes all or nothing."""
import os
import stat
from pathlib import Path

import pytest

from nn import carprice, cli
from nn.carprice import CarPriceModel, synthetic
from tests.cli.running import assert_one_line_error, run


def listings_file(tmp_path: Path, rows: int = 60, fuels=("Diesel", "Essence"), name="cars.csv") -> Path:
    """``rows`` synthetic listings, their fuels spelled in turn as ``fuels`` (any spelling)."""
    table = synthetic.generate(n=rows, seed=1)
    lines = ["km,fuel,age,price"] + [
        f"{km:.0f},{fuels[number % len(fuels)]},{age:.0f},{price:.0f}"
        for number, (km, age, price) in enumerate(zip(table.km, table.age, table.price))
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_error_after_progress(err: str, fragment: str) -> None:
    """Progress lines, then one error line (a failure after training)."""
    assert "Traceback" not in err and all(line.startswith("epoch ") for line in err.splitlines()[:-1]), err
    assert err.splitlines()[-1].startswith("autotensor train: error: ") and fragment in err.splitlines()[-1], err


# ---------------------------------------------------------------------- outputs, before any work
@pytest.mark.parametrize("out, plot, fragment", [
    ("models", None, "--out {d}/models: is a directory"),
    ("absent/m.npz", None, "--out {d}/absent/m.npz: directory {d}/absent does not exist"),
    ("m.npz", "absent/c.png", "--plot {d}/absent/c.png: directory {d}/absent does not exist"),
    ("m.npz", "c.xyz", "--plot {d}/c.xyz: cannot write '.xyz'; use one of"),
    ("m.npz", "curves", "--plot {d}/curves: cannot write 'a file without an extension'"),
    ("m.npz", "models", "--plot {d}/models: is a directory"),
    ("m.png", "m.png", "--plot {d}/m.png: is the same file as --out"),
])
def test_a_bad_output_exits_2_naming_the_option_before_training(capsys, tmp_path, out, plot, fragment):
    pytest.importorskip("matplotlib")
    data = listings_file(tmp_path)
    (tmp_path / "models").mkdir()
    argv = ["train", "--data", data, "--epochs", 1, "--out", tmp_path / out]
    status, stdout, err = run(capsys, *argv, *([] if plot is None else ["--plot", tmp_path / plot]))
    assert (status, stdout) == (2, "")  # not even "data: ..." was printed: nothing was read or trained
    assert_one_line_error(err, fragment.format(d=tmp_path))
    assert files_in(tmp_path) == ["cars.csv", "models"] and files_in(tmp_path / "models") == []


def test_an_unwritable_output_directory_exits_2_before_training(capsys, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # The check asks the system whether it may write; root may write anywhere, so answer as for a user.
    real_access = os.access
    monkeypatch.setattr(cli.outputs.os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    status, stdout, err = run(capsys, "train", "--data", listings_file(tmp_path), "--out", locked / "m.npz")
    assert (status, stdout) == (2, "")
    assert_one_line_error(err, f"--out {locked}/m.npz: cannot write in directory {locked} (permission denied)")
    assert files_in(locked) == []


def test_a_failed_plot_writes_no_model_and_leaves_no_temporary_file(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    out, plot = tmp_path / "m.npz", tmp_path / "curves.png"
    out.write_bytes(b"the previous model")

    def broken_plot(result, path, format=None):
        Path(path).write_bytes(b"half a picture")
        raise RuntimeError("the renderer ran out of memory")

    monkeypatch.setattr(carprice, "plot_training", broken_plot)
    status, stdout, err = run(capsys, "train", "--data", listings_file(tmp_path), "--epochs", 1,
                              "--out", out, "--plot", plot)
    assert status == 1
    assert_error_after_progress(err, "the renderer ran out of memory")
    assert out.read_bytes() == b"the previous model" and files_in(tmp_path) == ["cars.csv", "m.npz"]


def test_a_failed_save_writes_no_plot(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")

    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(carprice.TrainResult, "save", full_disk)
    status, stdout, err = run(capsys, "train", "--data", listings_file(tmp_path), "--epochs", 1,
                              "--out", tmp_path / "m.npz", "--plot", tmp_path / "curves.png")
    assert status == 1
    assert_error_after_progress(err, f"No space left on device: {tmp_path}/m.npz")
    assert files_in(tmp_path) == ["cars.csv"]


def test_model_and_plot_are_written_together_with_ordinary_permissions(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    out, plot, kept = tmp_path / "m.npz", tmp_path / "curves.svg", tmp_path / "kept.png"
    kept.write_bytes(b"an old plot")
    kept.chmod(0o640)
    data = listings_file(tmp_path)
    for target in (plot, kept):
        status, stdout, err = run(capsys, "train", "--data", data, "--epochs", 1, "--out", out, "--plot", target)
        assert status == 0, err
        assert f"model saved to {out}\nplot saved to {target}\n" in stdout
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(plot.stat().st_mode) == 0o666 & ~umask  # a new file: the umask's mode
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640  # a replaced file keeps its mode
    assert b"<svg" in plot.read_bytes()[:400] and kept.read_bytes()[:4] == b"\x89PNG"
    assert files_in(tmp_path) == ["cars.csv", "curves.svg", "kept.png", "m.npz"]


# ---------------------------------------------------------------------- seeds and splits
@pytest.mark.parametrize("argv, option", [
    (["train", "--seed", "-1"], "--seed"),
    (["train", "--split-seed", "-1"], "--split-seed"),
    (["graph", "--example", "seed", "--out", "g.dot", "--seed", "-1"], "--seed"),
    (["compare", "--seed", "-1"], "--seed"),
])
def test_a_negative_seed_exits_2_naming_the_option(capsys, argv, option):
    status, stdout, err = run(capsys, *argv)
    assert (status, stdout) == (2, "")
    assert_one_line_error(err, f"argument {option}: must be at least 0, got -1")


def test_a_test_fraction_leaving_too_few_listings_exits_2_before_training(capsys, tmp_path):
    status, stdout, err = run(capsys, "train", "--data", listings_file(tmp_path), "--test-fraction", "0.05",
                              "--out", tmp_path / "m.npz")
    assert (status, stdout) == (2, "")
    assert_one_line_error(err, "--test-fraction 0.05: a test fraction of 0.05 leaves 3 of 60 listings for testing",
                          "each part needs at least 10")
    assert files_in(tmp_path) == ["cars.csv"]


def test_too_few_listings_exit_1_naming_the_file(capsys, tmp_path):
    data = listings_file(tmp_path, rows=15)
    status, stdout, err = run(capsys, "train", "--data", data, "--out", tmp_path / "m.npz")
    assert (status, stdout) == (1, "")
    assert_one_line_error(err, f"{data}: only 15 usable listings; training and testing need at least 20")


# ---------------------------------------------------------------------- the listings themselves
def test_training_keeps_listings_whatever_the_spelling_of_their_fuel(capsys, tmp_path):
    data = listings_file(tmp_path, fuels=("diesel", "DIESEL", "petrol", "Essence", "Gazole"))
    status, stdout, err = run(capsys, "train", "--data", data, "--epochs", 1, "--out", tmp_path / "m.npz")
    assert status == 0, err
    assert "kept 60 of 60 listings; dropped 0 for their fuel" in stdout
    assert CarPriceModel.load(tmp_path / "m.npz").metadata["data"] == {"source": "file", "rows_train": 48, "rows_test": 12}


def test_a_km_no_car_can_have_names_the_file_and_line(capsys, tmp_path):
    data = listings_file(tmp_path)
    lines = data.read_text().splitlines()
    lines[7] = "1e308," + lines[7].split(",", 1)[1]
    data.write_text("\n".join(lines) + "\n")
    status, stdout, err = run(capsys, "train", "--data", data, "--out", tmp_path / "m.npz")
    assert (status, stdout) == (1, "")
    assert_one_line_error(err, f"{data}:8: column 'km': '1e308' is above the largest plausible value 10,000,000")
    assert files_in(tmp_path) == ["cars.csv"]
