"""The documents' hand-derived backprop, their worked example, and its comparison with autograd.

The hand-written network, in plain numpy (:class:`ManualMLP`):

* ``network``      the weights, the choices (activations, cost, L2, bias layout) and their checks;
* ``activations``  f(z) and f'(z) computed from a = f(z);
* ``costs``        the costs J, the output delta each starts backprop with, the L2 penalty;
* ``forward``      the forward pass, keeping what backward needs;
* ``backward``     the documents' recursion for the whole batch: every delta and gradient;
* ``per_sample``   the slides' loop, one example at a time;
* ``checking``     finite-difference gradients and the documents' relative error.

The worked example and the comparison:

* ``seed_example`` the documents' five cars, weights and cost (bias-row layout);
* ``seed_graph``   the same cost named as in the documents, ready to draw;
* ``autograd_pass`` the same pass by autograd, deltas read from retained gradients;
* ``twins``        one network's weights as the other, layouts converted, a training step each;
* ``comparison``   differences, lockstep training, the whole report;
* ``timing``       time per training step of each, interleaved;
* ``table``        the report as a table;
* ``derived_code`` the code ``at.compile`` generates for a step, the documents' formulas beside it.

Notation. A network with ``L`` weight matrices maps ``a_0 = X`` (shape ``(N, n_0)``) through

    z_l = a_{l-1} @ W_l + b_l,      a_l = f_l(z_l),      yhat = a_L

with row-per-example matrices (the documents' ``X . W`` layout: ``W_l`` has shape
``(n_{l-1}, n_l)``). Our 0-based list index ``l`` maps to the documents' 1-based numbering:
``weights[l]`` is the documents' ``W_{l+1}``, its pre-activation is ``z^{(l+2)}`` and
``deltas[l] = dJ/dz`` of that layer is the documents' ``delta^{(l+2)}``. For the car-price network
(3-3-2-1) ``deltas[2]``, ``deltas[1]``, ``deltas[0]`` are the documents' ``delta^(4)``,
``delta^(3)``, ``delta^(2)``.
"""
from nn.backprop.activations import ACTIVATIONS
from nn.backprop.autograd_pass import AutogradResult, autograd_backward, autograd_loss
from nn.backprop.backward import ManualResult
from nn.backprop.checking import numerical_gradients, relative_error
from nn.backprop.comparison import (
    DEFAULT_STEPS, DEFAULT_TOLERANCE, Difference, Lockstep, Report, compare_gradients, lockstep, run_comparison,
)
from nn.backprop.costs import LOSSES
from nn.backprop.derived_code import derived_code
from nn.backprop.network import BIAS_LAYOUTS, ManualMLP
from nn.backprop.table import format_table
from nn.backprop.timing import DEFAULT_REPEATS, StepTiming, time_steps
from nn.backprop.twins import manual_like, row_to_separate, seed_pair

__all__ = [
    "ACTIVATIONS", "AutogradResult", "BIAS_LAYOUTS", "DEFAULT_REPEATS", "DEFAULT_STEPS", "DEFAULT_TOLERANCE",
    "Difference", "LOSSES", "Lockstep", "ManualMLP", "ManualResult", "Report", "StepTiming", "autograd_backward",
    "autograd_loss", "compare_gradients", "derived_code", "format_table", "lockstep", "manual_like", "numerical_gradients",
    "relative_error", "row_to_separate", "run_comparison", "seed_pair", "time_steps",
]
