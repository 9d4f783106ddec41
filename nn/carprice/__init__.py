"""The car-price application: the documents' network trained on used-car listings.

Its modules, in the order the data flows through them:

* ``csv_rows``   strict CSV reading: UTF-8 text, line numbers, checked amounts;
* ``listings``   read the listings strictly and clean them as the documents do;
* ``download``   fetch the real listings into a user cache, checksum-verified;
* ``synthetic``  a sample drawn from a model fitted to the real listings, when they are absent
  (``python -m nn.carprice.synthetic --fit FILE`` refits that model);
* ``sources``    which of those ``train`` uses, and a sentence saying so;
* ``normalizer`` scale the columns for the network, and prices back to euros;
* ``config``     every setting of a training run;
* ``training``   split, normalise, fit, evaluate;
* ``metrics``    R^2, MAE and RMSE in euros;
* ``model``      a saved model pricing new cars;
* ``domain``     the cars a saved model can price (the ranges of its training cars);
* ``cars_to_price`` a CSV of cars to price, every row checked;
* ``plotting``   loss curves and predicted against actual prices;
* ``loss_graph`` a saved model's loss on a few cars, ready to draw.
"""
from nn.carprice.cars_to_price import CarsToPrice, read_cars_to_price
from nn.carprice.config import DEFAULT_LR, OPTIMIZERS, SCHEDULES, TrainConfig
from nn.carprice.download import CACHE_FILE_NAME, PINNED_SHA256, PINNED_URL, cache_directory, cached_data_path, fetch
from nn.carprice.domain import PricingDomain
from nn.carprice.listings import (
    COLUMNS, FUEL_SPELLINGS, KEPT_FUELS, MIN_PRICE, PLAUSIBLE_MAX, CarTable, CleaningReport, DataError, SkippedRow, clean,
    encode_fuel, fuel_name, load_car_data, read_car_csv,
)
from nn.carprice.loss_graph import model_graph
from nn.carprice.metrics import Metrics, evaluate
from nn.carprice.model import APPLICATION, CarPriceModel, Quote
from nn.carprice.normalizer import Normalizer
from nn.carprice.plotting import plot_formats, plot_training
from nn.carprice.sources import DataSource, choose_data
from nn.carprice.training import MIN_ROWS, SplitError, TrainingError, TrainResult, check_split, train

__all__ = [
    "APPLICATION", "CACHE_FILE_NAME", "COLUMNS", "CarPriceModel", "CarTable", "CarsToPrice", "CleaningReport",
    "DEFAULT_LR", "DataError", "DataSource", "FUEL_SPELLINGS", "KEPT_FUELS", "MIN_PRICE", "MIN_ROWS", "Metrics",
    "Normalizer", "OPTIMIZERS", "PINNED_SHA256", "PINNED_URL", "PLAUSIBLE_MAX", "PricingDomain", "Quote", "SCHEDULES",
    "SkippedRow", "SplitError", "TrainConfig", "TrainResult", "TrainingError", "cache_directory", "cached_data_path",
    "check_split", "choose_data", "clean", "encode_fuel", "evaluate", "fetch", "fuel_name", "load_car_data",
    "model_graph", "plot_formats", "plot_training", "read_car_csv", "read_cars_to_price", "train",
]
