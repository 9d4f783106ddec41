"""One exit-code rule for every command, both entry points alike, --version, the offline hint.

The rule (README, ``nn.cli.errors``): 2 for a wrong command line, found before any work and
naming the option; 1 for an input that cannot be read or is invalid, naming it; 0 success.
"""
import subprocess
import sys

import pytest

from nn import cli
from tests.cli.running import assert_one_line_error, console_script, run

# (argv, the option the message names): wrong command lines, one or more per command.
WRONG_COMMAND_LINES = [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--out", "{d}"], "--out"),
    (["predict", "--km", "-1", "--fuel", "diesel", "--age", "1"], "--km"),
    (["predict", "--km", "1", "--fuel", "steam", "--age", "1"], "--fuel"),
    (["graph", "--example", "seed", "--out", "{d}/g.jpg"], "--out"),
    (["compare", "--batch", "0"], "--batch"),
    (["gradcheck", "--op", "no_such_op"], "no_such_op"),
    (["data", "fetch", "--cache-dir", "{d}/cars.csv"], "--cache-dir"),
    (["digits", "--plot", "{d}/digits.txt"], "--plot"),
]

# (argv, the file the message names): inputs that cannot be read or are invalid.
BAD_INPUT_FILES = [
    (["train", "--data", "{d}/absent.csv", "--out", "{d}/m.npz"], "{d}/absent.csv"),
    (["train", "--data", "{d}/cars.csv", "--out", "{d}/m.npz"], "{d}/cars.csv:1"),
    (["predict", "--model", "{d}/absent.npz", "--km", "1", "--fuel", "diesel", "--age", "1"], "{d}/absent.npz"),
    (["predict", "--model", "{d}/cars.csv", "--km", "1", "--fuel", "diesel", "--age", "1"], "{d}/cars.csv"),
    (["predict", "--model", "{model}", "--csv", "{d}/absent.csv"], "{d}/absent.csv"),
    (["predict", "--model", "{model}", "--csv", "{d}"], "{d}"),
    (["graph", "--model", "{d}/absent.npz", "--out", "{d}/g.dot"], "{d}/absent.npz"),
    (["graph", "--model", "{model}", "--data", "{d}/cars.csv", "--out", "{d}/g.dot"], "{d}/cars.csv:1"),
    (["compare", "--data", "{d}/absent.csv", "--steps", "0", "--repeats", "0"], "{d}/absent.csv"),
    (["data", "fetch", "--url", "file://{d}/absent.csv", "--cache-dir", "{d}"], "{d}/absent.csv"),
    (["gradcheck", "--import", "{d}/absent_ops.py"], "{d}/absent_ops.py"),
]


def filled(argv, tmp_path, model):
    return [a.format(d=tmp_path, model=model) for a in argv]


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "cars.csv").write_text("not,a,listings,header\n")
    return tmp_path


@pytest.mark.parametrize("argv, option", WRONG_COMMAND_LINES, ids=[" ".join(a[:2]) for a, _ in WRONG_COMMAND_LINES])
def test_a_wrong_command_line_exits_2_naming_the_option(capsys, workdir, car_model_path, argv, option):
    status, out, err = run(capsys, *filled(argv, workdir, car_model_path))
    assert (status, out) == (2, "")
    assert_one_line_error(err, option)
    assert sorted(p.name for p in workdir.iterdir()) == ["cars.csv"]


@pytest.mark.parametrize("argv, name", BAD_INPUT_FILES, ids=[" ".join(a[:3]) for a, _ in BAD_INPUT_FILES])
def test_an_input_that_cannot_be_read_or_is_invalid_exits_1_naming_it(capsys, workdir, car_model_path, argv, name):
    status, out, err = run(capsys, *filled(argv, workdir, car_model_path))
    assert status == 1
    assert_one_line_error(err, name.format(d=workdir))
    assert "internal error" not in err
    assert sorted(p.name for p in workdir.iterdir()) == ["cars.csv"]


def test_every_command_is_covered_by_both_tables():
    # gradcheck and digits read no file (digits' data ship inside scikit-learn)
    for table in (WRONG_COMMAND_LINES, [(["gradcheck"], None), (["digits"], None)] + BAD_INPUT_FILES):
        assert {argv[0] for argv, _ in table} == set(cli.COMMANDS)


def test_version(capsys):
    status, out, err = run(capsys, "--version")
    assert status == 0 and out.startswith("autotensor 0.") and err == ""


def test_fetching_without_network_says_how_to_work_offline(capsys, tmp_path):
    status, out, err = run(capsys, "data", "fetch", "--url", "http://127.0.0.1:9/car_features.csv",
                           "--cache-dir", tmp_path)
    assert status == 1
    assert_one_line_error(err, "cannot download http://127.0.0.1:9/car_features.csv",
                          "--url file:///path/to/car_features.csv", "--data PATH")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- both entry points
ENTRY_POINT_CASES = [
    ["--version"],
    ["predict", "--km", "5", "--fuel", "diesel"],      # a UsageError raised by the command
    ["train", "--seed", "-1"],                          # an argparse error
    ["predict", "--model", "absent.npz", "--km", "1", "--fuel", "diesel", "--age", "1"],  # a bad input file
]


@pytest.mark.parametrize("argv", ENTRY_POINT_CASES, ids=[" ".join(a) for a in ENTRY_POINT_CASES])
def test_python_dash_m_and_the_console_script_behave_the_same(argv, tmp_path):
    results = [subprocess.run(command + argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
               for command in ([console_script()], [sys.executable, "-m", "nn.cli"])]
    installed, module = ((r.returncode, r.stdout, r.stderr) for r in results)
    assert installed == module
    assert installed[0] in (0, 1, 2) and "internal error" not in installed[2] and "Traceback" not in installed[2]
