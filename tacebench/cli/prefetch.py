"""``tacebench replicate``'s studies, loaded and set up ahead while the workers run.

A study's set-up (load, audit, calibrate its cohorts, compile its plan: :func:`set_up`) runs
in the calling process; its replicates run on the workers. Done one after the other, the
workers wait for every set-up and the calling process waits for every run. With
``ahead=True`` a thread (:class:`tacebench.engine.Ahead`) sets up the studies one after the
other, without waiting for the runs, up to :data:`AHEAD` studies beyond the one being run:
set-ups differ more than runs (a study whose run is shorter than the next one's set-up
would leave the workers idle if only the next study were set up ahead). Each study is
handed over as soon as its run can start (generator and plan); its audit and calibration
checks, which only its summary and report need, follow on the thread while the run goes.
Once every study is set up the thread runs ``idle`` (the report's imports). The set-up is
the same function on the same inputs, so the numbers are the same; reports keep the order
of the studies, and a study's error is raised when its turn comes, as without the thread.
"""
from __future__ import annotations

from typing import Callable, Sequence

from tacebench.api import StudySetup, load_study
from tacebench.engine import Ahead
from tacebench.replications.study import Study

__all__ = ["AHEAD", "StudyPrefetch"]

#: Studies set up ahead of the one being run (each holds its compiled cohorts and plan).
AHEAD = 4

#: ``setup(study, later)``: :func:`set_up` with the command's options (``later`` as there)
SetUp = Callable[[Study, "list | None"], StudySetup]


class StudyPrefetch:
    """Studies ``refs`` loaded (:meth:`study`) and set up (:meth:`setup`), in order."""

    def __init__(self, refs: Sequence, setup: SetUp, ahead: bool,
                 idle: Callable[[], None] | None = None):
        self._setup = setup
        self._ahead = Ahead(self._load_and_set_up, refs, AHEAD + 1, ahead, idle)

    def _load_and_set_up(self, ref, later):
        """(study or its load error, set-up or its error): a study that does not load is
        not set up."""
        try:
            study = load_study(ref)
        except Exception as exc:  # raised by study() at the study's turn
            return exc, None
        try:
            return study, self._setup(study, later)
        except Exception as exc:  # raised by setup()
            return study, exc

    def study(self, i: int) -> Study:
        """Study ``i``, loaded; raises what :func:`load_study` raised."""
        study, _ = self._ahead.get(i)
        if isinstance(study, Exception):
            raise study
        return study

    def setup(self, i: int, study: Study) -> StudySetup:
        """Study ``i`` set up (``study``: :meth:`study`'s); raises what the set-up raised.
        Queues the set-ups of the studies up to ``i + 1 + AHEAD``."""
        _, setup = self._ahead.get(i)
        if isinstance(setup, Exception):
            raise setup
        return setup

    def close(self) -> None:
        """Stop setting up studies no one will ask for (a set-up under way finishes)."""
        self._ahead.close()
