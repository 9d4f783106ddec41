"""``at.custom_op``: a user's op enters the registry, is checked first and second order like the
built-in ops (a wrong rule is caught, by the API and by ``autotensor gradcheck --import``),
compiles, and refuses bad input with the library's errors.  Each test's ops are gone after it
(the ``registry_as_it_was`` fixture of ``tests/conftest.py``)."""
from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import autotensor as at
from autotensor import registry
from autotensor.gradcheck import check_op
from tests.cli.running import assert_one_line_error, run

POINTS = np.array([-2.5, -0.7, 0.4, 1.8])


def softsign_forward(x: np.ndarray) -> np.ndarray:
    return x / (1 + np.abs(x))


def softsign_rule(g, out, x):  # type: ignore[no-untyped-def]
    return g / (1 + np.abs(x)) ** 2


def make_softsign(rule: Callable[..., object] = softsign_rule, name: str = "softsign") -> Callable[..., at.Tensor]:
    return at.custom_op(name, softsign_forward, [rule], samples=[(POINTS,), (POINTS.reshape(2, 2) * 0.5,)])


def test_a_custom_op_computes_records_and_differentiates_like_a_built_in_op() -> None:
    softsign = make_softsign()
    x = at.Tensor(POINTS.copy(), requires_grad=True)
    y = softsign(x)
    assert y.op_name == "softsign" and y.requires_grad
    np.testing.assert_allclose(y.data, POINTS / (1 + np.abs(POINTS)), rtol=1e-15)
    upstream = np.array([1.0, -2.0, 0.5, 3.0])
    y.backward(upstream)
    np.testing.assert_allclose(x.grad.data, upstream / (1 + np.abs(POINTS)) ** 2, rtol=1e-14)
    assert at.gradcheck(softsign, [POINTS]) and at.gradgradcheck(softsign, [POINTS])
    rows = check_op(registry.REGISTRY["softsign"])
    assert [(row.case, row.order) for row in rows] == [
        ("sample 0 (4)", 1), ("sample 0 (4)", 2), ("sample 1 (2x2)", 1), ("sample 1 (2x2)", 2)]
    assert all(row.result for row in rows)
    assert registry.REGISTRY["softsign"].custom and softsign.op is registry.REGISTRY["softsign"]


def test_a_custom_op_agrees_with_pytorch_to_the_second_order() -> None:
    torch = pytest.importorskip("torch")
    softsign = make_softsign()
    x, v = POINTS.copy(), np.array([0.3, -1.0, 2.0, 0.5])
    ours = at.Tensor(x, requires_grad=True)
    (g,) = at.grad((softsign(ours) ** 2).sum(), ours, create_graph=True)
    (hv,) = at.grad(g, ours, grad_outputs=v)
    theirs = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad((torch.nn.functional.softsign(theirs) ** 2).sum(), theirs, create_graph=True)
    (thv,) = torch.autograd.grad(tg, theirs, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hv.data, thv.numpy(), rtol=1e-12)


def test_a_wrong_rule_is_caught_by_the_checkers() -> None:
    forgets_the_square = make_softsign(lambda g, out, x: g / (1 + np.abs(x)), name="wrong_softsign")
    result = at.gradcheck(forgets_the_square, [POINTS])
    assert not result and "FAILED" in str(result)
    assert not all(row.result for row in check_op(registry.REGISTRY["wrong_softsign"]))


def test_a_binary_op_with_broadcasting_and_a_parameter() -> None:
    """scale * sqrt(a^2 + b^2); the rules undo broadcasting with at.unbroadcast and see the parameter."""

    def hypot(a: np.ndarray, b: np.ndarray, scale: float = 1.0) -> np.ndarray:
        return scale * np.sqrt(a * a + b * b)

    rules = [lambda g, out, a, b, scale=1.0: at.unbroadcast(g * scale * scale * a / out, a.shape),
             lambda g, out, a, b, scale=1.0: at.unbroadcast(g * scale * scale * b / out, b.shape)]
    op = at.custom_op("scaled_hypot", hypot, rules, saves="inputs+output",
                      samples=[(np.array([[1.0, -2.0, 0.5]]), np.array([[0.7], [-1.2]])),
                               (np.array([3.0, 4.0]), np.array(-0.5))])
    assert all(row.result for row in check_op(op.op))
    a = at.Tensor([[3.0]], requires_grad=True)
    b = at.Tensor([4.0, 0.0], requires_grad=True)
    out = op(a, b, scale=2.0)
    np.testing.assert_allclose(out.data, [[10.0, 6.0]])
    out.sum().backward()
    np.testing.assert_allclose(a.grad.data, [[2.0 * 2.0 * 3.0 / 10.0 + 2.0 * 2.0 * 3.0 / 6.0]])
    np.testing.assert_allclose(b.grad.data, [2.0 * 2.0 * 4.0 / 10.0, 0.0])
    assert at.gradcheck(lambda a, b: op(a, b, scale=3.0), [np.array([[1.0, 2.0]]), np.array([[0.5], [1.5]])])


