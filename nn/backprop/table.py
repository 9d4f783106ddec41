"""The comparison as a table for people: the same numbers as ``Report.to_dict()``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nn.backprop.comparison import Difference, Report


def _fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _diff_lines(title: str, diffs: list[Difference], side: str = "autograd") -> list[str]:
    lines = [f"{title:<22} {'document':<10} {'shape':<12} {f'max |{side} - manual|':>24} {'relative error':>15}"]
    for d in diffs:
        lines.append(f"{d.name:<22} {d.document:<10} {_fmt_shape(d.shape):<12} "
                     f"{d.max_abs_diff:>24.3e} {d.relative_error:>15.3e}")
    return lines


def _matrix_lines(label: str, values: Any) -> list[str]:
    text = np.array2string(np.asarray(values), precision=12, floatmode="fixed", max_line_width=200,
                           suppress_small=False)
    pad = " " * len(label)
    return [(label if i == 0 else pad) + line for i, line in enumerate(text.splitlines())]


def format_table(report: Report) -> str:
    """The human-readable report: the same numbers as ``report.to_dict()``."""
    net = report.network
    data = report.data
    lines = ["autotensor compare: autograd (nn.MLP) vs hand-written backprop (nn.backprop.ManualMLP), float64"]
    lines.append(f"data      {data['description']}" if "description" in data else f"data      {data['rows']} rows")
    lines.append(f"network   {'-'.join(str(s) for s in net['sizes'])}, hidden {net['activation']}, "
                 f"output {net['output_activation']}, loss {net['loss']}, l2 {net['l2']:g}, "
                 f"manual bias layout {net['manual_bias_layout']!r}")
    lines.append(f"cost J    autograd {report.loss['autograd']:.12f}   manual {report.loss['manual']:.12f}")
    if report.seed_numbers:
        lines += ["", "The documents' numbers (seed-examples.md section 1), bias row last:"]
        for name, pair in report.seed_numbers.items():
            label = name
            if name.endswith("'"):
                label = f"{name} = {name[:-1]} - {report.lr:g} * dJ/d{name[:-1]}   (one gradient-descent step)"
            lines.append(label)
            lines += _matrix_lines("  autograd ", pair["autograd"])
            lines += _matrix_lines("  manual   ", pair["manual"])
    lines.append("")
    lines += _diff_lines("gradient dJ/dparam", report.parameters)
    lines.append("")
    lines += _diff_lines("delta dJ/dz", report.deltas)
    if report.compiled:
        lines.append("")
        lines += _diff_lines("compiled dJ/dparam", report.compiled, side="compiled")
    if report.timing:
        t = report.timing
        lines += ["", f"time per training step (forward + backward + SGD update), median of {t.repeats} "
                      f"interleaved samples of {t.steps_per_sample} step(s)",
                  f"autograd  {t.autograd_us:12.1f} us",
                  f"manual    {t.manual_us:12.1f} us",
                  f"ratio     {t.ratio:12.2f} (autograd / manual)"]
        if t.compiled_us is not None:
            lines += [f"compiled  {t.compiled_us:12.1f} us   (at.compile: the autograd step traced once, replayed)",
                      f"compiled / manual {t.compiled_ratio:7.2f}"]
    if report.lockstep:
        s = report.lockstep
        lines += ["", f"lockstep training: {s.steps} identical SGD steps, lr {s.lr:.6g}",
                  f"largest weight difference at the end  {s.max_weight_diff:.3e}",
                  f"final cost  autograd {s.loss_autograd:.12f}   manual {s.loss_manual:.12f}"]
    if report.compiled_lockstep:
        s = report.compiled_lockstep
        lines += [f"compiled: largest weight difference {s.max_weight_diff:.3e}, final cost {s.loss_autograd:.12f}"]
    lines.append("")
    if report.ok:
        lines.append(f"OK: autograd and the hand-written backprop agree (tolerance {report.tolerance:g})")
    else:
        lines.append(f"MISMATCH (tolerance {report.tolerance:g}):")
        lines += [f"  {failure}" for failure in report.failures]
    return "\n".join(lines)
