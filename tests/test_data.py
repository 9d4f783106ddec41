"""Reading, cleaning, normalising, splitting, fetching and synthesising the car listings."""

import functools
import hashlib
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from nn import synthetic
from nn.data import (
    CarTable,
    DataError,
    Normalizer,
    cache_directory,
    cached_data_path,
    clean,
    encode_fuel,
    fetch,
    load_car_data,
    read_car_csv,
    train_test_split,
)

HEADER = "km,fuel,age,price\n"


@pytest.fixture(scope="module")
def real_table(car_csv_path: Path) -> CarTable:
    return read_car_csv(car_csv_path)


@pytest.fixture(scope="module")
def cleaned(real_table: CarTable) -> CarTable:
    return clean(real_table)[0]


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cars.csv"
    path.write_text(text, encoding="utf-8")
    return path


def small_table(km, fuel, age, price) -> CarTable:
    return CarTable(
        km=np.array(km, dtype=float),
        fuel=np.array(fuel, dtype=str),
        age=np.array(age, dtype=float),
        price=np.array(price, dtype=float),
    )


# --- reading -------------------------------------------------------------------------------


def test_valid_rows_become_float_columns_and_string_fuels(tmp_path):
    path = write_csv(tmp_path, HEADER + "135000,Diesel,8,9700\n38000,Essence,3,17000\n")
    table = read_car_csv(path)
    assert len(table) == 2
    np.testing.assert_array_equal(table.km, [135000.0, 38000.0])
    np.testing.assert_array_equal(table.age, [8.0, 3.0])
    np.testing.assert_array_equal(table.price, [9700.0, 17000.0])
    assert table.fuel.tolist() == ["Diesel", "Essence"]
    assert table.km.dtype == table.age.dtype == table.price.dtype == np.float64
    assert table.skipped_rows == ()


def test_real_file_has_the_documented_rows_and_fuels(real_table):
    assert len(real_table) == 9100
    fuels, counts = np.unique(real_table.fuel, return_counts=True)
    assert dict(zip(fuels.tolist(), counts.tolist())) == {
        "Diesel": 8292, "Essence": 799, "GPL": 3, "Autre": 1, "": 5
    }


def test_empty_fuel_is_a_valid_row(tmp_path):
    table = read_car_csv(write_csv(tmp_path, HEADER + "0,,0,0\n"))
    assert table.fuel.tolist() == [""]


def test_header_only_gives_an_empty_table(tmp_path):
    assert len(read_car_csv(write_csv(tmp_path, HEADER))) == 0


def test_row_with_wrong_field_count_names_file_and_line(tmp_path):
    path = write_csv(tmp_path, HEADER + "1,Diesel,2,3\n1,Diesel,2\n")
    with pytest.raises(DataError, match=r"cars\.csv:3: expected 4 fields .*found 3"):
        read_car_csv(path)


def test_non_numeric_km_names_line_column_and_value(tmp_path):
    path = write_csv(tmp_path, HEADER + "1,Diesel,2,3\n12k,Diesel,2,3\n")
    with pytest.raises(DataError) as raised:
        read_car_csv(path)
    message = str(raised.value)
    assert "cars.csv:3:" in message and "'km'" in message and "'12k'" in message


def test_negative_age_names_line_column_and_value(tmp_path):
    path = write_csv(tmp_path, HEADER + "1,Diesel,-2,3\n")
    with pytest.raises(DataError, match=r"cars\.csv:2: column 'age': negative value: '-2'"):
        read_car_csv(path)


@pytest.mark.parametrize("price", ["nan", "inf", "", "-0.5", "1e400"])
def test_prices_that_are_not_finite_non_negative_numbers_are_rejected(tmp_path, price):
    path = write_csv(tmp_path, HEADER + f"1,Diesel,2,{price}\n")
    with pytest.raises(DataError, match=r":2: column 'price'"):
        read_car_csv(path)


