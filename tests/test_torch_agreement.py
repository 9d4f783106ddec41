"""Values, gradients and Hessian-vector products agree with PyTorch (float64), when installed."""
import numpy as np
import pytest

import autotensor as at

torch = pytest.importorskip("torch")

RTOL = 1e-8


def _t(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


# (name, autotensor function, torch function, input shapes, input generator)
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(2, 3), (3,)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(4, 1), (1, 3)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(2, 3), (2, 1)]),
    ("div", lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1), [(2, 3), (3,)]),
    ("pow", lambda a, b: (a * a + 1) ** b, lambda a, b: (a * a + 1) ** b, [(2, 3), (2, 3)]),
    ("exp-log-sqrt", lambda a: (a.exp() + 1).log().sqrt(), lambda a: (a.exp() + 1).log().sqrt(), [(3, 2)]),
    ("abs-neg", lambda a: -(a.abs()), lambda a: -(a.abs()), [(5,)]),
    ("tanh", lambda a: a.tanh(), torch.tanh, [(2, 3)]),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid, [(2, 3)]),
    ("relu", lambda a: a.relu(), torch.relu, [(2, 3)]),
    ("leaky_relu", lambda a: at.leaky_relu(a, 0.1), lambda a: torch.nn.functional.leaky_relu(a, 0.1), [(2, 3)]),
    ("softplus", lambda a: a.softplus(), torch.nn.functional.softplus, [(2, 3)]),
    ("maximum", at.maximum, torch.maximum, [(2, 3), (3,)]),
    ("minimum", at.minimum, torch.minimum, [(2, 3), (2, 3)]),
    ("clip", lambda a: a.clip(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [(2, 3)]),
    ("matmul 2d", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 2)]),
    ("matmul batched", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    ("matmul 1d", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 3)]),
    ("sum axis", lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [(3, 4)]),
    ("mean keepdims", lambda a: a.mean(axis=0, keepdims=True), lambda a: a.mean(dim=0, keepdim=True), [(3, 4)]),
    ("max axis", lambda a: a.max(axis=1), lambda a: a.amax(dim=1), [(3, 4)]),
    ("min all", lambda a: a.min(), lambda a: a.amin(), [(3, 4)]),
    ("logsumexp", lambda a: a.logsumexp(axis=1), lambda a: torch.logsumexp(a, dim=1), [(3, 4)]),
    ("softmax", lambda a: a.softmax(axis=-1), lambda a: torch.softmax(a, dim=-1), [(3, 4)]),
    ("log_softmax", lambda a: a.log_softmax(axis=0), lambda a: torch.log_softmax(a, dim=0), [(3, 4)]),
    ("reshape-transpose", lambda a: a.reshape(4, 3).T, lambda a: a.reshape(4, 3).T, [(2, 6)]),
    ("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), lambda a: a.expand(2, 3, 4), [(3, 1)]),
    ("getitem", lambda a: a[np.array([0, 2, 2]), 1:], lambda a: a[torch.tensor([0, 2, 2]), 1:], [(3, 4)]),
    ("concatenate", lambda a, b: at.concatenate([a, b], axis=1), lambda a, b: torch.cat([a, b], dim=1), [(2, 1), (2, 3)]),
    ("stack", lambda a, b: at.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1), [(2, 3), (2, 3)]),
    ("where", lambda a, b: at.where(np.array([True, False, True]), a, b),
     lambda a, b: torch.where(torch.tensor([True, False, True]), a, b), [(2, 3), (3,)]),
    ("mlp", lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(),
     lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(), [(5, 3), (3, 2), (2,)]),
]


@pytest.mark.parametrize("name, ours, theirs, shapes", CASES, ids=[c[0] for c in CASES])
def test_values_gradients_and_hessian_vector_products_agree_with_torch(name, ours, theirs, shapes):
    rng = np.random.default_rng(7)
    inputs = [rng.uniform(-1.5, 1.5, size=s) + 0.01 * np.arange(np.prod(s)).reshape(s) for s in shapes]
    mine = [at.Tensor(x.copy(), requires_grad=True) for x in inputs]
    torch_inputs = [_t(x) for x in inputs]
    out, torch_out = ours(*mine), theirs(*torch_inputs)
    np.testing.assert_allclose(out.data, torch_out.detach().numpy(), rtol=RTOL, atol=1e-12)

    upstream = rng.normal(size=out.shape)
    grads = at.grad(out, mine, grad_outputs=upstream, create_graph=True)
    torch_grads = torch.autograd.grad(torch_out, torch_inputs, grad_outputs=torch.tensor(upstream), create_graph=True)
    for g, tg in zip(grads, torch_grads):
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=RTOL, atol=1e-12)

    # Hessian-vector product: d/dx <grad(x), v>.
    vectors = [rng.normal(size=x.shape) for x in inputs]
    live = [(g, v) for g, v in zip(grads, vectors) if g.requires_grad]
    torch_live = [(tg, v) for tg, v in zip(torch_grads, vectors) if tg.requires_grad]
    if not live:
        return
    hvp = at.grad(sum((g * v).sum() for g, v in live), mine, allow_unused=True)
    torch_hvp = torch.autograd.grad(sum((tg * torch.tensor(v)).sum() for tg, v in torch_live), torch_inputs,
                                    allow_unused=True)
    for h, th in zip(hvp, torch_hvp):
        expected = np.zeros_like(inputs[0]) if th is None else th.numpy()
        if h is None:
            np.testing.assert_allclose(expected, 0.0, atol=1e-12)
        else:
            np.testing.assert_allclose(h.data, expected, rtol=RTOL, atol=1e-12)


def test_seed_network_gradients_agree_with_torch():
    from nn.backprop import seed_example as seed

    mine = [at.Tensor(w.copy(), requires_grad=True) for w in seed.WEIGHTS]
    seed.cost(seed.forward(mine)[0]).backward()
    theirs = [_t(w) for w in seed.WEIGHTS]
    a = torch.tensor(seed.X)
    for W in theirs:
        a = torch.tanh(torch.cat([a, torch.ones(a.shape[0], 1, dtype=torch.float64)], dim=1) @ W)
    (0.5 * (torch.tensor(seed.Y) - a) ** 2).sum().backward()
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.grad.data, t.grad.numpy(), rtol=RTOL)
