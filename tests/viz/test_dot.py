"""Graph drawing as DOT text: exactly the graph's tensors and ops, labelled, clustered, legible.

Structure is checked by parsing the DOT text (node statements ``id [...]`` and edges
``a -> b``), and counts are compared with graphs whose size is known by construction or
counted independently from the engine's ``.parents``.
"""
from __future__ import annotations

import re
import sys
from collections import Counter

import numpy as np
import pytest

import autotensor as at
from autotensor import viz
from nn.backprop import seed_example
from nn.backprop.seed_graph import seed_graph
from tests.viz.dot_text import Parsed, chain, engine_counts, parse
from tests.work import assert_linear, lines_run


# --------------------------------------------------------------------------- structure
def test_chain_has_one_node_per_tensor_and_op_in_order():
    x = at.Tensor([0.5, -1.0], requires_grad=True, name="x")
    t = x.tanh()
    e = t.exp()
    s = e.sum()
    g = parse(s)
    assert len(g.tensors) == 4 and len(g.ops) == 3
    assert len(g.edges) == 6
    op_names = {node: re.search(r'label="(\w+)', g.label_of(node)).group(1) for node in g.ops}
    assert sorted(op_names.values()) == ["exp", "sum", "tanh"]
    # Follow the edges from x: tensor -> op -> tensor -> ... must spell tanh, exp, sum.
    (x_node,) = g.find("<B>x</B>")
    successors = dict(g.edges)
    assert set(Counter(tail for tail, _ in g.edges).values()) == {1}  # a chain: one way forward
    walked, node = [], x_node
    while node in successors:
        node = successors[node]
        if node in op_names:
            walked.append(op_names[node])
    assert walked == ["tanh", "exp", "sum"]
    assert node == g.tensors[0]  # the walk ends at the root, which is drawn first
    assert f'fillcolor="{viz.COLOURS["output"]}"' in g.label_of(node)


def test_shared_node_is_drawn_once_with_two_consumers():
    x = at.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 2
    z = y + y.tanh()
    names = {y: "y"}
    g = parse(z, names=names)
    # tensors: x, the constant 2, y, tanh(y), z; ops: mul, tanh, add
    assert (len(g.tensors), len(g.ops), len(g.edges)) == (5, 3, 8) == engine_counts(z)
    (y_node,) = g.find("<B>y</B>")
    consumers = [head for tail, head in g.edges if tail == y_node]
    assert len(consumers) == 2 and all(c in g.ops for c in consumers)
    assert len(set(g.node_ids)) == len(g.node_ids)


def test_an_input_used_twice_by_one_op_gets_two_edges():
    x = at.Tensor([3.0], requires_grad=True)
    g = parse(x * x)
    assert (len(g.tensors), len(g.ops), len(g.edges)) == (2, 1, 3)
    (op,) = g.ops
    assert Counter(g.edges)[(g.tensors[1], op)] == 2


def test_seed_network_counts_equal_the_engine_graph():
    J, names, _ = seed_graph()
    tensors, ops, edges = engine_counts(J)
    # Known by construction: per layer [a, 1] (+ its ones column and concatenate after layer 1),
    # W, z, a, with matmul and tanh; the cost y, y - yhat, 2, ^2, 0.5, *, J with sub/pow/mul/sum.
    assert (tensors, ops, edges) == (21, 12, 32)
    g = parse(J, names=names, values=True, grads=True, max_elements=15)
    assert (len(g.tensors), len(g.ops), len(g.edges)) == (tensors, ops, edges)
    assert len(set(g.node_ids)) == len(g.node_ids)
    for name, shape in [("W1", "(4, 3)"), ("W2", "(4, 2)"), ("W3", "(3, 1)"), ("z2", "(5, 3)"), ("a3", "(5, 2)"), ("yhat", "(5, 1)")]:
        (node,) = g.find(f"<B>{name}</B>")
        assert f"{shape} float64" in g.label_of(node)
    assert Counter(re.search(r'label="(\w+)', g.label_of(n)).group(1) for n in g.ops) == Counter(
        {"matmul": 3, "tanh": 3, "concatenate": 2, "sub": 1, "pow": 1, "mul": 1, "sum": 1}
    )


