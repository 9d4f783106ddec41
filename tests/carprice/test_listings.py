"""Reading, cleaning and encoding the car listings."""

import numpy as np
import pytest

from nn.carprice import FUEL_SPELLINGS, PLAUSIBLE_MAX, DataError, clean, encode_fuel, load_car_data, read_car_csv
from nn.carprice.listings import FUEL_CODES
from tests.carprice.tables import HEADER, small_table, write_csv


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


@pytest.mark.parametrize("column, row", [
    ("km", "1e308,Diesel,2,5000"), ("age", "1000,Diesel,151,5000"), ("price", "1000,Diesel,2,2e9"),
])
def test_values_no_car_can_have_are_refused_naming_file_line_and_column(tmp_path, column, row):
    path = write_csv(tmp_path, HEADER + "1000,Diesel,2,5000\n" + row + "\n")
    with pytest.raises(DataError, match=rf"cars\.csv:3: column '{column}': .* is above the largest plausible value"):
        read_car_csv(path)
    limits = dict(PLAUSIBLE_MAX)
    at_the_limit = f"{limits['km']:.0f},Diesel,{limits['age']:.0f},{limits['price']:.0f}\n"
    assert len(read_car_csv(write_csv(tmp_path, HEADER + at_the_limit))) == 1


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


def test_cleaning_keeps_every_accepted_fuel_spelling_names_it_one_way_and_needs_a_price_above_1000():
    table = small_table(
        km=[1, 2, 3, 4, 5, 6, 7, 8, 9],
        fuel=["Diesel", "Essence", "diesel", "GPL", "Diesel", "Diesel", "DIESEL", " petrol ", "Gazole"],
        age=[1, 1, 1, 1, 1, 1, 1, 1, 1],
        price=[5000, 1000.5, 5000, 500, 1000, 999, 7000, 8000, 9000],
    )
    kept, report = clean(table)
    np.testing.assert_array_equal(kept.km, [1.0, 2.0, 3.0, 7.0, 8.0, 9.0])
    assert kept.fuel.tolist() == ["Diesel", "Essence", "Diesel", "Diesel", "Essence", "Diesel"]
    assert report.dropped_fuel == {"GPL": 1}
    assert report.dropped_cheap == 2


def test_training_and_prediction_accept_exactly_the_same_fuel_spellings():
    spellings = list(FUEL_SPELLINGS) + [name.upper() for name in FUEL_SPELLINGS] + [" Essence "]
    table = small_table(km=[1] * len(spellings), fuel=spellings, age=[1] * len(spellings), price=[5000] * len(spellings))
    kept, _ = clean(table)
    assert len(kept) == len(spellings)
    assert [encode_fuel(name) for name in spellings] == [FUEL_CODES[name] for name in kept.fuel]
    for unknown in ["GPL", "Autre", "", "electric", "gas"]:
        with pytest.raises(DataError, match="unknown fuel"):
            encode_fuel(unknown)
        assert len(clean(small_table(km=[1], fuel=[unknown], age=[1], price=[5000]))[0]) == 0


def test_load_car_data_reads_then_cleans(car_csv_path, cleaned):
    table, report = load_car_data(car_csv_path)
    assert report.rows_kept == 9061
    np.testing.assert_array_equal(table.price, cleaned.price)


# --- encoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, code",
    [("Diesel", -1.0), ("DIESEL", -1.0), ("Essence", 1.0), ("petrol", 1.0), ("Gasoline", 1.0)],
)
def test_fuel_names_in_french_or_english_encode_to_minus_or_plus_one(name, code):
    assert encode_fuel(name) == code


def test_unknown_fuel_error_lists_the_accepted_names():
    with pytest.raises(DataError, match="'GPL'.*diesel, gazole, gasoil, essence, petrol, gasoline"):
        encode_fuel("GPL")
