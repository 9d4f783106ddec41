"""Every registered op passes the finite-difference checker, and no op escapes the registry."""
import numpy as np
import pytest

import autotensor as at
from autotensor import ops
from autotensor.gradcheck import check_op, gradcheck
from autotensor.registry import REGISTRY, Op
from autotensor.tensor import record

CASES = [(op, sample) for op in REGISTRY.values() for sample in op.samples]


def _case_id(case):
    op, sample = case
    return f"{op.name}[{sample.case}]"


@pytest.mark.parametrize("op, sample", CASES, ids=[_case_id(c) for c in CASES])
def test_first_derivative_matches_finite_differences(op, sample):
    result = gradcheck(sample.call, sample.inputs, name=op.name)
    assert result, str(result)


@pytest.mark.parametrize("op, sample", [c for c in CASES if c[1].twice_differentiable],
                         ids=[_case_id(c) for c in CASES if c[1].twice_differentiable])
def test_second_derivative_matches_finite_differences(op, sample):
    result = at.gradgradcheck(sample.call, sample.inputs, name=op.name)
    assert result, str(result)


def test_every_exported_op_is_registered_with_samples():
    exported = set(ops.__all__)
    registered = set(REGISTRY)
    assert exported == registered, (
        f"exported but not registered: {sorted(exported - registered)}; "
        f"registered but not exported: {sorted(registered - exported)}"
    )
    without_samples = [name for name, op in REGISTRY.items() if not op.samples]
    assert not without_samples, f"ops registered without samples: {without_samples}"


def test_every_design_op_is_available_from_the_package():
    design = ("add sub mul div neg pow exp log sqrt abs tanh sigmoid relu leaky_relu softplus maximum "
              "minimum clip where matmul sum mean max min reshape transpose broadcast_to concatenate "
              "stack logsumexp softmax log_softmax").split()
    missing = [name for name in design if name not in REGISTRY or not callable(getattr(at, name, None))]
    assert not missing


def test_primitive_rules_cover_each_input():
    for op in REGISTRY.values():
        if op.composite or op.variadic:
            continue
        arity = len(op.samples[0].inputs)
        assert len(op.vjps) >= arity, f"{op.name} has {len(op.vjps)} rules for {arity} inputs"


def test_at_least_35_cases_are_checked():
    assert len(CASES) >= 35


def _broken_tanh(x):
    """tanh whose rule forgets the upstream gradient: right only when g is all ones."""
    return record(np.tanh(x.data), BROKEN_TANH, (x,))


BROKEN_TANH = Op("broken_tanh", _broken_tanh, vjps=(lambda g, out, x: 1 - out * out,), saves="output")


def test_checker_catches_a_rule_that_forgets_the_upstream_gradient():
    values = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    # With an all-ones upstream gradient the broken rule looks right...
    x = at.Tensor(values, requires_grad=True)
    _broken_tanh(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 - np.tanh(values) ** 2)
    # ...the checker's random upstream gradient exposes it, and says where.
    result = gradcheck(_broken_tanh, [values], name="broken_tanh")
    assert not result
    report = str(result)
    assert "broken_tanh" in report and "FAILED" in report
    assert result.worst_input == 0 and len(result.worst_index) == 2
    assert f"index {result.worst_index}" in report
    assert result.analytic_at_worst != pytest.approx(result.numeric_at_worst, rel=1e-3)


def test_check_op_reports_a_row_per_sample_and_order():
    rows = check_op(REGISTRY["tanh"])
    assert len(rows) == 2 * len(REGISTRY["tanh"].samples)
    assert {row.order for row in rows} == {1, 2}
    assert all(row.result for row in rows)


def test_gradcheck_warns_and_upcasts_float32_inputs():
    x32 = at.Tensor(np.array([0.1, 0.2], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        result = gradcheck(lambda x: x.exp(), [x32])
    assert result and result.max_abs_error < 1e-8


def test_gradcheck_reports_the_documents_metric():
    result = gradcheck(lambda x: (x * x).sum(), [np.array([1.0, -2.0, 3.0])])
    a, n = result.analytic[0], result.numeric[0]
    expected = np.linalg.norm(a - n) / np.linalg.norm(a + n)
    assert result.relative_error == pytest.approx(expected)
    assert result.relative_error < 1e-8