def test_skip_bad_rows_keeps_good_rows_and_records_each_bad_one(tmp_path):
    text = HEADER + "1,Diesel,2,3\nx,Diesel,2,3\n4,Essence,5,6\n7,Diesel,8\n9,Diesel,-1,1\n"
    table = read_car_csv(write_csv(tmp_path, text), skip_bad_rows=True)
    np.testing.assert_array_equal(table.km, [1.0, 4.0])
    assert [row.line for row in table.skipped_rows] == [3, 5, 6]
    assert "'km'" in table.skipped_rows[0].reason
    assert "4 fields" in table.skipped_rows[1].reason
    assert "'age'" in table.skipped_rows[2].reason


def test_csv_syntax_errors_are_data_errors_with_their_line(tmp_path):
    path = write_csv(tmp_path, HEADER + "1,Diesel,2,3\n1,\"" + "x" * 200_000 + "\",2,3\n")
    with pytest.raises(DataError, match=r"cars\.csv:3: malformed CSV"):
        read_car_csv(path, skip_bad_rows=True)


def test_blank_lines_are_not_rows(tmp_path):
    table = read_car_csv(write_csv(tmp_path, HEADER + "1,Diesel,2,3\n\n4,Essence,5,6\n\n"))
    assert len(table) == 2 and table.skipped_rows == ()


def test_empty_file_is_an_error_on_line_1(tmp_path):
    with pytest.raises(DataError, match=r"cars\.csv:1: file is empty"):
        read_car_csv(write_csv(tmp_path, ""))


def test_missing_header_is_an_error_even_when_skipping_bad_rows(tmp_path):
    path = write_csv(tmp_path, "135000,Diesel,8,9700\n")
    expected = r":1: expected the header 'km,fuel,age,price', found '135000"
    with pytest.raises(DataError, match=expected):
        read_car_csv(path, skip_bad_rows=True)


def test_header_names_must_match_exactly(tmp_path):
    with pytest.raises(DataError, match=r":1: expected the header"):
        read_car_csv(write_csv(tmp_path, "km,fuel,age,Price\n1,Diesel,2,3\n"))


def test_non_utf8_bytes_are_an_error_naming_their_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADER.encode() + b"1,Diesel,2,3\n1,Ess\xe9nce,2,3\n")
    with pytest.raises(DataError, match=r"latin1\.csv:3: byte column 6: not UTF-8"):
        read_car_csv(path)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"1,Diesel,2,3\r\n")
    assert len(read_car_csv(path)) == 1


# --- cleaning ------------------------------------------------------------------------------


def test_cleaning_the_real_file_keeps_9061_listings_and_explains_the_rest(real_table):
    kept, report = clean(real_table)
    assert len(kept) == report.rows_kept == 9061
    assert report.rows_in == 9100 and report.rows_dropped == 39
    assert report.fuel_counts == {"Diesel": 8292, "Essence": 799, "": 5, "GPL": 3, "Autre": 1}
    assert report.dropped_fuel == {"": 5, "GPL": 3, "Autre": 1}
    assert report.dropped_cheap == 30
    assert set(kept.fuel.tolist()) == {"Diesel", "Essence"} and kept.price.min() > 1000
    assert "kept 9061 of 9100" in str(report)


def test_cleaning_needs_the_exact_fuel_names_and_a_price_above_1000():
    table = small_table(
        km=[1, 2, 3, 4, 5, 6],
        fuel=["Diesel", "Essence", "diesel", "GPL", "Diesel", "Diesel"],
        age=[1, 1, 1, 1, 1, 1],
        price=[5000, 1000.5, 5000, 500, 1000, 999],
    )
    kept, report = clean(table)
    np.testing.assert_array_equal(kept.km, [1.0, 2.0])
    assert report.dropped_fuel == {"diesel": 1, "GPL": 1}
    assert report.dropped_cheap == 2


def test_load_car_data_reads_then_cleans(car_csv_path, cleaned):
    table, report = load_car_data(car_csv_path)
    assert report.rows_kept == 9061
    np.testing.assert_array_equal(table.price, cleaned.price)


