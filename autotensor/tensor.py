"""The :class:`Tensor`: an ndarray plus, when it was computed by an op, the node of the graph.

A tensor made by the user is a *leaf* (``_op is None``).  A tensor made by an op that had at
least one input requiring a gradient remembers the op, its inputs (``_parents``) and the
op's static parameters (axis, shape, index ...); that is the whole graph.  There are no
separate node objects and no closures: the derivative rule lives with the op in the registry
and receives the values it needs when the backward pass calls it, so the graph holds no
reference cycles and is freed by plain reference counting.

**Version counters.**  A backward pass reads the values the forward pass saw, so every in-place
edit made through a Tensor (``+=``, slice assignment, an optimiser step) bumps a counter, and
backward refuses when a value it needs has changed since it was recorded.  Tensors that share
memory share one counter: a view (``reshape``, ``.T``, ``transpose``, ``swapaxes``) and
``detach()`` use their base's, so an edit through any of them is seen by all.  The counter is a
one-element list, a mutable integer cell that several tensors can hold.

The operators and op methods (``x + y``, ``x.tanh()``) are in :mod:`autotensor.methods`; the
numpy protocols (``__array__``, ``__array_ufunc__``, ``__array_function__``) in
:mod:`autotensor.interop`; display, formatting and the everyday conveniences (``repr``,
``f"{loss:.4f}"``, ``tolist``, ``zero_``, ``argmax``, ``register_hook``) in
:mod:`autotensor.habits`.
"""
from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from autotensor.errors import AnomalyError, DTypeError, GraphError, ShapeError
from autotensor.habits import TensorHabits
from autotensor.methods import TensorMethods
from autotensor.state import per_thread, tracing_threads

if TYPE_CHECKING:
    from autotensor.registry import Op

TensorLike = Union["Tensor", np.ndarray, float, int, list, tuple]
# Counts switches of requires_grad on any tensor: one integer a compiled step compares to know
# that none of the tensors it reads changed its mind since the last call.
requires_grad_changes = [0]
VersionCounter = list  # [number of in-place edits], shared by a tensor and its views


