"""Finite-difference checks of the analytic gradients: ``gradcheck`` and ``gradgradcheck``.

The analytic side is a vector-Jacobian product with a *random* upstream gradient ``u`` (an
all-ones ``u`` would not notice a rule that forgets to multiply by its upstream gradient).  The
numeric side differentiates the scalar ``sum(u * f(x))`` by central differences,
``(F(x + eps) - F(x - eps)) / (2 eps)``, one input element at a time, in float64.

Besides a pass/fail verdict (``atol + rtol * |numeric|`` per element) the result reports the
background document's metric ``||analytic - numeric|| / ||analytic + numeric||``.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotensor.backward import grad
from autotensor.registry import REGISTRY, Op, Sample
from autotensor.state import no_grad
from autotensor.tensor import Tensor


@dataclass
class GradcheckResult:
    """Outcome of a check; truthy when every element is within tolerance."""

    name: str
    passed: bool
    max_abs_error: float
    max_rel_error: float
    relative_error: float
    worst_input: int | None = None
    worst_index: tuple[int, ...] | None = None
    analytic_at_worst: float = 0.0
    numeric_at_worst: float = 0.0
    analytic: list[np.ndarray] = field(default_factory=list, repr=False)
    numeric: list[np.ndarray] = field(default_factory=list, repr=False)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        text = (
            f"{self.name}: gradient check {verdict}; max abs error {self.max_abs_error:.3g}, "
            f"max rel error {self.max_rel_error:.3g}, ||a-n||/||a+n|| = {self.relative_error:.3g}"
        )
        if self.worst_input is not None:
            text += (
                f"; worst at input {self.worst_input}, index {self.worst_index}: analytic "
                f"{self.analytic_at_worst:.10g}, numeric {self.numeric_at_worst:.10g}"
            )
        return text


def _float64_leaves(inputs: Sequence[Any]) -> tuple[list[Tensor], list[int]]:
    """Fresh float64 leaves (the caller's tensors are never perturbed) and which are checked:
    Tensors that require grad, and every non-Tensor input."""
    leaves, checked = [], []
    for number, value in enumerate(inputs):
        is_tensor = isinstance(value, Tensor)
        data = value.data if is_tensor else np.asarray(value, dtype=np.float64)
        if data.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {number} has dtype {data.dtype}; checking in float64 instead "
                f"(finite differences need the precision)", stacklevel=3,
            )
        wants_grad = value.requires_grad if is_tensor else True
        leaves.append(Tensor(np.array(data, dtype=np.float64), requires_grad=wants_grad))
        if wants_grad:
            checked.append(number)
    return leaves, checked


def _as_outputs(result: Any) -> tuple[Tensor, ...]:
    return (result,) if isinstance(result, Tensor) else tuple(result)


def _upstream(outputs: Sequence[Tensor], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(out.shape) for out in outputs]


def _analytic(fn: Callable[..., Any], leaves: list[Tensor], checked: list[int], seed: int) -> list[np.ndarray]:
    outputs = _as_outputs(fn(*leaves))
    upstream = _upstream(outputs, seed)
    live = [i for i, out in enumerate(outputs) if out.requires_grad]
    zeros = [np.zeros(leaves[i].shape) for i in checked]
    if not live:  # the outputs do not depend on the inputs at all: every derivative is 0
        return zeros
    grads = grad([outputs[i] for i in live], [leaves[i] for i in checked],
                 grad_outputs=[upstream[i] for i in live], allow_unused=True)
    return [zero if g is None else np.array(g.data, dtype=np.float64) for g, zero in zip(grads, zeros)]


def _numeric(fn: Callable[..., Any], leaves: list[Tensor], checked: list[int], eps: float, seed: int) -> list[np.ndarray]:
    def projected() -> float:
        outputs = _as_outputs(fn(*leaves))
        return float(sum(np.sum(out.data * u) for out, u in zip(outputs, _upstream(outputs, seed))))

    numeric = []
    for i in checked:
        data = leaves[i].data
        estimate = np.zeros(data.shape)
        for index in np.ndindex(data.shape):
            original = data[index]
            data[index] = original + eps
            forward = projected()
            data[index] = original - eps
            backward = projected()
            data[index] = original
            estimate[index] = (forward - backward) / (2 * eps)
        numeric.append(estimate)
    return numeric


def _compare(name: str, checked: list[int], analytic: list[np.ndarray], numeric: list[np.ndarray],
             atol: float, rtol: float) -> GradcheckResult:
    if not checked:
        raise ValueError(f"gradcheck {name}: no input requires grad, nothing to check")
    flat_a = np.concatenate([a.ravel() for a in analytic])
    flat_n = np.concatenate([n.ravel() for n in numeric])
    abs_error = np.abs(flat_a - flat_n)
    rel_error = abs_error / np.maximum(np.abs(flat_n), np.finfo(np.float64).tiny)
    rel_error[abs_error == 0] = 0.0
    denominator = np.linalg.norm(flat_a + flat_n)
    relative = float(np.linalg.norm(flat_a - flat_n) / denominator) if denominator > 0 else 0.0
    badness = abs_error / (atol + rtol * np.abs(flat_n))
    result = GradcheckResult(
        name=name, passed=bool(np.all(badness <= 1.0)),
        max_abs_error=float(abs_error.max(initial=0.0)), max_rel_error=float(rel_error.max(initial=0.0)),
        relative_error=relative, analytic=analytic, numeric=numeric,
    )
    if flat_a.size:
        worst = int(np.argmax(badness))
        sizes = np.cumsum([a.size for a in analytic])
        position = int(np.searchsorted(sizes, worst, side="right"))
        offset = worst - (int(sizes[position - 1]) if position else 0)
        result.worst_input = checked[position]
        result.worst_index = tuple(int(k) for k in np.unravel_index(offset, analytic[position].shape))
        result.analytic_at_worst = float(flat_a[worst])
        result.numeric_at_worst = float(flat_n[worst])
    return result


def gradcheck(
    fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    *, seed: int = 0, name: str | None = None,
) -> GradcheckResult:
    """Compare the analytic gradient of ``fn`` at ``inputs`` with central differences.

    ``fn`` takes Tensors and returns a Tensor or a tuple of Tensors.  Plain arrays in
    ``inputs`` are checked; Tensors are checked when they require grad.  Everything runs on
    float64 copies (float32 inputs are cast, with a warning).
    """
    label = name or getattr(fn, "__name__", "fn")
    leaves, checked = _float64_leaves(inputs)
    analytic = _analytic(fn, leaves, checked, seed)
    with no_grad():
        numeric = _numeric(fn, leaves, checked, eps, seed)
    return _compare(label, checked, analytic, numeric, atol, rtol)


def gradgradcheck(
    fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    *, seed: int = 0, name: str | None = None,
) -> GradcheckResult:
    """Check second derivatives: ``gradcheck`` of the map x -> J(x)^T u, whose analytic
    gradient comes from differentiating the recorded backward pass (``create_graph=True``)."""
    label = name or getattr(fn, "__name__", "fn")
    leaves, checked = _float64_leaves(inputs)
    upstream = _upstream(_as_outputs(fn(*leaves)), seed)

    def first_derivative(*xs: Tensor) -> tuple[Tensor, ...]:
        outputs = _as_outputs(fn(*xs))
        live = [i for i, out in enumerate(outputs) if out.requires_grad]
        if not live:
            return ()
        grads = grad([outputs[i] for i in live], [xs[i] for i in checked],
                     grad_outputs=[upstream[i] for i in live], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    analytic = _analytic(first_derivative, leaves, checked, seed + 1)
    numeric = _numeric(first_derivative, leaves, checked, eps, seed + 1)
    return _compare(f"{label} (second order)", checked, analytic, numeric, atol, rtol)


@dataclass
class OpCheck:
    """One row of the registry check: an op's sample through gradcheck or gradgradcheck."""

    op: str
    case: str
    order: int
    result: GradcheckResult


def check_op(op: Op, second_order: bool = True) -> list[OpCheck]:
    """Run every sample of ``op`` through gradcheck (and gradgradcheck where defined)."""
    rows = []
    for sample in op.samples:
        rows.append(OpCheck(op.name, sample.case, 1, _check_sample(gradcheck, op, sample)))
        if second_order and sample.twice_differentiable:
            rows.append(OpCheck(op.name, sample.case, 2, _check_sample(gradgradcheck, op, sample)))
    return rows


def _check_sample(checker: Callable[..., GradcheckResult], op: Op, sample: Sample) -> GradcheckResult:
    return checker(sample.call, sample.inputs, name=f"{op.name} [{sample.case}]")


def check_registry(second_order: bool = True) -> list[OpCheck]:
    """Every registered op through the checker: the table of ``autotensor gradcheck``."""
    rows = []
    for op in REGISTRY.values():
        rows.extend(check_op(op, second_order))
    return rows
