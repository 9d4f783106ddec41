"""Random calls of every registered op agree with PyTorch: values, gradients and HVPs.

For each op in ``autotensor.registry.REGISTRY`` the table ``TABLE`` below says how to draw its
arguments (hypothesis strategies from ``differential_strategies``) and what PyTorch computes for
them.  Each drawn call is run by both libraries, in float64 and in float32, and compared:

* the value, and its dtype;
* the gradient of every input for a *random* upstream gradient ``u``, once through
  ``out.backward(u)`` (the ndarray fast path) and once through
  ``at.grad(out, inputs, u, create_graph=True)`` (the rules run on Tensors);
* the Hessian-vector product, the gradient of ``<grad, v>`` for random ``v``.

NaN and inf (with its sign) must sit in the same places; finite numbers agree up to rounding.
When PyTorch refuses a call, autotensor must refuse it too, with its own error.  The running
and comparing is in ``differential_harness``; this file is the table and the tests.

The reference is PyTorch with its conventions (pow at base 0, ties split evenly, clamp passing
the gradient at its bounds, logsumexp over an empty axis = -inf).  Only where autotensor follows
numpy and torch differs in notation (an empty axis tuple, which axes an index picks) is numpy
asked what the call means; the arithmetic and its derivatives are still torch's.

A new op needs a new entry, usually one line: ``"sin": elementwise(torch.sin)``, or
``"cumsum": Entry(ds.along_axis(), lambda x, axis: torch.cumsum(x, dim=axis))``;
``test_every_registered_op_has_a_differential_entry`` fails until it has one, or an explicit
``NotCompared(reason)``.

Locally hypothesis explores new calls on every run; under CI=true (tests/conftest.py) it replays
a fixed set.  A failure prints the shrunk call and seed, e.g.
``agrees_with_torch(call=Call(inputs=(array(0.), array(0.)), params={}), seed=0)`` for pow.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autotensor as at
from tests import differential_strategies as ds
from tests import differential_windows as dw
from autotensor.registry import REGISTRY

torch = pytest.importorskip("torch")
F = torch.nn.functional

from tests.differential_harness import (  # noqa: E402 - needs torch, which may be missing
    DTYPES, ELEMENTWISE_EXAMPLES, Entry, NotCompared, check_call,
)
from tests import family_references as refs  # noqa: E402
from tests import family_strategies as fs  # noqa: E402


# ---------------------------------------------------------------- references needing a word
def _reduction(torch_reduction: Callable[..., Any]) -> Callable[..., Any]:
    """A torch reduction with numpy's axis conventions: ``None`` is every axis and ``()`` no axis
    at all (torch reads an empty dim list as every axis), so ``()`` and 0-d arrays reduce over a
    new length-1 axis, which leaves every value as it is."""

    def reference(x: Any, axis: ds.Axis, keepdims: bool) -> Any:
        if axis == () or x.ndim == 0:
            return torch_reduction(x.unsqueeze(-1), dim=-1)
        return torch_reduction(x, dim=tuple(range(x.ndim)) if axis is None else axis, keepdim=keepdims)

    return reference


def _positions(shape: ds.Shape, index: Any) -> Any:
    """The flat positions numpy's ``x[index]`` picks, as an int64 tensor of the result's shape.

    numpy defines which elements an index selects (autotensor follows numpy; torch's indexing
    differs in corner cases, e.g. ``x[0, :, [1]]`` puts the axes elsewhere and negative steps
    are refused), so ``getitem`` and ``scatter_add`` are compared with torch's own gather
    (``take``) and scatter (``index_add``) at those positions, and with their derivatives."""
    size = int(np.prod(shape))
    return torch.as_tensor(np.array(np.arange(size).reshape(shape)[index]), dtype=torch.int64)


def _torch_getitem(x: Any, index: Any) -> Any:
    return torch.take(x, _positions(tuple(x.shape), index))


def _torch_scatter_add(g: Any, index: Any, shape: ds.Shape, basic: bool) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index``; repeated positions add up."""
    positions = _positions(shape, index).reshape(-1)
    zeros = torch.zeros(int(np.prod(shape)), dtype=g.dtype)
    return zeros.index_add(0, positions, g.reshape(-1)).reshape(shape)


