"""Autograd against hand-written backprop: every gradient, every delta, lockstep training.

The same network is run two ways on the same batch, from the same weights - an ``nn.MLP``
whose cost is built from Tensors and differentiated by ``loss.backward()``
(:mod:`nn.backprop.autograd_pass`), and a :class:`~nn.backprop.network.ManualMLP`, the
documents' derivation written out in numpy - and :func:`run_comparison` compares every
gradient, every per-layer delta, the time of a training step (:mod:`nn.backprop.timing`) and
the weights after many lockstep SGD steps.

Checks
------
For each parameter and each delta: ``max |autograd - manual|`` and the relative error
``||a - m|| / ||a + m||`` (document 000's metric). A row fails when its relative error exceeds
``tolerance`` *and* its largest difference exceeds ``tolerance`` times the largest magnitude
of its kind (gradients or deltas): a bias gradient is a column sum that may cancel to almost
zero, and then round-off alone makes its relative error large. Lockstep training fails when
the largest weight difference exceeds ``tolerance * max(1, max |W|)``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import autotensor as at
from nn.backprop.autograd_pass import AutogradResult, autograd_backward, autograd_loss
from nn.backprop.backward import ManualResult
from nn.backprop.checking import relative_error
from nn.backprop.network import ManualMLP
from nn.backprop.timing import DEFAULT_REPEATS, StepTiming, time_steps
from nn.backprop.twins import compiled_gradients, separate_grads, separate_params, step_functions
from nn.layers import MLP

DEFAULT_TOLERANCE = 1e-9
DEFAULT_STEPS = 1000


@dataclass(frozen=True)
class Difference:
    """One compared quantity: ``name`` in ``nn.MLP`` terms, ``document`` in the documents'."""

    name: str
    document: str
    shape: tuple[int, ...]
    max_abs_diff: float
    relative_error: float

    def passes(self, tolerance: float, scale: float) -> bool:
        return self.relative_error <= tolerance or self.max_abs_diff <= tolerance * scale


def _difference(name: str, document: str, a: np.ndarray, m: np.ndarray) -> Difference:
    if a.shape != m.shape:
        raise ValueError(f"{name}: autograd gives shape {a.shape} but the manual network {m.shape}")
    max_abs = float(np.max(np.abs(a - m))) if a.size else 0.0
    return Difference(name, document, tuple(int(s) for s in a.shape), max_abs, relative_error(a, m))


def compare_gradients(mlp: MLP, auto: AutogradResult, manual: ManualMLP,
                      result: ManualResult) -> tuple[list[Difference], list[Difference]]:
    """Per-parameter and per-layer-delta differences between the two passes."""
    names = [name for name, _ in mlp.named_parameters()]
    manual_grads = separate_grads(manual, result)
    if len(manual_grads) != len(auto.grads):
        raise ValueError(f"autograd gives {len(auto.grads)} gradients, the manual network {len(manual_grads)}")
    params = [
        _difference(name, f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}", a, m)
        for i, (name, a, m) in enumerate(zip(names, auto.grads, manual_grads))
    ]
    linear_names = [name.rsplit(".", 1)[0] for name in names[0::2]]
    deltas = [
        _difference(f"{layer}.z", f"delta^({l + 2})", a, m)
        for l, (layer, a, m) in enumerate(zip(linear_names, auto.deltas, result.deltas))
    ]
    return params, deltas


@dataclass(frozen=True)
class Lockstep:
    """Both networks after ``steps`` identical SGD updates."""

    steps: int
    lr: float
    max_weight_diff: float
    max_weight: float
    loss_autograd: float
    loss_manual: float


def lockstep(mlp: MLP, manual: ManualMLP, X: np.ndarray, y: np.ndarray, loss: str, l2: float,
             lr: float, steps: int, compiled: bool = False) -> Lockstep:
    """Train both networks ``steps`` times with ``p <- p - lr * g`` (in place) and compare
    (``compiled``: the autograd side through ``at.compile``)."""
    autograd_step, manual_step = step_functions(mlp, manual, X, y, loss, l2, lr, compiled)
    for _ in range(steps):
        autograd_step()
        manual_step()
    auto_params = [p.data for p in mlp.parameters()]
    manual_params = separate_params(manual)
    diff = max(float(np.max(np.abs(a - m))) for a, m in zip(auto_params, manual_params))
    biggest = max(float(np.max(np.abs(a))) for a in auto_params)
    with at.no_grad():
        loss_auto = autograd_loss(mlp, X, y, loss, l2).item()
    return Lockstep(steps, lr, diff, biggest, loss_auto, manual.loss(X, y))


@dataclass
class Report:
    """Everything ``autotensor compare`` prints; ``to_dict`` is its ``--json`` output."""

    example: str | None
    data: dict[str, Any]
    network: dict[str, Any]
    loss: dict[str, float]
    parameters: list[Difference]
    deltas: list[Difference]
    timing: StepTiming | None
    lockstep: Lockstep | None
    tolerance: float
    lr: float
    seed_numbers: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)
    compiled: list[Difference] = field(default_factory=list)  # the compiled step's gradients vs manual
    compiled_lockstep: Lockstep | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        def rows(diffs: list[Difference]) -> list[dict[str, Any]]:
            return [dict(asdict(d), shape=list(d.shape)) for d in diffs]

        return {
            "example": self.example, "data": self.data, "network": self.network, "loss": self.loss,
            "parameters": rows(self.parameters), "deltas": rows(self.deltas),
            "timing": asdict(self.timing) if self.timing else None,
            "lockstep": asdict(self.lockstep) if self.lockstep else None,
            "compiled": rows(self.compiled),
            "compiled_lockstep": asdict(self.compiled_lockstep) if self.compiled_lockstep else None,
            "seed_numbers": self.seed_numbers, "tolerance": self.tolerance, "lr": self.lr,
            "ok": self.ok, "failures": list(self.failures),
        }


