"""The backward pass: walk the graph from the outputs to the leaves, applying derivative rules.

The chain rule in reverse: once every consumer of a node has sent its contribution, the node's
gradient is complete and its op's rules pull it back to the op's inputs.  Visiting nodes in
reverse topological order guarantees that; the order is computed with an explicit stack, so
graph depth is limited by memory, not by Python's recursion limit.  Gradients of a node used
several times are summed.  The graph is freed as it is consumed unless asked to retain it.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from autotensor.broadcasting import _ones
from autotensor.conversion import raw, to_array
from autotensor.errors import AnomalyError, GraphError, ShapeError
from autotensor.hooks import run_hooks
from autotensor.state import per_thread
from autotensor.tensor import Tensor, TensorLike, grad_data, leaf

# Backward passes in several threads may reach the same leaves (shared parameters): adding into
# ``.grad`` is a read-modify-write, done under this lock so no contribution is lost.
_GRAD_LOCK = threading.Lock()


def topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that requires grad and is reachable from ``roots``, each listed before the
    inputs of its op (so consumers come before producers).  Iterative depth-first search: a
    node is expanded once (its inputs pushed), and finished when it comes to the top again,
    after everything pushed above it; a node pushed twice is finished once.  Any depth works.

    The stack holds the nodes themselves, nothing per node that the garbage collector tracks
    (a tuple or an iterator per node would be long-lived on a deep graph's path and make it
    walk the whole graph).
    """
    expanded: set[int] = set()
    done: set[int] = set()
    finished: list[Tensor] = []
    stack = [root for root in reversed(roots) if root._requires_grad]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in expanded:
            stack.pop()
            if key not in done:
                done.add(key)
                finished.append(node)
            continue
        expanded.add(key)
        if node._op is None:  # a root that is a leaf: finished when it comes to the top again
            continue
        for parent in _inputs_of(node):
            if parent._requires_grad and id(parent) not in expanded:
                if parent._op is None:  # a leaf has no inputs: finished at once, never pushed
                    expanded.add(id(parent))
                    done.add(id(parent))
                    finished.append(parent)
                else:
                    stack.append(parent)
    finished.reverse()
    return finished


def _inputs_of(node: Tensor) -> tuple[Tensor, ...]:
    if node._parents is None:
        raise GraphError(
            f"backward: the graph through {node._op.name} (output of shape {node.shape}) was already "
            f"freed by an earlier backward pass; call the first backward with retain_graph=True to "
            f"go through it again"
        )
    return node._parents


def backward(
    roots: Sequence[Tensor], grads: Sequence[TensorLike] | None, retain_graph: bool = False, create_graph: bool = False
) -> None:
    """Accumulate d(roots)/d(leaf) . grads into ``.grad`` of leaves and of retain_grad() tensors."""
    _run(roots, grads, retain_graph or create_graph, create_graph, None)  # no targets: fill .grad


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: TensorLike | Sequence[TensorLike] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple of Tensors.

    Unlike ``backward`` nothing is written to ``.grad``.  With ``create_graph=True`` the
    returned gradients are themselves recorded, so ``grad`` can be applied to them again
    (second derivatives, Hessian-vector products).  An input the outputs do not depend on is
    an error unless ``allow_unused=True``, which returns ``None`` for it.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    tracer = per_thread.switches.tracer
    if tracer is not None:  # at.compile: the graph holds the proxies of tensors made outside the trace
        inputs = tuple(tracer.operand(tensor) for tensor in inputs)
    if grad_outputs is not None and (isinstance(grad_outputs, (Tensor, np.ndarray)) or np.isscalar(grad_outputs)):
        grad_outputs = (grad_outputs,)
    for number, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor) or not tensor._requires_grad:
            raise GraphError(f"grad: input {number} does not require grad, so it cannot be differentiated against")
    retain = create_graph if retain_graph is None else retain_graph
    found = _run(outputs, grad_outputs, retain, create_graph, targets=inputs)
    result = []
    for number, tensor in enumerate(inputs):
        gradient = found.get(id(tensor))
        if gradient is None and not allow_unused:
            raise GraphError(
                f"grad: input {number} (shape {tensor.shape}) is not part of the graph of the outputs; "
                f"pass allow_unused=True to get None for it"
            )
        if gradient is not None and not isinstance(gradient, Tensor):
            gradient = leaf(gradient.astype(tensor.dtype, copy=True))
        result.append(gradient)
    return tuple(result)


