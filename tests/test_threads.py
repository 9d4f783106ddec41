"""Threads: every switch (grad mode, anomaly mode, name scope) belongs to the thread that set it.

Each test runs bounded loops in a few threads with a tiny switch interval, so that the threads
interleave between almost every bytecode: on an engine with process-wide switches these tests
fail within a few iterations.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import autotensor as at


@pytest.fixture(autouse=True)
def rapid_thread_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_threads(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                errors.append(error)
        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def tanh_network_step(W1: at.Tensor, W2: at.Tensor, X: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One SGD step of a 3-4-1 tanh network written with the engine's ops."""
    loss = (((X @ W1).tanh() @ W2 - y) ** 2).mean()
    loss.backward()
    with at.no_grad():
        W1 -= lr * W1.grad
        W2 -= lr * W2.grad
    W1.grad = W2.grad = None
    return loss.item()


def fresh_weights() -> tuple[at.Tensor, at.Tensor]:
    rng = np.random.default_rng(3)
    return (at.Tensor(rng.normal(size=(3, 4)), requires_grad=True),
            at.Tensor(rng.normal(size=(4, 1)), requires_grad=True))


def test_training_next_to_no_grad_inference_threads_matches_training_alone() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    steps = 300

    alone = fresh_weights()
    expected_losses = [tanh_network_step(*alone, X, y, 0.05) for _ in range(steps)]

    shared = fresh_weights()
    losses: list[float] = []
    done = threading.Event()
    inference_outputs: list[bool] = []

    def train() -> None:
        try:
            for _ in range(steps):
                losses.append(tanh_network_step(*shared, X, y, 0.05))
        finally:
            done.set()

    def infer() -> None:
        while not done.is_set():
            with at.no_grad():
                out = (X @ shared[0].detach()).tanh() @ shared[1].detach()
                inference_outputs.append(out.requires_grad)
            assert at.is_grad_enabled()  # restored in this thread after its block

    run_threads(train, infer, infer)
    assert losses == expected_losses  # every backward ran, every gradient arrived, bit for bit
    np.testing.assert_array_equal(shared[0].data, alone[0].data)
    np.testing.assert_array_equal(shared[1].data, alone[1].data)
    assert inference_outputs and not any(inference_outputs)
    assert at.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_stop_another_thread_recording() -> None:
    started, stop = threading.Event(), threading.Event()
    unrecorded = []

    def hold_no_grad() -> None:
        with at.no_grad():
            started.set()
            stop.wait(timeout=60)

    def record() -> None:
        started.wait(timeout=60)
        x = at.Tensor([1.0, 2.0], requires_grad=True)
        for _ in range(2000):
            if not (x * 2.0).requires_grad:
                unrecorded.append(1)
        stop.set()

    run_threads(hold_no_grad, record)
    assert unrecorded == []


def test_concurrent_backward_on_independent_graphs_gives_each_its_own_gradient() -> None:
    wrong: list[tuple[int, int]] = []

    def worker(seed: int) -> Callable[[], None]:
        def run() -> None:
            rng = np.random.default_rng(seed)
            for step in range(400):
                w = at.Tensor(rng.normal(size=5), requires_grad=True)
                c = rng.normal(size=5)
                ((w * c).tanh().sum() + (w ** 3).sum()).backward()
                expected = c * (1 - np.tanh(w.data * c) ** 2) + 3 * w.data ** 2
                if not np.allclose(w.grad.data, expected, rtol=1e-12, atol=0):
                    wrong.append((seed, step))
        return run

    run_threads(worker(1), worker(2), worker(3))
    assert wrong == []


def test_backward_in_threads_into_shared_leaves_loses_no_contribution() -> None:
    # Large enough that numpy releases the GIL while adding into .grad: without a lock around
    # that read-modify-write, contributions of one thread overwrite another's.
    W = at.Tensor(np.ones((300, 300)), requires_grad=True)
    X = np.ones((2, 300))
    passes = 100

    def accumulate() -> None:
        for _ in range(passes):
            (X @ W).sum().backward()  # d sum(X W) / dW = X^T 1 = 2 everywhere

    run_threads(accumulate, accumulate, accumulate)
    np.testing.assert_array_equal(W.grad.data, np.full((300, 300), 3 * passes * 2.0))


def test_a_backward_running_in_another_thread_leaves_this_threads_grad_mode_alone() -> None:
    done = threading.Event()
    unrecorded = []

    def keep_running_backward() -> None:
        try:
            w = at.Tensor(np.ones(50), requires_grad=True)
            for _ in range(300):
                y = w
                for _ in range(20):
                    y = (y * 0.9).tanh()
                y.sum().backward()
        finally:
            done.set()

    def keep_recording() -> None:
        x = at.Tensor([1.0], requires_grad=True)
        while not done.is_set():
            if not at.is_grad_enabled() or not (x + 1.0).requires_grad:
                unrecorded.append(1)

    run_threads(keep_running_backward, keep_recording)
    assert unrecorded == []


def test_name_scopes_and_anomaly_mode_stay_in_their_thread() -> None:
    inside, leave = threading.Event(), threading.Event()
    seen_scopes: list[str | None] = []

    def scoped_and_anomalous() -> None:
        with at.name_scope("layer1"), at.detect_anomaly():
            inside.set()
            leave.wait(timeout=60)
            assert (at.Tensor([1.0]) * 2.0).scope == "layer1"

    def plain() -> None:
        inside.wait(timeout=60)
        for _ in range(200):
            seen_scopes.append((at.Tensor([1.0]) * 2.0).scope)
            with np.errstate(invalid="ignore"):
                at.log(at.Tensor([-1.0]))  # NaN: raises only where anomaly mode is on
        leave.set()

    run_threads(scoped_and_anomalous, plain)
    assert set(seen_scopes) == {None}


def test_a_new_thread_starts_with_the_defaults_whatever_the_creating_thread_set() -> None:
    seen = {}

    def report() -> None:
        seen["grad"] = at.is_grad_enabled()
        seen["scope"] = (at.Tensor([1.0]) + 1.0).scope

    with at.no_grad(), at.name_scope("outer"):
        run_threads(report)
    assert seen == {"grad": True, "scope": None}
