"""Architectures as JSON: how ``nn.save`` describes a model and ``nn.load`` rebuilds it.

A module is described as ``{"type": <registered name>, "config": <its get_config()>}``.  Modules
inside a config (a Sequential's layers, a ModuleList's modules, any module a user's constructor
takes) are described in turn and written as ``{"__module__": {...}}``; everything else in a
config must be JSON data.  Rebuilding looks the type up in the registry -- nn's own modules and
the classes registered with :func:`register_module` (Keras's convention) -- and calls
``cls.from_config(config)``: a file can reach no other code, and nothing is unpickled.  The
parameters' values are not part of the description; the model file stores them as arrays under
their dotted names.

Registering a class trusts its constructor with the settings found in files.  For nn's own
layers, :func:`parameter_count` tells beforehand how many numbers building will allocate.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload

import numpy as np

from nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from nn.layers import ACTIVATIONS, MLP, Dropout, Linear
from nn.module import Module, ModuleList, Parameter, Sequential

__all__ = ["ArchitectureError", "MODULE_KEY", "build", "describe", "parameter_count", "register_module", "shorten"]

MODULE_KEY = "__module__"
_CLASSES: dict[str, type[Module]] = {}
_NAMES: dict[type[Module], str] = {}

M = TypeVar("M", bound=type[Module])


class ArchitectureError(ValueError):
    """A model that cannot be described, or a description that cannot be rebuilt."""


def shorten(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: values from files may be huge."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@overload
def register_module(cls: M, *, name: str | None = None) -> M: ...
@overload
def register_module(cls: None = None, *, name: str | None = None) -> Callable[[M], M]: ...


def register_module(cls: M | None = None, *, name: str | None = None) -> M | Callable[[M], M]:
    """Let ``nn.save``/``nn.load`` describe and rebuild a Module subclass: ``@nn.register_module``.

    The class is stored under ``name`` (default: the class's name) and rebuilt with
    ``cls.from_config(get_config())``.  A name taken by another class is refused (pass
    ``name=``); registering a class again under its name, e.g. after re-running a notebook cell,
    replaces it.
    """

    def register(klass: M) -> M:
        if not (isinstance(klass, type) and issubclass(klass, Module)):
            raise TypeError(f"register_module: expected a subclass of nn.Module, got {klass!r}")
        key = klass.__name__ if name is None else name
        if not isinstance(key, str) or not key:
            raise TypeError(f"register_module: name must be a non-empty string, got {key!r}")
        known = _CLASSES.get(key)
        if known is not None and (known.__module__, known.__qualname__) != (klass.__module__, klass.__qualname__):
            raise ValueError(
                f"register_module: the name {key!r} is taken by {known.__module__}.{known.__qualname__}; "
                f"register {klass.__qualname__} with another name: @nn.register_module(name='...')"
            )
        _CLASSES[key] = klass
        _NAMES[klass] = key
        return klass

    return register if cls is None else register(cls)


for _builtin in (Linear, MLP, Sequential, ModuleList, Dropout, *ACTIVATIONS.values(),
                 Conv2d, MaxPool2d, AvgPool2d, Flatten):
    register_module(_builtin)
del _builtin


# ---------------------------------------------------------------------- describing
def describe(model: Module) -> dict[str, Any]:
    """The JSON-able description of ``model`` that :func:`build` turns back into the same architecture.

    Raises :class:`ArchitectureError` naming the module that cannot be described and what to add.
    """
    owners: dict[int, str] = {}  # modules with parameters already described, and where

    def module(value: Module, where: str) -> dict[str, Any]:
        _check_describable(type(value), where)
        if _has_parameters(value):
            if id(value) in owners:
                raise ArchitectureError(
                    f"{_place(where)} is the same module as {_place(owners[id(value)])}; a model file "
                    f"cannot describe shared layers (they would be rebuilt as two)"
                )
            owners[id(value)] = where
        config = value.get_config()
        if not isinstance(config, dict):
            raise ArchitectureError(f"{type(value).__name__}.get_config() must return a dict, got {shorten(config)}")
        return {"type": _NAMES[type(value)], "config": encode(config, where, type(value).__name__)}

    def encode(value: Any, where: str, owner: str) -> Any:
        if isinstance(value, Module):
            return {MODULE_KEY: module(value, where)}
        if isinstance(value, (list, tuple)):
            return [encode(item, _join(where, str(index)), owner) for index, item in enumerate(value)]
        if isinstance(value, dict):
            if any(not isinstance(key, str) for key in value) or MODULE_KEY in value:
                raise ArchitectureError(f"{owner}.get_config(): dict keys must be strings other than {MODULE_KEY!r}")
            return {key: encode(item, _join(where, key), owner) for key, item in value.items()}
        if isinstance(value, (np.generic, np.ndarray)):
            return encode(value.tolist(), where, owner)
        if value is None or isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value)):
            return value
        raise ArchitectureError(
            f"{owner}.get_config() gives {shorten(value)} for {where or 'the model'}, which a model file cannot "
            f"hold: use numbers, strings, lists, dicts and modules"
        )

    return module(model, "")


def _has_parameters(module: Module) -> bool:
    return any(isinstance(value, Parameter) for _, part in module.named_modules() for _, value in part._members())


def _owner(cls: type, attribute: str) -> type:
    """The class in ``cls``'s method resolution order that defines ``attribute``."""
    return next(c for c in cls.__mro__ if attribute in vars(c))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _place(where: str) -> str:
    return f"the module at {where}" if where else "the model"


def _check_describable(cls: type[Module], where: str) -> None:
    what = f"{_place(where)} (a {cls.__name__})"
    if cls not in _NAMES:
        raise ArchitectureError(
            f"cannot describe {what}: register its class with @nn.register_module and give it a "
            f"get_config() method returning its constructor arguments (model files rebuild models "
            f"from these, never by unpickling)"
        )
    config_owner, init_owner = _owner(cls, "get_config"), _owner(cls, "__init__")
    if init_owner is not config_owner and issubclass(init_owner, config_owner):
        raise ArchitectureError(
            f"cannot describe {what}: {init_owner.__name__} defines __init__ but not get_config(); add "
            f"get_config() returning the arguments of {init_owner.__name__}(...) as a dict"
        )


# ---------------------------------------------------------------------- rebuilding
def build(description: Any, where: str = "") -> Module:
    """A new module from a :func:`describe` result (parameters freshly initialised)."""
    cls, config = _parts(description, where)
    arguments = {key: _decode(value, _join(where, key)) for key, value in config.items()}
    # A from_config defined above the class's get_config was written for another config (an MLP
    # inherits Sequential's but describes itself by its sizes): the default cls(**config) fits.
    paired = _owner(cls, "from_config") not in _owner(cls, "get_config").__mro__[1:]
    try:
        module = cls.from_config(arguments) if paired else cls(**arguments)
    except Exception as error:  # the class's own code, given settings from a file
        raise ArchitectureError(
            f"cannot rebuild {_place(where)} as {cls.__name__} from {shorten(config)}: "
            f"{type(error).__name__}: {error}"
        ) from error
    if not isinstance(module, Module):
        raise ArchitectureError(f"{cls.__name__}.from_config returned a {type(module).__name__}, not a Module")
    return module


def _parts(description: Any, where: str) -> tuple[type[Module], dict[str, Any]]:
    """The registered class and the config of a description, checked."""
    if not isinstance(description, dict) or set(description) != {"type", "config"}:
        raise ArchitectureError(
            f"{_place(where)}: a module is described as {{'type': ..., 'config': {{...}}}}, got {shorten(description)}"
        )
    name, config = description["type"], description["config"]
    if not isinstance(config, dict):
        raise ArchitectureError(f"{_place(where)}: the config of {shorten(name)} is not an object")
    cls = _CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ArchitectureError(
            f"{_place(where)} is of unknown type {shorten(name)}: define its class and register it with "
            f"@nn.register_module before loading (registered: {', '.join(sorted(_CLASSES))})"
        )
    return cls, config


def _decode(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {MODULE_KEY}:
            return build(value[MODULE_KEY], where)
        return {key: _decode(item, _join(where, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, _join(where, str(index))) for index, item in enumerate(value)]
    return value


def _nested(config: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    """(place, description) of the modules inside a config, at any depth of lists and dicts."""
    stack: list[tuple[str, Any]] = [(_join(where, key), value) for key, value in config.items()]
    while stack:
        place, value = stack.pop()
        if isinstance(value, dict):
            if set(value) == {MODULE_KEY}:
                yield place, value[MODULE_KEY]
            else:
                stack.extend((_join(place, key), item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((_join(place, str(index)), item) for index, item in enumerate(value))


def parameter_count(description: Any) -> int:
    """How many parameter numbers building ``description`` allocates in nn's own layers (Linear, MLP, Conv2d).

    Computed from the settings alone, so ``nn.load`` can refuse a file whose architecture is far
    larger than the arrays it holds before allocating anything.
    """
    total = 0
    stack = [("", description)]
    while stack:
        where, current = stack.pop()
        cls, config = _parts(current, where)
        try:
            total += cls._parameter_count(config)
        except (TypeError, ValueError, KeyError, OverflowError) as error:
            raise ArchitectureError(
                f"{_place(where)}: invalid {cls.__name__} settings {shorten(config)}: {error}"
            ) from None
        stack.extend(_nested(config, where))
    return total
