"""Autograd replaces the hand-derived backprop exactly: gradients, deltas, training, the CLI.

The hand-written reference is nn.backprop.ManualMLP; the autograd side is nn.MLP with
``record_deltas`` (nn.backprop.autograd_backward). Golden numbers: shared/seed-examples.md §1.
"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn import backprop
from nn.backprop import ManualMLP, relative_error, seed_example
from nn.backprop import seed_example as seed
from nn.carprice import Normalizer, load_car_data

GOLD = 1e-9  # absolute tolerance for the documents' numbers
AGREE = 1e-10  # relative agreement of autograd and the manual network in float64

YHAT = [0.202354302599, 0.144933682554, 0.381054078721, 0.262494787219, 0.368818057375]
DW1 = [[-0.171920111136, -0.159054126528, -0.089384580861],
       [0.282307763117, 0.178205075002, 0.109720805588],
       [-0.02621374892, -0.061709318484, -0.029065757421],
       [-0.334320485211, -0.199229199282, -0.128131511565]]
DW2 = [[0.002085199435, 0.025019230188],
       [-0.010520017991, -0.102917746604],
       [-0.003384710992, -0.02930899528],
       [-0.041978638786, -0.433277437121]]
DW3 = [[-0.25659878177], [-0.194693013848], [-1.101723420312]]
W1_ROW0_AFTER_STEP = [0.013438402223, 0.053181082531, 0.071787691617]
W3_AFTER_STEP = [[0.045131975635], [0.413893860277], [0.122034468406]]


def bias_rows(separate: list[np.ndarray]) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] -> the documents' [[W1; b1], [W2; b2], ...]."""
    return [np.vstack([W, b[np.newaxis, :]]) for W, b in zip(separate[0::2], separate[1::2])]


def random_problem(sizes: list[int], loss: str, n: int, seed_: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed_)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.uniform(size=(n, sizes[-1])) if loss == "bce" else rng.normal(scale=0.5, size=(n, sizes[-1]))
    return X, y


# ------------------------------------------------------------------------------------------
# Any network: manual and autograd gradients and deltas agree
# ------------------------------------------------------------------------------------------

network_cases = st.fixed_dictionaries({
    "hidden": st.lists(st.integers(1, 6), min_size=1, max_size=4),
    "n_in": st.integers(1, 4),
    "n_out": st.integers(1, 3),
    "activation": st.sampled_from(["tanh", "sigmoid", "relu", "identity"]),
    "output": st.sampled_from(["tanh", "sigmoid", "relu", "identity"]),
    "loss": st.sampled_from(["half_sse", "mse", "bce"]),
    "l2": st.sampled_from([0.0, 0.01, 0.7]),
    "batch": st.integers(1, 40),
    "seed": st.integers(0, 2**16),
})


@settings(max_examples=30, deadline=None)
@given(network_cases)
def test_manual_and_autograd_gradients_and_deltas_agree_for_any_network(case: dict) -> None:
    output = "sigmoid" if case["loss"] == "bce" else case["output"]  # BCE takes probabilities
    sizes = [case["n_in"], *case["hidden"], case["n_out"]]
    mlp = nn.MLP(sizes, case["activation"], output, seed=case["seed"])
    manual = backprop.manual_like(mlp, case["loss"], case["l2"])
    X, y = random_problem(sizes, case["loss"], case["batch"], case["seed"])

    auto = backprop.autograd_backward(mlp, X, y, case["loss"], case["l2"])
    result = manual.backward(X, y)

    assert auto.loss == pytest.approx(result.loss, rel=AGREE, abs=1e-300)
    assert [g.shape for g in auto.grads] == [p.shape for p in manual.parameters()]
    assert relative_error(auto.grads, result.grads) <= AGREE
    scale = max(float(np.max(np.abs(g))) for g in result.grads)
    for a, m in zip(auto.grads, result.grads):
        assert relative_error(a, m) <= AGREE or np.max(np.abs(a - m)) <= AGREE * scale
    assert len(auto.deltas) == len(result.deltas) == len(sizes) - 1
    for layer, (a, m) in enumerate(zip(auto.deltas, result.deltas)):
        assert a.shape == m.shape == (case["batch"], sizes[layer + 1])
        assert relative_error(a, m) <= AGREE, f"delta of layer {layer}"


