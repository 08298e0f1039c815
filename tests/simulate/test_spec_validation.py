"""Invalid specifications raise ValueError naming the field and the value."""
from __future__ import annotations

import copy
import re
import tomllib

import numpy as np
import pytest

from tacebench import simulate
from tacebench.simulate import SpecError, Summary, Variable, nearest_pd, spec_from_dict


@pytest.fixture()
def raw(small_spec_path):
    with open(small_spec_path, "rb") as fh:
        return tomllib.load(fh)


def _var(raw, name):
    return next(v for v in raw["cohorts"]["main"]["variables"] if v["name"] == name)


BREAKERS = [
    ("sd <= 0", lambda r: _var(r, "tumor_size")["arms"]["Control"].update(sd=-3.0), "arms.Control.sd", "-3.0"),
    ("n <= 0", lambda r: r["cohorts"]["main"]["arms"][0].update(n=0), "arms[0].n", "0"),
    ("p > 1", lambda r: _var(r, "pvtt")["arms"]["Combo"].update(p=1.4), "arms.Combo.p", "1.4"),
    ("proportions sum", lambda r: _var(r, "child_pugh")["arms"]["Combo"].update(proportions=[0.5, 0.3, 0.4]),
     "arms.Combo.proportions", "1.2"),
    ("counts vs n", lambda r: _var(r, "child_pugh")["arms"]["Control"].update(counts=[100, 40, 11]),
     "arms.Control.counts", "151"),
    ("unknown type", lambda r: _var(r, "pvtt").update(type="boolean"), "type", "boolean"),
    ("unknown key", lambda r: _var(r, "pvtt").update(colour="red"), "variables[5] (pvtt)", "colour"),
    ("unknown arm", lambda r: r["cohorts"]["main"]["outcomes"]["os"]["calibrate"][0].update(arm="Nope"),
     "calibrate[0].arm", "Nope"),
    ("unknown effect variable", lambda r: r["cohorts"]["main"]["outcomes"]["os"]["effects"][0].update(variable="xx"),
     "effects[0].variable", "xx"),
    ("correlation out of range", lambda r: r["cohorts"]["main"]["correlation"].update(pairs=[["afp", "albumin", 1.5]]),
     "pairs[0][2]", "1.5"),
    ("negative rate", lambda r: r["cohorts"]["main"]["missing"]["afp"].update(rate=-0.1), "missing.afp", "-0.1"),
    ("MAR on itself", lambda r: r["cohorts"]["main"]["missing"]["albumin"].update(depends_on="albumin"),
     "cohorts.main.missing.albumin.depends_on", "'albumin' is 'albumin' itself"),
    ("MAR on what is computed from it",
     lambda r: r["cohorts"]["main"]["missing"]["albumin"].update(depends_on="albi_grade"),
     "cohorts.main.missing.albumin.depends_on", "'albi_grade'"),
    ("MAR of an input on a derived",
     lambda r: r["cohorts"]["main"]["missing"].update(total_bilirubin={"rate": 0.1, "mechanism": "MAR",
                                                                        "depends_on": "albi_grade"}),
     "cohorts.main.missing.total_bilirubin.depends_on", "MNAR"),
    # a ratio the linear predictor cannot hold failed the calibration naming no key
    ("effect HR beyond any paper's", lambda r: r["cohorts"]["main"]["outcomes"]["os"]["effects"][0].update(
        hr=1e308), "effects[0].hr: must lie in [1e-06, 1e+06]", "1e+308"),
    ("treatment HR beyond any paper's", lambda r: r["cohorts"]["main"]["outcomes"]["os"].update(
        treatment_hr=1e-9), "os.treatment_hr: must lie in [1e-06, 1e+06]", "1e-09"),
]


@pytest.mark.parametrize("what,breaker,key,value", BREAKERS, ids=[b[0] for b in BREAKERS])
def test_invalid_spec_names_field_and_value(raw, what, breaker, key, value):
    bad = copy.deepcopy(raw)
    breaker(bad)
    with pytest.raises(ValueError) as err:
        spec_from_dict(bad, source="cohort.toml")
    msg = str(err.value)
    assert "cohort.toml" in msg and key in msg and value in msg, msg


