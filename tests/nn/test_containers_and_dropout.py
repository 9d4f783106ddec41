"""nn.ModuleList (parameters found and named, scopes) and nn.Dropout (train/eval, seeded, inverted scaling)."""
import numpy as np
import pytest

import autotensor as at
import nn


class Tower(nn.Module):
    """Blocks kept in a ModuleList and applied by the owner's own forward."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(3, 3, seed=i) for i in range(2)])
        self.blocks.append(nn.Linear(3, 1, seed=2))

    def forward(self, x):
        for block in self.blocks:
            x = block(x).tanh()
        return x


# ---------------------------------------------------------------------- ModuleList
def test_a_module_list_names_its_modules_by_position():
    tower = Tower()
    assert [name for name, _ in tower.named_parameters()] == [
        "blocks.0.W", "blocks.0.b", "blocks.1.W", "blocks.1.b", "blocks.2.W", "blocks.2.b"]
    assert len(tower.blocks) == 3 and tower.blocks[2].out_features == 1
    assert [m.out_features for m in tower.blocks] == [3, 3, 1]
    assert tower.parameters()[4] is tower.blocks[2].W


def test_modules_of_a_list_open_the_scope_named_like_their_parameters():
    tower = Tower()  # no parameter walk yet: the names come from attaching
    out = tower.blocks[1](np.ones((2, 3)))
    assert out.scope == "blocks.1"
    outer = nn.Sequential(tower)
    with at.name_scope("outer"):
        nested = outer(np.ones((2, 3)))
    assert nested.scope == "outer.layers.0"
    assert list(outer.named_parameters())[0][0] == "layers.0.blocks.0.W"
    assert tower.blocks[0](np.ones((1, 3))).scope == "blocks.0"


def test_a_module_list_is_not_called_and_holds_only_modules():
    with pytest.raises(NotImplementedError, match="ModuleList is not called"):
        nn.ModuleList([nn.Tanh()])(np.ones(2))
    with pytest.raises(TypeError, match="expected a Module, got int"):
        nn.ModuleList([nn.Tanh(), 3])


def test_train_and_eval_reach_the_modules_of_a_list():
    tower = Tower()
    tower.blocks.append(nn.Dropout(0.5))
    tower.eval()
    assert [m.training for m in tower.blocks] == [False] * 4
    tower.train()
    assert all(m.training for m in tower.blocks)


# ---------------------------------------------------------------------- Dropout
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p():
    x = np.full((200, 500), 3.0)
    out = nn.Dropout(0.2, seed=0)(x).data
    kept = out != 0
    np.testing.assert_array_equal(out[kept], np.full(kept.sum(), 3.0 / 0.8))
    assert abs(kept.mean() - 0.8) < 0.005  # 100,000 draws: a standard error of 0.0013
    assert abs(out.mean() - 3.0) < 0.02


def test_dropout_passes_inputs_through_in_evaluation_and_at_p_zero():
    x = at.Tensor(np.random.default_rng(0).normal(size=(4, 5)))
    layer = nn.Dropout(0.5, seed=1).eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert layer.train()(x) is not x


def test_a_seed_gives_the_same_masks_and_successive_calls_give_new_ones():
    x = np.ones((3, 8))
    first, second = nn.Dropout(0.5, seed=4), nn.Dropout(0.5, seed=4)
    a, b = first(x).data, first(x).data
    np.testing.assert_array_equal(a, second(x).data)
    np.testing.assert_array_equal(b, second(x).data)
    assert not np.array_equal(a, b)


def test_the_gradient_flows_through_the_kept_units_only():
    x = at.Tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    layer = nn.Dropout(0.5, seed=3)
    out = layer(x)
    out.sum().backward()
    mask = out.data / x.data  # 2 where kept, 0 where dropped
    assert set(np.unique(mask)) == {0.0, 2.0}
    np.testing.assert_array_equal(x.grad.data, mask)


def test_the_mask_comes_from_one_method_in_the_input_dtype():
    layer = nn.Dropout(0.25, seed=0)
    mask = layer._keep_mask((2, 3), np.dtype(np.float32))
    assert mask.dtype == np.float32 and set(np.unique(mask)) <= {np.float32(0), np.float32(1 / 0.75)}
    x = at.Tensor(np.ones((2, 3), dtype=np.float32))
    assert layer(x).dtype == np.float32
    replay = nn.Dropout(0.25, seed=0)
    replay._keep_mask = lambda shape, dtype: np.full(shape, 2.0, dtype)  # what a compiler would swap in
    np.testing.assert_array_equal(replay(np.ones((2, 3))).data, np.full((2, 3), 2.0))


@pytest.mark.parametrize(("p", "error", "fragment"), [
    (1.0, ValueError, r"p must be in \[0, 1\), got 1.0"),
    (-0.1, ValueError, r"p must be in \[0, 1\)"),
    (float("nan"), ValueError, r"p must be in \[0, 1\), got nan"),
    ("0.5", TypeError, "p must be a probability"),
    (True, TypeError, "p must be a probability"),
])
def test_dropout_refuses_a_p_that_is_not_a_probability(p, error, fragment):
    with pytest.raises(error, match=fragment):
        nn.Dropout(p)


def test_dropout_refuses_a_seed_it_cannot_use():
    with pytest.raises(TypeError, match="seed must be an int"):
        nn.Dropout(0.5, seed=1.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        nn.Dropout(0.5, seed=-1)
    shared = np.random.default_rng(0)
    assert nn.Dropout(0.5, seed=shared).get_config() == {"p": 0.5, "seed": None}
