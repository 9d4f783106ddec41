"""Drawing the computation graph with Graphviz.

``to_dot(root)`` turns the graph that produced ``root`` into DOT text with nothing but Python;
``draw(root)`` wraps the same text in a ``graphviz.Digraph`` (for notebooks and ``.render``);
``render(root, "graph.svg")`` writes a file through the ``dot`` program.

What a drawing shows
--------------------
* **Tensor nodes** (boxes): the name (``Tensor.name``, or one passed in ``names=``, e.g.
  ``layers.0.W`` for a parameter), the shape and dtype, and on request (``values=True``,
  ``grads=True``) the value and the gradient: small tensors (at most ``max_elements`` numbers)
  as a grid of numbers rounded to 4 significant digits, larger ones as ``min``, ``max`` and the
  Frobenius ``norm``.
* **Op nodes** (ellipses): the op's name and its static parameters (``axis=1``).  Every op input
  is one edge tensor -> op (so ``x * x`` has two edges from ``x``) and the result one edge
  op -> tensor.  A tensor used several times is drawn once, with several outgoing edges.
* **Colour legend** (also drawn as a ``legend`` box when ``legend=True``):

  =====================  ==========  ==========================================================
  kind                   fill        which tensors
  =====================  ==========  ==========================================================
  parameter              light blue  leaves with ``requires_grad=True`` (what training updates)
  input / constant       light grey  leaves without gradient: data, targets, literal constants
  intermediate value     white       results of ops between the leaves and the output
  output                 light green the root(s) passed to ``to_dot``
  op                     orange      ellipse; dashed when the graph behind it was freed
  module                 lavender    a whole name scope collapsed into one node
  hidden nodes           dashed      "... N more nodes" beyond ``max_depth``
  =====================  ==========  ==========================================================

Grouping by module
------------------
Every tensor records the name scope it was made in (``autotensor.name_scope``; ``nn`` opens
one per module).  Each scope becomes a ``subgraph cluster_*`` labelled with its full dotted
path.  Scopes nest: a cluster is drawn inside the cluster of the longest dotted prefix that
itself holds nodes, so ``model`` / ``model.layers.0`` nest while ``layers.0`` and ``layers.1``
(with nothing tagged just ``layers``) sit side by side.  An op sits in the scope of its result.
A parameter made outside any scope (``nn`` parameters are made in ``__init__``, not in
``forward``) is drawn inside the scope of its consumers when they all share one, so a layer's
``W`` and ``b`` sit in its cluster.  Inputs and constants without a scope stay outside: they
show where data enters, and pulling them into the next layer's cluster would make Graphviz
stack the clusters diagonally instead of in a row.

Legibility for big graphs
-------------------------
``max_depth=k`` draws only the ops within ``k`` steps of the root (and their inputs); whatever
lies further back is counted into one dashed node "... N more nodes" with an edge to every
drawn tensor whose own op was cut off.  ``collapse_scopes=True`` replaces every scope by one
"module" node listing its ops and parameters (or pass scope names to collapse only those
scopes, and everything nested in them).

Drawing after backward
----------------------
``backward()`` frees the graph unless ``retain_graph=True``: computed tensors keep their op
name but lose their inputs.  To draw values *and* gradients, call
``loss.backward(retain_graph=True)`` first (and ``retain_grad()`` on intermediates whose
gradients you want to see).  ``to_dot`` on a freed graph still draws what is left: the root,
and its op as a dashed ellipse marked "inputs freed".

The walk is breadth-first with an explicit queue and a visited set keyed by object identity:
shared sub-graphs are drawn once, depth is limited only by memory, and the DOT text is built
as a list of lines joined once, so conversion time is linear in the size of the graph.
``graphviz`` is imported only inside :func:`draw`; ``to_dot`` and ``render`` need no Python
package beyond numpy (``render`` runs the ``dot`` program for SVG/PNG/PDF).
"""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from autotensor.errors import AutotensorError
from autotensor.tensor import Tensor

if TYPE_CHECKING:
    import graphviz

__all__ = ["COLOURS", "DotNotFoundError", "RENDER_FORMATS", "draw", "render", "to_dot"]

Names = Union[Mapping[int, str], Mapping[Tensor, str], Mapping[str, Tensor]]