def test_mar_on_another_variable_or_option_is_accepted(raw):
    """Refused: depends_on carrying the variable's own value; accepted: anything else."""
    from .test_multiselect import _raw as multiselect_raw
    spec_from_dict(raw)  # albumin MAR on pvtt
    ok = multiselect_raw(extra={"missing": {"lung": {"rate": 0.2, "mechanism": "MAR", "depends_on": "bone"}}})
    spec_from_dict(ok)
    for var, dep in (("lung", "sites"), ("sites", "lung")):
        bad = multiselect_raw(extra={"missing": {var: {"rate": 0.2, "mechanism": "MAR", "depends_on": dep}}})
        with pytest.raises(SpecError, match=rf"missing\.{var}\.depends_on: '{dep}' and '{var}' are computed"):
            spec_from_dict(bad)


def test_all_problems_reported_at_once(raw):
    bad = copy.deepcopy(raw)
    _var(bad, "tumor_size")["arms"]["Control"]["sd"] = 0
    _var(bad, "pvtt")["arms"]["Combo"]["p"] = 2
    with pytest.raises(SpecError) as err:
        spec_from_dict(bad, source="cohort.toml")
    assert len(err.value.problems) == 2


def test_rounded_percentages_accepted():
    v = Variable("x", "categorical", {"A": {"proportions": [0.333, 0.333, 0.333]}}, levels=("a", "b", "c"))
    assert abs(sum(v.arm_probs("A")) - 1) < 1e-12


def test_discrete_pair_rejected_in_arm_marginals(raw):
    bad = copy.deepcopy(raw)
    bad["cohorts"]["main"]["correlation"]["pairs"] = [["pvtt", "child_pugh", 0.3]]
    with pytest.raises(ValueError, match="links two discrete variables"):
        simulate.compile_plan(spec_from_dict(bad))


def test_non_pd_correlation_offers_nearest_pd(raw):
    bad = copy.deepcopy(raw)
    bad["cohorts"]["main"]["correlation"] = {"default": "independent", "pairs": [
        ["tumor_size", "afp", 0.95], ["afp", "albumin", 0.95], ["tumor_size", "albumin", -0.95]]}
    with pytest.raises(ValueError, match="not positive definite.*nearest_pd") as err:
        simulate.compile_plan(spec_from_dict(bad))
    assert "tumor_size" in str(err.value)


def test_nearest_pd_is_a_valid_nearby_correlation_matrix():
    a = np.array([[1, 0.95, -0.95], [0.95, 1, 0.95], [-0.95, 0.95, 1.0]])
    b = nearest_pd(a)
    assert np.allclose(np.diag(b), 1) and np.linalg.eigvalsh(b).min() > 0
    assert np.allclose(b, b.T) and np.abs(b - a).max() < 1.0
    good = np.array([[1, 0.3], [0.3, 1.0]])
    assert np.allclose(nearest_pd(good), good, atol=1e-8)
    with pytest.raises(ValueError, match="matrix"):
        nearest_pd(np.ones((2, 3)))


def test_infeasible_truncated_normal_suggests_lognormal():
    from tacebench.simulate.marginals import compile_marginals
    v = Variable("alt", "continuous", {"A": Summary(mean=20.0, sd=60.0)}, lower=0.0)
    with pytest.raises(ValueError, match="lognormal"):
        compile_marginals(v, {"A": 100}, "variables[0] (alt)")


def test_python_construction_validates():
    with pytest.raises(ValueError, match="sd"):
        Summary(mean=1.0, sd=0.0)
    with pytest.raises(ValueError, match="n"):
        simulate.Arm("A", -1)


def test_calibration_entries_take_a_source_quote_excluded_from_the_hash():
    """calibrate / events / response / time_varying (and start/duration) carry `source`."""
    import tomllib

    from .conftest import SPECS

    with open(SPECS / "small.toml", "rb") as fh:
        raw = tomllib.load(fh)
    plain = simulate.spec_from_dict(raw).cohort()
    main = raw["cohorts"]["main"]
    main["outcomes"]["os"]["calibrate"][0]["source"] = "a quote"
    if "censoring" in main:
        main["censoring"]["source"] = "a quote"
        if "events" in main["censoring"]:
            main["censoring"]["events"]["source"] = "a quote"
    if "response" in main:
        main["response"]["source"] = "a quote"
    quoted = simulate.spec_from_dict(raw).cohort()
    assert quoted.os.calibrate[0].source == "a quote"
    assert simulate.spec_hash(quoted) == simulate.spec_hash(plain)
    main["outcomes"]["os"]["calibrate"][0]["source"] = 3
    with pytest.raises(simulate.SpecError, match=r"outcomes\.os\.calibrate\[0\]\.source: must be a string"):
        simulate.spec_from_dict(raw)
    tv = simulate.TimeVarying("A", start={"mean": 1.0, "source": "q"}, source="q")
    assert tv.start.source == "q" and tv.source == "q"