def _torch_transpose(x: Any, axes: Sequence[int] | None) -> Any:
    return x.permute(tuple(reversed(range(x.ndim))) if axes is None else tuple(axes))


def _torch_linear(x: Any, W: Any, *bias: Any) -> Any:
    product = torch.matmul(x, W)
    return product + bias[0] if bias else product


def _div_majorant(a: Any, b: Any) -> Any:
    """a / (2 b0 - b) at b = b0: the value a / b and every derivative of a / b up to sign
    (d/db gives +a / b^2, d2/db2 +2a / b^3, d2/da db +1 / b^2), all positive for a, b > 0."""
    return a / (2 * b.detach() - b)


# ---------------------------------------------------------------- the table
def elementwise(reference: Callable[..., Any], calls: st.SearchStrategy[ds.Call] | None = None,
                **options: Any) -> Entry:
    """An elementwise op: one array of any shape (unless ``calls`` says otherwise), fewer draws."""
    return Entry(ds.elementwise() if calls is None else calls, reference, examples=ELEMENTWISE_EXAMPLES, **options)


def binary(reference: Callable[..., Any], **options: Any) -> Entry:
    """A binary elementwise op on a broadcast pair."""
    return elementwise(reference, ds.broadcasting(), **options)


CAST_DTYPES = st.fixed_dictionaries({"dtype": st.sampled_from([np.float32, np.float64])})
"""astype between the floating dtypes (to an integer dtype it makes a constant)."""
LEAKY_SLOPES = st.fixed_dictionaries({}, optional={"slope": st.sampled_from([0.01, 0.1, 0.25, 2.0, 0.0, -0.5])})
"""The default slope (no argument), small, large, zero and negative slopes."""

POW_BASES = ds.values(large=(1e3, -1e3, 1e8))
"""Bases: 0, -0, +-1, negative (NaN for fractional exponents, in both libraries) and large."""

POW_EXPONENTS = st.sampled_from((0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, -0.5) * 24 + ds.DYADIC)
"""Exponents: 0, where the gradient is 0 by torch's convention, 1 and 2 (finite at base 0),
negative and fractional ones (infinite at base 0), kept small so that 1e8 ** p stays finite."""


def _pow_hessian_is_torchs_convention(call: ds.Call) -> bool:
    """Whether torch's second derivatives of pow can be the reference for this call: not when a
    base or an exponent is exactly 0.  There torch keeps the first derivatives 0 with masks,
    ``where(p == 0, 0, u p x^(p-1))`` and ``where((x == 0) & (p >= 0), 0, u x^p log x)``, and
    differentiating the masks is not the mathematics: at x = 1, p = 0 torch drops the mixed
    partial d/dp (u p x^(p-1)) = u x^(p-1) (1 + p log x) = u, and at x = 0 the masked branch's
    0 * inf makes every second derivative NaN (at x = 0, p = 2 the true d/dx (u x^p log x) is 0).
    The first derivatives there are compared, as torch defines them."""
    base, exponent = call.inputs
    return not (np.any(base == 0) or np.any(exponent == 0))


def _logaddexp_hessian_is_finite_in_torch(call: ds.Call) -> bool:
    """Whether torch's second derivatives of logaddexp can be the reference: not where a - b is so
    large that e^(a - b) overflows.  torch's rule is g / (1 + e^(b - a)); differentiated, it is
    0 * inf = NaN there, while the mathematical second derivative (autotensor's, from the stable
    sigmoid) is 0.  The first derivatives there are compared."""
    a, b = call.inputs
    with np.errstate(over="ignore", invalid="ignore"):
        difference = np.abs(np.subtract(a, b))
    return bool(np.all(difference < np.log(np.finfo(a.dtype).max)))