class Tensor(TensorMethods, TensorHabits):
    """An n-dimensional array that records the ops applied to it, for reverse-mode autodiff.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``.  Python data (numbers, lists)
    becomes float64; an ndarray keeps its dtype and is *not* copied (nor is a Tensor's data:
    ``Tensor(t)`` shares ``t``'s memory and version counter).  Only floating tensors may
    require gradients.  After ``loss.backward()`` every leaf with ``requires_grad=True`` holds
    ``d loss / d leaf`` in ``.grad`` (a Tensor); gradients *accumulate* across backward calls
    (set ``.grad = None`` to reset), as in PyTorch.
    """

    __slots__ = (
        "data", "_grad", "name", "scope", "_requires_grad", "_retains_grad", "_version",
        "_op", "_parents", "_params", "_saved_versions", "_trace", "_hooks", "__weakref__",
    )
    # Let numpy hand ``ndarray + Tensor`` and ``ndarray @ Tensor`` to us (see __array_ufunc__).
    __array_priority__ = 1000

    def __init__(
        self, data: TensorLike, requires_grad: bool = False, *, dtype: Any = None, name: str | None = None
    ) -> None:
        _conversion.refuse_recorded_tensors(data, "Tensor")
        self.data = _conversion.to_array(data, dtype)
        shares = isinstance(data, Tensor) and self.data is data.data
        self._version: VersionCounter = data._version if shares else [0]
        self._grad: Tensor | None = None
        self.name = name
        self.scope: str | None = None
        self._requires_grad = False
        self._retains_grad = False
        self._op: Op | None = None
        self._parents: tuple[Tensor, ...] | None = ()
        self._params: dict[str, Any] | None = None
        self._saved_versions: tuple[int, ...] | None = None
        self._trace: str | None = None
        self._hooks: dict[int, Any] | None = None  # gradient hooks (autotensor.hooks), rarely any
        if requires_grad:
            self.requires_grad = True

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (leaves: whether ``.grad`` is filled in)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self.data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad: only floating tensors can require gradients, this one has dtype "
                f"{self.data.dtype} and shape {self.data.shape}; convert it first, e.g. "
                f"Tensor(x.data.astype(float))"
            )
        if not flag and self._op is not None:
            raise GraphError("requires_grad: cannot switch off on a computed tensor; use .detach()")
        if self._requires_grad != bool(flag):
            requires_grad_changes[0] += 1  # a compiled step re-checks the tensors it reads
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (for chaining)."""
        self.requires_grad = flag
        return self

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward stored (leaves, and non-leaves that ``retain_grad()``), or None.

        Backward (and a compiled step) stores the bare array; it becomes a Tensor the first
        time it is read, so a gradient nobody reads costs no Tensor."""
        g = self._grad
        if type(g) is np.ndarray:
            g = self._grad = leaf(g)
        return g

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and not isinstance(value, Tensor):
            raise DTypeError(f"grad: must be a Tensor or None, got {type(value).__name__}")
        if value is not None and value.shape != self.data.shape:
            raise ShapeError(f"grad: a gradient of shape {value.shape} for a tensor of shape {self.shape}")
        if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
            tracer.grad_assigned(self, value)  # at.compile: the replay assigns it too
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (or under ``no_grad``), False for recorded results."""
        return self._op is None

    @property
    def op_name(self) -> str | None:
        """Name of the op that produced this tensor (``None`` for leaves)."""
        return None if self._op is None else self._op.name

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The inputs of the op that produced this tensor (empty for leaves and freed graphs)."""
        return self._parents or ()

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def version(self) -> int:
        """How many in-place edits this tensor's memory has seen (shared with its views)."""
        return self._version[0]

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied: editing it bypasses the version counter)."""
        return self.data

    def item(self) -> float:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ShapeError(f"item: only one-element tensors convert to a number, this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data and version counter, cut off from the graph."""
        out = leaf(_conversion.as_tensor(self).data)  # (a proxy's data while at.compile traces)
        out._version = self._version
        return out

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` for this non-leaf after backward (e.g. a layer's delta = dJ/dz)."""
        if not self._requires_grad:
            raise GraphError("retain_grad: the tensor does not require grad, so no gradient reaches it")
        self._retains_grad = True
        return self

    def backward(self, grad: TensorLike | None = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate ``d self / d leaf`` (times ``grad``) into ``.grad`` of every leaf.

        ``grad`` is the upstream gradient, required unless this tensor has one element.  The
        graph is freed afterwards unless ``retain_graph`` (or ``create_graph``) is set; with
        ``create_graph`` the backward pass is itself recorded, so the gradients can be
        differentiated again.
        """
        _backward.backward((self,), None if grad is None else (grad,), retain_graph, create_graph)

    # ----------------------------------------------------------------- numpy protocols
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return _interop.array(self, dtype, copy)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _interop.array_function(function, types, args, kwargs)

    # ----------------------------------------------------------------- Python protocols
    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # identity: == is elementwise, as in numpy

    # ----------------------------------------------------------------- in-place edits
    # In-place edits change data that a recorded op may need in its backward pass.  They are
    # allowed only where nothing is being recorded (under no_grad, or on tensors outside any
    # graph), and each bumps the version counter so a backward that needs the old value refuses.
    def __iadd__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("+=", np.add, other)

    def __isub__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("-=", np.subtract, other)

    def __imul__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("*=", np.multiply, other)

    def __itruediv__(self, other: TensorLike) -> Tensor:
        return self._edit_in_place("/=", np.divide, other)

    def __setitem__(self, index: Any, value: TensorLike) -> None:
        new = self._in_place_operand("slice assignment", value)
        try:
            self._data_to_edit()[_conversion.index_value(index)] = new
        except (ValueError, IndexError, TypeError) as error:
            raise ShapeError(
                f"slice assignment: cannot assign a value of shape {np.shape(new)} into "
                f"a tensor of shape {self.shape} at {index!r} ({error})"
            ) from None
        self._version[0] += 1

    def _edit_in_place(self, symbol: str, ufunc: np.ufunc, other: TensorLike) -> Tensor:
        value = self._in_place_operand(symbol, other)
        data = self._data_to_edit()
        try:
            ufunc(data, value, data)  # out positionally; casting is numpy's default "same_kind"
        except ValueError as error:
            raise ShapeError(
                f"{symbol}: cannot update a tensor of shape {self.shape} in place with a value of "
                f"shape {np.shape(value)} ({error})"
            ) from None
        except TypeError:  # numpy's casting error, e.g. a float result into an int tensor
            raise DTypeError(
                f"{symbol}: cannot store a {np.result_type(value)} result in a tensor of dtype {self.dtype} in place"
            ) from None
        self._version[0] += 1
        return self

    def _data_to_edit(self) -> Any:
        """The array an in-place edit writes into: the data, or while this thread traces a
        compiled function, its traced stand-in (and the replay will bump the counter too)."""
        if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
            data = tracer.operand(self).data
            tracer.edited(self)
            return data
        return self.data

    def _in_place_operand(self, what: str, other: Any) -> Any:
        """The value to write, after checking that the edit is allowed and the target writable."""
        other_needs_grad = isinstance(other, Tensor) and other._requires_grad
        if per_thread.switches.grad_enabled and (self._requires_grad or other_needs_grad):
            rewrite = f"write `x = x {what[:-1]} y` to record it, or " if what.endswith("=") else ""
            raise GraphError(
                f"{what}: in-place edit of a tensor of shape {self.shape} that takes part in "
                f"gradient recording; {rewrite}wrap parameter updates in `with at.no_grad():`"
            )
        if not self.data.flags.writeable:
            raise GraphError(f"{what}: the tensor of shape {self.shape} holds a read-only array")
        if isinstance(other, Tensor):
            return _conversion.as_tensor(other).data  # (a proxy's data while at.compile traces)
        if isinstance(other, (np.ndarray, np.generic)) or type(other) in (float, int, bool):
            return other
        return _conversion.to_array(other, what=what)


def arrays(*values: Tensor | np.ndarray) -> list[Any]:
    """The arrays of tensors (and ndarrays, as they are) for library code that computes on them
    with numpy directly, such as an optimiser's update and its buffers.

    Eagerly that is their data.  While this thread traces a compiled function, it is traced
    stand-ins bound to them, so that the generated code repeats the computation (and the
    in-place edits of buffers) at every call.  Editing these arrays bypasses version counters;
    edit a tensor through the Tensor (``p -= step``) to bump its counter.
    """
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
        return tracer.arrays(values)
    return [value.data if isinstance(value, Tensor) else value for value in values]


def grads(*tensors: Tensor) -> list[Any]:
    """The arrays of the tensors' gradients, None where a tensor has none (see :func:`arrays`);
    while tracing, a gradient from before the call is read afresh at every call."""
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
        return [tracer.grad_array(tensor) for tensor in tensors]
    return [grad_data(tensor) for tensor in tensors]


def grad_data(tensor: Tensor) -> Any:
    """The array of ``tensor``'s gradient (or None), without making a Tensor of it."""
    g = tensor._grad
    return g if g is None or type(g) is np.ndarray else g.data


def record(data: Any, op: Op, parents: tuple[Tensor, ...], params: dict[str, Any] | None = None) -> Tensor:
    """Wrap an op's forward result in a Tensor and, if any input needs a gradient, link it in.

    This is the only place graph nodes are made.  It is on every op's hot path, so it builds the
    object directly and stores the least that backward needs.
    """
    if type(data) is not np.ndarray and isinstance(data, np.generic):  # ufuncs on 0-d arrays return scalars
        data = np.asarray(data)
    switches = per_thread.switches
    out = Tensor.__new__(Tensor)
    out.data = data
    out._grad = None
    out.name = None
    out.scope = switches.scope
    out._retains_grad = False
    out._trace = None
    out._hooks = None
    # A view shares its base's counter, with or without recording (an edit through either is
    # an edit of both); everything else starts a counter of its own.
    out._version = parents[0]._version if op.view and _is_view_of(data, parents[0].data) else [0]
    if switches.grad_enabled:
        for parent in parents:
            if parent._requires_grad:
                out._requires_grad = True
                out._op = op
                out._parents = parents
                out._params = params
                # Remember input versions only for rules that read input values (see _check_saved);
                # this is op.saves_inputs, tested on the string to spare a property call per op.
                out._saved_versions = tuple([p._version[0] for p in parents]) if "inputs" in op.saves else None
                if switches.anomaly:
                    out._trace = "".join(traceback.format_stack(limit=8)[:-2])
                break
        else:
            _make_constant(out)
    else:
        _make_constant(out)
    if switches.tracer is not None:
        switches.tracer.recorded(out, op, switches)
    elif switches.anomaly and data.dtype.kind == "f" and not np.isfinite(data).all():
        raise AnomalyError(
            f"detect_anomaly: {op.name} produced NaN/Inf in its forward output of shape {data.shape} "
            f"(inputs of shapes {[p.shape for p in parents]})"
        )
    return out


def _is_view_of(data: Any, source: Any) -> bool:
    """Whether a view op's result shares ``source``'s memory (reshape may have to copy).  numpy
    points a view's ``base`` at the array owning the memory, which answers without the cost of
    ``np.may_share_memory`` in the usual cases; a copy owns its memory (``base`` is None)."""
    if type(data) is not np.ndarray or type(source) is not np.ndarray:  # traced values (at.compile) ask numpy
        return bool(np.may_share_memory(data, source))
    base = data.base
    if base is None:
        return False
    return base is source or base is source.base or bool(np.may_share_memory(data, source))


def leaf(data: np.ndarray) -> Tensor:
    """A constant Tensor around an ndarray the engine made itself (no validation: hot path)."""
    out = Tensor.__new__(Tensor)
    out.data = data
    out._grad = None
    out.name = None
    out.scope = None
    out._retains_grad = False
    out._version = [0]
    out._trace = None
    out._hooks = None
    _make_constant(out)
    return out


def _make_constant(out: Tensor) -> None:
    out._requires_grad = False
    out._op = None
    out._parents = ()
    out._params = None
    out._saved_versions = None


# The modules below import Tensor from this one, so they are bound after the class exists.
from autotensor import conversion as _conversion  # noqa: E402
from autotensor import interop as _interop  # noqa: E402
from autotensor import backward as _backward  # noqa: E402
from autotensor import methods as _methods, ops as _ops  # noqa: E402

_methods.ops = _ops  # the methods call the ops, which could not be imported before Tensor existed
