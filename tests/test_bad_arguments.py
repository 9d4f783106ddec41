"""Bad arguments get the library's own error, naming the op and the value, never nan or a raw
numpy error; and each error is also the built-in exception a caller would catch for it."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at
from autotensor.registry import REGISTRY

X = at.Tensor([1.0, 2.0])
FLAGS = at.Tensor(np.array([True, False]))
LEAF = at.Tensor([1.0, 2.0], requires_grad=True)

CASES: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "Tensor(None)": (lambda: at.Tensor(None), TypeError, "Tensor: data must be numeric, got None"),
    "Tensor([1, None])": (lambda: at.Tensor([1.0, None]), TypeError, "got None in"),
    "Tensor('3')": (lambda: at.Tensor("3"), TypeError, "got '3'"),
    "Tensor(1j)": (lambda: at.Tensor([1j]), TypeError, "numeric"),
    "x * None": (lambda: X * None, TypeError, "mul: data must be numeric, got None"),
    "x + '3'": (lambda: X + "3", TypeError, "add: data must be numeric, got '3'"),
    "-bool": (lambda: -FLAGS, TypeError, "neg: cannot negate a boolean"),
    "bool - bool": (lambda: FLAGS - FLAGS, TypeError, "sub: not defined for operands of dtypes bool and bool"),
    "sum(axis=1.0)": (lambda: X.sum(axis=1.0), TypeError, "sum: axis must be None, an int or a tuple of ints, got 1.0"),
    "sum(axis=(0, 'a'))": (lambda: X.sum(axis=(0, "a")), TypeError, "sum: axis must be an int, got 'a'"),
    "sum(axis=3)": (lambda: X.sum(axis=3), IndexError, "sum: axis 3 is out of range"),
    "softmax(axis=2)": (lambda: X.softmax(axis=2), IndexError, "softmax: axis 2 is out of range"),
    "broadcast_to(-1)": (lambda: X.broadcast_to(-1), ValueError, "broadcast_to: cannot broadcast shape (2,) to (-1,)"),
    "broadcast_to('a')": (lambda: X.broadcast_to("a"), TypeError, "broadcast_to: a shape must be"),
    "reshape(2.5)": (lambda: X.reshape(2.5), TypeError, "reshape: a shape must be"),
    "reshape(3)": (lambda: X.reshape(3), ValueError, "reshape: cannot reshape a tensor of shape (2,) into (3,)"),
    "leaky_relu('a')": (lambda: X.leaky_relu("a"), TypeError, "leaky_relu: slope must be a real number, got 'a'"),
    "clip()": (lambda: X.clip(), ValueError, "clip: give low, high or both"),
    "clip('a')": (lambda: X.clip("a"), TypeError, "clip: low must be a number"),
    "backward('a')": (lambda: (LEAF * 2).sum().backward("a"), TypeError, "backward: grad: data must be numeric"),
    "int ** -1": (lambda: at.Tensor(np.array([1, 2])) ** -1, ValueError, "pow: Integers to negative integer powers"),
    "x[5]": (lambda: X[5], IndexError, "getitem: index (5,) does not fit a tensor of shape (2,)"),
    "x['a']": (lambda: X["a"], IndexError, "getitem"),
    "x[[0.5]]": (lambda: X[[0.5]], IndexError, "getitem"),
    "swapaxes(0, 2)": (lambda: X.swapaxes(0, 2), IndexError, "swapaxes: axis 2 is out of range"),
    "concatenate(x)": (lambda: at.concatenate(X), TypeError, "concatenate: expects a list or tuple"),
    "stack axis 5": (lambda: at.stack([X, X], axis=5), IndexError, "stack: axis 5 is out of range"),
    "where(None, ...)": (lambda: at.where(None, X, X), TypeError, "where: data must be numeric, got None"),
    "matmul 0-d": (lambda: at.matmul(at.Tensor(2.0), X), ValueError, "matmul: operands must have at least one dimension"),
}


@pytest.mark.parametrize("call, builtin, message", CASES.values(), ids=CASES.keys())
def test_a_bad_argument_is_refused_by_name_with_the_matching_builtin(call: Callable[[], Any], builtin: type[Exception], message: str) -> None:
    with pytest.raises(builtin) as caught:
        call()
    assert isinstance(caught.value, at.AutotensorError)
    assert message in str(caught.value)


BAD_VALUES = [None, "a", b"a", 1.5, -1, 10 ** 30, (1.0,), [None], {"a": 1}, object(), np.array(["a"]), 1j, True]


def _op_functions() -> dict[str, Callable[..., Any]]:
    return {name: op.function for name, op in REGISTRY.items()}


@pytest.mark.parametrize("name, function", _op_functions().items(), ids=_op_functions().keys())
def test_any_bad_value_in_any_argument_of_any_op_gives_the_library_s_own_error(name: str, function: Callable[..., Any]) -> None:
    """Every registered op, every parameter in turn given each bad value: it may work (some
    values are valid for some parameters) but may fail only with an AutotensorError."""
    good = at.Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    parameters = list(inspect.signature(function).parameters.values())
    takes_list = parameters[0].name == "tensors"
    for position, parameter in enumerate(parameters):
        for bad in BAD_VALUES:
            arguments: list[Any] = [[good, good]] if takes_list else [good]
            arguments += [_good_value(p) for p in parameters[1:]]
            arguments[position] = [good, bad] if takes_list and position == 0 else bad
            try:
                with np.errstate(all="ignore"):  # overflow in exp(1e30) is numpy's warning, not an error
                    function(*arguments)
            except at.AutotensorError:
                pass
            except Exception as error:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{name}({parameter.name}={bad!r}) raised a raw {type(error).__name__}: {error}")


def _good_value(parameter: inspect.Parameter) -> Any:
    """A valid argument for the op's parameter, so only the bad one can cause an error."""
    if parameter.default is not inspect.Parameter.empty:
        return parameter.default
    return {"b": at.Tensor([1.0, 2.0]), "a": at.Tensor([1.0, 2.0]), "W": at.Tensor(np.eye(2)),
            "exponent": 2.0, "shape": (2, 2), "index": 0, "condition": np.array([True, False]),
            "axis1": 0, "axis2": 1, "g": at.Tensor([1.0]), "dtype": np.float32,
            "indices_or_sections": 2, "pad_width": 1, "repeats": 2, "reps": 2, "shift": 1,  # issue 14's ops
            }.get(parameter.name, at.Tensor([1.0, 2.0]))
