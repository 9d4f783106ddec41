"""The engine's contract: dtypes, numpy interop, accumulation, graph lifetime, grad mode, errors."""
import warnings

import numpy as np
import pytest

import autotensor as at
from autotensor.errors import AutotensorError, DTypeError, GraphError, ShapeError
from tests.work import assert_linear, lines_run


# ---------------------------------------------------------------- construction and dtypes
def test_python_data_becomes_float64_and_arrays_keep_their_float_dtype():
    assert at.Tensor([1, 2, 3]).dtype == np.float64
    assert at.Tensor(2).dtype == np.float64
    assert at.Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert at.Tensor(np.arange(3)).dtype.kind == "i"


def test_float32_stays_float32_through_ops_and_gradients():
    x = at.Tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    W = at.Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    y = ((x * 2.0 + 1) @ W).tanh().sigmoid().softplus().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32


def test_integer_tensors_cannot_require_gradients():
    with pytest.raises(DTypeError, match="only floating tensors"):
        at.Tensor(np.arange(3), requires_grad=True)
    t = at.Tensor(np.arange(3))
    with pytest.raises(DTypeError, match="int"):
        t.requires_grad = True


def test_non_numeric_data_is_refused_with_the_value():
    with pytest.raises(DTypeError, match="numeric"):
        at.Tensor(["a", "b"])
    with pytest.raises(DTypeError, match="numeric"):
        at.Tensor(np.array(["x"]))


def test_numpy_interop_both_ways():
    t = at.Tensor([[1.0, 2.0]], requires_grad=True)
    assert isinstance(np.asarray(t), np.ndarray)
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0]])
    left = np.array([[3.0, 4.0]]) + t
    product = np.array([[1.0], [1.0]]).T @ at.Tensor([[2.0], [5.0]], requires_grad=True)
    assert isinstance(left, at.Tensor) and left.requires_grad
    assert isinstance(product, at.Tensor) and product.item() == 7.0
    assert isinstance(np.exp(t), at.Tensor) and np.exp(t).requires_grad
    mask = t > 1.5
    assert isinstance(mask, np.ndarray) and mask.tolist() == [[False, True]]


def test_item_numpy_detach_and_T():
    t = at.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert t.T.shape == (3, 1)
    assert at.Tensor([[4.5]]).item() == 4.5
    with pytest.raises(ShapeError, match="one-element"):
        t.item()
    d = (t * 2).detach()
    assert d.is_leaf and not d.requires_grad
    assert t.numpy() is t.data


# ---------------------------------------------------------------- accumulation and sharing
def test_shared_node_gradients_are_summed():
    x = at.Tensor([3.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, -4.0])


def test_ten_thousand_repeated_diamonds_stay_exact_and_each_node_is_visited_once():
    def diamonds(n):
        x = at.Tensor([1.5], requires_grad=True)
        y = x
        for _ in range(n):
            y = (y + y) / 2  # each step uses y twice: a diamond; the value and gradient stay 1.5 and 1
        return x, y

    x, y = diamonds(10_000)
    y.backward()
    assert y.item() == 1.5
    assert x.grad.item() == 1.0
    assert_linear(lambda n: lines_run(diamonds(n)[1].backward), 1_000)  # re-visiting would double per diamond


def test_leaf_gradients_accumulate_across_backward_calls_until_reset():
    w = at.Tensor([2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert w.grad.item() == 6.0
    w.grad = None
    (w * 5).sum().backward()
    assert w.grad.item() == 5.0


def test_gradients_never_alias_each_other_the_data_or_the_upstream_gradient():
    a = at.Tensor(np.zeros(3), requires_grad=True)
    b = at.Tensor(np.zeros(3), requires_grad=True)
    upstream = np.array([1.0, 2.0, 3.0])
    (a + b).backward(upstream)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, upstream)
    a.grad.data[0] = 99.0
    assert b.grad.data[0] == 1.0 and upstream[0] == 1.0
    r = at.Tensor(np.ones((2, 3)), requires_grad=True)
    r.reshape(6).backward(np.arange(6.0))
    assert not np.shares_memory(r.grad.data, r.data)


def test_upstream_gradient_of_a_non_scalar_output_is_applied():
    x = at.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, -6.0])


