"""The front door (tacebench.replicate, set_up, simulate_cohorts, load_study): bad
arguments are named, all at once, before any work."""
from __future__ import annotations

import numpy as np
import pytest

import tacebench
from tacebench import api
from tacebench.estimators import InputTypeError

BAD = [("reps", "10"), ("reps", 1), ("reps", True), ("seed", -1), ("seed", 1.5),
       ("n_jobs", 0), ("n_jobs", "2"), ("decompose_reps", -1), ("max_reps", "x"),
       ("worlds", "bogus"), ("audit_only", "yes"), ("world_uncertainty", 1),
       ("reps", 10 ** 20), ("max_reps", 10 ** 7)]       # beyond engine.MAX_REPS


@pytest.fixture
def no_work(monkeypatch):
    """Any study loaded or replicate run fails the test: the check comes first."""
    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")
    for name in ("_load_study", "reproduce", "load_spec"):
        monkeypatch.setattr(api, name, forbidden)


@pytest.mark.parametrize("name, value", BAD)
def test_replicate_names_a_bad_argument_before_any_work(no_work, name, value):
    kwargs = {"reps": 10, name: value}
    with pytest.raises(ValueError, match=rf"^{name}: must be .*; got {value!r}$"):
        tacebench.replicate("tace_regorafenib", **kwargs)


def test_every_bad_argument_is_named_in_one_error(no_work):
    with pytest.raises(ValueError) as err:
        tacebench.replicate("tace_regorafenib", reps=1, seed=-1, worlds="x", n_jobs=0)
    named = [part.split(":")[0] for part in str(err.value).split("; ") if ": must be" in part]
    assert named == ["reps", "seed", "n_jobs", "worlds"]


def test_a_cap_below_reps_is_refused_not_raised_to_reps(no_work):
    """max_reps=10 with reps=30 ran 30 replicates without a word."""
    with pytest.raises(ValueError, match=r"^max_reps: must be at least reps \(30\).*got 10$"):
        tacebench.replicate("tace_regorafenib", reps=30, max_reps=10)


@pytest.mark.parametrize("kwargs", [{"n_cohorts": 0}, {"seed": "a"}])
def test_simulate_cohorts_names_a_bad_argument(no_work, kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=rf"^{name}: must be"):
        tacebench.simulate_cohorts("tace_regorafenib", **kwargs)


WRONG_TYPE = [(tacebench.simulate_cohorts, "with_ps", "no"), (tacebench.simulate_cohorts, "n_cohorts", "3"),
              (tacebench.simulate_cohorts, "seed", 1.0), (tacebench.replicate, "reps", "10"),
              (tacebench.replicate, "n_jobs", 2.0), (tacebench.replicate, "worlds", 1),
              (tacebench.replicate, "audit_only", 1), (tacebench.replicate, "max_reps", "x"),
              (tacebench.replicate, "progress", 5)]


@pytest.mark.parametrize("call, name, value", WRONG_TYPE)
def test_a_wrong_type_is_an_input_type_error_as_documented(no_work, call, name, value):
    """docs/design.md: an argument of the wrong type is an InputTypeError (a TypeError and
    a ValueError); a right type with a wrong value stays a plain ValueError."""
    with pytest.raises(InputTypeError, match=rf"^{name}: must be .*; got {value!r}$"):
        call("tace_regorafenib", **{name: value})
    with pytest.raises(ValueError) as err:
        call("tace_regorafenib", n_jobs=0) if call is tacebench.replicate else call(
            "tace_regorafenib", n_cohorts=0)
    assert not isinstance(err.value, TypeError)
    with pytest.raises(InputTypeError, match="study: must be"):
        call(123)


