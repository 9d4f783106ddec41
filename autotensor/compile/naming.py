"""What the generated code calls things, and how it spells values.

Variables get the documents' names where name scopes tell the layers (``z2``, ``a2``,
``delta2``, ``dW1`` ...), inputs are named after the traced function's parameters and the
tensors' dotted names; everything else is ``t1, t2 ...``.  Values that are not variables are
spelled as Python literals (numbers, tuples, slices, dtypes) or, for objects the code uses as
they are (a tensor, an outside array), as a reference into the replay's namespace.
"""
from __future__ import annotations

import keyword
import math
import re
from collections import defaultdict
from typing import Any

import numpy as np

from autotensor.compile.program import Variable

class Names:
    """Unique Python names for the program's variables (documents' names where possible)."""

    def __init__(self) -> None:
        self._taken: set[str] = {"np", "tensors", "objects", "replayed", "new_tensor", "seen", "check_layout", "requires_grad_changes", "RETRACE"}
        self._counters: dict[str, int] = defaultdict(int)
        self._layer = 0  # linear layers met so far, for z{k+1} / a{k+1}
        self._tensors: dict[str, str] = {}  # dotted tensor name -> its name in the code
        self.inline: dict[int, tuple[Variable, str]] = {}  # written as (source, ".T") where read
        self.as_array: set[int] = set()  # Python numbers the code turns into 0-d arrays once

    def reserve(self, taken: Any) -> None:
        """Names used by something else in the namespace (the buffers)."""
        self._taken.update(taken)

    def fresh(self, base: str) -> str:
        """``base`` itself if free (``t`` is always numbered), else ``base2``, ``base3`` ... (or
        ``base_2`` ... when ``base`` ends with a digit)."""
        base = identifier(base)
        if base not in self._taken and base != "t":
            self._taken.add(base)
            return base
        separator = "_" if base[-1].isdigit() else ""
        while True:
            self._counters[base] += 1
            candidate = f"{base}{separator}{self._counters[base] + (base != 't')}"
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate

    def name(self, variable: Variable) -> str:
        if variable.name:
            return variable.name
        if id(variable) in self.inline:
            source, suffix = self.inline[id(variable)]
            return self.name(source) + suffix
        storage = variable.storage
        statement = variable.statement
        if statement is not None and statement.writes is not None and storage is statement.writes:
            variable.name = self.name(storage)  # an in-place write: the same array, the same name
            return variable.name
        variable.name = self._choose(variable)
        return variable.name

    def _choose(self, variable: Variable) -> str:
        if variable.kind == "tensor" and "." in variable.hint:
            # A parameter named by nn ("layers.2.W"): W1, W2 ... in order of use, as in the
            # documents; a buffer named after one ("layers.2.W.m") is m_W2.
            owner, base = variable.hint.rsplit(".", 1)
            if owner in self._tensors:
                chosen = self._exact(f"{base}_{self._tensors[owner]}")
            else:
                self._counters["#" + base] += 1
                chosen = self._exact(f"{base}{self._counters['#' + base]}")
            self._tensors[variable.hint] = chosen
            return chosen
        if variable.gradient_of is not None:
            target = self.name(variable.gradient_of)
            if re.fullmatch(r"z\d+", target):
                return self._exact(f"delta{target[1:]}")
            return self.fresh(f"d{target}")
        if variable.hint == "z":
            self._layer += 1
            return self._exact(f"z{self._layer + 1}")
        if variable.hint == "a":
            return self._exact(f"a{self._layer + 1}")
        return self.fresh(variable.hint)

    def _exact(self, wanted: str) -> str:
        if wanted not in self._taken:
            self._taken.add(wanted)
            return wanted
        return self.fresh(wanted + "_")


def identifier(text: str) -> str:
    text = re.sub(r"\W", "_", text).strip("_") or "t"
    if keyword.iskeyword(text):
        return text + "_"
    return f"_{text}" if text[0].isdigit() else text


def literal(value: Any, names: Names) -> str:
    """Python code for an argument: a variable's name or a literal the code can spell."""
    if isinstance(value, Variable):
        return names.name(value)
    if isinstance(value, (bool, type(None), str, int)) and not isinstance(value, np.generic):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, np.floating):  # its shortest repr as a string: exact, also for longdouble
        return f"np.{type(value).__name__}({str(value)!r})"
    if isinstance(value, np.generic):
        return f"np.{type(value).__name__}({literal(value.item(), names)})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, np.dtype):
        return f"np.dtype({str(value)!r})"
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    if isinstance(value, slice):
        return f"slice({literal(value.start, names)}, {literal(value.stop, names)}, {literal(value.step, names)})"
    if isinstance(value, tuple):
        inner = ", ".join(literal(item, names) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item, names) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {literal(item, names)}" for key, item in value.items()) + "}"
    if isinstance(value, complex):
        return repr(value)
    raise TypeError(f"cannot spell {value!r} in generated code")


def tensor_reference(tensor: Any, namespace: dict[str, Any]) -> str:
    tensors = namespace["tensors"]
    for key, known in tensors.items():
        if known is tensor:
            return f"tensors[{key!r}]"
    key = tensor.name or f"#{len(tensors)}"
    while key in tensors:
        key += "'"
    tensors[key] = tensor
    return f"tensors[{key!r}]"


def object_reference(value: Any, namespace: dict[str, Any]) -> str:
    """A reference to an object the code uses as it is (an outside array, a returned object)."""
    objects = namespace["objects"]
    for index, known in enumerate(objects):
        if known is value:
            return f"objects[{index}]"
    objects.append(value)
    return f"objects[{len(objects) - 1}]"


def index(index: Any, names: Names) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    spelled = []
    for part in parts:
        if isinstance(part, slice):
            text = ":".join("" if p is None else literal(p, names) for p in (part.start, part.stop, part.step))
            spelled.append(text[:-1] if text.endswith(":") and part.step is None else text)
        elif part is None:
            spelled.append("None")
        else:
            spelled.append(literal(part, names))
    if not isinstance(index, tuple):
        return spelled[0]
    return ", ".join(spelled) + ("," if len(spelled) == 1 else "") if spelled else "()"


