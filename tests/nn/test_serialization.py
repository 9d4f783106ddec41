"""Model files: round trip, refusal of unsafe or damaged files, atomic saving."""
import json
import pickle
import zipfile

import numpy as np
import pytest

import autotensor as at
import nn
from nn import serialization
from nn.serialization import HEADER_KEY, ModelFileError

X = np.random.default_rng(0).normal(size=(6, 3))


def predictions(model):
    with at.no_grad():
        return model(X).data


def rewrite(path, edit):
    """Re-save the archive at ``path`` after ``edit(arrays, header)`` changed its entries."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(str(arrays.pop(HEADER_KEY)))
    edit(arrays, header)
    with open(path, "wb") as file:
        np.savez(file, **{HEADER_KEY: np.array(json.dumps(header))}, **arrays)


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=5)
    path = nn.save(model, tmp_path / "model.npz", metadata={"note": "five", "stats": {"mean": np.float64(2.5)}})
    return model, path


def test_round_trip_gives_identical_predictions_and_metadata(saved):
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


def test_the_file_is_an_npz_of_named_parameters_and_a_json_header(saved):
    _, path = saved
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {HEADER_KEY, "layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b",
                                      "layers.4.W", "layers.4.b"}
        header = json.loads(str(archive[HEADER_KEY]))
    assert header["format_version"] == serialization.FORMAT_VERSION
    assert header["architecture"]["type"] == "MLP" and header["parameters"]["layers.2.W"] == [4, 2]


def test_load_refuses_an_object_array_that_only_pickle_could_read(saved):
    _, path = saved
    rewrite(path, lambda arrays, header: arrays.update({"layers.0.b": np.array([{"evil": 1}], dtype=object)}))
    with pytest.raises(ModelFileError, match="layers.0.b.*unpickl"):
        nn.load(path)


def test_load_refuses_a_pickle_file(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"layers.0.W": np.zeros((3, 4))}))
    with pytest.raises(ModelFileError, match="pickle"):
        nn.load(path)


def test_load_refuses_a_parameter_of_the_wrong_shape(saved):
    _, path = saved

    def widen(arrays, header):
        arrays["layers.2.W"] = np.zeros((5, 2))
        header["parameters"]["layers.2.W"] = [5, 2]

    rewrite(path, widen)
    with pytest.raises(ModelFileError, match=r"layers.2.W.*\(4, 2\).*\(5, 2\)"):
        nn.load(path)


def test_load_refuses_a_shape_that_disagrees_with_the_header(saved):
    _, path = saved
    rewrite(path, lambda arrays, header: arrays.update({"layers.4.b": np.zeros(3)}))
    with pytest.raises(ModelFileError, match="layers.4.b"):
        nn.load(path)


def test_load_names_a_missing_parameter(saved):
    _, path = saved
    rewrite(path, lambda arrays, header: arrays.pop("layers.4.W"))
    with pytest.raises(ModelFileError, match="missing keys.*layers.4.W"):
        nn.load(path)


def test_load_refuses_a_newer_format_version_with_advice(saved):
    _, path = saved
    rewrite(path, lambda arrays, header: header.update({"format_version": serialization.FORMAT_VERSION + 1}))
    with pytest.raises(ModelFileError, match="newer.*[Uu]pgrade"):
        nn.load(path)


def test_load_refuses_a_truncated_file(saved):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="model.npz"):
        nn.load(path)


def test_load_refuses_non_finite_weights(saved):
    _, path = saved
    rewrite(path, lambda arrays, header: arrays["layers.0.W"].__setitem__((0, 0), np.nan))
    with pytest.raises(ModelFileError, match="NaN"):
        nn.load(path)


def test_load_refuses_files_that_are_not_models(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        nn.load(tmp_path / "absent.npz")
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a model file"):
        nn.load(plain)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ModelFileError, match="single array"):
        nn.load(single)


def test_save_refuses_metadata_that_is_not_json(tmp_path):
    with pytest.raises(ModelFileError, match="JSON"):
        nn.save(nn.Linear(2, 1), tmp_path / "m.npz", metadata={"when": object()})
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_model_it_could_not_rebuild(tmp_path):
    with pytest.raises(ModelFileError, match="Sequential"):
        nn.save(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), tmp_path / "m.npz")


def test_a_failed_save_leaves_the_previous_file_intact_and_no_temporary_file(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()

    def crash_halfway(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_arrays", crash_halfway)
    other = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=99)
    with pytest.raises(OSError, match="disk full"):
        nn.save(other, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(predictions(nn.load(path).model), predictions(model))


def test_an_interrupted_save_is_cleaned_up_too(tmp_path, monkeypatch):
    def interrupted(file, arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_arrays", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nn.save(nn.Linear(2, 1), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_saving_over_an_existing_file_replaces_it(saved):
    _, path = saved
    other = nn.MLP([3, 4, 2, 1], "tanh", "sigmoid", seed=123)
    nn.save(other, path)
    np.testing.assert_array_equal(predictions(nn.load(path).model), predictions(other))
    assert zipfile.is_zipfile(path)