def test_seed_graph_is_the_documents_computation_with_its_gradients():
    J, names, description = seed_graph()
    weights = tuple(at.Tensor(w, requires_grad=True) for w in seed_example.WEIGHTS)
    yhat, _ = seed_example.forward(weights)
    reference = seed_example.cost(yhat)
    reference.backward()
    assert J.item() == pytest.approx(reference.item(), rel=1e-12)
    assert f"{J.item():.6g}" in description
    by_name = {name: tensor for tensor, name in names.items()}
    # The output delta of the cost J = sum 0.5 (y - yhat)^2 is dJ/dyhat = yhat - y.
    yhat = by_name["yhat"].data
    np.testing.assert_allclose(yhat.ravel(), [0.202354302599, 0.144933682554, 0.381054078721,
                                              0.262494787219, 0.368818057375], atol=1e-9)
    np.testing.assert_allclose(by_name["yhat"].grad.data, yhat - seed_example.Y)
    # ... and on z4 the document's output delta^(4) = -(y - yhat) * tanh'(z4)
    np.testing.assert_allclose(by_name["z4"].grad.data, (yhat - seed_example.Y) * (1 - yhat**2))
    drawn_weights = {}
    stack, seen = [J], set()
    while stack:  # the graph was retained, so the weights are still reachable from J
        tensor = stack.pop()
        if tensor.name in ("W1", "W2", "W3"):
            drawn_weights[tensor.name] = tensor
        for parent in tensor.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    for number, w in enumerate(weights, 1):
        np.testing.assert_allclose(drawn_weights[f"W{number}"].grad.data, w.grad.data, rtol=1e-12)


def test_labels_show_names_from_tensor_and_from_names_mapping_with_shape_and_dtype():
    W = at.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True, name="layers.0.W")
    b = at.Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    x = at.Tensor(np.ones((4, 3), dtype=np.float32))
    out = (x @ W + b).sum()
    for names in ({b: "layers.0.b"}, {id(b): "layers.0.b"}, {"layers.0.b": b}):
        g = parse(out, names=names)
        (w_node,) = g.find("<B>layers.0.W</B>")
        (b_node,) = g.find("<B>layers.0.b</B>")
        assert "(3, 2) float32" in g.label_of(w_node)
        assert "(2,) float32" in g.label_of(b_node)
        assert f'fillcolor="{viz.COLOURS["parameter"]}"' in g.label_of(b_node)
    (x_node,) = g.find("(4, 3) float32")
    assert f'fillcolor="{viz.COLOURS["input"]}"' in g.label_of(x_node)
    assert "scalar float32" in g.label_of(g.tensors[0])
    with pytest.raises(TypeError, match="names must map"):
        viz.to_dot(out, names={1.5: "nonsense"})


def test_values_and_gradients_small_in_full_large_as_min_max_norm():
    small = at.Tensor([[0.5, -0.25]], requires_grad=True, name="small")
    large = at.Tensor(np.arange(12.0).reshape(3, 4) - 5, requires_grad=True, name="large")
    loss = (small.sum() * large).sum()
    loss.backward(retain_graph=True)
    plain = viz.to_dot(loss)
    assert "<I>data</I>" not in plain and "<I>grad</I>" not in plain
    g = parse(loss, values=True, grads=True)
    (small_node,) = g.find("<B>small</B>")
    label = g.label_of(small_node)
    assert ">0.5<" in label and ">&#160;-0.25<" in label  # the numbers, as cells
    assert "<I>grad</I>" in label and ">6<" in label and ">&#160;6<" in label  # d loss/d small = sum(large)
    (large_node,) = g.find("<B>large</B>")
    assert "min -5  max 6  norm " + f"{np.linalg.norm(np.arange(12.0) - 5):.4g}" in g.label_of(large_node)
    # without grads=True no gradient is shown, even though .grad is set
    assert "<I>grad</I>" not in parse(loss, values=True).label_of(small_node)


def test_clusters_per_module_scope_with_parameters_inside():
    x = at.Tensor(np.ones((2, 3)), name="x")
    W0 = at.Tensor(np.ones((3, 3)), requires_grad=True, name="layers.0.W")
    W2 = at.Tensor(np.ones((3, 1)), requires_grad=True, name="layers.2.W")
    with at.name_scope("layers.0"):
        h = x @ W0
    with at.name_scope("layers.1"):
        h = h.tanh()
    with at.name_scope("layers.2"):
        out = h @ W2
    loss = out.sum()
    g = parse(loss)
    assert sorted(g.clusters.values()) == ["layers.0", "layers.1", "layers.2"]
    assert len(g.clusters) == 3 and all(c.startswith("cluster_") for c in g.clusters)
    (w0,) = g.find("<B>layers.0.W</B>")
    assert g.cluster_of[w0] == ["layers.0"]  # a parameter joins the scope of its only consumer
    (x_node,) = g.find("<B>x</B>")
    assert g.cluster_of[x_node] == []  # a named input stays outside
    tanh_op = next(n for n in g.ops if 'label="tanh"' in g.label_of(n))
    assert g.cluster_of[tanh_op] == ["layers.1"]
    assert g.cluster_of[g.tensors[0]] == []  # the loss was made outside any scope


