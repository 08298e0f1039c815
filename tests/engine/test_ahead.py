"""tacebench.engine.ahead: set-ups computed ahead, handed over in order, errors at their turn."""
from __future__ import annotations

import threading

import pytest

from tacebench.engine import Ahead, set_up_ahead


@pytest.mark.parametrize("enabled, at_once", [(False, 1), (True, 1), (True, 2), (True, 3)])
def test_results_and_errors_come_in_order(enabled, at_once):
    calls, threads = [], set()

    def fn(x):
        calls.append(x)
        threads.add(threading.current_thread().name)
        if x == 2:
            raise KeyError("two")
        return 10 * x

    got = []
    for get in set_up_ahead(fn, [0, 1, 2, 3], enabled, at_once):
        try:
            got.append(get())
        except KeyError:
            got.append("error")
    assert got == [0, 10, "error", 30]
    assert sorted(calls) == [0, 1, 2, 3]
    assert calls == [0, 1, 2, 3] or at_once > 1   # one thread: in order
    assert any(t.startswith("tacebench-ahead") for t in threads) == enabled


def test_the_next_set_up_runs_while_the_caller_works():
    started = threading.Event()

    def fn(x):
        if x == 1:
            started.set()
        return x

    steps = set_up_ahead(fn, [0, 1], True)
    assert next(steps)() == 0
    # the caller holds step 0: step 1 is being set up without being asked for
    assert started.wait(10)
    assert next(steps)() == 1


def test_with_two_threads_two_set_ups_run_at_once_while_the_caller_works():
    both = threading.Barrier(2, timeout=10)    # broken if the two never run together

    def fn(x):
        if x in (1, 2):
            both.wait()
        return x

    steps = set_up_ahead(fn, [0, 1, 2, 3], True, threads=2)
    assert next(steps)() == 0
    assert next(steps)() == 1
    assert not both.broken
    assert [get() for get in steps] == [2, 3]


def test_with_several_threads_idle_runs_once_every_item_is_set_up():
    release, order = threading.Event(), []

    def fn(x, later):
        if x == 0:
            release.wait(10)              # item 0 ends after item 1 started and ended
        order.append(x)
        return x

    ahead = Ahead(fn, [0, 1], depth=2, threads=2, idle=lambda: order.append("idle"))
    try:
        assert ahead.get(1) == 1
        release.set()
        assert ahead.get(0) == 0
    finally:
        ahead.close()
    assert order == [1, 0, "idle"]


def test_threads_must_be_at_least_one():
    with pytest.raises(ValueError, match="threads"):
        Ahead(lambda x, later: x, [0, 1], threads=0)


def test_later_calls_and_idle_run_on_the_thread_after_the_hand_over():
    order, handed = [], threading.Event()

    def fn(x, later):
        order.append(("set up", x))
        if later is not None:
            later.append(lambda: (handed.wait(10), order.append(("later", x))))
        return x

    ahead = Ahead(fn, [0, 1], depth=1, enabled=True, idle=lambda: order.append("idle"))
    try:
        assert ahead.get(0) == 0        # handed over before its later call has run
        assert ("later", 0) not in order
        handed.set()
        assert ahead.get(1) == 1
    finally:
        ahead.close()
    assert order == [("set up", 0), ("later", 0), ("set up", 1), ("later", 1), "idle"]


def test_without_the_thread_an_item_is_set_up_once_however_often_asked():
    calls = []

    def fn(x, later):
        assert later is None
        calls.append(x)
        if x == 1:
            raise KeyError("one")
        return x

    ahead = Ahead(fn, [0, 1], enabled=False)
    assert ahead.get(0) == ahead.get(0) == 0
    for _ in range(2):
        with pytest.raises(KeyError):
            ahead.get(1)
    assert calls == [0, 1]
