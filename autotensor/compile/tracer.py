"""The tracer: records one call of a compiled function, numpy call by numpy call.

While a thread traces, the engine hands its entry points to the tracer (see
:mod:`autotensor.tracing`): every Tensor an op receives that was not made inside the trace --
a parameter, a buffer, an argument -- is replaced by a *proxy* whose data is a
:class:`~autotensor.compile.values.Traced` bound to that tensor, so the compiled code reads its
current data at every call instead of freezing it.  Ops then compute on traced values, which
record themselves; gradients stored into a proxy are stored into its tensor (and recorded),
in-place edits of a tensor bump its version counter in the replay too.

Numbers and arrays that meet a traced value are bound as well: ndarrays by reference (their
current contents are read at every call), Python numbers as literals, numbers a replayed Python
call returns as traced numbers.
"""
from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autotensor.compile.program import Program, Statement, Variable
from autotensor.compile.values import Traced, TracedNumber
from autotensor.errors import TraceError
from autotensor.nested import leaves, map_leaves
from autotensor.hooks import HookState
from autotensor.state import per_thread
from autotensor.tensor import Tensor, grad_data, leaf

_ENGINE_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_FOLDER = os.path.dirname(os.path.abspath(np.__file__))

# numpy functions whose answer depends only on shapes and dtypes: computed, not recorded.
_STATIC_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory,
                     np.shares_memory, np.can_cast, np.iscomplexobj, np.isrealobj}
# numpy functions that may return a view of their first argument.
_VIEW_FUNCTIONS = {np.broadcast_to, np.reshape, np.transpose, np.swapaxes, np.squeeze,
                   np.expand_dims, np.ravel, np.moveaxis, np.asarray, np.ascontiguousarray}
# What an op's output is called in the generated code (the documents' z = a W + b, a = f(z)).
_ROLES = {"linear": "z", "matmul": "z", "tanh": "a", "sigmoid": "a", "relu": "a", "leaky_relu": "a",
          "softplus": "a", "softmax": "a"}
_LITERALS = (type(None), bool, int, float, complex, str, type(Ellipsis), np.dtype, np.generic)


@dataclass(frozen=True)
class Guard:
    """Something about the world outside the arguments a trace was recorded under: whether a
    tensor had a gradient (``attribute`` "_grad", ``expected`` True or False), the value of a
    module's ``training`` flag.  The replay checks it first; when it does not hold, the
    function is traced anew (the code generator writes the check)."""

    target: Any
    attribute: str
    expected: Any


