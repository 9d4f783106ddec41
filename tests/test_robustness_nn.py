"""Robustness of the nn side: bounded memory in training, in-place optimiser steps, and the
command line's refusal of bad arguments and bad files."""
import tracemalloc

import numpy as np
import pytest

import autotensor as at
import nn
from nn import cli
from nn.data import Normalizer, load_car_data


def test_two_thousand_training_steps_do_not_grow_memory(car_csv_path):
    # The car MLP trained full-batch on the real listings.  (Python's own free lists for small
    # tuples fill up during the first ~2,000 steps -- about 70 kB, then flat -- which is why the
    # comparison is on the real workload, where a leak of one array per step would show at once.)
    table, _ = load_car_data(car_csv_path)
    X, y = Normalizer().fit(table).transform_table(table)
    model = nn.MLP([3, 3, 2, 1], "tanh", "tanh", seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        nn.mse(model(X), y).backward()
        optimizer.step()

    tracemalloc.start()
    try:
        peaks = {}
        for number in range(1, 2001):
            if number in (101, 1901):
                tracemalloc.reset_peak()
            step()
            if number in (200, 2000):
                peaks[number] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peaks[2000] <= peaks[200] * 1.05, peaks


def test_optimiser_steps_are_in_place_edits_the_version_counter_sees():
    model = nn.MLP([2, 3, 1], "tanh", seed=1)
    W = model.parameters()[0]
    data_before = W.data
    loss = nn.mse(model(np.ones((4, 2))), np.zeros((4, 1)))
    loss.backward(retain_graph=True)
    version = W.version
    nn.optim.SGD(model.parameters(), lr=0.1).step()
    assert W.data is data_before and W.version == version + 1  # edited in place, under no_grad
    with pytest.raises(at.GraphError, match=r"linear needs its input 1 of shape \(3, 1\), which was modified"):
        loss.backward()  # the graph saw the weights before the step
    model.zero_grad()
    nn.mse(model(np.ones((4, 2))), np.zeros((4, 1))).backward()  # a fresh forward pass works
    assert W.grad is not None


WRONG_ARGUMENTS = [
    ["train", "--epochs", "many"],
    ["train", "--lr", "-1"],
    ["train", "--hidden", "3,x"],
    ["train", "--optimizer", "newton"],
    ["predict", "--km"],
    ["predict", "--km", "1000", "--fuel", "steam", "--age", "3", "--model", "m.npz"],
    ["graph", "--rankdir", "XX", "--example", "seed"],
    ["graph"],
    ["compare", "--steps", "-3"],
    ["compare", "--example", "nonsense"],
    ["gradcheck", "--bogus"],
    ["data"],
    ["data", "fetch", "--bogus"],
    ["no-such-command"],
]


@pytest.mark.parametrize("argv", WRONG_ARGUMENTS, ids=[" ".join(a) for a in WRONG_ARGUMENTS])
def test_every_subcommand_refuses_wrong_arguments_with_status_2_and_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        status = cli.main(argv)
        raise SystemExit(status)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error" in lines[0].lower(), err
    assert "Traceback" not in err


def test_training_on_a_file_with_a_bad_row_names_the_line_and_writes_no_model(tmp_path, capsys):
    data = tmp_path / "cars.csv"
    data.write_text("km,fuel,age,price\n120000,Diesel,5,9000\n80000,Diesel,three,12000\n")
    model = tmp_path / "model.npz"
    status = cli.main(["train", "--data", str(data), "--out", str(model), "--epochs", "2"])
    assert status == 1
    err = capsys.readouterr().err
    assert ":3:" in err and "age" in err
    assert not model.exists() and list(tmp_path.iterdir()) == [data]


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty"),
    (b"kilometres,fuel,age,price\n1,Diesel,2,3000\n", "header"),
    (b"km,fuel,age,price\n1000,Diesel,2,3000\n2000,\xe9ssence,3,4000\n", "UTF-8"),
])
def test_unreadable_csv_files_give_a_clear_error_and_write_nothing(tmp_path, capsys, content, fragment):
    data = tmp_path / "cars.csv"
    data.write_bytes(content)
    status = cli.main(["train", "--data", str(data), "--out", str(tmp_path / "model.npz")])
    assert status == 1
    err = capsys.readouterr().err
    assert fragment.lower() in err.lower() and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [data]
