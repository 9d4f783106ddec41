"""Autograd against hand-written backprop: ``autotensor compare``.

The same network is run two ways on the same batch, from the same weights:

* **autograd**: an :class:`nn.MLP`; the cost is built from Tensors and ``loss.backward()``
  fills ``W.grad`` and ``b.grad``;
* **by hand**: :class:`nn.manual.ManualMLP`, the documents' derivation written out in numpy.

and every gradient, every per-layer delta, the time of a training step and the weights after
many lockstep SGD steps are compared.

Reading the deltas out of autograd
----------------------------------
The documents' backprop is organised around the delta of each layer, ``delta = dJ/dz`` for the
layer's pre-activation ``z = a_prev @ W + b``:

    output layer   delta_L = -(y - a_L) * f'(z_L)                  (half-SSE cost)
    hidden layer   delta_l = (delta_{l+1} @ W_{l+1}.T) * f'(z_l)
    weights        dJ/dW_l = a_{l-1}.T @ delta_l,    biases  dJ/db_l = column sums of delta_l

Autograd never forms these on purpose - they are just the gradients flowing through the ``z``
nodes of the graph, and the engine frees non-leaf gradients once used. ``nn.MLP(...,
record_deltas=True)`` asks it to keep them: its forward calls ``retain_grad()`` on each
Linear layer's output ``z`` and lists those tensors in ``mlp.pre_activations`` (first layer
first). After ``loss.backward()``::

    deltas = [np.asarray(z.grad) for z in mlp.pre_activations]

``deltas[l]`` (shape ``(N, n_l)``) is ``ManualResult.deltas[l]`` and the documents'
``delta^(l+2)``: for the car network 3-3-2-1, ``deltas[0], deltas[1], deltas[2]`` are the
documents' ``delta^(2), delta^(3), delta^(4)``. The bias-row layout of the documents does not
change the deltas: ``z = [a, 1] @ W_row`` equals ``a @ W + b`` with ``(W, b) =
split_bias_row(W_row)``, and the gradient of the bias row is ``dJ/db``. :func:`autograd_backward`
does all this for any ``nn.MLP``.

Checks and exit codes
---------------------
For each parameter and each delta: ``max |autograd - manual|`` and the relative error
``||a - m|| / ||a + m||`` (document 000's metric). A row fails when its relative error exceeds
``--tolerance`` *and* its largest difference exceeds ``tolerance`` times the largest magnitude
of its kind (gradients or deltas): a bias gradient is a column sum that may cancel to almost
zero, and then round-off alone makes its relative error large. Lockstep training fails when
the largest weight difference exceeds ``tolerance * max(1, max |W|)``. ``run`` returns 0 when
everything passes, 1 when something does not, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import autotensor as at
from nn import seed_example
from nn.carprice import Normalizer
from nn.layers import MLP, split_bias_row
from nn.losses import get_loss, l2_penalty
from nn.manual import ACTIVATIONS, LOSSES, ManualMLP, ManualResult, relative_error
from nn.optim import SGD

__all__ = [
    "DESCRIPTION", "HELP", "AutogradResult", "Difference", "Lockstep", "Report", "StepTiming", "add_arguments",
    "autograd_backward", "autograd_loss", "compare_gradients", "format_table", "lockstep",
    "manual_like", "row_to_separate", "run", "run_comparison", "seed_pair", "time_steps",
]

PROG = "autotensor compare"
HELP = "autograd vs hand-written backprop: gradients and deltas side by side, time per step, lockstep training"
DESCRIPTION = (
    "Run the same network with autograd (nn.MLP) and with the hand-derived backprop of the documents "
    "(nn.manual.ManualMLP), from identical weights on the same batch, and print: for every parameter "
    "and every layer's delta dJ/dz the largest difference and the relative error ||a-m||/||a+m||; "
    "the time of a training step of each (median of interleaved samples) and their ratio; the "
    "largest weight difference after --steps identical SGD steps. --example seed runs the "
    "documents' five cars with their weights and prints their numbers. Exit status: 0 agreement, "
    "1 a difference above --tolerance (or an unreadable data file), 2 bad usage."
)
EXIT_OK, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2
DEFAULT_TOLERANCE = 1e-9
DEFAULT_HIDDEN = (3, 2)
DEFAULT_STEPS = 1000
DEFAULT_REPEATS = 15
DEFAULT_LR = 0.1
SAMPLE_SECONDS = 0.003  # one timing sample runs about this long (several steps when they are fast)


# --------------------------------------------------------------------------- one backward pass
@dataclass
class AutogradResult:
    """What one autograd forward/backward pass of an ``nn.MLP`` produced, as ndarrays.

    ``grads`` follows ``mlp.parameters()`` (``[W0, b0, W1, b1, ...]``); ``deltas[l]`` is
    ``dJ/dz`` of layer ``l`` (the documents' ``delta^(l+2)``), read from the retained gradients
    of ``mlp.pre_activations``.
    """

    loss: float
    grads: list[np.ndarray]
    deltas: list[np.ndarray]
    yhat: np.ndarray


def autograd_loss(mlp: MLP, X: np.ndarray, y: np.ndarray, loss: str = "half_sse",
                  l2: float = 0.0) -> at.Tensor:
    """The cost ``J`` as a Tensor: ``loss(mlp(X), y)`` plus ``nn.losses.l2_penalty`` when ``l2``.

    ``loss`` is one of :data:`nn.manual.LOSSES` ("half_sse", "mse", "bce"), with the same
    definition as ``ManualMLP``; the penalty ``(l2/2) sum W^2`` covers weight matrices only, as
    the manual network's does.
    """
    return _cost(mlp, mlp(X), y, loss, l2)


def _cost(mlp: MLP, yhat: at.Tensor, y: np.ndarray, loss: str, l2: float) -> at.Tensor:
    cost = get_loss(loss)(yhat, y)
    if l2:
        cost = cost + l2_penalty(mlp, l2)
    return cost


def autograd_backward(mlp: MLP, X: np.ndarray, y: np.ndarray, loss: str = "half_sse",
                      l2: float = 0.0) -> AutogradResult:
    """Gradients and per-layer deltas of ``J`` by autograd (``loss.backward()``).

    The parameter gradients are cleared first, so nothing accumulates from an earlier pass;
    ``record_deltas`` is switched on for this pass only (see the module docstring).
    """
    recording = mlp.record_deltas
    mlp.record_deltas = True
    try:
        mlp.zero_grad()
        yhat = mlp(X)
        cost = _cost(mlp, yhat, y, loss, l2)
        cost.backward()  # the line that replaces the hand-written backward pass
        deltas = [np.array(np.asarray(z.grad)) for z in mlp.pre_activations]  # dJ/dz per layer
    finally:
        mlp.record_deltas = recording
    grads = [np.array(np.asarray(p.grad)) for p in mlp.parameters()]  # dJ/dW0, dJ/db0, ...
    return AutogradResult(loss=cost.item(), grads=grads, deltas=deltas, yhat=np.array(yhat.data))


def manual_like(mlp: MLP, loss: str = "half_sse", l2: float = 0.0,
                bias_layout: str = "separate") -> ManualMLP:
    """A ``ManualMLP`` with copies of ``mlp``'s weights, activations, and the given cost."""
    return ManualMLP.from_parameters(
        [p.data for p in mlp.parameters()], activation=mlp.activation,
        output_activation=mlp.output_activation, loss=loss, l2=l2, bias_layout=bias_layout)


def row_to_separate(row_arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Bias-row matrices ``[W1_row, W2_row, ...]`` -> ``[W1, b1, W2, b2, ...]`` (copies).

    Works for weights and for their gradients alike: the gradient of the bias row is ``dJ/db``.
    """
    out: list[np.ndarray] = []
    for matrix in row_arrays:
        out.extend(split_bias_row(matrix))
    return out


def seed_pair(loss: str = "half_sse") -> tuple[MLP, ManualMLP]:
    """The documents' five-car network both ways: ``nn.MLP`` with the split weights and a
    ``ManualMLP`` in the documents' own bias-row layout, both tanh throughout."""
    mlp = MLP([3, 3, 2, 1], "tanh", "tanh", weights=[split_bias_row(W) for W in seed_example.WEIGHTS])
    manual = ManualMLP([W.copy() for W in seed_example.WEIGHTS], activation="tanh",
                       output_activation="tanh", loss=loss, bias_layout="row")
    return mlp, manual


def _manual_separate_grads(manual: ManualMLP, result: ManualResult) -> list[np.ndarray]:
    return row_to_separate(result.grads) if manual.bias_layout == "row" else list(result.grads)


def _manual_separate_params(manual: ManualMLP) -> list[np.ndarray]:
    return row_to_separate(manual.weights) if manual.bias_layout == "row" else list(manual.parameters())


# --------------------------------------------------------------------------- differences
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
    manual_grads = _manual_separate_grads(manual, result)
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


# --------------------------------------------------------------------------- timing
@dataclass(frozen=True)
class StepTiming:
    """Microseconds per training step, median over ``repeats`` interleaved samples."""

    autograd_us: float
    manual_us: float
    ratio: float  # autograd / manual
    repeats: int
    steps_per_sample: int


def _sample(step: Callable[[], None], number: int) -> float:
    collecting = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            step()
        return time.perf_counter() - start
    finally:
        if collecting:
            gc.enable()


def time_steps(autograd_step: Callable[[], None], manual_step: Callable[[], None],
               repeats: int = DEFAULT_REPEATS) -> StepTiming:
    """Time two step functions in the same run, interleaved.

    After a warm-up, both are calibrated to one ``steps_per_sample`` (so a sample of the slower
    one lasts about ``SAMPLE_SECONDS``); then ``repeats`` rounds each time one sample of both,
    alternating which goes first, so that machine noise hits both alike. Reports medians.
    """
    for step in (autograd_step, manual_step):
        step()
    slowest = max(_sample(autograd_step, 1), _sample(manual_step, 1))
    number = max(1, min(1000, int(SAMPLE_SECONDS / max(slowest, 1e-9))))
    auto_times: list[float] = []
    manual_times: list[float] = []
    for r in range(repeats):
        order = [(autograd_step, auto_times), (manual_step, manual_times)]
        if r % 2:
            order.reverse()
        for step, times in order:
            times.append(_sample(step, number) / number)
    auto_us = statistics.median(auto_times) * 1e6
    manual_us = statistics.median(manual_times) * 1e6
    return StepTiming(auto_us, manual_us, auto_us / manual_us if manual_us > 0 else math.inf, repeats, number)


def _step_functions(mlp: MLP, manual: ManualMLP, X: np.ndarray, y: np.ndarray, loss: str,
                    l2: float, lr: float) -> tuple[Callable[[], None], Callable[[], None]]:
    """One training step each: forward, cost, backward, SGD update ``p <- p - lr * g``."""
    optimiser = SGD(mlp.parameters(), lr=lr)

    def autograd_step() -> None:
        optimiser.zero_grad()
        autograd_loss(mlp, X, y, loss, l2).backward()
        optimiser.step()

    def manual_step() -> None:
        manual.step(manual.backward(X, y).grads, lr)

    return autograd_step, manual_step


# --------------------------------------------------------------------------- lockstep training
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
             lr: float, steps: int) -> Lockstep:
    """Train both networks ``steps`` times with ``p <- p - lr * g`` (in place) and compare."""
    autograd_step, manual_step = _step_functions(mlp, manual, X, y, loss, l2, lr)
    for _ in range(steps):
        autograd_step()
        manual_step()
    auto_params = [p.data for p in mlp.parameters()]
    manual_params = _manual_separate_params(manual)
    diff = max(float(np.max(np.abs(a - m))) for a, m in zip(auto_params, manual_params))
    biggest = max(float(np.max(np.abs(a))) for a in auto_params)
    with at.no_grad():
        loss_auto = autograd_loss(mlp, X, y, loss, l2).item()
    return Lockstep(steps, lr, diff, biggest, loss_auto, manual.loss(X, y))


# --------------------------------------------------------------------------- the whole comparison
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
            "seed_numbers": self.seed_numbers, "tolerance": self.tolerance, "lr": self.lr,
            "ok": self.ok, "failures": list(self.failures),
        }


