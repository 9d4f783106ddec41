"""TensorFlow, the background document's framework: a ``tf.function`` step (traced once into a
graph, then run by TensorFlow's executor) with ``tf.GradientTape`` and ``Variable.assign_sub``,
the loss written with ``tf.experimental.numpy``; CPU, float64, one intra-op and one inter-op
thread."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from benchmarks.steps import Implementation, from_the_step
from benchmarks.steps.losses import Loss, mlp_loss, seed_loss
from benchmarks.timing import optional
from benchmarks.workloads import MLPSpec, SeedSpec, TanhSpec

tf = optional("tensorflow")


def _gradient_descent(loss: Loss, spec: MLPSpec | SeedSpec) -> Implementation:
    variables = [tf.Variable(p) for p in spec.params]
    lr = spec.lr

    @tf.function
    def train_step(X: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            value = loss(variables, X, y)
        for variable, gradient in zip(variables, tape.gradient(value, variables)):
            variable.assign_sub(lr * gradient)
        return value

    def restart() -> None:
        for variable, value in zip(variables, spec.params):
            variable.assign(value)

    def read(_: Any) -> list[np.ndarray]:  # the update was p - lr * g
        return [(p0 - variable.numpy()) / lr for p0, variable in zip(spec.params, variables)]

    step = functools.partial(train_step, tf.constant(spec.X), tf.constant(spec.y))
    return from_the_step(step, restart, read)


def mlp(spec: MLPSpec, compiled: bool) -> Implementation:
    return _gradient_descent(mlp_loss(tf.experimental.numpy, spec), spec)


def seed(spec: SeedSpec, compiled: bool) -> Implementation:
    return _gradient_descent(seed_loss(tf.experimental.numpy), spec)


def tanh(spec: TanhSpec, compiled: bool) -> Implementation:
    x = tf.Variable(spec.value)

    @tf.function
    def forward_backward() -> Any:
        with tf.GradientTape() as tape:
            out = tf.tanh(x)
        return tape.gradient(out, x)

    return from_the_step(forward_backward, lambda: None, lambda g: [g.numpy()])
