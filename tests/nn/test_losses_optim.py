"""Losses and optimisers against closed forms: values, gradients, and update steps done by hand."""
import math

import numpy as np
import pytest

import autotensor as at
import nn

rng = np.random.default_rng(42)


def leaf(array):
    return at.Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------------- regression losses
def test_half_sse_is_half_the_summed_squares_with_gradient_yhat_minus_y():
    yhat, y = leaf([[0.2], [0.9], [0.4]]), np.array([[0.0], [1.0], [1.0]])
    loss = nn.half_sse(yhat, y)
    assert loss.item() == pytest.approx(0.5 * (0.04 + 0.01 + 0.36), abs=1e-15)
    loss.backward()
    np.testing.assert_allclose(yhat.grad.data, yhat.data - y, atol=1e-15)


def test_mse_averages_over_every_element():
    yhat, y = leaf(rng.normal(size=(4, 2))), rng.normal(size=(4, 2))
    loss = nn.mse(yhat, y)
    assert loss.item() == pytest.approx(np.mean((yhat.data - y) ** 2), abs=1e-15)
    loss.backward()
    np.testing.assert_allclose(yhat.grad.data, 2 * (yhat.data - y) / 8, atol=1e-15)


@pytest.mark.parametrize("loss", [nn.half_sse, nn.mse, nn.binary_cross_entropy, nn.binary_cross_entropy_with_logits])
def test_losses_refuse_a_target_that_would_broadcast(loss):
    with pytest.raises(at.ShapeError, match=r"\(5, 1\).*\(5,\)"):
        loss(leaf(np.full((5, 1), 0.5)), np.zeros(5))


# ---------------------------------------------------------------------- binary cross-entropy
def test_binary_cross_entropy_from_probabilities_matches_its_formula():
    p, y = leaf([[0.1], [0.8], [0.6]]), np.array([[0.0], [1.0], [0.0]])
    expected = -np.mean(y * np.log(p.data) + (1 - y) * np.log(1 - p.data))
    loss = nn.binary_cross_entropy(p, y)
    assert loss.item() == pytest.approx(expected, abs=1e-14)
    loss.backward()
    np.testing.assert_allclose(p.grad.data, (p.data - y) / (p.data * (1 - p.data)) / 3, atol=1e-12)


