"""Set-up work done ahead, on a thread, while the caller runs the steps before.

A run of several designs (the studies of ``tacebench replicate``, the worlds of one study)
sets each up in the calling process (calibrate, compile) and then waits while the workers
run it. :class:`Ahead` computes the set-ups of the next steps on one thread, in order, while
the caller runs the current one, so the workers do not wait for them. A set-up may leave
part of its work for later (``later``: calls the thread makes right after handing the
result over, such as a study's audit, which its report needs only at the end): the caller
then starts the step's run as soon as what the run needs exists. Each set-up is the same
call on the same inputs, so the numbers do not change; an exception is raised when its
step's turn comes. :func:`one_ahead` is the one-step-ahead iterator over it.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Generic, Iterable, Iterator, TypeVar

__all__ = ["Ahead", "one_ahead"]

T = TypeVar("T")
R = TypeVar("R")

#: ``fn(item, later)``: the set-up of one item; it may append to ``later`` (a list, or
#: None when it runs in the caller: then it does everything itself) calls that finish its
#: work after its result is handed over
SetUp = Callable[[T, "list[Callable[[], None]] | None"], R]


class Ahead(Generic[T, R]):
    """``fn`` of each item, computed in order on one thread up to ``depth`` items beyond the
    one the caller last took.

    Parameters
    ----------
    fn : callable
        ``fn(item, later) -> result``; must be safe to run on a thread beside the caller.
        With the thread, ``later`` is a list: calls appended to it run on the thread right
        after the result is handed over, before the next item's set-up (they report their
        own errors, e.g. through a future the result holds). Without it, ``later`` is None.
    items : iterable
    depth : int
        Items set up beyond the one the caller takes (at least 1).
    enabled : bool
        False: no thread; ``fn(item, None)`` runs when :meth:`get` is called (for a caller
        that itself runs on one core).
    idle : callable, optional
        Run on the thread once every item is set up: work the caller needs only at its end
        (e.g. importing what its report uses), done while the caller waits for workers.
    name : str
        The thread's name prefix.

    Returns
    -------
    Ahead
    """

    def __init__(self, fn: SetUp, items: Iterable[T], depth: int = 1, enabled: bool = True,
                 idle: Callable[[], None] | None = None, name: str = "tacebench-setup"):
        if depth < 1:
            raise ValueError(f"depth: must be at least 1; got {depth!r}")
        self._fn, self._items, self._depth, self._idle = fn, list(items), depth, idle
        self._pool = (ThreadPoolExecutor(1, thread_name_prefix=name)
                      if enabled and len(self._items) > 1 else None)
        self._results: list[Future] = []
        self._last: tuple | None = None      # without the thread: (i, result, error)
        self._queue(depth - 1)

    def __len__(self) -> int:
        return len(self._items)

    def _queue(self, last: int) -> None:
        """Queue the set-ups of the items up to ``last``, and after the final one ``idle``."""
        if self._pool is None:
            return
        for i in range(len(self._results), min(last + 1, len(self._items))):
            f: Future = Future()
            self._results.append(f)
            self._pool.submit(self._step, i, f)
            if i == len(self._items) - 1 and self._idle is not None:
                self._pool.submit(self._idle)

    def _step(self, i: int, result: Future) -> None:
        if not result.set_running_or_notify_cancel():
            return                       # closed before its turn
        later: list[Callable[[], None]] = []
        try:
            result.set_result(self._fn(self._items[i], later))
        except BaseException as exc:     # raised to the caller when it takes item i
            result.set_exception(exc)
            return
        for call in later:
            call()

    def get(self, i: int) -> R:
        """Item ``i``'s set-up (raising what it raised); queues the set-ups up to
        ``i + depth``. Without the thread the last item asked for is kept, so asking again
        does not set it up twice."""
        if self._pool is None:           # set up now, once (asked for again: the same)
            if self._last is None or self._last[0] != i:
                self._last = None
                try:
                    self._last = (i, self._fn(self._items[i], None), None)
                except Exception as exc:
                    self._last = (i, None, exc)
            if self._last[2] is not None:
                raise self._last[2]
            return self._last[1]
        self._queue(i + self._depth)
        return self._results[i].result()

    def close(self) -> None:
        """Stop setting up items no one will ask for (a set-up under way finishes)."""
        if self._pool is not None:
            for f in self._results:
                f.cancel()
            self._pool.shutdown(wait=True, cancel_futures=True)


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
    ahead = Ahead(lambda item, _later: fn(item), items, 1, enabled, name="tacebench-ahead")
    try:
        for i in range(len(ahead)):
            yield lambda i=i: ahead.get(i)
    finally:
        ahead.close()
