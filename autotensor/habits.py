"""The everyday conveniences of :class:`~autotensor.tensor.Tensor` that numpy and PyTorch users
reach for: display (``repr``, notebooks), formatting (``f"{loss:.4f}"``), ``tolist``,
``zero_()``, ``argmax``/``argmin`` and ``register_hook``.

None of them is an op: ``argmax`` and ``argmin`` are not differentiable and return ndarrays
(indices), ``tolist`` returns Python data, ``zero_`` is an in-place edit with the same rules as
``+=`` (allowed only outside gradient recording, bumps the version counter).  The ops among the
habits, ``clone`` and ``astype``, are methods in :mod:`autotensor.methods` like every op.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

from autotensor.errors import ShapeError

if TYPE_CHECKING:
    from autotensor.hooks import Hook, RemovableHandle
    from autotensor.tensor import Tensor

_PREFIX = "Tensor("


class TensorHabits:
    """Mixin of :class:`~autotensor.tensor.Tensor`: display, formatting and small conveniences."""

    __slots__ = ()

    # ----------------------------------------------------------------- display
    def __repr__(self: Tensor) -> str:  # type: ignore[misc]
        """``Tensor([[1., 2.],`` then ``        [3., 4.]], requires_grad=True)``: every row
        starts under the first one, and the columns line up (numpy's layout, indented)."""
        extras = "".join(", " + item for item in _annotations(self))
        if isinstance(self.data, np.ndarray):
            body = np.array2string(self.data, separator=", ", precision=6, threshold=20,
                                   prefix=_PREFIX, suffix=extras + ")")
        else:  # a traced array while at.compile traces: its description, not its values
            body = repr(self.data)
        return f"{_PREFIX}{body}{extras})"

    def _repr_html_(self: Tensor) -> str:  # type: ignore[misc]
        """A notebook's rich display: shape, dtype, op, whether it requires grad, then values."""
        rows = [("shape", str(self.shape)), ("dtype", str(self.dtype)),
                ("op", self._op.name if self._op is not None else "none (a leaf)"),
                ("requires grad", "yes" if self._requires_grad else "no")]
        if self.name:
            rows.insert(0, ("name", self.name))
        if self.grad is not None:
            rows.append(("grad", f"shape {self.grad.shape}"))
        cells = "".join(f"<tr><th style='text-align:left'>{html.escape(key)}</th><td>{html.escape(value)}</td></tr>"
                        for key, value in rows)
        values = np.array2string(self.data, separator=", ", precision=6, threshold=200) \
            if isinstance(self.data, np.ndarray) else repr(self.data)
        return (f"<div class='autotensor-tensor'><strong>Tensor</strong><table>{cells}</table>"
                f"<pre>{html.escape(values)}</pre></div>")

    def __format__(self: Tensor, spec: str) -> str:  # type: ignore[misc]
        """``f"{loss:.4f}"`` formats the value of a one-element tensor; ``f"{t}"`` is the
        number for a 0-d tensor (as in PyTorch) and ``str(t)`` otherwise."""
        if spec or self.data.ndim == 0:
            if self.data.size != 1:
                raise ShapeError(
                    f"format: only one-element tensors take a format spec like {spec!r}, this one has "
                    f"shape {self.shape}; format t.item() of an element, or np.array2string(t.data)"
                )
            return format(self.item(), spec)
        return str(self)

    # ----------------------------------------------------------------- conversions
    def tolist(self: Tensor) -> Any:  # type: ignore[misc]
        """The values as (nested lists of) Python numbers, like ``ndarray.tolist``."""
        return self.data.tolist()

    def argmax(self: Tensor, axis: int | None = None, keepdims: bool = False) -> np.ndarray:  # type: ignore[misc]
        """Indices of the largest values along ``axis`` (None: of the flattened values, a 0-d
        array), an ndarray: indices carry no gradient."""
        return _arg_extremum("argmax", np.argmax, self, axis, keepdims)

    def argmin(self: Tensor, axis: int | None = None, keepdims: bool = False) -> np.ndarray:  # type: ignore[misc]
        """Indices of the smallest values along ``axis`` (None: of the flattened values)."""
        return _arg_extremum("argmin", np.argmin, self, axis, keepdims)

    # ----------------------------------------------------------------- in place, hooks
    def zero_(self: Tensor) -> Tensor:  # type: ignore[misc]
        """Set every element to 0 in place and return self.  The rules of ``+=``: refused while
        the tensor takes part in gradient recording (use it under ``at.no_grad()``, or on a
        ``.grad``), and it bumps the version counter shared with the tensor's views."""
        self._in_place_operand("zero_()", 0)
        self._data_to_edit()[...] = 0
        self._version[0] += 1
        return self

    def register_hook(self: Tensor, hook: Hook) -> RemovableHandle:  # type: ignore[misc]
        """Call ``hook(grad)`` once backward has this tensor's whole gradient; a returned value
        replaces the gradient (see :mod:`autotensor.hooks`).  Returns a handle with ``remove()``."""
        from autotensor.hooks import register_hook

        return register_hook(self, hook)


def _annotations(tensor: Tensor) -> list[str]:
    """What a repr adds after the values: name, op or requires_grad, a dtype other than float64."""
    extras = []
    if tensor.name:
        extras.append(f"name={tensor.name!r}")
    if tensor._op is not None:
        extras.append(f"op={tensor._op.name}")
    elif tensor._requires_grad:
        extras.append("requires_grad=True")
    if tensor.data.dtype != np.float64:
        extras.append(f"dtype={tensor.data.dtype}")
    return extras


def _arg_extremum(name: str, function: Any, tensor: Tensor, axis: Any, keepdims: Any) -> np.ndarray:
    from autotensor.ops.axes import one_axis, reduction_axes

    reduction_axes(name, None, keepdims, tensor.ndim)  # checks keepdims
    if axis is not None:
        axis = one_axis(name, axis, tensor.ndim)
    if (tensor.data.size if axis is None else tensor.shape[axis]) == 0:
        raise ShapeError(f"{name}: no elements to choose from along axis {axis} of a tensor of shape {tensor.shape}")
    found = function(tensor.data, axis=axis, keepdims=bool(keepdims))
    return np.asarray(found) if isinstance(found, np.generic) else found  # always an array, 0-d for one index