def _failures(params: list[Difference], deltas: list[Difference], auto: AutogradResult,
              run: Lockstep | None, tolerance: float) -> list[str]:
    failures = []
    for kind, diffs, arrays in (("gradient", params, auto.grads), ("delta", deltas, auto.deltas)):
        scale = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
        failures += [f"{kind} {d.name}: relative error {d.relative_error:.3e} > {tolerance:g}"
                     for d in diffs if not d.passes(tolerance, scale)]
    if run is not None and not run.max_weight_diff <= tolerance * max(1.0, run.max_weight):
        failures.append(f"lockstep: weights differ by {run.max_weight_diff:.3e} after {run.steps} steps")
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

    seed_numbers = _seed_numbers(mlp, manual, auto, result, lr) if example == "seed" else None

    timing = None
    if repeats > 0:
        timing = time_steps(*_step_functions(*fresh(), X, y, loss, l2, lr), repeats=repeats)
    run = lockstep(*fresh(), X, y, loss, l2, lr, steps) if steps > 0 else None

    network = {"sizes": list(mlp.sizes), "activation": mlp.activation,
               "output_activation": mlp.output_activation, "loss": loss, "l2": l2,
               "manual_bias_layout": manual.bias_layout}
    return Report(
        example=example, data=data or {"source": "arrays", "rows": int(X.shape[0])}, network=network,
        loss={"autograd": auto.loss, "manual": result.loss}, parameters=params, deltas=deltas,
        timing=timing, lockstep=run, tolerance=tolerance, lr=lr, seed_numbers=seed_numbers,
        failures=_failures(params, deltas, auto, run, tolerance))


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