def test_a_custom_op_compiles_to_the_eager_values_and_gradients() -> None:
    softsign = make_softsign()
    W = at.Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)

    def step(X: np.ndarray) -> at.Tensor:
        W.grad = None
        loss = (softsign(at.Tensor(X) @ W) ** 2).sum()
        loss.backward()
        return loss.detach()

    compiled = at.compile(step)
    for value in (1.0, -0.5, 2.0):
        X = np.array([[value, 1.0], [0.3, -value]])
        expected_loss, expected_grad = step(X).data, W.grad.data.copy()
        got_loss = compiled(X).data
        np.testing.assert_allclose(got_loss, expected_loss, rtol=0, atol=1e-12)
        np.testing.assert_allclose(W.grad.data, expected_grad, rtol=0, atol=1e-12)
    assert "softsign" in compiled.source and len(compiled.traces) == 1


def test_the_registry_can_remove_custom_ops_only_and_isolate_registrations() -> None:
    with registry.isolated():
        make_softsign()
        assert "softsign" in registry.REGISTRY
    assert "softsign" not in registry.REGISTRY
    make_softsign()
    registry.unregister("softsign")
    assert "softsign" not in registry.REGISTRY
    with pytest.raises(at.ArgumentError, match="one of the engine's own ops"):
        registry.unregister("tanh")
    with pytest.raises(at.ArgumentError, match="is not registered"):
        registry.unregister("softsign")


def test_names_already_taken_are_refused() -> None:
    with pytest.raises(at.ArgumentError, match="'tanh' is already registered \\(one of the engine's own ops\\)"):
        make_softsign(name="tanh")
    make_softsign()
    with pytest.raises(at.ArgumentError, match=r"unregister\('softsign'\) removes it"):
        make_softsign()


@pytest.mark.parametrize("arguments, error, message", [
    ({"name": "soft sign"}, at.ArgumentError, "a name must be an identifier"),
    ({"forward": "x / (1 + |x|)"}, at.DTypeError, "forward must be a function"),
    ({"vjps": []}, at.DTypeError, "vjps must be a non-empty list"),
    ({"vjps": softsign_rule}, at.DTypeError, "vjps must be a non-empty list"),
    ({"vjps": [softsign_rule, softsign_rule]}, at.ArgumentError, "2 rule(s) means 2 input(s)"),
    ({"samples": []}, at.ArgumentError, "at least one tuple of inputs"),
    ({"samples": [(POINTS, POINTS)]}, at.ArgumentError, "sample 0 must be a tuple of 1 input(s)"),
    ({"samples": [(["a"],)]}, at.DTypeError, "sample 0 must hold numbers"),
    ({"saves": "everything"}, at.ArgumentError, "saves must be"),
], ids=["name", "forward", "no rules", "a bare rule", "arity", "no samples", "sample arity", "sample data", "saves"])
def test_a_bad_definition_is_refused_and_registers_nothing(arguments: dict, error: type, message: str) -> None:
    definition = {"name": "softsign", "forward": softsign_forward, "vjps": [softsign_rule], "samples": [(POINTS,)]}
    definition.update(arguments)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        at.custom_op(definition.pop("name"), definition.pop("forward"), definition.pop("vjps"), **definition)
    assert not any(op.custom for op in registry.REGISTRY.values())


def test_bad_calls_get_the_librarys_errors_naming_the_op() -> None:
    softsign = make_softsign()
    for bad in (None, "a", 1j, np.array(["a"]), object(), {"a": 1}):
        with pytest.raises(at.AutotensorError, match="softsign"):
            softsign(bad)
    with pytest.raises(at.ArgumentError, match="softsign: takes 1 input"):
        softsign(POINTS, POINTS)
    with pytest.raises(at.DTypeError, match="softsign: got an unexpected keyword argument 'scale'"):
        softsign(POINTS, scale=2.0)
    pairwise = at.custom_op("pairwise", lambda a, b: a * b, [lambda g, out, a, b: g * b, lambda g, out, a, b: g * a],
                            samples=[(POINTS, POINTS)])
    with pytest.raises(at.ArgumentError, match=r"pairwise: the forward function failed on inputs of shapes \(2,\), \(3,\)") as caught:
        pairwise(np.ones(2), np.ones(3))
    assert isinstance(caught.value, ValueError)


