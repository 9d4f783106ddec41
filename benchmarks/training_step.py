"""Time one full training step (forward, loss, backward, SGD update) of small networks.

Implementations compared on the same data and the same starting parameters, float64, one
thread:

* ``numpy``      the hand-written reference: ``nn.backprop.ManualMLP.backward`` (the documents'
                 deltas, vectorised) followed by an in-place ``p -= lr * g`` per parameter;
* ``autotensor`` ``nn.MLP`` + ``nn.losses`` + ``nn.optim.SGD``, as a user writes it;
* ``torch``      ``torch.nn.Sequential`` of ``Linear``/``Tanh`` + ``torch.optim.SGD`` (optional);
* ``autograd``   HIPS autograd's ``grad`` of the same loss written with ``autograd.numpy`` (optional);
* ``micrograd``  Karpathy's scalar engine, for the batch-32 car network only (optional).

Before anything is timed, every implementation's gradients at the starting parameters are
compared with the hand-written ones (``np.allclose``, rtol 1e-6); one that disagrees is left
out of the table with a message, never timed.  Ratios are to the hand-written numpy median of
the same run.  Run ``python -m benchmarks.training_step [--quick]``.
"""
from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
import numpy as np

import autotensor as at
import nn
from benchmarks.timing import (
    Settings, Timing, describe_machine, log, machine, markdown_table, measure, microseconds, optional,
    torch_module,
)
from nn.backprop import ManualMLP, seed_example

DATA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "car_features.csv"
RTOL, ATOL = 1e-6, 1e-9

IMPLEMENTATIONS = ("numpy", "autotensor", "torch", "autograd", "micrograd")
TITLES = {
    "numpy": "hand-written numpy", "autotensor": "autotensor", "torch": "PyTorch",
    "autograd": "HIPS autograd", "micrograd": "micrograd",
}


@dataclass
class Implementation:
    """``step()`` runs one training step; ``gradients()`` returns dJ/dparams at the start
    (called before any step, in the order W0, b0, W1, b1, ... or the workload's own order)."""

    step: Callable[[], Any]
    gradients: Callable[[], list[np.ndarray]]


@dataclass
class Workload:
    key: str
    title: str
    # (max autotensor/numpy ratio, min speed-up of autotensor over PyTorch)
    target: tuple[float, float]
    reference: Callable[[], list[np.ndarray]]
    builders: dict[str, Callable[[], Implementation]] = field(default_factory=dict)
    note: str = ""


# ---------------------------------------------------------------- data
def car_data() -> tuple[np.ndarray, np.ndarray, str]:
    """The normalised training rows (80% of the cleaned listings), or a synthetic sample."""
    from nn.carprice import Normalizer, load_car_data
    from nn.carprice.synthetic import generate
    from nn.data import train_test_split

    if DATA_FILE.is_file():
        table, _ = load_car_data(DATA_FILE)
        source = "car_features.csv"
    else:
        table = generate(n=9061, seed=0)
        source = "synthetic listings (nn.carprice.synthetic; car_features.csv not found)"
    train, _ = train_test_split(len(table), test_fraction=0.2, seed=0)
    train_table = table.take(train)
    X, y = Normalizer().fit(train_table).transform_table(train_table)
    return X, y, source


# ---------------------------------------------------------------- the MLP implementations
@dataclass
class MLPSpec:
    sizes: list[int]
    activation: str
    output_activation: str
    loss: str  # "half_sse" or "mse"
    lr: float
    X: np.ndarray
    y: np.ndarray
    params: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        model = nn.MLP(self.sizes, self.activation, self.output_activation, seed=0)
        self.params = [p.data.copy() for p in model.parameters()]


def numpy_mlp(spec: MLPSpec) -> Implementation:
    model = ManualMLP.from_parameters(
        spec.params, activation=spec.activation, output_activation=spec.output_activation, loss=spec.loss
    )
    params, X, y, lr = model.parameters(), spec.X, spec.y, spec.lr

    def step() -> None:
        grads = model.backward(X, y).grads
        for p, g in zip(params, grads):
            p -= lr * g

    return Implementation(step, lambda: model.backward(X, y).grads)


def autotensor_mlp(spec: MLPSpec) -> Implementation:
    model = nn.MLP(spec.sizes, spec.activation, spec.output_activation, seed=0)
    for p, value in zip(model.parameters(), spec.params):
        p.data[...] = value
    optimizer = nn.optim.SGD(model.parameters(), lr=spec.lr)
    loss_function = nn.losses.get_loss(spec.loss)
    X, y = at.Tensor(spec.X), spec.y

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_function(model(X), y)
        loss.backward()
        optimizer.step()

    def gradients() -> list[np.ndarray]:
        optimizer.zero_grad()
        loss_function(model(X), y).backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    return Implementation(step, gradients)


