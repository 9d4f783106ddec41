"""Walking values nested in tuples, lists, dicts (and slices): the arguments of a numpy call, a
function's return value, a list of tensors.  Every module that looks inside such structures
uses these two functions, so what counts as "inside" is decided once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def leaves(value: Any, slices: bool = False) -> list[Any]:
    """Everything in ``value`` that is not a tuple, list or dict (nor, with ``slices``, a slice:
    its start, stop and step are looked into), depth first."""
    found, pending = [], [value]
    while pending:
        item = pending.pop()
        if isinstance(item, (tuple, list)):
            pending.extend(reversed(item))
        elif isinstance(item, dict):
            pending.extend(reversed(list(item.values())))
        elif slices and isinstance(item, slice):
            pending.extend((item.step, item.stop, item.start))
        else:
            found.append(item)
    return found


def map_leaves(function: Callable[[Any], Any], value: Any, slices: bool = False) -> Any:
    """``value`` rebuilt with ``function`` applied to each leaf (containers keep their type)."""
    if isinstance(value, tuple):
        return tuple(map_leaves(function, item, slices) for item in value)
    if isinstance(value, list):
        return [map_leaves(function, item, slices) for item in value]
    if isinstance(value, dict):
        return {key: map_leaves(function, item, slices) for key, item in value.items()}
    if slices and isinstance(value, slice):
        return slice(*(map_leaves(function, part, slices) for part in (value.start, value.stop, value.step)))
    return function(value)
