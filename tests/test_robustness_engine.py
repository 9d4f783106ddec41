"""Robustness of the engine: depth, memory release, NaN hunting and fuzzing from the registry."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import autotensor as at
from autotensor.errors import AnomalyError, AutotensorError
from autotensor.registry import REGISTRY
from tests.work import assert_linear, lines_run


# ---------------------------------------------------------------- depth, in linear work
def _chain(length):
    x = at.Tensor([0.5], requires_grad=True)
    y = x
    for _ in range(length):
        y = y * 1.0
    return x, y


def _diamonds(length):
    x = at.Tensor([0.5], requires_grad=True)
    y = x
    for _ in range(length):
        y = (y + y) * 0.5  # every node used twice
    return x, y


def _backward_work(make):
    """Lines of the engine run by one backward pass through ``make(n)``'s graph."""
    def work(n):
        _, y = make(n)
        loss = y.sum()
        return lines_run(loss.backward)
    return work


def test_a_200k_node_chain_supports_order_grad_and_backward_in_linear_work():
    x, y = _chain(200_000)
    loss = y.sum()
    assert len(at.topological_order([loss])) == 200_002
    (g,) = at.grad(loss, x, retain_graph=True)
    assert g.item() == 1.0
    loss.backward()
    assert x.grad.item() == 1.0
    assert_linear(_backward_work(_chain), 1_000)


def test_200k_nodes_of_diamonds_each_node_used_twice_in_linear_work():
    x, y = _diamonds(100_000)  # 200,000 op nodes
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0)
    assert_linear(_backward_work(_diamonds), 1_000)


# ---------------------------------------------------------------- memory
def test_backward_releases_intermediate_arrays_without_the_garbage_collector():
    gc.disable()
    try:
        x = at.Tensor(np.ones((50, 50)), requires_grad=True)
        hidden = (x * 2.0).tanh()
        refs = [weakref.ref(hidden.data), weakref.ref(hidden.parents[0].data)]
        loss = (hidden @ hidden).sum()
        del hidden
        assert all(r() is not None for r in refs)  # alive while the graph may still be needed
        loss.backward()
        assert all(r() is None for r in refs)      # released by reference counting alone
        assert x.grad is not None
    finally:
        gc.enable()


def test_retain_graph_keeps_the_arrays_until_the_graph_is_dropped():
    gc.disable()
    try:
        x = at.Tensor(np.ones(4), requires_grad=True)
        hidden = x.exp()
        ref = weakref.ref(hidden.data)
        loss = hidden.sum()
        del hidden
        loss.backward(retain_graph=True)
        assert ref() is not None
        del loss
        assert ref() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------- NaN / Inf hunting
def test_detect_anomaly_names_the_forward_op_that_made_a_nan():
    x = at.Tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(AnomalyError, match="log produced NaN/Inf in its forward output"):
        with at.detect_anomaly(), np.errstate(invalid="ignore"):
            (x * 2).log()


def test_detect_anomaly_names_the_rule_and_its_forward_op_in_backward():
    x = at.Tensor([0.0, 4.0], requires_grad=True)
    with at.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt().sum()  # forward is finite; d sqrt / dx = inf at 0
        with pytest.raises(AnomalyError, match=r"derivative rule of sqrt .*forward op sqrt") as info:
            y.backward()
    assert "was called here" in str(info.value) and "test_robustness_engine.py" in str(info.value)


def test_anomaly_detection_is_off_by_default_and_restored():
    with np.errstate(invalid="ignore"):
        assert np.isnan(at.Tensor([-1.0]).log().item())
    with at.detect_anomaly():
        pass
    with np.errstate(invalid="ignore"):
        assert np.isnan(at.Tensor([-1.0], requires_grad=True).log().item())


# ---------------------------------------------------------------- fuzzing from the registry
OPS = sorted(REGISTRY)
MAGNITUDES = [1e-3, 1.0, 30.0, 1e3, 1e8]


