"""A run set up ahead (replications.reproduce.prepare_run, tacebench.api.set_up) gives the
numbers of a run that sets itself up."""
from __future__ import annotations

from pathlib import Path

import pytest

from tacebench.api import load_study, replicate, set_up
from tacebench.replications.reproduce import calibration_of, prepare_run, reproduce

FICTIONAL = Path(__file__).parent / "fictional_study"
RUN = dict(reps=12, seed=3, decompose_reps=4, max_reps=12)


def _numbers(report) -> dict:
    d = report.to_dict()
    d.pop("elapsed_seconds", None)
    return d


def test_set_up_ahead_gives_the_same_report():
    study = load_study(FICTIONAL)
    own = replicate(study, n_jobs=1, worlds="none", **RUN)
    ahead = replicate(set_up(FICTIONAL, reps=12, seed=3, decompose_reps=4), n_jobs=1,
                      worlds="none", **RUN)
    assert _numbers(ahead) == _numbers(own)
    assert ahead.result.elapsed >= 0


def test_a_set_up_for_another_run_is_refused():
    study = load_study(FICTIONAL)
    prepared = prepare_run(study, seed=3, decompose_reps=4)
    with pytest.raises(ValueError, match="prepared: set up for .* seed 3, decompose_reps 4"):
        reproduce(study, reps=12, seed=4, decompose_reps=4, prepared=prepared)
    with pytest.raises(ValueError, match="decompose_reps 2"):
        reproduce(study, reps=12, seed=3, decompose_reps=2, prepared=prepared)


def test_audit_and_checks_left_for_later_give_the_same_report():
    """The run starts before its audit and calibration checks exist; the calls ``later``
    holds compute them (here after the run has been asked for, on another thread, as
    tacebench replicate's set-up thread does) and the report is the same."""
    import threading

    study = load_study(FICTIONAL)
    own = replicate(study, n_jobs=1, worlds="none", **RUN)
    later = []
    setup = set_up(FICTIONAL, reps=12, seed=3, decompose_reps=4, later=later)
    assert len(later) == 2 and callable(setup.audit) and callable(setup.prepared.checks)
    finish = threading.Thread(target=lambda: [call() for call in later])
    finish.start()
    try:
        report = replicate(setup, n_jobs=1, worlds="none", **RUN)
    finally:
        finish.join()
    assert _numbers(report) == _numbers(own)
    assert setup.prepared.calibration().keys() == calibration_of(setup.prepared.generate).keys()


def test_an_error_of_a_call_left_for_later_is_raised_by_the_run(monkeypatch):
    from tacebench import api

    def broken(targets):
        raise RuntimeError("audit broke")

    monkeypatch.setattr(api, "audit_study", broken)
    later = []
    setup = set_up(FICTIONAL, reps=12, seed=3, decompose_reps=4, later=later)
    for call in later:
        call()
    with pytest.raises(RuntimeError, match="audit broke"):
        replicate(setup, n_jobs=1, worlds="none", **RUN)
