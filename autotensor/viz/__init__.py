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

Drawing after backward
----------------------
``backward()`` frees the graph as it goes, unless ``retain_graph=True``: computed tensors keep
their op name but lose their inputs, so that the intermediate arrays are released at once.
To draw the graph with its values *and* gradients, as micrograd and torchviz users do after a
backward pass, keep it::

    loss.backward(retain_graph=True)    # (and retain_grad() on intermediates to see their grads)
    at.viz.render(loss, "graph.svg", values=True, grads=True)

``to_dot`` on a freed graph still draws what is left - the root, its op as a dashed ellipse
"inputs freed by backward" - under a title saying that the graph was freed and how to keep it.

Where each part lives
---------------------
``walk.py`` (the graph reachable from the roots, iteratively), ``labels.py`` (what each node
says), ``style.py`` (colours, shapes, the legend), ``dot.py`` (nodes, edges and clusters as DOT
text: ``to_dot``), ``rendering.py`` (``draw`` and ``render``).
"""
from autotensor.viz.dot import to_dot
from autotensor.viz.rendering import RENDER_FORMATS, DotNotFoundError, draw, render
from autotensor.viz.style import COLOURS

__all__ = ["COLOURS", "DotNotFoundError", "RENDER_FORMATS", "draw", "render", "to_dot"]