def test_numpy_integers_are_integers_everywhere():
    """n_cohorts=np.int64(2) was refused ("must be an integer >= 1; got np.int64(2)")
    while seed took numpy integers."""
    a = tacebench.simulate_cohorts("tace_regorafenib", n_cohorts=np.int64(2), seed=np.uint32(4),
                                   with_ps=np.bool_(False))
    b = tacebench.simulate_cohorts("tace_regorafenib", n_cohorts=2, seed=4, with_ps=False)
    assert len(a) == 2 and all(x.to_frame().equals(y.to_frame()) for x, y in zip(a, b))
    assert api._check_arguments(reps=np.int16(5), n_jobs=np.int64(-1), max_reps=np.int64(9),
                                decompose_reps=np.uint8(0)) == {
        "reps": 5, "n_jobs": -1, "max_reps": 9, "decompose_reps": 0}
    assert all(type(v) is int for v in api._check_arguments(reps=np.int16(5), seed=np.int64(1)).values())


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_study_path_is_refused_by_name(empty):
    """load_study("") read the current folder and reported "3 problems in the study
    folder" without naming it."""
    for call in (tacebench.load_study, tacebench.simulate_cohorts, tacebench.replicate):
        with pytest.raises(ValueError, match=rf"^study: {empty!r} is empty: give a study folder"):
            call(empty)


def test_load_study_names_a_value_that_is_no_study():
    with pytest.raises(ValueError, match="study: must be .*; got 123"):
        tacebench.load_study(123)


def test_a_numpy_integer_seed_is_a_seed():
    setup = api.set_up("tace_regorafenib", reps=10, seed=np.int64(3), audit_only=True)
    assert setup.study.id == "tace_regorafenib"


@pytest.mark.parametrize("name", ["tacebench", "tacebench.estimators",
                                  "tacebench.estimators.survival", "tacebench.estimators.batch"])
def test_a_lazy_package_lists_its_public_names_not_its_imports(name):
    """dir() listed annotations, import_module, sys and types beside the public names."""
    import importlib
    import types

    mod = importlib.import_module(name)
    public = {n for n in dir(mod) if not n.startswith("_")}
    assert set(mod.__all__) <= public
    extra = {n for n in public - set(mod.__all__)
             if not (isinstance(getattr(mod, n), types.ModuleType)
                     and getattr(mod, n).__name__.startswith(f"{name}."))}
    assert extra == set()
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mod.nope


@pytest.mark.parametrize("kwargs, name", [({"with_ps": "no"}, "with_ps"),
                                          ({"progress": 5}, "progress")])
def test_a_flag_or_callback_of_the_wrong_type_is_named(no_work, kwargs, name):
    """with_ps="no" computed the propensity scores (a truthy string); progress=5 failed
    deep inside the run with "'int' object is not callable"."""
    call = tacebench.simulate_cohorts if name == "with_ps" else tacebench.replicate
    with pytest.raises(ValueError, match=rf"^{name}: must be .*; got {kwargs[name]!r}$"):
        call("tace_regorafenib", **kwargs)


def test_simulate_cohorts_takes_a_loaded_study_and_names_other_values():
    """A Study from load_study (which replicate takes) was a TypeError of pathlib's."""
    study = tacebench.load_study("tace_regorafenib")
    a = tacebench.simulate_cohorts(study, seed=4, with_ps=False)[0]
    b = tacebench.simulate_cohorts("tace_regorafenib", seed=4, with_ps=False)[0]
    assert a.to_frame().equals(b.to_frame())
    with pytest.raises(ValueError, match=r"study: must be .*; got \['tace_regorafenib'\]"):
        tacebench.simulate_cohorts(["tace_regorafenib"])


def test_a_report_is_frozen_and_renders_itself():
    """The package docstring's ``result.render()`` raised AttributeError; a report's
    findings could be appended to and its repr was an address."""
    import dataclasses

    from tacebench.replications.report import render

    rep = tacebench.replicate("tace_regorafenib", audit_only=True)
    assert rep.render() == render([rep])
    assert rep.render("json") == render([rep], "json")
    assert repr(rep).startswith("StudyReport('tace_regorafenib': ")
    assert "audit only" in repr(rep)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.study_id = "x"
    assert isinstance(rep.audit, tuple)


def test_compile_plan_takes_a_loaded_study_and_names_other_values():
    """api.compile_plan(load_study(...)) was a TypeError of pathlib's: it took a spec or a
    path, not the Study the same module's load_study returns."""
    study = api.load_study("tace_regorafenib")
    plan = api.compile_plan(study)
    assert plan is api.compile_plan("tace_regorafenib")       # one spec, one cached plan
    assert api.compile_plan(plan) is plan
    with pytest.raises(InputTypeError, match=r"^study: must be .*a Study.*; got 123$"):
        api.compile_plan(123)
