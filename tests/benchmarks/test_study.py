"""Study files are checked as a whole when loaded, and a run checks what each scenario's
generator needs before it writes anything."""
from __future__ import annotations

import copy
import re
import tomllib

import pytest

from tacebench.benchmarks.runner import run_study
from tacebench.benchmarks.study import builtin_studies, study_from_raw

SHIPPED = tomllib.loads(builtin_studies()["iptw_variance"].read_text())


def _raw(**edits) -> dict:
    raw = copy.deepcopy(SHIPPED)
    raw["study"]["reps"] = 2
    for path, value in edits.items():
        *parents, key = path.split("__")
        table = raw
        for p in parents:
            table = table[p] if not isinstance(table[p], list) else table[p][0]
        table[key] = value
    return raw


def test_every_problem_of_a_file_is_named_at_once():
    raw = _raw(study__seed=-4, study__reps="many", study__bogus=1,
               methods__iptw_ate__estimand="nope", performance__level=2.0,
               perfromance={"level": 0.9})
    with pytest.raises(ValueError) as err:
        study_from_raw(raw, source="my.toml")
    lines = str(err.value).splitlines()
    assert lines[0] == "study my.toml: 6 problems:"
    for expected in ("top level: unknown key(s) ['perfromance']",
                     "[study]: unknown key(s) ['bogus']",
                     "[study]: seed must be a non-negative integer; got -4",
                     "[study]: reps must be an integer from 2 to 1000000; got 'many'",
                     "[methods.iptw_ate]: estimand 'nope' is not declared under [estimands]",
                     "[performance]: level must lie in (0, 1); got 2.0"):
        assert any(line.strip().startswith(expected) for line in lines[1:]), expected


