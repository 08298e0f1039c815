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
                     "[study]: reps must be an integer >= 2; got 'many'",
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
