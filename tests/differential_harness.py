"""Running one drawn call through autotensor and PyTorch, and comparing what they compute.

The machinery of tests/test_differential.py, whose table says, per op, what to draw and what
torch computes.  ``check_call`` runs a call in float64 or float32 and compares the value and
its dtype, the gradients for a random upstream gradient (by ``backward()`` and by
``at.grad(create_graph=True)``) and their dtype, and the Hessian-vector products; NaN and inf
must sit in the same places, finite numbers agree up to rounding.  A call torch refuses must
be refused by autotensor with its own error.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

import autotensor as at
from tests import differential_strategies as ds
from autotensor.registry import REGISTRY

torch = pytest.importorskip("torch")

DTYPES = {"float64": np.float64, "float32": np.float32}

RTOL = {np.float64: 1e-10, np.float32: 1e-5}
"""Relative agreement of two correct implementations: far above rounding (eps = 2.2e-16 and
1.2e-7), far below the size of a wrong rule's error."""

ELEMENTWISE_EXAMPLES, STRUCTURED_EXAMPLES = 50, 80
"""Calls drawn per op and dtype: an elementwise op has only a shape and values to vary, the
others also axes, indices, bounds and shapes; the whole file runs within a minute under CI=true."""


@dataclass(frozen=True)
class Entry:
    """How the differential test calls one op, and what PyTorch computes for the same call.

    ``calls`` draws the call; its ``inputs`` are differentiated, its ``params`` are passed as
    keywords to both ``torch`` (the reference) and the registered function, which is called as
    ``function(*inputs, **params)`` unless ``call(function, *inputs, **params)`` says otherwise.
    ``majorant`` is given for ops that add up products (sums, matmul, the broadcast gradients
    of mul and div), where a result may cancel to almost nothing: a torch computation with the
    same terms, all of them positive on positive inputs (see ``rounding_scales``).
    Hessian-vector products are compared unless ``second_order`` is False, or false for the
    drawn call: where torch's second derivative is neither the mathematical one nor a
    convention of its own (pow at 0, see ``tests/test_differential.py``).
    """

    calls: st.SearchStrategy[ds.Call]
    torch: Callable[..., Any]
    call: Callable[..., Any] | None = None
    majorant: Callable[..., Any] | None = None
    second_order: bool | Callable[[ds.Call], bool] = True
    examples: int = STRUCTURED_EXAMPLES

    def compares_hvps(self, call: ds.Call) -> bool:
        return self.second_order(call) if callable(self.second_order) else self.second_order


@dataclass(frozen=True)
class NotCompared:
    """An op deliberately left out of the differential test, and why."""

    reason: str


# ---------------------------------------------------------------- running one call
@dataclass
class Outcome:
    """What one library computed for a call (as ndarrays), and the dtypes it computed them in."""

    value: np.ndarray
    grads: list[np.ndarray]
    hvps: list[np.ndarray] | None
    value_dtype: np.dtype
    grad_dtypes: list[np.dtype]


TORCH_REFUSALS = (RuntimeError, IndexError, ValueError, TypeError)


def _noise(seed: int, shape: Sequence[int], dtype: Any) -> np.ndarray:
    """The random upstream gradient u (and the vectors v), the same for both libraries."""
    return np.asarray(np.random.default_rng(seed).standard_normal(tuple(shape)), dtype=dtype)


def _numpy(t: Any, like: np.ndarray) -> np.ndarray:
    """A torch gradient as an ndarray; an unused input's missing gradient as zeros."""
    return np.zeros_like(like) if t is None else t.detach().numpy(force=True)  # force: zero tensors too


def torch_forward(entry: Entry, call: ds.Call, magnitudes: bool = False) -> tuple[list[Any], Any]:
    """The reference's leaves and value (raises when torch does not define the call); with
    ``magnitudes``, the entry's majorant on |inputs| instead (see ``rounding_scales``)."""
    xs = [torch.tensor(np.abs(x) if magnitudes else x, requires_grad=True) for x in call.inputs]
    reference = entry.majorant if magnitudes else entry.torch
    return xs, reference(*xs, **call.params)


