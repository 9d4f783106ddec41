"""Model files: round trips of any nn model and of registered user modules, the format, save's refusals."""
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

import autotensor as at
import nn
from nn import architecture, serialization
from nn.serialization import HEADER_KEY, ModelFileError

X = np.random.default_rng(0).normal(size=(6, 3))
DATA = Path(__file__).parent / "data"


def predictions(model, inputs=X):
    with at.no_grad():
        return model(inputs).data


def header_of(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive[HEADER_KEY]))


def assert_same_parameters(loaded, model):
    expected = dict(model.named_parameters())
    got = dict(loaded.named_parameters())
    assert list(got) == list(expected)
    for name, parameter in expected.items():
        assert got[name].dtype == parameter.dtype, name
        np.testing.assert_array_equal(got[name].data, parameter.data, err_msg=name)


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=5)
    path = nn.save(model, tmp_path / "model.npz", metadata={"note": "five", "stats": {"mean": np.float64(2.5)}})
    return model, path


# ---------------------------------------------------------------------- user modules for the round trips
@nn.register_module
class Residual(nn.Module):
    """x + tanh(x W + b): a user block whose constructor builds its own layer."""

    def __init__(self, width, seed=0):
        super().__init__()
        self.width, self.seed = width, seed
        self.inner = nn.Linear(width, width, seed=seed)

    def forward(self, x):
        return x + self.inner(x).tanh()

    def get_config(self):
        return {"width": self.width, "seed": self.seed}


@nn.register_module(name="tests.Stack")
class Stack(nn.Module):
    """Blocks given to the constructor (modules in its config) and a scale (a plain number)."""

    def __init__(self, blocks, scale):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.scale = scale

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x * self.scale

    def get_config(self):
        return {"blocks": list(self.blocks), "scale": self.scale}


class Unregistered(nn.Module):
    def forward(self, x):
        return x