# --- encoding and normalising --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, code",
    [("Diesel", -1.0), ("DIESEL", -1.0), ("Essence", 1.0), ("petrol", 1.0), ("Gasoline", 1.0)],
)
def test_fuel_names_in_french_or_english_encode_to_minus_or_plus_one(name, code):
    assert encode_fuel(name) == code


def test_unknown_fuel_error_lists_the_accepted_names():
    with pytest.raises(DataError, match="'GPL'.*diesel, essence, petrol, gasoline"):
        encode_fuel("GPL")


def test_normalizer_uses_population_std_and_price_min_max():
    table = small_table(km=[0, 2], fuel=["Diesel", "Essence"], age=[1, 5], price=[2000, 6000])
    normalizer = Normalizer().fit(table)
    X = normalizer.transform(table.km, table.fuel, table.age)
    np.testing.assert_array_equal(X, [[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]])
    y = normalizer.transform_price([2000, 4000, 6000])
    np.testing.assert_array_equal(y, [[0.0], [0.5], [1.0]])


def test_features_of_the_fit_data_have_mean_0_and_std_1(cleaned):
    X, y = Normalizer().fit(cleaned).transform_table(cleaned)
    assert X.shape == (9061, 3) and X.dtype == np.float64 and y.shape == (9061, 1)
    np.testing.assert_allclose(X[:, [0, 2]].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X[:, [0, 2]].std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(X[:, 1], np.where(cleaned.fuel == "Diesel", -1.0, 1.0))
    assert y.min() == 0.0 and y.max() == 1.0


def test_inverse_price_undoes_transform_price(cleaned):
    normalizer = Normalizer().fit(cleaned)
    prices = np.array([1300.0, 9999.5, 17000.0, 85000.0, 120000.0])
    round_trip = normalizer.inverse_price(normalizer.transform_price(prices))
    np.testing.assert_allclose(round_trip.ravel(), prices, rtol=1e-12)


def test_one_car_can_be_transformed_from_scalars(cleaned):
    normalizer = Normalizer().fit(cleaned)
    X = normalizer.transform(38000, "petrol", 3)
    np.testing.assert_array_equal(X, normalizer.transform([38000], ["Essence"], [3]))
    assert X.shape == (1, 3)


def test_transform_refuses_unknown_fuels_and_ragged_columns(cleaned):
    normalizer = Normalizer().fit(cleaned)
    with pytest.raises(DataError, match="unknown fuel 'GPL'"):
        normalizer.transform([1], ["GPL"], [1])
    with pytest.raises(ValueError, match="differ in length: 2, 1, 1"):
        normalizer.transform([1, 2], ["Diesel"], [1])


def test_normalizer_refuses_to_transform_before_fit():
    with pytest.raises(RuntimeError, match="not fitted"):
        Normalizer().transform([1], ["Diesel"], [1])
    with pytest.raises(RuntimeError, match="not fitted"):
        Normalizer().inverse_price([0.5])


def test_normalizer_cannot_be_fitted_to_a_constant_column():
    table = small_table(km=[5, 5], fuel=["Diesel", "Diesel"], age=[1, 2], price=[2000, 3000])
    with pytest.raises(DataError, match="'km_std' must be positive"):
        Normalizer().fit(table)


def test_statistics_survive_a_json_round_trip(cleaned):
    normalizer = Normalizer().fit(cleaned)
    restored = Normalizer.from_dict(json.loads(json.dumps(normalizer.to_dict())))
    assert restored.to_dict() == normalizer.to_dict()
    np.testing.assert_array_equal(
        restored.transform(cleaned.km, cleaned.fuel, cleaned.age),
        normalizer.transform(cleaned.km, cleaned.fuel, cleaned.age),
    )
    assert all(type(value) is float for value in normalizer.to_dict().values())


def test_from_dict_names_missing_and_unexpected_keys():
    stats = {"km_mean": 1.0, "km_std": 1.0, "age_mean": 1.0, "age_std": 1.0, "price_min": 0.0}
    expected = r"missing keys \['price_max'\], unexpected keys \['extra'\]"
    with pytest.raises(DataError, match=expected):
        Normalizer.from_dict(stats | {"extra": 1.0})


@pytest.mark.parametrize("bad", [float("nan"), "3", None, True])
def test_from_dict_refuses_values_that_are_not_finite_numbers(bad):
    stats = dict(km_mean=1.0, km_std=1.0, age_mean=1.0, age_std=bad, price_min=0.0, price_max=1.0)
    with pytest.raises(DataError, match="'age_std' must be a finite number"):
        Normalizer.from_dict(stats)


# --- splitting -----------------------------------------------------------------------------


def test_split_is_disjoint_covers_every_row_and_has_the_asked_size():
    train, test = train_test_split(101, test_fraction=0.2, seed=3)
    assert len(test) == 20 and len(train) == 81
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(101))


