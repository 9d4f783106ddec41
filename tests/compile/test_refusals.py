"""What a replay could not repeat faithfully is refused with at.TraceError, naming the compiled
function and the user's line -- never a replay that quietly differs from the eager call."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at

W = at.Tensor(np.array([[0.5], [-0.25]]), requires_grad=True, name="W")


def loss_of(X: Any) -> at.Tensor:
    return ((at.Tensor(X) @ W).tanh() ** 2).sum()


def uses_item(X: Any) -> at.Tensor:
    loss = loss_of(X)
    if loss.item() > 1.0:
        loss = loss * 0.5
    return loss.detach()


def uses_bool(X: Any) -> at.Tensor:
    loss = loss_of(X)
    return (loss * 2.0).detach() if loss > 1.0 else loss.detach()


def uses_float(X: Any) -> float:
    return float(loss_of(X).detach())


def uses_a_comparison_as_a_condition(X: Any) -> at.Tensor:
    z = at.Tensor(X) @ W
    if (z > 0).any():  # a mask is fine, a mask's truth value is not
        z = z * 2.0
    return z.detach()


def differentiates_twice(X: Any) -> at.Tensor:
    (g,) = at.grad(loss_of(X), W, create_graph=True)
    return g.detach()


def keeps_a_non_leaf_gradient(X: Any) -> at.Tensor:
    z = (at.Tensor(X) @ W).retain_grad()
    z.tanh().sum().backward()
    return z.grad


def returns_a_live_graph(X: Any) -> at.Tensor:
    return loss_of(X)  # no backward ran through it: the caller could still need the graph


def runs_under_detect_anomaly(X: Any) -> at.Tensor:
    with at.detect_anomaly():
        return loss_of(X).detach()


def freezes_an_argument(X: Any) -> at.Tensor:
    return at.Tensor(np.asarray(X) * 2.0)


REFUSED: dict[str, tuple[Callable[[Any], Any], str]] = {
    "item()": (uses_item, r"\.item\(\)"),
    "bool()": (uses_bool, "Python bool"),
    "float()": (uses_float, r"Python float|\.item\(\)"),
    "a comparison as a condition": (uses_a_comparison_as_a_condition, "Python bool"),
    "create_graph": (differentiates_twice, "create_graph"),
    "retain_grad": (keeps_a_non_leaf_gradient, "retain_grad"),
    "a returned graph": (returns_a_live_graph, "graph would still be needed"),
    "anomaly mode inside": (runs_under_detect_anomaly, "detect_anomaly"),
    "np.asarray of an argument": (freezes_an_argument, "plain ndarray"),
}


@pytest.mark.parametrize("function, message", REFUSED.values(), ids=REFUSED.keys())
def test_what_a_replay_cannot_repeat_is_refused_naming_the_line(function: Callable[[Any], Any], message: str) -> None:
    compiled = at.compile(function)
    with pytest.raises(at.TraceError, match=message) as caught:
        compiled(np.ones((3, 2)))
    assert function.__name__ in str(caught.value)
    assert "test_refusals.py:" in str(caught.value)  # the line of the user's code
    assert isinstance(caught.value, at.AutotensorError)
    assert not compiled.traces  # nothing half-traced is kept for later calls


def test_calling_a_compiled_function_under_detect_anomaly_is_refused() -> None:
    compiled = at.compile(lambda X: loss_of(X).detach())
    compiled(np.ones((3, 2)))
    with at.detect_anomaly(), pytest.raises(at.TraceError, match="detect_anomaly"):
        compiled(np.ones((3, 2)))


def test_containers_of_arrays_as_arguments_are_refused() -> None:
    compiled = at.compile(lambda arrays: loss_of(arrays[0]).detach())
    with pytest.raises(at.TraceError, match="containers are not traced"):
        compiled([np.ones((3, 2))])


def test_a_refused_trace_leaves_the_gradients_and_weights_as_eager_would() -> None:
    W.grad = None
    before = W.data.copy()

    def half_a_step(X: Any) -> None:
        loss = loss_of(X)
        loss.backward()
        if loss > 0:  # refused here, after backward
            pass

    with pytest.raises(at.TraceError):
        at.compile(half_a_step)(np.ones((3, 2)))
    assert isinstance(W.grad.data, np.ndarray)  # a real gradient, as eager backward left it
    expected = at.Tensor(W.data, requires_grad=True)
    loss_of_expected = ((at.Tensor(np.ones((3, 2))) @ expected).tanh() ** 2).sum()
    loss_of_expected.backward()
    np.testing.assert_allclose(W.grad.data, expected.grad.data)
    np.testing.assert_array_equal(W.data, before)
    W.grad = None