def test_binary_cross_entropy_of_saturated_probabilities_is_large_but_finite():
    loss = nn.binary_cross_entropy(leaf([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    assert math.isfinite(loss.item()) and loss.item() == pytest.approx(-math.log(1e-12), rel=1e-6)


def test_bce_with_logits_equals_bce_of_the_sigmoid_in_value_and_gradient():
    z_values, y = rng.normal(scale=3, size=(6, 2)), (rng.random((6, 2)) < 0.5).astype(float)
    z1, z2 = leaf(z_values), leaf(z_values)
    from_logits = nn.binary_cross_entropy_with_logits(z1, y)
    from_probabilities = nn.binary_cross_entropy(z2.sigmoid(), y)
    assert from_logits.item() == pytest.approx(from_probabilities.item(), abs=1e-12)
    from_logits.backward()
    from_probabilities.backward()
    np.testing.assert_allclose(z1.grad.data, z2.grad.data, atol=1e-12)
    np.testing.assert_allclose(z1.grad.data, (sigmoid(z_values) - y) / y.size, atol=1e-12)


def test_bce_with_logits_is_stable_at_logits_of_a_thousand():
    z, y = leaf([[1000.0], [-1000.0], [1000.0], [-1000.0]]), np.array([[1.0], [0.0], [0.0], [1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss = nn.binary_cross_entropy_with_logits(z, y)
        loss.backward()
    assert loss.item() == pytest.approx((0 + 0 + 1000 + 1000) / 4, abs=1e-9)
    np.testing.assert_allclose(z.grad.data, [[0.0], [0.0], [0.25], [-0.25]], atol=1e-12)


# ---------------------------------------------------------------------- softmax cross-entropy
def test_softmax_cross_entropy_matches_minus_mean_log_probability_of_the_target():
    logits, targets = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probabilities[np.arange(5), targets]))
    z = leaf(logits)
    loss = nn.softmax_cross_entropy(z, targets)
    assert loss.item() == pytest.approx(expected, abs=1e-14)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, (probabilities - np.eye(4)[targets]) / 5, atol=1e-14)


def test_softmax_cross_entropy_gives_the_same_for_indices_and_one_hot_rows():
    logits, targets = rng.normal(size=(6, 3)), np.array([2, 0, 1, 2, 2, 0])
    z_int, z_hot = leaf(logits), leaf(logits)
    by_index = nn.softmax_cross_entropy(z_int, targets)
    by_one_hot = nn.softmax_cross_entropy(z_hot, np.eye(3)[targets])
    assert by_index.item() == pytest.approx(by_one_hot.item(), abs=1e-14)
    by_index.backward()
    by_one_hot.backward()
    np.testing.assert_allclose(z_int.grad.data, z_hot.grad.data, atol=1e-14)


def test_softmax_cross_entropy_is_finite_for_huge_logits():
    loss = nn.softmax_cross_entropy(leaf([[1000.0, -1000.0, 0.0]]), np.array([1]))
    assert loss.item() == pytest.approx(2000.0)


def test_softmax_cross_entropy_rejects_out_of_range_classes_and_bad_shapes():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        nn.softmax_cross_entropy(leaf(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(at.ShapeError, match="targets"):
        nn.softmax_cross_entropy(leaf(np.zeros((2, 3))), np.zeros((2, 2)))


# ---------------------------------------------------------------------- L2 penalty
def test_l2_penalty_sums_the_weight_matrices_only_and_has_gradient_lambda_w():
    model = nn.MLP([3, 4, 2], seed=0)
    for layer in model.linear_layers:
        layer.b.data[...] = 5.0  # biases must not count
    penalty = nn.l2_penalty(model, 0.3)
    weights = [layer.W.data for layer in model.linear_layers]
    assert penalty.item() == pytest.approx(0.15 * sum(np.sum(W ** 2) for W in weights), abs=1e-14)
    penalty.backward()
    for layer in model.linear_layers:
        np.testing.assert_allclose(layer.W.grad.data, 0.3 * layer.W.data, atol=1e-15)
        assert layer.b.grad is None


def test_losses_are_available_by_the_names_nn_manual_uses():
    assert nn.get_loss("half_sse") is nn.half_sse
    assert nn.get_loss("mse") is nn.mse
    assert nn.get_loss("bce") is nn.binary_cross_entropy
    with pytest.raises(ValueError, match="hinge"):
        nn.get_loss("hinge")


# ---------------------------------------------------------------------- optimisers
def parameters_with_gradients():
    W = nn.Parameter(rng.normal(size=(3, 2)))
    b = nn.Parameter(rng.normal(size=2))
    return W, b


def set_gradients(params, grads):
    for p, g in zip(params, grads):
        p.grad = at.Tensor(g)


def test_sgd_step_subtracts_lr_times_the_gradient_in_place():
    W, b = parameters_with_gradients()
    start, g = [W.data.copy(), b.data.copy()], [rng.normal(size=(3, 2)), rng.normal(size=2)]
    data_before = W.data
    set_gradients([W, b], g)
    nn.optim.SGD([W, b], lr=0.1).step()
    np.testing.assert_allclose(W.data, start[0] - 0.1 * g[0], atol=1e-15)
    np.testing.assert_allclose(b.data, start[1] - 0.1 * g[1], atol=1e-15)
    assert W.data is data_before and W.version == 1  # same array, edit seen by the engine


def test_sgd_with_momentum_and_weight_decay_matches_two_steps_by_hand():
    W, b = parameters_with_gradients()
    w, bias = W.data.copy(), b.data.copy()
    optimizer = nn.optim.SGD([W, b], lr=0.05, momentum=0.9, weight_decay=0.01)
    velocity_w, velocity_b = np.zeros_like(w), np.zeros_like(bias)
    for _ in range(2):
        g_w, g_b = rng.normal(size=(3, 2)), rng.normal(size=2)
        set_gradients([W, b], [g_w, g_b])
        optimizer.step()
        velocity_w = 0.9 * velocity_w + (g_w + 0.01 * w)  # weight decay on the matrix
        velocity_b = 0.9 * velocity_b + g_b  # not on the bias
        w, bias = w - 0.05 * velocity_w, bias - 0.05 * velocity_b
    np.testing.assert_allclose(W.data, w, atol=1e-14)
    np.testing.assert_allclose(b.data, bias, atol=1e-14)


def test_adam_matches_two_steps_computed_by_hand():
    W, b = parameters_with_gradients()
    params = [W.data.copy(), b.data.copy()]
    optimizer = nn.optim.Adam([W, b], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in (1, 2):
        grads = [rng.normal(size=(3, 2)), rng.normal(size=2)]
        set_gradients([W, b], grads)
        optimizer.step()
        for i, g in enumerate(grads):
            if i == 0:
                g = g + 0.1 * params[0]
            m[i] = 0.8 * m[i] + 0.2 * g
            v[i] = 0.95 * v[i] + 0.05 * g * g
            m_hat, v_hat = m[i] / (1 - 0.8 ** t), v[i] / (1 - 0.95 ** t)
            params[i] = params[i] - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-6)
    np.testing.assert_allclose(W.data, params[0], atol=1e-14)
    np.testing.assert_allclose(b.data, params[1], atol=1e-14)


def test_the_first_adam_step_moves_each_element_by_about_lr():
    W = nn.Parameter(np.zeros(4))
    W.grad = at.Tensor(np.array([1e-3, -5.0, 200.0, -0.2]))
    nn.optim.Adam([W], lr=0.01).step()
    np.testing.assert_allclose(W.data, [-0.01, 0.01, -0.01, 0.01], rtol=1e-4)


def test_optimisers_skip_parameters_without_gradient():
    W, b = parameters_with_gradients()
    before = b.data.copy()
    W.grad = at.Tensor(np.ones((3, 2)))
    for optimizer in (nn.optim.SGD([W, b], lr=0.1, momentum=0.5), nn.optim.Adam([W, b])):
        optimizer.step()
    np.testing.assert_array_equal(b.data, before)


def test_zero_grad_of_an_optimizer_clears_its_parameters():
    W, b = parameters_with_gradients()
    set_gradients([W, b], [np.ones((3, 2)), np.ones(2)])
    nn.optim.SGD([W, b], lr=0.1).zero_grad()
    assert W.grad is None and b.grad is None


def test_a_step_invalidates_a_graph_built_before_it():
    model = nn.Linear(2, 1, seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    nn.mse(model(np.ones((3, 2))), np.zeros((3, 1))).backward()
    stale = (model(np.ones((3, 2))) * model.W.sum()).sum()  # reads W's value in backward
    optimizer.step()
    with pytest.raises(at.GraphError):
        stale.backward()


def test_optimisers_refuse_bad_settings():
    W, _ = parameters_with_gradients()
    with pytest.raises(ValueError, match="lr"):
        nn.optim.SGD([W], lr=0)
    with pytest.raises(ValueError, match="no parameters"):
        nn.optim.Adam([])
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.SGD([W], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="leaf"):
        nn.optim.SGD([W * 2], lr=0.1)


def test_cosine_schedule_decays_from_lr_to_lr_min():
    optimizer = nn.optim.SGD([nn.Parameter([1.0])], lr=0.1)
    schedule = nn.optim.CosineSchedule(optimizer, total=4, lr_min=0.001)
    rates = [schedule.step() for _ in range(5)]
    assert rates[1] == pytest.approx(0.001 + 0.5 * 0.099)
    assert rates[3] == pytest.approx(0.001) and rates[4] == pytest.approx(0.001)
    assert optimizer.lr == rates[-1]
    assert all(a > b for a, b in zip(rates[:3], rates[1:4]))


def test_training_resumes_exactly_from_saved_model_and_optimiser_state(tmp_path) -> None:
    """Train 100 steps, save model and optimiser state to files, load them into fresh objects,
    train 100 more: the same as 200 steps straight (Adam's moments and step count included)."""
    import nn

    rng = np.random.default_rng(4)
    batches = [(rng.normal(size=(16, 3)), rng.normal(size=(16, 1))) for _ in range(200)]

    def fresh() -> tuple[nn.MLP, nn.optim.Adam]:
        model = nn.MLP([3, 4, 1], activation="tanh", output_activation="identity", seed=1)
        return model, nn.optim.Adam(model.parameters(), lr=0.01)

    def train(model: nn.MLP, optimiser: nn.optim.Adam, chosen: list) -> None:
        for X, y in chosen:
            optimiser.zero_grad()
            nn.mse(model(X), y).backward()
            optimiser.step()

    straight_model, straight_optimiser = fresh()
    train(straight_model, straight_optimiser, batches)

    first_model, first_optimiser = fresh()
    train(first_model, first_optimiser, batches[:100])
    state = first_optimiser.state_dict()
    np.savez(tmp_path / "optimiser.npz", **{f"{i}.{name}": array for i, buffers in enumerate(state["buffers"])
                                            for name, array in buffers.items()})
    nn.save(first_model, tmp_path / "model.npz")

    resumed_model, _ = nn.load(tmp_path / "model.npz")
    resumed_optimiser = nn.optim.Adam(resumed_model.parameters(), lr=0.01)
    with np.load(tmp_path / "optimiser.npz") as saved:
        buffers = [{name: saved[f"{i}.{name}"] for name in ("m", "v")} for i in range(len(state["buffers"]))]
    resumed_optimiser.load_state_dict({"type": "Adam", "numbers": state["numbers"], "buffers": buffers})
    train(resumed_model, resumed_optimiser, batches[100:])

    for a, b in zip(resumed_model.parameters(), straight_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert resumed_optimiser.t == straight_optimiser.t == 200


def test_an_optimiser_state_that_does_not_fit_is_refused_and_changes_nothing() -> None:
    import nn

    model = nn.MLP([3, 2, 1], seed=0)
    optimiser = nn.optim.Adam(model.parameters(), lr=0.01)
    state = optimiser.state_dict()
    state["buffers"][0]["m"] = np.ones((5, 5))
    with pytest.raises(ValueError, match="shape"):
        optimiser.load_state_dict(state)
    assert all(not buffers["m"].data.any() for buffers in optimiser.buffers)
    with pytest.raises(ValueError, match="SGD"):
        nn.optim.SGD(model.parameters(), lr=0.1).load_state_dict(optimiser.state_dict())
