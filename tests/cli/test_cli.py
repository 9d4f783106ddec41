"""The `autotensor` command line, end to end on the real listings (in process, plus one real subprocess)."""
import io
import re
import subprocess
import sys

import numpy as np
import pytest

from nn import cli
from nn.carprice import CarPriceModel
from nn.cli import gradcheck
from tests.cli.running import assert_one_line_error, console_script, interrupt_at_epoch, run


# ---------------------------------------------------------------------- train
def test_train_reports_metrics_in_euros_and_saves_a_model(capsys, car_csv_path, tmp_path):
    out_path = tmp_path / "model.npz"
    status, out, err = run(capsys, "train", "--data", car_csv_path, "--epochs", 4, "--out", out_path)
    assert status == 0, err
    assert "listings from" in out and "kept 9061 of 9100" in out
    assert "MLP 3-3-2-1 (tanh" in out
    table = re.search(r"R\^2\s+MAE \(EUR\)\s+RMSE \(EUR\)\ntrain\s+([-\d.]+)\s+([\d,]+)\s+([\d,]+)\n"
                      r"test\s+([-\d.]+)\s+([\d,]+)\s+([\d,]+)", out)
    assert table, out
    saved = CarPriceModel.load(out_path)
    assert float(table.group(4)) == pytest.approx(saved.metadata["metrics"]["test"]["r2"], abs=1e-4)
    assert int(table.group(5).replace(",", "")) == round(saved.metadata["metrics"]["test"]["mae"])
    assert f"model saved to {out_path}" in out
    progress_lines = [line for line in err.splitlines() if line.startswith("epoch")]
    assert len(progress_lines) == 4  # not a TTY: plain lines


def test_train_options_change_the_network(capsys, car_csv_path, tmp_path):
    status, out, err = run(capsys, "train", "--data", car_csv_path, "--hidden", "5", "--activation", "relu",
                           "--optimizer", "sgd", "--lr", "0.05", "--batch-size", 0, "--epochs", 2, "--l2", "0.001",
                           "--seed", 4, "--test-fraction", "0.3", "--out", tmp_path / "m.npz")
    assert status == 0, err
    meta = CarPriceModel.load(tmp_path / "m.npz").metadata
    expected = {"hidden": [5], "activation": "relu", "optimizer": "sgd", "lr": 0.05, "batch_size": 0,
                "l2": 0.001, "seed": 4, "test_fraction": 0.3}
    assert {key: meta["training"][key] for key in expected} == expected
    assert meta["data"]["rows_test"] == round(9061 * 0.3)
    assert "MLP 3-5-1 (relu" in out


def test_train_without_data_says_it_uses_the_synthetic_sample(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(tmp_path / "empty-cache"))
    status, out, err = run(capsys, "train", "--epochs", 1, "--out", tmp_path / "m.npz")
    assert status == 0, err
    assert "SYNTHETIC" in out and "autotensor data fetch" in out