def _seed(root: Tensor, given: TensorLike | None, create_graph: bool) -> Any:
    """The gradient that starts the pass at ``root`` (ndarray, or Tensor when recording)."""
    if not isinstance(root, Tensor) or not root._requires_grad:
        raise GraphError(
            "backward: the tensor does not require grad: none of the tensors it was computed from has "
            "requires_grad=True, or it was computed under no_grad()"
        )
    if given is None:
        if root.data.size != 1:
            raise GraphError(
                f"backward: the output has shape {root.shape}; pass grad= of that shape (an implicit "
                f"gradient of 1 is only defined for one-element outputs)"
            )
        if create_graph:
            seed = np.ones(root.shape, dtype=root.dtype)
        else:  # a cached read-only 1: the pass never writes into a gradient, and .grad gets a copy
            seed = _one(root.data.shape, root.data.dtype)
    else:
        if create_graph and isinstance(given, Tensor):
            seed = given
        else:
            seed = to_array(raw(given), what="backward: grad").astype(root.dtype, copy=False)
        if seed.shape != root.shape:
            raise ShapeError(f"backward: grad has shape {seed.shape} but the output has shape {root.shape}")
        tracer = per_thread.switches.tracer
        if tracer is not None:  # at.compile: an array given from outside is read afresh at every call
            (seed,) = tracer.arrays((seed,))
    return leaf(seed) if create_graph and not isinstance(seed, Tensor) else seed


_ONES: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}


