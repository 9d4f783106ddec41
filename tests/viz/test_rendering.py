"""Rendering the drawings with the real Graphviz ``dot`` program (SVG, PNG, PDF, DOT files).

Outside CI a missing ``dot`` skips the tests that need it; with ``CI=true`` it fails them.
"""
from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

import autotensor as at
from autotensor import viz
from autotensor.viz import rendering
from nn.backprop.seed_graph import seed_graph
from tests.viz.dot_text import PNG_SIGNATURE, chain, graphviz_package


# --------------------------------------------------------------------------- rendering
def test_render_svg_parses_as_xml_with_the_labels(tmp_path, dot_program):
    J, names, _ = seed_graph()
    path = viz.render(J, tmp_path / "seed.svg", names=names, values=True, grads=True)
    assert path == tmp_path / "seed.svg"
    root = ElementTree.parse(path).getroot()
    texts = {element.text for element in root.iter() if element.text}
    assert {"W1", "W2", "W3", "yhat", "J", "matmul", "tanh", "layer1", "cost", "legend"} <= texts
    assert "(4, 3) float64" in texts
    assert [p.name for p in tmp_path.iterdir()] == ["seed.svg"]  # no temporary file left behind


def test_render_png_and_pdf(tmp_path, dot_program):
    y = chain(3)
    assert viz.render(y, tmp_path / "g.png").read_bytes().startswith(PNG_SIGNATURE)
    assert viz.render(y, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_escaped_labels_survive_dot(tmp_path, dot_program):
    name = 'a "quoted" <b> | {brace} & back\\slash'
    x = at.Tensor([1.0], requires_grad=True, name=name)
    with at.name_scope("odd <scope>"):
        y = x.exp()
    root = ElementTree.parse(viz.render(y, tmp_path / "odd.svg")).getroot()
    texts = {element.text for element in root.iter() if element.text}
    assert name in texts and "odd <scope>" in texts


def test_render_dot_needs_no_binary(tmp_path, monkeypatch):
    monkeypatch.setattr(rendering.shutil, "which", lambda name: None)
    y = chain(2)
    path = viz.render(y, tmp_path / "g.dot")
    assert path.read_text() == viz.to_dot(y)
    with pytest.raises(ValueError, match="format"):
        viz.render(y, tmp_path / "g.jpeg2000")


def test_draw_returns_a_digraph_with_the_same_source(dot_program):
    graphviz = graphviz_package()
    y = chain(3)
    graph = viz.draw(y, rankdir="TB", format="png")
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source == viz.to_dot(y, rankdir="TB")
    assert graph.format == "png"
    assert graph.pipe().startswith(PNG_SIGNATURE)


def test_missing_dot_names_the_debian_and_homebrew_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(rendering.shutil, "which", lambda name: None)
    y = chain(1)
    with pytest.raises(viz.DotNotFoundError) as raised:
        viz.render(y, tmp_path / "g.svg")
    message = str(raised.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert not list(tmp_path.iterdir())
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return
    with pytest.raises(viz.DotNotFoundError, match="brew install graphviz"):
        viz.draw(y)


def test_missing_graphviz_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    with pytest.raises(ImportError, match=re.escape("pip install autotensor[viz]")):
        viz.draw(chain(1))


def test_viz_imports_without_graphviz():
    code = (
        "import sys; sys.modules['graphviz'] = None\n"
        "import autotensor as at, autotensor.viz as viz\n"
        "print(viz.to_dot(at.Tensor([1.0], requires_grad=True).exp(), legend=False).count(' -> '))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
