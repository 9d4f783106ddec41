"""Views share their base's version counter, and nothing a recorded op keeps can change under it.

Every case here returned a wrong gradient without an error before: an in-place edit made
through a view (``.T``, ``reshape``, ``transpose``, ``swapaxes``, ``detach()``) was not seen by
the ops that saved the base, and arrays an op keeps (``where``'s mask, ``getitem``'s index,
``clip``'s bounds) could be edited by their owner after the forward pass.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import autotensor as at

VIEWS: dict[str, Callable[[at.Tensor], at.Tensor]] = {
    ".T": lambda t: t.T,
    "transpose((1, 0))": lambda t: t.transpose((1, 0)),
    "transpose((-1, 0))": lambda t: t.transpose((-1, 0)),
    "swapaxes(0, -1)": lambda t: t.swapaxes(0, -1),
    "reshape(-1)": lambda t: t.reshape(-1),
    "reshape of a view": lambda t: t.T.T.reshape(2, 2),
    "detach()": lambda t: t.detach(),
    "Tensor(t)": lambda t: at.Tensor(t),
}


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_a_view_shares_memory_and_version_with_its_base(view: Callable[[at.Tensor], at.Tensor]) -> None:
    base = at.Tensor(np.arange(4.0).reshape(2, 2))
    seen = view(base)
    assert np.shares_memory(seen.data, base.data)
    before = base.version
    with at.no_grad():
        seen += 1
    assert base.version == seen.version == before + 1
    base[0, 0] = 7.0
    assert seen.version == base.version == before + 2


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_an_edit_through_a_view_after_the_forward_pass_makes_backward_refuse(view: Callable[[at.Tensor], at.Tensor]) -> None:
    x = at.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    loss = (x * x).sum()  # mul saves x
    with at.no_grad():
        edited = view(x)
        edited *= 10
    with pytest.raises(at.GraphError, match="mul needs its input 0"):
        loss.backward()


def test_optimiser_step_on_a_weight_used_through_its_transpose_is_seen() -> None:
    # The example: x @ W.T, then W -= 1 under no_grad; x.grad came out as [[-1, -1]].
    W = at.Tensor(np.eye(2), requires_grad=True)
    x = at.Tensor([[1.0, 2.0]], requires_grad=True)
    loss = (x @ W.T).sum()
    with at.no_grad():
        W -= 1
    with pytest.raises(at.GraphError, match="matmul needs its input 1"):
        loss.backward()


def test_editing_a_detached_copy_after_the_forward_pass_is_seen() -> None:
    x = at.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (x * x).sum()
    x.detach().__iadd__(1.0)  # x.detach() += 1 (allowed: the detached tensor records nothing)
    with pytest.raises(at.GraphError):
        loss.backward()


def test_slice_assignment_into_a_transposed_view_is_seen() -> None:
    x = at.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (x * x).sum()
    with at.no_grad():
        x.T[0, 0] = 100.0
    assert x.data[0, 0] == 100.0
    with pytest.raises(at.GraphError):
        loss.backward()


def test_zeroing_a_saved_output_through_a_reshaped_view_is_seen() -> None:
    x = at.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    e = x.exp()  # exp saves its output
    loss = e.sum()
    with at.no_grad():
        e.reshape(3)[...] = 0.0
    with pytest.raises(at.GraphError, match="exp needs its output"):
        loss.backward()


def test_an_untouched_view_leaves_backward_working_and_exact() -> None:
    x = at.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    loss = (x.T.reshape(4) * np.arange(4.0)).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, np.arange(4.0).reshape(2, 2).T)


def test_a_reshape_that_copies_starts_a_counter_of_its_own() -> None:
    base = at.Tensor(np.arange(6.0).reshape(2, 3))
    flat = base.T.reshape(-1)  # not contiguous: numpy copies
    assert not np.shares_memory(flat.data, base.data)
    flat[0] = 5.0
    assert base.version == 0 and base.data[0, 0] == 0.0


# ------------------------------------------------------------------- arrays an op keeps
def gradient_of(make_loss: Callable[[at.Tensor], at.Tensor], after_forward: Callable[[], None]) -> np.ndarray:
    x = at.Tensor([1.0, -2.0, 3.0, -4.0], requires_grad=True)
    loss = make_loss(x)
    after_forward()
    loss.backward()
    return x.grad.data


def test_editing_where_s_condition_after_the_forward_pass_does_not_move_the_gradient() -> None:
    mask = np.array([True, False, True, False])
    untouched = gradient_of(lambda x: at.where(mask, x * 2.0, x).sum(), lambda: None)
    mask_again = mask.copy()
    edited = gradient_of(lambda x: at.where(mask_again, x * 2.0, x).sum(), lambda: mask_again.fill(False))
    np.testing.assert_array_equal(untouched, [2.0, 1.0, 2.0, 1.0])
    np.testing.assert_array_equal(edited, untouched)


def test_editing_getitem_s_index_array_after_the_forward_pass_does_not_move_the_gradient() -> None:
    index = np.array([0, 0, 3])
    edited = gradient_of(lambda x: x[index].sum(), lambda: index.fill(1))
    np.testing.assert_array_equal(edited, [2.0, 0.0, 0.0, 1.0])


def test_editing_a_boolean_tensor_index_after_the_forward_pass_does_not_move_the_gradient() -> None:
    mask = at.Tensor(np.array([True, True, False, False]))
    edited = gradient_of(lambda x: x[mask].sum(), lambda: mask.__setitem__(..., False))
    np.testing.assert_array_equal(edited, [1.0, 1.0, 0.0, 0.0])


def test_editing_clip_s_array_bounds_after_the_forward_pass_does_not_move_the_gradient() -> None:
    low = np.array([0.0, 0.0, 0.0, 0.0])
    edited = gradient_of(lambda x: x.clip(low, None).sum(), lambda: low.fill(-10.0))
    np.testing.assert_array_equal(edited, [1.0, 0.0, 1.0, 0.0])
