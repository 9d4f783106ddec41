"""`autotensor predict`: malformed CSVs refused clearly, --skip-invalid, the domain, damaged models."""
import pytest

import nn
from nn.carprice import CarPriceModel
from tests.carprice.model_files import resaved
from tests.cli.running import assert_one_line_error, run


def cars_file(tmp_path, text):
    path = tmp_path / "cars.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, fragment", [
    ("km,fuel,age\n38000,diesel,3\n1000,diesel,2,9\n",
     "cars.csv:3: 4 fields where the header has 3: extra field in column 4: '9'"),
    ("km,fuel,age\n38000,diesel,3\n1000,diesel\n",
     "cars.csv:3: 2 fields where the header has 3: no value for column 3 ('age')"),
    ("km,fuel,age,km\n38000,diesel,3,5\n", "cars.csv:1: column 'km' appears twice (columns 1 and 4)"),
    ("km,fuel,age\n38000,diesel,3\n12k,diesel,3\n", "cars.csv:3: column 'km': not a finite number: '12k'"),
    ("km,fuel,age\n38000,diesel,1e9\n", "cars.csv:2: column 'age': '1e9' is above the largest plausible value 150"),
    ("km;fuel;age\n38000;diesel;3\n", "cars.csv:1: missing column(s) km, fuel, age"),
])
def test_a_malformed_csv_is_refused_naming_file_line_and_column(capsys, car_model_path, tmp_path, text, fragment):
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", cars_file(tmp_path, text))
    assert (status, out) == (1, "")
    assert_one_line_error(err, fragment)


def test_the_first_invalid_row_is_named_with_how_many_more_there_are(capsys, car_model_path, tmp_path):
    text = "km,fuel,age\n38000,diesel,3\n-1,diesel,3\n38000,steam,3\n38000,diesel,99\n"
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", cars_file(tmp_path, text))
    assert (status, out) == (1, "")
    assert_one_line_error(err, "cars.csv:3: column 'km': negative value: '-1' (and 2 more invalid rows); "
                               "fix the file, or --skip-invalid prices the valid rows")


def test_skip_invalid_prices_the_valid_rows_and_reports_every_skipped_one(capsys, car_model_path, tmp_path):
    text = ("fuel,age,km,note\nDiesel,3,38000,a\n"
            "diesel,3\n"               # line 3: short
            "petrol,10,150000,b\n"
            "diesel,3,-1,c\n"          # line 5: negative km
            "LPG,3,1000,d\n"           # line 6: unknown fuel
            "diesel,60,38000,e\n"      # line 7: older than every training car
            "ESSENCE,0,10,f,g\n")      # line 8: an extra field
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", cars_file(tmp_path, text),
                           "--skip-invalid")
    assert status == 0, err
    expected = [round(q.price) for q in CarPriceModel.load(car_model_path).price([38000, 150000], ["Diesel", "petrol"], [3, 10])]
    assert out.splitlines() == ["km,fuel,age,price_eur", f"38000,Diesel,3,{expected[0]}", f"150000,petrol,10,{expected[1]}"]
    reports = err.splitlines()
    assert [line.split(": ")[1].split(":")[1] for line in reports[:-1]] == ["3", "5", "6", "7", "8"]
    assert all(line.startswith(f"autotensor predict: skipped {tmp_path}/cars.csv:") for line in reports[:-1])
    assert "no value for column 3 ('km')" in reports[0] and "negative value: '-1'" in reports[1]
    assert "unknown fuel 'LPG'" in reports[2] and "cannot price this car: age 60 is beyond" in reports[3]
    assert "extra field in column 5: 'g'" in reports[4]
    assert reports[-1] == f"autotensor predict: priced 2 cars of {tmp_path}/cars.csv, skipped 5 invalid rows"


def test_prices_are_printed_beside_the_km_and_age_exactly_as_given(capsys, car_model_path, tmp_path):
    path = cars_file(tmp_path, "km,fuel,age\n123456.5,diesel,2.25\n")
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", path)
    assert status == 0, err
    assert out.splitlines()[1].startswith("123456.5,diesel,2.25,")


def test_skip_invalid_with_no_valid_row_fails(capsys, car_model_path, tmp_path):
    path = cars_file(tmp_path, "km,fuel,age\n-1,diesel,3\n38000,diesel,99\n")
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--csv", path, "--skip-invalid")
    assert (status, out) == (1, "")
    assert_one_line_error(err, f"{path}: none of its 2 rows can be priced; the first: {path}:2: column 'km'")


def test_skip_invalid_needs_a_csv(capsys, car_model_path):
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--km", 1, "--fuel", "diesel", "--age", 1,
                           "--skip-invalid")
    assert (status, out) == (2, "")
    assert_one_line_error(err, "--skip-invalid only applies with --csv")


# ---------------------------------------------------------------------- the domain
def test_a_car_the_network_would_price_below_zero_is_refused_not_priced(capsys, car_model_path):
    model = CarPriceModel.load(car_model_path)
    assert model.predict(300_000, "diesel", 20)[0] < 0  # inside the input ranges, yet no price
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--km", 300000, "--fuel", "diesel", "--age", 20)
    assert (status, out) == (2, "")
    assert_one_line_error(err, "cannot price this car: the network's price, -", "is outside the training prices",
                          "(this model prices km 0 to 830,000, age 0 to 21 years, prices 1,300 to 85,000 EUR)")


def test_the_issues_far_car_is_refused(capsys, car_model_path):
    status, out, err = run(capsys, "predict", "--model", car_model_path, "--km", 3_800_000, "--fuel", "diesel",
                           "--age", 60)
    assert (status, out) == (2, "")
    assert_one_line_error(err, "cannot price this car: km 3,800,000 is beyond the training cars (at most 830,000 km)")


# ---------------------------------------------------------------------- damaged model files
def test_wrongly_typed_car_metadata_is_a_clear_error_not_an_internal_one(capsys, car_model_path, tmp_path):
    path = resaved(car_model_path, tmp_path, input_ranges={"km": "lots", "age": [0, 21]})
    status, out, err = run(capsys, "predict", "--model", path, "--km", 38000, "--fuel", "diesel", "--age", 3)
    assert (status, out) == (1, "")
    assert_one_line_error(err, f"{path}: the car metadata input_ranges['km'] must be [min, max]")
    assert "internal error" not in err


def test_huge_normaliser_statistics_never_print_an_infinite_price(capsys, car_model_path, tmp_path):
    stats = nn.load(car_model_path).metadata["normalizer"] | {"price_max": 1e308}
    path = resaved(car_model_path, tmp_path, normalizer=stats)
    status, out, err = run(capsys, "predict", "--model", path, "--km", 38000, "--fuel", "diesel", "--age", 3)
    assert (status, out) == (1, "")
    assert_one_line_error(err, f"{path}: damaged normaliser statistics: Normalizer statistic 'price_max' is 1e+308")


def test_a_network_that_overflows_never_prints_an_infinite_price(capsys, car_model_path, tmp_path):
    overflowing = nn.MLP([3, 1], output_activation="identity")
    for parameter in overflowing.parameters():
        parameter.data[...] = 1e308
    path = resaved(car_model_path, tmp_path, model=overflowing)
    status, out, err = run(capsys, "predict", "--model", path, "--km", 38000, "--fuel", "diesel", "--age", 3)
    assert (status, out) == (1, "")
    assert_one_line_error(err, f"{path}: the network gives no finite price")
