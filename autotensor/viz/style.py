"""The look of a drawing: which kind each node is, its colour and shape, and the legend.

One table, :data:`COLOURS`, gives every kind of node its fill; the node attributes and the
legend are both drawn from it, so the legend cannot disagree with the graph.
"""
from __future__ import annotations

from autotensor.tensor import Tensor
from autotensor.viz.labels import quote

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
#: Outline and title colour of the cluster drawn around a name scope.
CLUSTER_COLOUR = "#6a51a3"
#: Colour of the note over a drawing of a freed graph.
FREED_COLOUR = "#a50f15"
FONT = "Helvetica"


def kind_of(tensor: Tensor, is_root: bool) -> str:
    """The legend entry a tensor belongs to: output, parameter, input or intermediate."""
    if is_root:
        return "output"
    if tensor.is_leaf:
        return "parameter" if tensor.requires_grad else "input"
    return "intermediate"


def tensor_attrs(kind: str, label: str) -> str:
    return f'shape=box, style="rounded,filled", fillcolor="{COLOURS[kind]}", margin="0.06,0.03", label={label}'


def op_attrs(label: str, freed: bool) -> str:
    style = "filled,dashed" if freed else "filled"
    # ordering=in keeps the input edges in argument order (left operand first), which matters
    # for matmul, sub, div, pow and concatenate.
    return (
        f'shape=ellipse, style="{style}", fillcolor="{COLOURS["op"]}", margin="0.02,0.01", height=0.3, '
        f'ordering=in, label={quote(label)}'
    )


def module_attrs(label: str) -> str:
    return f'shape=box3d, style=filled, fillcolor="{COLOURS["module"]}", label={label}'


def hidden_attrs(hidden: int) -> str:
    return f'shape=note, style="dashed,filled", fillcolor="{COLOURS["hidden"]}", label={quote(f"… {hidden} more nodes")}'


def freed_note_lines(freed_ops: int) -> list[str]:
    """A title over a drawing whose graph ``backward()`` freed: what happened and what to do.

    Written after every cluster, so that no cluster inherits the title as its own label.
    """
    ops = f"{freed_ops} op{'' if freed_ops == 1 else 's'}"
    text = (
        f"The graph behind {ops} was freed by backward(), which releases it unless told to keep it.\n"
        "To draw the whole graph, with values and gradients, call loss.backward(retain_graph=True), "
        "or draw before backward()."
    )
    return [f'\tgraph [label={quote(text)}, labelloc=t, fontcolor="{FREED_COLOUR}", fontsize=12];\n']


def legend_lines(optional: set[str], flow_across: bool) -> list[str]:
    """The legend cluster: the five kinds always present, plus ``optional`` ones in use."""
    kinds = ["parameter", "input", "intermediate", "output", "op"] + [k for k in ("module", "hidden") if k in optional]
    lines = [
        "\tsubgraph cluster_legend {\n",
        '\t\tgraph [label="legend", style="rounded", color="#969696", fontcolor="#525252", labeljust=l];\n',
    ]
    for kind in kinds:
        text = quote(_LEGEND_TEXT[kind])
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
    # in reverse, see the edges in dot.py), in TB a chain of ranks, kept in order by invisible edges.
    if flow_across:
        chain = " -> ".join(f"legend_{k}" for k in reversed(kinds))
        lines.append(f"\t\t{{rank=same; {chain} [style=invis];}}\n")
    else:
        lines.append("\t\t" + " -> ".join(f"legend_{k}" for k in kinds) + " [style=invis];\n")
    lines.append("\t}\n")
    return lines
