"""Functional transforms (vjp, jvp, jacobian, hessian, hvp) against central finite differences and
against PyTorch's ``torch.func`` / ``torch.autograd.functional`` when it is installed: a
non-square jacobian, tuple inputs and outputs, 0-d values and broadcasting; ``create_graph``
results differentiated again (checked by ``at.gradcheck``)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import autotensor as at

try:
    import torch
except ImportError:  # the finite-difference checks still run
    torch = None

# torch.func's import warns about torch.jit.script
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
RNG = np.random.default_rng(11)
W = RNG.uniform(-1.0, 1.0, size=(2, 3))
TOLERANCE = {"rtol": 1e-6, "atol": 1e-8}  # against central differences
EXACT = {"rtol": 1e-10, "atol": 1e-12}    # against PyTorch (the same float64 formulas)


@dataclass(frozen=True)
class Case:
    name: str
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    inputs: tuple[np.ndarray, ...]
    several_inputs: bool = False

    @property
    def argument(self) -> Any:
        """The inputs as jacobian/hessian/hvp take them: a tuple for several, else the one."""
        return self.inputs if self.several_inputs else self.inputs[0]


def _texp(t: Any) -> Any:
    return t.exp()


CASES = [
    Case("R^3 -> R^2, non-square", lambda x: (at.Tensor(W) @ x).tanh(),
         lambda x: (torch.tensor(W) @ x).tanh(), (RNG.uniform(-1, 1, size=3),)),
    Case("two inputs, broadcast 2x3 * 3", lambda x, y: (x * y).sum(axis=1).exp(),
         lambda x, y: (x * y).sum(dim=1).exp(), (RNG.uniform(-1, 1, size=(2, 3)), RNG.uniform(-1, 1, size=3)), True),
    Case("two outputs, one 0-d", lambda x: (x.exp(), (x ** 2).sum()),
         lambda x: (x.exp(), (x ** 2).sum()), (RNG.uniform(-1, 1, size=(2, 2)),)),
    Case("0-d -> 0-d", lambda x: 2.0 * x ** 3, lambda x: 2.0 * x ** 3, (np.array(0.7),)),
    Case("broadcast 3x1 . 4 -> 3x4, two outputs", lambda x, y: ((x * y + x).tanh(), x.sigmoid()),
         lambda x, y: ((x * y + x).tanh(), x.sigmoid()),
         (RNG.uniform(-1, 1, size=(3, 1)), RNG.uniform(-1, 1, size=4)), True),
]
SCALAR_CASES = [
    Case("logsumexp + squares", lambda x: x.logsumexp() + 0.1 * (x ** 2).sum(),
         lambda x: torch.logsumexp(x, 0) + 0.1 * (x ** 2).sum(), (RNG.uniform(-1, 1, size=4),)),
    Case("0-d cube", lambda x: 2.0 * x ** 3, lambda x: 2.0 * x ** 3, (np.array(-0.4),)),
    Case("two inputs, outer products", lambda x, y: ((x.reshape(2, 1) * y) ** 2).sum() + x.sum() * y.tanh().sum(),
         lambda x, y: ((x.reshape(2, 1) * y) ** 2).sum() + x.sum() * y.tanh().sum(),
         (RNG.uniform(-1, 1, size=2), RNG.uniform(-1, 1, size=3)), True),
    Case("softmax entropy, 1x3 output", lambda x: (x.softmax() * x.log_softmax()).sum(axis=1),
         lambda x: (torch.softmax(x, 1) * torch.log_softmax(x, 1)).sum(dim=1), (RNG.uniform(-1, 1, size=(1, 3)),)),
]


# ---------------------------------------------------------------- references
def _outputs(fn: Callable[..., Any], arrays: list[np.ndarray]) -> list[np.ndarray]:
    with at.no_grad():
        result = fn(*[at.Tensor(x) for x in arrays])
    return [r.data for r in (result if isinstance(result, tuple) else (result,))]


def numeric_jacobian(fn: Callable[..., Any], inputs: tuple[np.ndarray, ...], eps: float = 1e-6) -> list[list[np.ndarray]]:
    """J[i][j] = d output i / d input j by central differences, shape out_i.shape + in_j.shape."""
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    outputs = _outputs(fn, arrays)
    blocks = [[np.zeros(out.shape + x.shape) for x in arrays] for out in outputs]
    for j, x in enumerate(arrays):
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = _outputs(fn, arrays)
            x[index] = original - eps
            minus = _outputs(fn, arrays)
            x[index] = original
            for i in range(len(outputs)):
                blocks[i][j][(...,) + index] = (plus[i] - minus[i]) / (2 * eps)
    return blocks


def arrays_of(value: Any) -> Any:
    """Tensors (ours or PyTorch's) as ndarrays, tuples kept."""
    if isinstance(value, (tuple, list)):
        return tuple(arrays_of(item) for item in value)
    if isinstance(value, at.Tensor):
        return value.data
    return value.detach().numpy()


def assert_same(ours: Any, expected: Any, tolerance: dict[str, float]) -> None:
    if isinstance(expected, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(expected)
        for mine, theirs in zip(ours, expected):
            assert_same(mine, theirs, tolerance)
        return
    assert ours.shape == np.shape(expected)
    np.testing.assert_allclose(ours, expected, **tolerance)


def shaped_like_ours(case: Case, blocks: list[list[np.ndarray]], several_outputs: bool) -> Any:
    rows = [tuple(row) if case.several_inputs else row[0] for row in blocks]
    return tuple(rows) if several_outputs else rows[0]


def _torch_inputs(case: Case) -> tuple[Any, ...]:
    return tuple(torch.tensor(x) for x in case.inputs)


def _random_like(value: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    if isinstance(value, tuple):
        return tuple(_random_like(item, seed + k) for k, item in enumerate(value))
    return rng.standard_normal(np.shape(value))


needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
ids = [case.name for case in CASES]
scalar_ids = [case.name for case in SCALAR_CASES]


# ---------------------------------------------------------------- jacobian
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_jacobian_matches_finite_differences_in_torchs_layout(case: Case) -> None:
    ours = arrays_of(at.jacobian(case.ours, case.argument))
    several_outputs = isinstance(case.ours(*[at.Tensor(x) for x in case.inputs]), tuple)
    assert_same(ours, shaped_like_ours(case, numeric_jacobian(case.ours, case.inputs), several_outputs), TOLERANCE)


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_jacobian_agrees_with_torch(case: Case) -> None:
    theirs = torch.autograd.functional.jacobian(case.theirs, _torch_inputs(case) if case.several_inputs
                                                else torch.tensor(case.inputs[0]))
    assert_same(arrays_of(at.jacobian(case.ours, case.argument)), arrays_of(theirs), EXACT)


# ---------------------------------------------------------------- vjp and jvp
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_vjp_gives_the_outputs_and_the_transposed_jacobian_times_cotangents(case: Case) -> None:
    outputs, vjp_fn = at.vjp(case.ours, *case.inputs)
    several_outputs = isinstance(outputs, tuple)
    expected_outputs = _outputs(case.ours, list(case.inputs))
    assert_same(arrays_of(outputs), tuple(expected_outputs) if several_outputs else expected_outputs[0], EXACT)
    cotangents = _random_like(arrays_of(outputs), seed=1)
    blocks = numeric_jacobian(case.ours, case.inputs)
    listed = cotangents if several_outputs else (cotangents,)
    expected = tuple(sum(np.tensordot(u, blocks[i][j], axes=u.ndim) for i, u in enumerate(listed))
                     for j in range(len(case.inputs)))
    pulled = vjp_fn(cotangents)
    assert_same(arrays_of(pulled), expected, TOLERANCE)
    assert_same(arrays_of(vjp_fn(cotangents)), arrays_of(pulled), EXACT)  # callable again


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_jvp_gives_the_jacobian_times_tangents(case: Case) -> None:
    tangents = _random_like(case.inputs, seed=2)
    outputs, pushed = at.jvp(case.ours, case.inputs, tangents)
    blocks = numeric_jacobian(case.ours, case.inputs)
    expected = tuple(sum(np.tensordot(block, v, axes=v.ndim) for block, v in zip(row, tangents)) for row in blocks)
    several_outputs = isinstance(outputs, tuple)
    assert_same(arrays_of(pushed), expected if several_outputs else expected[0], TOLERANCE)


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=ids)
def test_vjp_and_jvp_agree_with_torch_func(case: Case) -> None:
    outputs, vjp_fn = at.vjp(case.ours, *case.inputs)
    their_outputs, their_vjp_fn = torch.func.vjp(case.theirs, *_torch_inputs(case))
    assert_same(arrays_of(outputs), arrays_of(their_outputs), EXACT)
    cotangents = _random_like(arrays_of(outputs), seed=3)
    their_cotangents = (tuple(torch.tensor(c) for c in cotangents) if isinstance(cotangents, tuple)
                        else torch.tensor(cotangents))
    assert_same(arrays_of(vjp_fn(cotangents)), arrays_of(their_vjp_fn(their_cotangents)), EXACT)
    tangents = _random_like(case.inputs, seed=4)
    _, pushed = at.jvp(case.ours, case.inputs, tangents)
    _, their_pushed = torch.func.jvp(case.theirs, _torch_inputs(case), tuple(torch.tensor(v) for v in tangents))
    assert_same(arrays_of(pushed), arrays_of(their_pushed), EXACT)


# ---------------------------------------------------------------- hessian and hvp
def _numeric_hessian(case: Case) -> Any:
    """The jacobian, by central differences, of the analytic gradient (checked above)."""
    def gradient(*xs: at.Tensor) -> Any:
        with at.enable_grad():
            leaves = [at.Tensor(x.data, requires_grad=True) for x in xs]
            return at.grad(case.ours(*leaves).sum(), leaves)

    blocks = numeric_jacobian(gradient, case.inputs)
    return shaped_like_ours(case, blocks, several_outputs=case.several_inputs)


@pytest.mark.parametrize("case", SCALAR_CASES, ids=scalar_ids)
def test_the_hessian_matches_finite_differences_of_the_gradient(case: Case) -> None:
    assert_same(arrays_of(at.hessian(case.ours, case.argument)), _numeric_hessian(case), TOLERANCE)


@pytest.mark.parametrize("case", SCALAR_CASES, ids=scalar_ids)
def test_hvp_is_the_hessian_times_v_and_gives_the_value(case: Case) -> None:
    vectors = _random_like(case.inputs, seed=5)
    value, product = at.hvp(case.ours, case.argument, vectors if case.several_inputs else vectors[0])
    np.testing.assert_allclose(value.data, _outputs(case.ours, list(case.inputs))[0], **EXACT)
    blocks = arrays_of(at.hessian(case.ours, case.argument))
    blocks = blocks if case.several_inputs else ((blocks,),)
    expected = tuple(sum(np.tensordot(block, v, axes=v.ndim) for block, v in zip(row, vectors)) for row in blocks)
    assert_same(arrays_of(product), expected if case.several_inputs else expected[0], EXACT)


@needs_torch
@pytest.mark.parametrize("case", SCALAR_CASES, ids=scalar_ids)
def test_hessian_and_hvp_agree_with_torch(case: Case) -> None:
    argument = _torch_inputs(case) if case.several_inputs else torch.tensor(case.inputs[0])
    theirs = torch.autograd.functional.hessian(lambda *xs: case.theirs(*xs).sum(), argument)
    assert_same(arrays_of(at.hessian(case.ours, case.argument)), arrays_of(theirs), EXACT)
    vectors = _random_like(case.inputs, seed=6)
    their_vectors = tuple(torch.tensor(v) for v in vectors) if case.several_inputs else torch.tensor(vectors[0])
    their_value, their_product = torch.autograd.functional.hvp(case.theirs, argument, their_vectors)
    value, product = at.hvp(case.ours, case.argument, vectors if case.several_inputs else vectors[0])
    assert_same(arrays_of(value), arrays_of(their_value), EXACT)
    assert_same(arrays_of(product), arrays_of(their_product), EXACT)


# ---------------------------------------------------------------- create_graph
F = CASES[0].ours
G = SCALAR_CASES[0].ours
X = CASES[0].inputs[0]
U = np.array([0.8, -1.3])
V = np.array([0.5, 1.0, -2.0])
V4 = np.array([1.0, -0.5, 0.25, 2.0])

DIFFERENTIATED_AGAIN = {
    "vjp": lambda x: at.vjp(F, x, create_graph=True)[1](U)[0],
    "jvp": lambda x: at.jvp(F, (x,), (V,), create_graph=True)[1],
    "jacobian": lambda x: at.jacobian(F, x, create_graph=True),
    "hessian": lambda x: at.hessian(G, x, create_graph=True),
    "hvp": lambda x: at.hvp(G, x, V4, create_graph=True)[1],
}
POINTS = {"vjp": X, "jvp": X, "jacobian": X, "hessian": SCALAR_CASES[0].inputs[0], "hvp": SCALAR_CASES[0].inputs[0]}


@pytest.mark.parametrize("transform", DIFFERENTIATED_AGAIN, ids=list(DIFFERENTIATED_AGAIN))
def test_create_graph_results_can_be_differentiated_again(transform: str) -> None:
    function = DIFFERENTIATED_AGAIN[transform]
    x = at.Tensor(POINTS[transform].copy(), requires_grad=True)
    result = function(x)
    assert result.requires_grad and result.op_name is not None
    assert at.gradcheck(function, [POINTS[transform]]), transform


def test_without_create_graph_results_are_constants_and_inputs_are_left_alone() -> None:
    x = at.Tensor(X.copy(), requires_grad=True)
    outputs, vjp_fn = at.vjp(F, x)
    results = [outputs, *vjp_fn(U), *at.jvp(F, (x,), (V,)), at.jacobian(F, x), at.hessian(G, at.Tensor(V4)),
               *at.hvp(G, V4, V4)]
    assert all(isinstance(r, at.Tensor) and not r.requires_grad for r in results)
    assert x.grad is None and x.version == 0


def test_transforms_record_under_no_grad_and_take_arrays_numbers_and_tensors() -> None:
    with at.no_grad():
        from_tensor = at.jacobian(F, at.Tensor(X))
    np.testing.assert_array_equal(at.jacobian(F, X).data, from_tensor.data)
    np.testing.assert_array_equal(at.jacobian(F, list(X)).data, from_tensor.data)  # a list is one input's data
    assert at.hessian(lambda x: x ** 3, 2.0).item() == pytest.approx(12.0)
    value, derivative = at.jvp(lambda x: x * x, 3.0, 1.0)
    assert (value.item(), derivative.item()) == (9.0, 6.0)


def test_inputs_the_outputs_do_not_depend_on_get_zeros() -> None:
    jacobians = at.jacobian(lambda x, y: x * 2.0, (np.ones(2), np.ones(3)))
    np.testing.assert_array_equal(jacobians[0].data, 2.0 * np.eye(2))
    np.testing.assert_array_equal(jacobians[1].data, np.zeros((2, 3)))
    assert at.jacobian(lambda x: np.ones(4), np.ones(2)).data.tolist() == np.zeros((4, 2)).tolist()
    _, pushed = at.jvp(lambda x, y: (y * 3.0, at.Tensor(1.0)), (np.ones(2), np.ones(2)), (np.ones(2), np.ones(2)))
    assert pushed[0].tolist() == [3.0, 3.0] and pushed[1].tolist() == 0.0
    value, product = at.hvp(lambda x, y: (x * 2.0).sum(), (np.ones(2), np.ones(3)), (np.ones(2), np.ones(3)))
    assert value.item() == 4.0 and product[0].tolist() == [0.0, 0.0] and product[1].tolist() == [0.0] * 3


@pytest.mark.parametrize("call, error, message", [
    (lambda: at.jvp(F, (X,), (np.ones(2),)), at.ShapeError, r"jvp: tangent 0 has shape \(2,\), its primal has shape \(3,\)"),
    (lambda: at.jvp(F, (X, X), (X,)), at.ArgumentError, r"jvp: 2 primal\(s\) but 1 tangent\(s\)"),
    (lambda: at.vjp(F, X)[1](np.ones(3)), at.ShapeError, r"vjp: the vector for output 0 has shape \(3,\)"),
    (lambda: at.vjp(lambda x: (x, x), X)[1](np.ones(3)), at.ArgumentError, r"2 output\(s\), vjp_fn got 1"),
    (lambda: at.hessian(F, X), at.ShapeError, "hessian: fn must return a single value"),
    (lambda: at.hvp(G, V4, np.ones(3)), at.ShapeError, r"hvp: v 0 has shape \(3,\)"),
    (lambda: at.jacobian(lambda x: "x", X), at.DTypeError, "jacobian: fn must return a Tensor"),
    (lambda: at.jacobian("fn", X), at.DTypeError, "jacobian: fn must be a function"),
    (lambda: at.jacobian(F, np.arange(3)), at.DTypeError, "jacobian: input 0 has dtype int64"),
    (lambda: at.jacobian(F, ()), at.ArgumentError, "jacobian: needs at least one input"),
], ids=["tangent shape", "tangent count", "cotangent shape", "cotangent count", "hessian of a vector",
        "hvp vector shape", "not a tensor", "not a function", "integer input", "no input"])
def test_bad_arguments_are_refused_by_name(call: Callable[[], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()
