"""Covariate effects on tumour response (``response.effects``): calibration, odds ratios,
the unchanged path without effects, validation.

The large cohort is the small fixture with every arm (and every count) scaled by
``SCALE``, all patients assessed (MCAR with no missing) so no selection acts on the
latent. Bounds are stated where they are used: a generated share differs from its
published value by the Monte Carlo error of the cohort (N patients of the arm) and of
the calibration sample the thresholds are fitted on (``CAL_PER_ARM`` per arm), so
``|p_hat - p| <= 4 sqrt(p (1 - p) (1 / N + 1 / CAL_PER_ARM))``; an estimated log odds
ratio differs from the declared one by at most 4 of its standard errors.
"""
from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from tacebench import simulate
from tacebench.estimators.glm_binomial import fit_glm_binomial
from tacebench.simulate.calibration_cohort import CAL_PER_ARM
from tacebench.simulate.io import spec_from_dict
from tacebench.simulate.outcomes import draw_responses, response_latent
from tacebench.simulate.spec import SpecError
from tacebench.simulate.study import spec_hash

from .conftest import SPECS, scale_arms

SCALE = 200
SHARES = {"Control": [0.05, 0.2, 0.4, 0.35], "Combo": [0.05, 0.3, 0.35, 0.3]}
EFFECTS = [{"variable": "pvtt", "odds_ratio": 2.0, "rationale": "test"},
           {"variable": "tumor_size", "odds_ratio": 0.9, "rationale": "test"},
           {"variable": "child_pugh", "odds_ratio": [0.7, 0.5], "rationale": "test"}]


def _small() -> dict:
    with open(SPECS / "small.toml", "rb") as fh:
        return tomllib.load(fh)


def _large(effects: list | None) -> dict:
    d = _small()
    main = d["cohorts"]["main"]
    scale_arms(main, SCALE)
    main.pop("missing")
    r = main["response"]
    r["missing_mechanism"] = "MCAR"
    r["arms"] = {k: {"proportions": v} for k, v in SHARES.items()}
    if effects is not None:
        r["effects"] = effects
    return d


@pytest.fixture(scope="module")
def large():
    """(plan without effects, plan with effects, a cohort of each; same seed)."""
    out = []
    for eff in (None, EFFECTS):
        plan = simulate.compile_plan(spec_from_dict(_large(eff)), cache=None)
        out += [plan, simulate.generate_cohort(plan, seed=11, with_ps=False).columns]
    return out


def _spec_error(effects) -> str:
    d = _small()
    d["cohorts"]["main"]["response"]["effects"] = effects
    with pytest.raises(SpecError) as exc:
        simulate.compile_plan(spec_from_dict(d, source="cohort.toml"), cache=None)
    return str(exc.value)


# -- calibration: the per-arm marginal distribution is the published one ---------------------

def test_marginal_response_unchanged_by_effects(large):
    _, plain, plan, c = large
    assert plan.outcomes.response_dependence == {"response": True}
    for cols in (plain, c):
        for a, lab in enumerate(("Control", "Combo")):
            codes = cols["response"][cols["arm"] == a]
            assert np.all(codes >= 0)  # everyone assessed: no selection on the latent
            n = len(codes)
            got = np.bincount(codes, minlength=4) / n
            p = np.asarray(SHARES[lab])
            bound = 4 * np.sqrt(p * (1 - p) * (1 / n + 1 / CAL_PER_ARM))
            assert np.all(np.abs(got - p) <= bound), (lab, got, p, bound)