def _torch_loss(torch: Any, loss: str) -> Callable[[Any, Any], Any]:
    if loss == "half_sse":
        return lambda yhat, y: 0.5 * ((yhat - y) ** 2).sum()
    return torch.nn.functional.mse_loss


def torch_mlp(spec: MLPSpec) -> Implementation:
    torch = torch_module()
    activations = {"tanh": torch.nn.Tanh, "identity": torch.nn.Identity}
    layers = []
    for index, (W, b) in enumerate(zip(spec.params[0::2], spec.params[1::2])):
        linear = torch.nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():  # torch keeps W as (out, in) and computes x @ W.T + b
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        last = index == len(spec.params) // 2 - 1
        layers += [linear, activations[spec.output_activation if last else spec.activation]()]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=spec.lr)
    loss_function = _torch_loss(torch, spec.loss)
    X, y = torch.from_numpy(spec.X), torch.from_numpy(spec.y)

    def step() -> None:
        optimizer.zero_grad()
        loss = loss_function(model(X), y)
        loss.backward()
        optimizer.step()

    def gradients() -> list[np.ndarray]:
        optimizer.zero_grad()
        loss_function(model(X), y).backward()
        grads = []
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                grads += [layer.weight.grad.numpy().T.copy(), layer.bias.grad.numpy().copy()]
        return grads

    return Implementation(step, gradients)