@nn.register_module
class NoConfig(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.layer = nn.Linear(width, 1)


@nn.register_module
class ForgetfulConfig(nn.Module):
    """get_config leaves out the width: the rebuilt model would differ."""

    def __init__(self, width=2):
        super().__init__()
        self.layer = nn.Linear(width, 1)

    def get_config(self):
        return {}


def nested_model():
    return nn.Sequential(
        nn.Linear(3, 4, seed=1), nn.LeakyReLU(0.2),
        Stack([Residual(4, seed=2), nn.Dropout(0.25, seed=3), Residual(4, seed=4)], scale=0.5),
        nn.MLP([4, 3, 1], "relu", "sigmoid", seed=6),
    )


# ---------------------------------------------------------------------- round trips
def test_an_mlp_round_trips_with_identical_predictions_and_metadata(saved):
    model, path = saved
    loaded, metadata = nn.load(path)
    assert isinstance(loaded, nn.MLP)
    assert (loaded.sizes, loaded.activation, loaded.output_activation) == ([3, 4, 2, 1], "tanh", "sigmoid")
    np.testing.assert_array_equal(predictions(loaded), predictions(model))
    assert metadata == {"note": "five", "stats": {"mean": 2.5}}
    assert nn.load(path).model is not None  # also readable by attribute


def test_a_linear_layer_round_trips_too(tmp_path):
    layer = nn.Linear(3, 2, seed=1, bias=False)
    loaded, metadata = nn.load(nn.save(layer, tmp_path / "linear.npz"))
    assert loaded.b is None and metadata == {}
    np.testing.assert_array_equal(predictions(loaded), predictions(layer))


def test_a_nested_model_of_nn_modules_and_user_modules_round_trips_bit_for_bit(tmp_path):
    model = nested_model().eval()
    loaded, _ = nn.load(nn.save(model, tmp_path / "nested.npz"))
    assert repr(loaded) == repr(model)
    assert [type(m).__name__ for m in loaded.modules()] == [type(m).__name__ for m in model.modules()]
    stack = loaded[2]
    assert isinstance(stack, Stack) and stack.scale == 0.5 and isinstance(stack.blocks[1], nn.Dropout)
    assert (stack.blocks[1].p, stack.blocks[1].seed) == (0.25, 3)
    assert_same_parameters(loaded, model)
    inputs = np.random.default_rng(1).normal(size=(7, 3))
    np.testing.assert_array_equal(predictions(loaded.eval(), inputs), predictions(model, inputs))


def test_a_user_model_rebuilds_with_its_own_class_and_settings(tmp_path):
    model = Residual(3, seed=9)
    loaded, _ = nn.load(nn.save(model, tmp_path / "residual.npz"))
    assert type(loaded) is Residual and (loaded.width, loaded.seed) == (3, 9)
    np.testing.assert_array_equal(predictions(loaded), predictions(model))


def test_seeded_dropout_draws_the_same_masks_after_loading(tmp_path):
    model = nn.Sequential(nn.Linear(3, 50, seed=0), nn.Dropout(0.5, seed=11))
    loaded, _ = nn.load(nn.save(model, tmp_path / "dropout.npz"))
    np.testing.assert_array_equal(predictions(loaded), predictions(nn.Sequential(nn.Linear(3, 50, seed=0),
                                                                                nn.Dropout(0.5, seed=11))))


def test_parameters_keep_their_dtype(tmp_path):
    model = nn.Linear(3, 2, seed=1)
    model.W = nn.Parameter(model.W.data.astype(np.float32))
    loaded, _ = nn.load(nn.save(model, tmp_path / "f32.npz"))
    assert loaded.W.dtype == np.float32 and loaded.b.dtype == np.float64
    assert_same_parameters(loaded, model)


@pytest.mark.parametrize("name", ["mlp-format-1.npz", "linear-format-1.npz"])
def test_files_of_format_version_1_still_load(name):
    # Written by the previous release: {"type": "MLP", "sizes": ...} and shapes without dtypes.
    assert header_of(DATA / name)["format_version"] == 1
    loaded, metadata = nn.load(DATA / name)
    if name.startswith("mlp"):
        original = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=5)
        assert metadata == {"note": "written by format version 1"}
    else:
        original = nn.Linear(3, 2, seed=1, bias=False)
    assert_same_parameters(loaded, original)
    np.testing.assert_array_equal(predictions(loaded), predictions(original))


def test_the_file_is_an_npz_of_named_parameters_and_a_json_header(saved):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(f"{name}.npy" for name in (
            HEADER_KEY, "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b", "layers.4.W", "layers.4.b"))
    header = header_of(path)
    assert header["format_version"] == serialization.FORMAT_VERSION == 2
    assert header["architecture"] == {"type": "MLP", "config": {
        "sizes": [3, 4, 2, 1], "activation": "tanh", "output_activation": "sigmoid", "record_deltas": False}}
    assert header["parameters"]["layers.2.W"] == {"shape": [4, 2], "dtype": "<f8"}


def test_modules_inside_a_config_are_described_in_turn():
    description = architecture.describe(Stack([nn.Tanh(), Residual(2)], scale=2))
    assert description == {"type": "tests.Stack", "config": {
        "blocks": [{"__module__": {"type": "Tanh", "config": {}}},
                   {"__module__": {"type": "Residual", "config": {"width": 2, "seed": 0}}}],
        "scale": 2}}


