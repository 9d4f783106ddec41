"""Convolution and pooling: PyTorch's arithmetic, vectorised, refusals by name, and gradients of
gradients through a whole small network (the op-by-op comparison with torch is in
tests/test_differential.py)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at
from autotensor.registry import REGISTRY
from tests.work import lines_run

RNG = np.random.default_rng(7)


def test_unfold_and_fold_are_adjoint() -> None:
    """<fold(c), x> = <c, unfold(x)>: each is the other's derivative rule."""
    x = RNG.normal(size=(2, 3, 7, 6))
    cols = RNG.normal(size=at.unfold(x, (3, 2), stride=2, padding=1).shape)
    left = np.vdot(at.fold(cols, (7, 6), (3, 2), stride=2, padding=1).data, x)
    right = np.vdot(cols, at.unfold(x, (3, 2), stride=2, padding=1).data)
    assert left == pytest.approx(right, rel=1e-12)


def test_a_small_network_agrees_with_torch_to_second_order() -> None:
    """conv -> tanh -> max pool -> conv -> avg pool: the value, the gradients and a
    Hessian-vector product (gradients of gradients through every op) equal PyTorch's."""
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 2, 9, 9))
    w1, b1, w2 = RNG.normal(size=(3, 2, 3, 3)), RNG.normal(size=3), RNG.normal(size=(2, 3, 2, 2))
    v = [RNG.normal(size=a.shape) for a in (x, w1, b1, w2)]

    def network(lib: Any, x: Any, w1: Any, b1: Any, w2: Any) -> Any:
        h = lib.max_pool2d(lib.conv2d(x, w1, b1, stride=1, padding=1).tanh(), 3, 2)
        return (lib.avg_pool2d(lib.conv2d(h, w2, stride=1, padding=1), 2) ** 2).sum()

    F = torch.nn.functional
    ours = [at.Tensor(a, requires_grad=True) for a in (x, w1, b1, w2)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w1, b1, w2)]
    loss, loss_t = network(at, *ours), network(F, *theirs)
    grads = at.grad(loss, ours, create_graph=True)
    grads_t = torch.autograd.grad(loss_t, theirs, create_graph=True)
    hvp = at.grad(grads, ours, grad_outputs=v)
    hvp_t = torch.autograd.grad(grads_t, theirs, grad_outputs=[torch.tensor(a) for a in v])
    assert loss.item() == pytest.approx(loss_t.item(), rel=1e-12)
    for mine, reference in [*zip(grads, grads_t), *zip(hvp, hvp_t)]:
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name, call", [
    ("conv2d", lambda x: at.conv2d(x, np.ones((4, 3, 3, 3)), np.ones(4), padding=1)),
    ("max_pool2d", lambda x: at.max_pool2d(x, 2)),
    ("avg_pool2d", lambda x: at.avg_pool2d(x, 2)),
])
def test_no_python_loop_runs_over_the_pixels(name: str, call: Callable[[Any], at.Tensor]) -> None:
    """Forward and backward run the same Python whatever the image size: every pixel is
    handled inside numpy (the loops are over the kernel's offsets, not over the image)."""
    def work(side: int) -> int:
        x = at.Tensor(np.ones((2, 3, side, side)), requires_grad=True)
        return lines_run(lambda: call(x).sum().backward())

    work(8)
    assert work(8) == work(32) == work(64)


