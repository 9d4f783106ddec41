"""nn core: parameters, modules, layers, initialisers, the MLP, and the documents' examples through them."""
import math

import numpy as np
import pytest

import autotensor as at
import nn
from nn.backprop import seed_example as se

# seed-examples.md section 1, expected values.
YHAT = [0.202354302599, 0.144933682554, 0.381054078721, 0.262494787219, 0.368818057375]
DW3 = [-0.25659878177, -0.194693013848, -1.101723420312]
DW2 = [[0.002085199435, 0.025019230188], [-0.010520017991, -0.102917746604],
       [-0.003384710992, -0.02930899528], [-0.041978638786, -0.433277437121]]
DW1 = [[-0.171920111136, -0.159054126528, -0.089384580861], [0.282307763117, 0.178205075002, 0.109720805588],
       [-0.02621374892, -0.061709318484, -0.029065757421], [-0.334320485211, -0.199229199282, -0.128131511565]]
W1_ROW0_AFTER = [0.013438402223, 0.053181082531, 0.071787691617]
W3_AFTER = [0.045131975635, 0.413893860277, 0.122034468406]


def seed_mlp(**kwargs):
    return nn.MLP([3, 3, 2, 1], "tanh", "tanh", weights=[nn.split_bias_row(w) for w in se.WEIGHTS], **kwargs)


def bias_row_gradients(model):
    """The model's gradients re-assembled in the document's bias-row layout."""
    return [np.vstack([layer.W.grad.data, layer.b.grad.data]) for layer in model.linear_layers]


# ---------------------------------------------------------------------- Parameter
def test_parameter_is_a_float64_leaf_tensor_that_requires_grad():
    p = nn.Parameter([[1, 2], [3, 4]], name="w")
    assert isinstance(p, at.Tensor) and p.is_leaf and p.requires_grad
    assert p.dtype == np.float64 and p.name == "w"


def test_parameter_copies_its_data_so_updates_never_touch_the_source():
    source = np.array([1.0, 2.0])
    p = nn.Parameter(source)
    with at.no_grad():
        p -= 1.0
    np.testing.assert_array_equal(source, [1.0, 2.0])


def test_parameter_keeps_a_float32_array_and_converts_integers():
    assert nn.Parameter(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert nn.Parameter(np.arange(3)).dtype == np.float64


# ---------------------------------------------------------------------- Module
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2))
        self.inner = nn.Linear(2, 2, seed=0)
        self.heads = [nn.Linear(2, 1, seed=1), nn.Tanh(), nn.Linear(2, 1, seed=2)]
        self._hidden_cache = nn.Parameter(np.zeros(1))  # private: not discovered
        self.shared = self.scale  # the same parameter twice: listed once

    def forward(self, x):
        return self.inner(x * self.scale)


def test_named_parameters_walks_attributes_in_order_with_dotted_names():
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "inner.W", "inner.b", "heads.0.W", "heads.0.b", "heads.2.W", "heads.2.b"]


def test_discovered_parameters_are_named_after_their_path():
    model = nn.MLP([3, 4, 1])
    model.parameters()
    assert [p.name for p in model.parameters()] == ["layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"]


def test_mlp_parameters_come_in_layer_order_with_the_documents_shapes():
    shapes = [p.shape for p in nn.MLP([3, 3, 2, 1]).parameters()]
    assert shapes == [(3, 3), (3,), (3, 2), (2,), (2, 1), (1,)]


def test_tensors_made_in_a_submodule_carry_its_scope():
    model = nn.MLP([3, 4, 1], "tanh", "sigmoid")
    model.record_deltas = True
    out = model(np.ones((2, 3)))
    assert [z.scope for z in model.pre_activations] == ["layers.0", "layers.2"]
    assert out.scope == "layers.3"


def test_nested_modules_join_their_scopes():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.MLP([2, 2, 1], record_deltas=True)

        def forward(self, x):
            return self.body(x)

    wrapper = Wrapper()
    wrapper(np.ones((1, 2)))
    assert wrapper.body.pre_activations[0].scope == "body.layers.0"
    assert [name for name, _ in wrapper.named_parameters()][0] == "body.layers.0.W"


def test_the_top_level_call_opens_no_scope():
    loss = nn.mse(nn.Linear(2, 1, seed=0)(np.ones((1, 2))), np.zeros((1, 1)))
    assert loss.scope is None


def test_zero_grad_clears_every_gradient():
    model = nn.MLP([2, 3, 1])
    nn.mse(model(np.ones((4, 2))), np.zeros((4, 1))).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_switch_every_submodule():
    model = nn.MLP([2, 3, 1])
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_forgetting_super_init_is_reported_clearly():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(RuntimeError, match="super"):
        Broken().parameters()


# ---------------------------------------------------------------------- state dicts
def test_state_dict_holds_copies():
    model = nn.Linear(2, 2, seed=0)
    state = model.state_dict()
    state["W"][...] = 99.0
    assert not np.any(model.W.data == 99.0)


