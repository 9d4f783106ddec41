"""The documents' worked example as a graph to draw: every tensor named as in the documents.

The five cars go through the 3-3-2-1 tanh network in its bias-row layout
(:mod:`nn.backprop.seed_example`) to the cost ``J = sum(0.5 (y - yhat)^2)``.  Each layer and
the cost are a name scope, so a drawing clusters them; ``backward(retain_graph=True)`` has run
and every intermediate kept its gradient, so the drawing shows the worked values and the
gradients.  The names follow the documents (``a1 = X``, ``z2 = [X, 1] W1``, ``a2 = tanh(z2)``,
... ``yhat = a4``), so the gradients on ``z2``, ``z3``, ``z4`` are its deltas delta^(2),
delta^(3), delta^(4) = dJ/dz.
"""
from __future__ import annotations

import autotensor as at
from nn.backprop import seed_example


def seed_graph() -> tuple[at.Tensor, dict[at.Tensor, str], str]:
    """The documents' cost J of the five cars, after ``backward(retain_graph=True)``.

    Same computation as ``seed_example.forward`` and ``seed_example.cost`` (bias-row layout:
    ``z = [a, 1] @ W``, ``a = tanh(z)``), with each layer and the cost in a name scope for the
    drawing and ``retain_grad()`` on every intermediate so its gradient can be shown.
    Returns the cost, names for the tensors, and a one-line description.
    """
    weights = [at.Tensor(w.copy(), requires_grad=True, name=f"W{n}") for n, w in enumerate(seed_example.WEIGHTS, 1)]
    names: dict[at.Tensor, str] = {}
    a = at.Tensor(seed_example.X, name="X")
    for number, W in enumerate(weights, 1):
        with at.name_scope(f"layer{number}"):
            a_with_ones = seed_example.with_ones_column(a)
            z = a_with_ones @ W
            a = z.tanh()
        # The document's numbering: a1 = X, z(l+1) = [a(l), 1] W(l), a(l+1) = tanh(z(l+1)).
        names[a_with_ones] = "[X, 1]" if number == 1 else f"[a{number}, 1]"
        names[z] = f"z{number + 1}"
        names[a] = f"a{number + 1}" if number < len(weights) else "yhat"
    y = at.Tensor(seed_example.Y, name="y")
    with at.name_scope("cost"):
        J = seed_example.cost(a, y)
    names[J] = "J"
    for tensor in _computed_tensors(J):
        if tensor is not J and tensor.requires_grad:
            tensor.retain_grad()
    J.backward(retain_graph=True)
    return J, names, f"seed example: J = {J.item():.6g}"


def _computed_tensors(root: at.Tensor) -> list[at.Tensor]:
    """Every non-leaf tensor of the graph of ``root`` (iterative, each once)."""
    found: list[at.Tensor] = []
    seen = {id(root)}
    stack = [root]
    while stack:
        tensor = stack.pop()
        if not tensor.is_leaf:
            found.append(tensor)
        for parent in tensor.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return found
