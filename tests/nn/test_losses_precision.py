"""Losses in float32 and float16 stay finite where float64 does (issue: BCE clipped with 1e-12,
which rounds to nothing in float32, so p = 1, y = 0 gave an infinite loss and gradient)."""
from __future__ import annotations

import numpy as np
import pytest

import autotensor as at
import nn


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_binary_cross_entropy_of_a_saturated_wrong_prediction_is_finite(dtype: type) -> None:
    p = at.Tensor(np.array([1.0, 0.0, 0.5], dtype=dtype), requires_grad=True)
    y = np.array([0.0, 1.0, 0.5], dtype=dtype)
    loss = nn.binary_cross_entropy(p, y)
    loss.backward()
    assert loss.dtype == dtype and np.isfinite(loss.item())
    assert np.isfinite(p.grad.data).all()
    floor = max(1e-12, float(np.finfo(dtype).eps))
    # p = 0 against y = 1 costs -log(floor), p = 1 against y = 0 costs -log(1 - (1 - floor)) with
    # 1 - floor rounded to the dtype; the middle element costs log 2.
    ceiling = float(dtype(1.0) - dtype(floor))
    expected = (-np.log(floor) - np.log(1.0 - ceiling) + np.log(2.0)) / 3
    np.testing.assert_allclose(loss.item(), expected, rtol=5e-3 if dtype == np.float16 else 1e-6)


def test_binary_cross_entropy_in_float64_keeps_its_documented_bound() -> None:
    loss = nn.binary_cross_entropy(at.Tensor([1.0]), np.array([0.0]))
    np.testing.assert_allclose(loss.item(), 27.63, atol=0.01)
