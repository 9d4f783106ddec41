"""Per-op overhead of the engine on tiny (4x4) tensors, against the same numpy calls.

On a tiny tensor numpy itself does almost nothing, so what is left is the price of the engine:
wrapping the result in a Tensor, deciding whether to record, linking the graph node, and in
backward finding the order, calling the rule and adding the gradients up.  For each op:

* ``numpy fwd``      the forward numpy call alone;
* ``constant``       the autotensor op on inputs that need no gradient (no graph is built);
* ``no_grad``        the op on inputs that require grad, inside ``at.no_grad()`` (ten ops per
                     ``with`` block, so the block's own cost is spread out);
* ``recording``      the op on inputs that require grad: the graph node is made;
* ``bookkeeping``    recording minus constant: the cost of making the node;
* ``numpy vjp``      the hand-written derivative (the rule's numpy calls) alone;
* ``backward``       the backward pass per op, measured on a chain of ``CHAIN`` such ops
                     (``(forward + backward) - forward``, divided by the chain length), so the
                     fixed cost of starting a backward pass is spread out;
* ``fixed``          (separately) one backward pass through a one-op graph, minus its forward.

Run ``python -m benchmarks.overhead [--quick]``.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import benchmarks  # noqa: F401 - pins the thread count before numpy is imported
import numpy as np

import autotensor as at
from benchmarks.timing import Settings, describe_machine, log, machine, markdown_table, measure, microseconds

CHAIN = 50
NO_GRAD_OPS = 10


@dataclass(frozen=True)
class OpCase:
    name: str
    forward: Callable[[Any], Any]  # x -> op(x): works on ndarrays and Tensors alike
    vjp: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (g, out, x) -> dJ/dx by hand


def _cases() -> list[OpCase]:
    c = np.full((4, 4), 0.5)
    W = np.eye(4) * 0.9
    return [
        OpCase("add (x + c)", lambda x: x + c, lambda g, out, x: g),
        OpCase("mul (x * c)", lambda x: x * c, lambda g, out, x: g * c),
        OpCase("tanh", lambda x: x.tanh() if isinstance(x, at.Tensor) else np.tanh(x),
               lambda g, out, x: g * (1.0 - out * out)),
        OpCase("sqrt", lambda x: x.sqrt() if isinstance(x, at.Tensor) else np.sqrt(x), lambda g, out, x: g * 0.5 / out),
        OpCase("matmul (x @ W)", lambda x: x @ W, lambda g, out, x: g @ W.T),
        OpCase("transpose (x.T)", lambda x: x.T, lambda g, out, x: g.T),
    ]


def _chain(forward: Callable[[Any], Any], x: Any, length: int) -> Any:
    for _ in range(length):
        x = forward(x)
    return x


def measure_case(case: OpCase, settings: Settings) -> dict[str, float]:
    rng = np.random.default_rng(0)
    value = rng.uniform(0.1, 0.9, size=(4, 4))  # positive, so chains of sqrt stay defined
    constant = at.Tensor(value)
    variable = at.Tensor(value.copy(), requires_grad=True)
    out_value = case.forward(value)
    g = np.ones_like(out_value)
    no_grad = at.no_grad()

    def under_no_grad() -> Any:  # NO_GRAD_OPS ops per block, so entering the block hardly counts
        with no_grad:
            for _ in range(NO_GRAD_OPS):
                case.forward(variable)

    def chain_forward() -> Any:
        return _chain(case.forward, variable, CHAIN)

    def chain_backward() -> None:
        variable.grad = None
        _chain(case.forward, variable, CHAIN).backward(g)

    def one_forward() -> Any:
        return case.forward(variable)

    def one_backward() -> None:
        variable.grad = None
        case.forward(variable).backward(g)

    timings = measure({
        "numpy_fwd": lambda: case.forward(value),
        "constant": lambda: case.forward(constant),
        "no_grad": under_no_grad,
        "recording": one_forward,
        "numpy_vjp": lambda: case.vjp(g, out_value, value),
        "chain_forward": chain_forward,
        "chain_backward": chain_backward,
        "one_backward": one_backward,
    }, settings)
    t = {name: timing.median for name, timing in timings.items()}
    return {
        "numpy_fwd": t["numpy_fwd"], "constant": t["constant"], "no_grad": t["no_grad"] / NO_GRAD_OPS,
        "recording": t["recording"], "bookkeeping": t["recording"] - t["constant"],
        "numpy_vjp": t["numpy_vjp"], "backward": (t["chain_backward"] - t["chain_forward"]) / CHAIN,
        "fixed": t["one_backward"] - t["recording"],
    }


def run(quick: bool = False) -> dict[str, Any]:
    settings = Settings.for_mode(quick)
    rows = {}
    for case in _cases():
        log(f"overhead: {case.name}")
        rows[case.name] = measure_case(case, settings)
    return {"chain": CHAIN, "tensor_shape": [4, 4], "ops": rows}


def report(results: dict[str, Any]) -> str:
    header = ["op", "numpy fwd", "constant", "no_grad", "recording", "bookkeeping", "numpy vjp",
              f"backward / op (chain of {results['chain']})", "fixed backward cost"]
    rows = []
    for name, r in results["ops"].items():
        rows.append([name] + [microseconds(r[key]) for key in
                              ("numpy_fwd", "constant", "no_grad", "recording", "bookkeeping", "numpy_vjp",
                               "backward", "fixed")])
    return "\n".join([
        "## Per-op overhead on 4x4 float64 tensors",
        "",
        "Median microseconds.  `constant`: inputs need no gradient; `no_grad`: inputs require grad "
        "but inside `at.no_grad()` (ten ops per block); `recording`: the graph node is made; "
        "`bookkeeping` = recording - constant.  `backward / op` is measured on a chain, `fixed "
        "backward cost` is one backward pass through a one-op graph (seed, ordering, storing "
        "`.grad`).  Most of the forward overhead is wrapping every result in a Tensor, which "
        "happens with or without recording; linking the node into the graph costs little.",
        "",
        markdown_table(header, rows),
    ])


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (CI)")
    args = parser.parse_args(argv)
    results = run(quick=args.quick)
    print(describe_machine(machine()))
    print()
    print(report(results))
    return results


if __name__ == "__main__":
    main()
