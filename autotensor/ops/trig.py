"""Trigonometric and hyperbolic functions and their inverses, with numpy's names.

Each derivative is the textbook one, written in the form PyTorch uses, so that the two agree
to rounding also where the derivative is infinite (at the branch points +-1 of arcsin, arccos
and arctanh, at 1 for arccosh) or undefined (NaN outside the domain):

    sin' = cos          cos' = -sin          tan' = 1 + tan^2
    arcsin' = (1 - x^2)^-1/2     arccos' = -(1 - x^2)^-1/2     arctan' = 1 / (1 + x^2)
    sinh' = cosh        cosh' = sinh
    arcsinh' = (x^2 + 1)^-1/2    arccosh' = (x^2 - 1)^-1/2     arctanh' = 1 / (1 - x^2)

(tanh, the documents' activation, is in ``elementwise``.)
"""
from __future__ import annotations

import numpy as np

from autotensor.ops.unary import unary_op
from autotensor.registry import uniform

# The samples stay inside each domain and away from its branch points (the checker's central
# differences need a neighbourhood where the function is smooth).
_ANY = [("2x3", uniform(2, 3, low=-3.0, high=3.0)), ("5", uniform(5, low=-3.0, high=3.0))]
_OPEN_UNIT = [("2x3 in (-0.9, 0.9)", uniform(2, 3, low=-0.9, high=0.9)),
              ("4 near the edges +-0.85", np.array([-0.85, -0.3, 0.4, 0.85]))]

sin = unary_op("sin", np.sin, lambda g, out, x: g * np.cos(x), "Sine, elementwise (radians).", samples=_ANY)
cos = unary_op("cos", np.cos, lambda g, out, x: -g * np.sin(x), "Cosine, elementwise (radians).", samples=_ANY)
tan = unary_op(
    "tan", np.tan, lambda g, out, x: g * (1 + out * out), "Tangent, elementwise (radians).", saves="output",
    samples=[("2x3 in (-1.2, 1.2)", uniform(2, 3, low=-1.2, high=1.2)), ("3 beyond pi/2", np.array([1.8, 2.5, -2.0]))],
)
arcsin = unary_op("arcsin", np.arcsin, lambda g, out, x: g * (1 - x * x) ** -0.5,
                  "Inverse sine in [-pi/2, pi/2]; NaN outside [-1, 1].", samples=_OPEN_UNIT)
arccos = unary_op("arccos", np.arccos, lambda g, out, x: -g * (1 - x * x) ** -0.5,
                  "Inverse cosine in [0, pi]; NaN outside [-1, 1].", samples=_OPEN_UNIT)
arctan = unary_op("arctan", np.arctan, lambda g, out, x: g / (1 + x * x),
                  "Inverse tangent in (-pi/2, pi/2).",
                  samples=_ANY + [("+-1e3 large", np.array([-1e3, 1e3]))])
sinh = unary_op("sinh", np.sinh, lambda g, out, x: g * np.cosh(x), "Hyperbolic sine.",
                samples=_ANY + [("+-20 large", np.array([-20.0, 20.0]))])
cosh = unary_op("cosh", np.cosh, lambda g, out, x: g * np.sinh(x), "Hyperbolic cosine.",
                samples=_ANY + [("+-20 large", np.array([-20.0, 20.0]))])
arcsinh = unary_op("arcsinh", np.arcsinh, lambda g, out, x: g * (x * x + 1) ** -0.5, "Inverse hyperbolic sine.",
                   samples=_ANY + [("+-1e3 large", np.array([-1e3, 1e3]))])
arccosh = unary_op(
    "arccosh", np.arccosh, lambda g, out, x: g * (x * x - 1) ** -0.5,
    "Inverse hyperbolic cosine (x >= 1); NaN below 1.",
    samples=[("2x3 in (1.1, 4)", uniform(2, 3, low=1.1, high=4.0)), ("3 near 1 and large", np.array([1.15, 30.0, 1e3]))],
)
arctanh = unary_op("arctanh", np.arctanh, lambda g, out, x: g / (1 - x * x),
                   "Inverse hyperbolic tangent; +-inf at +-1, NaN beyond.", samples=_OPEN_UNIT)
