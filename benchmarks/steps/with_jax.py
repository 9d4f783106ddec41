"""JAX: ``jax.value_and_grad`` of the loss and the SGD update, jitted as one step (XLA on the CPU,
float64, one thread).  The parameters are immutable arrays, so each step returns new ones; the
step waits for its result (``block_until_ready``), as every other library finishes its step
before returning."""
from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.steps import Implementation, from_the_step
from benchmarks.steps.losses import Loss, mlp_loss, seed_loss
from benchmarks.timing import optional
from benchmarks.workloads import MLPSpec, SeedSpec, TanhSpec

jax = optional("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def _gradient_descent(loss: Loss, spec: MLPSpec | SeedSpec) -> Implementation:
    lr = spec.lr

    @jax.jit
    def train_step(params: list[Any], X: Any, y: Any) -> tuple[list[Any], Any]:
        value, grads = jax.value_and_grad(loss)(params, X, y)
        return [p - lr * g for p, g in zip(params, grads)], value

    start = [jnp.asarray(p) for p in spec.params]
    X, y = jnp.asarray(spec.X), jnp.asarray(spec.y)
    params = list(start)

    def step() -> Any:
        params[:], value = train_step(params, X, y)
        return value.block_until_ready()

    def restart() -> None:
        params[:] = start

    def read(_: Any) -> list[np.ndarray]:  # the update was p - lr * g
        return [(p0 - np.asarray(p)) / lr for p0, p in zip(spec.params, params)]

    return from_the_step(step, restart, read)


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    return _gradient_descent(mlp_loss(jnp, spec), spec)


def seed(spec: SeedSpec, compiled: bool) -> Implementation:
    return _gradient_descent(seed_loss(jnp), spec)


def tanh(spec: TanhSpec, compiled: bool) -> Implementation:
    gradient = jax.jit(jax.grad(lambda x: jnp.sum(jnp.tanh(x))))
    x = jnp.asarray(spec.value)

    def step() -> Any:
        return gradient(x).block_until_ready()

    return from_the_step(step, lambda: None, lambda g: [np.asarray(g)])
