"""``at.compile(fn)``: trace once per argument signature, replay generated numpy afterwards.

The first call with a new signature (the shapes and dtypes of the array and tensor arguments,
the values of the other arguments, grad mode) *traces*: ``fn`` runs eagerly -- its results and
effects are the eager ones -- while every numpy call it makes is recorded
(:mod:`autotensor.compile.tracer`).  The recording becomes straight-line Python
(:mod:`autotensor.compile.codegen`), and later calls with that signature run it instead of
``fn``: no graph, no derivative rules looked up, no Tensor wrapping -- the backprop the engine
derived, written out.

A replay repeats exactly what depends on the call: it reads every argument, every tensor's
current data (so ``load_state_dict`` between calls is seen) and the hyperparameters of
replayed Python calls (``@at.replayed``: an optimiser's learning rate and step count, a
schedule's step) at every call; it writes every parameter update, stores every gradient and
bumps every version counter that the eager call would.
"""
from __future__ import annotations

import builtins
import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autotensor.compile.checks import RETRACE
from autotensor.compile.codegen import ObjectOutput, TensorOutput, generate
from autotensor.compile.naming import identifier
from autotensor.compile.program import Program
from autotensor.compile.tracer import Guard, Tracer
from autotensor.compile.values import Traced, TracedNumber
from autotensor.errors import TraceError
from autotensor.nested import map_leaves
from autotensor.state import per_thread, tracing_threads
from autotensor.tensor import Tensor, leaf

_TRACING_LOCK = threading.Lock()
MAX_VARIANTS = 8  # traces kept per signature, for different guard states (train/eval, gradients ...)


@dataclass
class Trace:
    """One traced signature: the replay function, its source and the guards it was traced under."""

    replay: Callable[..., Any]
    source: str
    bindings: dict[str, Any]
    program: Program | None = None
    # The replay writes into buffers allocated once: two threads replaying at once take turns.
    lock: Any = field(default_factory=threading.Lock)


