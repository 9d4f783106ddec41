"""The documents' car-price network (seed-examples.md section 1) and its worked numbers."""

from __future__ import annotations

import numpy as np

from nn.backprop import ManualMLP

GOLD = 1e-9  # absolute tolerance for the documents' numbers

CAR_X = np.array([[1.4, -1.0, 0.4],
                  [0.4, -1.0, 0.1],
                  [5.4, -1.0, 4.0],
                  [1.5, -1.0, 1.0],
                  [1.8, 1.0, 1.0]])
CAR_Y = np.array([[0.45], [0.8], [0.2], [0.5], [0.55]])
CAR_W1 = np.array([[0.01, 0.05, 0.07], [0.2, 0.041, 0.11], [0.04, 0.56, 0.13], [0.1, 0.1, 0.1]])
CAR_W2 = np.array([[0.04, 0.78], [0.4, 0.45], [0.65, 0.23], [0.1, 0.1]])
CAR_W3 = np.array([[0.04], [0.41], [0.1]])

CAR_YHAT = [0.202354302599, 0.144933682554, 0.381054078721, 0.262494787219, 0.368818057375]
CAR_DW3 = [[-0.25659878177], [-0.194693013848], [-1.101723420312]]
CAR_DW2 = [[0.002085199435, 0.025019230188],
           [-0.010520017991, -0.102917746604],
           [-0.003384710992, -0.02930899528],
           [-0.041978638786, -0.433277437121]]
CAR_DW1 = [[-0.171920111136, -0.159054126528, -0.089384580861],
           [0.282307763117, 0.178205075002, 0.109720805588],
           [-0.02621374892, -0.061709318484, -0.029065757421],
           [-0.334320485211, -0.199229199282, -0.128131511565]]


def car_network_row(**kwargs: object) -> ManualMLP:
    return ManualMLP([CAR_W1.copy(), CAR_W2.copy(), CAR_W3.copy()], bias_layout="row", **kwargs)


def car_network_separate(**kwargs: object) -> ManualMLP:
    """The same network with each bias row split off into a bias vector."""
    mats = [CAR_W1, CAR_W2, CAR_W3]
    return ManualMLP([W[:-1].copy() for W in mats], [W[-1].copy() for W in mats], **kwargs)
