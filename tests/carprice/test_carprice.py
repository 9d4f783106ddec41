"""The car-price application: data choice, training, metrics in euros, saved models, prediction."""
import numpy as np
import pytest

from nn import carprice
from nn.carprice import synthetic
from nn.carprice import CarPriceModel, Metrics, TrainConfig, TrainingError


@pytest.fixture(scope="module")
def real(car_csv_path):
    return carprice.choose_data(car_csv_path)


@pytest.fixture(scope="module")
def small():
    """A small synthetic data set for quick runs."""
    table, _ = carprice.clean(synthetic.generate(n=600, seed=3))
    return carprice.DataSource(table, "synthetic test sample", "synthetic")


# ---------------------------------------------------------------------- data choice
def test_an_explicit_file_is_used_and_described(real, car_csv_path):
    assert real.kind == "file" and len(real.table) == 9061
    assert str(car_csv_path) in real.description and "kept 9061 of 9100" in real.description


def test_without_a_file_the_cached_real_listings_are_used(car_csv_path, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(tmp_path))
    (tmp_path / carprice.CACHE_FILE_NAME).write_bytes(car_csv_path.read_bytes())
    source = carprice.choose_data()
    assert source.kind == "cache" and len(source.table) == 9061 and "cached real listings" in source.description


def test_without_file_or_cache_the_synthetic_sample_is_used_and_said_so(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(tmp_path))
    source = carprice.choose_data()
    assert source.kind == "synthetic" and "SYNTHETIC" in source.description and "data fetch" in source.description
    assert len(source.table) > 9000


# ---------------------------------------------------------------------- metrics
def test_metrics_are_r2_mae_and_rmse():
    actual, predicted = np.array([10.0, 20.0, 30.0, 40.0]), np.array([12.0, 18.0, 30.0, 44.0])
    m = Metrics.of(actual, predicted)
    assert m.mae == pytest.approx(2.0)
    assert m.rmse == pytest.approx(np.sqrt((4 + 4 + 0 + 16) / 4))
    assert m.r2 == pytest.approx(1 - 24 / 500)


# ---------------------------------------------------------------------- configuration
def test_the_default_configuration_is_the_documents_network():
    config = TrainConfig()
    assert config.sizes == [3, 3, 2, 1] and config.activation == "tanh"


@pytest.mark.parametrize("settings, message", [
    ({"hidden": (3, 0)}, "positive"), ({"activation": "swish"}, "swish"), ({"optimizer": "rmsprop"}, "rmsprop"),
    ({"lr": -1.0}, "learning rate"), ({"epochs": 0}, "epochs"), ({"batch_size": -1}, "batch size"),
    ({"l2": -0.1}, "l2"), ({"test_fraction": 1.0}, "test fraction"), ({"seed": -1}, "seed must be >= 0"),
    ({"split_seed": -1}, "split_seed must be >= 0"),
])
def test_bad_settings_are_refused_with_a_message(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**settings)


# ---------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_reports_every_epoch(small):
    calls = []
    result = carprice.train(small, TrainConfig(epochs=8, batch_size=64), lambda *args: calls.append(args))
    assert [c[0] for c in calls] == list(range(1, 9)) and all(c[1] == 8 for c in calls)
    assert result.train_loss[-1] < result.train_loss[0] / 2
    assert len(result.train_table) == 480 and len(result.test_table) == 120
    assert set(result.metrics) == {"train", "test"}


def test_the_same_seed_gives_the_same_run_and_another_seed_does_not(small):
    config = TrainConfig(epochs=3, batch_size=100)
    first, second = carprice.train(small, config), carprice.train(small, config)
    other = carprice.train(small, TrainConfig(epochs=3, batch_size=100, seed=1))
    assert first.train_loss == second.train_loss
    assert other.train_loss != first.train_loss
    np.testing.assert_array_equal(other.test_table.price, first.test_table.price)  # same held-out cars


def test_the_normaliser_is_fitted_on_the_training_rows_only(small):
    result = carprice.train(small, TrainConfig(epochs=1))
    assert result.normalizer.stats["km_mean"] == pytest.approx(np.mean(result.train_table.km))
    assert result.normalizer.stats["price_max"] == np.max(result.train_table.price)


