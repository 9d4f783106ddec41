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


def _products_with_ones(source: str, bindings: dict) -> list[str]:
    """Lines of ``source`` that multiply by a bound constant full of ones."""
    values = dict(bindings)
    for name, index in re.findall(r"^ *(\w+) = objects\[(\d+)\]$", source, re.MULTILINE):
        values[name] = bindings["objects"][int(index)]
    found = []
    for line in source.splitlines():
        match = re.search(r"\bmultiply\(([^,]+), ([^,)]+)", line)
        if match is None:
            continue
        for name in match.groups():
            value = values.get(name.strip())
            if isinstance(value, np.ndarray) and value.size and np.all(value == 1):
                found.append(line)
    return found


def test_products_with_the_seed_of_ones_are_dropped_without_changing_a_bit() -> None:
    def loss_and_grad(x: at.Tensor) -> at.Tensor:
        loss = x.tanh().sum()  # backward starts from (read-only) ones spread over x's shape
        loss.backward()
        return loss

    rng = np.random.default_rng(3)
    x = at.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    compiled = at.compile(loss_and_grad)
    compiled(x)
    x.grad = None
    value = compiled(x)
    assert _products_with_ones(compiled.source, compiled.bindings) == []
    replayed_grad = x.grad.data.copy()
    x.grad = None
    eager = loss_and_grad(x)
    assert value.item() == eager.item()
    np.testing.assert_array_equal(replayed_grad, x.grad.data)


def test_a_first_power_of_a_computed_value_is_dropped() -> None:
    compiled = at.compile(lambda x: (x.tanh() ** 1) * 3.0)
    x = at.Tensor(np.random.default_rng(4).normal(size=(5,)))
    replayed = compiled(x)
    assert "power" not in compiled.source.split("\n", 2)[2]  # past the line naming the functions
    np.testing.assert_array_equal(replayed.data, np.tanh(x.data) * 3.0)


def test_a_users_array_of_ones_is_not_taken_for_a_constant() -> None:
    ones = np.ones(4)  # bound by reference: the replay must read what it holds at the call
    compiled = at.compile(lambda x: x.tanh() * ones)
    x = at.Tensor(np.linspace(-1.0, 1.0, 4))
    compiled(x)
    ones[...] = 2.0
    np.testing.assert_array_equal(compiled(x).data, np.tanh(x.data) * 2.0)


def test_a_product_of_an_argument_with_one_is_still_a_new_array() -> None:
    compiled = at.compile(lambda x: x * 1.0)
    x = at.Tensor(np.arange(3.0))
    compiled(x)
    replayed = compiled(x)
    np.testing.assert_array_equal(replayed.data, x.data)
    assert not np.shares_memory(replayed.data, x.data)  # x * 1 is a copy, as it is eagerly