TABLE: dict[str, Entry | NotCompared] = {
    # arithmetic: broadcast pairs, values at 0, -0, +-1 and +-1e8 (x / 0 gives inf and NaN)
    "add": binary(torch.add),
    "sub": binary(torch.sub),
    "mul": binary(torch.mul, majorant=torch.mul),
    "div": binary(torch.div, majorant=_div_majorant),
    "neg": elementwise(torch.neg),
    "pow": Entry(ds.broadcasting(POW_BASES, POW_EXPONENTS), torch.pow,
                 second_order=_pow_hessian_is_torchs_convention),
    # functions: overflow at 1e3 and 1e8, the poles and branch points at 0 and below
    "exp": elementwise(torch.exp),
    "log": elementwise(torch.log),
    "sqrt": elementwise(torch.sqrt),
    "abs": elementwise(torch.abs),
    "tanh": elementwise(torch.tanh),
    "sigmoid": elementwise(torch.sigmoid),
    # activations: relu'(0) = abs'(0) = 0 and leaky_relu'(0) = slope, torch's conventions.
    "relu": elementwise(torch.relu),
    "leaky_relu": elementwise(lambda x, slope=0.01: F.leaky_relu(x, slope), ds.elementwise(params=LEAKY_SLOPES)),
    # torch's softplus answers x above x = 20 (off by < 2e-9 relative up to x = 40): the value
    # pools have nothing between 3 and 1000, where both are exact.
    "softplus": elementwise(F.softplus),
    # selections: ties split the gradient evenly; clip passes it at its bounds, like clamp
    "maximum": Entry(ds.broadcasting(ds.TIES, ds.TIES) | ds.broadcasting(), torch.maximum),
    "minimum": Entry(ds.broadcasting(ds.TIES, ds.TIES) | ds.broadcasting(), torch.minimum),
    "clip": Entry(ds.clip_bounds(), lambda x, low, high: torch.clamp(x, min=low, max=high)),
    "where": Entry(ds.where_arguments(), lambda a, b, condition: torch.where(torch.as_tensor(condition), a, b),
                   call=lambda where, a, b, condition: where(condition, a, b)),
    # products: vectors, stacks with broadcast batch axes, zero-size inner and outer sides
    "matmul": Entry(ds.matmul_arguments(), torch.matmul, majorant=torch.matmul),
    "linear": Entry(ds.linear_arguments(), _torch_linear, majorant=_torch_linear),
    # reductions: None, negative and tuple axes (also ()), keepdims, zero-size axes, ties,
    # logits shifted by 1e3 or 1e8
    "sum": Entry(ds.reduction(), _reduction(torch.sum), majorant=_reduction(torch.sum)),
    "mean": Entry(ds.reduction(), _reduction(torch.mean), majorant=_reduction(torch.mean)),
    "max": Entry(ds.extremum_arguments(), _reduction(torch.amax)),
    "min": Entry(ds.extremum_arguments(), _reduction(torch.amin)),
    "logsumexp": Entry(ds.logsumexp_arguments(), _reduction(torch.logsumexp)),
    "softmax": Entry(ds.along_axis(), lambda x, axis: torch.softmax(x, dim=axis)),
    "log_softmax": Entry(ds.along_axis(), lambda x, axis: torch.log_softmax(x, dim=axis)),
    # shapes: -1 in reshape, permutations written with negative axes, size-1 sides stretched (to 0 too)
    "reshape": Entry(ds.reshape_arguments(), lambda x, shape: x.reshape(shape)),
    "transpose": Entry(ds.transpose_arguments(), _torch_transpose),
    "swapaxes": Entry(ds.swapaxes_arguments(), lambda x, axis1, axis2: torch.swapaxes(x, axis1, axis2)),
    "broadcast_to": Entry(ds.broadcast_to_arguments(), lambda x, shape: torch.broadcast_to(x, shape)),
    "clone": elementwise(torch.clone),
    "astype": elementwise(lambda x, dtype: x.to(torch.float32 if dtype is np.float32 else torch.float64),
                          ds.elementwise(params=CAST_DTYPES)),
    # indexing: repeated, negative and empty index lists, masks, negative steps, None, Ellipsis
    "getitem": Entry(ds.getitem_arguments(), _torch_getitem, examples=200),  # the most ways to go wrong
    "scatter_add": Entry(ds.scatter_add_arguments(), _torch_scatter_add),
    # joining: sides of 0 along the axis, 0-d arrays stacked, negative axes
    "concatenate": Entry(ds.joined(stacking=False), lambda *xs, axis: torch.cat(xs, dim=axis),
                         call=lambda concatenate, *xs, axis: concatenate(list(xs), axis=axis)),
    "stack": Entry(ds.joined(stacking=True), lambda *xs, axis: torch.stack(xs, dim=axis),
                   call=lambda stack, *xs, axis: stack(list(xs), axis=axis)),
    # trig and hyperbolic: branch points at +-1 (infinite derivatives), NaN outside the domains
    "sin": elementwise(torch.sin),
    "cos": elementwise(torch.cos),
    "tan": elementwise(torch.tan),
    "arcsin": elementwise(torch.arcsin),
    "arccos": elementwise(torch.arccos),
    "arctan": elementwise(torch.arctan),
    "sinh": elementwise(torch.sinh),
    "cosh": elementwise(torch.cosh),
    "arcsinh": elementwise(torch.arcsinh),
    "arccosh": elementwise(torch.arccosh),
    "arctanh": elementwise(torch.arctanh),
    # exponents: poles at 0 and -1, overflow at 1e3 and 1e8, logaddexp of far-apart operands
    "log1p": elementwise(torch.log1p),
    "expm1": elementwise(torch.expm1),
    "log2": elementwise(torch.log2),
    "log10": elementwise(torch.log10),
    "exp2": elementwise(torch.exp2),
    "logaddexp": binary(torch.logaddexp, second_order=_logaddexp_hessian_is_finite_in_torch),
    # statistics and running products: ddof up to n, zeros in products
    "var": Entry(fs.statistic_arguments(), refs.statistic(torch.var)),
    "std": Entry(fs.statistic_arguments(), refs.statistic(torch.std)),
    "prod": Entry(fs.product_arguments(), refs.prod, majorant=refs.prod),
    "cumsum": Entry(fs.running_arguments(), refs.running(torch.cumsum), majorant=refs.running(torch.cumsum)),
    "cumprod": Entry(fs.running_arguments(fs.MODERATE), refs.running(torch.cumprod),
                     majorant=refs.running(torch.cumprod)),
    # einsum and the products written with it
    "einsum": Entry(fs.einsum_arguments(), refs.einsum, call=refs.call_einsum, majorant=refs.einsum, examples=150),
    "tensordot": Entry(fs.tensordot_arguments(), lambda a, b, axes: torch.tensordot(a, b, axes),
                       majorant=lambda a, b, axes: torch.tensordot(a, b, axes)),
    "outer": Entry(fs.outer_arguments(), lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)),
                   majorant=lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1))),
    "trace": Entry(fs.trace_arguments(), refs.trace, majorant=refs.trace),
    # rearranging
    "squeeze": Entry(fs.squeeze_arguments(), refs.reshaped_as_numpy(np.squeeze)),
    "expand_dims": Entry(fs.expand_dims_arguments(), refs.reshaped_as_numpy(np.expand_dims)),
    "flatten": elementwise(lambda x: x.reshape(-1)),
    "ravel": elementwise(lambda x: x.reshape(-1)),
    "repeat": Entry(fs.repeat_arguments(), refs.repeat),
    "tile": Entry(fs.tile_arguments(), refs.tile),
    "roll": Entry(fs.roll_arguments(), refs.roll),
    "flip": Entry(fs.flip_arguments(), refs.flip),
    # blocks
    "split": Entry(fs.split_arguments(), refs.split, call=refs.call_split),
    "pad": Entry(fs.pad_arguments(), refs.pad, call=refs.call_pad),
    "vstack": Entry(fs.stacked_blocks(vertical=True), refs.stacked(torch.vstack), call=refs.call_stacked),
    "hstack": Entry(fs.stacked_blocks(vertical=False), refs.stacked(torch.hstack), call=refs.call_stacked),
    # windows over images: batches of 0 to 2, kernels bigger than the image (refused by both),
    # strides past it, paddings as ints and pairs; max_pool2d also on ties (the first largest
    # element of a window takes its gradient, PyTorch's rule)
    "conv2d": Entry(dw.conv2d_arguments(), F.conv2d, majorant=F.conv2d),
    "max_pool2d": Entry(dw.pool_arguments(ties=True) | dw.pool_arguments(ties=False), F.max_pool2d),
    "avg_pool2d": Entry(dw.pool_arguments(ties=False), F.avg_pool2d, majorant=F.avg_pool2d),
    "unfold": Entry(dw.unfold_arguments(), F.unfold),
    "fold": Entry(dw.fold_arguments(), F.fold, majorant=F.fold),
}


