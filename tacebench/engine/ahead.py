"""Set-up work done one step ahead, on a thread, while the caller runs the step before.

A run of several designs (the studies of ``tacebench replicate``, the worlds of one study)
sets each up in the calling process (calibrate, compile) and then waits while the workers
run it. :func:`one_ahead` computes the set-up of step ``k + 1`` on a thread while the caller
runs step ``k``, so the workers do not wait for it. Each set-up is the same call on the same
inputs, so the numbers do not change; an exception is raised when its step's turn comes.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

__all__ = ["one_ahead"]

T = TypeVar("T")
R = TypeVar("R")


def one_ahead(fn: Callable[[T], R], items: Iterable[T], enabled: bool = True
              ) -> Iterator[Callable[[], R]]:
    """For each item in order, a callable returning ``fn(item)`` (or raising its error).

    With ``enabled``, ``fn`` of the next item starts on a thread as soon as the caller has
    been handed the current one, so it runs while the caller works; without it, ``fn``
    runs when the callable is called.

    Parameters
    ----------
    fn : callable
        The set-up of one item; must be safe to run on a thread beside the caller.
    items : iterable
    enabled : bool
        False: no thread (for a caller that itself runs on one core).

    Returns
    -------
    iterator of callables
    """
    items = list(items)
    if not enabled or len(items) < 2:
        for item in items:
            yield lambda item=item: fn(item)
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="tacebench-ahead")
    try:
        nxt: Future = pool.submit(fn, items[0])
        for i in range(len(items)):
            current = nxt
            if i + 1 < len(items):
                # queued behind the current one: it starts once that one has ended
                nxt = pool.submit(fn, items[i + 1])
            yield current.result
    finally:
        nxt.cancel()
        pool.shutdown(wait=True)
