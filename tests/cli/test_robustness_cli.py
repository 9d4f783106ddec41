"""Robustness of the command line: bad arguments and bad files are refused in one line."""
import pytest

from nn import cli


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
