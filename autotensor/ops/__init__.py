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
# The op families of issue 14, one module each.
from autotensor.ops.trig import arccos, arccosh, arcsin, arcsinh, arctan, arctanh, cos, cosh, sin, sinh, tan
from autotensor.ops.exponents import exp2, expm1, log1p, log2, log10, logaddexp
from autotensor.ops.statistics import std, var
from autotensor.ops.cumulative import cumprod, cumsum, prod
from autotensor.ops.einsum import einsum, outer, tensordot, trace
from autotensor.ops.rearrange import expand_dims, flatten, flip, ravel, repeat, roll, squeeze, tile
from autotensor.ops.blocks import hstack, pad, split, vstack

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clip", "clone", "concatenate", "div", "exp", "getitem", "leaky_relu",
    "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "mul",
    "neg", "pow", "relu", "reshape", "scatter_add", "sigmoid", "softmax", "softplus", "sqrt",
    "stack", "sub", "sum", "swapaxes", "tanh", "transpose", "where",
]
FAMILIES = [  # the op families of issue 14, exported by autotensor too
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "cos", "cosh", "sin", "sinh", "tan",
    "exp2", "expm1", "log1p", "log2", "log10", "logaddexp",
    "std", "var",
    "cumprod", "cumsum", "prod",
    "einsum", "outer", "tensordot", "trace",
    "expand_dims", "flatten", "flip", "ravel", "repeat", "roll", "squeeze", "tile",
    "hstack", "pad", "split", "vstack",
]
__all__ += FAMILIES
