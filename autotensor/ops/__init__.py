"""Every differentiable op of the engine; each is registered (with its rules and samples) in
the module that defines it, so importing this package fills the registry."""
from autotensor.ops.elementwise import (
    abs, add, clip, div, exp, leaky_relu, log, maximum, minimum, mul, neg, pow, relu, sigmoid,
    softplus, sqrt, sub, tanh, where,
)
from autotensor.ops.linalg import linear, matmul
from autotensor.ops.reductions import log_softmax, logsumexp, max, mean, min, softmax, sum
from autotensor.ops.shape import (
    broadcast_to, concatenate, getitem, reshape, scatter_add, stack, swapaxes, transpose,
)
from autotensor.ops.windows import fold, unfold
from autotensor.ops.conv import avg_pool2d, conv2d, max_pool2d

__all__ = [
    "abs", "add", "broadcast_to", "clip", "concatenate", "div", "exp", "getitem", "leaky_relu",
    "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mul",
    "neg", "pow", "relu", "reshape", "scatter_add", "sigmoid", "softmax", "softplus", "sqrt",
    "stack", "sub", "sum", "swapaxes", "tanh", "transpose", "where",
    # windows over images: convolution and pooling
    "avg_pool2d", "conv2d", "fold", "max_pool2d", "unfold",
]