def test_l2_enters_both_sides_as_lambda_times_W() -> None:
    """With the penalty, the weight gradients move by l2 * W and the biases do not move."""
    mlp = nn.MLP([3, 4, 2], "tanh", "identity", seed=3)
    X, y = random_problem([3, 4, 2], "mse", 7, 3)
    plain = backprop.autograd_backward(mlp, X, y, "mse", 0.0)
    penalised = backprop.autograd_backward(mlp, X, y, "mse", 0.3)
    manual = backprop.manual_like(mlp, "mse", 0.3).backward(X, y)
    for i, (p, g0, g1, m) in enumerate(zip(mlp.parameters(), plain.grads, penalised.grads, manual.grads)):
        expected = g0 + 0.3 * p.data if i % 2 == 0 else g0
        np.testing.assert_allclose(g1, expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(m, expected, rtol=1e-12, atol=1e-15)


def test_autograd_backward_does_not_accumulate_and_restores_record_deltas() -> None:
    mlp = nn.MLP([2, 3, 1], "tanh", "tanh", seed=1)
    X, y = random_problem([2, 3, 1], "half_sse", 5, 1)
    first = backprop.autograd_backward(mlp, X, y)
    second = backprop.autograd_backward(mlp, X, y)
    for a, b in zip(first.grads, second.grads):
        np.testing.assert_array_equal(a, b)
    assert mlp.record_deltas is False


def test_a_wrong_manual_gradient_is_reported_per_parameter() -> None:
    mlp = nn.MLP([3, 3, 2, 1], "tanh", "tanh", seed=0)
    manual = backprop.manual_like(mlp)
    X, y = random_problem([3, 3, 2, 1], "half_sse", 10, 0)
    auto = backprop.autograd_backward(mlp, X, y)
    result = manual.backward(X, y)
    result.grads[2] = result.grads[2] * (1 + 1e-6)  # dJ/dW2 off in the 7th digit
    params, deltas = backprop.compare_gradients(mlp, auto, manual, result)
    assert [d.name for d in params] == ["layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b",
                                        "layers.4.W", "layers.4.b"]
    assert [d.document for d in params] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [d.document for d in deltas] == ["delta^(2)", "delta^(3)", "delta^(4)"]
    assert params[2].relative_error == pytest.approx(0.5e-6, rel=1e-3)
    assert all(d.relative_error < 1e-12 for i, d in enumerate(params) if i != 2)


# ------------------------------------------------------------------------------------------
# The documents' five cars (seed-examples.md §1): bias-row manual network and nn.MLP
# ------------------------------------------------------------------------------------------


def test_seed_example_manual_bias_row_network_reproduces_section_1() -> None:
    _, manual = backprop.seed_pair()
    assert manual.bias_layout == "row"
    result = manual.backward(seed.X, seed.Y)
    np.testing.assert_allclose(result.yhat.ravel(), YHAT, rtol=0, atol=GOLD)
    for got, expected in zip(result.grads, (DW1, DW2, DW3)):
        np.testing.assert_allclose(got, expected, rtol=0, atol=GOLD)
    manual.step(result.grads, seed.LEARNING_RATE / len(seed.X))
    np.testing.assert_allclose(manual.weights[0][0], W1_ROW0_AFTER_STEP, rtol=0, atol=GOLD)
    np.testing.assert_allclose(manual.weights[2], W3_AFTER_STEP, rtol=0, atol=GOLD)


def test_seed_example_autograd_with_split_weights_reproduces_section_1() -> None:
    mlp, _ = backprop.seed_pair()
    auto = backprop.autograd_backward(mlp, seed.X, seed.Y)
    np.testing.assert_allclose(auto.yhat.ravel(), YHAT, rtol=0, atol=GOLD)
    # The bias gradients are the bias rows of the documents' dJ/dW.
    for got, expected in zip(bias_rows(auto.grads), (DW1, DW2, DW3)):
        np.testing.assert_allclose(got, expected, rtol=0, atol=GOLD)
    # One SGD step with the documents' 0.1 * (1/5), from the gradients autograd left in .grad.
    nn.SGD(mlp.parameters(), lr=seed.LEARNING_RATE / len(seed.X)).step()
    W1_after, _, W3_after = bias_rows([p.data for p in mlp.parameters()])
    np.testing.assert_allclose(W1_after[0], W1_ROW0_AFTER_STEP, rtol=0, atol=GOLD)
    np.testing.assert_allclose(W3_after, W3_AFTER_STEP, rtol=0, atol=GOLD)


def test_seed_example_deltas_follow_the_documents_recursion() -> None:
    """delta^(4) = -(y - yhat) tanh'(z4); delta^(3) = (delta^(4) W3^T, bias row dropped) tanh'(z3)."""
    mlp, manual = backprop.seed_pair()
    auto = backprop.autograd_backward(mlp, seed.X, seed.Y)
    result = manual.backward(seed.X, seed.Y)
    yhat = np.asarray(YHAT).reshape(-1, 1)
    delta4 = -(seed.Y - yhat) * (1 - yhat**2)
    a3 = result.activations[2]
    delta3 = (delta4 @ seed.W3[:-1].T) * (1 - a3**2)
    for deltas in (auto.deltas, result.deltas):
        np.testing.assert_allclose(deltas[2], delta4, rtol=0, atol=GOLD)
        np.testing.assert_allclose(deltas[1], delta3, rtol=0, atol=GOLD)
    # dJ/dW = a^T delta: the bias row is the column sum of the delta.
    np.testing.assert_allclose(np.asarray(DW3)[-1], delta4.sum(axis=0), rtol=0, atol=GOLD)


# ------------------------------------------------------------------------------------------
# The slides' per-sample loop, the vectorised form and autograd
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss, output, l2, layout", [
    ("half_sse", "tanh", 0.0, "separate"),
    ("half_sse", "tanh", 0.0, "row"),
    ("mse", "identity", 0.05, "separate"),
    ("mse", "relu", 0.05, "row"),
    ("bce", "sigmoid", 0.1, "separate"),
])
def test_per_sample_loop_equals_vectorised_equals_autograd(loss: str, output: str, l2: float,
                                                          layout: str) -> None:
    sizes = [3, 5, 4, 2]
    mlp = nn.MLP(sizes, "tanh", output, seed=11)
    X, y = random_problem(sizes, loss, 23, 11)
    auto = backprop.autograd_backward(mlp, X, y, loss, l2)
    manual = backprop.manual_like(mlp, loss, l2, bias_layout=layout)
    vectorised = manual.backward(X, y)
    looped = manual.backward_per_sample(X, y)
    auto_grads = bias_rows(auto.grads) if layout == "row" else auto.grads
    for variant in (vectorised, looped):
        assert variant.loss == pytest.approx(auto.loss, rel=AGREE)
        assert relative_error(variant.grads, auto_grads) <= AGREE
        for a, m in zip(auto.deltas, variant.deltas):
            assert relative_error(a, m) <= AGREE