def test_nested_scopes_draw_nested_clusters():
    W = at.Tensor(np.ones((2, 2)), requires_grad=True)
    with at.name_scope("model"):
        with at.name_scope("layers.0"):
            h = (at.Tensor(np.ones((1, 2))) @ W).tanh()
        out = h.sum()
    g = parse(out)
    tanh_op = next(n for n in g.ops if 'label="tanh"' in g.label_of(n))
    assert g.cluster_of[tanh_op] == ["model", "model.layers.0"]
    assert g.cluster_of[g.tensors[0]] == ["model"]


def test_nn_mlp_draws_one_cluster_per_module():
    import nn

    model = nn.MLP([3, 4, 1], "tanh")
    params = dict(model.named_parameters())
    loss = nn.mse(model(np.ones((2, 3))), np.zeros((2, 1)))
    g = parse(loss, names=params)
    # layers.3 is the identity output activation: it records no op, so it has no cluster
    assert sorted(g.clusters.values()) == ["layers.0", "layers.1", "layers.2"]
    (w,) = g.find("<B>layers.0.W</B>")
    assert g.cluster_of[w] == ["layers.0"] and "(3, 4) float64" in g.label_of(w)


def test_no_duplicate_node_ids_with_legend_summary_and_modules():
    with at.name_scope("a"):
        y = chain(6)
    text = viz.to_dot(y * y, max_depth=3, collapse_scopes=True, legend=True)
    g = Parsed(text)
    assert len(g.node_ids) == len(set(g.node_ids))
    assert {"legend_parameter", "legend_input", "legend_intermediate", "legend_output", "legend_op"} <= set(g.node_ids)
    assert "cluster_legend" in text


def test_rankdir_is_honoured_and_checked():
    y = chain(2)
    assert "rankdir=LR" in viz.to_dot(y)
    assert "rankdir=TB" in viz.to_dot(y, rankdir="TB")
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(y, rankdir="sideways")


def test_max_depth_keeps_ops_near_the_root_and_counts_the_rest():
    y = chain(10)  # 11 tensors, 10 ops
    g = parse(y, max_depth=3)
    assert (len(g.tensors), len(g.ops)) == (4, 3)
    assert "more" in g.node_ids and "… 14 more nodes" in g.label_of("more")  # 21 - 7
    (frontier,) = [head for tail, head in g.edges if tail == "more"]
    assert frontier == g.tensors[-1]  # the deepest drawn tensor, whose own op was cut off
    assert len(parse(y, max_depth=0).node_ids) == 2  # the root and the summary
    assert "more" not in parse(y, max_depth=10).node_ids  # nothing hidden, no summary
    with pytest.raises(ValueError, match="max_depth"):
        viz.to_dot(y, max_depth=-1)


def test_max_depth_keeps_a_ten_layer_mlp_small():
    x = at.Tensor(np.ones((2, 4)))
    h = x
    for layer in range(10):
        W = at.Tensor(np.full((4, 4), 0.1), requires_grad=True, name=f"layers.{layer}.W")
        with at.name_scope(f"layers.{layer}"):
            h = (h @ W).tanh()
    loss = h.sum()
    full = parse(loss)
    short = parse(loss, max_depth=4)
    assert len(full.node_ids) == 3 + 10 * 5  # x, sum, loss, and per layer W, matmul, z, tanh, a
    assert len(short.node_ids) < len(full.node_ids) / 3
    hidden = int(re.search(r"… (\d+) more nodes", short.label_of("more")).group(1))
    assert hidden + len(short.node_ids) - 1 == len(full.node_ids)