def test_backward_of_a_non_scalar_without_grad_is_a_clear_error():
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"shape \(2,\).*grad="):
        (x * 2).backward()


def test_backward_with_a_gradient_of_the_wrong_shape_names_both_shapes():
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_of_a_tensor_outside_any_graph_is_a_clear_error():
    with pytest.raises(GraphError, match="does not require grad"):
        at.Tensor([1.0]).backward()


def test_retain_grad_keeps_a_non_leaf_gradient_and_others_stay_empty():
    x = at.Tensor([0.5, -0.5], requires_grad=True)
    z = x * 3
    z.retain_grad()
    hidden = z.tanh()
    hidden.sum().backward()
    np.testing.assert_allclose(z.grad.data, 1 - np.tanh([1.5, -1.5]) ** 2)
    assert hidden.grad is None


# ---------------------------------------------------------------- graph lifetime
def test_second_backward_through_a_freed_graph_is_an_error_not_a_wrong_answer():
    x = at.Tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(GraphError, match="retain_graph=True"):
        y.backward()
    assert x.grad.item() == pytest.approx(2 * np.e)  # the failed call changed nothing


def test_retain_graph_allows_a_second_backward():
    x = at.Tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(4 * np.e)


def test_no_grad_records_nothing_and_enable_grad_records_again():
    x = at.Tensor([1.0], requires_grad=True)
    with at.no_grad():
        y = x * 2
        with at.enable_grad():
            z = x * 2
    assert y.is_leaf and not y.requires_grad and y.parents == ()
    assert not z.is_leaf and z.requires_grad
    assert at.is_grad_enabled()


def test_no_grad_works_as_a_decorator_and_restores_on_error():
    @at.no_grad()
    def double(t):
        return t * 2

    x = at.Tensor([1.0], requires_grad=True)
    assert not double(x).requires_grad
    with pytest.raises(ZeroDivisionError):
        with at.no_grad():
            raise ZeroDivisionError
    assert at.is_grad_enabled()


def test_ops_on_constants_record_nothing():
    y = at.Tensor([1.0]).exp() * 3
    assert y.is_leaf and not y.requires_grad


def test_deep_chain_has_no_recursion_limit():
    x = at.Tensor([0.1], requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------- at.grad and second order
def test_grad_returns_gradients_without_touching_dot_grad():
    x = at.Tensor([1.0, 2.0], requires_grad=True)
    (gx,) = at.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(gx.data, [3.0, 12.0])
    assert x.grad is None


def test_grad_of_an_input_not_in_the_graph():
    x = at.Tensor([1.0], requires_grad=True)
    unused = at.Tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError, match="not part of the graph"):
        at.grad((x * 2).sum(), [x, unused])
    gx, gu = at.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_hessian_vector_product_by_differentiating_the_backward_pass():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    A = A + A.T
    x = at.Tensor(rng.normal(size=3), requires_grad=True)
    v = rng.normal(size=3)
    f = 0.5 * (x @ (A @ x)) + (x ** 3).sum()  # Hessian: A + diag(6x)
    (g,) = at.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.data, A @ x.data + 3 * x.data ** 2)
    (hv,) = at.grad(g, x, grad_outputs=v)
    np.testing.assert_allclose(hv.data, A @ v + 6 * x.data * v)


def test_backward_with_create_graph_makes_dot_grad_differentiable():
    x = at.Tensor([0.3, -0.7], requires_grad=True)
    x.tanh().sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.grad = None
    first.sum().backward()
    t = np.tanh([0.3, -0.7])
    np.testing.assert_allclose(x.grad.data, -2 * t * (1 - t ** 2))