# ---------------------------------------------------------------- the tests
def library_ops() -> list[str]:
    """The ops autotensor itself registers (an op a user or a test enters with its own forward
    function, e.g. through ``at.custom_op``, is theirs to compare)."""
    return sorted(name for name, op in REGISTRY.items() if op.function.__module__.startswith("autotensor."))


COMPARED = [name for name in library_ops() if isinstance(TABLE.get(name), Entry)]


@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("name", COMPARED)
def test_random_calls_give_torchs_values_gradients_and_hessian_vector_products(name: str, dtype: str) -> None:
    """Each op, in each dtype, on calls drawn by its entry (see the module docstring)."""
    entry = TABLE[name]
    assert isinstance(entry, Entry)

    @settings(max_examples=entry.examples, deadline=None)
    @given(call=entry.calls, seed=st.integers(0, 2**31))
    def agrees_with_torch(call: ds.Call, seed: int) -> None:
        check_call(name, entry, call, DTYPES[dtype], seed)

    agrees_with_torch()


def test_every_registered_op_has_a_differential_entry() -> None:
    """A new op is compared with PyTorch from the day it is registered, or says why not."""
    missing = sorted(set(library_ops()) - set(TABLE))
    assert not missing, (
        f"ops registered without an entry in tests/test_differential.py TABLE: {missing}; add an "
        f"Entry(strategy, torch computation) or NotCompared('reason')"
    )


