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
from autotensor.ops import (
    abs, add, broadcast_to, clip, concatenate, div, exp, getitem, leaky_relu, linear, log, log_softmax,
    logsumexp, matmul, max, maximum, mean, min, minimum, mul, neg, pow, relu, reshape, sigmoid,
    softmax, softplus, sqrt, stack, sub, sum, swapaxes, tanh, transpose, where,
)
from autotensor.ops import avg_pool2d, conv2d, fold, max_pool2d, unfold  # windows over images
from autotensor.state import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from autotensor.conversion import as_tensor
from autotensor.compile import CompiledFunction, compile, guard_attribute, replayed  # noqa: A004 - at.compile
from autotensor.tensor import arrays, grads
from autotensor import viz  # graph drawing; imports the graphviz package only when drawing

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "ArgumentError", "AutotensorError", "DTypeError", "GradcheckResult", "GraphError",
    "IndexingError", "ShapeError", "CompiledFunction", "TraceError", "arrays", "compile", "grads", "guard_attribute", "replayed",
    "Tensor", "abs", "add", "as_tensor", "broadcast_to", "clip", "concatenate", "detect_anomaly",
    "div", "enable_grad", "exp", "getitem", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled",
    "leaky_relu", "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "name_scope", "neg", "no_grad", "pow", "relu", "reshape", "set_grad_enabled", "sigmoid", "softmax",
    "softplus", "sqrt", "stack", "sub", "sum", "swapaxes", "tanh", "topological_order", "transpose",
    "viz", "where",
    "avg_pool2d", "conv2d", "fold", "max_pool2d", "unfold",
]