def test_max_pool_gives_a_window_s_gradient_to_its_first_largest_element() -> None:
    """Ties are not split (PyTorch's rule, unlike at.max): the first of two equal maxima in a
    window takes it all; overlapping windows add up."""
    x = at.Tensor(np.array([[[[1.0, 3.0, 3.0], [0.0, 2.0, 1.0]]]]), requires_grad=True)
    at.max_pool2d(x, (2, 2), stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_the_comparison_with_torch_catches_tie_splitting_in_max_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Splitting a tie evenly, the other valid convention, is not PyTorch's: the differential
    check fails it, so the table's max_pool2d entry tests the rule."""
    pytest.importorskip("torch")
    from tests import differential_strategies as ds
    from tests.differential_harness import check_call
    from tests.test_differential import TABLE

    def split_ties(g: Any, out: Any, x: Any, kernel: Any, stride: Any, winner: Any) -> Any:
        windows = at.unfold(x, kernel, stride).data.reshape(x.shape[0], x.shape[1], -1, g.shape[2] * g.shape[3])
        hit = windows == windows.max(axis=2, keepdims=True)
        share = g.reshape(x.shape[0], x.shape[1], 1, -1) * hit / hit.sum(axis=2, keepdims=True)
        return at.fold(share.reshape(x.shape[0], -1, share.shape[3]), x.shape[2:], kernel, stride).data

    monkeypatch.setattr(REGISTRY["max_pool2d"], "vjps", (split_ties,))
    tied = ds.Call((np.array([[[[1.0, 1.0], [0.0, -1.0]]]]),), {"kernel_size": 2})
    with pytest.raises(AssertionError, match="max_pool2d gradient of input 0"):
        check_call("max_pool2d", TABLE["max_pool2d"], tied, np.float64, seed=0)


X = at.Tensor(np.ones((2, 3, 5, 5)), requires_grad=True)
W = np.ones((4, 3, 3, 3))
REFUSALS: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "kernel larger than the image": (lambda: at.conv2d(X, np.ones((4, 3, 6, 6))), ValueError,
                                     r"conv2d: a kernel of \(6, 6\) does not fit an image of \(5, 5\)"),
    "pool larger than the image": (lambda: at.max_pool2d(X, 6), ValueError, "max_pool2d: a kernel of"),
    "negative padding": (lambda: at.conv2d(X, W, padding=-1), ValueError, "conv2d: padding must be at least 0, got -1"),
    "padding as large as the kernel": (lambda: at.conv2d(X, W, padding=3), ValueError,
                                       r"conv2d: padding \(3, 3\) must be smaller than the kernel \(3, 3\)"),
    "stride 0": (lambda: at.avg_pool2d(X, 2, stride=0), ValueError, "avg_pool2d: stride must be at least 1, got 0"),
    "a 3-D input": (lambda: at.conv2d(np.ones((3, 5, 5)), W), ValueError,
                    r"conv2d: the input must be a 4-D batch \(N, C, H, W\), got shape \(3, 5, 5\)"),
    "2-D filters": (lambda: at.conv2d(X, np.ones((3, 3))), ValueError, "conv2d: the weight must be a 4-D batch"),
    "a 5-D pool input": (lambda: at.max_pool2d(np.ones((1, 1, 1, 4, 4)), 2), ValueError, "max_pool2d: the input must be"),
    "channels that differ": (lambda: at.conv2d(X, np.ones((4, 2, 3, 3))), ValueError,
                             r"conv2d: filters of shape \(4, 2, 3, 3\) take 2 channels, the input of shape \(2, 3, 5, 5\) has 3"),
    "a bias per channel": (lambda: at.conv2d(X, W, np.ones(3)), ValueError, r"conv2d: the bias must have shape \(4,\)"),
    "no filters": (lambda: at.conv2d(X, np.ones((0, 3, 3, 3))), ValueError, "conv2d: filters of shape"),
    "a float kernel": (lambda: at.max_pool2d(X, 2.0), TypeError, "max_pool2d: kernel_size must be an int or a pair"),
    "a bool stride": (lambda: at.conv2d(X, W, stride=True), TypeError, "conv2d: stride must be an int or a pair"),
    "three sides": (lambda: at.unfold(X, (2, 2, 2)), TypeError, "unfold: kernel_size must be an int or a pair"),
    "columns that do not fit": (lambda: at.fold(np.ones((1, 9, 5)), 4, 3), ValueError,
                                r"fold: columns of shape \(1, 9, 5\) do not fit a kernel of \(3, 3\) over \(4, 4\)"),
}


@pytest.mark.parametrize("call, builtin, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_bad_window_arguments_are_refused_by_name(call: Callable[[], Any], builtin: type[Exception], message: str) -> None:
    with pytest.raises(builtin, match=message) as caught:
        call()
    assert isinstance(caught.value, at.AutotensorError)


def test_a_stride_past_the_image_takes_one_window_as_torch_does() -> None:
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(1, 2, 5, 6))
    w = RNG.normal(size=(3, 2, 2, 2))
    np.testing.assert_allclose(at.conv2d(x, w, stride=10**30).data,
                               torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=10**6).numpy(),
                               rtol=1e-12)
