"""``at.set_grad_enabled(mode)``: a plain call that switches this thread's grad mode until
changed, a context manager that restores the previous mode on exit, and a decorator that sets
the mode for each call of the function only."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import autotensor as at

W = at.Tensor([1.0, 2.0], requires_grad=True)


def records() -> bool:
    """Whether an op on a tensor that requires grad records its node now."""
    return (W * 2.0).requires_grad


@pytest.fixture(autouse=True)
def recording_restored() -> Iterator[None]:
    yield
    at.set_grad_enabled(True)  # a failed test must not leave the thread without recording


def test_a_plain_call_switches_the_mode_until_it_is_changed_again() -> None:
    at.set_grad_enabled(False)
    assert not at.is_grad_enabled() and not records()
    assert not records()  # still off: the call has no end
    at.set_grad_enabled(True)
    assert at.is_grad_enabled() and records()


def test_as_a_context_manager_it_restores_the_previous_mode_on_exit_and_on_error() -> None:
    with at.set_grad_enabled(False):
        assert not records()
        with at.set_grad_enabled(True):
            assert records()
        assert not records()
    assert records()
    with pytest.raises(KeyError), at.set_grad_enabled(False):
        raise KeyError("inside")
    assert records()
    with at.no_grad():
        with at.set_grad_enabled(True):
            assert records()
        assert not records()


def test_the_mode_is_taken_as_a_truth_value() -> None:
    with at.set_grad_enabled(0):
        assert at.is_grad_enabled() is False
    with at.no_grad(), at.set_grad_enabled(1):
        assert at.is_grad_enabled() is True


def test_as_a_decorator_it_sets_the_mode_for_each_call_only() -> None:
    seen = []

    @at.set_grad_enabled(False)
    def evaluate(depth: int) -> None:
        seen.append(records())
        if depth:
            evaluate(depth - 1)
        seen.append(records())

    assert records()  # decorating switched nothing
    evaluate(2)
    assert seen == [False] * 6 and records()
    with at.no_grad():

        @at.set_grad_enabled(True)
        def train() -> bool:
            return records()

        assert train() and not records()


def test_it_switches_only_the_calling_threads_mode() -> None:
    switched, checked = threading.Event(), threading.Event()
    found: dict[str, bool] = {}

    def switches_off() -> None:
        at.set_grad_enabled(False)
        found["other thread, after its call"] = records()
        switched.set()
        checked.wait(timeout=30)
        found["other thread, later"] = records()

    def starts_fresh() -> None:
        found["new thread"] = records()

    with at.no_grad():  # the creating thread's mode is not inherited either
        worker = threading.Thread(target=starts_fresh)
        worker.start()
        worker.join(timeout=30)
    thread = threading.Thread(target=switches_off)
    thread.start()
    switched.wait(timeout=30)
    found["this thread"] = records()
    checked.set()
    thread.join(timeout=30)
    assert found == {"new thread": True, "other thread, after its call": False, "this thread": True,
                     "other thread, later": False}