def run_torch(entry: Entry, call: ds.Call, seed: int, magnitudes: bool = False) -> Outcome:
    """The reference's value, gradients and HVPs (with ``magnitudes``, the majorant's, for
    |inputs|, |u| and |v|)."""
    xs, out = torch_forward(entry, call, magnitudes)
    arrays = [x.detach().numpy() for x in xs]
    u = _noise(seed, out.shape, arrays[0].dtype)
    grads = torch.autograd.grad(out, xs, torch.from_numpy(np.abs(u, out=u) if magnitudes else u),
                                create_graph=entry.compares_hvps(call), allow_unused=True)
    hvps = None
    if entry.compares_hvps(call):
        vectors = [_noise(seed + 1 + k, x.shape, x.dtype) for k, x in enumerate(arrays)]
        live = [(g, torch.from_numpy(np.abs(v, out=v) if magnitudes else v))
                for g, v in zip(grads, vectors) if g is not None and g.requires_grad]
        second = (torch.autograd.grad([g for g, _ in live], xs, [v for _, v in live], allow_unused=True)
                  if live else [None] * len(xs))
        hvps = [_numpy(h, x) for h, x in zip(second, arrays)]
    value = out.detach().numpy()
    return Outcome(value, [_numpy(g, x) for g, x in zip(grads, arrays)], hvps, value.dtype,
                   [g.dtype for g in grads if g is not None])


def _call_ours(name: str, entry: Entry, leaves: list[at.Tensor], params: dict[str, Any]) -> at.Tensor:
    """The registered function, called as the entry says."""
    function = REGISTRY[name].function
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "mean of empty slice"
        if entry.call is not None:
            return entry.call(function, *leaves, **params)
        return function(*leaves, **params)


def run_ours(name: str, entry: Entry, call: ds.Call, seed: int) -> tuple[Outcome, Outcome | None]:
    """autotensor's answer through backward() and, recorded, through at.grad(create_graph=True)."""
    leaves = [at.Tensor(x.copy(), requires_grad=True) for x in call.inputs]
    out = _call_ours(name, entry, leaves, call.params)
    u = _noise(seed, out.shape, call.inputs[0].dtype)
    with np.errstate(all="ignore"):
        out.backward(u)
    plain = Outcome(np.asarray(out.data), [_grad(t) for t in leaves], None, out.dtype,
                    [t.grad.dtype for t in leaves if t.grad is not None])
    _assert_inputs_untouched(leaves, call)
    if not entry.compares_hvps(call):
        return plain, None

    leaves = [at.Tensor(x.copy(), requires_grad=True) for x in call.inputs]
    out = _call_ours(name, entry, leaves, call.params)
    with np.errstate(all="ignore"):
        grads = at.grad(out, leaves, grad_outputs=u, create_graph=True, allow_unused=True)
        vectors = [_noise(seed + 1 + k, x.shape, x.dtype) for k, x in enumerate(call.inputs)]
        live = [(g, v) for g, v in zip(grads, vectors) if g is not None and g.requires_grad]
        second = (at.grad([g for g, _ in live], leaves, grad_outputs=[v for _, v in live], allow_unused=True)
                  if live else [None] * len(leaves))
    recorded = Outcome(
        np.asarray(out.data),
        [np.zeros_like(x) if g is None else np.asarray(g.data) for g, x in zip(grads, call.inputs)],
        [np.zeros_like(x) if h is None else np.asarray(h.data) for h, x in zip(second, call.inputs)],
        out.dtype,
        [g.dtype for g in grads if g is not None],
    )
    _assert_inputs_untouched(leaves, call)
    return plain, recorded


def _grad(t: at.Tensor) -> np.ndarray:
    return np.zeros_like(t.data) if t.grad is None else np.asarray(t.grad.data)


def _assert_inputs_untouched(leaves: list[at.Tensor], call: ds.Call) -> None:
    for k, (leaf, x) in enumerate(zip(leaves, call.inputs)):
        assert np.array_equal(leaf.data, x, equal_nan=True), f"input {k} was modified by the op or its backward"


# ---------------------------------------------------------------- comparing
@dataclass
class Scales:
    """For each compared array, the magnitude its rounding errors are measured against."""

    value: Any
    grads: list[Any]
    hvps: list[Any]