def autograd_mlp(spec: MLPSpec) -> Implementation:
    autograd = optional("autograd")
    anp = autograd.numpy
    functions = {"tanh": anp.tanh, "identity": lambda z: z}
    count = len(spec.params) // 2

    def loss(params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> Any:
        a = X
        for index in range(count):
            name = spec.output_activation if index == count - 1 else spec.activation
            a = functions[name](anp.dot(a, params[2 * index]) + params[2 * index + 1])
        diff = a - y
        return 0.5 * anp.sum(diff * diff) if spec.loss == "half_sse" else anp.mean(diff * diff)

    gradient = autograd.grad(loss)
    params = [p.copy() for p in spec.params]
    X, y, lr = spec.X, spec.y, spec.lr

    def step() -> None:
        for p, g in zip(params, gradient(params, X, y)):
            p -= lr * g

    return Implementation(step, lambda: list(gradient(params, X, y)))


def _micrograd_value() -> Any:
    """micrograd's ``Value``, with the ``tanh`` of Karpathy's lecture version added in the
    engine's own style (the PyPI release 0.1.0 ships only ``relu``)."""
    Value = optional("micrograd.engine").Value
    if not hasattr(Value, "tanh"):
        def tanh(self: Any) -> Any:
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward() -> None:
                self.grad += (1 - t * t) * out.grad

            out._backward = _backward
            return out

        Value.tanh = tanh
    return Value


def micrograd_mlp(spec: MLPSpec) -> Implementation:
    """The car network on micrograd's scalar ``Value`` nodes: one node per number."""
    Value = _micrograd_value()
    weights = [[[Value(float(w)) for w in row] for row in W] for W in spec.params[0::2]]
    biases = [[Value(float(v)) for v in b] for b in spec.params[1::2]]
    params = [v for W, b in zip(weights, biases) for v in [*(w for row in W for w in row), *b]]
    rows = [[float(v) for v in x] for x in spec.X]
    targets = [float(v) for v in spec.y[:, 0]]
    count = len(weights)

    def loss() -> Any:
        total = Value(0.0)
        for x, target in zip(rows, targets):
            a: list[Any] = x
            for index, (W, b) in enumerate(zip(weights, biases)):
                z = [sum((a[i] * W[i][j] for i in range(len(a))), b[j]) for j in range(len(b))]
                name = spec.output_activation if index == count - 1 else spec.activation
                a = [v.tanh() for v in z] if name == "tanh" else z
            diff = a[0] - target
            total = total + diff * diff
        return total * 0.5 if spec.loss == "half_sse" else total * (1.0 / len(rows))

    def backward() -> None:
        for p in params:
            p.grad = 0.0
        loss().backward()

    def step() -> None:
        backward()
        for p in params:
            p.data -= spec.lr * p.grad

    def gradients() -> list[np.ndarray]:
        backward()
        grads = []
        for W, b in zip(weights, biases):
            grads += [np.array([[w.grad for w in row] for row in W]), np.array([v.grad for v in b])]
        return grads

    return Implementation(step, gradients)


def mlp_workload(key: str, title: str, target: tuple[float, float], spec: MLPSpec, micrograd: bool = False) -> Workload:
    workload = Workload(key, title, target, reference=numpy_mlp(spec).gradients)
    workload.builders = {"numpy": lambda: numpy_mlp(spec), "autotensor": lambda: autotensor_mlp(spec)}
    if torch_module() is not None:
        workload.builders["torch"] = lambda: torch_mlp(spec)
    if optional("autograd") is not None:
        workload.builders["autograd"] = lambda: autograd_mlp(spec)
    if micrograd and optional("micrograd.engine") is not None:
        workload.builders["micrograd"] = lambda: micrograd_mlp(spec)
    return workload


# ---------------------------------------------------------------- the seed network (bias-row layout)
def seed_workload() -> Workload:
    """The documents' five cars through 3-3-2-1 tanh with the biases as the last weight row."""
    X, Y, lr = seed_example.X, seed_example.Y, seed_example.LEARNING_RATE
    weights = [W.copy() for W in seed_example.WEIGHTS]

    def numpy_seed() -> Implementation:
        model = ManualMLP([W.copy() for W in weights], activation="tanh", output_activation="tanh",
                          loss="half_sse", bias_layout="row")
        params = model.parameters()

        def step() -> None:
            for p, g in zip(params, model.backward(X, Y).grads):
                p -= lr * g

        return Implementation(step, lambda: model.backward(X, Y).grads)

    def autotensor_seed() -> Implementation:
        params = [at.Tensor(W.copy(), requires_grad=True) for W in weights]
        optimizer = nn.optim.SGD(params, lr=lr)

        def step() -> None:
            optimizer.zero_grad()
            yhat, _ = seed_example.forward(tuple(params), X)
            seed_example.cost(yhat, Y).backward()
            optimizer.step()

        def gradients() -> list[np.ndarray]:
            optimizer.zero_grad()
            yhat, _ = seed_example.forward(tuple(params), X)
            seed_example.cost(yhat, Y).backward()
            return [p.grad.numpy().copy() for p in params]

        return Implementation(step, gradients)

    def torch_seed() -> Implementation:
        torch = torch_module()
        params = [torch.tensor(W, requires_grad=True) for W in weights]
        optimizer = torch.optim.SGD(params, lr=lr)
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

        def loss() -> Any:
            a = Xt
            for W in params:
                a = torch.tanh(torch.cat([a, torch.ones(a.shape[0], 1, dtype=a.dtype)], dim=1) @ W)
            return 0.5 * ((Yt - a) ** 2).sum()

        def step() -> None:
            optimizer.zero_grad()
            loss().backward()
            optimizer.step()

        def gradients() -> list[np.ndarray]:
            optimizer.zero_grad()
            loss().backward()
            return [p.grad.numpy().copy() for p in params]

        return Implementation(step, gradients)

    def autograd_seed() -> Implementation:
        autograd = optional("autograd")
        anp = autograd.numpy

        def loss(params: list[np.ndarray]) -> Any:
            a = X
            for W in params:
                a = anp.tanh(anp.dot(anp.concatenate([a, anp.ones((a.shape[0], 1))], axis=1), W))
            return 0.5 * anp.sum((Y - a) ** 2)

        gradient = autograd.grad(loss)
        params = [W.copy() for W in weights]

        def step() -> None:
            for p, g in zip(params, gradient(params)):
                p -= lr * g

        return Implementation(step, lambda: list(gradient(params)))

    workload = Workload("seed", "documents' seed network 3-3-2-1 tanh, bias-row layout, 5 rows", (math.inf, 0.0),
                        reference=numpy_seed().gradients)
    workload.builders = {"numpy": numpy_seed, "autotensor": autotensor_seed}
    if torch_module() is not None:
        workload.builders["torch"] = torch_seed
    if optional("autograd") is not None:
        workload.builders["autograd"] = autograd_seed
    return workload


# ---------------------------------------------------------------- one tanh on a 1x1 tensor
def tanh_workload() -> Workload:
    """Forward and backward of a single tanh: nothing but per-op overhead."""
    value = np.array([[0.3]])

    def numpy_tanh() -> Implementation:
        def step() -> np.ndarray:
            out = np.tanh(value)
            return 1.0 - out * out  # d tanh / dx times the upstream gradient 1

        return Implementation(step, lambda: [step()])

    def autotensor_tanh() -> Implementation:
        x = at.Tensor(value.copy(), requires_grad=True)

        def step() -> None:
            x.grad = None
            x.tanh().backward()

        def gradients() -> list[np.ndarray]:
            step()
            return [x.grad.numpy().copy()]

        return Implementation(step, gradients)

    def torch_tanh() -> Implementation:
        torch = torch_module()
        x = torch.tensor(value, requires_grad=True)

        def step() -> None:
            x.grad = None
            torch.tanh(x).backward()

        def gradients() -> list[np.ndarray]:
            step()
            return [x.grad.numpy().copy()]

        return Implementation(step, gradients)

    def autograd_tanh() -> Implementation:
        autograd = optional("autograd")
        gradient = autograd.elementwise_grad(autograd.numpy.tanh)

        def step() -> np.ndarray:
            return gradient(value)

        return Implementation(step, lambda: [step()])

    workload = Workload("tanh", "one tanh on 1x1, forward + backward", (5.0, 2.0),
                        reference=lambda: [1.0 - np.tanh(value) ** 2])
    workload.builders = {"numpy": numpy_tanh, "autotensor": autotensor_tanh}
    if torch_module() is not None:
        workload.builders["torch"] = torch_tanh
    if optional("autograd") is not None:
        workload.builders["autograd"] = autograd_tanh
    return workload


# ---------------------------------------------------------------- the list of workloads
def workloads() -> tuple[list[Workload], str]:
    X, y, source = car_data()
    rng = np.random.default_rng(0)
    wide_X, wide_y = rng.normal(size=(256, 64)), rng.normal(size=(256, 10))
    deep_X, deep_y = rng.normal(size=(64, 16)), rng.normal(size=(64, 16))
    car = dict(sizes=[3, 3, 2, 1], activation="tanh", output_activation="tanh", loss="half_sse")
    n = len(X)
    found = [
        mlp_workload("car_full", f"car MLP 3-3-2-1 tanh, full batch {n:,} rows", (1.10, 1.0),
                     MLPSpec(**car, lr=0.1 / n, X=X, y=y)),
        mlp_workload("car_32", "car MLP 3-3-2-1 tanh, batch 32", (2.5, 1.0),
                     MLPSpec(**car, lr=0.1 / 32, X=X[:32].copy(), y=y[:32].copy()), micrograd=True),
        mlp_workload("wide", "64-256-256-10 tanh, batch 256 (MSE)", (1.10, 1.0),
                     MLPSpec([64, 256, 256, 10], "tanh", "identity", "mse", 0.01, wide_X, wide_y)),
        mlp_workload("deep", "20 layers x 16 tanh, batch 64 (MSE)", (2.0, 1.0),
                     MLPSpec([16] * 21, "tanh", "identity", "mse", 0.01, deep_X, deep_y)),
        tanh_workload(),
        seed_workload(),
    ]
    return found, f"car data: {source}, {n:,} training rows (80% of {round(n / 0.8):,})"


def check(implementation: Implementation, reference: list[np.ndarray]) -> str | None:
    """None when the gradients agree with the reference, else a message saying where not."""
    grads = implementation.gradients()
    if len(grads) != len(reference):
        return f"{len(grads)} gradients, the reference has {len(reference)}"
    for index, (got, want) in enumerate(zip(grads, reference)):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape or not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            error = np.max(np.abs(got - want)) if got.shape == want.shape else f"shape {got.shape} vs {want.shape}"
            return f"gradient {index} differs from the hand-written one (max |difference| {error})"
    return None


def run(quick: bool = False, only: Sequence[str] = ()) -> dict[str, Any]:
    """Check and time every workload (or those whose key is in ``only``); return the results
    as a JSON-ready dict."""
    settings = Settings.for_mode(quick)
    found, data_note = workloads()
    results: dict[str, Any] = {"data": data_note, "workloads": [], "problems": []}
    for workload in found:
        if only and workload.key not in only:
            continue
        log(f"training_step: {workload.title}")
        reference = workload.reference()
        steps = {}
        for name, build in workload.builders.items():
            implementation = build()
            problem = check(implementation, reference)
            if problem:
                message = f"{workload.title}: {TITLES[name]} left out, {problem}"
                log("  " + message)
                results["problems"].append(message)
                continue
            steps[name] = implementation.step
        timings = measure(steps, settings)
        results["workloads"].append(_summary(workload, timings))
    return results


def _summary(workload: Workload, timings: dict[str, Timing]) -> dict[str, Any]:
    base = timings["numpy"].median
    entry: dict[str, Any] = {
        "key": workload.key, "title": workload.title,
        "target_ratio": None if math.isinf(workload.target[0]) else workload.target[0],
        "target_speedup_vs_torch": workload.target[1],
        "timings_us": {name: timing.as_dict() for name, timing in timings.items()},
        "ratio_to_numpy": {name: timing.median / base for name, timing in timings.items()},
    }
    if "autotensor" in timings and "torch" in timings:
        entry["autotensor_speedup_vs_torch"] = timings["torch"].median / timings["autotensor"].median
    return entry


def verdict(entry: dict[str, Any]) -> str:
    """'met' / 'missed' against the workload's targets (ratio to numpy, speed-up over torch)."""
    ratio = entry["ratio_to_numpy"].get("autotensor")
    speedup = entry.get("autotensor_speedup_vs_torch")
    if entry["target_ratio"] is None and not entry["target_speedup_vs_torch"]:
        return "no target" + ("" if speedup is None else f"; {speedup:.2f}x faster than torch")
    parts = []
    if entry["target_ratio"] is not None and ratio is not None:
        parts.append(f"{ratio:.2f} {'<=' if ratio <= entry['target_ratio'] else '>'} {entry['target_ratio']}")
    if speedup is not None:
        need = entry["target_speedup_vs_torch"]
        ok = speedup >= need if need > 1 else speedup > 1
        parts.append(f"{speedup:.2f}x {'faster' if speedup > 1 else 'slower'} than torch"
                     + ("" if need == 1 else f" (need {need:g}x)"))
        met = ok and (entry["target_ratio"] is None or ratio <= entry["target_ratio"])
    else:
        met = entry["target_ratio"] is None or (ratio is not None and ratio <= entry["target_ratio"])
    return ("met: " if met else "MISSED: ") + ", ".join(parts)


def table(results: dict[str, Any]) -> str:
    """The markdown table: median us (ratio to numpy) per library, and the targets."""
    present = [name for name in IMPLEMENTATIONS if any(name in e["timings_us"] for e in results["workloads"])]
    header = ["workload"] + [TITLES[name] for name in present] + ["target (autotensor)"]
    rows = []
    for entry in results["workloads"]:
        row = [entry["title"]]
        for name in present:
            timing = entry["timings_us"].get(name)
            if timing is None:
                row.append("-")
            elif name == "numpy":
                row.append(microseconds(timing["median"]))
            else:
                row.append(f"{microseconds(timing['median'])} ({entry['ratio_to_numpy'][name]:.2f}x)")
        row.append(verdict(entry))
        rows.append(row)
    return markdown_table(header, rows)


def spread_table(results: dict[str, Any]) -> str:
    """p10 / median / p90 for every cell, to show how noisy each number is."""
    present = [name for name in IMPLEMENTATIONS if any(name in e["timings_us"] for e in results["workloads"])]
    rows = []
    for entry in results["workloads"]:
        row = [entry["key"]]
        for name in present:
            t = entry["timings_us"].get(name)
            row.append("-" if t is None else
                       f"{microseconds(t['p10'])} / {microseconds(t['median'])} / {microseconds(t['p90'])}")
        rows.append(row)
    return markdown_table(["workload"] + [TITLES[name] for name in present], rows)


def report(results: dict[str, Any]) -> str:
    lines = [
        "## One training step (forward, loss, backward, SGD update)",
        "",
        "Median microseconds per step; in parentheses the ratio to hand-written numpy measured in "
        "the same run. " + results["data"] + ".",
        "",
        table(results),
        "",
        "p10 / median / p90 (us):",
        "",
        spread_table(results),
    ]
    if results["problems"]:
        lines += ["", "Left out (gradients disagreed with the reference):", ""]
        lines += [f"- {problem}" for problem in results["problems"]]
    return "\n".join(lines)


def profile_excerpt(key: str, steps: int = 300, lines: int = 14) -> str:
    """cProfile of ``steps`` autotensor training steps of one workload: where the time goes."""
    import cProfile
    import io
    import pstats

    workload = next(w for w in workloads()[0] if w.key == key)
    step = workload.builders["autotensor"]().step
    for _ in range(20):
        step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime").print_stats(lines)
    body = text.getvalue()
    table = body[body.index("   ncalls"):].rstrip()
    return f"cProfile of {steps} autotensor steps, {workload.title} (sorted by own time):\n\n```\n{table}\n```"


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI): fewer, shorter samples")
    parser.add_argument("--only", default="", help="comma-separated workload keys, e.g. car_32,tanh")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, only=[key for key in args.only.split(",") if key])
    results["machine"] = machine()
    print(describe_machine(results["machine"]))
    print()
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return results


if __name__ == "__main__":
    main()
