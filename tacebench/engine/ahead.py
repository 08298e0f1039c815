"""Set-up work done ahead, on threads, while the caller runs the steps before.

A run of several designs (the studies of ``tacebench replicate``, the worlds of one study)
sets each up in the calling process (calibrate, compile) and then waits while the workers
run it. :class:`Ahead` computes the set-ups of the next steps on a thread, in order, while
the caller runs the current one, so the workers do not wait for them; with ``threads`` > 1
it computes several at once (a set-up spends most of its time in numpy, which releases the
GIL: two threads use two cores). A set-up may leave part of its work for later (``later``:
calls the thread makes right after handing the result over, such as a study's audit, which
its report needs only at the end): the caller then starts the step's run as soon as what
the run needs exists. Each set-up is the same call on the same inputs, so the numbers do
not change; an exception is raised when its step's turn comes. :func:`set_up_ahead` is the
iterator over it.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable, Generic, Iterable, Iterator, TypeVar

__all__ = ["Ahead", "set_up_ahead"]

T = TypeVar("T")
R = TypeVar("R")

#: ``fn(item, later)``: the set-up of one item; it may append to ``later`` (a list, or
#: None when it runs in the caller: then it does everything itself) calls that finish its
#: work after its result is handed over
SetUp = Callable[[T, "list[Callable[[], None]] | None"], R]


class Ahead(Generic[T, R]):
    """``fn`` of each item, started in order on ``threads`` threads up to ``depth`` items
    beyond the one the caller last took, handed over in order.

    Parameters
    ----------
    fn : callable
        ``fn(item, later) -> result``; must be safe to run on a thread beside the caller
        (and, with ``threads`` > 1, beside itself on other items). With the thread,
        ``later`` is a list: calls appended to it run on the item's thread right after the
        result is handed over, before that thread's next set-up (they report their own
        errors, e.g. through a future the result holds). Without it, ``later`` is None.
    items : iterable
    depth : int
        Items set up beyond the one the caller takes (at least 1).
    enabled : bool
        False: no thread; ``fn(item, None)`` runs when :meth:`get` is called (for a caller
        that itself runs on one core).
    idle : callable, optional
        Run on a thread once every item is set up: work the caller needs only at its end
        (e.g. importing what its report uses), done while the caller waits for workers.
    name : str
        The threads' name prefix.
    threads : int
        Items set up at once (at least 1; each set-up holds its result in memory until the
        caller takes it).

    Returns
    -------
    Ahead
    """

    def __init__(self, fn: SetUp, items: Iterable[T], depth: int = 1, enabled: bool = True,
                 idle: Callable[[], None] | None = None, name: str = "tacebench-setup",
                 threads: int = 1):
        if depth < 1:
            raise ValueError(f"depth: must be at least 1; got {depth!r}")
        if threads < 1:
            raise ValueError(f"threads: must be at least 1; got {threads!r}")
        self._fn, self._items, self._depth, self._idle = fn, list(items), depth, idle
        self._pool = (ThreadPoolExecutor(threads, thread_name_prefix=name)
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
                self._pool.submit(self._after_all)

    def _after_all(self) -> None:
        # with several threads, set-ups may still run when this call starts
        wait(self._results)
        self._idle()

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


def set_up_ahead(fn: Callable[[T], R], items: Iterable[T], enabled: bool = True,
                 threads: int = 1) -> Iterator[Callable[[], R]]:
    """For each item in order, a callable returning ``fn(item)`` (or raising its error).

    With ``enabled``, ``fn`` of the next ``threads`` items runs on as many threads while
    the caller works with the current one (each started as soon as the caller is handed the
    item ``threads`` before it); without it, ``fn`` runs when the callable is called.

    Parameters
    ----------
    fn : callable
        The set-up of one item; must be safe to run on a thread beside the caller and, with
        ``threads`` > 1, beside itself.
    items : iterable
    enabled : bool
        False: no thread (for a caller that itself runs on one core).
    threads : int
        Items set up ahead, at once.

    Returns
    -------
    iterator of callables
    """
    ahead = Ahead(lambda item, _later: fn(item), items, threads, enabled,
                  name="tacebench-ahead", threads=threads)
    try:
        for i in range(len(ahead)):
            yield lambda i=i: ahead.get(i)
    finally:
        ahead.close()
