"""Labels: what each node of a drawing says, as Graphviz HTML-like or quoted text.

A tensor's label is its name, its shape and dtype and, on request, its value and gradient:
small tensors (at most ``max_elements`` numbers) as a grid rounded to 4 significant digits,
larger ones as ``min``, ``max`` and the Frobenius ``norm``; gradients in red.  An op's label is
its name and its static parameters (``axis=1``, ``[0:2]``), leaving out the bookkeeping that
only its derivative rule needs.  All text is escaped here, so a tensor named ``<b>"x"</b>``
cannot break the DOT syntax.
"""
from __future__ import annotations

import html
import re
from typing import Any

import numpy as np

from autotensor.tensor import Tensor

#: Colour of gradient values, so they stand apart from the data.
GRAD_COLOUR = "#a50f15"

# Op parameters that are bookkeeping for the derivative rule rather than meaning.
_HIDDEN_PARAMS = frozenset({"bounds", "basic", "condition"})


def _number(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.4g}"


def _summary(array: np.ndarray) -> str:
    if array.size == 0:
        return "empty"
    as_float = array.astype(np.float64, copy=False)
    return (
        f"min {_number(as_float.min())}  max {_number(as_float.max())}  "
        f"norm {_number(np.linalg.norm(as_float.ravel()))}"
    )


def _grid(array: np.ndarray, colour: str | None) -> str:
    """An HTML table with one cell per number (a matrix keeps its rows)."""
    if array.ndim == 2:
        rows = [list(row) for row in array]
    else:
        rows = [list(array.ravel())]
    font_open = f'<FONT COLOR="{colour}">' if colour else ""
    font_close = "</FONT>" if colour else ""
    gap = "&#160;"  # a non-breaking space between columns so "-0.1591-0.08938" cannot touch
    cells = [
        "<TR>"
        + "".join(
            f'<TD ALIGN="RIGHT">{font_open}{gap if column else ""}{_number(v)}{font_close}</TD>'
            for column, v in enumerate(row)
        )
        + "</TR>"
        for row in rows
    ]
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(cells) + "</TABLE>"


def escape(text: str) -> str:
    """Text for an HTML-like label: markup characters escaped, control characters dropped."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return html.escape(text, quote=False).replace("\n", "<BR/>")


def quote(text: str) -> str:
    """A DOT double-quoted string (for ids, plain labels and attributes)."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_DTYPE_NAMES: dict[np.dtype, str] = {}


def _shape_text(tensor: Tensor) -> str:
    shape = "scalar" if tensor.ndim == 0 else str(tuple(int(n) for n in tensor.shape))
    dtype = tensor.dtype
    name = _DTYPE_NAMES.get(dtype)
    if name is None:  # str(dtype) is slow enough to matter on 10,000-node graphs
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return f"{shape} {name}"


def _array_row(kind: str, array: np.ndarray, max_elements: int, colour: str | None) -> str:
    font_open = f'<FONT COLOR="{colour}">' if colour else ""
    font_close = "</FONT>" if colour else ""
    if array.size <= max_elements and array.size > 0:
        content = _grid(array, colour)
    else:
        content = f"{font_open}{escape(_summary(array))}{font_close}"
    return f'<TR><TD ALIGN="LEFT" VALIGN="TOP">{font_open}<I>{kind}</I>{font_close}</TD><TD ALIGN="LEFT">{content}</TD></TR>'


def tensor_label(
    tensor: Tensor, name: str | None, values: bool, grads: bool, max_elements: int
) -> str:
    """A tensor box: name, shape and dtype, then (on request) its data and its gradient."""
    rows = []
    if name:
        rows.append(f'<TR><TD COLSPAN="2"><B>{escape(name)}</B></TD></TR>')
    rows.append(f'<TR><TD COLSPAN="2"><FONT POINT-SIZE="9">{escape(_shape_text(tensor))}</FONT></TD></TR>')
    if values:
        rows.append(_array_row("data", np.asarray(tensor.data), max_elements, None))
    if grads and tensor.grad is not None:
        rows.append(_array_row("grad", np.asarray(tensor.grad.data), max_elements, GRAD_COLOUR))
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _index_text(index: Any) -> str | None:
    parts = index if isinstance(index, tuple) else (index,)
    shown = []
    for part in parts:
        if part is None:
            shown.append("None")
        elif part is Ellipsis:
            shown.append("...")
        elif isinstance(part, (int, np.integer)):
            shown.append(str(int(part)))
        elif isinstance(part, slice):
            text = ("" if part.start is None else str(part.start)) + ":" + ("" if part.stop is None else str(part.stop))
            shown.append(text + ("" if part.step is None else f":{part.step}"))
        else:
            return "[advanced]"
    return "[" + ", ".join(shown) + "]"


def _param_text(key: str, value: Any) -> str | None:
    if key in _HIDDEN_PARAMS or value is None:
        return None
    if key == "index":
        return _index_text(value)
    if isinstance(value, (bool, int, float, str, np.number)):
        return f"{key}={_number(value) if not isinstance(value, str) else value}"
    if isinstance(value, tuple) and all(isinstance(v, (int, np.integer)) for v in value):
        return f"{key}={tuple(int(v) for v in value)}"
    return None


def op_label(tensor: Tensor, freed: bool) -> str:
    """The op that made ``tensor``: its name, its shown parameters, and whether it was freed."""
    lines = [tensor.op_name or "?"]
    params = getattr(tensor, "_params", None) or {}
    shown = [text for text in (_param_text(k, v) for k, v in params.items()) if text]
    if shown:
        lines.append(" ".join(shown))
    if freed:
        lines.append("(inputs freed by backward)")
    return "\n".join(lines)


def module_label(scope: str, ops: list[Tensor], members: list[Tensor], by_id: dict[int, str]) -> str:
    """A collapsed scope: its name, the ops it ran and the parameters it holds."""
    # The walk goes from the output backwards; list ops and parameters in forward order.
    op_names = list(dict.fromkeys(t.op_name for t in reversed(ops)))
    counted = f"{len(ops)} op{'' if len(ops) == 1 else 's'}"
    rows = [f"<TR><TD><B>{escape(scope)}</B></TD></TR>"]
    rows.append(f"<TR><TD>{counted}: {escape(', '.join(op_names))}</TD></TR>" if ops else "<TR><TD>no ops</TD></TR>")
    for tensor in reversed(members):
        if tensor.is_leaf and tensor.requires_grad:
            name = by_id.get(id(tensor)) or tensor.name or "parameter"
            rows.append(f'<TR><TD><FONT POINT-SIZE="9">{escape(name)} {escape(_shape_text(tensor))}</FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"
