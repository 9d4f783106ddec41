"""The hand-derived backprop of the multi-class case (document 003's digits): softmax
cross-entropy, delta_L = (softmax(z_L) - y) / N, against autograd and on the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn import backprop
from nn.backprop import ManualMLP
from nn.backprop import backward as manual_backward
from tests.backprop.test_compare import run_cli



@pytest.fixture
def sklearn() -> None:
    pytest.importorskip("sklearn")  # the digits example reads scikit-learn's digits


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_output_delta_is_softmax_minus_the_one_hot_target_over_n() -> None:
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    y = np.eye(3)[labels]
    mlp = nn.MLP([4, 5, 3], "relu", "identity", seed=1)
    result = backprop.manual_like(mlp, "softmax_cross_entropy").backward(X, y)
    z = result.yhat  # a linear output layer: the outputs are z_L
    np.testing.assert_allclose(result.deltas[-1], (softmax(z) - y) / 6, rtol=1e-14, atol=1e-17)
    assert result.loss == pytest.approx(-np.mean(np.log(softmax(z)[np.arange(6), labels])), rel=1e-13)


def test_large_logits_give_a_finite_cost_and_delta() -> None:
    manual = ManualMLP([np.array([[1000.0, -1000.0]])], [np.zeros(2)], output_activation="identity",
                       loss="softmax_cross_entropy")
    result = manual.backward(np.array([[1.0], [-1.0]]), np.eye(2)[::-1])  # both confidently wrong
    assert result.loss == pytest.approx(2000.0) and np.all(np.isfinite(result.deltas[-1]))


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3), classes=st.integers(2, 5),
       batch=st.integers(1, 30), activation=st.sampled_from(["tanh", "sigmoid", "relu"]),
       l2=st.sampled_from([0.0, 0.1]), seed=st.integers(0, 2**16))
def test_autograd_and_the_manual_network_agree_on_any_classifier(hidden, classes, batch, activation, l2, seed) -> None:
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(batch, 4)), np.eye(classes)[rng.integers(0, classes, batch)]
    mlp = nn.MLP([4, *hidden, classes], activation, "identity", seed=seed)
    manual = backprop.manual_like(mlp, "softmax_cross_entropy", l2)
    auto = backprop.autograd_backward(mlp, X, y, "softmax_cross_entropy", l2)
    result = manual.backward(X, y)
    assert auto.loss == pytest.approx(result.loss, rel=1e-12)
    params, deltas = backprop.compare_gradients(mlp, auto, manual, result)
    for a, m in zip(auto.grads + auto.deltas, result.grads + result.deltas):
        np.testing.assert_allclose(a, m, rtol=1e-10, atol=1e-15)
    assert all(d.relative_error < 1e-10 or d.max_abs_diff < 1e-15 for d in params + deltas)


def test_compare_runs_the_digits_network_and_agrees_to_round_off(sklearn, capsys) -> None:
    argv = ("--example", "digits", "--batch", "200", "--steps", "100", "--repeats", "0")
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert "network   64-30-10, hidden relu, output identity, loss softmax_cross_entropy" in out
    assert "layers.2.z             delta^(3)  (200, 10)" in out
    code, out_json, _ = run_cli(capsys, *argv, "--json")
    report = json.loads(out_json)
    assert code == 0 and report["ok"] and report["example"] == "digits"
    assert report["data"]["source"] == "digits" and report["data"]["rows"] == 200
    assert [d["name"] for d in report["deltas"]] == ["layers.0.z", "layers.2.z"]
    assert all(d["relative_error"] < 1e-12 for d in report["parameters"] + report["deltas"] + report["compiled"])
    assert report["lockstep"]["max_weight_diff"] < 1e-12 and report["compiled_lockstep"]["max_weight_diff"] < 1e-12


def test_compare_fails_a_multi_class_delta_that_forgets_the_mean(sklearn, capsys, monkeypatch) -> None:
    """delta_L = softmax(z) - y without the 1/N: every gradient N times too large, exit 1."""
    scale = manual_backward.loss_scale
    monkeypatch.setattr(manual_backward, "loss_scale",
                        lambda loss, shape: 1.0 if loss == "softmax_cross_entropy" else scale(loss, shape))
    code, out, _ = run_cli(capsys, "--example", "digits", "--batch", "50", "--steps", "5", "--repeats", "0")
    assert code == 1
    assert "MISMATCH" in out and "delta layers.2.z" in out


def test_compare_shows_the_documents_multi_class_delta_above_its_line(sklearn, capsys) -> None:
    code, out, _ = run_cli(capsys, "--example", "digits", "--batch", "20", "--steps", "0", "--repeats", "0",
                           "--show-code")
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "the output delta (softmax cross-entropy)" in line)
    assert "δ^(3) = (softmax(z^(3)) - y) / n" in lines[at] and lines[at + 1].lstrip().startswith("delta3 = ")


@pytest.mark.parametrize("argv", [
    ("--example", "digits", "--loss", "mse"),
    ("--example", "digits", "--output-activation", "tanh"),
    ("--example", "digits", "--data", "cars.csv"),
    ("--loss", "softmax_cross_entropy"),
])
def test_compare_refuses_what_the_digits_network_fixes(capsys, argv) -> None:
    code, out, err = run_cli(capsys, *argv, "--steps", "0", "--repeats", "0")
    assert (code, out) == (2, "") and "compare" in err
