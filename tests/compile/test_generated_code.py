"""The generated code: plain Python that runs on its own, names the documents' quantities, and
says which op's forward or derivative rule each line comes from."""
from __future__ import annotations

import re

import numpy as np

import autotensor as at
import nn
from tests.compile.steps import sgd_step


def car_step() -> tuple[at.CompiledFunction, nn.MLP, np.ndarray, np.ndarray]:
    model = nn.MLP([3, 3, 2, 1], activation="tanh", output_activation="identity", seed=0)
    step = at.compile(sgd_step(model, loss=nn.half_sse))
    rng = np.random.default_rng(0)
    return step, model, rng.normal(size=(5, 3)), rng.normal(size=(5, 1))


def test_the_source_runs_as_plain_python_and_does_what_the_replay_does() -> None:
    step, model, X, y = car_step()
    step(X, y)  # trace
    namespace = step.bindings
    exec(step.source, namespace)  # noqa: S102
    weights = [p.data.copy() for p in model.parameters()]
    by_hand = namespace["step"](X, y).item()  # the source, run as written
    after_hand = [p.data.copy() for p in model.parameters()]
    for p, w in zip(model.parameters(), weights):
        p.data[...] = w
    replayed = step(X, y).item()
    assert by_hand == replayed
    for p, w in zip(model.parameters(), after_hand):
        np.testing.assert_array_equal(p.data, w)


def test_the_source_names_every_op_of_the_step_and_its_rule() -> None:
    step, model, X, y = car_step()
    loss = nn.half_sse(model(X), y)
    ops = {node.op_name for node in at.topological_order([loss]) if node.op_name}
    assert ops == {"linear", "tanh", "sub", "mul", "sum"}
    step(X, y)
    source = step.source
    for op in ops:
        assert re.search(rf"# forward: {op}\b", source), op
    # sum's and sub's rules pass the gradient on unchanged (or as a constant, folded at trace
    # time), so they leave no line; every rule that computes has its comment.
    for op in ["linear", "tanh", "mul"]:
        assert re.search(rf"# backward: {op} rule\b", source), op
    comments = set(re.findall(r"# (?:forward|backward): (\w+)", source))
    assert comments <= ops


def test_the_source_uses_the_documents_names_for_layers_and_deltas() -> None:
    step, _, X, y = car_step()
    step(X, y)
    source = step.source
    for name in ["z2", "a2", "z3", "a3", "z4", "delta2", "delta3", "dW1", "dW2", "dW3", "db1", "W1", "b3"]:
        assert re.search(rf"\b{name}\b", source), name
    assert re.search(r"z2 = dot\(X, W1\b", source)
    assert re.search(r"a2 = tanh\(z2\b", source)