def test_load_state_dict_copies_values_into_the_same_parameters():
    source, target = nn.MLP([3, 4, 1], seed=1), nn.MLP([3, 4, 1], seed=2)
    before = target.parameters()
    target.load_state_dict(source.state_dict())
    assert all(a is b for a, b in zip(before, target.parameters()))
    for a, b in zip(source.parameters(), target.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert all(p.version == 1 for p in target.parameters())


def test_load_state_dict_names_a_missing_key():
    state = nn.MLP([3, 4, 1]).state_dict()
    del state["layers.2.b"]
    with pytest.raises(nn.StateDictError, match=r"missing keys \['layers.2.b'\]"):
        nn.MLP([3, 4, 1]).load_state_dict(state)


def test_load_state_dict_names_an_unexpected_key():
    state = nn.MLP([3, 4, 1]).state_dict() | {"layers.9.W": np.zeros(1)}
    with pytest.raises(nn.StateDictError, match=r"unexpected keys \['layers.9.W'\]"):
        nn.MLP([3, 4, 1]).load_state_dict(state)


def test_load_state_dict_names_the_key_and_both_shapes_on_mismatch():
    model = nn.MLP([3, 4, 1])
    original = model.layers[0].W.data.copy()
    state = model.state_dict() | {"layers.2.W": np.zeros((5, 1))}
    with pytest.raises(nn.StateDictError, match=r"'layers.2.W'.*\(4, 1\).*\(5, 1\)"):
        model.load_state_dict(state | {"layers.0.W": np.zeros((3, 4))})
    np.testing.assert_array_equal(model.layers[0].W.data, original)  # all or nothing


def test_non_strict_loading_reports_what_did_not_match():
    state = nn.MLP([3, 4, 1]).state_dict()
    del state["layers.0.b"]
    result = nn.MLP([3, 4, 1]).load_state_dict(state | {"extra": np.zeros(2)}, strict=False)
    assert result.missing_keys == ["layers.0.b"] and result.unexpected_keys == ["extra"]


# ---------------------------------------------------------------------- Linear and initialisers
def test_linear_computes_x_at_w_plus_b():
    layer = nn.Linear(3, 2, init=(np.arange(6.0).reshape(3, 2), [0.5, -0.5]))
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(layer(x).data, x @ np.arange(6.0).reshape(3, 2) + [0.5, -0.5])
    assert layer.W.shape == (3, 2) and layer.b.shape == (2,)


def test_linear_without_bias_has_only_w():
    layer = nn.Linear(3, 2, bias=False, seed=0)
    assert layer.b is None and [n for n, _ in layer.named_parameters()] == ["W"]
    np.testing.assert_allclose(layer(np.ones((1, 3))).data, np.ones((1, 3)) @ layer.W.data)


def test_linear_refuses_explicit_weights_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        nn.Linear(3, 2, init=(np.zeros((2, 3)), np.zeros(2)))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        nn.Linear(3, 2, init=(np.zeros((3, 2)), np.zeros(3)))


def test_xavier_uniform_stays_within_its_limit_and_is_seeded():
    W = nn.Linear(50, 30, init="xavier", seed=3).W.data
    limit = math.sqrt(6 / 80)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.9 * limit
    np.testing.assert_array_equal(W, nn.Linear(50, 30, init="xavier", seed=3).W.data)
    assert not np.array_equal(W, nn.Linear(50, 30, init="xavier", seed=4).W.data)


def test_he_normal_has_variance_two_over_fan_in():
    W = nn.Linear(200, 300, init="he", seed=0).W.data
    assert abs(W.mean()) < 0.01
    assert W.var() == pytest.approx(2 / 200, rel=0.03)


def test_xavier_normal_has_variance_two_over_fan_in_plus_fan_out():
    W = nn.init.xavier_normal(200, 300, nn.init.rng(0))
    assert W.var() == pytest.approx(2 / 500, rel=0.03)


def test_biases_start_at_zero_and_unknown_initialisers_are_named():
    assert not np.any(nn.Linear(4, 3, seed=0).b.data)
    with pytest.raises(ValueError, match="glorot"):
        nn.Linear(2, 2, init="glorot")


# ---------------------------------------------------------------------- activations and the MLP
@pytest.mark.parametrize("name, function", [
    ("tanh", np.tanh), ("sigmoid", lambda z: 1 / (1 + np.exp(-z))), ("relu", lambda z: np.maximum(z, 0)),
    ("leaky_relu", lambda z: np.where(z > 0, z, 0.01 * z)), ("softplus", lambda z: np.log1p(np.exp(z))),
    ("identity", lambda z: z),
])
def test_activation_modules_apply_their_function(name, function):
    z = np.array([[-2.0, -0.5, 0.7, 3.0]])
    np.testing.assert_allclose(nn.activation_module(name)(z).data, function(z), rtol=1e-12)


def test_mlp_alternates_linear_and_activation_layers():
    model = nn.MLP([3, 3, 2, 1], "relu", "sigmoid")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Sigmoid"]
    assert (model.sizes, model.activation, model.output_activation) == ([3, 3, 2, 1], "relu", "sigmoid")


def test_mlp_is_reproducible_from_its_seed():
    a, b, c = nn.MLP([3, 5, 1], seed=7), nn.MLP([3, 5, 1], seed=7), nn.MLP([3, 5, 1], seed=8)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a.layers[0].W.data, c.layers[0].W.data)