# --------------------------------------------------------------------------- the table
def _fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _diff_lines(title: str, diffs: list[Difference]) -> list[str]:
    lines = [f"{title:<22} {'document':<10} {'shape':<12} {'max |autograd - manual|':>24} {'relative error':>15}"]
    for d in diffs:
        lines.append(f"{d.name:<22} {d.document:<10} {_fmt_shape(d.shape):<12} "
                     f"{d.max_abs_diff:>24.3e} {d.relative_error:>15.3e}")
    return lines


def _matrix_lines(label: str, values: Any) -> list[str]:
    text = np.array2string(np.asarray(values), precision=12, floatmode="fixed", max_line_width=200,
                           suppress_small=False)
    pad = " " * len(label)
    return [(label if i == 0 else pad) + line for i, line in enumerate(text.splitlines())]


def format_table(report: Report) -> str:
    """The human-readable report: the same numbers as ``report.to_dict()``."""
    net = report.network
    data = report.data
    lines = ["autotensor compare: autograd (nn.MLP) vs hand-written backprop (nn.manual.ManualMLP), float64"]
    lines.append(f"data      {data['description']}" if "description" in data else f"data      {data['rows']} rows")
    lines.append(f"network   {'-'.join(str(s) for s in net['sizes'])}, hidden {net['activation']}, "
                 f"output {net['output_activation']}, loss {net['loss']}, l2 {net['l2']:g}, "
                 f"manual bias layout {net['manual_bias_layout']!r}")
    lines.append(f"cost J    autograd {report.loss['autograd']:.12f}   manual {report.loss['manual']:.12f}")
    if report.seed_numbers:
        lines += ["", "The documents' numbers (seed-examples.md section 1), bias row last:"]
        for name, pair in report.seed_numbers.items():
            label = name
            if name.endswith("'"):
                label = f"{name} = {name[:-1]} - {report.lr:g} * dJ/d{name[:-1]}   (one gradient-descent step)"
            lines.append(label)
            lines += _matrix_lines("  autograd ", pair["autograd"])
            lines += _matrix_lines("  manual   ", pair["manual"])
    lines.append("")
    lines += _diff_lines("gradient dJ/dparam", report.parameters)
    lines.append("")
    lines += _diff_lines("delta dJ/dz", report.deltas)
    if report.timing:
        t = report.timing
        lines += ["", f"time per training step (forward + backward + SGD update), median of {t.repeats} "
                      f"interleaved samples of {t.steps_per_sample} step(s)",
                  f"autograd  {t.autograd_us:12.1f} us",
                  f"manual    {t.manual_us:12.1f} us",
                  f"ratio     {t.ratio:12.2f} (autograd / manual)"]
    if report.lockstep:
        s = report.lockstep
        lines += ["", f"lockstep training: {s.steps} identical SGD steps, lr {s.lr:.6g}",
                  f"largest weight difference at the end  {s.max_weight_diff:.3e}",
                  f"final cost  autograd {s.loss_autograd:.12f}   manual {s.loss_manual:.12f}"]
    lines.append("")
    if report.ok:
        lines.append(f"OK: autograd and the hand-written backprop agree (tolerance {report.tolerance:g})")
    else:
        lines.append(f"MISMATCH (tolerance {report.tolerance:g}):")
        lines += [f"  {failure}" for failure in report.failures]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``autotensor compare``."""
    parser.add_argument("--example", choices=["seed"], default=None,
                        help="'seed': the documents' five-car example with their weights (bias-row layout "
                             "for the manual side), printing the documents' numbers")
    parser.add_argument("--data", metavar="CSV", default=None,
                        help="listings CSV (km,fuel,age,price); default: the cached real listings "
                             "(`autotensor data fetch`), else a synthetic sample")
    parser.add_argument("--batch", type=int, default=None, metavar="N",
                        help="use N randomly chosen rows of the data (default: all rows)")
    parser.add_argument("--hidden", type=_hidden_sizes, default=None, metavar="SIZES",
                        help=f"hidden layer widths, comma-separated, 'none' for no hidden layer "
                             f"(default: {','.join(map(str, DEFAULT_HIDDEN))}: the documents' 3-3-2-1 network)")
    parser.add_argument("--activation", choices=ACTIVATIONS, default=None,
                        help="hidden activation (default: tanh)")
    parser.add_argument("--output-activation", choices=ACTIVATIONS, default=None,
                        help="output activation (default: tanh; sigmoid with --loss bce)")
    parser.add_argument("--loss", choices=LOSSES, default=None,
                        help="cost: half_sse = 0.5 sum (y - yhat)^2 (default, the documents'), mse, "
                             "bce (needs a sigmoid output)")
    parser.add_argument("--l2", type=float, default=0.0, help="L2 weight lambda: J += lambda/2 sum W^2 (default: 0)")
    parser.add_argument("--lr", type=float, default=DEFAULT_LR,
                        help="learning rate alpha (default: 0.1); with half_sse the step is alpha/N, as in the "
                             "documents' W <- W - alpha (1/N) dJ/dW")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                        help=f"lockstep training steps (default: {DEFAULT_STEPS}; 0 skips)")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                        help=f"timing samples of each implementation (default: {DEFAULT_REPEATS}; 0 skips timing)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights and of --batch (default: 0)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help=f"largest accepted relative error (default: {DEFAULT_TOLERANCE:g})")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")


def _hidden_sizes(text: str) -> tuple[int, ...]:
    """"3,2" -> (3, 2); "none" -> no hidden layer (as ``autotensor train --hidden``)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 3,2, got {text!r}") from None


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.example == "seed":
        given = [flag for flag, value in (("--data", args.data), ("--batch", args.batch), ("--hidden", args.hidden),
                                          ("--activation", args.activation),
                                          ("--output-activation", args.output_activation),
                                          ("--loss", args.loss)) if value is not None]
        if given:
            return f"--example seed fixes the network, the data and the cost; drop {', '.join(given)}"
        if args.l2:
            return "--example seed uses the documents' cost without L2; drop --l2"
    if args.batch is not None and args.batch < 1:
        return f"--batch must be at least 1, got {args.batch}"
    if args.hidden is not None and any(width < 1 for width in args.hidden):
        return f"--hidden widths must be at least 1, got {args.hidden}"
    if args.loss == "bce" and args.output_activation not in (None, "sigmoid"):
        return f"--loss bce needs a sigmoid output (probabilities), got --output-activation {args.output_activation}"
    if not (math.isfinite(args.l2) and args.l2 >= 0):
        return f"--l2 must be a number >= 0, got {args.l2}"
    if not (math.isfinite(args.lr) and args.lr > 0):
        return f"--lr must be a positive number, got {args.lr}"
    if args.steps < 0 or args.repeats < 0:
        return "--steps and --repeats must be 0 or more"
    if not args.tolerance > 0:
        return f"--tolerance must be positive, got {args.tolerance}"
    return None


