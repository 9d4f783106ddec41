"""nn's convolutional layers: PyTorch's arithmetic, their initialisation, model files, compiled
training identical to eager."""
from __future__ import annotations

import json

import numpy as np
import pytest

import autotensor as at
import nn
from tests.nn.test_model_file_safety import model_members, refused, write_archive

def small_cnn(seed: int = 0) -> nn.Sequential:
    generator = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=generator), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 2, stride=(1, 2), padding=(1, 0), seed=generator), nn.Tanh(), nn.AvgPool2d(2, stride=1),
        nn.Flatten(), nn.Dropout(0.2, seed=seed), nn.Linear(6 * 4 * 1, 3, seed=generator),
    )


def test_conv2d_computes_torchs_conv2d_with_the_same_filters() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    layer = nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, seed=0)
    reference = torch.nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.W.data))
        reference.bias.copy_(torch.tensor(rng.normal(size=3)))
    layer = nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, init=(layer.W.data, reference.bias.detach().numpy()))
    x = rng.normal(size=(4, 2, 7, 6))
    upstream = rng.normal(size=(4, 3, 4, 4))
    out = layer(x)
    out.backward(upstream)
    expected = reference(torch.tensor(x))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad.data, reference.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad.data, reference.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_filters_are_drawn_with_the_fans_of_a_filter() -> None:
    """He normal: std sqrt(2 / (in * kh * kw)); the same seed, the same filters."""
    layer = nn.Conv2d(16, 64, 3, seed=3)
    assert layer.W.shape == (64, 16, 3, 3) and layer.b.shape == (64,) and not layer.b.data.any()
    assert layer.W.data.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert np.array_equal(layer.W.data, nn.Conv2d(16, 64, 3, seed=3).W.data)
    xavier = nn.Conv2d(16, 64, 3, init="xavier", seed=3).W.data
    assert np.abs(xavier).max() <= np.sqrt(6 / (16 * 9 + 64 * 9))
    assert nn.Conv2d(1, 2, 3, bias=False).b is None


@pytest.mark.parametrize("make, error, fragment", [
    (lambda: nn.Conv2d(0, 2, 3), ValueError, "channel counts must be positive"),
    (lambda: nn.Conv2d(1, 2, 0), ValueError, "kernel_size must be at least 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), ValueError, "padding must be at least 0"),
    (lambda: nn.Conv2d(1, 2, "3"), TypeError, "kernel_size must be an int or a pair"),
    (lambda: nn.Conv2d(1, 2, 3, init=(np.ones((2, 1, 3, 2)), None)), ValueError, r"W must have shape \(2, 1, 3, 3\)"),
    (lambda: nn.Conv2d(1, 2, 3, init=(np.ones((2, 1, 3, 3)), np.ones(3))), ValueError, r"b must have shape \(2,\)"),
    (lambda: nn.MaxPool2d((2, 2, 2)), TypeError, "MaxPool2d: kernel_size"),
    (lambda: nn.AvgPool2d(2, stride=0), ValueError, "AvgPool2d: stride must be at least 1"),
])
def test_bad_layer_settings_are_refused_when_the_layer_is_made(make, error, fragment) -> None:
    with pytest.raises(error, match=fragment):
        make()


def test_pools_default_their_stride_to_the_kernel_and_flatten_keeps_the_batch() -> None:
    x = np.arange(2 * 3 * 4 * 6, dtype=float).reshape(2, 3, 4, 6)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 2, 3) and nn.AvgPool2d((2, 3), stride=1)(x).shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(x).data, x.reshape(2, 3, 2, 2, 3, 2).mean(axis=(3, 5)))
    assert nn.Flatten()(x).shape == (2, 72)


def test_a_cnn_saves_and_loads_to_the_same_architecture_and_weights(tmp_path) -> None:
    model = small_cnn().eval()
    x = np.random.default_rng(2).normal(size=(3, 1, 8, 8))
    nn.save(model, tmp_path / "cnn.npz")
    loaded, _ = nn.load(tmp_path / "cnn.npz")
    assert repr(loaded) == repr(model)
    assert np.array_equal(loaded.eval()(x).data, model(x).data)


def test_a_file_declaring_huge_filters_is_refused_before_building(tmp_path) -> None:
    """Conv2d counts its parameters from its settings, so nn.load refuses before allocating."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, seed=0))
    huge = nn.architecture.describe(model)
    huge["config"]["layers"][0]["__module__"]["config"].update(in_channels=10 ** 5, out_channels=10 ** 5)
    members = model_members(model, lambda header: header.update(architecture=huge))
    refused(write_archive(tmp_path / "m.npz", members), "the architecture would build 90,000,100,000 weights")
    assert json.loads(json.dumps(huge))  # the crafted description is plain JSON


def test_a_compiled_cnn_training_step_equals_the_eager_one() -> None:
    """Adam, dropout masks drawn anew at every replay, 20 steps: the same weights to 1e-12."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 1, 8, 8)), np.eye(3)[rng.integers(0, 3, 8)]
    steps = []
    for compiled in (False, True):
        model = small_cnn(seed=4)
        optimizer = nn.optim.Adam(model.parameters(), lr=0.01)

        def step(X, Y, model=model, optimizer=optimizer):
            optimizer.zero_grad()
            nn.softmax_cross_entropy(model(X), Y).backward()
            optimizer.step()

        steps.append((model, at.compile(step) if compiled else step))
    for _ in range(20):
        for _, step in steps:
            step(X, Y)
    (eager, _), (compiled, compiled_step) = steps
    assert len(compiled_step.traces) == 1
    for p, q in zip(eager.parameters(), compiled.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=0, atol=1e-12)