def test_mlp_refuses_bad_configurations():
    with pytest.raises(ValueError, match="swish"):
        nn.MLP([3, 1], "swish")
    with pytest.raises(ValueError, match="2 \\(W, b\\) pairs"):
        nn.MLP([3, 2, 1], weights=[(np.zeros((3, 2)), np.zeros(2))])
    with pytest.raises(ValueError, match="at least 2"):
        nn.MLP([3])


def test_split_bias_row_takes_the_last_row_as_bias():
    W, b = nn.split_bias_row(se.W1)
    np.testing.assert_array_equal(W, se.W1[:3])
    np.testing.assert_array_equal(b, se.W1[3])


# ---------------------------------------------------------------------- the documents' example (section 1)
def test_seed_example_forward_matches_the_document():
    yhat = seed_mlp()(se.X)
    np.testing.assert_allclose(yhat.data.ravel(), YHAT, atol=1e-9, rtol=0)


def test_seed_example_gradients_match_the_document_in_bias_row_layout():
    model = seed_mlp()
    nn.half_sse(model(se.X), se.Y).backward()
    dW1, dW2, dW3 = bias_row_gradients(model)
    np.testing.assert_allclose(dW1, DW1, atol=1e-9, rtol=0)
    np.testing.assert_allclose(dW2, DW2, atol=1e-9, rtol=0)
    np.testing.assert_allclose(dW3.ravel(), DW3, atol=1e-9, rtol=0)


def test_seed_example_one_gradient_step_matches_the_document():
    model = seed_mlp()
    optimizer = nn.optim.SGD(model.parameters(), lr=se.LEARNING_RATE / len(se.X))  # W - 0.1 * (1/5) * dJ/dW
    nn.half_sse(model(se.X), se.Y).backward()
    optimizer.step()
    W1, _, W3 = (np.vstack([layer.W.data, layer.b.data]) for layer in model.linear_layers)
    np.testing.assert_allclose(W1[0], W1_ROW0_AFTER, atol=1e-9, rtol=0)
    np.testing.assert_allclose(W3.ravel(), W3_AFTER, atol=1e-9, rtol=0)
    np.testing.assert_array_equal(se.W1[0], [0.01, 0.05, 0.07])  # the example's constants are untouched


def test_recorded_pre_activations_hold_the_documents_deltas_after_backward():
    model = seed_mlp(record_deltas=True)
    yhat = model(se.X)
    nn.half_sse(yhat, se.Y).backward()
    deltas = [z.grad.data for z in model.pre_activations]
    assert [d.shape for d in deltas] == [(5, 3), (5, 2), (5, 1)]
    # output layer: delta = -(y - yhat) * f'(z) with f = tanh
    np.testing.assert_allclose(deltas[2], -(se.Y - yhat.data) * (1 - yhat.data ** 2), atol=1e-12)
    # hidden layer: delta_l = (delta_{l+1} W_{l+1}^T) * (1 - a_l^2)
    a2 = np.tanh(model.pre_activations[1].data)
    np.testing.assert_allclose(deltas[1], (deltas[2] @ model.layers[4].W.data.T) * (1 - a2 ** 2), atol=1e-12)
    # dJ/dW = a^T delta and dJ/db = column sums of delta
    np.testing.assert_allclose(model.layers[0].W.grad.data, se.X.T @ deltas[0], atol=1e-12)
    np.testing.assert_allclose(model.layers[0].b.grad.data, deltas[0].sum(axis=0), atol=1e-12)


def test_without_record_deltas_nothing_is_kept():
    model = seed_mlp()
    model(se.X)
    assert model.pre_activations == []


# ---------------------------------------------------------------------- section 3 and a classifier
def test_zero_weights_with_sigmoid_output_give_binary_cross_entropy_log_2():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), (rng.random((20, 1)) < 0.3).astype(float)
    model = nn.MLP([3, 4, 1], "tanh", "sigmoid", init="zeros")
    assert nn.binary_cross_entropy(model(X), y).item() == pytest.approx(math.log(2), abs=1e-12)
    logits = nn.MLP([3, 4, 1], "tanh", "identity", init="zeros")(X)
    assert nn.binary_cross_entropy_with_logits(logits, y).item() == pytest.approx(0.693147180560, abs=1e-12)


def test_softmax_cross_entropy_learns_three_gaussian_blobs():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 3.0], [-2.6, -1.5], [2.6, -1.5]])
    labels = rng.integers(0, 3, size=300)
    X = centres[labels] + rng.normal(scale=0.8, size=(300, 2))
    model = nn.MLP([2, 8, 3], "tanh", seed=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        optimizer.zero_grad()
        loss = nn.softmax_cross_entropy(model(X[:200]), labels[:200])
        first = loss.item() if first is None else first
        loss.backward()
        optimizer.step()
    with at.no_grad():
        predicted = model(X[200:]).data.argmax(axis=1)
    assert loss.item() < first / 3
    assert np.mean(predicted == labels[200:]) > 0.9