@st.composite
def random_inputs(draw, op_name):
    """Inputs for one of the op's samples: its own shapes (valid) or random ones (maybe not)."""
    op = REGISTRY[op_name]
    sample = draw(st.sampled_from(op.samples))
    use_own_shapes = draw(st.booleans())
    scale = draw(st.sampled_from(MAGNITUDES))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    inputs = []
    for original in sample.inputs:
        shape = original.shape if use_own_shapes else tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
        inputs.append(rng.normal(size=shape) * scale)
    return sample, inputs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_graphs_give_results_with_correct_gradient_shapes_or_the_librarys_own_errors(data):
    depth = data.draw(st.integers(1, 3))
    leaves, out = [], None
    for _ in range(depth):
        op_name = data.draw(st.sampled_from(OPS))
        sample, arrays = data.draw(random_inputs(op_name))
        tensors = [at.Tensor(a, requires_grad=True) for a in arrays]
        if out is not None and tensors and out.shape == tensors[0].shape:
            tensors[0] = out  # chain the previous op's result in when it fits
        leaves.extend(t for t in tensors if t.is_leaf)
        try:
            with np.errstate(all="ignore"):
                out = sample.call(*tensors)
        except AutotensorError as error:
            event(f"refused by {type(error).__name__}")
            return
        if isinstance(out, list):  # split: a list of blocks; the graph goes on from the last one
            assert out and all(isinstance(block, at.Tensor) for block in out)
            out = out[-1]
        assert isinstance(out, at.Tensor)
    upstream = np.random.default_rng(0).normal(size=out.shape)
    try:
        with np.errstate(all="ignore"):
            out.backward(upstream)
    except AutotensorError as error:
        event(f"backward refused by {type(error).__name__}")
        return
    event(f"differentiated a graph of {depth} op(s)")
    for leaf in leaves:
        if leaf.grad is not None:
            assert leaf.grad.shape == leaf.shape
            assert leaf.grad.dtype == leaf.dtype


# ---------------------------------------------------------------- bad input: clear errors at the call
BINARY_CALLS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": at.maximum, "minimum": at.minimum,
    "where": lambda a, b: at.where(np.ones((2, 3), dtype=bool), a, b),
}


@pytest.mark.parametrize("name", sorted(BINARY_CALLS))
def test_every_binary_op_names_itself_and_the_shapes_on_a_mismatch(name):
    a, b = at.Tensor(np.ones((2, 3)), requires_grad=True), at.Tensor(np.ones((4, 3)))
    with pytest.raises(at.ShapeError) as info:
        BINARY_CALLS[name](a, b)
    message = str(info.value)
    assert message.startswith(f"{name}:") and "(2, 3)" in message and "(4, 3)" in message


@pytest.mark.parametrize("a_shape, b_shape", [((5, 3), (4, 3)), ((3,), (4,)), ((2, 3, 4), (5, 2)), ((), (3,))])
def test_matmul_mismatches_name_both_shapes(a_shape, b_shape):
    with pytest.raises(at.ShapeError, match=r"matmul: .*" + re_shape(a_shape) + r".*" + re_shape(b_shape)):
        at.Tensor(np.ones(a_shape)) @ at.Tensor(np.ones(b_shape))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("call, pattern", [
    (lambda x: x.sum(axis=3), "sum: axis 3"),
    (lambda x: x.mean(axis=(0, 0)), "mean: repeated axis"),
    (lambda x: x.max(axis=-4), "max: axis -4"),
    (lambda x: x.softmax(axis=2), "softmax: axis 2"),
    (lambda x: x.transpose(0, 0), "transpose: axes"),
    (lambda x: x[5], "getitem: index"),
    (lambda x: x.broadcast_to((3, 3)), r"broadcast_to: cannot broadcast shape \(2, 3\)"),
    (lambda x: at.stack([x, x.T]), "stack: cannot join shapes"),
    (lambda x: x + "text", "numeric"),
])
def test_bad_arguments_raise_the_librarys_own_errors(call, pattern):
    x = at.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(AutotensorError, match=pattern):
        call(x)


def test_backward_of_a_deep_graph_gives_the_garbage_collector_no_work() -> None:
    """Backward allocates no objects the cyclic collector tracks that outlive a node, so no
    collection runs during it -- each would walk the whole live graph, and on 2*10^5 nodes that
    made every node a third slower (benchmarks/scaling.py measures the time)."""
    import gc

    x = at.Tensor([[0.3]], requires_grad=True)
    y, values = x, []
    for _ in range(50_000):
        y = y.tanh()
        values.append(y.data[0, 0])
    collections = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        y.backward()
    finally:
        gc.callbacks.remove(count)
    assert collections == []
    expected = np.prod([1 - v * v for v in values])  # the chain rule through every tanh
    np.testing.assert_allclose(x.grad.data[0, 0], expected, rtol=1e-10)
