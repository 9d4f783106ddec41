"""The op families of issue 14 follow numpy: the same values, shapes and dtypes as numpy's
functions, numpy's spellings record the ops, methods where numpy arrays (or torch tensors, for
the elementwise functions) have them, numpy's views and copies, and the library's own errors.
(Gradients and second derivatives are checked by the registry and against PyTorch in
tests/test_differential.py.)"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autotensor as at

X = np.random.default_rng(14).normal(size=(3, 4))

SAME_AS_NUMPY: dict[str, tuple[Callable[[at.Tensor], Any], Callable[[np.ndarray], Any]]] = {
    "var ddof beyond n is inf": (lambda t: at.var(t, 0, 5), lambda a: np.var(a, 0, ddof=5)),
    "std ddof 1 axis 1": (lambda t: t.std(1, ddof=1), lambda a: a.std(1, ddof=1)),
    "var of nothing is NaN": (lambda t: at.var(t[:0]), lambda a: np.var(a[:0])),
    "prod keepdims": (lambda t: t.prod(1, keepdims=True), lambda a: a.prod(1, keepdims=True)),
    "prod of integers stays integer": (lambda t: at.prod(at.Tensor(np.arange(1, 5))), lambda a: np.prod(np.arange(1, 5))),
    "cumsum flattens for axis None": (lambda t: t.cumsum(), lambda a: a.cumsum()),
    "cumsum of integers stays integer": (lambda t: at.cumsum(at.Tensor(np.arange(4))), lambda a: np.cumsum(np.arange(4))),
    "cumprod axis -1": (lambda t: t.cumprod(-1), lambda a: a.cumprod(-1)),
    "sin of integers is float64": (lambda t: at.sin(at.Tensor(np.arange(3, dtype=np.int32))),
                                   lambda a: np.sin(np.arange(3, dtype=np.int32).astype(np.float64))),
    "einsum implicit output": (lambda t: at.einsum("ij,kj", t, t), lambda a: np.einsum("ij,kj", a, a)),
    "einsum implicit 'B' before 'a'": (lambda t: at.einsum("aB", t), lambda a: np.einsum("aB", a)),
    "einsum ellipsis": (lambda t: at.einsum("...j,j->...", t, t[0]), lambda a: np.einsum("...j,j->...", a, a[0])),
    "trace offset 2": (lambda t: t.trace(2), lambda a: a.trace(2)),
    "trace offset -2": (lambda t: at.trace(t, -2), lambda a: np.trace(a, -2)),
    "trace offset past the edge": (lambda t: at.trace(t, 9), lambda a: np.trace(a, 9)),
    "tensordot axes 1": (lambda t: at.tensordot(t, t.T, 1), lambda a: np.tensordot(a, a.T, 1)),
    "outer flattens": (lambda t: at.outer(t, t[0]), lambda a: np.outer(a, a[0])),
    "repeat per element": (lambda t: t.repeat([1, 0, 2], axis=0), lambda a: a.repeat([1, 0, 2], axis=0)),
    "repeat flattens for axis None": (lambda t: t.repeat(2), lambda a: a.repeat(2)),
    "tile with a new axis": (lambda t: at.tile(t, (2, 1, 3)), lambda a: np.tile(a, (2, 1, 3))),
    "roll two axes": (lambda t: at.roll(t, (1, -5), (0, 1)), lambda a: np.roll(a, (1, -5), (0, 1))),
    "roll a repeated axis adds the shifts": (lambda t: at.roll(t, (1, 2), (1, 1)), lambda a: np.roll(a, (1, 2), (1, 1))),
    "roll flattened": (lambda t: at.roll(t, 7), lambda a: np.roll(a, 7)),
    "flip axis -1": (lambda t: at.flip(t, -1), lambda a: np.flip(a, -1)),
    "pad with values per axis and side": (
        lambda t: at.pad(t, ((1, 0), (2, 3)), constant_values=((1, 2), (3, 4))),
        lambda a: np.pad(a, ((1, 0), (2, 3)), constant_values=((1, 2), (3, 4)))),
    "pad (before, after) for every axis": (lambda t: at.pad(t, (2, 1)), lambda a: np.pad(a, (2, 1))),
    "pad [[1], [2]]: one width per axis": (lambda t: at.pad(t, [[1], [2]]), lambda a: np.pad(a, [[1], [2]])),
    "vstack a matrix and a row": (lambda t: at.vstack([t, t[0]]), lambda a: np.vstack([a, a[0]])),
    "hstack matrices": (lambda t: at.hstack([t, t]), lambda a: np.hstack([a, a])),
    "hstack a vector and a 0-d": (lambda t: at.hstack([t[0], t[1, 0]]), lambda a: np.hstack([a[0], a[1, 0]])),
    "expand_dims two axes": (lambda t: at.expand_dims(t, (0, -1)), lambda a: np.expand_dims(a, (0, -1))),
    "squeeze every side of 1": (lambda t: at.squeeze(t[None, :, None]), lambda a: np.squeeze(a[None, :, None])),
    "logaddexp with a number": (lambda t: at.logaddexp(t, 2.0), lambda a: np.logaddexp(a, 2.0)),
}


@pytest.mark.parametrize("ours, numpys", SAME_AS_NUMPY.values(), ids=SAME_AS_NUMPY.keys())
def test_the_op_computes_what_numpy_computes(ours: Callable[..., Any], numpys: Callable[..., Any]) -> None:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "degrees of freedom <= 0", on numpy's side
        got, expected = ours(at.Tensor(X)), numpys(X)
    assert got.shape == np.shape(expected) and got.dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("indices", [3, [1, -1, 9], [], [2, 1]], ids=["3 sections", "[1, -1, 9]", "[]", "[2, 1]"])
def test_split_gives_numpy_s_blocks_as_a_list_of_tensors(indices: Any) -> None:
    blocks = at.split(at.Tensor(X, requires_grad=True), indices, axis=0)
    expected = np.split(X, indices, axis=0)
    assert isinstance(blocks, list) and len(blocks) == len(expected)
    for block, want in zip(blocks, expected):
        assert isinstance(block, at.Tensor) and block.requires_grad
        np.testing.assert_array_equal(block.data, want)


UNARY = "sin cos tan arcsin arccos arctan sinh cosh arcsinh arccosh arctanh log1p expm1 log2 log10 exp2".split()


@pytest.mark.parametrize("name", UNARY)
def test_the_numpy_ufunc_and_the_method_record_the_op(name: str) -> None:
    t = at.Tensor(X, requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # values outside the domains: NaN, as numpy's
        through_numpy, through_method = getattr(np, name)(t), getattr(t, name)()
        expected = getattr(np, name)(X)
    assert through_numpy.op_name == through_method.op_name == name
    np.testing.assert_array_equal(through_numpy.data, expected)


NUMPY_SPELLINGS: dict[str, Callable[[Any], Any]] = {
    "np.var(axis, ddof)": lambda t: np.var(t, axis=0, ddof=1),
    "np.std(correction=)": lambda t: np.std(t, correction=1),
    "np.prod": lambda t: np.prod(t, axis=1),
    "np.cumsum": lambda t: np.cumsum(t, 0),
    "np.cumprod": lambda t: np.cumprod(t),
    "np.einsum (optimize= accepted)": lambda t: np.einsum("ij,kj->ik", t, t, optimize=True),
    "np.tensordot": lambda t: np.tensordot(t, t, 2),
    "np.outer": lambda t: np.outer(t, t),
    "np.trace": lambda t: np.trace(t, 1),
    "np.squeeze": lambda t: np.squeeze(t[:, None]),
    "np.expand_dims": lambda t: np.expand_dims(t, 0),
    "np.ravel": lambda t: np.ravel(t),
    "np.repeat": lambda t: np.repeat(t, 2, axis=1),
    "np.tile": lambda t: np.tile(t, 2),
    "np.roll": lambda t: np.roll(t, 1),
    "np.flip": lambda t: np.flip(t, 0),
    "np.split": lambda t: np.split(t, 3)[1],
    "np.pad": lambda t: np.pad(t, 1, constant_values=2.0),
    "np.vstack": lambda t: np.vstack([t, t * 2.0]),
    "np.hstack": lambda t: np.hstack([t, t * 2.0]),
    "np.logaddexp": lambda t: np.logaddexp(t, t * 2.0),
    "x.var(ddof=1)": lambda t: t.var(ddof=1),
    "x.cumsum(axis)": lambda t: t.cumsum(1),
    "x.squeeze()": lambda t: t[None].squeeze(),
    "x.flatten()": lambda t: t.flatten(),
}


@pytest.mark.parametrize("spelling", NUMPY_SPELLINGS.values(), ids=NUMPY_SPELLINGS.keys())
def test_a_numpy_spelling_or_method_records_the_op_and_differentiates(spelling: Callable[[Any], Any]) -> None:
    assert isinstance(spelling(at.Tensor(X, requires_grad=True)), at.Tensor)
    result = at.gradcheck(spelling, [X])
    assert result, result


def test_numpy_keywords_without_meaning_here_are_refused_by_name() -> None:
    t = at.Tensor(X, requires_grad=True)
    with pytest.raises(at.DTypeError, match="numpy.var: .*dtype"):
        np.var(t, dtype=np.float32)
    with pytest.raises(at.DTypeError, match="numpy.einsum: .*out"):
        np.einsum("ij->j", t, out=np.empty(4))
    with pytest.raises(at.DTypeError, match="numpy.pad: .*stat_length"):
        np.pad(t, 1, stat_length=2)


def test_the_gradient_of_prod_and_cumprod_at_a_zero_is_the_product_of_the_others() -> None:
    values = np.array([1.5, 0.0, -2.0, 0.5])
    x = at.Tensor(values, requires_grad=True)
    x.prod().backward()
    others = [np.prod(np.delete(values, k)) for k in range(values.size)]
    np.testing.assert_array_equal(x.grad.data, others)
    x.grad = None
    x.cumprod()[-1].backward()  # the last running product is the whole product
    np.testing.assert_array_equal(x.grad.data, others)


def test_einsum_is_differentiable_to_any_order() -> None:
    """f = sum x^3 as einsum('i,i,i->'); its third derivative along v and w is 6 v w."""
    values, v, w = np.array([0.5, -1.5, 2.0]), np.array([1.0, 2.0, -1.0]), np.array([0.5, 0.25, 3.0])
    x = at.Tensor(values, requires_grad=True)
    (first,) = at.grad(at.einsum("i,i,i->", x, x, x), x, create_graph=True)
    (second,) = at.grad(first, x, grad_outputs=v, create_graph=True)
    (third,) = at.grad(second, x, grad_outputs=w)
    np.testing.assert_allclose(first.data, 3 * values ** 2)
    np.testing.assert_allclose(third.data, 6 * v * w)


def test_flatten_copies_while_ravel_squeeze_expand_dims_and_flip_are_views_sharing_the_counter() -> None:
    base = at.Tensor(X.copy())
    assert not np.shares_memory(base.flatten().data, base.data)
    for view in (base.ravel(), base.reshape(1, 3, 4).squeeze(), at.expand_dims(base, 0), at.flip(base, 1)):
        assert np.shares_memory(view.data, base.data)
        before = base.version
        with at.no_grad():
            view += 1.0
        assert base.version == before + 1


BAD_CALLS: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "einsum of a number": (lambda: at.einsum(3, at.Tensor(X)), at.DTypeError, "einsum: subscripts must be a string"),
    "einsum bad letter": (lambda: at.einsum("i1", at.Tensor(X)), at.ArgumentError, "einsum: invalid subscripts"),
    "einsum operand count": (lambda: at.einsum("ij,jk", at.Tensor(X)), at.ArgumentError, "name 2 operand(s), got 1"),
    "einsum too many labels": (lambda: at.einsum("ijk", at.Tensor(X)), at.ShapeError, "do not fit operands of shapes"),
    "einsum unequal diagonal": (lambda: at.einsum("ii", at.Tensor(X)), at.ShapeError, "label 'i' is repeated"),
    "einsum unknown output": (lambda: at.einsum("ij->k", at.Tensor(X)), at.ShapeError, "einsum"),
    "tensordot unequal sides": (lambda: at.tensordot(at.Tensor(X), at.Tensor(X), 1), at.ShapeError, "tensordot: axes 1"),
    "trace of a vector": (lambda: at.trace(at.Tensor(X[0])), at.ShapeError, "trace: needs at least two"),
    "trace same axes": (lambda: at.trace(at.Tensor(X), 0, 1, -1), at.ShapeError, "axis1 and axis2 must differ"),
    "var ddof 'a'": (lambda: at.var(at.Tensor(X), ddof="a"), at.DTypeError, "var: ddof must be a real number"),
    "cumsum axis 2": (lambda: at.cumsum(at.Tensor(X), 2), at.IndexingError, "cumsum: axis 2 is out of range"),
    "squeeze a long axis": (lambda: at.squeeze(at.Tensor(X), 0), at.ShapeError, "squeeze: cannot remove axis 0"),
    "expand_dims repeated": (lambda: at.expand_dims(at.Tensor(X), (0, 0)), at.ShapeError, "repeated axis"),
    "repeat negative": (lambda: at.repeat(at.Tensor(X), -1), at.ArgumentError, "repeat: repeats must be a count"),
    "repeat wrong count": (lambda: at.repeat(at.Tensor(X), [1, 2], 0), at.ShapeError, "2 repeats for an axis of length 3"),
    "tile negative": (lambda: at.tile(at.Tensor(X), -1), at.ArgumentError, "tile: reps must be counts"),
    "roll unequal lists": (lambda: at.roll(at.Tensor(X), (1, 2, 3), (0, 1)), at.ShapeError, "roll: 3 shifts for 2 axes"),
    "split unequal": (lambda: at.split(at.Tensor(X), 2), at.ShapeError, "does not split into 2 equal sections"),
    "split 0 sections": (lambda: at.split(at.Tensor(X), 0), at.ArgumentError, "at least 1"),
    "split float points": (lambda: at.split(at.Tensor(X), [1.5]), at.DTypeError, "split: indices_or_sections"),
    "pad mode": (lambda: at.pad(at.Tensor(X), 1, mode="edge"), at.ArgumentError, "only mode='constant'"),
    "pad negative": (lambda: at.pad(at.Tensor(X), -1), at.ArgumentError, "pad widths must be counts"),
    "pad widths for 3 axes": (lambda: at.pad(at.Tensor(X), ((1, 1),) * 3), at.ShapeError, "does not fit"),
    "pad by a tensor that requires grad": (
        lambda: at.pad(at.Tensor(X), 1, constant_values=at.Tensor(1.0, requires_grad=True)), at.DTypeError,
        "constant_values is not differentiated"),
    "vstack of nothing": (lambda: at.vstack([]), at.ShapeError, "vstack: needs at least one tensor"),
    "hstack of a tensor": (lambda: at.hstack(at.Tensor(X)), at.DTypeError, "hstack: expects a list or tuple"),
}


@pytest.mark.parametrize("call, error, message", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_a_bad_call_is_refused_with_the_library_s_error(call: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)