def _outcomes(d):
    return d["cohorts"]["main"]["outcomes"]


REPEATS = [
    ("effect twice", lambda o: o["os"].update(effects=[{"variable": "male", "hr": 1.2}, {"variable": "male", "hr": 1.5}]),
     "outcomes.os.effects[1]: repeats outcomes.os.effects[0] ('male'): hr = 1.2 and hr = 1.5 would both apply"),
    ("median twice", lambda o: o["os"]["calibrate"].append({"arm": "TACE", "kind": "median", "value": 12.0}),
     "outcomes.os.calibrate[2]: repeats outcomes.os.calibrate[0] (arm 'TACE' median): value = 10 and value = 12"),
    ("rate twice", lambda o: o["pfs"]["calibrate"].extend([{"arm": "TACEX", "kind": "rate", "time": 6, "value": 0.6}] * 2),
     "outcomes.pfs.calibrate[3]: repeats outcomes.pfs.calibrate[2] (arm 'TACEX' 6-month rate)"),
]


@pytest.mark.parametrize("what,breaker,words", REPEATS, ids=[r[0] for r in REPEATS])
def test_an_entry_given_twice_is_refused_naming_both(two_arm, what, breaker, words):
    """Both log-HRs of a repeated effect used to apply (HR 1.2 and 1.5 as 1.8); two
    medians 10 and 12 of one arm were fitted as a silent compromise (10.96)."""
    breaker(_outcomes(two_arm))
    with pytest.raises(SpecError) as err:
        spec_from_dict(two_arm, source="cohort.toml")
    assert words in str(err.value), str(err.value)


def test_a_linear_and_a_threshold_effect_of_one_variable_are_two_effects(two_arm):
    _outcomes(two_arm)["os"]["effects"] = [{"variable": "age", "hr": 1.02}, {"variable": "age", "hr": 1.5, "above": 60}]
    assert len(spec_from_dict(two_arm).cohort().os.effects) == 2


def test_a_compile_time_error_names_the_file_and_cohort_as_a_load_time_error_does(two_arm, tmp_path):
    """Errors the fit finds (an effect's HR count, a correlation matrix) lacked the file
    and the cohorts.<name>. prefix; ``problems`` stay keyed inside the cohort."""
    two_arm["cohorts"]["main"]["variables"].append(
        {"name": "grade", "type": "categorical", "levels": ["1", "2"],
         "arms": {"TACE": {"counts": [60, 60]}, "TACEX": {"counts": [40, 40]}}})
    _outcomes(two_arm)["os"]["effects"] = [{"variable": "grade", "hr": [1.5, 2.0]}]
    key = "outcomes.os.effects[0].hr"
    with pytest.raises(SpecError) as err:
        simulate.compile_plan(spec_from_dict(two_arm), cache=None)
    assert str(err.value).startswith(f"cohorts.main.{key}: needs 1 HRs") and err.value.problems[0][0] == key
    spec = spec_from_dict(two_arm, path=str(tmp_path / "cohort.toml"))
    with pytest.raises(SpecError, match=rf"^{tmp_path / 'cohort.toml'}: cohorts\.main\.{re.escape(key)}: needs"):
        simulate.compile_plan(spec, cache=None)


def test_a_per_unit_hr_across_a_wide_covariate_is_named(raw):
    """An HR per ng/mL of AFP (lognormal, SD 6000) is a hazard ratio beyond any double
    between the patients at either end: named at its key before the calibration meets
    numbers that are not finite; the same HR per 1000 ng/mL compiles."""
    bad = copy.deepcopy(raw)
    bad["cohorts"]["main"]["outcomes"]["os"]["effects"].append({"variable": "afp", "hr": 1.01})
    with pytest.raises(SpecError) as err:
        simulate.compile_plan(spec_from_dict(bad, source="cohort.toml"), cache=None)
    msg = str(err.value)
    assert "outcomes.os.effects[4].hr: 1.01 per 1 unit(s) of afp is a ratio of " in msg, msg
    assert "needs `per`" in msg
    bad["cohorts"]["main"]["outcomes"]["os"]["effects"][-1]["per"] = 1000
    simulate.compile_plan(spec_from_dict(bad, source="cohort.toml"), cache=None)