def test_train_can_plot_the_curves(capsys, car_csv_path, tmp_path):
    pytest.importorskip("matplotlib")
    status, out, err = run(capsys, "train", "--data", car_csv_path, "--epochs", 2, "--out", tmp_path / "m.npz",
                           "--plot", tmp_path / "curves.png")
    assert status == 0, err
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_train_without_matplotlib_explains_before_training(capsys, car_csv_path, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    status, out, err = run(capsys, "train", "--data", car_csv_path, "--out", tmp_path / "m.npz",
                           "--plot", tmp_path / "c.png")
    assert status == 1
    assert_one_line_error(err, "matplotlib", "pip install")
    assert not (tmp_path / "m.npz").exists()


def test_ctrl_c_during_training_exits_130_and_keeps_the_previous_model(capsys, car_csv_path, tmp_path, monkeypatch):
    out_path = tmp_path / "model.npz"
    out_path.write_bytes(b"the previous model")

    monkeypatch.setattr(cli.ProgressReporter, "__call__", interrupt_at_epoch(3))
    status, out, err = run(capsys, "train", "--data", car_csv_path, "--out", out_path)
    assert status == 130
    assert "interrupted at epoch 3/200" in err and "left as it was" in err and "Traceback" not in err
    assert out_path.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


@pytest.mark.parametrize("argv, fragment", [
    (["--epochs", "0"], "--epochs"),
    (["--lr", "-1"], "--lr"),
    (["--hidden", "3,x"], "--hidden"),
    (["--test-fraction", "1.5"], "--test-fraction"),
    (["--optimizer", "rmsprop"], "rmsprop"),
    (["--out", "/no/such/dir/m.npz"], "does not exist"),
])
def test_train_refuses_bad_options_with_one_line_and_status_2(capsys, argv, fragment):
    status, out, err = run(capsys, "train", *argv)
    assert status == 2
    assert_one_line_error(err, fragment)


def test_train_on_a_missing_file_fails_with_status_1(capsys, tmp_path):
    status, out, err = run(capsys, "train", "--data", tmp_path / "absent.csv", "--out", tmp_path / "m.npz")
    assert status == 1
    assert_one_line_error(err, "absent.csv")


# ---------------------------------------------------------------------- predict
def test_predict_prices_one_car_in_euros(capsys, car_model_path):
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--km", 38000, "--fuel", "Diesel", "--age", 3)
    assert status == 0, err
    price = int(re.match(r"([\d,]+) EUR", out).group(1).replace(",", ""))
    assert price == round(CarPriceModel.load(car_model_path).predict(38000, "diesel", 3)[0])


@pytest.mark.parametrize("fuel", ["diesel", "DIESEL", "essence", "Petrol", "gasoline"])
def test_predict_accepts_fuel_names_in_french_and_english_in_any_case(capsys, car_model_path, fuel):
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--km", 10000, "--fuel", fuel, "--age", 1)
    assert status == 0 and "EUR" in out, err


def test_predict_prices_every_car_of_a_csv(capsys, car_model_path, tmp_path):
    cars = tmp_path / "cars.csv"
    cars.write_text("fuel,age,km\nDiesel,3,38000\npetrol,10,150000\nESSENCE,0,10\n")
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", cars)
    assert status == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "km,fuel,age,price_eur" and len(lines) == 4
    prices = [float(line.split(",")[-1]) for line in lines[1:]]
    expected = CarPriceModel.load(car_model_path).predict([38000, 150000, 10], ["diesel", "petrol", "essence"], [3, 10, 0])
    np.testing.assert_allclose(prices, np.round(expected))


def test_predict_reads_the_listings_file_itself(capsys, car_model_path, car_csv_path, tmp_path):
    head = tmp_path / "head.csv"
    head.write_text("".join(car_csv_path.read_text().splitlines(keepends=True)[:6]))
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", head)
    assert status == 0 and len(out.strip().splitlines()) == 6, err


@pytest.mark.parametrize("argv, fragment", [
    (["--km", "-5", "--fuel", "diesel", "--age", "3"], "--km: must be >= 0"),
    (["--km", "5", "--fuel", "diesel", "--age", "-1"], "--age: must be >= 0"),
    (["--km", "5", "--fuel", "hydrogen", "--age", "1"], "unknown fuel 'hydrogen'"),
    (["--km", "5", "--fuel", "diesel"], "missing --age"),
    (["--km", "lots", "--fuel", "diesel", "--age", "1"], "--km"),
    (["--km", "nan", "--fuel", "diesel", "--age", "1"], "finite"),
    (["--csv", "x.csv", "--km", "5"], "either --csv"),
])
def test_predict_refuses_impossible_input_with_one_line_and_status_2(capsys, car_model_path, argv, fragment):
    status, out, err = run(capsys, "predict", "--model", car_model_path, *argv)
    assert status == 2
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("content, fragment", [
    ("km,fuel,age\n1000,diesel,2\n-3,diesel,2\n", "cars.csv:3: column 'km': negative value: '-3'"),
    ("km,fuel,age\n1000,lpg,2\n", "cars.csv:2: column 'fuel': unknown fuel 'lpg'"),
    ("km,fuel\n1000,diesel\n", "cars.csv:1: missing column(s) age"),
    ("km,fuel,age\n", "no cars"),
])
def test_predict_names_the_bad_line_of_a_csv_and_exits_1(capsys, car_model_path, tmp_path, content, fragment):
    cars = tmp_path / "cars.csv"
    cars.write_text(content)
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", cars)
    assert (status, out) == (1, "")
    assert_one_line_error(err, fragment)


def test_predict_with_a_missing_or_damaged_model_fails_with_status_1(capsys, tmp_path):
    status, out, err = run(capsys, "predict", "--model", tmp_path / "none.npz", "--km", 1, "--fuel", "diesel", "--age", 1)
    assert status == 1
    assert_one_line_error(err, "no such model file")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really")
    status, out, err = run(capsys, "predict", "--model", broken, "--km", 1, "--fuel", "diesel", "--age", 1)
    assert status == 1
    assert_one_line_error(err, "broken.npz")


def test_predict_refuses_a_car_older_than_the_training_cars(capsys, car_model_path):
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--km", 38000, "--fuel", "diesel", "--age", 60)
    assert (status, out) == (2, "")
    assert_one_line_error(err, "cannot price this car: age 60 is beyond the training cars (at most 21 years)")


# ---------------------------------------------------------------------- gradcheck and data
def test_gradcheck_lists_every_case_and_passes(capsys):
    status, out, err = run(capsys, "gradcheck")
    assert status == 0, out
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["op", "case", "order", "max"]
    rows = [line for line in lines[1:-1] if line.endswith(" ok")]
    cases = {tuple(line.split("  ")[:2]) for line in rows}
    assert len(rows) == len(lines) - 2 and len(cases) >= 35
    assert {"1st", "2nd"} <= {word for line in rows for word in line.split()}
    assert re.fullmatch(rf"{len(rows)} checks \(\d+ cases of \d+ ops\), all passed", lines[-1])


def test_gradcheck_reports_a_failing_rule_and_exits_1(capsys, monkeypatch):
    from autotensor.registry import REGISTRY

    op = REGISTRY["tanh"]
    monkeypatch.setattr(op, "vjps", (lambda g, out, x: g * (1 + out * out),))  # wrong sign
    status, out, err = run(capsys, "gradcheck", "--op", "tanh", "--first-order")
    assert status == 1
    assert "FAILED" in out and re.search(r"\d+ checks .*\d+ FAILED", out)


def test_gradcheck_refuses_an_unknown_op(capsys):
    status, out, err = run(capsys, "gradcheck", "--op", "no_such_op")
    assert status == 2
    assert_one_line_error(err, "no_such_op")


def test_data_fetch_downloads_and_verifies_into_the_cache(capsys, car_csv_path, tmp_path):
    status, out, err = run(capsys, "data", "fetch", "--url", car_csv_path.as_uri(), "--cache-dir", tmp_path)
    assert status == 0, err
    assert (tmp_path / "car_features.csv").read_bytes() == car_csv_path.read_bytes()
    assert "sha256 verified" in out


def test_data_fetch_with_a_wrong_checksum_fails_and_leaves_nothing(capsys, car_csv_path, tmp_path):
    status, out, err = run(capsys, "data", "fetch", "--url", car_csv_path.as_uri(), "--sha256", "0" * 64,
                           "--cache-dir", tmp_path)
    assert status == 1
    assert_one_line_error(err, "checksum mismatch")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- the parser and the table of commands
def test_help_lists_the_commands_and_exits_0(capsys):
    status, out, err = run(capsys, "--help")
    assert status == 0
    for name in ("train", "predict", "gradcheck", "data"):
        assert name in out


def test_no_command_or_an_unknown_one_is_bad_usage(capsys):
    assert run(capsys)[0] == 2
    status, out, err = run(capsys, "dance")
    assert status == 2
    assert_one_line_error(err, "dance")


def test_a_command_is_added_with_one_table_entry(capsys, monkeypatch):
    class Hello:
        HELP = "say hello"

        @staticmethod
        def add_arguments(parser):
            parser.add_argument("--name", default="world")

        @staticmethod
        def run(args):
            print(f"hello {args.name}")
            return 0

    monkeypatch.setitem(sys.modules, "hello_command", Hello)
    monkeypatch.setitem(cli.COMMANDS, "hello", "hello_command")
    assert run(capsys, "hello", "--name", "you")[:2] == (0, "hello you\n")


def test_an_unexpected_error_is_one_line_not_a_traceback(capsys, monkeypatch):
    monkeypatch.delenv("AUTOTENSOR_DEBUG", raising=False)

    def boom(args):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(gradcheck, "run", boom)
    status, out, err = run(capsys, "gradcheck")
    assert status == 1
    assert_one_line_error(err, "internal error ZeroDivisionError: oops", "AUTOTENSOR_DEBUG")


def test_progress_on_a_terminal_redraws_one_line():
    stream = io.StringIO()
    reporter = cli.ProgressReporter(stream, interactive=True)
    for epoch in range(1, 101):
        reporter(epoch, 100, 0.5, 0.6)
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and "\r[" in text
    assert "epoch 100/100" in text and "loss 0.500000" in text


def test_progress_in_a_log_writes_about_eleven_lines():
    stream = io.StringIO()
    reporter = cli.ProgressReporter(stream, interactive=False)
    for epoch in range(1, 1001):
        reporter(epoch, 1000, 0.5, 0.6)
    assert len(stream.getvalue().splitlines()) == 11


# ---------------------------------------------------------------------- the installed script
def test_the_installed_script_runs_and_fails_cleanly(car_model_path):
    script = console_script()
    good = subprocess.run([script, "predict", "--model", str(car_model_path), "--km", "38000", "--fuel", "diesel",
                           "--age", "3"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and re.match(r"[\d,]+ EUR", good.stdout), good.stderr
    bad = subprocess.run([script, "predict", "--model", str(car_model_path), "--km", "-1", "--fuel", "diesel",
                          "--age", "3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
