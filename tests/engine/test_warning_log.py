"""tacebench.engine.warning_log: a block records the warnings of its own thread, every
occurrence, and leaves the process's warning state as it found it."""
from __future__ import annotations

import threading
import warnings

import numpy as np

from tacebench.engine import describe_warnings, record_warnings
from tacebench.engine.warning_log import _Blocks


def _warn(text: str) -> None:
    warnings.warn(text, RuntimeWarning, stacklevel=1)  # one source line for every text


def _interleaved(recorder) -> dict[str, list]:
    """Two threads in two blocks at once, forced into the order that mixes records under
    ``catch_warnings``: A opens, B opens, B warns, A warns, A closes, B warns, B closes.
    Returns each block's record (the list itself)."""
    got: dict[str, list] = {}
    steps = [threading.Event() for _ in range(4)]

    def a():
        with recorder() as got["A"]:
            steps[0].set()
            steps[1].wait(5)
            _warn("from A")
            steps[2].set()
        steps[3].set()

    def b():
        steps[0].wait(5)
        with recorder() as got["B"]:
            _warn("from B, first")
            steps[1].set()
            steps[2].wait(5)
            steps[3].wait(5)
            _warn("from B, second")

    threads = [threading.Thread(target=f) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return got


def _texts(records: list) -> list[str]:
    return [str(w.message) for w in records]


def test_each_thread_records_only_its_own_warnings():
    filters, show = list(warnings.filters), warnings.showwarning
    got = _interleaved(record_warnings)
    assert {k: _texts(v) for k, v in got.items()} == {
        "A": ["from A"], "B": ["from B, first", "from B, second"]}
    assert warnings.filters == filters and warnings.showwarning == show


def _catch_warnings_recorder():
    """What the study runner used before: ``catch_warnings(record=True)``."""
    import contextlib

    @contextlib.contextmanager
    def rec():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    return rec


def test_catch_warnings_mixes_the_same_interleaving():
    # the failure the module exists for, on the same schedule: A's warning lands in B's
    # record, B's second one is lost (A's exit put back the filters from before both), and
    # B's exit leaves A's closed record installed, which swallows a later warning
    with warnings.catch_warnings():  # put back whatever the two blocks leave behind
        warnings.simplefilter("ignore")
        got = _interleaved(_catch_warnings_recorder())
        _warn("after both blocks")
    assert {k: _texts(v) for k, v in got.items()} == {
        "A": ["after both blocks"], "B": ["from B, first", "from A"]}


def test_every_occurrence_is_recorded_and_state_restored():
    filters, show = list(warnings.filters), warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # a show-once registry that would swallow repeats
        before_block = list(warnings.filters)
        with warnings.catch_warnings(record=True) as outside:
            warnings.simplefilter("default")
            _warn("twice")
            _warn("twice")  # in the registry of this module now: not shown again
            with record_warnings() as rec:
                for _ in range(2):
                    _warn("twice")
        assert _texts(outside) == ["twice"]
        assert _texts(rec) == ["twice", "twice"]
        assert warnings.filters == before_block
    assert warnings.filters == filters and warnings.showwarning == show


def test_nested_blocks_and_describe():
    with record_warnings() as outer:
        _warn("outer")
        with record_warnings() as inner:
            _warn("inner")
            warnings.warn("inner", UserWarning, stacklevel=1)
    assert _texts(outer) == ["outer"]
    assert describe_warnings(inner) == "RuntimeWarning: inner; UserWarning: inner"
    assert describe_warnings(inner, limit=10) == "RuntimeWar"


def test_a_thread_without_a_block_is_shown_as_before():
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        inside_started, other_done = threading.Event(), threading.Event()

        def other():
            inside_started.wait(5)
            _warn("no block here")
            other_done.set()

        t = threading.Thread(target=other)
        t.start()
        with record_warnings() as rec:
            inside_started.set()
            other_done.wait(5)
            _warn("in the block")
        t.join(5)
    assert _texts(rec) == ["in the block"]
    assert _texts(outside) == ["no block here"]


def test_numpy_floating_point_warnings_are_recorded():
    with record_warnings() as rec, np.errstate(divide="warn"):
        np.divide(1.0, np.zeros(1))
    assert describe_warnings(rec) == "RuntimeWarning: divide by zero encountered in divide"


def test_a_forked_child_starts_with_no_block():
    blocks = _Blocks()
    filters, show = list(warnings.filters), warnings.showwarning
    blocks.enter()
    assert warnings.filters[0] is blocks.item and warnings.showwarning == blocks.show
    blocks.after_fork()  # as os.register_at_fork calls it in the child
    assert warnings.filters == filters and warnings.showwarning == show
    assert blocks.open == 0 and blocks.item is None
