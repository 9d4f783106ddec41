"""Functional transforms: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

PyTorch's conventions (``torch.func.vjp`` and ``torch.func.jvp``; ``jacobian``, ``hessian`` and
``hvp`` as in ``torch.autograd.functional``).  ``fn`` takes Tensors and returns a Tensor or a
tuple of Tensors; inputs may be Tensors, ndarrays or Python numbers (made float64).  A *tuple*
means several inputs (or outputs); anything else is one.  Results are Tensors.

Every transform evaluates ``fn`` on fresh leaves that require grad, recording even under
``no_grad``, and differentiates with :func:`autotensor.grad`, so each op's derivative lives in
one place, its registered rule.  With ``create_graph=False`` (the default) results are
constants.  With ``create_graph=True`` they carry a graph: the fresh inputs are recorded views
of Tensors that require grad (not cut off), and the backward passes are recorded, so results
can be differentiated again, with respect to the original inputs too.

**Forward mode by the double vjp.**  There are no forward-mode rules: ``jvp`` computes ``J v``
from the rules that compute ``J^T u``.  The map ``u -> J^T u`` is linear in ``u``, and
recording it (a backward pass with ``create_graph=True`` from an upstream gradient ``u`` that
requires grad) gives a graph whose vector-Jacobian product with ``v`` is
``d <J^T u, v> / du = J v``.  The cost: the forward pass, a recorded backward pass (the rules
run on Tensors and build a graph), and a backward pass through that graph alone (``grad``
pulls gradients back only towards its inputs, here ``u``, so no forward op's rule runs again).
``benchmarks/transforms.py`` measures 1.3x (a wide network, bound by arithmetic) to 2.6x (a
chain of tiny ops, bound by per-op overhead) the time of one vjp, forward and backward; a
forward-mode rule per op would be faster but would put every op's derivative in two places.

``jacobian`` builds one row per output element by vector-Jacobian products with the unit
vectors (reusing one recorded forward pass); ``hessian`` is the jacobian of the gradient;
``hvp`` is one vjp of the recorded gradient with ``v``, which equals ``H v`` since the Hessian
of a twice-differentiable function is symmetric.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autotensor.backward import grad
from autotensor.conversion import as_tensor, describe, raw, to_array
from autotensor.errors import ArgumentError, DTypeError, ShapeError
from autotensor.ops.shape import stack
from autotensor.state import enable_grad
from autotensor.tensor import Tensor, leaf

Function = Callable[..., Any]


class _Evaluation:
    """``fn`` evaluated at its inputs with the graph kept, ready to pull cotangents back."""

    def __init__(self, transform: str, fn: Function, inputs: tuple[Any, ...], create_graph: bool) -> None:
        if not callable(fn):
            raise DTypeError(f"{transform}: fn must be a function of tensors, got {describe(fn)}")
        self.transform = transform
        self.inputs = tuple(_differentiable(transform, number, x, create_graph) for number, x in enumerate(inputs))
        with enable_grad():
            result = fn(*self.inputs)
        self.several_outputs = isinstance(result, (tuple, list))
        if self.several_outputs and not result:
            raise ArgumentError(f"{transform}: fn returned an empty {type(result).__name__}")
        items = tuple(result) if self.several_outputs else (result,)
        self.outputs = tuple(_output(transform, number, item) for number, item in enumerate(items))

    def values(self, keep_graph: bool) -> Any:
        """The outputs as fn returned them (a Tensor or a tuple), constants unless ``keep_graph``."""
        values = tuple(out if keep_graph else out.detach() for out in self.outputs)
        return values if self.several_outputs else values[0]

    def pull_back(self, cotangents: tuple[Any, ...], create_graph: bool) -> tuple[Tensor, ...]:
        """``sum_i J_i^T c_i`` for each input (zeros where it does not depend on the outputs);
        a cotangent of None stands for zeros."""
        live = [(out, c) for out, c in zip(self.outputs, cotangents) if c is not None and out.requires_grad]
        found: tuple[Any, ...] = (None,) * len(self.inputs)
        if live:
            found = grad([out for out, _ in live], self.inputs, grad_outputs=[c for _, c in live],
                         retain_graph=True, create_graph=create_graph, allow_unused=True)
        return tuple(_zeros_like(x) if g is None else g for g, x in zip(found, self.inputs))

    def cotangent(self, number: int, value: Any, create_graph: bool) -> Any:
        """An upstream gradient for output ``number``: its shape, its dtype, a Tensor kept as it
        is when the pass is recorded."""
        out = self.outputs[number]
        if create_graph and isinstance(value, Tensor):
            array: Any = value
        else:
            array = to_array(raw(value), what=f"{self.transform}: cotangent").astype(out.dtype, copy=False)
        if array.shape != out.shape:
            raise ShapeError(f"{self.transform}: the vector for output {number} has shape {array.shape}, "
                             f"the output has shape {out.shape}")
        return array


def _differentiable(transform: str, number: int, x: Any, create_graph: bool) -> Tensor:
    """A leaf of ``x``'s values that requires grad; with ``create_graph``, a Tensor that already
    requires grad stays connected to its graph (a recorded view of it)."""
    if isinstance(x, Tensor) and x.requires_grad and create_graph:
        with enable_grad():
            return x.reshape(x.shape)
    tensor = as_tensor(x, op=transform)
    if tensor.dtype.kind != "f":
        raise DTypeError(f"{transform}: input {number} has dtype {tensor.dtype}; differentiate floating "
                         f"inputs (convert with .astype(float))")
    fresh = leaf(tensor.data)
    fresh._version = tensor._version  # the same memory, the same counter (as detach())
    fresh.requires_grad = True
    return fresh


def _output(transform: str, number: int, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        return as_tensor(value, op=transform)  # does not depend on the inputs: a constant
    raise DTypeError(f"{transform}: fn must return a Tensor or a tuple of Tensors, got {describe(value)} "
                     f"as output {number}")


def _zeros_like(x: Tensor) -> Tensor:
    return leaf(np.zeros(x.shape, dtype=x.dtype))


def _inputs(transform: str, inputs: Any) -> tuple[tuple[Any, ...], bool]:
    """The inputs as a tuple, and whether they were given as one (several inputs)."""
    if isinstance(inputs, tuple):
        if not inputs:
            raise ArgumentError(f"{transform}: needs at least one input")
        return inputs, True
    return (inputs,), False


def _one_element(transform: str, out: Tensor) -> Tensor:
    if out.data.size != 1:
        raise ShapeError(f"{transform}: fn must return a single value (one element), got shape {out.shape}")
    return out.reshape(()) if out.ndim else out


# ------------------------------------------------------------------------- vjp and jvp
def vjp(fn: Function, *primals: Any, create_graph: bool = False) -> tuple[Any, Callable[[Any], tuple[Tensor, ...]]]:
    """``(outputs, vjp_fn)``: ``fn(*primals)`` and the function that pulls cotangents back.

    ``vjp_fn(cotangents)`` takes one cotangent per output (a tuple when fn returns a tuple;
    Tensors, arrays or numbers of the outputs' shapes) and returns a tuple with ``J^T c`` for
    each primal.  It may be called many times (the graph is kept while it lives).
    """
    evaluation = _Evaluation("vjp", fn, primals, create_graph)
    count = len(evaluation.outputs)

    def vjp_fn(cotangents: Any) -> tuple[Tensor, ...]:
        several = evaluation.several_outputs and isinstance(cotangents, (tuple, list))
        given = tuple(cotangents) if several else (cotangents,)
        if len(given) != count:
            raise ArgumentError(f"vjp: fn returned {count} output(s), vjp_fn got {len(given)} cotangent(s)")
        return evaluation.pull_back(
            tuple(evaluation.cotangent(i, c, create_graph) for i, c in enumerate(given)), create_graph)

    return evaluation.values(create_graph), vjp_fn


def jvp(fn: Function, primals: Any, tangents: Any, create_graph: bool = False) -> tuple[Any, Any]:
    """``(outputs, tangents_out)``: ``fn(*primals)`` and ``J v``, the directional derivative
    along ``tangents`` (one per primal, of its shape), by the double vjp (module docstring)."""
    primals, several = _inputs("jvp", primals)
    tangents = tangents if isinstance(tangents, tuple) else (tangents,)
    if len(tangents) != len(primals) or (not several and len(tangents) != 1):
        raise ArgumentError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s)")
    evaluation = _Evaluation("jvp", fn, primals, create_graph)
    vectors = []
    for number, (x, v) in enumerate(zip(evaluation.inputs, tangents)):
        vector = v if create_graph and isinstance(v, Tensor) else to_array(raw(v), what="jvp: tangent").astype(x.dtype)
        if vector.shape != x.shape:
            raise ShapeError(f"jvp: tangent {number} has shape {vector.shape}, its primal has shape {x.shape}")
        vectors.append(vector)
    # u -> J^T u, recorded from upstream gradients u that require grad (their values do not matter).
    upstream = [Tensor(np.zeros(out.shape, dtype=out.dtype), requires_grad=True) for out in evaluation.outputs]
    pulled = evaluation.pull_back(tuple(upstream), create_graph=True)
    live = [(p, v) for p, v in zip(pulled, vectors) if p.requires_grad]
    found: tuple[Any, ...] = (None,) * len(upstream)
    if live:
        found = grad([p for p, _ in live], upstream, grad_outputs=[v for _, v in live],
                     create_graph=create_graph, allow_unused=True)
    out_tangents = tuple(_zeros_like(out) if g is None else g for g, out in zip(found, evaluation.outputs))
    return evaluation.values(create_graph), out_tangents if evaluation.several_outputs else out_tangents[0]


# ------------------------------------------------------------------------- jacobian, hessian, hvp
def jacobian(fn: Function, inputs: Any, create_graph: bool = False) -> Any:
    """d fn / d inputs, of shape ``output.shape + input.shape``.

    One input and one output: a Tensor.  A tuple of inputs or of outputs: a tuple over the one
    that is a tuple.  Both: ``J[i][j]`` = d output i / d input j.
    """
    inputs, several_inputs = _inputs("jacobian", inputs)
    evaluation = _Evaluation("jacobian", fn, inputs, create_graph)
    blocks = [_jacobian_row(evaluation, number, create_graph) for number in range(len(evaluation.outputs))]
    rows = [tuple(row) if several_inputs else row[0] for row in blocks]
    return tuple(rows) if evaluation.several_outputs else rows[0]


def _jacobian_row(evaluation: _Evaluation, number: int, create_graph: bool) -> list[Tensor]:
    """d output ``number`` / d each input, built from one vjp per element of the output."""
    out = evaluation.outputs[number]
    none: list[Any] = [None] * len(evaluation.outputs)
    per_input: list[list[Tensor]] = [[] for _ in evaluation.inputs]
    if out.requires_grad:
        for index in np.ndindex(out.shape):
            unit = np.zeros(out.shape, dtype=out.dtype)
            unit[index] = 1.0
            cotangents = list(none)
            cotangents[number] = unit
            for column, g in zip(per_input, evaluation.pull_back(tuple(cotangents), create_graph)):
                column.append(g)
    row = []
    for x, column in zip(evaluation.inputs, per_input):
        shape = out.shape + x.shape
        if not column or not any(g.requires_grad for g in column) and not create_graph:
            data = np.stack([g.data for g in column]) if column else np.zeros(shape, np.result_type(out.dtype, x.dtype))
            row.append(leaf(data.reshape(shape)))
        else:
            row.append(stack(column).reshape(shape))
    return row


def hessian(fn: Function, inputs: Any, create_graph: bool = False) -> Any:
    """The second derivatives of a function with one output element: shape ``in.shape +
    in.shape`` for one input; ``H[i][j]`` = d^2 f / d input i d input j for a tuple of inputs."""
    inputs, several = _inputs("hessian", inputs)

    def gradient(*xs: Tensor) -> Any:
        out = _one_element("hessian", _output("hessian", 0, fn(*xs)))
        found: tuple[Any, ...] = (None,) * len(xs)
        if out.requires_grad:
            found = grad(out, xs, create_graph=True, allow_unused=True)
        grads = tuple(_zeros_like(x) if g is None else g for g, x in zip(found, xs))
        return grads if several else grads[0]

    return jacobian(gradient, inputs if several else inputs[0], create_graph=create_graph)


def hvp(fn: Function, inputs: Any, v: Any, create_graph: bool = False) -> tuple[Tensor, Any]:
    """``(value, H v)``: the value of a function with one output element and its Hessian times
    ``v`` (one vector per input, of its shape), without forming the Hessian."""
    inputs, several = _inputs("hvp", inputs)
    vectors = v if isinstance(v, tuple) else (v,)
    if len(vectors) != len(inputs):
        raise ArgumentError(f"hvp: {len(inputs)} input(s) but {len(vectors)} vector(s)")
    evaluation = _Evaluation("hvp", fn, inputs, create_graph)
    if evaluation.several_outputs:
        raise ShapeError(f"hvp: fn must return a single value, got {len(evaluation.outputs)} outputs")
    out = _one_element("hvp", evaluation.outputs[0])
    gradients: tuple[Any, ...] = (None,) * len(inputs)
    if out.requires_grad:
        gradients = grad(out, evaluation.inputs, create_graph=True, allow_unused=True)
    pairs = []
    for number, (g, x, vector) in enumerate(zip(gradients, evaluation.inputs, vectors)):
        vector = vector if create_graph and isinstance(vector, Tensor) else to_array(raw(vector), what="hvp: v")
        if vector.shape != x.shape:
            raise ShapeError(f"hvp: v {number} has shape {vector.shape}, its input has shape {x.shape}")
        if g is not None and g.requires_grad:
            pairs.append((g, vector))
    found: tuple[Any, ...] = (None,) * len(inputs)
    if pairs:
        found = grad([g for g, _ in pairs], evaluation.inputs, grad_outputs=[u for _, u in pairs],
                     create_graph=create_graph, allow_unused=True)
    products = tuple(_zeros_like(x) if h is None else h for h, x in zip(found, evaluation.inputs))
    return evaluation.values(create_graph), products if several else products[0]