#: Fill colour of each kind of node (the legend of every drawing).
COLOURS: dict[str, str] = {
    "parameter": "#9ecae1",
    "input": "#e0e0e0",
    "intermediate": "#ffffff",
    "output": "#a1d99b",
    "op": "#fdd0a2",
    "module": "#dadaeb",
    "hidden": "#ffffff",
}
_LEGEND_TEXT = {
    "parameter": "parameter\n(leaf, requires grad)",
    "input": "input / constant\n(leaf, no grad)",
    "intermediate": "intermediate value",
    "output": "output (root)",
    "op": "op",
    "module": "module\n(collapsed scope)",
    "hidden": "hidden nodes\n(beyond max_depth)",
}
_GRAD_COLOUR = "#a50f15"
_CLUSTER_COLOUR = "#6a51a3"
_FONT = "Helvetica"

#: File extensions ``render`` understands, mapped to the ``dot -T`` format.
RENDER_FORMATS: dict[str, str] = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

# Op parameters that are bookkeeping for the derivative rule rather than meaning.
_HIDDEN_PARAMS = frozenset({"bounds", "basic", "condition"})


class DotNotFoundError(AutotensorError, RuntimeError):
    """The Graphviz ``dot`` program, needed to render SVG/PNG/PDF, is not installed."""


# --------------------------------------------------------------------------- the walk
@dataclass
class _Graph:
    """The graph reachable from the roots, as indices into ``tensors`` (discovery order)."""

    tensors: list[Tensor] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)  # fewest op-steps from a root
    inputs: list[list[int]] = field(default_factory=list)  # the op's inputs, per tensor
    roots: set[int] = field(default_factory=set)

    def add(self, tensor: Tensor, depth: int, index: dict[int, int]) -> int:
        position = len(self.tensors)
        index[id(tensor)] = position
        self.tensors.append(tensor)
        self.depth.append(depth)
        self.inputs.append([])
        return position


def _walk(roots: Sequence[Tensor]) -> _Graph:
    """Breadth-first from the roots with a visited set: each tensor once, at its smallest depth."""
    graph = _Graph()
    index: dict[int, int] = {}
    queue: deque[int] = deque()
    for root in roots:
        if id(root) not in index:
            position = graph.add(root, 0, index)
            graph.roots.add(position)
            queue.append(position)
    while queue:
        position = queue.popleft()
        own_inputs = graph.inputs[position]
        for parent in graph.tensors[position].parents:
            seen = index.get(id(parent))
            if seen is None:
                seen = graph.add(parent, graph.depth[position] + 1, index)
                queue.append(seen)
            own_inputs.append(seen)
    return graph


# --------------------------------------------------------------------------- formatting
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


