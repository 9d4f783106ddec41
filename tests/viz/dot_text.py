"""Reading DOT text back in tests: nodes, edges and clusters, and graphs of known size."""
from __future__ import annotations

import os
import re

import pytest

import autotensor as at
from autotensor import viz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[.*\])?;$")
CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")


# --------------------------------------------------------------------------- helpers
class Parsed:
    """Nodes (id -> attribute text), edges, and for each node the clusters it sits in."""

    def __init__(self, dot: str) -> None:
        self.node_ids: list[str] = []
        self.nodes: dict[str, str] = {}
        self.edges: list[tuple[str, str]] = []
        self.clusters: dict[str, str] = {}  # cluster id -> label
        self.cluster_of: dict[str, list[str]] = {}  # node id -> enclosing cluster labels, outermost first
        open_clusters: list[str] = []
        for line in dot.splitlines():
            if match := CLUSTER.match(line):
                open_clusters.append(match.group(1))
            elif line.strip() == "}" and open_clusters:
                open_clusters.pop()
            elif open_clusters and line.strip().startswith("graph [label="):
                self.clusters[open_clusters[-1]] = re.search(r'label="((?:[^"\\]|\\.)*)"', line).group(1)
            elif match := NODE.match(line):
                if match.group(1) in ("graph", "node", "edge"):
                    continue
                self.node_ids.append(match.group(1))
                self.nodes[match.group(1)] = match.group(2)
                self.cluster_of[match.group(1)] = [self.clusters[c] for c in open_clusters]
            elif match := EDGE.match(line):
                self.edges.append((match.group(1), match.group(2)))

    def ids(self, prefix: str) -> list[str]:
        """Node ids ``<prefix><number>`` in number order (t0 is the first root, the walk goes backwards)."""
        found = [n for n in self.node_ids if re.fullmatch(prefix + r"\d+", n)]
        return sorted(found, key=lambda n: int(n[len(prefix):]))

    @property
    def tensors(self) -> list[str]:
        return self.ids("t")

    @property
    def ops(self) -> list[str]:
        return self.ids("op")

    def label_of(self, node: str) -> str:
        return self.nodes[node]

    def find(self, text: str) -> list[str]:
        """Nodes whose label contains ``text`` (as it appears in the DOT text)."""
        return [n for n, attrs in self.nodes.items() if text in attrs]


def parse(root, **options) -> Parsed:
    options.setdefault("legend", False)
    return Parsed(viz.to_dot(root, **options))


def engine_counts(root: at.Tensor) -> tuple[int, int, int]:
    """(tensors, ops, edges) of the graph of ``root``, counted from ``.parents`` directly."""
    seen = {id(root): root}
    stack = [root]
    ops = edges = 0
    while stack:
        tensor = stack.pop()
        if not tensor.is_leaf:
            ops += 1
            edges += len(tensor.parents) + 1
        for parent in tensor.parents:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return len(seen), ops, edges


def chain(n: int) -> at.Tensor:
    y = at.Tensor(0.5, requires_grad=True)
    for _ in range(n):
        y = y.tanh()
    return y



def graphviz_package():
    try:
        import graphviz
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the graphviz Python package is missing in CI (pip install -e .[viz])")
        pytest.skip("the graphviz Python package is not installed")
    return graphviz
