"""``at.custom_op``: the public way to add a differentiable op, checked like the built-in ones.

::

    softsign = at.custom_op(
        "softsign",
        forward=lambda x: x / (1 + np.abs(x)),               # on ndarrays
        vjps=[lambda g, out, x: g / (1 + np.abs(x)) ** 2],   # one rule per input
        samples=[(np.linspace(-3, 3, 7),)],                  # input tuples in the op's domain
    )
    softsign(at.Tensor([0.5], requires_grad=True))           # a recorded op, like at.tanh

An op is a forward function and one derivative rule per input, entered in the registry with
sample inputs (:mod:`autotensor.registry`):

* ``forward(*arrays, **params)`` computes the output (one array) from the inputs' arrays;
  keyword parameters (not differentiated) are passed on to the rules too.
* ``vjps[i](g, out, *inputs, **params)`` returns ``g`` (the gradient of the output) pulled back
  to input ``i``, with input ``i``'s shape.  Write it as the built-in rules are written, with the
  operators and numpy functions that ndarrays and Tensors share (``*``, ``/``, ``**``,
  ``np.exp``, ``np.abs``, ``.sum(axis, keepdims=True)``, ``at.unbroadcast`` for an input that
  was broadcast): an ordinary backward pass runs it on arrays, one with ``create_graph=True``
  runs it on Tensors -- so second derivatives work -- and ``at.compile`` runs it on traced
  arrays.  So no Python control flow on values (``if x > 0``: use ``np.where``), and arrays made
  from the inputs (``np.zeros_like(g)``) rather than from shapes (``np.zeros(shape)``).
* ``samples``: input tuples inside the op's domain.  ``at.gradcheck``, ``at.gradgradcheck``,
  ``autotensor gradcheck --import MODULE`` and the test suite's registry-wide checks run them,
  so a wrong rule is caught.
* ``saves``: the values the rules read -- "inputs", "output", "inputs+output" or "" -- so that
  backward refuses, rather than computes with, a value edited in place since the forward pass.

Errors in the forward function on the caller's input become the library's errors naming the op
(a ValueError an :class:`ArgumentError`, a TypeError a :class:`DTypeError`, an IndexError an
:class:`IndexingError`).  A custom op has one output; an integer or boolean output is a
constant (it carries no gradient).  ``at.registry.unregister(name)`` removes it.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autotensor.conversion import as_tensor, describe
from autotensor.errors import ArgumentError, AutotensorError, DTypeError, IndexingError
from autotensor.registry import REGISTRY, Rule, Sample, register
from autotensor.state import per_thread, tracing_threads
from autotensor.tensor import Tensor, TensorLike, leaf, record

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_CALLER_ERRORS = ((ValueError, ArgumentError), (TypeError, DTypeError), (IndexError, IndexingError))


def custom_op(
    name: str,
    forward: Callable[..., Any],
    vjps: Sequence[Rule],
    *,
    samples: Sequence[Sequence[Any]],
    saves: str = "inputs",
    twice_differentiable: bool = True,
) -> Callable[..., Tensor]:
    """Register a differentiable op and return the function that applies it (module docstring).

    ``twice_differentiable=False`` leaves the op's samples out of the second-order checks (for
    rules that are not themselves written with differentiable operations).
    """
    _check_name(name)
    if not callable(forward):
        raise DTypeError(f"custom_op {name}: forward must be a function of ndarrays, got {describe(forward)}")
    if not isinstance(vjps, (list, tuple)) or not vjps or not all(callable(rule) for rule in vjps):
        raise DTypeError(f"custom_op {name}: vjps must be a non-empty list of rules, one per input, "
                         f"got {describe(vjps)}")
    if saves not in ("", "inputs", "output", "inputs+output"):
        raise ArgumentError(f"custom_op {name}: saves must be 'inputs', 'output', 'inputs+output' or '', got {saves!r}")
    signature = _signature_of(name, forward, len(vjps))
    rules = tuple(_checked_rule(name, number, rule) for number, rule in enumerate(vjps))
    apply = _applier(name, forward, signature, len(vjps))
    cases = _samples(name, samples, len(vjps), apply, bool(twice_differentiable))
    apply.op = register(name, apply, rules, saves=saves, samples=cases, custom=True)  # type: ignore[attr-defined]
    return apply


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ArgumentError(f"custom_op: a name must be an identifier (letters, digits, _ and .), got {describe(name)}")
    existing = REGISTRY.get(name)
    if existing is not None:
        whose = "an op registered with at.custom_op" if existing.custom else "one of the engine's own ops"
        advice = f"; at.registry.unregister({name!r}) removes it" if existing.custom else ""
        raise ArgumentError(f"custom_op: {name!r} is already registered ({whose}); choose another name{advice}")


def _signature_of(name: str, forward: Callable[..., Any], arity: int) -> inspect.Signature | None:
    """forward's signature (None if it cannot be read), checked to take one argument per rule."""
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*range(arity))
    except TypeError:
        raise ArgumentError(
            f"custom_op {name}: {arity} rule(s) means {arity} input(s), but forward{signature} does not take "
            f"{arity} positional argument(s)"
        ) from None
    return signature


