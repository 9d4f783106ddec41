"""Robustness of the nn library: bounded memory in training, in-place optimiser steps."""
import tracemalloc

import numpy as np
import pytest

import autotensor as at
import nn
from nn.carprice import Normalizer, load_car_data


def test_two_thousand_training_steps_do_not_grow_memory(car_csv_path):
    # The car MLP trained full-batch on the real listings.  (Python's own free lists for small
    # tuples fill up during the first ~2,000 steps -- about 70 kB, then flat -- which is why the
    # comparison is on the real workload, where a leak of one array per step would show at once.)
    table, _ = load_car_data(car_csv_path)
    X, y = Normalizer().fit(table).transform_table(table)
    model = nn.MLP([3, 3, 2, 1], "tanh", "tanh", seed=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        nn.mse(model(X), y).backward()
        optimizer.step()

    tracemalloc.start()
    try:
        peaks = {}
        for number in range(1, 2001):
            if number in (101, 1901):
                tracemalloc.reset_peak()
            step()
            if number in (200, 2000):
                peaks[number] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peaks[2000] <= peaks[200] * 1.05, peaks


def test_optimiser_steps_are_in_place_edits_the_version_counter_sees():
    model = nn.MLP([2, 3, 1], "tanh", seed=1)
    W = model.parameters()[0]
    data_before = W.data
    loss = nn.mse(model(np.ones((4, 2))), np.zeros((4, 1)))
    loss.backward(retain_graph=True)
    version = W.version
    nn.optim.SGD(model.parameters(), lr=0.1).step()
    assert W.data is data_before and W.version == version + 1  # edited in place, under no_grad
    with pytest.raises(at.GraphError, match=r"linear needs its input 1 of shape \(3, 1\), which was modified"):
        loss.backward()  # the graph saw the weights before the step
    model.zero_grad()
    nn.mse(model(np.ones((4, 2))), np.zeros((4, 1))).backward()  # a fresh forward pass works
    assert W.grad is not None