def test_the_table_names_only_registered_ops() -> None:
    """An entry outliving its op (renamed, removed) would compare nothing: it must go too."""
    stale = sorted(set(TABLE) - set(library_ops()))
    assert not stale, f"TABLE has entries for ops that are not registered: {stale}"


def test_ops_left_out_of_the_comparison_say_why() -> None:
    """A NotCompared entry carries a reason a reader can check, not a bare marker."""
    unexplained = [name for name, entry in TABLE.items()
                   if isinstance(entry, NotCompared) and len(entry.reason.split()) < 4]
    assert not unexplained, f"NotCompared needs a reason of a few words: {unexplained}"


def _data(x: Any) -> Any:
    return x.data if isinstance(x, at.Tensor) else x


def test_the_comparison_catches_a_rule_that_forgets_the_upstream_gradient(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check itself is tested: tanh's rule returning f'(x) instead of u f'(x) fails it."""
    monkeypatch.setattr(REGISTRY["tanh"], "vjps", (lambda g, out, x: 1 - out * out,))
    with pytest.raises(AssertionError, match="tanh gradient of input 0 by backward"):
        check_call("tanh", TABLE["tanh"], ds.Call((np.array([-1.5, 0.25, 2.0]),)), np.float64, seed=0)


def test_the_comparison_catches_another_convention_at_a_kink(monkeypatch: pytest.MonkeyPatch) -> None:
    """relu'(0) taken as 1 instead of torch's 0 fails it: exact zeros are among the values drawn."""
    monkeypatch.setattr(REGISTRY["relu"], "vjps", (lambda g, out, x: g * (_data(x) >= 0),))
    with pytest.raises(AssertionError, match="relu gradient of input 0"):
        check_call("relu", TABLE["relu"], ds.Call((np.array([0.0, 1.0, -1.0]),)), np.float32, seed=0)


def test_the_comparison_catches_a_wrong_second_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule right on arrays but wrong when recorded on Tensors fails the HVP comparison."""
    right = REGISTRY["exp"].vjps[0]
    monkeypatch.setattr(REGISTRY["exp"], "vjps",
                        (lambda g, out, x: right(g, out, x) if isinstance(g, np.ndarray) else g * out.detach(),))
    with pytest.raises(AssertionError, match="exp Hessian-vector product"):
        check_call("exp", TABLE["exp"], ds.Call((np.array([[0.5, -1.0]]),)), np.float64, seed=0)