def _failures(params: list[Difference], deltas: list[Difference], compiled: list[Difference],
              auto: AutogradResult, runs: dict[str, Lockstep | None], tolerance: float) -> list[str]:
    failures = []
    for kind, diffs, arrays in (("gradient", params, auto.grads), ("delta", deltas, auto.deltas),
                                ("compiled gradient", compiled, auto.grads)):
        scale = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
        failures += [f"{kind} {d.name}: relative error {d.relative_error:.3e} > {tolerance:g}"
                     for d in diffs if not d.passes(tolerance, scale)]
    for label, run in runs.items():
        if run is not None and not run.max_weight_diff <= tolerance * max(1.0, run.max_weight):
            failures.append(f"{label}: weights differ by {run.max_weight_diff:.3e} after {run.steps} steps")
    return failures


def run_comparison(mlp: MLP, manual: ManualMLP, X: np.ndarray, y: np.ndarray, *, loss: str,
                   l2: float = 0.0, lr: float, steps: int = DEFAULT_STEPS,
                   repeats: int = DEFAULT_REPEATS, tolerance: float = DEFAULT_TOLERANCE,
                   example: str | None = None, data: dict[str, Any] | None = None) -> Report:
    """Compare ``mlp`` and ``manual`` (equal weights) on ``(X, y)``: gradients and deltas at the
    current weights, then step timing and lockstep training on fresh copies of both."""
    initial_auto = [p.data.copy() for p in mlp.parameters()]
    initial_manual = [p.copy() for p in manual.parameters()]

    def fresh() -> tuple[MLP, ManualMLP]:
        pairs = list(zip(initial_auto[0::2], initial_auto[1::2]))
        twin = MLP(mlp.sizes, mlp.activation, mlp.output_activation, weights=pairs)
        if manual.bias_layout == "row":
            other = ManualMLP([p.copy() for p in initial_manual], activation=manual.activation,
                              output_activation=manual.output_activation, loss=manual.loss_name,
                              l2=manual.l2, bias_layout="row")
        else:
            other = ManualMLP.from_parameters(initial_manual, activation=manual.activation,
                                              output_activation=manual.output_activation,
                                              loss=manual.loss_name, l2=manual.l2)
        return twin, other

    auto = autograd_backward(mlp, X, y, loss, l2)
    result = manual.backward(X, y)
    params, deltas = compare_gradients(mlp, auto, manual, result)
    names = [d.name for d in params]
    compiled = [_difference(name, d.document, a, m) for name, d, a, m in zip(
        names, params, compiled_gradients(fresh()[0], X, y, loss, l2), separate_grads(manual, result))]

    seed_numbers = _seed_numbers(mlp, manual, auto, result, lr) if example == "seed" else None

    timing = None
    if repeats > 0:
        autograd_step, manual_step = step_functions(*fresh(), X, y, loss, l2, lr)
        compiled_step, _ = step_functions(*fresh(), X, y, loss, l2, lr, compiled=True)
        timing = time_steps(autograd_step, manual_step, repeats=repeats, compiled_step=compiled_step)
    run = lockstep(*fresh(), X, y, loss, l2, lr, steps) if steps > 0 else None
    compiled_run = lockstep(*fresh(), X, y, loss, l2, lr, steps, compiled=True) if steps > 0 else None

    network = {"sizes": list(mlp.sizes), "activation": mlp.activation,
               "output_activation": mlp.output_activation, "loss": loss, "l2": l2,
               "manual_bias_layout": manual.bias_layout}
    return Report(
        example=example, data=data or {"source": "arrays", "rows": int(X.shape[0])}, network=network,
        loss={"autograd": auto.loss, "manual": result.loss}, parameters=params, deltas=deltas,
        timing=timing, lockstep=run, tolerance=tolerance, lr=lr, seed_numbers=seed_numbers,
        failures=_failures(params, deltas, compiled, auto, {"lockstep": run, "compiled lockstep": compiled_run},
                           tolerance),
        compiled=compiled, compiled_lockstep=compiled_run)


def _seed_numbers(mlp: MLP, manual: ManualMLP, auto: AutogradResult, result: ManualResult,
                  lr: float) -> dict[str, Any]:
    """The documents' numbers for the seed example, in their bias-row layout, both ways:
    yhat, dJ/dW1..3 (bias row last) and the weights after one step ``W - lr * dJ/dW``."""
    def rows(separate: list[np.ndarray]) -> list[np.ndarray]:
        return [np.vstack([W, b[np.newaxis, :]]) for W, b in zip(separate[0::2], separate[1::2])]

    auto_rows = rows(auto.grads)
    weights_rows = rows([p.data for p in mlp.parameters()])
    numbers: dict[str, Any] = {"yhat": {"autograd": auto.yhat.ravel().tolist(),
                                        "manual": result.yhat.ravel().tolist()}}
    for l, (g_auto, g_manual) in enumerate(zip(auto_rows, result.grads), start=1):
        numbers[f"dJ/dW{l}"] = {"autograd": g_auto.tolist(), "manual": np.asarray(g_manual).tolist()}
    for l, (W, g_auto, W_manual, g_manual) in enumerate(
            zip(weights_rows, auto_rows, manual.weights, result.grads), start=1):
        numbers[f"W{l}'"] = {"autograd": (W - lr * g_auto).tolist(),
                             "manual": (W_manual - lr * np.asarray(g_manual)).tolist()}
    return numbers
