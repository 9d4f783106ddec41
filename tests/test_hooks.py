"""Gradient hooks (``Tensor.register_hook``), PyTorch's semantics: a hook sees a tensor's whole
gradient once backward has it, may replace it, and runs before the gradient is accumulated into
``.grad`` (leaves) or passed on to the op's inputs (computed tensors)."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import autotensor as at

RNG = np.random.default_rng(3)
X = RNG.uniform(-1.0, 1.0, size=(4, 3))
W0 = RNG.uniform(-1.0, 1.0, size=(3, 2))


def _tanh_layer_gradients(scale_z: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """dJ/dW and dJ/dx of J = sum(tanh(x @ W)) by hand, with dJ/dz multiplied by ``scale_z``."""
    z = X @ W0
    delta = scale_z * (1.0 - np.tanh(z) ** 2)
    return X.T @ delta, delta @ W0.T


def test_a_leaf_hook_replaces_the_gradient_before_it_is_accumulated() -> None:
    W = at.Tensor(W0.copy(), requires_grad=True)
    W.grad = at.Tensor(np.ones_like(W0))  # an earlier gradient: the hook must not see it
    seen = []
    W.register_hook(lambda g: seen.append(g.data.copy()) or g * 3.0)
    (at.Tensor(X) @ W).tanh().sum().backward()
    dW, _ = _tanh_layer_gradients()
    np.testing.assert_allclose(seen[0], dW, rtol=1e-12)          # this pass's gradient only
    np.testing.assert_allclose(W.grad.data, 1.0 + 3.0 * dW, rtol=1e-12)


def test_a_hook_on_a_computed_tensor_changes_what_its_inputs_receive() -> None:
    x = at.Tensor(X.copy(), requires_grad=True)
    W = at.Tensor(W0.copy(), requires_grad=True)
    z = x @ W
    z.register_hook(lambda g: g * 0.25)
    z.tanh().sum().backward()
    dW, dx = _tanh_layer_gradients(scale_z=0.25)
    np.testing.assert_allclose(W.grad.data, dW, rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, dx, rtol=1e-12)


def test_the_hook_sees_the_whole_gradient_of_a_tensor_used_twice_once() -> None:
    x = at.Tensor([0.3, -0.7], requires_grad=True)
    y = x.tanh()
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()))
    ((y * 2.0).sum() + (y * 3.0).sum()).backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_allclose(x.grad.data, 5.0 * (1 - np.tanh([0.3, -0.7]) ** 2), rtol=1e-12)


def test_several_hooks_run_in_registration_order_each_seeing_the_previous_result() -> None:
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append(("first", g.tolist())) or g + 1.0)
    x.register_hook(lambda g: order.append(("second", g.tolist())))  # None: unchanged
    x.register_hook(lambda g: order.append(("third", g.tolist())) or g * 10.0)
    (x * at.Tensor([3.0, 4.0])).sum().backward()
    assert order == [("first", [3.0, 4.0]), ("second", [4.0, 5.0]), ("third", [4.0, 5.0])]
    assert x.grad.tolist() == [40.0, 50.0]


def test_retain_grad_keeps_the_gradient_after_the_hooks() -> None:
    x = at.Tensor([0.5, 1.5], requires_grad=True)
    z = (x * 2.0).retain_grad()
    z.register_hook(lambda g: -g)
    (z ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.data, -2 * np.array([1.0, 3.0]))
    np.testing.assert_allclose(x.grad.data, -2 * 2 * np.array([1.0, 3.0]))


def test_a_hook_on_the_output_scales_the_whole_backward_pass() -> None:
    x = at.Tensor([0.5, -1.0], requires_grad=True)
    loss = (x ** 2).sum()
    loss.register_hook(lambda g: g * 0.5)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, x.data)


def test_removed_hooks_no_longer_run_and_removing_twice_is_harmless() -> None:
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    calls = []
    first = x.register_hook(lambda g: calls.append("first"))
    second = x.register_hook(lambda g: calls.append("second") or g * 2.0)
    first.remove()
    first.remove()
    x.sum().backward()
    assert calls == ["second"] and x.grad.tolist() == [2.0, 2.0]
    second.remove()
    x.grad = None
    x.sum().backward()
    assert calls == ["second"] and x.grad.tolist() == [1.0, 1.0]


def test_a_handle_used_as_a_context_manager_removes_its_hook_on_exit() -> None:
    x = at.Tensor([1.0], requires_grad=True)
    with x.register_hook(lambda g: g * 7.0):
        (x * 1.0).sum().backward()
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [8.0]


def test_a_hook_may_remove_itself_while_it_runs() -> None:
    x = at.Tensor([1.0], requires_grad=True)
    handles = []
    handles.append(x.register_hook(lambda g: handles[0].remove() or g * 5.0))
    x.sum().backward()
    x.sum().backward()
    assert x.grad.tolist() == [6.0]  # 5 from the first pass, 1 from the second


def test_a_handle_does_not_keep_its_tensor_alive() -> None:
    x = at.Tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g)
    del x
    gc.collect()
    assert handle._tensor() is None
    handle.remove()


def test_hooks_run_in_at_grad_for_inputs_and_intermediates() -> None:
    x = at.Tensor([0.2, 0.4], requires_grad=True)
    y = x * 3.0
    y.register_hook(lambda g: g * 2.0)
    x.register_hook(lambda g: g + 1.0)
    (gx,) = at.grad(y.sum(), x)
    assert gx.tolist() == [7.0, 7.0]
    assert x.grad is None  # at.grad leaves .grad alone, hooks or not


def test_an_ordinary_backward_hands_hooks_a_read_only_gradient() -> None:
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0  # y's gradient array is passed on to x as it is
    y.register_hook(lambda g: g.__iadd__(100.0))
    with pytest.raises(at.GraphError, match="read-only"):
        y.sum().backward()


def test_under_create_graph_a_hook_sees_a_recorded_gradient_and_is_differentiated() -> None:
    """y = x^2 with a hook g -> g * y: dJ/dx = 2 x * y = 2 x^3, whose derivative is 6 x^2."""
    seen = []

    @at.enable_grad()  # (gradcheck evaluates its finite differences under no_grad)
    def first_derivative(x: at.Tensor) -> at.Tensor:
        y = x ** 2
        with y.register_hook(lambda g: seen.append(g) or g * y):  # (else it runs again in the next pass)
            (gx,) = at.grad(y.sum(), x, create_graph=True)
        return gx

    x = at.Tensor([0.5, -1.25, 2.0], requires_grad=True)
    gx = first_derivative(x)
    np.testing.assert_allclose(gx.data, 2 * x.data ** 3, rtol=1e-12)
    assert gx.requires_grad and gx.op_name is not None
    (second,) = at.grad(gx.sum(), x)
    np.testing.assert_allclose(second.data, 6 * x.data ** 2, rtol=1e-12)
    assert isinstance(seen[0], at.Tensor)
    assert at.gradcheck(first_derivative, [x.data.copy()])


def test_a_hook_returning_the_wrong_shape_or_a_non_callable_or_no_grad_tensor_is_refused() -> None:
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: np.ones(3))
    with pytest.raises(at.ShapeError, match=r"shape \(3,\) for a tensor of shape \(2,\)"):
        x.sum().backward()
    with pytest.raises(at.DTypeError, match="callable"):
        x.register_hook("not a function")
    with pytest.raises(at.GraphError, match="does not require grad"):
        at.Tensor([1.0]).register_hook(lambda g: g)


def test_hooks_give_pytorchs_gradients() -> None:
    torch = pytest.importorskip("torch")
    x, w = X.copy(), W0.copy()
    mine_x, mine_w = at.Tensor(x, requires_grad=True), at.Tensor(w, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs_w = torch.tensor(w, requires_grad=True)
    results = []
    for tx, tw, clip in ((mine_x, mine_w, lambda g: g.clip(-0.1, 0.1)),
                         (theirs_x, theirs_w, lambda g: g.clamp(-0.1, 0.1))):
        z = tx @ tw
        z.register_hook(lambda g: g * 3.0)
        tw.register_hook(clip)
        a = z.tanh()
        a.register_hook(lambda g: g - 0.5)
        (a ** 2).sum().backward()
        results.append((np.asarray(tx.grad.data if isinstance(tx, at.Tensor) else tx.grad.numpy()),
                        np.asarray(tw.grad.data if isinstance(tw, at.Tensor) else tw.grad.numpy())))
    (ours_x, ours_w), (torch_x, torch_w) = results
    np.testing.assert_allclose(ours_x, torch_x, rtol=1e-12)
    np.testing.assert_allclose(ours_w, torch_w, rtol=1e-12)
    assert np.abs(ours_w).max() == pytest.approx(0.1)  # the clip did something
