"""Multi-select variables (sites of spread): pattern generation, options, exact PS."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench import simulate
from tacebench.simulate import SpecError
from tacebench.simulate.multiselect import enumerate_patterns, solve_patterns
from tacebench.simulate.plan import add_derived, compile_covariates, draw_covariates

OPTS = ["lymph", "lung", "bone"]


def _raw(counts_c=(80, 40, 30), counts_t=(40, 40, 20), n_selected=(0, 160, 30, 10), extra=None,
         ms_extra=None, variables=None):
    vs = [{"name": o, "type": "binary", "arms": {"C": {"count": a}, "T": {"count": b}}}
          for o, a, b in zip(OPTS, counts_c, counts_t)]
    ms = {"name": "sites", "type": "multiselect", "options": OPTS, "at_least_one": True}
    if n_selected is not None:
        ms["n_selected"] = {"counts": list(n_selected)}
    ms.update(ms_extra or {})
    cohort = {"arms": [{"label": "C", "n": 120}, {"label": "T", "n": 80, "treated": True}],
              "variables": (variables or []) + vs + [ms], "correlation": {"default": "independent"}}
    cohort.update(extra or {})
    return {"study": {"id": "ms"}, "cohorts": {"main": cohort}}


def _cohort(**kw):
    return simulate.spec_from_dict(_raw(**kw)).cohort()


def test_ipf_solution_meets_the_margins_and_has_the_maximum_entropy_form():
    """Constraints hold, and log q_a(s) = c_a + lambda_a's + mu_|s| exactly (the
    exponential-family form of the I-projection of the uniform distribution)."""
    bits, labels = enumerate_patterns(tuple(OPTS), [1, 2, 3])
    shares = np.array([[80, 40, 30], [40, 40, 20]]) / np.array([[120], [80]])
    w = np.array([120.0, 80.0])
    cp = np.array([0, 160, 30, 10]) / 200
    q, err = solve_patterns(shares, w, bits, cp)
    assert err < 1e-8 and len(labels) == 7 and labels[0] == "lymph"
    assert np.allclose(q @ bits, shares, atol=1e-8)
    size = bits.sum(axis=1)
    assert np.allclose(np.bincount(size, weights=(w / w.sum()) @ q)[1:], cp[1:], atol=1e-8)
    # features: per-arm intercept and option effects, count effects shared by the arms
    rows, y = [], []
    for a in range(2):
        for s in range(len(bits)):
            f = np.zeros(2 + 2 * 3 + 4)
            f[a] = 1
            f[2 + 3 * a: 5 + 3 * a] = bits[s]
            f[8 + size[s]] = 1
            rows.append(f)
            y.append(np.log(q[a, s]))
    coef, *_ = np.linalg.lstsq(np.array(rows), np.array(y), rcond=None)
    assert np.max(np.abs(np.array(rows) @ coef - np.array(y))) < 1e-6


def test_cohorts_have_at_least_one_option_and_match_the_published_rows():
    plan = simulate.compile_plan(simulate.spec_from_dict(_raw()), cache=None)
    c = simulate.generate_cohort(plan, seed=1)
    assert list(c.columns)[2:6] == OPTS + ["sites"]
    assert c.levels["sites"][:3] == ("lymph", "lung", "bone") and c.levels["lung"] == ("0", "1")
    arm, x, _, _ = draw_covariates(plan.covariates, np.random.default_rng(0), np.array([120, 80]) * 500)
    cols = {"sites": x[:, plan.covariates.names.index("sites")]}
    add_derived(plan.covariates, cols, len(arm))  # the option columns from the pattern
    k = np.sum([cols[o] for o in OPTS], axis=0)
    assert k.min() >= 1
    for a, counts in ((0, (80, 40, 30)), (1, (40, 40, 20))):
        n = np.sum(arm == a)
        for o, cnt in zip(OPTS, counts):
            p = cnt / (120 if a == 0 else 80)
            assert abs(cols[o][arm == a].mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    for j, cnt in ((1, 160), (2, 30), (3, 10)):
        p = cnt / 200
        assert abs(np.mean(k == j) - p) < 5 * np.sqrt(p * (1 - p) / len(k))


def test_true_ps_of_the_pattern_alone_is_the_ratio_of_pattern_probabilities():
    """With the pattern as the only covariate, e(x) = pi_1 q_1(s) / sum_a pi_a q_a(s)."""
    cp = compile_covariates(_cohort())
    arm, x, ps, _ = draw_covariates(cp, np.random.default_rng(2))
    bits, _ = enumerate_patterns(tuple(OPTS), [1, 2, 3])
    shares = np.array([[80, 40, 30], [40, 40, 20]]) / np.array([[120], [80]])
    q, _ = solve_patterns(shares, np.array([120.0, 80.0]), bits, np.array([0, 160, 30, 10]) / 200)
    code = x[:, cp.names.index("sites")].astype(int)
    exact = 0.4 * q[1, code] / (0.4 * q[1, code] + 0.6 * q[0, code])
    assert np.max(np.abs(ps - exact)) < 1e-9


def test_true_ps_with_a_continuous_covariate_matches_fraction_treated():
    from .test_propensity import _calibration_in_bins

    size = {"name": "tumor_size", "type": "continuous",
            "arms": {"C": {"mean": 8.0, "sd": 3.0}, "T": {"mean": 9.0, "sd": 3.5}}}
    raw = _raw(variables=[size])
    raw["cohorts"]["main"]["correlation"] = {"default": "independent", "pairs": [["tumor_size", "sites", 0.4]]}
    cp = compile_covariates(simulate.spec_from_dict(raw).cohort())
    arm, x, ps, _ = draw_covariates(cp, np.random.default_rng(4), np.array([120, 80]) * 200)
    assert np.all(np.abs(_calibration_in_bins(arm, ps, cp.treated_arm, bins=20)) < 4.0)


def test_missing_option_hides_the_pattern_and_effects_use_options():
    extra = {"missing": {"lung": {"rate": 0.2}},
             "outcomes": {"os": {"knots": [0, 6], "treatment_hr": 0.8, "baseline_hazard": [0.1, 0.1],
                                 "effects": [{"variable": "bone", "hr": 1.5}]}}}
    plan = simulate.compile_plan(simulate.spec_from_dict(_raw(extra=extra)), cache=None)
    c = simulate.generate_cohort(plan, seed=3)
    miss = np.isnan(c.columns["lung"])
    assert 0 < miss.mean() < 0.5
    assert np.array_equal(np.isnan(c.columns["sites"]), miss)
    assert not np.isnan(c.columns["bone"]).any()


def test_missing_pattern_hides_its_options():
    """The options are computed from the pattern: a blanked pattern blanks them all."""
    plan = simulate.compile_plan(simulate.spec_from_dict(_raw(extra={"missing": {"sites": {"rate": 0.2}}})),
                                 cache=None)
    c = simulate.generate_cohort(plan, seed=3)
    miss = np.isnan(c.columns["sites"])
    assert 0 < miss.mean() < 0.5
    for o in OPTS:
        assert np.array_equal(np.isnan(c.columns[o]), miss), o


@pytest.mark.parametrize("kw,match", [
    ({"n_selected": (0, 150, 40, 10)}, r"sites\)\.n_selected: implies 1.3 options per patient"),
    ({"n_selected": (10, 150, 30, 10)}, r"n_selected: gives 0.05 of patients no option"),
    ({"counts_c": (60, 20, 10), "n_selected": None}, r"arm 'C': the options' shares sum to 0.75"),
    ({"ms_extra": {"options": ["lymph", "lung", "age"]}}, r"options\[2\]: 'age' must be a binary variable"),
    ({"ms_extra": {"options": ["lymph"]}}, r"options: needs 2 to 12"),
    ({"ms_extra": {"arms": {"C": {"p": 0.5}}}}, r"has no arms of its own"),
    ({"extra": {"correlation": {"default": "independent", "pairs": [["lung", "lymph", 0.2]]}}},
     r"'lung' is an option of the multiselect 'sites'"),
])
def test_invalid_multiselect_names_the_field(kw, match):
    with pytest.raises(SpecError, match=match):
        raw = _raw(**kw)
        simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)


def test_an_option_belongs_to_one_multiselect_and_options_only_to_multiselect():
    raw = _raw()
    raw["cohorts"]["main"]["variables"].append({"name": "sites2", "type": "multiselect", "options": ["lung", "bone"]})
    with pytest.raises(SpecError, match=r"'lung' is already an option of 'sites'"):
        simulate.spec_from_dict(raw)
    with pytest.raises(SpecError, match=r"options / at_least_one / n_selected belong to a multiselect"):
        simulate.Variable("x", "binary", {"C": {"p": 0.3}}, options=("a", "b"))


def test_seed_000_sites_every_patient_has_one_and_covariate_names_list_options():
    c = simulate.load_spec("tace_sorafenib_ehs").cohort()
    # variables keep one entry per Table-1 row (code iterating them sees the options, as
    # before); the multiselect is separate, and errors keep cohort.toml's positions
    assert [v.name for v in c.multiselect] == ["ehs_sites"]
    assert "ehs_sites" not in [v.name for v in c.variables] and "lung_metastasis" in c.covariate_names
    assert c.variable_key("ehs_sites") == "variables[12] (ehs_sites)"
    assert c.variable_key("child_pugh") == "variables[13] (child_pugh)"
    plan = simulate.compile_plan("tace_sorafenib_ehs")
    rep = plan.report["covariates"]["marginals"]["ehs_sites"]
    for lab in ("TACE", "TACES"):
        assert rep[lab]["no_option"] == 0.0
        pub, fit = rep[lab]["option_shares"]
        assert np.allclose(pub, fit, atol=1e-8)


def test_logistic_assignment_reproduces_option_shares():
    """assignment = "logistic": the pattern enters the assignment model as level dummies,
    so each arm's pattern (hence option) shares hold in expectation."""
    raw = _raw()
    raw["cohorts"]["main"]["assignment"] = "logistic"
    cp = simulate.compile_plan(simulate.spec_from_dict(raw), cache=None).covariates
    arm, x, _, _ = draw_covariates(cp, np.random.default_rng(0), np.array([120, 80]) * 300)
    cols = {"sites": x[:, cp.names.index("sites")]}
    add_derived(cp, cols, len(arm))
    for a, counts, n in ((0, (80, 40, 30), 120), (1, (40, 40, 20), 80)):
        m = np.sum(arm == a)
        for o, cnt in zip(OPTS, counts):
            p = cnt / n
            assert abs(cols[o][arm == a].mean() - p) < 5 * np.sqrt(p * (1 - p) / m), (o, a)