class CompiledFunction:
    """A function that traces itself once per signature and replays the generated code after."""

    def __init__(self, function: Callable[..., Any]) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.traces: dict[tuple[Any, ...], list[Trace]] = {}
        self._parameters = list(inspect.signature(function).parameters)

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        switches = per_thread.switches
        if switches.anomaly:
            raise TraceError(f"at.compile: {self.__name__} was called under detect_anomaly(); a compiled step "
                             f"checks no values for NaN/Inf, call the function it wraps (.function) instead")
        if switches.tracer is not None:
            return self.function(*args, **kwargs)  # inside another trace: becomes part of it
        key = self._signature(args, kwargs, switches.grad_enabled)
        for trace in self.traces.get(key, ()):
            with trace.lock:
                result = trace.replay(*args, **kwargs)
            if result is not RETRACE:  # RETRACE: recorded under other conditions (see Guard), try the next
                return result
        return self._trace(key, args, kwargs)

    @property
    def source(self) -> str:
        """The generated code of the latest trace (trace by calling the function first)."""
        return self._latest().source

    @property
    def bindings(self) -> dict[str, Any]:
        """The names the latest trace's source uses besides its arguments (``np``, the tensors it
        reads by name, the outside arrays, the replayed calls): ``exec(source, dict(bindings))``
        defines the replay function."""
        return dict(self._latest().bindings)

    def _latest(self) -> Trace:
        if not self.traces:
            raise TraceError(f"at.compile: {self.__name__} has not been called yet, so nothing was traced")
        return list(self.traces.values())[-1][-1]

    # ------------------------------------------------------------------ signatures
    @staticmethod
    def _signature(args: tuple[Any, ...], kwargs: dict[str, Any], grad_enabled: bool) -> tuple[Any, ...]:
        key: list[Any] = [grad_enabled]
        for value in args:  # ndarrays first: the common case, described without a call
            if type(value) is np.ndarray:
                key += (value.shape, value.dtype)
            else:
                key.append(_describe(value, "an argument"))
        if kwargs:
            key += [(name, _describe(value, f"argument {name!r}")) for name, value in sorted(kwargs.items())]
        return tuple(key)

    # ------------------------------------------------------------------ tracing
    def _trace(self, key: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        tracer = Tracer(self.__name__)
        traced_args = [tracer.argument(value, ("arguments", i, _what(value)), self._hint(i))
                       for i, value in enumerate(args)]
        traced_kwargs = {name: tracer.argument(value, ("arguments", name, _what(value)), name)
                         for name, value in kwargs.items()}
        switches = per_thread.switches
        with _TRACING_LOCK:
            tracing_threads[0] += 1
        switches.tracer = tracer
        try:
            result = self.function(*traced_args, **traced_kwargs)
            tracer.program.outputs = _outputs(result, tracer)
        finally:
            switches.tracer = None
            with _TRACING_LOCK:
                tracing_threads[0] -= 1
            tracer.finish_grads()
        generated = generate(tracer.program, self.__name__, len(args), list(kwargs))
        code = builtins.compile(generated.source, f"<at.compile {self.__name__}>", "exec")
        bindings = dict(generated.namespace, new_tensor=leaf)
        namespace = dict(bindings)
        exec(code, namespace)  # noqa: S102 - our own generated code
        trace = Trace(namespace[_function_name(self.__name__)], generated.source, bindings, tracer.program)
        variants = self.traces.setdefault(key, [])
        variants.append(trace)
        if len(variants) > MAX_VARIANTS:  # a step whose conditions keep changing: keep the latest
            del variants[0]
        return _eager_result(result)

    def _hint(self, index: int) -> str:
        return self._parameters[index] if index < len(self._parameters) else f"arg{index}"


def compile(function: Callable[..., Any]) -> CompiledFunction:  # noqa: A001 - at.compile
    """Trace ``function`` once per argument signature and replay generated numpy code after.

    Use as ``step = at.compile(step)`` or as the decorator ``@at.compile``.  ``step.source`` is
    the generated code of its latest trace.  Refused with :class:`at.TraceError` (naming the
    call and the line): Python control flow on tensor values (``item()``, ``bool()``,
    ``float()``, a comparison used as a condition), anomaly mode, ``create_graph``, keeping
    gradients of non-leaves, and returning tensors whose graph would be needed afterwards.
    """
    return CompiledFunction(function)


def replayed(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Python function whose call a compiled step must repeat at every replay.

    Python code that touches no tensor leaves no trace, so a replay would skip it: an
    optimiser's step counter, the bias corrections computed from it, a learning-rate schedule.
    A replayed function runs for real while tracing, and the generated code calls it again at
    the same place every time; the numbers it returns (alone, or in a dict or tuple) reach the
    traced code as traced numbers, so hyperparameters are read at every call.  Outside a trace
    it is a plain call.
    """

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        tracer = per_thread.switches.tracer
        if tracer is None:
            return method(*args, **kwargs)
        return tracer.replayed(method, args, kwargs)

    return call


def guard_attribute(target: Any, attribute: str) -> None:
    """Make a trace in progress valid only while ``target.<attribute>`` keeps its current value.

    For Python state a traced function branches on -- ``nn`` guards every module's ``training``
    flag, so a step traced in ``train()`` mode is traced anew after ``eval()``.  Outside a
    trace it does nothing (and costs one read).
    """
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None:
        tracer.guard(Guard(target, attribute, getattr(target, attribute)))


def _function_name(name: str) -> str:
    return identifier(name)


def _describe(value: Any, where: str) -> Any:
    """The part of the signature an argument contributes (arrays: shape and dtype)."""
    if isinstance(value, Tensor):
        return ("tensor", value.shape, value.dtype, value.requires_grad)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype)
    if isinstance(value, float):
        return "float"
    if isinstance(value, (bool, int, str, type(None))):
        return ("value", value)
    if isinstance(value, (list, tuple, dict)):
        raise TraceError(f"at.compile: {where} is a {type(value).__name__}; pass arrays and tensors as "
                         f"separate arguments (containers are not traced)")
    return ("object", id(value))


def _what(value: Any) -> str:
    return "tensor" if isinstance(value, Tensor) else "value"


def _outputs(result: Any, tracer: Tracer) -> Any:
    """The function's return value with traced values replaced by what the replay returns."""
    def output(item: Any) -> Any:
        if isinstance(item, Tensor):
            if not isinstance(item.data, Traced):
                return ObjectOutput(item)
            if item._requires_grad and item._parents:
                tracer.refuse("returns a tensor whose graph would still be needed (no backward ran "
                              "through it); return value.detach() or compute it under at.no_grad()")
            return TensorOutput(item.data.variable)
        return item.variable if isinstance(item, (Traced, TracedNumber)) else ObjectOutput(item)

    return map_leaves(output, result)


def _eager_result(result: Any) -> Any:
    """The traced call's own return value, with traced values turned back into real ones."""
    def real(item: Any) -> Any:
        if isinstance(item, Tensor) and isinstance(item.data, Traced):
            return leaf(np.asarray(item.data.value))
        return item.value if isinstance(item, (Traced, TracedNumber)) else item

    return map_leaves(real, result)
