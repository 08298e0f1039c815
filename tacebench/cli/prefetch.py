"""``tacebench replicate``'s studies, loaded and set up ahead while the workers run.

A study's set-up (load, audit, calibrate its cohorts, compile its plan: :func:`set_up`) runs
in the calling process; its replicates run on the workers. Done one after the other, the
workers wait for every set-up and the calling process waits for every run. With
``ahead=True`` a thread sets up the studies one after the other, without waiting for the
runs, up to :data:`AHEAD` studies beyond the one being run: set-ups differ more than runs
(a study whose run is shorter than the next one's set-up would leave the workers idle if
only the next study were set up ahead). The set-up is the same function on the same
inputs, so the numbers are the same; reports keep the order of the studies, and a study's
error is raised when its turn comes, as without the thread.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence

from tacebench.api import StudySetup, load_study
from tacebench.replications.study import Study

__all__ = ["AHEAD", "StudyPrefetch"]

#: Studies set up ahead of the one being run (each holds its compiled cohorts and plan).
AHEAD = 4


class StudyPrefetch:
    """Studies ``refs`` loaded (:meth:`study`) and set up (:meth:`setup`), in order."""

    def __init__(self, refs: Sequence, setup: Callable[[Study], StudySetup], ahead: bool):
        self._refs = list(refs)
        self._setup = setup
        self._pool = (ThreadPoolExecutor(1, thread_name_prefix="tacebench-setup")
                      if ahead and len(self._refs) > 1 else None)
        self._loads: dict[int, Future] = {}
        self._setups: dict[int, Future] = {}
        self._submit(0)

    def _submit(self, first: int) -> None:
        """Queue the load and set-up of studies ``first`` to ``first + AHEAD``."""
        for i in range(first, min(first + AHEAD + 1, len(self._refs))):
            if self._pool is None or i in self._loads:
                continue
            self._loads[i] = self._pool.submit(load_study, self._refs[i])
            # one thread: the load has ended (or failed) before the set-up starts
            self._setups[i] = self._pool.submit(self._set_up_loaded, self._loads[i])

    def _set_up_loaded(self, load: Future) -> StudySetup | None:
        if load.exception() is not None:
            return None                  # reported by study(): nothing to set up
        return self._setup(load.result())

    def study(self, i: int) -> Study:
        """Study ``i``, loaded; raises what :func:`load_study` raised."""
        if self._pool is None:
            return load_study(self._refs[i])
        self._submit(i)
        return self._loads[i].result()

    def setup(self, i: int, study: Study) -> StudySetup:
        """Study ``i`` set up; raises what the set-up raised. Queues the set-up of the
        studies up to ``i + 1 + AHEAD``."""
        if self._pool is None:
            return self._setup(study)
        self._submit(i)
        try:
            return self._setups[i].result()
        finally:
            self._submit(i + 1)

    def close(self) -> None:
        """Stop setting up studies no one will ask for (a set-up under way finishes)."""
        if self._pool is not None:
            for f in (*self._loads.values(), *self._setups.values()):
                f.cancel()
            self._pool.shutdown(wait=True)