def test_same_seed_gives_the_same_split_and_another_seed_a_different_one():
    first, again, other = (train_test_split(1000, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[0], again[0])
    assert set(first[1].tolist()) != set(other[1].tolist())


def test_arrays_are_split_with_their_rows_kept_together():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    X_train, X_test, y_train, y_test = train_test_split([X, y], test_fraction=0.3, seed=1)
    assert len(X_test) == len(y_test) == 3
    np.testing.assert_array_equal(X_train[:, 0] * 5, y_train)
    np.testing.assert_array_equal(X_test[:, 0] * 5, y_test)
    assert not set(y_train.tolist()) & set(y_test.tolist())


@pytest.mark.parametrize("n, fraction", [(10, 0.0), (10, 1.0), (1, 0.5), (10, 0.01)])
def test_split_refuses_an_empty_part(n, fraction):
    with pytest.raises(ValueError):
        train_test_split(n, test_fraction=fraction)


# --- fetching ------------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(directory))
    return directory


@pytest.fixture
def loopback_url(car_csv_path, monkeypatch):
    """An http:// address on 127.0.0.1 serving the real file, never through a proxy."""
    monkeypatch.setenv("no_proxy", "*")
    handler = functools.partial(QuietHandler, directory=str(car_csv_path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{car_csv_path.name}"
    server.shutdown()
    server.server_close()
    thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_copies_a_file_url_into_the_cache(car_csv_path, cache):
    path = fetch(url=car_csv_path.as_uri())
    assert path == cache / "car_features.csv"
    assert path.read_bytes() == car_csv_path.read_bytes()
    assert cached_data_path() == path
    assert sorted(p.name for p in cache.iterdir()) == ["car_features.csv"]


def test_fetch_downloads_over_http(car_csv_path, cache, loopback_url):
    path = fetch(url=loopback_url)
    assert path.read_bytes() == car_csv_path.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == ["car_features.csv"]


def test_checksum_mismatch_raises_and_leaves_no_file(tmp_path, cache):
    source = tmp_path / "tampered.csv"
    source.write_bytes(b"km,fuel,age,price\n1,Diesel,1,99999\n")
    expected = "0" * 64
    with pytest.raises(DataError) as raised:
        fetch(url=source.as_uri(), sha256=expected)
    assert expected in str(raised.value) and sha256_of(source.read_bytes()) in str(raised.value)
    assert list(cache.iterdir()) == []


def test_failed_download_raises_and_leaves_no_file(tmp_path, cache):
    with pytest.raises(DataError, match="cannot download"):
        fetch(url=(tmp_path / "missing.csv").as_uri())
    assert list(cache.iterdir()) == []


def test_a_valid_cached_file_is_reused_without_downloading(tmp_path):
    content = b"km,fuel,age,price\n1,Diesel,1,2000\n"
    source = tmp_path / "source.csv"
    source.write_bytes(content)
    first = fetch(url=source.as_uri(), sha256=sha256_of(content), cache_dir=tmp_path / "c")
    offline = "http://invalid.invalid/nothing.csv"
    second = fetch(url=offline, sha256=sha256_of(content), cache_dir=tmp_path / "c")
    assert first == second and second.read_bytes() == content


def test_a_corrupted_cached_file_is_ignored_and_replaced(tmp_path):
    content = b"km,fuel,age,price\n1,Diesel,1,2000\n"
    source = tmp_path / "source.csv"
    source.write_bytes(content)
    cache_dir = tmp_path / "c"
    cache_dir.mkdir()
    (cache_dir / "car_features.csv").write_bytes(b"truncated")
    assert cached_data_path(sha256_of(content), cache_dir) is None
    path = fetch(url=source.as_uri(), sha256=sha256_of(content), cache_dir=cache_dir)
    assert path.read_bytes() == content


def test_cache_directory_follows_the_environment_and_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTENSOR_CACHE", str(tmp_path / "mine"))
    assert cache_directory() == tmp_path / "mine"
    monkeypatch.delenv("AUTOTENSOR_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "autotensor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_directory() == tmp_path / ".cache" / "autotensor"
    monkeypatch.setattr("sys.platform", "darwin")
    assert cache_directory() == tmp_path / "Library" / "Caches" / "autotensor"
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache_directory() == tmp_path / "local" / "autotensor"


# --- synthetic listings --------------------------------------------------------------------

RELATIVE_TOLERANCE = 0.10
FUEL_SHARE_TOLERANCE = 0.02
CORRELATION_TOLERANCE = 0.1


@pytest.fixture(scope="module")
def generated() -> CarTable:
    return synthetic.generate(n=9061, seed=0)


@pytest.mark.parametrize("column", ["km", "age", "price"])
def test_synthetic_means_and_spreads_match_the_real_listings(cleaned, generated, column):
    real, fake = getattr(cleaned, column), getattr(generated, column)
    assert fake.mean() == pytest.approx(real.mean(), rel=RELATIVE_TOLERANCE)
    assert fake.std() == pytest.approx(real.std(), rel=RELATIVE_TOLERANCE)


def test_synthetic_petrol_share_matches_the_real_listings(cleaned, generated):
    share = np.mean(generated.fuel == "Essence")
    assert share == pytest.approx(np.mean(cleaned.fuel == "Essence"), abs=FUEL_SHARE_TOLERANCE)


@pytest.mark.parametrize("a, b", [("price", "age"), ("price", "km"), ("km", "age")])
def test_synthetic_correlations_match_the_real_listings(cleaned, generated, a, b):
    def correlation(table):
        return np.corrcoef(getattr(table, a), getattr(table, b))[0, 1]

    assert correlation(generated) == pytest.approx(correlation(cleaned), abs=CORRELATION_TOLERANCE)


def test_refitting_the_real_listings_reproduces_the_stored_parameters(cleaned):
    fitted = synthetic.fit_parameters(cleaned)
    assert fitted.keys() == synthetic.FITTED.keys()
    for name, value in fitted.items():
        assert synthetic.FITTED[name] == pytest.approx(value, rel=1e-6), name


def test_fit_command_prints_a_literal_of_the_parameters(car_csv_path, capsys):
    synthetic.main(["--fit", str(car_csv_path)])
    namespace: dict = {}
    exec(capsys.readouterr().out, namespace)
    assert namespace["FITTED"] == synthetic.FITTED


def test_fitting_synthetic_listings_recovers_the_model_that_made_them():
    refitted = synthetic.fit_parameters(synthetic.generate(n=20000, seed=1))
    for name in ("petrol_share", "age_beta_a", "age_beta_b", "km_per_year", "log_price_per_year",
                 "log_price_per_km", "log_price_petrol", "log_price_noise_std"):
        assert refitted[name] == pytest.approx(synthetic.FITTED[name], rel=0.10), name


def test_synthetic_listings_are_reproducible_whole_numbers_that_survive_cleaning(generated):
    again, other = synthetic.generate(n=9061, seed=0), synthetic.generate(n=9061, seed=1)
    np.testing.assert_array_equal(again.price, generated.price)
    assert not np.array_equal(other.price, generated.price)
    for column in (generated.km, generated.age, generated.price):
        np.testing.assert_array_equal(column, np.round(column))
    kept, report = clean(generated)
    assert report.rows_kept == len(generated) == 9061


def test_fit_parameters_refuses_uncleaned_listings(real_table):
    with pytest.raises(DataError, match="other fuels"):
        synthetic.fit_parameters(real_table)