# ---------------------------------------------------------------------- save refuses what load could not rebuild
def test_save_refuses_an_unregistered_class_and_says_what_to_add(tmp_path):
    with pytest.raises(ModelFileError, match=r"layers\.1 \(a Unregistered\).*@nn\.register_module.*get_config"):
        nn.save(nn.Sequential(nn.Linear(2, 2), Unregistered()), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_class_with_its_own_constructor_but_no_get_config(tmp_path):
    with pytest.raises(ModelFileError, match="NoConfig defines __init__ but not get_config"):
        nn.save(NoConfig(3), tmp_path / "m.npz")
    with pytest.raises(NotImplementedError, match="must define get_config"):
        NoConfig(3).get_config()


def test_save_refuses_a_get_config_that_does_not_rebuild_the_model(tmp_path):
    with pytest.raises(ModelFileError, match=r"would not load back.*'layer.W' has shape \(2, 1\).*\(5, 1\)"):
        nn.save(ForgetfulConfig(width=5), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_settings_json_cannot_hold(tmp_path):
    with pytest.raises(ModelFileError, match=r"Stack.get_config\(\) gives .*object.* for scale"):
        nn.save(Stack([], scale=object()), tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="nan"):
        nn.save(Stack([], scale=float("nan")), tmp_path / "m.npz")


def test_save_refuses_a_layer_shared_by_two_places(tmp_path):
    shared = nn.Linear(2, 2)
    with pytest.raises(ModelFileError, match=r"layers\.2 is the same module as the module at layers\.0"):
        nn.save(nn.Sequential(shared, nn.Tanh(), shared), tmp_path / "m.npz")
    tanh = nn.Tanh()  # a shared module without parameters rebuilds as two equal ones
    model = nn.Sequential(nn.Linear(2, 2), tanh, nn.Linear(2, 2), tanh)
    np.testing.assert_array_equal(predictions(nn.load(nn.save(model, tmp_path / "m.npz")).model, X[:, :2]),
                                  predictions(model, X[:, :2]))


def test_register_module_refuses_a_name_taken_by_another_class():
    class Linear(nn.Module):
        pass

    with pytest.raises(ValueError, match=r"'Linear' is taken by nn\.layers\.Linear.*name="):
        nn.register_module(Linear)
    with pytest.raises(TypeError, match="subclass of nn.Module"):
        nn.register_module(int)


def test_save_refuses_metadata_that_is_not_json(tmp_path):
    with pytest.raises(ModelFileError, match="JSON"):
        nn.save(nn.Linear(2, 1), tmp_path / "m.npz", metadata={"when": object()})
    with pytest.raises(ModelFileError, match="metadata must be a dict"):
        nn.save(nn.Linear(2, 1), tmp_path / "m.npz", metadata=[1, 2])
    assert list(tmp_path.iterdir()) == []


def test_save_to_a_directory_says_so_and_writes_nothing(tmp_path):
    with pytest.raises(ModelFileError, match=rf"save: {tmp_path} is a directory; .*{tmp_path / 'model.npz'}"):
        nn.save(nn.Linear(2, 1), tmp_path)
    with pytest.raises(ModelFileError, match="directory .*missing does not exist"):
        nn.save(nn.Linear(2, 1), tmp_path / "missing" / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_never_replaces_a_device_or_a_pipe(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(ModelFileError, match="pipe exists and is not a regular file"):
        nn.save(nn.Linear(2, 1), pipe)
    with pytest.raises(ModelFileError, match="is not a regular file"):
        nn.load(pipe)  # without opening it, which would wait for a writer
    assert stat.S_ISFIFO(pipe.stat().st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_saving_over_an_existing_file_replaces_it(saved):
    _, path = saved
    other = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=123)
    nn.save(other, path)
    np.testing.assert_array_equal(predictions(nn.load(path).model), predictions(other))


@nn.register_module
class Block(nn.Sequential):
    """A Sequential subclass with its own constructor: Sequential's from_config does not apply."""

    def __init__(self, width):
        super().__init__(nn.Linear(width, width, seed=width), nn.Tanh())
        self.width = width

    def get_config(self):
        return {"width": self.width}


def test_a_subclass_that_redefines_get_config_is_rebuilt_from_its_own_config(tmp_path):
    model = nn.Sequential(Block(3), Block(3))
    loaded, _ = nn.load(nn.save(model, tmp_path / "blocks.npz"))
    assert [type(m).__name__ for m in loaded] == ["Block", "Block"] and loaded[1].width == 3
    np.testing.assert_array_equal(predictions(loaded), predictions(model))