def _one(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array holding 1 of a one-element ``shape`` ((), (1,), (1, 1) ...), cached."""
    key = (shape, dtype)
    one = _ONES.get(key)
    if one is None:
        one = _ones(1, dtype).reshape(shape)
        _ONES[key] = one
    return one


def _run(
    roots: Sequence[Tensor],
    root_grads: Sequence[TensorLike] | None,
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Tensor] | None,
) -> dict[int, Any]:
    if root_grads is not None and len(root_grads) != len(roots):
        raise ShapeError(f"backward: {len(roots)} output(s) but {len(root_grads)} gradient(s)")
    grads: dict[int, Any] = {}
    for number, root in enumerate(roots):
        _accumulate(grads, id(root), _seed(root, None if root_grads is None else root_grads[number], create_graph))
    order = topological_order(roots)  # raises before anything is written if the graph was freed
    target_ids = None if targets is None else {id(t) for t in targets}
    wanted = None if target_ids is None else _leading_to(order, target_ids)
    found: dict[int, Any] = {}
    switches = per_thread.switches
    previous_mode = switches.grad_enabled
    switches.grad_enabled = create_graph  # record the rules' own ops only when asked to (this thread)
    anomaly = switches.anomaly
    tracer = switches.tracer  # at.compile is recording this pass
    if tracer is not None and create_graph:
        tracer.refuse("differentiates with create_graph=True (the generated code holds no graph)")
    try:
        for position in range(len(order)):
            node = order[position]
            order[position] = None  # type: ignore[call-overload]  # let consumed nodes go early
            g = grads.pop(id(node), None)
            if g is None:
                continue  # reachable, but only through inputs that carried no gradient
            if node._hooks is not None:  # the one check per node hooks cost when there are none
                g = run_hooks(node, g, create_graph)
            if tracer is not None:
                tracer.gradient(node, g)
            if target_ids is not None:
                if id(node) in target_ids:
                    found[id(node)] = g
            elif node._op is None or node._retains_grad:
                if tracer is None:
                    _store_grad(node, g)
                else:
                    tracer.store_grad(node, g)
            if node._op is not None:
                _pull_back(node, g, grads, create_graph, anomaly, wanted)
                if not retain_graph:
                    node._parents = None
                    node._params = None
                    node._saved_versions = None
    finally:
        switches.grad_enabled = previous_mode
        if tracer is not None:
            tracer.backward_done()
    return found



def _leading_to(order: list[Tensor], target_ids: set[int]) -> set[int]:
    """The ids of the nodes in ``order`` from which a target can be reached (the targets too):
    ``grad`` pulls gradients back only into these, not into the rest of the graph (when the
    outputs of a recorded backward pass are differentiated with respect to its upstream
    gradient, as ``jvp`` does, that skips the whole forward graph)."""
    wanted = set(target_ids)
    for node in reversed(order):  # producers before consumers
        if node._op is not None and id(node) not in wanted and any(id(p) in wanted for p in node._parents):
            wanted.add(id(node))
    return wanted


def _pull_back(node: Tensor, g: Any, grads: dict[int, Any], create_graph: bool, anomaly: bool,
               wanted: set[int] | None = None) -> None:
    """Apply the node's derivative rules, adding each input's share into ``grads`` (only for the
    inputs in ``wanted``, if given: those that lead to a target of ``grad``)."""
    op = node._op
    parents = node._parents
    # Values the rules read must not have been edited in place since the forward pass: an
    # output only if the node itself was edited (version > 0), inputs by their saved versions.
    # Compared here, inline, because it runs for most nodes; _check_saved raises the error.
    if node._version[0]:
        _check_saved(node)
    saved = node._saved_versions
    if saved is not None:
        for parent, version in zip(parents, saved):
            if parent._version[0] != version:
                _check_saved(node)
    if create_graph:
        values: Sequence[Any] = parents
        out: Any = node
    else:
        values = [p.data for p in parents]
        out = node.data
    params = node._params
    rules = None if op.variadic else op.vjps
    for argnum, parent in enumerate(parents):
        if not parent._requires_grad or (wanted is not None and id(parent) not in wanted):
            continue
        rule = op.rule(argnum) if rules is None else rules[argnum]
        contribution = rule(g, out, *values, **params) if params else rule(g, out, *values)
        if contribution.shape != parent.data.shape:
            raise ShapeError(
                f"{op.name}: the derivative rule for input {argnum} returned shape {contribution.shape}, "
                f"the input has shape {parent.shape}"
            )
        if anomaly:
            _check_finite_gradient(node, argnum, contribution)
        # _accumulate, inlined: this line runs once per edge of the graph.
        key = id(parent)
        existing = grads.get(key)
        grads[key] = contribution if existing is None else existing + contribution


def _accumulate(grads: dict[int, Any], key: int, contribution: Any) -> None:
    # Out-of-place sum: the first contribution may be a view of another gradient, never mutate it.
    existing = grads.get(key)
    grads[key] = contribution if existing is None else existing + contribution


def _store_grad(node: Tensor, g: Any) -> None:
    """Add ``g`` into ``node.grad`` (a fresh array: gradients never alias each other or data).

    Under a lock: backward passes in two threads may reach the same leaf.
    """
    with _GRAD_LOCK:
        if isinstance(g, Tensor):  # recorded backward: keep the graph of the gradient
            current = node.grad
            node._grad = g if current is None else current + g
            return
        current = grad_data(node)
        if current is not None:
            node._grad = (current + g).astype(node.data.dtype, copy=False)
        # A leaf may adopt a gradient array nobody else holds instead of copying it (PyTorch
        # steals such gradients too): a writable ndarray of the right dtype that owns its memory
        # (not a view) and whose only references are _run's variable, this parameter and
        # getrefcount's argument.  Any other holder (another input's pending gradient, a saved
        # output, the cached seed) raises the count and forces the copy, so no two gradients,
        # and no gradient and some data, ever share memory.  The bare array is stored; reading
        # ``.grad`` makes the Tensor.
        elif (
            node._op is None and type(g) is np.ndarray and g.base is None and g.flags.writeable
            and g.dtype == node.data.dtype and sys.getrefcount(g) <= 3
        ):
            node._grad = g
        else:
            node._grad = np.array(g, dtype=node.data.dtype)


def _check_saved(node: Tensor) -> None:
    """Refuse to differentiate with values that were edited in place after the forward pass."""
    op = node._op
    if op.saves_output and node._version[0] != 0:
        raise GraphError(
            f"backward: {op.name} needs its output of shape {node.shape}, which was modified in place "
            f"after the forward pass (version {node._version[0]}, expected 0)"
        )
    if node._saved_versions is None:
        return
    for number, (parent, saved) in enumerate(zip(node._parents, node._saved_versions)):
        if parent._version[0] != saved:
            raise GraphError(
                f"backward: {op.name} needs its input {number} of shape {parent.shape}, which was modified "
                f"in place after the forward pass (version {parent._version[0]}, saved at version {saved})"
            )


def _check_finite_gradient(node: Tensor, argnum: int, contribution: Any) -> None:
    values = raw(contribution)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        where = f"\nThe forward {node._op.name} was called here:\n{node._trace}" if node._trace else ""
        raise AnomalyError(
            f"detect_anomaly: the derivative rule of {node._op.name} produced NaN/Inf in the gradient "
            f"for its input {argnum} (shape {values.shape}) during backward of the forward op "
            f"{node._op.name} with output shape {node.shape}{where}"
        )