def _escape(text: str) -> str:
    """Text for an HTML-like label: markup characters escaped, control characters dropped."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return html.escape(text, quote=False).replace("\n", "<BR/>")


def _quote(text: str) -> str:
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
        content = f"{font_open}{_escape(_summary(array))}{font_close}"
    return f'<TR><TD ALIGN="LEFT" VALIGN="TOP">{font_open}<I>{kind}</I>{font_close}</TD><TD ALIGN="LEFT">{content}</TD></TR>'


def _tensor_label(
    tensor: Tensor, name: str | None, values: bool, grads: bool, max_elements: int
) -> str:
    rows = []
    if name:
        rows.append(f'<TR><TD COLSPAN="2"><B>{_escape(name)}</B></TD></TR>')
    rows.append(f'<TR><TD COLSPAN="2"><FONT POINT-SIZE="9">{_escape(_shape_text(tensor))}</FONT></TD></TR>')
    if values:
        rows.append(_array_row("data", np.asarray(tensor.data), max_elements, None))
    if grads and tensor.grad is not None:
        rows.append(_array_row("grad", np.asarray(tensor.grad.data), max_elements, _GRAD_COLOUR))
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


def _op_label(tensor: Tensor, freed: bool) -> str:
    lines = [tensor.op_name or "?"]
    params = getattr(tensor, "_params", None) or {}
    shown = [text for text in (_param_text(k, v) for k, v in params.items()) if text]
    if shown:
        lines.append(" ".join(shown))
    if freed:
        lines.append("(inputs freed)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- options
def _as_roots(root: Tensor | Iterable[Tensor]) -> list[Tensor]:
    roots = [root] if isinstance(root, Tensor) else list(root)
    if not roots:
        raise ValueError("to_dot: no tensor to draw (got an empty list)")
    for number, tensor in enumerate(roots):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"to_dot: root {number} is a {type(tensor).__name__}, not a Tensor")
    return roots


def _names_by_id(names: Names | None) -> dict[int, str]:
    """Accept {Tensor: name}, {id(Tensor): name} or {name: Tensor} (``dict(named_parameters())``)."""
    if not names:
        return {}
    by_id: dict[int, str] = {}
    for key, value in names.items():
        if isinstance(key, str) and isinstance(value, Tensor):
            by_id[id(value)] = key
        elif isinstance(key, Tensor):
            by_id[id(key)] = str(value)
        elif isinstance(key, int):
            by_id[key] = str(value)
        else:
            raise TypeError(
                f"to_dot: names must map Tensor or id(Tensor) to a name, or a name to a Tensor; "
                f"got a key of type {type(key).__name__}"
            )
    return by_id


def _collapse_rule(collapse_scopes: bool | Collection[str]) -> Any:
    """A function scope -> the collapsed group it belongs to (or None to draw it normally)."""
    if collapse_scopes is True:
        return lambda scope: scope
    if not collapse_scopes:
        return lambda scope: None
    if isinstance(collapse_scopes, str):
        collapse_scopes = [collapse_scopes]
    prefixes = sorted({str(s) for s in collapse_scopes}, key=len)

    def group(scope: str | None) -> str | None:
        if scope is None:
            return None
        for prefix in prefixes:
            if scope == prefix or scope.startswith(prefix + "."):
                return prefix
        return None

    return group


# --------------------------------------------------------------------------- the DOT body
@dataclass
class _Node:
    id: str
    attrs: str
    scope: str | None


def _build(
    roots: list[Tensor],
    *,
    values: bool,
    grads: bool,
    rankdir: str,
    max_depth: int | None,
    collapse_scopes: bool | Collection[str],
    legend: bool,
    names: Names | None,
    max_elements: int,
) -> list[str]:
    """The lines between ``digraph autotensor {`` and ``}``, each ending with a newline."""
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"to_dot: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 0):
        raise ValueError(f"to_dot: max_depth must be a non-negative int or None, got {max_depth!r}")
    graph = _walk(roots)
    tensors, depth, inputs = graph.tensors, graph.depth, graph.inputs
    count = len(tensors)
    by_id = _names_by_id(names)

    def tensor_drawn(i: int) -> bool:
        return max_depth is None or depth[i] <= max_depth

    def op_drawn(i: int) -> bool:
        return not tensors[i].is_leaf and (max_depth is None or depth[i] < max_depth)

    # Scope of each tensor, with scope-less leaves joining the single scope of their consumers.
    scopes: list[str | None] = [t.scope for t in tensors]
    consumer_scopes: dict[int, set[str | None]] = {}
    for i in range(count):
        for j in inputs[i]:
            if scopes[j] is None and tensors[j].is_leaf:
                consumer_scopes.setdefault(j, set()).add(tensors[i].scope)
    for j, found in consumer_scopes.items():
        tensor = tensors[j]
        if tensor.requires_grad and len(found) == 1:
            scopes[j] = next(iter(found))

    group_of = _collapse_rule(collapse_scopes)
    nodes: list[_Node] = []
    edges: list[tuple[str, str]] = []
    groups: dict[str, list[int]] = {}  # collapsed scope -> member tensor indices (drawn)
    group_ops: dict[str, list[int]] = {}
    node_of_tensor: dict[int, str] = {}
    node_of_op: dict[int, str] = {}
    hidden = 0
    frontier: list[int] = []

    for i in range(count):
        tensor = tensors[i]
        if not tensor_drawn(i):
            hidden += 1 + (0 if tensor.is_leaf else 1)
            continue
        group = group_of(scopes[i])
        if group is not None:
            groups.setdefault(group, []).append(i)
            node_of_tensor[i] = "m:" + group
        else:
            node_of_tensor[i] = f"t{i}"
            name = by_id.get(id(tensor)) or tensor.name
            kind = _kind(tensor, i in graph.roots)
            nodes.append(_Node(f"t{i}", _tensor_attrs(kind, _tensor_label(tensor, name, values, grads, max_elements)), scopes[i]))
        if tensor.is_leaf:
            continue
        if not op_drawn(i):
            hidden += 1
            frontier.append(i)
            continue
        op_group = group_of(tensor.scope)
        freed = not tensor.parents
        if op_group is not None:
            group_ops.setdefault(op_group, []).append(i)
            node_of_op[i] = "m:" + op_group
        else:
            node_of_op[i] = f"op{i}"
            nodes.append(_Node(f"op{i}", _op_attrs(_op_label(tensor, freed), freed), tensor.scope))

    # dot lays out LR as a rotated TB drawing, so there the first of the edges kept in
    # order by ordering=in lands at the bottom: list inputs last-first to put the left operand on top.
    reverse = rankdir == "LR"
    for i in range(count):
        if i in node_of_op:
            op_node = node_of_op[i]
            for j in (reversed(inputs[i]) if reverse else inputs[i]):
                edges.append((node_of_tensor[j], op_node))
            edges.append((op_node, node_of_tensor[i]))

    # Collapsed scopes: one node each, edges merged and de-duplicated.
    group_ids: dict[str, str] = {}
    all_scopes = {s for s in scopes if s is not None} | {tensors[i].scope for i in node_of_op if tensors[i].scope}
    open_scopes = {s for s in all_scopes if group_of(s) is None}
    for number, group in enumerate(sorted(set(groups) | set(group_ops))):
        group_ids[group] = f"m{number}"
        label = _module_label(group, [tensors[i] for i in group_ops.get(group, [])],
                              [tensors[i] for i in groups.get(group, [])], by_id)
        home = _nearest_prefix(group, open_scopes)
        nodes.append(_Node(group_ids[group], _module_attrs(label), home))
    if group_ids:
        merged: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for tail, head in edges:
            tail = group_ids[tail[2:]] if tail.startswith("m:") else tail
            head = group_ids[head[2:]] if head.startswith("m:") else head
            if tail != head and (tail, head) not in seen:
                seen.add((tail, head))
                merged.append((tail, head))
        edges = merged

    if hidden:
        nodes.append(_Node("more", _hidden_attrs(hidden), None))
        targets = dict.fromkeys(node_of_tensor[i] for i in frontier)
        edges.extend(("more", group_ids.get(t[2:], t) if t.startswith("m:") else t) for t in targets)

    lines = [
        f"\tgraph [rankdir={rankdir}, fontname={_quote(_FONT)}, fontsize=11, nodesep=0.25, ranksep=0.35];\n",
        f"\tnode [fontname={_quote(_FONT)}, fontsize=10, penwidth=0.8];\n",
        '\tedge [color="#4d4d4d", arrowsize=0.6, penwidth=0.8];\n',
    ]
    lines.extend(_cluster_lines(nodes))
    lines.extend(f"\t{tail} -> {head};\n" for tail, head in edges)
    if legend:
        used = {"hidden"} if hidden else set()
        if group_ids:
            used.add("module")
        lines.extend(_legend_lines(used, rankdir in ("LR", "RL")))
    return lines


def _kind(tensor: Tensor, is_root: bool) -> str:
    if is_root:
        return "output"
    if tensor.is_leaf:
        return "parameter" if tensor.requires_grad else "input"
    return "intermediate"


def _tensor_attrs(kind: str, label: str) -> str:
    return f'shape=box, style="rounded,filled", fillcolor="{COLOURS[kind]}", margin="0.06,0.03", label={label}'


def _op_attrs(label: str, freed: bool) -> str:
    style = "filled,dashed" if freed else "filled"
    # ordering=in keeps the input edges in argument order (left operand first), which matters
    # for matmul, sub, div, pow and concatenate.
    return (
        f'shape=ellipse, style="{style}", fillcolor="{COLOURS["op"]}", margin="0.02,0.01", height=0.3, '
        f'ordering=in, label={_quote(label)}'
    )


def _module_attrs(label: str) -> str:
    return f'shape=box3d, style=filled, fillcolor="{COLOURS["module"]}", label={label}'


def _hidden_attrs(hidden: int) -> str:
    return f'shape=note, style="dashed,filled", fillcolor="{COLOURS["hidden"]}", label={_quote(f"… {hidden} more nodes")}'


def _module_label(scope: str, ops: list[Tensor], members: list[Tensor], by_id: dict[int, str]) -> str:
    # The walk goes from the output backwards; list ops and parameters in forward order.
    op_names = list(dict.fromkeys(t.op_name for t in reversed(ops)))
    counted = f"{len(ops)} op{'' if len(ops) == 1 else 's'}"
    rows = [f"<TR><TD><B>{_escape(scope)}</B></TD></TR>"]
    rows.append(f"<TR><TD>{counted}: {_escape(', '.join(op_names))}</TD></TR>" if ops else "<TR><TD>no ops</TD></TR>")
    for tensor in reversed(members):
        if tensor.is_leaf and tensor.requires_grad:
            name = by_id.get(id(tensor)) or tensor.name or "parameter"
            rows.append(f'<TR><TD><FONT POINT-SIZE="9">{_escape(name)} {_escape(_shape_text(tensor))}</FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _nearest_prefix(scope: str, candidates: set[str]) -> str | None:
    """The longest proper dotted prefix of ``scope`` found in ``candidates``."""
    parts = scope.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in candidates:
            return prefix
    return None


def _cluster_lines(nodes: list[_Node]) -> list[str]:
    """Node statements, each inside the (nested) cluster of its scope; no recursion."""
    members: dict[str | None, list[_Node]] = {}
    for node in nodes:
        members.setdefault(node.scope, []).append(node)
    scopes = [s for s in members if s is not None]
    present = set(scopes)
    children: dict[str | None, list[str]] = {}
    for scope in scopes:
        children.setdefault(_nearest_prefix(scope, present), []).append(scope)
    number = {scope: n for n, scope in enumerate(scopes)}
    lines: list[str] = [f"\t{node.id} [{node.attrs}];\n" for node in members.get(None, [])]
    # Explicit stack of (scope, entering?): open a cluster, emit its nodes and children, close it.
    stack: list[tuple[str, int, bool]] = [(s, 1, True) for s in reversed(children.get(None, []))]
    while stack:
        scope, level, entering = stack.pop()
        indent = "\t" * level
        if not entering:
            lines.append(f"{indent}}}\n")
            continue
        lines.append(f"{indent}subgraph cluster_{number[scope]} {{\n")
        lines.append(
            f'{indent}\tgraph [label={_quote(scope)}, style="rounded,dashed", color="{_CLUSTER_COLOUR}", '
            f'fontcolor="{_CLUSTER_COLOUR}", labeljust=l];\n'
        )
        lines.extend(f"{indent}\t{node.id} [{node.attrs}];\n" for node in members[scope])
        stack.append((scope, level, False))
        stack.extend((s, level + 1, True) for s in reversed(children.get(scope, [])))
    return lines


def _legend_lines(optional: set[str], flow_across: bool) -> list[str]:
    kinds = ["parameter", "input", "intermediate", "output", "op"] + [k for k in ("module", "hidden") if k in optional]
    lines = [
        "\tsubgraph cluster_legend {\n",
        '\t\tgraph [label="legend", style="rounded", color="#969696", fontcolor="#525252", labeljust=l];\n',
    ]
    for kind in kinds:
        text = _quote(_LEGEND_TEXT[kind])
        if kind == "op":
            attrs = f'shape=ellipse, style=filled, fillcolor="{COLOURS["op"]}", height=0.3, label={text}'
        elif kind == "module":
            attrs = f'shape=box3d, style=filled, fillcolor="{COLOURS["module"]}", label={text}'
        elif kind == "hidden":
            attrs = f'shape=note, style="dashed,filled", fillcolor="{COLOURS["hidden"]}", label={text}'
        else:
            attrs = f'shape=box, style="rounded,filled", fillcolor="{COLOURS[kind]}", label={text}'
        lines.append(f"\t\tlegend_{kind} [{attrs}, fontsize=9];\n")
    # A narrow column beside the graph whatever the direction: in LR one rank (top to bottom
    # in reverse, see _build), in TB a chain of ranks, kept in order by invisible edges.
    if flow_across:
        chain = " -> ".join(f"legend_{k}" for k in reversed(kinds))
        lines.append(f"\t\t{{rank=same; {chain} [style=invis];}}\n")
    else:
        lines.append("\t\t" + " -> ".join(f"legend_{k}" for k in kinds) + " [style=invis];\n")
    lines.append("\t}\n")
    return lines


# --------------------------------------------------------------------------- public API
def to_dot(
    root: Tensor | Iterable[Tensor],
    *,
    values: bool = False,
    grads: bool = False,
    rankdir: str = "LR",
    max_depth: int | None = None,
    collapse_scopes: bool | Collection[str] = False,
    legend: bool = True,
    names: Names | None = None,
    max_elements: int = 6,
) -> str:
    """DOT text of the graph that produced ``root`` (a Tensor or several); no binary needed.

    ``values`` / ``grads``: show each tensor's data / ``.grad`` (tensors with at most
    ``max_elements`` numbers in full, larger ones as min, max and norm).  Gradients exist only
    after ``backward(retain_graph=True)`` (otherwise the graph is freed; see the module doc),
    and for intermediates only if ``retain_grad()`` was called on them.
    ``rankdir``: "LR" (left to right, the default), "TB" (top to bottom), "RL" or "BT".
    ``max_depth``: draw only ops within that many steps of the root, the rest as one node
    "... N more nodes".  ``collapse_scopes``: True to draw each name scope as one module node,
    or a collection of scope names to collapse.  ``legend``: add the colour legend.
    ``names``: names for tensors that have none, as {Tensor: name}, {id(Tensor): name} or
    {name: Tensor} (e.g. ``dict(model.named_parameters())``); they win over ``Tensor.name``.
    """
    lines = _build(
        _as_roots(root), values=values, grads=grads, rankdir=rankdir, max_depth=max_depth,
        collapse_scopes=collapse_scopes, legend=legend, names=names, max_elements=max_elements,
    )
    return "digraph autotensor {\n" + "".join(lines) + "}\n"


def _require_dot() -> str:
    path = shutil.which("dot")
    if path is None:
        raise DotNotFoundError(
            "the Graphviz 'dot' program is not on PATH; install Graphviz: Debian/Ubuntu "
            "'sudo apt-get install graphviz' (package graphviz), macOS 'brew install graphviz' "
            "(Homebrew), others https://graphviz.org/download/ -- or use to_dot() / a .dot file, "
            "which need no binary"
        )
    return path


def draw(
    root: Tensor | Iterable[Tensor],
    *,
    values: bool = False,
    grads: bool = False,
    rankdir: str = "LR",
    max_depth: int | None = None,
    collapse_scopes: bool | Collection[str] = False,
    legend: bool = True,
    names: Names | None = None,
    max_elements: int = 6,
    format: str = "svg",
) -> graphviz.Digraph:
    """The same drawing as :func:`to_dot` as a ``graphviz.Digraph`` (``.render()``, notebooks).

    Its ``.source`` is exactly ``to_dot(...)``.  Needs the ``graphviz`` Python package
    (``pip install autotensor[viz]``) and, to render, the Graphviz ``dot`` program.
    """
    try:
        import graphviz
    except ImportError as error:
        raise ImportError(
            "autotensor.viz.draw needs the graphviz Python package: pip install autotensor[viz] "
            "(or pip install graphviz); to_dot() works without it"
        ) from error
    _require_dot()
    lines = _build(
        _as_roots(root), values=values, grads=grads, rankdir=rankdir, max_depth=max_depth,
        collapse_scopes=collapse_scopes, legend=legend, names=names, max_elements=max_elements,
    )
    return graphviz.Digraph(name="autotensor", format=format, body=lines)


def render(
    root: Tensor | Iterable[Tensor],
    path: str | os.PathLike[str],
    *,
    values: bool = False,
    grads: bool = False,
    rankdir: str = "LR",
    max_depth: int | None = None,
    collapse_scopes: bool | Collection[str] = False,
    legend: bool = True,
    names: Names | None = None,
    max_elements: int = 6,
) -> Path:
    """Write the drawing to ``path``; the extension picks the format (.svg .png .pdf .dot .gv).

    ``.dot``/``.gv`` need nothing; the others run the ``dot`` program.  The file is written
    to a temporary name in the same directory and renamed, so a failed run leaves no partial
    file behind.  Returns the path written.
    """
    target = Path(path)
    file_format = RENDER_FORMATS.get(target.suffix.lower())
    if file_format is None:
        raise ValueError(
            f"render: cannot tell the format of {str(target)!r}; use one of {', '.join(RENDER_FORMATS)}"
        )
    source = to_dot(
        root, values=values, grads=grads, rankdir=rankdir, max_depth=max_depth,
        collapse_scopes=collapse_scopes, legend=legend, names=names, max_elements=max_elements,
    ).encode("utf-8")
    if file_format == "dot":
        output = source
    else:
        dot = _require_dot()
        result = subprocess.run([dot, f"-T{file_format}"], input=source, capture_output=True, check=False)
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"render: dot -T{file_format} failed: {message[0] if message else 'no message'}")
        output = result.stdout
    _write_atomically(target, output)
    return target


def _write_atomically(target: Path, content: bytes) -> None:
    directory = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; a drawing is an ordinary file
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