def test_third_derivative_through_repeated_recording():
    x = at.Tensor([0.4], requires_grad=True)
    (d1,) = at.grad(x.exp() * x, x, create_graph=True)   # (1 + x) e^x
    (d2,) = at.grad(d1, x, create_graph=True)           # (2 + x) e^x
    (d3,) = at.grad(d2, x)                               # (3 + x) e^x
    assert d3.item() == pytest.approx(3.4 * np.exp(0.4))


# ---------------------------------------------------------------- specific op behaviour
def test_max_splits_the_gradient_evenly_among_ties():
    x = at.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    y = at.Tensor([2.0, 2.0], requires_grad=True)
    z = at.Tensor([2.0, 1.0], requires_grad=True)
    at.maximum(y, z).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.5, 1.0])
    np.testing.assert_array_equal(z.grad.data, [0.5, 0.0])


def test_repeated_indices_accumulate_gradients():
    x = at.Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([0, 2, 2, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 3.0])


def test_boolean_mask_and_none_indexing():
    x = at.Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    np.testing.assert_array_equal(picked.data, [1.0, 4.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0], [0, 1]])
    assert x[None, :, 1].shape == (1, 2)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "logsumexp", "softmax", "log_softmax", "tanh"])
def test_stable_functions_at_magnitude_1000_have_no_warning_and_no_nan(name):
    x = at.Tensor([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = getattr(at, name)(x)
        y.backward(np.ones(y.shape))
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad.data))


def test_log_softmax_is_finite_where_log_of_softmax_is_not():
    x = at.Tensor([[1000.0, 0.0]])
    assert np.isfinite(at.log_softmax(x).data).all()
    assert at.log_softmax(x).data[0, 1] == pytest.approx(-1000.0)


def test_matmul_follows_numpy_for_1d_2d_and_batched_operands():
    rng = np.random.default_rng(1)
    for a_shape, b_shape in [((4,), (4,)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2))]:
        a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
        np.testing.assert_allclose((at.Tensor(a) @ at.Tensor(b)).data, a @ b)


# ---------------------------------------------------------------- error messages
def test_errors_name_the_op_and_the_shapes():
    a, b = at.Tensor(np.ones((5, 3))), at.Tensor(np.ones((4, 3)))
    with pytest.raises(ShapeError, match=r"matmul: cannot multiply \(5, 3\) by \(4, 3\)"):
        a @ b
    with pytest.raises(ShapeError, match=r"add: cannot broadcast shapes \(5, 3\) and \(4, 3\)"):
        a + b
    with pytest.raises(ShapeError, match=r"sum: axis 2 is out of range"):
        a.sum(axis=2)
    with pytest.raises(ShapeError, match=r"reshape: cannot reshape a tensor of shape \(5, 3\) into \(4, 4\)"):
        a.reshape(4, 4)
    with pytest.raises(ShapeError, match=r"concatenate: cannot join shapes \(5, 3\), \(4, 2\)"):
        at.concatenate([a, at.Tensor(np.ones((4, 2)))], axis=0)
    assert issubclass(ShapeError, AutotensorError) and issubclass(ShapeError, ValueError)


def test_in_place_edit_of_a_recorded_tensor_is_refused_but_allowed_under_no_grad():
    w = at.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match="in-place"):
        w += 1
    with at.no_grad():
        w -= 0.5
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    assert w.version == 1


def test_backward_refuses_a_value_edited_in_place_after_the_forward_pass():
    w = at.Tensor([1.0, 2.0], requires_grad=True)
    x = at.Tensor([3.0, 4.0])
    y = (w * x).sum()
    x *= 2  # x does not require grad, so the edit is allowed, but mul needs x for w's gradient
    with pytest.raises(GraphError, match=r"mul needs its input 1 of shape \(2,\)"):
        y.backward()
    z = w.tanh()
    with at.no_grad():
        z += 1
    with pytest.raises(GraphError, match="tanh needs its output"):
        z.sum().backward()
