"""The everyday Tensor habits: formatting, display, tolist, clone, astype, zero_, argmax/argmin."""
from __future__ import annotations

import html.parser

import numpy as np
import pytest

import autotensor as at


# ---------------------------------------------------------------- formatting and display
def test_a_one_element_tensor_takes_a_format_spec_like_its_number() -> None:
    loss = (at.Tensor([0.123456789, 2.0], requires_grad=True) ** 2).mean()
    assert f"{loss:.4f}" == f"{loss.item():.4f}" == "2.0076"
    assert f"{loss:>10.2e}" == f"{loss.item():>10.2e}"
    assert f"{loss}" == str(loss.item())                     # a 0-d tensor: the number, as in PyTorch
    assert f"{at.Tensor([[3.5]]):.1f}" == "3.5"                # one element of any shape
    assert f"{at.Tensor(np.array(7)):03d}" == "007"             # integers too


def test_formatting_a_tensor_of_several_elements_needs_no_spec() -> None:
    t = at.Tensor([1.0, 2.0])
    assert f"{t}" == str(t) == repr(t)
    with pytest.raises(at.ShapeError, match=r"one-element tensors take a format spec like '.4f', this one has shape \(2,\)"):
        f"{t:.4f}"


def _bracket_and_comma_columns(text: str) -> list[tuple[int, list[int]]]:
    rows = [line for line in text.splitlines() if line.strip()]
    return [(line.rindex("[") if "[" in line else -1, [i for i, c in enumerate(line) if c == ","]) for line in rows]


def test_a_multi_line_repr_lines_its_rows_up_under_the_first() -> None:
    t = at.Tensor([[1.0, -2.5, 3.25], [4.0, 500.0, -6.0]], requires_grad=True)
    text = repr(t)
    assert text.startswith("Tensor([[") and text.endswith("]], requires_grad=True)")
    columns = _bracket_and_comma_columns(text)
    assert len(columns) == 2
    assert columns[0][0] == columns[1][0] == len("Tensor([")       # each row starts at the same column
    assert columns[0][1][:2] == columns[1][1][:2]                    # and its values line up
    cube = repr(at.Tensor(np.arange(12.0).reshape(2, 2, 3)))
    rows = [line for line in cube.splitlines() if line.strip()]
    assert len(rows) == 4 and {line.rindex("[") for line in rows} == {len("Tensor([[")}
    assert repr(at.Tensor(np.float32(1.5))) == "Tensor(1.5, dtype=float32)"
    assert repr(at.Tensor([1.0], requires_grad=True).tanh()).endswith(", op=tanh)")


