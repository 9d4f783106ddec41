"""From a graph of tensors to DOT text: nodes, edges, clusters per module, depth limits.

``to_dot(root)`` needs nothing but Python: it walks the graph (:mod:`autotensor.viz.walk`),
labels every node (:mod:`autotensor.viz.labels`), styles it (:mod:`autotensor.viz.style`) and
writes one line per node and edge, as a list of lines joined once, so conversion time is linear
in the size of the graph.

Every op input is one edge tensor -> op (so ``x * x`` has two edges from ``x``) and the result
one edge op -> tensor.  A tensor used several times is drawn once, with several outgoing edges.

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
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Union

from autotensor.tensor import Tensor
from autotensor.viz.labels import module_label, op_label, quote, tensor_label
from autotensor.viz.style import (
    CLUSTER_COLOUR, FONT, freed_note_lines, hidden_attrs, kind_of, legend_lines, module_attrs, op_attrs, tensor_attrs,
)
from autotensor.viz.walk import walk

Names = Union[Mapping[int, str], Mapping[Tensor, str], Mapping[str, Tensor]]

DOT_HEADER = "digraph autotensor {\n"
DOT_FOOTER = "}\n"


class DrawingOptions(TypedDict, total=False):
    """The keyword options of :func:`to_dot`, which ``draw`` and ``render`` pass on to it."""

    values: bool
    grads: bool
    rankdir: str
    max_depth: int | None
    collapse_scopes: bool | Collection[str]
    legend: bool
    names: Names | None
    max_elements: int


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
    graph = walk(roots)
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
    freed_ops = 0
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
            kind = kind_of(tensor, i in graph.roots)
            nodes.append(_Node(f"t{i}", tensor_attrs(kind, tensor_label(tensor, name, values, grads, max_elements)), scopes[i]))
        if tensor.is_leaf:
            continue
        if not op_drawn(i):
            hidden += 1
            frontier.append(i)
            continue
        op_group = group_of(tensor.scope)
        freed = not tensor.parents  # a recorded op always has inputs, unless backward freed them
        freed_ops += freed
        if op_group is not None:
            group_ops.setdefault(op_group, []).append(i)
            node_of_op[i] = "m:" + op_group
        else:
            node_of_op[i] = f"op{i}"
            nodes.append(_Node(f"op{i}", op_attrs(op_label(tensor, freed), freed), tensor.scope))

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
        label = module_label(group, [tensors[i] for i in group_ops.get(group, [])],
                              [tensors[i] for i in groups.get(group, [])], by_id)
        home = _nearest_prefix(group, open_scopes)
        nodes.append(_Node(group_ids[group], module_attrs(label), home))
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
        nodes.append(_Node("more", hidden_attrs(hidden), None))
        targets = dict.fromkeys(node_of_tensor[i] for i in frontier)
        edges.extend(("more", group_ids.get(t[2:], t) if t.startswith("m:") else t) for t in targets)

    lines = [
        f"\tgraph [rankdir={rankdir}, fontname={quote(FONT)}, fontsize=11, nodesep=0.25, ranksep=0.35];\n",
        f"\tnode [fontname={quote(FONT)}, fontsize=10, penwidth=0.8];\n",
        '\tedge [color="#4d4d4d", arrowsize=0.6, penwidth=0.8];\n',
    ]
    lines.extend(_cluster_lines(nodes))
    lines.extend(f"\t{tail} -> {head};\n" for tail, head in edges)
    if legend:
        used = {"hidden"} if hidden else set()
        if group_ids:
            used.add("module")
        lines.extend(legend_lines(used, rankdir in ("LR", "RL")))
    if freed_ops:
        lines.extend(freed_note_lines(freed_ops))
    return lines


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
            f'{indent}\tgraph [label={quote(scope)}, style="rounded,dashed", color="{CLUSTER_COLOUR}", '
            f'fontcolor="{CLUSTER_COLOUR}", labeljust=l];\n'
        )
        lines.extend(f"{indent}\t{node.id} [{node.attrs}];\n" for node in members[scope])
        stack.append((scope, level, False))
        stack.extend((s, level + 1, True) for s in reversed(children.get(scope, [])))
    return lines


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
    ``max_elements`` numbers in full, larger ones as min, max and norm).  To see gradients on
    the whole graph, draw after ``backward(retain_graph=True)``: an ordinary backward frees the
    graph, and the drawing then says so in its title (see ``autotensor.viz``).  Intermediates
    have gradients only if ``retain_grad()`` was called on them.
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
    return DOT_HEADER + "".join(lines) + DOT_FOOTER