def test_collapse_scopes_draws_one_node_per_module():
    x = at.Tensor(np.ones((2, 3)), name="x")
    Ws = [at.Tensor(np.ones((3, 3)), requires_grad=True, name=f"layers.{i}.W") for i in range(3)]
    h = x
    for i, W in enumerate(Ws):
        with at.name_scope(f"layers.{i}"):
            h = (h @ W).tanh()
    loss = h.sum()
    g = parse(loss, collapse_scopes=True)
    modules = g.ids("m")
    assert len(modules) == 3 and not g.clusters
    assert set(g.tensors) == {g.find("<B>x</B>")[0], g.tensors[0]} and len(g.ops) == 1  # x, loss, sum
    assert all("2 ops: matmul, tanh" in g.label_of(m) for m in modules)
    assert any("layers.1.W (3, 3) float64" in g.label_of(m) for m in modules)
    assert len(g.edges) == len(set(g.edges)) == 5  # x -> m0 -> m1 -> m2 -> sum -> loss
    only_middle = parse(loss, collapse_scopes=["layers.1"])
    assert len(only_middle.ids("m")) == 1 and sorted(only_middle.clusters.values()) == ["layers.0", "layers.2"]


def test_a_freed_graph_draws_what_remains_under_a_title_saying_how_to_keep_it():
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    loss = x.tanh().sum()
    loss.backward()  # no retain_graph: the graph is freed
    text = viz.to_dot(loss)
    g = Parsed(text)
    assert (len(g.tensors), len(g.ops), len(g.edges)) == (1, 1, 1)
    assert "(inputs freed by backward)" in g.label_of(g.ops[0]) and "dashed" in g.label_of(g.ops[0])
    (title,) = [line for line in text.splitlines() if line.startswith("\tgraph [label=")]
    assert "The graph behind 1 op was freed by backward()" in title and "loss.backward(retain_graph=True)" in title
    assert "labelloc=t" in title and text.index(title) > text.rindex("subgraph")  # no cluster inherits it


def test_a_graph_kept_by_retain_graph_draws_whole_after_backward_with_gradients():
    x = at.Tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = x.tanh().sum()
    loss.backward(retain_graph=True)
    text = viz.to_dot(loss, grads=True)
    g = Parsed(text)
    assert (len(g.tensors), len(g.ops), len(g.edges)) == (3, 2, 4)
    assert "freed" not in text
    assert "0.42" in g.label_of(g.find("<B>x</B>")[0])  # 1 - tanh(1)^2 = 0.41997, rounded to 4 digits


def test_partly_freed_graphs_count_the_freed_ops():
    x = at.Tensor([1.0], requires_grad=True)
    a, b, c = x.exp(), x.tanh(), x * 3.0
    a.backward()  # frees the graph behind a only
    text = viz.to_dot([a * c, a + b], legend=False)
    assert "The graph behind 1 op was freed" in text and text.count("(inputs freed by backward)") == 1
    b.backward()
    text = viz.to_dot([a * c, a + b], legend=False)
    assert "The graph behind 2 ops was freed" in text and text.count("(inputs freed by backward)") == 2


def test_labels_are_escaped():
    nasty = 'a "quoted" <b> | {brace} & back\\slash'
    x = at.Tensor([1.0], requires_grad=True, name=nasty)
    with at.name_scope('scope "q" {x}'):
        y = x.exp()
    text = viz.to_dot(y)
    assert "&lt;b&gt;" in text and "&amp;" in text and "<b>" not in text
    assert 'label="scope \\"q\\" {x}"' in text
    assert len(Parsed(text).tensors) == 2


def test_roots_may_be_several_and_are_checked():
    x = at.Tensor([1.0], requires_grad=True)
    a, b = x.exp(), x.tanh()
    g = parse([a, b, a])
    assert (len(g.tensors), len(g.ops)) == (3, 2)
    assert sum(f'fillcolor="{viz.COLOURS["output"]}"' in g.label_of(t) for t in g.tensors) == 2
    with pytest.raises(ValueError):
        viz.to_dot([])
    with pytest.raises(TypeError):
        viz.to_dot([a, np.ones(2)])


# --------------------------------------------------------------------------- size and work
def test_a_20000_node_chain_converts_without_recursion():
    y = chain(10_000)  # 10,001 tensors + 10,000 ops
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # a recursive walk would fail at once
    try:
        text = viz.to_dot(y, legend=False)
    finally:
        sys.setrecursionlimit(limit)
    assert text.count(" -> ") == 20_000
    assert len(Parsed(text).node_ids) == 20_001


def test_conversion_work_is_linear_in_graph_size():
    def work(n: int) -> int:
        root = chain(n)
        return lines_run(lambda: viz.to_dot(root, legend=False))

    assert_linear(work, 500)