def test_bad_forward_results_and_bad_rules_are_named() -> None:
    pair = at.custom_op("pair", lambda x: (x, x), [softsign_rule], samples=[(POINTS,)])
    with pytest.raises(at.DTypeError, match="pair: the forward function must return one ndarray, got"):
        pair(POINTS)
    lazy = at.custom_op("lazy", softsign_forward, [lambda g, out, x: None], samples=[(POINTS,)])
    with pytest.raises(at.DTypeError, match="lazy: the derivative rule for input 0 returned None"):
        lazy(at.Tensor(POINTS, requires_grad=True)).sum().backward()
    summed = at.custom_op("summed", softsign_forward, [lambda g, out, x: g.sum()], samples=[(POINTS,)])
    with pytest.raises(at.ShapeError, match="summed: the derivative rule for input 0 returned shape"):
        summed(at.Tensor(POINTS, requires_grad=True)).sum().backward()


def test_an_input_edited_after_the_forward_pass_is_refused_by_backward() -> None:
    softsign = make_softsign()
    x = at.Tensor(POINTS.copy(), requires_grad=True)
    y = softsign(x)
    with at.no_grad():
        x += 1.0
    with pytest.raises(at.GraphError, match="softsign needs its input 0"):
        y.sum().backward()


def test_an_integer_output_is_a_constant() -> None:
    rounded = at.custom_op("rounded", lambda x: np.rint(x).astype(np.int64), [lambda g, out, x: g * 0.0],
                           samples=[(POINTS,)])
    out = rounded(at.Tensor([0.4, 1.6], requires_grad=True))
    assert out.tolist() == [0, 2] and out.dtype == np.int64 and not out.requires_grad


def test_a_forward_returning_its_input_gives_a_copy() -> None:
    identity = at.custom_op("identity", lambda x: x, [lambda g, out, x: g], samples=[(POINTS,)], saves="")
    x = at.Tensor(POINTS.copy(), requires_grad=True)
    y = identity(x)
    assert not np.shares_memory(y.data, x.data)


def _module(directory: Path, name: str, rule: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(f"""
        import numpy as np
        import autotensor as at

        softsign = at.custom_op(
            "softsign", lambda x: x / (1 + np.abs(x)),
            vjps=[lambda g, out, x: {rule}],
            samples=[(np.array([-2.5, -0.7, 0.4, 1.8]),)],
        )
    """))
    return path


def test_autotensor_gradcheck_imports_a_module_and_checks_its_ops(capsys, tmp_path, monkeypatch) -> None:
    _module(tmp_path, "my_ops", "g / (1 + np.abs(x)) ** 2")
    monkeypatch.chdir(tmp_path)  # a module name is looked up from the current directory
    try:
        status, out, err = run(capsys, "gradcheck", "--import", "my_ops", "--op", "softsign")
    finally:
        sys.modules.pop("my_ops", None)
    assert status == 0, err
    assert str(tmp_path) not in sys.path
    assert out.splitlines()[0] == "imported my_ops: 1 op(s) registered (softsign)"
    assert out.count("softsign  sample 0 (4)") == 2 and "all passed" in out


def test_autotensor_gradcheck_catches_a_wrong_rule_in_an_imported_file(capsys, tmp_path) -> None:
    path = _module(tmp_path, "wrong_ops", "g / (1 + np.abs(x))")
    status, out, err = run(capsys, "gradcheck", "--import", path, "--first-order")
    assert status == 1
    rows = [line.split() for line in out.splitlines() if line.startswith("softsign ")]
    assert rows == [["softsign", "sample", "0", "(4)", "1st", rows[0][5], rows[0][6], "FAILED"]]
    assert "softsign [sample 0 (4)]: gradient check FAILED" in out
    assert "tanh" in out  # without --op, every registered op is checked


def test_autotensor_gradcheck_names_a_module_that_fails_to_import(capsys, tmp_path) -> None:
    broken = tmp_path / "broken_ops.py"
    broken.write_text("import numpy as np\nraise RuntimeError('half written')\n")
    status, out, err = run(capsys, "gradcheck", "--import", broken)
    assert status == 1
    assert_one_line_error(err, f"--import {broken}: RuntimeError: half written")
    status, out, err = run(capsys, "gradcheck", "--import", "no_such_module_here")
    assert status == 1
    assert_one_line_error(err, "--import no_such_module_here: ModuleNotFoundError")


def test_no_custom_op_of_an_earlier_test_is_left_in_the_registry() -> None:
    assert not any(op.custom for op in registry.REGISTRY.values())