def rounding_scales(entry: Entry, call: ds.Call, seed: int, theirs: Outcome) -> Scales:
    """How large rounding errors may be, per compared array.

    For an op with a majorant, the majorant on |inputs|, |u| and |v| (elementwise): a sum of
    terms can cancel to almost nothing, but it is only as exact as its terms are large.  (The op
    itself serves for sums and products; not for div, whose derivatives change sign.)
    Otherwise the largest finite number compared, plus for gradients max|u| (and for HVPs
    max|u| max|v|): a derivative such as 1 - tanh(x)^2 is computed to within eps of 1, so near
    saturation its error is relative to u, not to the tiny result."""
    if entry.majorant is not None:
        on_magnitudes = run_torch(entry, call, seed, magnitudes=True)
        return Scales(np.abs(on_magnitudes.value), [np.abs(g) for g in on_magnitudes.grads],
                      [np.abs(h) for h in on_magnitudes.hvps or []])
    dtype = call.inputs[0].dtype
    u = _largest_finite(_noise(seed, theirs.value.shape, dtype))
    v = _largest_finite(*[_noise(seed + 1 + k, x.shape, dtype) for k, x in enumerate(call.inputs)])
    return Scales(_largest_finite(theirs.value), [_largest_finite(g) + u for g in theirs.grads],
                  [_largest_finite(h) + u * v for h in theirs.hvps or []])


def _largest_finite(*arrays: np.ndarray) -> float:
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    return float(max((f.max() for f in finite if f.size), default=0.0))


def assert_agree(what: str, ours: np.ndarray, theirs: np.ndarray, rtol: float, scale: Any) -> None:
    """``ours`` is ``theirs`` up to rounding: NaN, +inf and -inf in the same places, and finite
    values within ``rtol`` of each other or of ``scale`` (see ``rounding_scales``)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    for name, test in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        differ = test(ours) != test(theirs)
        assert not differ.any(), (
            f"{what}: {name} in different places; at {np.argwhere(differ)[:5].tolist()} autotensor gives "
            f"{ours[differ][:5].tolist()}, torch {theirs[differ][:5].tolist()}"
        )
    atol = rtol * np.broadcast_to(np.asarray(scale, dtype=np.float64), theirs.shape)
    with np.errstate(invalid="ignore"):  # inf - inf where both are inf: checked above
        bad = np.isfinite(theirs) & ~(np.abs(ours - theirs) <= atol + rtol * np.abs(theirs))
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {bad.size} values differ beyond rounding; at "
        f"{np.argwhere(bad)[:5].tolist()} autotensor gives {ours[bad][:5].tolist()}, "
        f"torch {theirs[bad][:5].tolist()}"
    )


def check_call(name: str, entry: Entry, call: ds.Call, dtype: Any, seed: int) -> None:
    """Run ``call`` of op ``name`` (drawn by ``entry``) in ``dtype`` through both libraries and
    compare what they compute: the value and its dtype, the gradients by both paths and their
    dtype, the HVPs."""
    call = ds.Call(tuple(x.astype(dtype) for x in call.inputs), call.params)
    try:
        torch_forward(entry, call)
    except TORCH_REFUSALS:  # not defined (an empty max, an ambiguous -1): autotensor must say so
        with pytest.raises(at.AutotensorError):
            _call_ours(name, entry, [at.Tensor(x.copy(), requires_grad=True) for x in call.inputs], call.params)
        return
    theirs = run_torch(entry, call, seed)
    try:
        plain, recorded = run_ours(name, entry, call, seed)
    except Exception as error:
        raise AssertionError(
            f"{name}: torch computes this call, autotensor raises {type(error).__name__}: {error}"
        ) from error

    assert plain.value_dtype == theirs.value_dtype, (
        f"{name}: output dtype {plain.value_dtype}, torch {theirs.value_dtype}"
    )
    for path, outcome in (("backward()", plain), ("at.grad(create_graph=True)", recorded)):
        assert outcome is None or all(d == dtype for d in outcome.grad_dtypes), (
            f"{name}: {path} gives gradients of dtypes {outcome.grad_dtypes} for inputs of dtype "
            f"{np.dtype(dtype)} (torch: {theirs.grad_dtypes})"
        )
    rtol, scales = RTOL[dtype], rounding_scales(entry, call, seed, theirs)
    assert_agree(f"{name} value", plain.value, theirs.value, rtol, scales.value)
    for path, outcome in (("backward()", plain), ("at.grad(create_graph=True)", recorded)):
        for k, (g, expected) in enumerate(zip(outcome.grads if outcome else [], theirs.grads)):
            assert_agree(f"{name} gradient of input {k} by {path}", g, expected, rtol, scales.grads[k])
    if recorded is not None and theirs.hvps is not None:
        for k, (h, expected) in enumerate(zip(recorded.hvps, theirs.hvps)):
            assert_agree(f"{name} Hessian-vector product, input {k}", h, expected, rtol, scales.hvps[k])
