"""autotensor: reverse-mode automatic differentiation on numpy.

    import autotensor as at
    W = at.Tensor([[0.5], [-0.3]], requires_grad=True)
    loss = (at.Tensor([[1.0, 2.0]]) @ W).tanh().sum()
    loss.backward()          # W.grad now holds d loss / d W

See README.md for a tour; ``autotensor.registry.REGISTRY`` lists every op with its rules.
"""
# tensor first: it binds the modules that need the Tensor class (conversion, interop, ops,
# backward) at its end, once the class exists.
from autotensor.tensor import Tensor  # noqa: I001
from autotensor.backward import grad, topological_order
from autotensor.errors import (
    AnomalyError, ArgumentError, AutotensorError, DTypeError, GraphError, IndexingError, ShapeError, TraceError,
)
from autotensor.gradcheck import GradcheckResult, gradcheck, gradgradcheck
from autotensor import ops as _ops
from autotensor.ops import *  # noqa: F403 - every op by its name: at.tanh, at.einsum ... (ops.__all__)
from autotensor.state import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from autotensor.conversion import as_tensor
from autotensor.broadcasting import unbroadcast
from autotensor.custom_ops import custom_op
from autotensor.functional import hessian, hvp, jacobian, jvp, vjp
from autotensor.compile import CompiledFunction, compile, guard_attribute, replayed  # noqa: A004 - at.compile
from autotensor.tensor import arrays, grads
from autotensor import viz  # graph drawing; imports the graphviz package only when drawing

__version__ = "0.1.0"

__all__ = [
    # the Tensor, and the errors every refusal raises
    "Tensor", "as_tensor", "AutotensorError", "AnomalyError", "ArgumentError", "DTypeError", "GraphError",
    "IndexingError", "ShapeError", "TraceError",
    # differentiating, checking, switches
    "grad", "topological_order", "gradcheck", "gradgradcheck", "GradcheckResult", "vjp", "jvp", "jacobian",
    "hessian", "hvp", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
    "name_scope",
    # extending and compiling
    "custom_op", "unbroadcast", "compile", "CompiledFunction", "replayed", "guard_attribute", "arrays", "grads",
    "viz",
    *_ops.__all__,
]