@pytest.mark.parametrize("rows, fraction, error, message", [
    (9061, 0.001, carprice.SplitError, "leaves 9 of 9061 listings for testing and 9052 for training"),
    (9061, 0.999, carprice.SplitError, "leaves 9052 of 9061 listings for testing and 9 for training"),
    (19, 0.5, carprice.DataError, "only 19 usable listings; training and testing need at least 20"),
])
def test_a_split_leaving_too_few_listings_is_refused(rows, fraction, error, message):
    with pytest.raises(error, match=message):
        carprice.check_split(rows, fraction)
    carprice.check_split(9061, 0.0012)  # 11 test listings: enough


def test_training_refuses_a_starved_split_before_the_first_epoch(small):
    calls = []
    with pytest.raises(carprice.SplitError, match="each part needs at least 10"):
        carprice.train(small, TrainConfig(test_fraction=0.01), lambda *args: calls.append(args))
    assert calls == []


def test_a_test_r2_that_does_not_exist_is_saved_as_null(small, tmp_path):
    result = carprice.train(small, TrainConfig(epochs=1))
    result.metrics["test"] = Metrics(r2=float("nan"), mae=1.0, rmse=2.0)  # all test prices equal
    model = CarPriceModel.load(result.save(tmp_path / "model.npz"))
    assert model.metadata["metrics"]["test"] == {"r2": None, "mae": 1.0, "rmse": 2.0}


def test_a_diverging_run_stops_with_advice(small):
    with pytest.raises(TrainingError, match="lower the learning rate"):
        carprice.train(small, TrainConfig(optimizer="sgd", lr=10.0, epochs=20, batch_size=0, activation="identity"))


def test_l2_weight_decay_shrinks_the_weights(small):
    plain = carprice.train(small, TrainConfig(epochs=20, seed=2))
    decayed = carprice.train(small, TrainConfig(epochs=20, seed=2, l2=0.1))

    def weight_norm(result):
        return sum(np.sum(layer.W.data ** 2) for layer in result.model.linear_layers)

    assert weight_norm(decayed) < weight_norm(plain)


@pytest.mark.slow
def test_the_defaults_meet_the_quality_bar_on_the_real_listings(real):
    result = carprice.train(real, TrainConfig())
    test = result.metrics["test"]
    assert test.r2 >= 0.72 and test.mae <= 2600, test
    assert result.seconds < 60


# ---------------------------------------------------------------------- saved models and prediction
def test_a_saved_model_keeps_what_prediction_needs(car_model_path):
    model = CarPriceModel.load(car_model_path)
    meta = model.metadata
    assert meta["application"] == carprice.APPLICATION
    assert set(meta["normalizer"]) == {"km_mean", "km_std", "age_mean", "age_std", "price_min", "price_max"}
    assert meta["training"]["epochs"] == 5 and meta["training"]["lr"] == carprice.DEFAULT_LR["adam"]
    assert meta["data"] == {"source": "file", "rows_train": 7249, "rows_test": 1812}
    assert set(meta["metrics"]["test"]) == {"r2", "mae", "rmse"}


def test_prediction_goes_through_the_saved_normaliser_to_euros(car_model_path):
    model = CarPriceModel.load(car_model_path)
    prices = model.predict([38000, 150000], ["diesel", "Essence"], [3, 10])
    X = model.normalizer.transform([38000, 150000], ["Diesel", "Essence"], [3, 10])
    from autotensor import no_grad
    with no_grad():
        expected = model.normalizer.inverse_price(model.model(X).data).ravel()
    np.testing.assert_allclose(prices, expected)
    assert 1000 < prices[1] < prices[0] < 60000  # older, more km: cheaper


def test_prediction_refuses_impossible_cars(car_model_path):
    model = CarPriceModel.load(car_model_path)
    with pytest.raises(ValueError, match="km must be"):
        model.predict(-1, "diesel", 3)
    with pytest.raises(ValueError, match="age must be"):
        model.predict(1000, "diesel", float("nan"))
    with pytest.raises(carprice.DataError, match="unknown fuel"):
        model.predict(1000, "hydrogen", 2)


def test_a_model_without_car_metadata_is_not_a_car_price_model(tmp_path):
    import nn

    path = nn.save(nn.MLP([3, 3, 2, 1]), tmp_path / "bare.npz")
    with pytest.raises(nn.ModelFileError, match="not a car-price model"):
        CarPriceModel.load(path)


def test_the_plot_has_loss_curves_and_a_scatter(small, tmp_path):
    pytest.importorskip("matplotlib")
    result = carprice.train(small, TrainConfig(epochs=2))
    path = carprice.plot_training(result, tmp_path / "training.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