def _load_batch(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The listings ``train`` would use (``--data``, else the cached download, else the
    synthetic sample: ``nn.carprice.choose_data``), normalised, optionally ``--batch`` rows."""
    from nn.carprice import choose_data

    source = choose_data(args.data)
    X, y = Normalizer().fit(source.table).transform_table(source.table)
    if args.batch is not None and args.batch < len(X):
        rows = np.sort(np.random.default_rng(args.seed).choice(len(X), size=args.batch, replace=False))
        X, y = X[rows], y[rows]
    description = f"{source.description}; {len(X)} rows used, normalised"
    return X, y, {"source": source.kind, "path": None if args.data is None else str(args.data),
                  "rows": int(len(X)), "description": description}


def run(args: argparse.Namespace) -> int:
    """Run the comparison, print the table (or JSON); 0 ok, 1 mismatch, 2 bad usage."""
    problem = _usage_problem(args)
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.example == "seed":
        loss = "half_sse"
        mlp, manual = seed_pair(loss)
        X, y = seed_example.X, seed_example.Y
        data = {"source": "seed example", "path": None, "rows": int(len(X)),
                "description": "the documents' five cars (nn/seed_example.py), weights W1, W2, W3 of the documents"}
    else:
        X, y, data = _load_batch(args)  # an unreadable file raises: exit 1 from nn.cli, like `train`
        loss = args.loss or "half_sse"
        output = args.output_activation or ("sigmoid" if loss == "bce" else "tanh")
        hidden = list(DEFAULT_HIDDEN) if args.hidden is None else list(args.hidden)
        sizes = [X.shape[1], *hidden, y.shape[1]]
        mlp = MLP(sizes, args.activation or "tanh", output, seed=args.seed)
        manual = manual_like(mlp, loss, args.l2)
    lr = args.lr / len(X) if loss == "half_sse" else args.lr
    report = run_comparison(mlp, manual, X, y, loss=loss, l2=args.l2, lr=lr, steps=args.steps,
                            repeats=args.repeats, tolerance=args.tolerance, example=args.example, data=data)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_table(report))
    return EXIT_OK if report.ok else EXIT_MISMATCH