class Tracer:
    """Records one traced call into a :class:`Program`."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.program = Program()
        self.thread = threading.get_ident()
        self.op_origin = ""                              # the op whose forward is running, if any
        self.rule_origin = ""                            # the derivative rule running, if any
        self._proxies: dict[int, Tensor] = {}            # id(tensor) -> its proxy
        self._tensor_of: dict[int, Tensor] = {}          # id(proxy) -> the tensor it stands for
        self._bound: dict[int, Variable] = {}            # id(ndarray or tensor) -> its input variable
        self._kept: list[Any] = []                       # keeps every bound object alive (ids stay valid)
        self.grads_set: dict[int, Tensor] = {}           # tensors whose .grad the trace assigned
        self.guards = self.program.guards                # what must still hold for a replay
        self._literals: dict[int, Any] = {}              # id of a 0-d array made from a Python number -> it
        self.assigned: set[int] = set()                  # tensors whose .grad the trace assigned

    # ------------------------------------------------------------------ refusing
    def refuse(self, what: str) -> None:
        """Raise TraceError naming the compiled function, what it did, and the user's line."""
        raise TraceError(f"at.compile: {self.function_name} {what}{self.where()}; a replay could not repeat "
                         f"it faithfully (see the README, 'Compiling a step')")

    @staticmethod
    def where() -> str:
        """' at file:line' of the innermost frame outside the engine and numpy."""
        for frame in reversed(traceback.extract_stack()):
            path = os.path.abspath(frame.filename)
            if not path.startswith((_ENGINE_FOLDER, _NUMPY_FOLDER)):
                return f" at {frame.filename}:{frame.lineno} ({frame.line})"
        return ""

    # ------------------------------------------------------------------ inputs
    def bind(self, kind: str, source: Any, value: Any, hint: str) -> Variable:
        """An input variable bound at every call to ``source`` (kept alive with the trace)."""
        variable = self.program.input(kind, source, value, hint)
        self._kept.append(source)
        return variable

    def argument(self, value: Any, path: tuple[Any, ...], hint: str) -> Any:
        """What the traced function receives for one argument of the call."""
        if isinstance(value, Tensor):
            proxy = self._proxy(value, self.bind("argument", path, value.data, hint))
            return proxy
        if isinstance(value, np.ndarray):
            return Traced(value, self.bind("argument", path, value, hint), self)
        if isinstance(value, float):
            return TracedNumber(value, self.bind("argument", path, value, hint), self)
        return value

    def operand(self, x: Any, like: Tensor | None = None, numbers: bool = True, op: str | None = None) -> Any:
        """An op's operand while tracing: tensors made outside the trace become proxies, traced
        arrays become tensors, traced numbers (if ``numbers``) 0-d tensors of the dtype a Python
        number would get next to ``like``; anything else is left to the engine's conversion.
        ``op`` names the op about to run, for the comments of the generated code."""
        if op is not None and op != "Tensor":
            switches = per_thread.switches
            phase = "forward" if switches.grad_enabled else "no_grad"
            self.op_origin = f"{phase}: {op}" + (f" ({switches.scope})" if switches.scope else "")
        if isinstance(x, Tensor):
            if isinstance(x.data, Traced):
                return x
            proxy = self._proxies.get(id(x))
            if proxy is None:
                hint = x.name or "p"
                proxy = self._proxy(x, self.bind("tensor", x, x.data, hint))
            return proxy
        if isinstance(x, Traced):
            return leaf(x)
        if type(x) is np.ndarray and x.dtype.kind in "fiub":
            # An array from outside the traced function: bound by reference, so that the replay
            # reads its contents at every call (an op on it alone would otherwise be folded).
            return leaf(Traced(x, self._symbols(x), self))
        if numbers and type(x) in (int, float, bool) and like is not None:
            # A Python number next to a tensor: the engine makes it a 0-d array of the dtype numpy
            # gives a weak Python number there, so the code can spell the number itself.
            kind = like.data.dtype
            value = leaf(np.asarray(x, dtype=kind if kind.kind == "f" else np.result_type(kind, x)))
            self._literals[id(value.data)] = x
            self._kept.append(value.data)
            return value
        if numbers and isinstance(x, TracedNumber):
            if like is None:
                dtype = np.dtype(np.float64)
            else:
                kind = like.data.dtype
                dtype = kind if kind.kind == "f" else np.result_type(kind, x.value)
            return self.number(x, dtype)
        return x

    def _proxy(self, tensor: Tensor, variable: Variable) -> Tensor:
        proxy = leaf(Traced(tensor.data, variable, self))
        proxy._requires_grad = tensor._requires_grad
        proxy._version = tensor._version  # the same memory: the same counter
        proxy.name, proxy.scope = tensor.name, tensor.scope
        proxy._hooks = tensor._hooks  # its gradient hooks run (on traced values) as the tensor's would
        if tensor._requires_grad:  # a hook registered or removed later makes this trace stale
            self.guard(Guard(HookState, "changes", HookState.watch(tensor)))
        self._proxies[id(tensor)] = proxy
        self._tensor_of[id(proxy)] = tensor
        self._bound[id(tensor.data)] = variable
        self._kept.append(proxy)
        return proxy

    def number(self, x: TracedNumber, dtype: np.dtype) -> Tensor:
        """A traced number as an op's operand: a 0-d array of the other operand's dtype."""
        return leaf(self.call("np.asarray", np.asarray, (x,), {"dtype": dtype}))

    def traces(self, value: Any) -> bool:
        return isinstance(value, (Traced, TracedNumber))

    # ------------------------------------------------------------------ recording calls
    def call(self, code: str, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
             writes: Traced | None = None) -> Any:
        """Run ``function`` on the real values and record it as ``code(*args, **kwargs)``."""
        if self.thread != threading.get_ident():
            raise TraceError(f"at.compile: a value traced by {self.function_name} in another thread was used here")
        out = kwargs.get("out")
        if out is not None:
            target = out[0] if isinstance(out, tuple) else out
            if not isinstance(target, Traced):
                self.refuse("writes a traced result into an array made outside the traced function")
            writes = target
        elif code.endswith(".at"):  # ufunc.at(array, index, values) adds into array in place
            writes = args[0] if isinstance(args[0], Traced) else self.refuse("writes into an untraced array")
        result = function(*_values(args), **_values(kwargs))
        for arg in args:
            if isinstance(arg, Traced) and result is arg.value and writes is None:
                return arg  # numpy handed back its argument (astype to the same dtype ...): nothing to record
        statement = Statement(code, self._symbols(args), self._symbols(kwargs), None, origin=self.origin)
        self.program.add(statement)
        if writes is not None:
            statement.writes = writes.variable
            writes.variable = statement.result = self._result(writes.value, statement, storage=writes.variable)
            return writes if code != "setitem" and not code.endswith(".at") else None
        if isinstance(result, (np.ndarray, np.generic)):
            statement.result = self._result(result, statement, storage=self._base_of(result, args))
            return Traced(result, statement.result, self)
        if isinstance(result, (int, float)) and not isinstance(result, bool):
            statement.result = self._result(result, statement)
            return TracedNumber(result, statement.result, self)
        self.refuse(f"calls {code} with a result of type {type(result).__name__}, which cannot be traced")

    def call_function(self, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A numpy function given traced arguments (``__array_function__``)."""
        if function in _STATIC_FUNCTIONS:
            return function(*_values(args), **_values(kwargs))
        module = function.__module__.replace("numpy", "np", 1) if function.__module__ != "numpy" else "np"
        if getattr(np, function.__name__, None) is function:
            module = "np"
        return self.call(f"{module}.{function.__name__}", function, args, kwargs)

    def _result(self, value: Any, statement: Statement, storage: Variable | None = None) -> Variable:
        shape, dtype = (value.shape, value.dtype) if isinstance(value, (np.ndarray, np.generic)) else (None, None)
        return Variable("result", shape, dtype, statement=statement, storage=storage)

    def recorded(self, out: Tensor, op: Any, switches: Any) -> None:
        """An op's output was made: refuse anomaly mode, name the output after its role."""
        if switches.anomaly:
            self.refuse("runs under detect_anomaly(), which checks values as they are computed")
        self.op_origin = ""
        data = out.data
        if isinstance(data, Traced):
            variable = data.variable
            while variable.statement is not None and variable.statement.writes is variable.storage is not None:
                variable = variable.storage  # name the array, not its last in-place write (z += b)
            if not variable.is_input:
                variable.hint = _ROLES.get(op.name, variable.hint)
                variable.scope = switches.scope

    def _base_of(self, result: Any, args: tuple[Any, ...]) -> Variable | None:
        """The traced argument ``result`` is a view of, if any (the replay must not reuse its memory)."""
        if not isinstance(result, np.ndarray) or result.base is None:
            return None
        for arg in leaves(args):
            if isinstance(arg, Traced) and isinstance(arg.value, np.ndarray) and np.may_share_memory(result, arg.value):
                return arg.variable
        return None

    def _symbols(self, value: Any) -> Any:
        """``value`` with traced values replaced by their variables and arrays bound as inputs."""
        if isinstance(value, (Traced, TracedNumber)):
            if value.tracer is not self:
                raise TraceError(f"at.compile: {self.function_name} met a value traced by another compiled function")
            return value.variable
        if isinstance(value, np.ndarray):
            if id(value) in self._literals:
                return self._literals[id(value)]  # the Python number it was made from, spelled as a literal
            variable = self._bound.get(id(value))
            if variable is None:
                variable = self._bound[id(value)] = self.bind("array", value, value, "c")
            return variable
        if isinstance(value, Tensor):
            self.refuse("passes a Tensor to a numpy function inside the trace")
        if isinstance(value, (tuple, list)):
            return type(value)(self._symbols(item) for item in value)
        if isinstance(value, dict):
            return {key: self._symbols(item) for key, item in value.items()}
        if isinstance(value, slice):
            return slice(self._symbols(value.start), self._symbols(value.stop), self._symbols(value.step))
        if isinstance(value, _LITERALS) or (isinstance(value, type) and issubclass(value, np.generic)):
            return value
        self.refuse(f"passes a {type(value).__name__} to numpy, which the generated code cannot spell")

    # ------------------------------------------------------------------ gradients and edits
    def store_grad(self, node: Tensor, g: Any) -> None:
        """Backward stores ``g`` into a leaf: into the tensor a proxy stands for, recorded."""
        if node._op is not None:
            self.refuse("keeps the gradient of a computed tensor (retain_grad); read gradients of leaves")
        tensor = self._tensor_of.get(id(node), node)
        if not isinstance(g, Traced):  # a constant gradient (the leaf is the output itself, say)
            g = self.call("np.array", np.array, (g,), {})
        existing = self.grad_array(tensor)
        if existing is not None:
            g = existing + g
        if g.dtype != tensor.dtype:
            g = g.astype(tensor.dtype)
        tensor._grad = leaf(g)
        if tensor is not node:
            node._grad = tensor._grad
            self._record_grad(tensor, g.variable)

    def grad_assigned(self, tensor: Tensor, value: Tensor | None) -> None:
        """``tensor.grad = value`` in the traced function: the replay assigns it too."""
        outside = self._tensor_of.get(id(tensor), tensor)
        if isinstance(outside.data, Traced):
            return  # a tensor made inside the traced function: nothing outside to repeat it on
        if value is not None and not isinstance(value.data, Traced):
            value = leaf(self.call("np.array", np.array, (value.data,), {}))
        self._kept.append(outside)
        self._record_grad(outside, None if value is None else value.data.variable)

    def _record_grad(self, tensor: Tensor, variable: Variable | None) -> None:
        self.assigned.add(id(tensor))
        self.grads_set[id(tensor)] = tensor
        self.program.add(Statement("set_grad", (tensor, variable), {}, None, origin=self.origin, effect=True))

    def gradient(self, node: Tensor, g: Any) -> None:
        """Backward reached ``node`` with its whole gradient ``g``: name it (delta, dW ...) and
        label the statements of the node's rule."""
        if isinstance(g, Traced) and isinstance(node.data, Traced) and g.variable.gradient_of is None:
            if not g.variable.is_input:
                g.variable.gradient_of = node.data.variable
        if node._op is not None:
            self.rule_origin = f"backward: {node._op.name} rule" + (f" ({node.scope})" if node.scope else "")

    def backward_done(self) -> None:
        self.rule_origin = ""

    @property
    def origin(self) -> str:
        """What the statement being recorded serves: a derivative rule, an op's forward, or plain
        numpy code (an optimiser's update) in the current name scope."""
        if self.rule_origin:
            return self.rule_origin
        if self.op_origin:
            return self.op_origin
        scope = per_thread.switches.scope
        return f"numpy ({scope})" if scope else "numpy"

    def arrays(self, values: tuple[Any, ...]) -> list[Any]:
        """``at.arrays``: tensors' traced data, outside ndarrays bound by reference."""
        found = []
        for value in values:
            if isinstance(value, Tensor):
                found.append(self.operand(value).data)
            elif isinstance(value, np.ndarray):
                found.append(Traced(value, self._symbols(value), self))
            else:
                found.append(value)
        return found

    def grad_array(self, tensor: Tensor) -> Any:
        """``at.grads``: the gradient a tensor holds, as a traced value, or None.

        A gradient assigned inside the trace is known; one from before the call is read afresh
        at every call, and whether there was one is a guard of the trace (a replay with a
        different answer traces again)."""
        tensor = self._tensor_of.get(id(tensor), tensor)
        grad = grad_data(tensor)
        if id(tensor) not in self.assigned:
            self.guard(Guard(tensor, "_grad", grad is not None))
        if grad is None:
            return None
        if isinstance(grad, Traced):
            return grad
        variable = self.bind("grad", tensor, grad, f"grad_{tensor.name or 'p'}")
        traced = Traced(grad, variable, self)
        tensor._grad = leaf(traced)  # later reads in this trace see the same traced value
        self.grads_set[id(tensor)] = tensor
        return traced

    def edited(self, tensor: Tensor) -> None:
        """An in-place edit of ``tensor`` (already applied): the replay bumps its counter too."""
        outside = self._tensor_of.get(id(tensor), tensor)
        if outside is not tensor or id(outside) in self._proxies:
            self.program.add(Statement("bump_version", (outside,), {}, None, origin=self.origin, effect=True))

    def replayed(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run a replayed Python call now and record it; numbers it returns become traced numbers."""
        for value in leaves((args, tuple(kwargs.values()))):
            if self.traces(value) or (isinstance(value, Tensor) and isinstance(value.data, Traced)):
                self.refuse(f"passes a traced value to {function.__qualname__}, a replayed Python call")
        result = function(*args, **kwargs)
        statement = self.program.add(Statement("replayed", (function, args, kwargs), {}, None,
                                               origin=f"replayed {function.__qualname__}", effect=True))
        self._kept.extend((function, args, kwargs))
        if result is None:
            return None
        statement.result = Variable("result", None, None, statement=statement, hint="numbers")
        return self._traced_result(result, statement.result)

    def _traced_result(self, result: Any, variable: Variable) -> Any:
        """Numbers and arrays in a replayed call's result, as traced values reading the replay's
        result (a random mask drawn anew at every call, say)."""
        if isinstance(result, bool) or result is None or isinstance(result, str):
            return result
        if isinstance(result, (int, float)):
            return TracedNumber(result, variable, self)
        if isinstance(result, np.ndarray):
            variable.shape, variable.dtype = result.shape, result.dtype
            return Traced(result, variable, self)
        if isinstance(result, dict):
            return {key: self._item(value, variable, key) for key, value in result.items()}
        if isinstance(result, tuple):
            return tuple(self._item(value, variable, index) for index, value in enumerate(result))
        self.refuse(f"gets a {type(result).__name__} from a replayed call; return numbers or arrays, or a dict "
                    f"or tuple of them")

    def _item(self, value: Any, container: Variable, key: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
            return value
        statement = self.program.add(Statement("getitem", (container, key), {}, None,
                                               origin=container.statement.origin))
        statement.result = Variable("result", None, None, statement=statement, hint=str(key))
        return self._traced_result(value, statement.result)

    def guard(self, guard: Guard) -> None:
        """Record that the trace is valid only while ``guard`` holds (once per object and attribute)."""
        if not any(g.target is guard.target and g.attribute == guard.attribute for g in self.guards):
            self.guards.append(guard)
            self._kept.append(guard.target)

    def finish_grads(self) -> None:
        """After the trace: the gradients it assigned hold real arrays again (the eager result)."""
        for tensor in self.grads_set.values():
            grad = grad_data(tensor)
            if isinstance(grad, Traced):
                tensor._grad = np.array(grad.value)


def _values(value: Any) -> Any:
    """``value`` with traced values replaced by their real values (nested in tuples, lists,
    dicts and slices)."""
    return map_leaves(lambda item: item.value if isinstance(item, (Traced, TracedNumber)) else item, value,
                      slices=True)