# ------------------------------------------------------------------------------------------
# Training in lockstep
# ------------------------------------------------------------------------------------------


def car_batch(path, rows: int, seed_: int = 0) -> tuple[np.ndarray, np.ndarray]:
    table, _ = load_car_data(path)
    X, y = Normalizer().fit(table).transform_table(table)
    keep = np.random.default_rng(seed_).choice(len(X), size=rows, replace=False)
    return X[keep], y[keep]


def test_lockstep_training_on_the_car_data_stays_at_round_off_for_1000_steps(car_csv_path) -> None:
    X, y = car_batch(car_csv_path, 1500)
    mlp = nn.MLP([3, 3, 2, 1], "tanh", "tanh", seed=0)
    manual = backprop.manual_like(mlp)
    start = manual.loss(X, y)
    run = backprop.lockstep(mlp, manual, X, y, "half_sse", 0.0, lr=0.5 / len(X), steps=1000)
    assert run.steps == 1000
    assert run.loss_manual < 0.5 * start  # the networks really trained
    assert run.max_weight_diff < 1e-9
    assert run.loss_autograd == pytest.approx(run.loss_manual, rel=1e-9)


def test_lockstep_compares_against_the_manual_bias_rows() -> None:
    mlp, manual = backprop.seed_pair()
    run = backprop.lockstep(mlp, manual, seed.X, seed.Y, "half_sse", 0.0, lr=0.02, steps=200)
    assert run.max_weight_diff < 1e-12
    # The bias rows really were compared: shift one and the difference shows it.
    mlp2, manual2 = backprop.seed_pair()
    manual2.weights[0][-1, 0] += 1e-3
    run2 = backprop.lockstep(mlp2, manual2, seed.X, seed.Y, "half_sse", 0.0, lr=0.02, steps=1)
    assert run2.max_weight_diff > 5e-4


