"""Warnings recorded per call, each by the thread that raised it.

A study run records the warnings of every (replicate, method) fit in its ``warning`` column,
and a batched fit that warns falls back to one-replicate fits. Recording them with
``warnings.catch_warnings(record=True)`` is right in a worker *process*, but not in worker
*threads* (the ``threading`` backend, a Dask worker with several threads):
``catch_warnings`` swaps process-wide state, the filter list and the function that shows a
warning, on entry, and puts back on exit what it saw on entry. Two threads inside it at once
therefore record each other's warnings, and the one that exits last restores the other's
recorder, which then keeps every later warning of the process to itself (Python before
3.14, whose context-aware warnings are opt-in). Measured: 24 replicates of the default
study, ``--backend threading`` against ``loky``: every number equal, but one row of 9,552
(a CBPS row) carried another thread's "divide by zero" warning.

:func:`record_warnings` keeps the records apart without swapping anything per call. The
blocks of all threads of the process share one count of open blocks, under a lock, as
:mod:`tacebench.engine.blas` shares its BLAS thread count: the first block to open puts an
"always" filter first in the filter list (every occurrence is recorded; none is swallowed by
a module's show-once registry, as under ``simplefilter("always")``) and installs a
``showwarning`` that hands each warning to the innermost open block *of the thread that
raised it*, or to the ``showwarning`` it replaced when that thread has no open block; the
last block to close removes both. While a block is open anywhere, a warning raised on a
thread without one is therefore shown every time it occurs.

Code inside a block that itself enters ``catch_warnings`` (to silence an expected warning)
still swaps the process-wide state while it runs; tacebench's estimators and generators do
not.
"""
from __future__ import annotations

import contextlib
import os
import threading
import warnings
from typing import Iterator

__all__ = ["record_warnings", "describe"]

#: The filter the blocks share (identified by identity, so an equal filter of the caller's
#: is never the one removed).
_ALWAYS = ("always", None, Warning, None, 0)


class _Blocks:
    """The open :func:`record_warnings` blocks of the process, over all its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.local = threading.local()  # .stack: this thread's open blocks' records
        self.replaced = None  # the showwarning the first block replaced
        self.item = None      # the filter the first block inserted

    def _stack(self) -> list:
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        return stack

    def show(self, message, category, filename, lineno, file=None, line=None) -> None:
        """``warnings.showwarning`` while a block is open."""
        stack = getattr(self.local, "stack", None)
        if stack:
            stack[-1].append(warnings.WarningMessage(message, category, filename, lineno,
                                                     file, line))
        elif self.replaced is not None:
            self.replaced(message, category, filename, lineno, file, line)

    def enter(self) -> list:
        records: list = []
        self._stack().append(records)
        with self.lock:
            if self.open == 0:
                self.replaced = warnings.showwarning
                warnings.showwarning = self.show
                self.item = tuple(_ALWAYS)  # a fresh tuple: removed by identity
                warnings.filters.insert(0, self.item)
                _filters_mutated()
            self.open += 1
        return records

    def exit(self, records: list) -> None:
        stack = self._stack()
        if stack and stack[-1] is records:
            stack.pop()
        with self.lock:
            self.open -= 1
            if self.open == 0:
                self._restore()

    def _restore(self) -> None:
        if warnings.showwarning == self.show:  # (unless replaced since, by its replacer)
            warnings.showwarning = self.replaced
        for k, f in enumerate(warnings.filters):
            if f is self.item:
                del warnings.filters[k]
                break
        _filters_mutated()
        self.replaced = self.item = None

    def after_fork(self) -> None:
        """A forked child has no open block (the thread that had one is not in it)."""
        if self.open:
            self._restore()
        self.__init__()


def _filters_mutated() -> None:
    # what catch_warnings calls after changing the list: modules' show-once registries
    # are reset against the new filters
    mutated = getattr(warnings, "_filters_mutated", None)
    if mutated is not None:
        mutated()


_BLOCKS = _Blocks()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_BLOCKS.after_fork)


@contextlib.contextmanager
def record_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning this thread raises inside the block.

    Yields
    ------
    list of warnings.WarningMessage
        Filled as the block runs: each warning raised on this thread (every occurrence),
        in order; a block nested in it on the same thread takes the warnings raised inside
        it. Warnings of other threads are never in it.
    """
    records = _BLOCKS.enter()
    try:
        yield records
    finally:
        _BLOCKS.exit(records)


def describe(records: list[warnings.WarningMessage], limit: int = 500) -> str:
    """The distinct warnings of ``records`` as one sorted ``"Category: message; ..."``
    string, at most ``limit`` characters (a row's ``warning`` column)."""
    return "; ".join(sorted({f"{w.category.__name__}: {w.message}" for w in records}))[:limit]
