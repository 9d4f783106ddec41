"""Every registered op compiles: its samples give the same values and gradients eagerly, when
traced and when replayed.  Like the gradient check, it runs over the registry, so an op cannot
be added without compiling (its rules must run on traced values as they run on arrays)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at
from autotensor.registry import REGISTRY, Sample

SAMPLES = [(op.name, sample) for op in REGISTRY.values() for sample in op.samples]


def value_and_gradients(call: Callable[..., Any], upstream: list[np.ndarray]) -> Callable[..., Any]:
    """The function compiled: the op's outputs dotted with fixed upstream gradients, backward."""
    def run(*inputs: at.Tensor) -> tuple[Any, ...]:
        outputs = call(*inputs)
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        total = sum((out * u).sum() for out, u in zip(outputs, upstream))
        total.backward()
        return (total, *[out.detach() for out in outputs])
    return run


def fresh_inputs(sample: Sample) -> list[at.Tensor]:
    return [at.Tensor(x.copy(), requires_grad=True) for x in sample.inputs]


@pytest.mark.parametrize("name, sample", SAMPLES, ids=[f"{name} [{s.case}]" for name, s in SAMPLES])
def test_the_op_gives_the_same_values_and_gradients_compiled(name: str, sample: Sample) -> None:
    with at.no_grad():
        shapes = [np.shape(out) for out in _as_tuple(sample.call(*[at.Tensor(x) for x in sample.inputs]))]
    rng = np.random.default_rng(0)
    upstream = [rng.standard_normal(shape) for shape in shapes]
    eager_inputs = fresh_inputs(sample)
    eager = value_and_gradients(sample.call, upstream)(*eager_inputs)
    compiled = at.compile(value_and_gradients(sample.call, upstream))
    for attempt in ("trace", "replay"):
        inputs = fresh_inputs(sample)
        got = compiled(*inputs)
        for value, expected in zip(got, eager):
            np.testing.assert_allclose(value.data, expected.data, rtol=0, atol=1e-12, err_msg=f"{attempt}: value")
        for x, x_eager in zip(inputs, eager_inputs):
            np.testing.assert_allclose(x.grad.data, x_eager.grad.data, rtol=0, atol=1e-12,
                                       err_msg=f"{attempt}: gradient")
    assert len(compiled.traces) == 1


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)