def _applier(name: str, forward: Callable[..., Any], signature: inspect.Signature | None,
             arity: int) -> Callable[..., Tensor]:
    """The op's function: inputs to Tensors, forward on their arrays, the result recorded."""

    def apply(*inputs: TensorLike, **params: Any) -> Tensor:
        if len(inputs) != arity:
            raise ArgumentError(f"{name}: takes {arity} input(s), got {len(inputs)}")
        like = next((x for x in inputs if isinstance(x, Tensor)), None)
        tensors = tuple(as_tensor(x, like=like, op=name) for x in inputs)
        arrays = [t.data for t in tensors]
        if signature is not None:
            try:
                signature.bind(*arrays, **params)
            except TypeError as error:
                raise DTypeError(f"{name}: {error}") from None
        try:
            data = forward(*arrays, **params)
        except AutotensorError:
            raise
        except (ValueError, TypeError, IndexError) as error:
            ours = next(mine for builtin, mine in _CALLER_ERRORS if isinstance(error, builtin))
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ours(f"{name}: the forward function failed on inputs of shapes {shapes}: {error}") from error
        data = _output(name, data)
        if any(np.may_share_memory(data, array) for array in arrays):
            data = data.copy()  # a view of an input would let an edit of one change the other unseen
        if data.dtype.kind != "f":
            return leaf(data)  # integers and booleans carry no gradient: a constant
        return record(data, apply.op, tensors, params or None)  # type: ignore[attr-defined]

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = forward.__doc__ or f"The custom op {name!r} (registered with at.custom_op)."
    if signature is not None:
        apply.__signature__ = signature  # type: ignore[attr-defined]
    return apply


def _output(name: str, data: Any) -> Any:
    """The forward result as one numeric array (a traced one while at.compile traces)."""
    if tracing_threads[0] and (tracer := per_thread.switches.tracer) is not None and tracer.traces(data):
        return data
    if isinstance(data, (np.generic, float, int)) and not isinstance(data, bool):
        data = np.asarray(data)
    if not isinstance(data, np.ndarray):
        raise DTypeError(f"{name}: the forward function must return one ndarray, got {describe(data)}")
    if data.dtype.kind not in "fiub":
        raise DTypeError(f"{name}: the forward function returned an array of dtype {data.dtype}, not numbers")
    return data


def _checked_rule(name: str, number: int, rule: Rule) -> Rule:
    """The rule, with an error naming the op when it returns something that is not an array."""

    def pulled_back(g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
        contribution = rule(g, out, *inputs, **params)
        if not hasattr(contribution, "shape") or not hasattr(contribution, "dtype"):
            raise DTypeError(
                f"{name}: the derivative rule for input {number} returned {describe(contribution)}, not an array "
                f"(of the input's shape)"
            )
        return contribution

    return pulled_back


def _samples(name: str, samples: Any, arity: int, apply: Callable[..., Tensor], twice: bool) -> list[Sample]:
    """The samples as the registry's cases: float64 copies of each input tuple."""
    if not isinstance(samples, (list, tuple)) or not samples:
        raise ArgumentError(
            f"custom_op {name}: give samples=[(input, ...), ...], at least one tuple of inputs in the op's "
            f"domain, so that the op's rules are checked"
        )
    cases = []
    for number, sample in enumerate(samples):
        if isinstance(sample, np.ndarray) and arity == 1:
            sample = (sample,)
        if not isinstance(sample, (list, tuple)) or len(sample) != arity:
            raise ArgumentError(f"custom_op {name}: sample {number} must be a tuple of {arity} input(s), got "
                                f"{describe(sample)}")
        try:
            inputs = tuple(np.array(x, dtype=np.float64) for x in sample)
        except (TypeError, ValueError) as error:
            raise DTypeError(f"custom_op {name}: sample {number} must hold numbers ({error})") from None
        shapes = ", ".join("x".join(map(str, x.shape)) or "()" for x in inputs)
        cases.append(Sample(f"sample {number} ({shapes})", inputs, apply, twice))
    return cases
