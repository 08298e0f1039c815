"""Response rates, odds ratios and contingency tests (estimators.response / .contingency)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from tacebench.estimators.contingency import chi_square_test, contingency_table, fisher_exact_test
from tacebench.estimators.propensity import SeparationError
from tacebench.estimators.response import odds_ratio, proportion_ci
from tests.reference.cases import load_case

REL = 1e-6


# --- proportions ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tables():
    return load_case("response_tables")[1]


def test_proportion_ci_matches_r(tables):
    """R: ``binom.test(x, n)$conf.int`` (exact), ``prop.test(x, n, correct = FALSE)$conf.int``
    (wilson), ``prop.test(x, n)$conf.int`` (wilson_cc), also ``conf.level = 0.9``."""
    for e in tables["proportions"]:
        x, n = int(e["x"]), int(e["n"])
        for method, key, level in (("exact", "exact", 0.95), ("exact", "exact90", 0.9),
                                   ("wilson", "wilson", 0.95), ("wilson_cc", "wilson_cc", 0.95)):
            r = proportion_ci(x, n, method, conf_level=level)
            assert r.ci == pytest.approx(tuple(e[key]), rel=REL, abs=1e-15), (x, n, method)
            assert r.estimate == x / n


@pytest.mark.parametrize("x, n", [(0, 12), (3, 12), (48, 282), (282, 282)])
def test_proportion_ci_matches_statsmodels(x, n):
    for ours, theirs in (("wilson", "wilson"), ("exact", "beta")):
        lo, hi = proportion_confint(x, n, alpha=0.05, method=theirs)
        assert proportion_ci(x, n, ours).ci == pytest.approx((lo, hi), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("args, match", [
    ((5, 4), r"count must lie in \[0, n=4\]"), ((-1, 4), "count must lie"), ((1, 0), "n must be at least 1"),
    ((1.5, 4), "count must be a whole number"), ((1, np.nan), "n must be a whole number"),
])
def test_proportion_ci_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        proportion_ci(*args)


def test_proportion_ci_bad_options():
    with pytest.raises(ValueError, match="method must be one of"):
        proportion_ci(1, 4, "wald")
    with pytest.raises(ValueError, match="conf_level"):
        proportion_ci(1, 4, conf_level=95)


# --- odds ratios ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def orcase():
    return load_case("response_or")


def _check(r, e, term=1):
    assert r.log_odds_ratio == pytest.approx(e["coef"][term], rel=REL)
    assert r.se == pytest.approx(e["se"][term], rel=REL)
    assert r.statistic == pytest.approx(e["stat"][term], rel=REL)
    assert r.p_value == pytest.approx(e["p"][term], rel=REL)
    assert r.ci == pytest.approx((np.exp(e["lower"][term]), np.exp(e["upper"][term])), rel=REL)


def test_or_model_variance_matches_glm(orcase):
    """R: ``glm(y ~ treated [+ x1 + x2], family = binomial, control = glm.control(epsilon = 1e-14))``;
    ``summary()$coefficients``, ``confint.default()``."""
    d, e = orcase
    _check(odds_ratio(d["y"], d["treated"]), e["glm_crude"])
    r = odds_ratio(d["y"], d["treated"], d[["x1", "x2"]])
    _check(r, e["glm_adj"])
    f = r.to_frame()
    assert list(f["term"]) == ["(Intercept)", "treated", "x1", "x2"]
    assert f["se"].to_numpy() == pytest.approx(e["glm_adj"]["se"], rel=REL)
    assert f["p_value"].to_numpy() == pytest.approx(e["glm_adj"]["p"], rel=REL)


@pytest.mark.parametrize("key, cols", [("profile_crude", None), ("profile_adj", ["x1", "x2"])])
def test_or_profile_ci_matches_r(orcase, key, cols):
    """R: exact profile limits ``uniroot(function(b) 2 * (logLik(fit) - logLik(glm(y ~ 1 [+ x1 + x2],
    offset = b * treated))) - qchisq(.95, 1), ...)`` to 1e-6; ``confint(glm(y ~ treated [+ x1 + x2],
    family = binomial))`` (MASS, grid + spline interpolation of the profile) to 1e-4."""
    d, e = orcase
    r = odds_ratio(d["y"], d["treated"], None if cols is None else d[cols], ci_method="profile")
    assert np.log(r.ci) == pytest.approx(e[key]["exact"], rel=REL)
    assert np.log(r.ci) == pytest.approx(e[key]["mass"], rel=1e-4)
    assert r.p_value == odds_ratio(d["y"], d["treated"], None if cols is None else d[cols]).p_value


def test_or_robust_matches_svyglm(orcase):
    """R: ``svyglm(y ~ treated [+ x1 + x2], design = svydesign(ids = ~1, weights = ~w, data = d),
    family = quasibinomial())``: ``summary()$coefficients`` (t on ``df.residual``) and
    ``confint()``; and with ``weights = ~1``."""
    d, e = orcase
    r = odds_ratio(d["y"], d["treated"], weights=d["w"], variance="robust")
    _check(r, e["svy_crude"])
    assert r.df == e["svy_crude"]["df"]
    ra = odds_ratio(d["y"], d["treated"], d[["x1", "x2"]], d["w"], variance="robust")
    _check(ra, e["svy_adj"])
    fa = ra.to_frame()
    assert fa["se"].to_numpy() == pytest.approx(e["svy_adj"]["se"], rel=REL)
    assert np.log(fa["ci_lower"]).to_numpy() == pytest.approx(e["svy_adj"]["lower"], rel=REL)
    _check(odds_ratio(d["y"], d["treated"], variance="robust"), e["svy_unweighted"])


def test_or_model_matches_statsmodels(orcase):
    d, _ = orcase
    X = sm.add_constant(d[["treated", "x1"]].astype(float))
    fit = sm.GLM(d["y"], X, family=sm.families.Binomial(), freq_weights=d["w"]).fit(tol=1e-13)
    r = odds_ratio(d["y"], d["treated"], d[["x1"]], d["w"])
    assert r.log_odds_ratio == pytest.approx(fit.params["treated"], rel=1e-8)
    assert r.se == pytest.approx(fit.bse["treated"], rel=1e-8)


def test_crude_or_is_cross_product_ratio():
    tab = np.array([[234, 48], [86, 30]])  # control/treated x no/yes (seed 000 ORR counts)
    y = np.repeat([0, 1, 0, 1], tab.ravel())
    t = np.repeat([0, 0, 1, 1], tab.ravel())
    assert np.array_equal(contingency_table(y, t), tab)
    r = odds_ratio(y, t)
    assert r.odds_ratio == pytest.approx(tab[0, 0] * tab[1, 1] / (tab[0, 1] * tab[1, 0]), rel=1e-10)
    assert r.se == pytest.approx(np.sqrt((1 / tab).sum()), rel=1e-8)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(1e-3, 1e3))
def test_or_weight_scaling_and_label_swap(seed, c):
    rng = np.random.default_rng(seed)
    n = 120
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < 0.3 + 0.2 * t).astype(int)
    w = rng.uniform(0.5, 4, n)
    if len(np.unique(np.c_[t, y], axis=0)) < 4:
        return
    a = odds_ratio(y, t, weights=w, variance="robust")
    b = odds_ratio(y, t, weights=c * w, variance="robust")
    s = odds_ratio(y, 1 - t, weights=w, variance="robust")
    assert b.log_odds_ratio == pytest.approx(a.log_odds_ratio, rel=1e-8, abs=1e-10)
    assert b.se == pytest.approx(a.se, rel=1e-8)
    assert s.log_odds_ratio == pytest.approx(-a.log_odds_ratio, rel=1e-8, abs=1e-10)
    assert s.se == pytest.approx(a.se, rel=1e-8)


def test_zero_weights_equal_subsetting(orcase):
    d, _ = orcase
    w = d["w"].to_numpy().copy()
    w[:40] = 0
    a = odds_ratio(d["y"], d["treated"], weights=w, variance="robust")
    b = odds_ratio(d["y"][40:], d["treated"][40:], weights=w[40:], variance="robust")
    assert (a.se, a.n, a.df) == pytest.approx((b.se, b.n, b.df), rel=1e-12)


def test_or_separation_is_reported():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    t = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    with pytest.raises(SeparationError, match="separated"):
        odds_ratio(y, t)
    r = odds_ratio(y, t, on_separation="flag")
    assert r.separation and not r.converged


@pytest.mark.parametrize("kwargs, match", [
    (dict(y=[0, 1, 2, 1], treated=[0, 1, 0, 1]), "y must be 0/1"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0]), "mismatched lengths"),
    (dict(y=[0, 1, 0, 1], treated=[1, 1, 1, 1]), "treated must contain both arms"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0, 1], weights=[1, -1, 1, 1]), "weights must be non-negative"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0, 1], X=[[1], [np.nan], [0], [2]]), "X must be finite"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0, 1], variance="sandwich"), "variance must be one of"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0, 1], conf_level=0), "conf_level"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0, 1], ci_method="score"), "ci_method must be one of"),
    (dict(y=[0, 1, 0, 1], treated=[0, 1, 0, 1], variance="robust", ci_method="profile"), "needs variance='model'"),
])
def test_or_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        odds_ratio(**kwargs)


# --- contingency tests ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["orr", "dcr", "small", "zero_cell", "near", "three_by_two"])
def test_chisq_and_fisher_match_r(tables, name):
    """R: ``chisq.test(tab, correct = TRUE)``, ``chisq.test(tab, correct = FALSE)`` and, for
    2 x 2, ``fisher.test(tab)`` ($p.value, $estimate, $conf.int). fisher.test finds the
    conditional MLE and its limits with ``uniroot``'s default tol (~1e-4): the exact check is
    against the same R code run with ``uniroot(tol = 1e-14)``, the plain call to 1e-3."""
    e = tables["tables"][name]
    tab = np.array(e["table"])
    c1 = chi_square_test(tab)
    c0 = chi_square_test(tab, correct=False)
    assert c1.statistic == pytest.approx(e["chisq_yates"], rel=REL)
    assert c1.p_value == pytest.approx(e["p_yates"], rel=REL)
    assert c0.statistic == pytest.approx(e["chisq"], rel=REL)
    assert c0.p_value == pytest.approx(e["p"], rel=REL)
    assert c0.df == e["df"]
    assert c0.expected == pytest.approx(np.array(e["expected"]), rel=REL)
    if tab.shape == (2, 2):
        f = fisher_exact_test(tab)
        assert f.p_value == pytest.approx(e["fisher_p"], rel=REL)
        assert f.p_value == pytest.approx(e["fisher_tight_p"], rel=REL)
        assert f.statistic == pytest.approx(e["fisher_tight_or"], rel=REL)
        assert f.odds_ratio_ci == pytest.approx(tuple(e["fisher_tight_ci"]), rel=REL)
        assert f.statistic == pytest.approx(e["fisher_or"], rel=1e-3)
        assert f.odds_ratio_ci == pytest.approx(tuple(e["fisher_ci"]), rel=1e-2)
        assert "Yates" in c1.method
    else:
        with pytest.raises(ValueError, match="must be 2 x 2"):
            fisher_exact_test(tab)


@pytest.mark.parametrize("table, match", [
    ([[1, 2], [3]], "2-D array of counts"), ([1, 2, 3], "2-D with at least 2 rows"),
    ([[1, -2], [3, 4]], "non-negative whole counts"), ([[1.5, 2], [3, 4]], "whole counts"),
    ([[0, 2], [0, 4]], "empty row or column"),
])
def test_table_bad_input(table, match):
    with pytest.raises(ValueError, match=match):
        chi_square_test(table)


def test_to_frames():
    assert set(chi_square_test([[3, 4], [5, 6]]).to_frame().columns) >= {"statistic", "p_value", "df"}
    assert proportion_ci(3, 10).to_frame()["estimate"].item() == 0.3
    assert isinstance(odds_ratio([0, 1, 1, 0, 1, 0], [0, 0, 1, 1, 1, 0]).to_frame(), pd.DataFrame)


# --- arguments of the wrong type or value: named errors, no leaked warnings ----------

@pytest.mark.parametrize("call, error, match", [
    (lambda: odds_ratio([], []), ValueError, "y and treated must not be empty"),
    (lambda: proportion_ci("5", 20), TypeError, r"count must be a number \(int or float\); got '5'"),
    (lambda: proportion_ci(5, True), TypeError, "n must be a number"),
    (lambda: fisher_exact_test([[3, 2], [1, 4]], conf_level="0.95"), TypeError,
     r"conf_level must be a number in \(0, 1\); got '0.95'"),
    (lambda: chi_square_test([[3, 5], [6, 2]], correct="no"), TypeError,
     "correct must be True or False; got 'no'"),
    (lambda: chi_square_test([[3, 5], [6, 2]], correct=1), TypeError,
     "correct must be True or False; got 1"),
    (lambda: chi_square_test([["3", "5"], ["6", "2"]]), TypeError,
     "table must be a 2-D array of counts: table must be numeric .*got strings"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_flagged_separated_odds_ratio_warns_nothing():
    """No event without treatment: the MLE is infinite. With ``on_separation="flag"``
    the result says so (``separation``), its upper limit overflows to inf, and neither a
    LinAlgWarning nor an overflow RuntimeWarning leaks (warnings are errors in the test
    suite)."""
    rng = np.random.default_rng(1)
    rng.normal(size=60)
    z = (rng.random(60) < 0.5).astype(int)
    y = (rng.random(60) < 0.4).astype(int)
    r = odds_ratio(y * z, z, on_separation="flag")
    assert r.separation and r.ci[1] == np.inf
