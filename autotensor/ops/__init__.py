"""Every differentiable op of the engine; each is registered (with its rules and samples) in
the module that defines it, so importing this package fills the registry."""
from autotensor.ops.copies import astype, clone
from autotensor.ops.elementwise import (
    abs, add, clip, div, exp, leaky_relu, log, maximum, minimum, mul, neg, pow, relu, sigmoid,
    softplus, sqrt, sub, tanh, where,
)
from autotensor.ops.linalg import linear, matmul
from autotensor.ops.reductions import log_softmax, logsumexp, max, mean, min, softmax, sum
from autotensor.ops.shape import (
    broadcast_to, concatenate, getitem, reshape, scatter_add, stack, swapaxes, transpose,
)
from autotensor.ops.trig import arccos, arccosh, arcsin, arcsinh, arctan, arctanh, cos, cosh, sin, sinh, tan
from autotensor.ops.exponents import exp2, expm1, log1p, log2, log10, logaddexp
from autotensor.ops.statistics import std, var
from autotensor.ops.cumulative import cumprod, cumsum, prod
from autotensor.ops.einsum import einsum, outer, tensordot, trace
from autotensor.ops.rearrange import expand_dims, flatten, flip, ravel, repeat, roll, squeeze, tile
from autotensor.ops.blocks import hstack, pad, split, vstack
from autotensor.ops.windows import fold, unfold
from autotensor.ops.conv import avg_pool2d, conv2d, max_pool2d

__all__ = [
    "abs", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "astype", "avg_pool2d",
    "broadcast_to", "clip", "clone", "concatenate", "conv2d", "cos", "cosh", "cumprod", "cumsum", "div",
    "einsum", "exp", "exp2", "expand_dims", "expm1", "flatten", "flip", "fold", "getitem", "hstack",
    "leaky_relu", "linear", "log", "log10", "log1p", "log2", "log_softmax", "logaddexp", "logsumexp",
    "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mul", "neg", "outer", "pad", "pow", "prod",
    "ravel", "relu", "repeat", "reshape", "roll", "scatter_add", "sigmoid", "sin", "sinh", "softmax",
    "softplus", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum", "swapaxes", "tan", "tanh",
    "tensordot", "tile", "trace", "transpose", "unfold", "var", "vstack", "where",
]
