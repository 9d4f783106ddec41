"""Modules and parameters: how a model finds, names, resets and saves its trainable tensors.

A :class:`Module` is an object whose attributes may be :class:`Parameter` s, other modules, or
lists/tuples of either.  Nothing has to be registered by hand: ``named_parameters()`` walks the
attributes in the order they were assigned and yields dotted names (``"layers.0.W"``), which
are also written into each parameter's ``.name`` so graph drawings can label them.

Calling a module runs its ``forward`` inside ``autotensor.name_scope(<its name in the
parent>)``, so every tensor made there carries ``.scope == "layers.0"`` (nested modules join
with ".").  The module you call at top level opens no scope: its name in a parent is the only
name a module has, and the top level has no parent.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

import autotensor as at

__all__ = ["IncompatibleKeys", "Module", "ModuleList", "Parameter", "Sequential", "StateDictError"]


class Parameter(at.Tensor):
    """A trainable leaf tensor: ``requires_grad=True``, owning a copy of its data.

    Python data becomes float64; a floating ndarray keeps its dtype; anything else (ints,
    bools) becomes float64.  The data is always copied, so optimiser steps, which edit
    parameters in place, never change the array the parameter was made from.
    """

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None) -> None:
        source = data.data if isinstance(data, at.Tensor) else data
        array = np.array(source, copy=True)
        if array.dtype.kind != "f":
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError):
                raise at.DTypeError(f"Parameter: data must be numeric, got dtype {array.dtype}") from None
        super().__init__(array, requires_grad=True, name=name)

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


class StateDictError(ValueError):
    """A state dict that does not fit the module: missing or unexpected keys, wrong shapes."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` left out: keys absent from either side."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models; subclasses define ``forward``.

    Attributes holding a Parameter, a Module, or a list/tuple of them are discovered
    automatically (names starting with "_" are private and skipped).  ``training`` is True
    after construction; ``eval()`` switches it (and every sub-module's) off.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_scope_name", None)

    # ------------------------------------------------------------------ naming
    def __setattr__(self, name: str, value: Any) -> None:
        # Name sub-modules as soon as they are attached, so a forward called before any
        # parameter walk already opens the right scope.
        if not name.startswith("_"):
            for child_name, child in _children_of(name, value):
                if isinstance(child, Module):
                    child._scope_name = self._scope_of(child_name)
        object.__setattr__(self, name, value)

    def _scope_of(self, child_name: str) -> str:
        """The name scope a child called ``child_name`` opens: its name (this module is called)."""
        return child_name

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(dotted local name, Parameter or Module) for each public attribute, in order."""
        if "training" not in vars(self):
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before using the module"
            )
        for name, value in vars(self).items():
            if not name.startswith("_"):
                yield from _children_of(name, value)

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (name ``prefix``) and every sub-module, depth first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = [(name, value) for name, value in module._members() if isinstance(value, Module)]
            for name, child in reversed(children):
                child._scope_name = module._scope_of(name)
                stack.append((f"{path}.{name}" if path else name, child))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, in attribute order, each parameter once.

        Sets every parameter's ``.name`` to its dotted name (the name relative to the module
        this is called on; call it on the model to get full names).
        """
        seen: set[int] = set()
        for path, module in self.named_modules():
            for name, value in module._members():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    full = f"{path}.{name}" if path else name
                    value.name = full
                    yield full, value

    def parameters(self) -> list[Parameter]:
        """The parameters in ``named_parameters`` order (a list, safe to iterate twice)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget accumulated gradients: every parameter's ``.grad`` becomes None."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all sub-modules; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``training = False``) everywhere; returns self."""
        return self.train(False)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter name -> a copy of its values (editing the copy leaves the model alone)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters, in place (the Parameter objects stay the same).

        Every value must have the shape of its parameter.  With ``strict`` (the default) the
        keys must match exactly; otherwise missing and unexpected keys are returned instead of
        raised.  Nothing is changed unless every check passes.
        """
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state]
        unexpected = [name for name in state if name not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise StateDictError(
                f"load_state_dict for {type(self).__name__}: {'; '.join(parts)} "
                f"(the model has {list(own)})"
            )
        updates = []
        for name, p in own.items():
            if name not in state:
                continue
            value = np.asarray(state[name].data if isinstance(state[name], at.Tensor) else state[name])
            if value.dtype.kind not in "fiub":
                raise StateDictError(f"load_state_dict: {name!r} holds non-numeric data of dtype {value.dtype}")
            if value.shape != p.shape:
                raise StateDictError(
                    f"load_state_dict: shape mismatch for {name!r}: the model has {p.shape}, "
                    f"the state dict has {value.shape}"
                )
            updates.append((p, value))
        with at.no_grad():
            for p, value in updates:
                p[...] = value
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ describing
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module: ``type(self).from_config(config)``.

        ``nn.save`` stores it as JSON (numbers, strings, lists, dicts, and modules, which are
        described in turn) under the class's registered name (``@nn.register_module``); the
        parameters' values are stored separately.  A class that keeps Module's constructor has
        nothing to say (``{}``); a class with its own ``__init__`` defines ``get_config``
        (Keras's convention), and ``from_config`` too if ``cls(**config)`` would not rebuild it.
        """
        if type(self).__init__ is Module.__init__:
            return {}
        raise NotImplementedError(
            f"{type(self).__name__} has its own __init__, so it must define get_config() returning "
            f"the arguments that rebuild it, e.g. {{'width': self.width}}"
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """A new module from what :meth:`get_config` returned: ``cls(**config)``.

        A from_config belongs with the get_config of its class: a subclass that redefines
        get_config is rebuilt with ``cls(**config)`` unless it redefines from_config too.
        """
        return cls(**config)

    @classmethod
    def _parameter_count(cls, config: dict[str, Any]) -> int:
        """How many parameter numbers ``from_config(config)`` allocates itself, not counting the
        modules in ``config`` (checked by ``nn.load`` before building; 0 = none or unknown)."""
        return 0

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        at.guard_attribute(self, "training")  # a compiled step traced in train() mode is not replayed in eval()
        if self._scope_name is None:
            return self.forward(*args, **kwargs)
        with at.name_scope(self._scope_name):
            return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """Shown inside the parentheses of ``repr``; subclasses describe their settings."""
        return ""

    def __repr__(self) -> str:
        children = [(name, value) for name, value in self._members() if isinstance(value, Module)]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


def _children_of(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """The Parameters and Modules an attribute holds, with their local dotted names."""
    if isinstance(value, (Parameter, Module)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if isinstance(item, (Parameter, Module)):
                yield f"{name}.{index}", item


class Sequential(Module):
    """Modules applied one after the other; they live in ``self.layers`` (names "layers.0" ...)."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {index} is a {type(layer).__name__}, not a Module")
        self.layers: list[Module] = list(layers)

    def append(self, layer: Module) -> Sequential:
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(layer).__name__}")
        layer._scope_name = self._scope_of(f"layers.{len(self.layers)}")
        self.layers.append(layer)
        return self

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {"layers": list(self.layers)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        return cls(*config["layers"])


class ModuleList(Module):
    """A list of modules whose parameters its owner finds: ``self.blocks = nn.ModuleList([...])``.

    The modules are named "0", "1", ... inside it (parameters ``blocks.0.W``, ...).  Unlike
    :class:`Sequential` it is never called: the owner's ``forward`` decides how to use them, so
    each module opens the name scope ``blocks.0``, ``blocks.1`` ... directly.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        self._items: list[Module] = []
        super().__init__()
        self.extend(modules)

    @property  # type: ignore[override]
    def _scope_name(self) -> str | None:
        return self._own_scope

    @_scope_name.setter
    def _scope_name(self, name: str | None) -> None:
        # Renamed by its owner: the modules' scopes ("blocks.0", ...) follow.
        object.__setattr__(self, "_own_scope", name)
        for index, module in enumerate(self._items):
            module._scope_name = self._scope_of(str(index))

    def _scope_of(self, child_name: str) -> str:
        return f"{self._scope_name}.{child_name}" if self._scope_name else child_name

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from super()._members()
        for index, module in enumerate(self._items):
            yield str(index), module

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: expected a Module, got {type(module).__name__}")
        module._scope_name = self._scope_of(str(len(self._items)))
        self._items.append(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Module:
        return self._items[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList is not called; use its modules in your forward (for m in self.blocks)")

    def get_config(self) -> dict[str, Any]:
        return {"modules": list(self._items)}


def as_parameter_list(params: Module | Iterable[at.Tensor]) -> list[at.Tensor]:
    """A module's parameters, or an iterable of tensors, as a list (for losses and optimisers)."""
    if isinstance(params, Module):
        return params.parameters()
    return list(params)
