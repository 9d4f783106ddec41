"""Gradient hooks: ``t.register_hook(fn)`` lets ``fn`` see, and replace, ``t``'s gradient.

PyTorch's semantics.  A hook runs once the backward pass has the tensor's *whole* gradient
(every consumer has sent its share), before that gradient is used: for a leaf, before it is
added into ``.grad``; for a computed tensor, before its op's rules pull it back to the op's
inputs (and before ``retain_grad()`` keeps it); for an input of ``at.grad``, before it is
returned.  ``fn(grad)`` gets a Tensor and returns ``None`` (the gradient goes on unchanged) or
a replacement of the same shape.  Several hooks run in the order they were registered, each
seeing what the previous one returned.  ``register_hook`` returns a handle whose ``remove()``
unregisters the hook (also usable as ``with t.register_hook(fn):``).

In an ordinary backward pass the hook sees a constant Tensor around a *read-only* view of the
gradient (an in-place edit there could reach another tensor's gradient; return a new value
instead); with ``create_graph=True`` it sees the recorded gradient, a Tensor carrying a graph,
and what it computes is recorded too.

Inside ``at.compile`` hooks run while the step is traced, on traced values, so what they
compute is part of the generated code and repeated by every replay; their Python side effects
(printing, appending to a list) happen at trace time only, like any Python code that touches no
tensor.  Registering or removing a hook on a tensor made outside a compiled function makes its
traces stale (they are traced anew), so a replay never runs a hook set that eager code would not.

Cost when no tensor has a hook: one slot read per node of the backward pass.
"""
from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from autotensor.conversion import describe, raw, to_array
from autotensor.errors import DTypeError, GraphError, ShapeError
from autotensor.state import per_thread
from autotensor.tensor import Tensor, leaf

Hook = Callable[[Tensor], Any]
_keys = itertools.count()  # one key per registration: removal finds exactly its own hook


class HookState:
    """For ``at.compile``: the tensors that traces read from outside (``watched``), and how many
    times hooks were registered on them or removed from them (``changes``).  A trace that read
    such tensors is valid only while ``changes`` stays what it was (a guard); hooks on other
    tensors, such as the intermediate values of an eager step, change nothing."""

    changes = 0
    # id -> tensor, held weakly (not a WeakSet: that compares tensors with ==, elementwise)
    watched: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()

    @classmethod
    def watch(cls, tensor: Tensor) -> int:
        """Watch ``tensor`` for hook changes and return the current count (for a trace's guard)."""
        cls.watched[id(tensor)] = tensor
        return cls.changes


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook (a second call does
    nothing).  It does not keep the tensor alive."""

    __slots__ = ("_tensor", "_key")

    def __init__(self, tensor: Tensor, key: int) -> None:
        self._tensor = weakref.ref(tensor)
        self._key = key

    def remove(self) -> None:
        tensor = self._tensor()
        hooks = None if tensor is None else tensor._hooks
        if hooks is None or self._key not in hooks:
            return
        del hooks[self._key]
        if not hooks:
            tensor._hooks = None  # back to the fast path
        _note_change(tensor)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_hook(tensor: Tensor, hook: Hook) -> RemovableHandle:
    """Run ``hook(grad)`` whenever backward has ``tensor``'s whole gradient (module docstring)."""
    if not callable(hook):
        raise DTypeError(f"register_hook: the hook must be callable, got {describe(hook)}")
    if not tensor._requires_grad:
        raise GraphError(
            f"register_hook: the tensor of shape {tensor.shape} does not require grad, so no gradient "
            f"reaches it; register hooks on tensors with requires_grad=True or computed from one"
        )
    hooks = tensor._hooks
    if hooks is None:
        hooks = tensor._hooks = {}
    key = next(_keys)
    hooks[key] = hook
    _note_change(tensor)
    return RemovableHandle(tensor, key)


def _note_change(tensor: Tensor) -> None:
    """Count a change of the hooks of a tensor a trace read from outside (see :class:`HookState`)."""
    if HookState.watched.get(id(tensor)) is tensor:
        HookState.changes += 1


def run_hooks(node: Tensor, g: Any, create_graph: bool) -> Any:
    """``node``'s complete gradient ``g`` after its hooks (backward calls this)."""
    tracer = per_thread.switches.tracer
    if tracer is not None:
        tracer.rule_origin = "backward: gradient hook" + (f" ({node.scope})" if node.scope else "")
    for hook in list(node._hooks.values()):  # a hook may remove itself (or others) while running
        replacement = hook(_as_seen(g))
        if replacement is not None:
            g = _replacing(node, replacement, create_graph)
    return g


def _as_seen(g: Any) -> Tensor:
    """The gradient as a hook sees it: a recorded Tensor as it is; an array read-only."""
    if isinstance(g, Tensor):
        return g
    if isinstance(g, (np.ndarray, np.generic)):
        g = np.asarray(g).view()
        g.flags.writeable = False
    return leaf(g)  # (a traced array while at.compile traces)


def _replacing(node: Tensor, value: Any, create_graph: bool) -> Any:
    """A hook's return value as the gradient backward goes on with."""
    if isinstance(value, Tensor):
        new = value if create_graph else value.data
    elif create_graph:
        new = leaf(to_array(value, what="register_hook"))
    else:
        new = to_array(raw(value), what="register_hook")
    if new.shape != node.shape:
        raise ShapeError(
            f"register_hook: a hook returned a gradient of shape {new.shape} for a tensor of shape "
            f"{node.shape}; return a gradient of the tensor's shape, or None to keep it"
        )
    return new
