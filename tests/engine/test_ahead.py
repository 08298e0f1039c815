"""tacebench.engine.ahead: set-ups computed one step ahead, in order, errors at their turn."""
from __future__ import annotations

import threading

import pytest

from tacebench.engine import one_ahead


@pytest.mark.parametrize("enabled", [False, True])
def test_results_and_errors_come_in_order(enabled):
    calls, threads = [], set()

    def fn(x):
        calls.append(x)
        threads.add(threading.current_thread().name)
        if x == 2:
            raise KeyError("two")
        return 10 * x

    got = []
    for get in one_ahead(fn, [0, 1, 2, 3], enabled):
        try:
            got.append(get())
        except KeyError:
            got.append("error")
    assert got == [0, 10, "error", 30]
    assert calls == [0, 1, 2, 3]
    assert any(t.startswith("tacebench-ahead") for t in threads) == enabled


def test_the_next_set_up_runs_while_the_caller_works():
    started = threading.Event()

    def fn(x):
        if x == 1:
            started.set()
        return x

    steps = one_ahead(fn, [0, 1], True)
    assert next(steps)() == 0
    # the caller holds step 0: step 1 is being set up without being asked for
    assert started.wait(10)
    assert next(steps)() == 1