def test_step_timing_reports_both_medians_and_their_ratio() -> None:
    calls = {"a": 0, "m": 0}

    def autograd_step() -> None:
        calls["a"] += 1

    def manual_step() -> None:
        calls["m"] += 1

    timing = backprop.time_steps(autograd_step, manual_step, repeats=5)
    assert timing.repeats == 5 and timing.steps_per_sample >= 1
    assert calls["a"] == calls["m"] == 2 + 5 * timing.steps_per_sample
    assert timing.ratio == pytest.approx(timing.autograd_us / timing.manual_us)


# ------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------

ROW = re.compile(r"^(layers\.\d+\.[Wbz])\s+(\S+)\s+\(([\d, ]*)\)\s+(\S+)\s+(\S+)\s*$")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    from nn import cli

    code = cli.main(["compare", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def parse_table(text: str) -> dict:
    """The numbers of the printed table, keyed like the JSON."""
    rows, compiled = {}, {}
    section = rows
    for line in text.splitlines():
        if line.startswith("compiled dJ/dparam"):
            section = compiled  # the compiled step's gradients against the manual ones
        match = ROW.match(line)
        if match:
            name, document, _, max_abs, rel = match.groups()
            section[name] = (document, float(max_abs), float(rel))
    found = {"rows": rows, "compiled": compiled}
    cost = re.search(r"^cost J\s+autograd (\S+)\s+manual (\S+)", text, re.M)
    found["loss"] = (float(cost.group(1)), float(cost.group(2)))
    diff = re.search(r"largest weight difference at the end\s+(\S+)", text)
    final = re.search(r"^final cost\s+autograd (\S+)\s+manual (\S+)", text, re.M)
    if diff:
        found["lockstep"] = (float(diff.group(1)), float(final.group(1)), float(final.group(2)))
    timing = {name: float(value) for name, value in
              re.findall(r"^(autograd|manual|ratio|compiled)\s+([\d.]+)", text, re.M)}
    found["timing"] = timing
    return found


def assert_table_matches_json(table: dict, report: dict, with_timing: bool) -> None:
    compiled_rows = {d["name"]: d for d in report["compiled"]}
    assert set(table["compiled"]) == set(compiled_rows) == {d["name"] for d in report["parameters"]}
    for name, (document, max_abs, rel) in table["compiled"].items():
        assert document == compiled_rows[name]["document"]
        assert max_abs == pytest.approx(compiled_rows[name]["max_abs_diff"], rel=1e-3, abs=0)
        assert rel <= report["tolerance"]
    json_rows = {d["name"]: d for d in report["parameters"] + report["deltas"]}
    assert set(table["rows"]) == set(json_rows)
    for name, (document, max_abs, rel) in table["rows"].items():
        assert document == json_rows[name]["document"]
        assert max_abs == pytest.approx(json_rows[name]["max_abs_diff"], rel=1e-3, abs=0)
        assert rel == pytest.approx(json_rows[name]["relative_error"], rel=1e-3, abs=0)
    assert table["loss"] == pytest.approx((report["loss"]["autograd"], report["loss"]["manual"]), abs=1e-12)
    lockstep = report["lockstep"]
    assert table["lockstep"][0] == pytest.approx(lockstep["max_weight_diff"], rel=1e-3, abs=0)
    assert table["lockstep"][1:] == pytest.approx((lockstep["loss_autograd"], lockstep["loss_manual"]), abs=1e-12)
    if with_timing:
        timing = report["timing"]
        assert table["timing"]["autograd"] == pytest.approx(timing["autograd_us"], abs=0.05)
        assert table["timing"]["manual"] == pytest.approx(timing["manual_us"], abs=0.05)
        assert table["timing"]["ratio"] == pytest.approx(timing["ratio"], abs=0.005)
        assert table["timing"]["compiled"] == pytest.approx(timing["compiled_us"], abs=0.05)


def test_cli_seed_example_prints_the_documents_numbers_and_json_agrees(capsys) -> None:
    code, out, err = run_cli(capsys, "--example", "seed", "--steps", "100", "--repeats", "3")
    assert code == 0, err
    for value in YHAT + [DW1[0][0], DW2[3][1], DW3[2][0]] + W1_ROW0_AFTER_STEP:
        assert f"{value:.12f}" in out
    assert "OK" in out.splitlines()[-1]

    code, out_json, _ = run_cli(capsys, "--example", "seed", "--steps", "100", "--repeats", "3", "--json")
    assert code == 0
    report = json.loads(out_json)  # nothing but JSON on stdout
    assert report["ok"] is True and report["example"] == "seed"
    assert report["network"]["manual_bias_layout"] == "row"
    assert report["timing"]["repeats"] == 3 and report["lockstep"]["steps"] == 100
    assert report["lr"] == pytest.approx(0.1 / 5)
    numbers = report["seed_numbers"]
    for side in ("autograd", "manual"):
        np.testing.assert_allclose(numbers["yhat"][side], YHAT, rtol=0, atol=GOLD)
        np.testing.assert_allclose(numbers["dJ/dW1"][side], DW1, rtol=0, atol=GOLD)
        np.testing.assert_allclose(numbers["dJ/dW2"][side], DW2, rtol=0, atol=GOLD)
        np.testing.assert_allclose(numbers["dJ/dW3"][side], DW3, rtol=0, atol=GOLD)
        np.testing.assert_allclose(numbers["W1'"][side][0], W1_ROW0_AFTER_STEP, rtol=0, atol=GOLD)
        np.testing.assert_allclose(numbers["W3'"][side], W3_AFTER_STEP, rtol=0, atol=GOLD)
    assert_table_matches_json(parse_table(out), report, with_timing=False)
    assert set(parse_table(out)["timing"]) == {"autograd", "manual", "ratio", "compiled"}


def test_cli_on_the_car_data_reports_round_off_and_json_agrees(capsys, car_csv_path) -> None:
    argv = ("--data", str(car_csv_path), "--batch", "400", "--steps", "50", "--repeats", "3",
            "--loss", "mse", "--l2", "0.01", "--hidden", "4,3")
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    code, out_json, _ = run_cli(capsys, *argv, "--json")
    assert code == 0
    report = json.loads(out_json)
    assert report["data"] == {"source": "file", "path": str(car_csv_path), "rows": 400,
                              "description": report["data"]["description"]}
    assert report["network"]["sizes"] == [3, 4, 3, 1]
    assert all(d["relative_error"] < 1e-12 for d in report["parameters"] + report["deltas"])
    assert report["lockstep"]["max_weight_diff"] < 1e-12
    assert_table_matches_json(parse_table(out), report, with_timing=False)


def test_cli_without_real_data_uses_the_synthetic_sample(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(tmp_path))  # an empty cache: no real listings
    code, out, err = run_cli(capsys, "--batch", "100", "--steps", "5", "--repeats", "1", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["data"]["source"] == "synthetic" and report["data"]["rows"] == 100


def test_table_shows_the_numbers_of_the_same_report_including_timing() -> None:
    mlp = nn.MLP([3, 3, 2, 1], "tanh", "tanh", seed=2)
    X, y = random_problem([3, 3, 2, 1], "half_sse", 50, 2)
    report = backprop.run_comparison(mlp, backprop.manual_like(mlp), X, y, loss="half_sse", lr=0.01,
                                    steps=10, repeats=3)
    assert_table_matches_json(parse_table(backprop.format_table(report)), report.to_dict(), with_timing=True)


def test_cli_exits_1_when_the_manual_gradients_are_wrong(capsys, monkeypatch) -> None:
    original = ManualMLP.backward

    def off_by_a_little(self, X, y):
        result = original(self, X, y)
        result.grads[0] = result.grads[0] + 1e-6
        return result

    monkeypatch.setattr(ManualMLP, "backward", off_by_a_little)
    code, out, _ = run_cli(capsys, "--example", "seed", "--steps", "10", "--repeats", "1")
    assert code == 1
    assert "MISMATCH" in out
    assert re.search(r"gradient layers\.0\.W: relative error", out)
    assert re.search(r"lockstep: weights differ", out)


@pytest.mark.parametrize("argv", [
    ("--example", "seed", "--hidden", "4"),
    ("--example", "seed", "--loss", "mse"),
    ("--loss", "bce", "--output-activation", "tanh"),
    ("--batch", "0"),
    ("--steps", "-1"),
    ("--hidden", "3,0"),
    ("--hidden", "three"),
])
def test_cli_exits_2_on_bad_usage(capsys, argv) -> None:
    code, out, err = run_cli(capsys, *argv, "--steps", "1", "--repeats", "0") if "--steps" not in argv \
        else run_cli(capsys, *argv, "--repeats", "0")
    assert code == 2
    assert out == ""
    assert "compare" in err


def test_cli_exits_1_on_an_unreadable_data_file(capsys, tmp_path) -> None:
    """As for `autotensor train`: a bad data file is a failure (1), reported in one line."""
    code, out, err = run_cli(capsys, "--data", str(tmp_path / "missing.csv"), "--steps", "1", "--repeats", "0")
    assert code == 1
    assert out == ""
    assert err.startswith("autotensor compare: error:") and len(err.strip().splitlines()) == 1


def test_cli_show_code_prints_the_derived_step_with_the_documents_formulas(capsys) -> None:
    code, out, err = run_cli(capsys, "--example", "seed", "--steps", "0", "--repeats", "0", "--show-code")
    assert code == 0, err
    listing = out[out.index("def step("):]
    lines = listing.splitlines()
    expected = {  # each formula sits right above the line that computes it
        "δ^(4) = -(y - a^(4)) ⊙ f'(z^(4))": "delta4 = ",
        "δ^(3) = (δ^(4) W^(3)ᵀ) ⊙ f'(z^(3))": "delta3 = ",
        "δ^(2) = (δ^(3) W^(2)ᵀ) ⊙ f'(z^(2))": "delta2 = ",
        "∂J/∂W^(1) = a^(1)ᵀ δ^(2)": "dW1 = dot(",
        "∂J/∂b^(3) = Σ_rows δ^(4)": "db3 = ",
        "W^(2) ← W^(2) - α ∂J/∂W^(2)": "subtract(W2, ",
    }
    for formula, computed_by in expected.items():
        position = next(i for i, line in enumerate(lines) if formula in line)
        assert lines[position + 1].strip().startswith(computed_by), (formula, lines[position + 1])
    namespace: dict = {}
    compile(listing, "<derived>", "exec")  # the listing is Python
    assert "a2 = tanh(z2" in listing and "z2 = dot(X, W1" in listing and namespace == {}


def test_compiled_step_lockstep_agrees_with_the_manual_network() -> None:
    mlp, manual = backprop.seed_pair()
    X, Y = seed_example.X, seed_example.Y
    report = backprop.run_comparison(mlp, manual, X, Y, loss="half_sse", lr=0.02, steps=300, repeats=0)
    assert report.ok, report.failures
    assert report.compiled_lockstep.max_weight_diff < 1e-12
    assert report.compiled_lockstep.loss_autograd == pytest.approx(report.compiled_lockstep.loss_manual, abs=1e-12)
