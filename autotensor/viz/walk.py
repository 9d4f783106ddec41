"""The walk: every tensor reachable from the roots, each once, with its distance from a root.

Breadth-first with an explicit queue and a visited set keyed by object identity, so shared
sub-graphs are visited once (no exponential blow-up on diamonds) and depth is limited only by
memory (no recursion).  Tensors are numbered in discovery order; an op's inputs are kept as
those numbers, in argument order.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from autotensor.tensor import Tensor


@dataclass
class Graph:
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


def walk(roots: Sequence[Tensor]) -> Graph:
    """Breadth-first from the roots with a visited set: each tensor once, at its smallest depth."""
    graph = Graph()
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