def _log_or(cols, cut: int) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression of ``response <= cut`` (best first) on arm and the effects'
    covariates: the log ORs of pvtt, tumor_size, child_pugh A6, B7 and their SEs."""
    y = (cols["response"] <= cut).astype(float)
    cp = cols["child_pugh"]
    X = np.column_stack([np.ones(len(y)), cols["arm"], cols["pvtt"], cols["tumor_size"], cp == 1,
                         cp == 2]).astype(float)
    fit = fit_glm_binomial(X, y, np.ones(len(y)))
    mu = fit.fitted
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ (X * (mu * (1 - mu))[:, None]))))
    return fit.coef[2:], se[2:]


@pytest.mark.parametrize("cut", [1, 2])   # ORR (CR/PR) and DCR (CR/PR/SD): proportional odds
def test_declared_odds_ratios_recovered(large, cut):
    _, plain, _, c = large
    declared = np.log([2.0, 0.9, 0.7, 0.5])
    est, se = _log_or(c, cut)
    assert np.all(np.abs(est - declared) <= 4 * se), (np.exp(est), se)
    # without effects the same regression finds no association (the test can fail)
    est0, se0 = _log_or(plain, cut)
    assert np.all(np.abs(est0) <= 4 * se0), np.exp(est0)
    assert abs(est[0] - np.log(2.0)) < abs(est0[0] - np.log(2.0)) - 4 * se[0]


def test_response_stays_correlated_with_survival(large):
    _, plain, _, c = large
    for cols in (plain, c):
        dead3 = (cols["os_time"] < 3) & (cols["os_event"] == 1)
        pd_share = [np.mean(cols["response"][m] == 3) for m in (dead3, ~dead3)]
        assert pd_share[0] > pd_share[1] + 0.1, pd_share


# -- the path without effects is the one before them -----------------------------------------

def test_without_effects_draws_are_the_old_formula(small_plan):
    """No effects: each latent is ``rho * parent + sqrt(1 - rho^2) e`` (the model before
    effects), cut at the thresholds; the same draws in the same order."""
    op = small_plan.outcomes
    assert op.response_dependence == {"response": False} and not op.responses[0].effects
    c = simulate.generate_cohort(small_plan, seed=5, with_ps=False).columns
    rng = np.random.default_rng(9)
    w_d = rng.standard_normal(len(c["arm"]))
    got = draw_responses(op.responses, c["os_time"], c["arm"], w_d, np.random.default_rng(10), c)
    rng = np.random.default_rng(10)
    for ap in op.responses:
        lat = ap.rho * w_d + np.sqrt(1 - ap.rho ** 2) * rng.standard_normal(len(w_d))
        code = np.empty(len(w_d), np.int8)
        for a, cuts in enumerate(ap.cuts):
            m = c["arm"] == a
            code[m] = len(cuts) - np.searchsorted(cuts, lat[m])
        early = c["os_time"] < ap.assessment_time
        q = np.array([ap.miss[a][0 if e else 1] for a, e in zip(c["arm"], early)])
        code[rng.random(len(w_d)) < q] = -1
        np.testing.assert_array_equal(got[ap.name], code)


@given(z=st.floats(-30, 30), lp=st.floats(-5, 5))
def test_latent_is_logistic_in_z(z, lp):
    """``logit(Phi(z))`` is the standard logistic quantile of ``Phi(z)``: P(L > c | x) is
    ``expit(lp - c)`` for every threshold."""
    z = np.array([z])
    assert np.allclose(special.expit(response_latent(z, np.array([0.0]))), special.ndtr(z), rtol=1e-9,
                       atol=1e-300)
    assert np.allclose(response_latent(z, np.array([lp])) - lp, response_latent(z, np.zeros(1)))
    assert response_latent(z, None) is z


def test_effects_enter_the_plan_hash():
    d0, d1 = _small(), _small()
    d1["cohorts"]["main"]["response"]["effects"] = EFFECTS[:1]
    d2 = copy.deepcopy(d1)
    d2["cohorts"]["main"]["response"]["effects"][0]["odds_ratio"] = 2.5
    h = [spec_hash(spec_from_dict(d).cohort()) for d in (d0, d1, d2)]
    assert len(set(h)) == 3


def test_children_inherit_the_dependence():
    d = _small()
    main = d["cohorts"]["main"]
    main["response"]["effects"] = EFFECTS[:1]
    main["response_columns"] = {
        "response_liver": {"parent": "response", "correlation": 0.6, "rationale": "test",
                           "levels": ["CR/PR", "SD/PD"],
                           "arms": {"Control": {"counts": [40, 90]}, "Combo": {"counts": [40, 50]}}},
        "response_bone": {"parent": "response", "correlation": 0.0, "rationale": "test",
                          "levels": ["CR/PR", "SD/PD"],
                          "arms": {"Control": {"counts": [40, 90]}, "Combo": {"counts": [40, 50]}}},
    }
    plan = simulate.compile_plan(spec_from_dict(d), cache=None)
    assert plan.outcomes.response_dependence == {"response": True, "response_liver": True,
                                                 "response_bone": False}
    assert plan.report["response"]["depends_on_covariates"] == plan.outcomes.response_dependence


# -- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("effects,expected", [
    ([{"variable": "nope", "odds_ratio": 2.0, "rationale": "t"}],
     "cohorts.main.response.effects[0].variable: unknown variable 'nope'"),
    ([{"variable": "pvtt", "odds_ratio": -1, "rationale": "t"}],
     "cohorts.main.response.effects[0].odds_ratio: must be > 0, got -1"),
    ([{"variable": "pvtt", "odds_ratio": 2.0}],
     "cohorts.main.response.effects[0].rationale: a response effect says where it comes from"),
    ([{"variable": "pvtt", "odds_ratio": 2.0, "rationale": "t"}] * 2,
     "cohorts.main.response.effects[1].variable: 'pvtt' has two response effects"),
    ([{"variable": "pvtt", "hr": 2.0, "rationale": "t"}],
     "cohorts.main.response.effects[0]: unknown key(s) ['hr']"),
    ([{"variable": "child_pugh", "odds_ratio": [1.2, 1.3, 1.4], "rationale": "t"}],
     "response.effects[0].odds_ratio: needs 2 odds ratios (levels after the first) or 3 starting with 1.0"),
    ([{"variable": "tumor_size", "odds_ratio": [1.2, 1.3], "rationale": "t"}],
     "response.effects[0].odds_ratio: a list of odds ratios needs a categorical variable"),
    # per ng/mL of a lognormal AFP (SD 6000): odds ratios beyond any double at the ends
    ([{"variable": "afp", "odds_ratio": 1.01, "rationale": "t"}],
     "response.effects[0].odds_ratio: 1.01 per 1 unit(s) of afp is a ratio of "),
])
def test_invalid_effects_are_named(effects, expected):
    assert expected in _spec_error(effects)