class _Cells(html.parser.HTMLParser):
    """The table rows and the preformatted text of a rich display."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.pre = ""
        self._tag = ""
        self._key = ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._tag = tag

    def handle_data(self, data: str) -> None:
        if self._tag == "th":
            self._key = data
        elif self._tag == "td":
            self.rows[self._key] = data
        elif self._tag == "pre":
            self.pre += data


def test_a_notebook_shows_shape_dtype_op_grad_requirement_and_values() -> None:
    x = at.Tensor(np.array([[1.0, 2.0]], dtype=np.float32), requires_grad=True, name="x<1>")
    shown = _Cells()
    shown.feed((x * 2.0)._repr_html_())
    assert shown.rows == {"shape": "(1, 2)", "dtype": "float32", "op": "mul", "requires grad": "yes"}
    assert shown.pre == "[[2., 4.]]"
    leaf = _Cells()
    leaf.feed(x._repr_html_())
    assert leaf.rows["name"] == "x<1>" and leaf.rows["op"] == "none (a leaf)"   # escaped, then read back
    constant = _Cells()
    constant.feed(at.Tensor(np.array([1, 2]))._repr_html_())
    assert constant.rows["requires grad"] == "no" and constant.rows["dtype"] == "int64"


def test_tolist_gives_python_numbers() -> None:
    values = at.Tensor([[1.5, 2.0]]).tolist()
    assert values == [[1.5, 2.0]] and type(values[0][0]) is float
    assert at.Tensor(3.0).tolist() == 3.0


# ---------------------------------------------------------------- clone and astype
def test_clone_copies_the_values_and_stays_in_the_graph() -> None:
    x = at.Tensor([1.0, -2.0], requires_grad=True)
    copy = x.clone()
    assert copy.op_name == "clone" and not np.shares_memory(copy.data, x.data)
    (copy * at.Tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
    detached = x.detach().clone()
    with at.no_grad():
        detached += 1.0
    assert x.tolist() == [1.0, -2.0] and x.version == 0 and detached.tolist() == [2.0, -1.0]
    assert np.copy(x).op_name == "clone"  # numpy's name dispatches to the op


def test_astype_casts_between_float_dtypes_differentiably() -> None:
    x = at.Tensor(np.array([0.25, -1.5, 3.0]), requires_grad=True)
    low = x.astype(np.float32)
    assert low.dtype == np.float32 and low.op_name == "astype"
    (low.tanh() * 2.0).sum().backward()
    assert x.grad.dtype == np.float64
    expected = 2.0 * (1.0 - np.tanh(x.data.astype(np.float32)) ** 2)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6)
    assert np.astype(x, "float32").op_name == "astype"
    assert at.astype(x, float).dtype == np.float64


def test_astype_to_integers_gives_a_constant_like_numpys_cast() -> None:
    x = at.Tensor([1.75, -2.5], requires_grad=True)
    whole = x.astype(np.int32)
    assert whole.dtype == np.int32 and not whole.requires_grad and whole.is_leaf
    assert whole.tolist() == np.array([1.75, -2.5]).astype(np.int32).tolist()


@pytest.mark.parametrize("bad", [None, "no such dtype", 1.5, object(), np.array([1.0]), at.Tensor([1.0]), complex, "U5"])
def test_astype_refuses_what_is_not_a_numeric_dtype(bad: object) -> None:
    with pytest.raises(at.DTypeError, match="astype: dtype must name a numeric dtype"):
        at.Tensor([1.0]).astype(bad)


def test_astype_agrees_with_pytorchs_to() -> None:
    torch = pytest.importorskip("torch")
    values = np.array([[0.3, -0.2], [1.1, 0.7]])
    ours = at.Tensor(values, requires_grad=True)
    (ours.astype(np.float32).sigmoid() ** 2).sum().backward()
    theirs = torch.tensor(values, requires_grad=True)
    (theirs.to(torch.float32).sigmoid() ** 2).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- zero_
def test_zero_follows_the_rules_of_in_place_edits() -> None:
    W = at.Tensor(np.ones((2, 3)), requires_grad=True)
    view = W.reshape(3, 2)
    with pytest.raises(at.GraphError, match=r"zero_\(\): in-place edit .* `with at.no_grad\(\):`"):
        W.zero_()
    loss = (W * W).sum()
    with at.no_grad():
        assert view.zero_() is view
    assert W.tolist() == [[0.0] * 3] * 2 and W.version == view.version == 1
    with pytest.raises(at.GraphError, match="modified in place"):
        loss.backward()  # mul saved W, which zero_ changed


def test_zero_clears_a_gradient_and_refuses_read_only_data() -> None:
    W = at.Tensor([1.0, 2.0], requires_grad=True)
    (W * 3.0).sum().backward()
    W.grad.zero_()
    (W * 1.0).sum().backward()
    assert W.grad.tolist() == [1.0, 1.0]
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(at.GraphError, match="read-only"):
        at.Tensor(frozen).zero_()


def test_zero_in_a_compiled_step_is_replayed() -> None:
    buffer = at.Tensor(np.zeros(2))

    @at.compile
    def accumulate(x: np.ndarray) -> at.Tensor:
        nonlocal buffer
        with at.no_grad():
            buffer.zero_()
            buffer += at.Tensor(x)
        return buffer.detach()

    for value in (1.0, 2.0, 5.0):
        assert accumulate(np.array([value, -value])).tolist() == [value, -value]
    assert buffer.version == 6


# ---------------------------------------------------------------- argmax, argmin
def test_argmax_and_argmin_are_numpys_indices_not_tensors() -> None:
    values = np.array([[0.5, 3.0, -1.0], [7.0, 2.0, 7.5]])
    t = at.Tensor(values, requires_grad=True)
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            found = t.argmax(axis=axis, keepdims=keepdims)
            assert isinstance(found, np.ndarray) and found.dtype.kind == "i"
            np.testing.assert_array_equal(found, np.argmax(values, axis=axis, keepdims=keepdims))
            np.testing.assert_array_equal(t.argmin(axis, keepdims), np.argmin(values, axis=axis, keepdims=keepdims))
    np.testing.assert_array_equal(np.argmax(t, axis=1), [1, 2])


def test_argmax_refuses_missing_axes_and_empty_tensors() -> None:
    with pytest.raises(at.IndexingError, match="argmax: axis 2 is out of range"):
        at.Tensor([[1.0]]).argmax(axis=2)
    with pytest.raises(at.ShapeError, match="argmin: no elements"):
        at.Tensor(np.zeros((0, 3))).argmin(axis=0)
    assert at.Tensor(np.zeros((0, 3))).argmin(axis=1).shape == (0,)
    with pytest.raises(at.DTypeError, match="keepdims"):
        at.Tensor([1.0]).argmax(keepdims="yes")