@pytest.mark.parametrize("key, value, message", [
    ("dgm__bogus", 1, "[[dgm]] 's000_measured': unknown key(s) ['bogus']"),
    ("dgm__generator", "nope", "generator must be one of ['cohort'] or 'module:function'"),
    ("methods__iptw_ate__family", "nope", "[methods.iptw_ate]: family must be one of"),
])
def test_a_bad_key_is_named_with_its_table(key, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        study_from_raw(_raw(**{key: value}), source="my.toml")


@pytest.mark.parametrize("key, value, message", [
    ("estimands__marginal_ate__population", "XYZ", "population must be one of"),
    ("dgm__base", "nope@x", "'nope' is neither a study folder nor a shipped study id"),
    ("dgm__base", "tace_sorafenib_ehs@nope", "no world 'nope'"),
    ("dgm__cohort", "nope", "cohort must be one of ['main']"),
    # found only after the run's folder was written, before: a factor that scales an arm
    # below two patients, and estimands whose truth needs a control arm
    ("dgm__factors", {"n": [3]}, "arm 'TACES' would have 1 patient; need >= 2"),
    ("dgm__base", "tace_regorafenib", "has no treated and control arm: the true values of"),
])
def test_what_a_generator_needs_is_checked_before_the_run_writes(tmp_path, key, value,
                                                                  message):
    study = study_from_raw(_raw(**{key: value}), source="my.toml")  # loads: the generator's
    out = tmp_path / "run"                                          # own inputs
    with pytest.raises(ValueError, match=re.escape("[[dgm]] 's000_measured': ") + ".*"
                       + re.escape(message)):
        run_study(study, out, progress=False)
    assert not out.exists()


@pytest.mark.parametrize("options, message", [
    # a misspelt option left the ATE's truth in place
    ({"kind": "marginal_log_hr", "popluation": "ATT"},
     "estimand 'marginal_ate': unknown option(s) ['popluation'] for kind 'marginal_log_hr'; "
     "its options are ['population', 'endpoint']"),
    ({"kind": "conditional_log_hr", "variable": "nosuch"},
     "estimand 'marginal_ate': the cohort has no single OS hazard ratio for variable 'nosuch'"),
    ({"kind": "log_hr_per_month"},
     "estimand 'marginal_ate': kind 'log_hr_per_month' needs a cohort with time-varying "
     "therapy"),
    ({"kind": "custom", "value": "0"},
     "estimand 'marginal_ate': kind 'custom' needs value = <number>; got '0'"),
])
def test_an_estimand_the_generator_cannot_give_a_truth_is_named(options, message):
    from tacebench.benchmarks.dgm import check_scenarios

    raw = _raw(estimands__marginal_ate=options)
    if options["kind"] == "log_hr_per_month":  # (what estimates it: a per-month log HR)
        raw["methods"] = {"imm": {"family": "immortal", "estimand": "marginal_ate",
                                  "variant": "tv_duration"}}
    study = study_from_raw(raw, source="my.toml")
    with pytest.raises(ValueError, match=re.escape(message)):
        check_scenarios(study)


@pytest.mark.parametrize("key, value", [("tau", -12.0), ("tau", 0), ("tau", "12"),
                                        ("tau", True)])
def test_a_horizon_must_be_a_positive_number(key, value):
    from tacebench.benchmarks.dgm import check_scenarios

    raw = _raw(estimands__marginal_ate={"kind": "rmst_difference", key: value},
               methods={"rmst": {"family": "contrast", "estimand": "marginal_ate"}})
    study = study_from_raw(raw, source="my.toml")
    with pytest.raises(ValueError, match=re.escape(
            f"estimand 'marginal_ate': {key} must be a positive number of months; got "
            f"{value!r}")):
        check_scenarios(study)


@pytest.mark.parametrize("method, estimand, message", [
    # the bias of an IPTW log HR against an RMST difference's truth was reported as -1.39
    ({"family": "weighting"}, {"kind": "rmst_difference", "tau": 12.0},
     "[methods.m]: estimates a log hazard ratio, but its estimand 'e' is an RMST difference "
     "(kind 'rmst_difference'): no performance measure compares the two"),
    ({"family": "contrast", "quantity": "risk_difference", "time": 12.0},
     {"kind": "marginal_log_hr"},
     "[methods.m]: estimates a risk difference, but its estimand 'e' is a log hazard ratio"),
    ({"family": "contrast", "time": 12.0}, {"kind": "rmst_difference", "tau": 6.0},
     "[methods.m]: estimates at time = 12 months, but its estimand 'e' is at tau = 6"),
    ({"family": "survival_ate", "time": 6.0}, {"kind": "risk_difference"},
     "[methods.m]: estimates at time = 6 months, but its estimand 'e' is at time = 12"),
])
def test_a_method_must_estimate_what_its_estimand_is(method, estimand, message):
    raw = _raw(estimands={"e": estimand}, methods={"m": {**method, "estimand": "e"}})
    with pytest.raises(ValueError, match=re.escape(message)):
        study_from_raw(raw, source="my.toml")


def test_a_custom_estimand_or_family_is_not_matched():
    """``custom`` estimands (a fixed value) and a study's own families say nothing of
    their scale: any pairing loads."""
    raw = _raw(estimands={"e": {"kind": "custom", "value": 0.0},
                          "f": {"kind": "rmst_difference"}},
               methods={"m": {"family": "weighting", "estimand": "e", "covariates": ["*"]},
                        "own": {"family": "tests.benchmarks.toy:rate_ratio", "estimand": "f"}})
    assert [m.name for m in study_from_raw(raw, source="my.toml").methods] == ["m", "own"]


def test_the_file_and_its_scenarios_are_checked_together(tmp_path):
    """A bad method family hid a misspelt factor and a bad estimand option until the next
    run: the loader that the command and ``tacebench.study`` use names all three at once."""
    from tacebench.benchmarks.dgm import load_checked_study

    text = builtin_studies()["iptw_variance"].read_text()
    text = text.replace('family = "weighting"', 'family = "weighing"', 1)
    text = text.replace("n = [", "N = [").replace('population = "ATE"', 'popluation = "ATE"')
    path = tmp_path / "my.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_checked_study(path)
    lines = str(err.value).splitlines()
    assert lines[0] == f"study {path}: 3 problems:"
    for expected in ("[methods.iptw_ate]: family must be one of",
                     "[[dgm]] 's000_measured': unknown factor(s) ['N']",
                     "[[dgm]] 's000_measured': estimand 'marginal_ate': unknown option(s) "
                     "['popluation']"):
        assert any(line.strip().startswith(expected) for line in lines[1:]), expected


def test_python_run_takes_a_seed_with_a_loaded_study(tmp_path):
    """tacebench.study.run(study_object, seed=99) ran the study's own seed without a word."""
    import json

    import tacebench

    study = tacebench.study.load("iptw_variance")
    tacebench.study.run(study, out=tmp_path / "a", reps=2, seed=99)
    tacebench.study.run("iptw_variance", out=tmp_path / "b", reps=2, seed=99)
    manifests = [json.loads((tmp_path / d / "manifest.json").read_text()) for d in "ab"]
    assert [m["seed"] for m in manifests] == [99, 99]
    assert manifests[0]["fingerprint"] == manifests[1]["fingerprint"]


@pytest.mark.parametrize("kwargs, message", [
    ({"resume": "yes"}, "resume: must be True or False; got 'yes'"),
    ({"force": 1}, "force: must be True or False; got 1"),
    ({"out": "FILE"}, "is a file; a run writes a folder there"),
])
def test_python_run_names_a_bad_argument(tmp_path, kwargs, message):
    """resume="yes" resumed; out naming a file was pathlib's FileExistsError; force was
    not an argument of tacebench.study.run at all (only of the command)."""
    import tacebench

    (tmp_path / "FILE").write_text("x")
    if kwargs.get("out") == "FILE":
        kwargs = {"out": tmp_path / "FILE"}
    with pytest.raises(ValueError, match=re.escape(message)):
        tacebench.study.run("iptw_variance", **{"out": tmp_path / "run", "reps": 2, **kwargs})


@pytest.mark.parametrize("reps, message", [
    (2.5, "reps: must be an integer >= 2; got 2.5"), (0, "reps: must be an integer >= 2"),
    (99, "reps=99: the run holds at most 2 replicates per scenario")])
def test_summarize_names_a_bad_reps(tmp_path, reps, message):
    """A summary of 99 replicates of a 2-replicate run said it summarized 2; reps=0 said
    'no result chunks'."""
    import tacebench

    tacebench.study.run("iptw_variance", out=tmp_path / "run", reps=2)
    with pytest.raises(ValueError, match=re.escape(message)):
        tacebench.study.summarize(tmp_path / "run", reps=reps)
