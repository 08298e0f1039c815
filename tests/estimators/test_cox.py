"""Cox model against R coxph fixtures (ties, weights, robust, cluster, counting process)
and lifelines; monotone likelihood; bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from tacebench.estimators.survival import cox_ph
from tacebench.estimators.kernels import fit_cox
from tests.reference.cases import load_case

RTOL = 1e-9  # observed ~1e-13 (the bar: 1e-6; 1e-8 for robust SEs with ties)


@pytest.fixture(scope="module")
def ties_case():
    data, expected = load_case("surv_iptw_ties")
    data = data.assign(lsize=np.log(data["size"]))
    return data, expected["cox"]


TIES_FITS = {
    # fixture key: (ties, weighted, robust, cluster)
    "efron": ("efron", False, False, False),
    "breslow": ("breslow", False, False, False),
    "efron_w_robust": ("efron", True, True, False),
    "breslow_w_robust": ("breslow", True, True, False),
    "efron_w_cluster": ("efron", True, False, True),
    "breslow_w_cluster": ("breslow", True, False, True),
}


def check_against_r(fit, e):
    np.testing.assert_allclose(fit.coef, e["coef"], rtol=RTOL)
    np.testing.assert_allclose(fit.var, np.asarray(e["var"]).reshape(fit.var.shape), rtol=RTOL)
    if e.get("naive_var") is not None:
        np.testing.assert_allclose(fit.naive_var, np.asarray(e["naive_var"]).reshape(fit.var.shape),
                                   rtol=RTOL)
    np.testing.assert_allclose([fit.loglik_null, fit.loglik], e["loglik"], rtol=1e-12)
    if "score_resid" in e:
        np.testing.assert_allclose(fit.score_residuals, e["score_resid"], rtol=0, atol=1e-11)
    assert fit.converged and not fit.monotone


@pytest.mark.parametrize("key", list(TIES_FITS))
def test_tied_times_match_r_coxph(ties_case, key):
    """R: coxph(Surv(time, event) ~ treated + age + male + log(size), data,
    weights = w, robust = TRUE | cluster = centre, ties = "efron" | "breslow",
    control = coxph.control(eps = 1e-12)); coef, var, naive.var, loglik,
    residuals(fit, type = "score"). Whole-month times: heavy ties, IPTW weights."""
    data, cox = ties_case
    ties, weighted, robust, cluster = TIES_FITS[key]
    fit = cox_ph(data.time, data.event, data[["treated", "age", "male", "lsize"]],
                 data.w if weighted else None, robust=robust, ties=ties,
                 cluster=data.centre if cluster else None)
    assert fit.names == ("treated", "age", "male", "lsize")
    assert fit.robust == (robust or cluster)
    check_against_r(fit, cox[key])
    np.testing.assert_allclose(fit.se, np.sqrt(np.diag(fit.naive_var)))


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_iptw_hazard_ratio_matches_r(ties_case, ties):
    """R: coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE, ties = ties):
    the papers' IPTW HR with robust SE; CI and Wald p use the robust SE as R's summary."""
    data, cox = ties_case
    e = cox[f"iptw_{ties}"]
    fit = cox_ph(data.time, data.event, data.treated, data.w, robust=True, ties=ties)
    check_against_r(fit, e)
    se = np.sqrt(e["var"][0][0])
    np.testing.assert_allclose(fit.ci[0], np.exp(np.array(e["coef"]) + np.array([-1, 1]) *
                                                 1.959963984540054 * se), rtol=1e-12)
    assert fit.p_value[0] < 0.05


@pytest.fixture(scope="module")
def counting_case():
    return load_case("surv_counting")


COUNTING_FITS = {
    "efron_w_cluster": dict(weighted=True, ties="efron", cluster=True),
    "breslow_w_cluster": dict(weighted=True, ties="breslow", cluster=True),
    "efron_cluster": dict(weighted=False, ties="efron", cluster=True),
    "efron_model": dict(weighted=False, ties="efron", cluster=False),
}


@pytest.mark.parametrize("key", list(COUNTING_FITS))
def test_counting_process_matches_r(counting_case, key):
    """R: coxph(Surv(start, stop, event) ~ x + z + male, data, weights = w,
    cluster = id, ties = ...): a time-varying treatment by row splitting, delayed entry,
    start times tied with event times (not at risk: intervals are (start, stop])."""
    data, expected = counting_case
    spec = COUNTING_FITS[key]
    fit = cox_ph(data.stop, data.event, data[["x", "z", "male"]],
                 data.w if spec["weighted"] else None, entry=data.start, ties=spec["ties"],
                 cluster=data.id if spec["cluster"] else None)
    check_against_r(fit, expected["cox"][key])


def test_left_truncation_matches_r(counting_case):
    """R: coxph(Surv(entry, stop, event) ~ z + male, data = one row per subject,
    weights = w, cluster = id): delayed entry without covariate change."""
    data, expected = counting_case
    first = data.drop_duplicates("id")
    last = data.drop_duplicates("id", keep="last")
    fit = cox_ph(last.stop.to_numpy(), last.event.to_numpy(), first[["z", "male"]].to_numpy(),
                 first.w.to_numpy(), entry=first.start.to_numpy(), robust=True)
    check_against_r(fit, expected["cox"]["truncation_w_robust"])


def test_robust_variance_is_cross_product_of_dfbeta(ties_case):
    data, _ = ties_case
    fit = cox_ph(data.time, data.event, data[["treated", "age"]], data.w, robust=True)
    np.testing.assert_allclose(fit.var, fit.dfbeta.T @ fit.dfbeta, rtol=1e-12)
    np.testing.assert_allclose((fit.weights[:, None] * fit.score_residuals).sum(axis=0), 0,
                               atol=1e-8)


def test_score_residuals_are_derivative_of_score_in_weights(ties_case):
    """Under Breslow ties, dU/dw_k = L_k (what the IPTW M-estimation variance uses)."""
    from tacebench.estimators.kernels import CoxRiskSets as RiskSets, evaluate_cox as evaluate

    data, _ = ties_case
    t, e = data.time.to_numpy(float), data.event.to_numpy()
    X = data[["treated", "age"]].to_numpy(float)
    w = data.w.to_numpy(float)
    fit = cox_ph(t, e, X, w, ties="breslow")
    h = 1e-6
    for k in (0, 7, 123):
        up, dn = w.copy(), w.copy()
        up[k] += h
        dn[k] -= h
        du = (evaluate(RiskSets(t, e, X, up, "breslow"), fit.coef).score
              - evaluate(RiskSets(t, e, X, dn, "breslow"), fit.coef).score) / (2 * h)
        np.testing.assert_allclose(du, fit.score_residuals[k], rtol=1e-6, atol=1e-8)


def untied_data(seed=3, n=250):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    z = rng.integers(0, 2, n)
    t = rng.exponential(10 * np.exp(-0.5 * z - 0.3 * x[:, 0]))
    c = rng.uniform(2, 30, n)
    return pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "z": z,
                         "x1": x[:, 0], "x2": x[:, 1], "w": rng.uniform(0.5, 4, n)})


def test_matches_lifelines_without_ties():
    """lifelines CoxPHFitter(robust=True) with weights_col, no tied times: coefficients,
    robust SE and log-likelihood. (lifelines stops at ~1e-7 precision.)"""
    d = untied_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns about non-integer weights
        cp = CoxPHFitter().fit(d, "time", "event", weights_col="w", robust=True)
    fit = cox_ph(d.time, d.event, d[["z", "x1", "x2"]], d.w, robust=True)
    np.testing.assert_allclose(fit.coef, cp.params_.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.robust_se, cp.standard_errors_.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, cp.log_likelihood_, rtol=1e-10)


def test_lifelines_robust_se_is_off_with_ties_and_we_match_r(ties_case):
    """With tied times lifelines' robust SE differs from R's by ~0.5-2% (here), while its
    coefficients agree; we follow R (see test_tied_times_match_r_coxph)."""
    data, cox = ties_case
    frame = data[["time", "event", "treated", "age", "male", "lsize", "w"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp = CoxPHFitter().fit(frame, "time", "event", weights_col="w", robust=True)
    r_se = np.sqrt(np.diag(cox["efron_w_robust"]["var"]))
    np.testing.assert_allclose(cp.params_.to_numpy(), cox["efron_w_robust"]["coef"], rtol=1e-5)
    assert np.max(np.abs(cp.standard_errors_.to_numpy() / r_se - 1)) > 3e-3


def test_monotone_likelihood_is_flagged_not_a_huge_hr():
    """No events in the treated arm: the partial likelihood increases as beta -> -inf
    (R warns "coefficient may be infinite" and prints a huge finite HR)."""
    rng = np.random.default_rng(5)
    n = 60
    z = np.r_[np.zeros(30), np.ones(30)]
    x = rng.normal(size=n)
    t = rng.exponential(5, n)
    e = np.where(z == 1, 0, 1)
    fit = cox_ph(t, e, np.column_stack([z, x]), names=["treated", "x"])
    assert fit.monotone and not fit.estimable
    assert list(fit.infinite) == [True, False]
    assert fit.coef[0] == -np.inf and fit.hr[0] == 0
    assert np.isnan(fit.se[0]) and np.isnan(fit.p_value[0]) and np.isnan(fit.ci[0]).all()
    assert np.isfinite(fit.coef[1]) and np.isfinite(fit.se[1])
    assert "monotone likelihood" in fit.message and "treated" in fit.message
    firth = cox_ph(t, e, np.column_stack([z, x]), firth=True)
    assert not firth.monotone and np.all(np.isfinite(firth.coef)) and firth.coef[0] < -2


def test_no_variation_within_risk_sets_is_flagged_singular():
    """x varies overall but not within any risk set at an event time: no information
    (R: "X matrix deemed to be singular", coefficient NA)."""
    t = np.array([1.0, 2, 3, 4, 5, 6])
    e = np.array([0, 0, 0, 0, 1, 0])
    x = np.array([1.0, 0, 1, 0, 2, 2])  # at t=5 the risk set is {5, 6}, both x = 2
    fit = cox_ph(t, e, x)
    assert fit.singular and not fit.estimable
    assert np.isnan(fit.coef).all() and "singular" in fit.message


def test_regular_fits_are_not_flagged(ties_case):
    data, _ = ties_case
    for cols in (["treated"], ["treated", "age", "male", "lsize"]):
        fit = cox_ph(data.time, data.event, data[cols], data.w)
        assert not fit.monotone and fit.converged and not fit.infinite.any()


def test_zero_weight_rows_are_dropped(ties_case):
    data, _ = ties_case
    w = data.w.to_numpy().copy()
    w[:40] = 0
    a = cox_ph(data.time, data.event, data[["treated", "age"]], w, robust=True)
    sub = data.iloc[40:]
    b = cox_ph(sub.time, sub.event, sub[["treated", "age"]], sub.w, robust=True)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.var, b.var, rtol=1e-10)
    assert a.score_residuals.shape == (len(data), 2) and not a.score_residuals[:40].any()


def test_kernel_equals_public_function(ties_case):
    data, _ = ties_case
    X = data[["treated", "age"]].to_numpy(float)
    a = cox_ph(data.time, data.event, X, data.w, robust=True)
    b = fit_cox(data.time.to_numpy(float), data.event.to_numpy(np.int8), X,
                 data.w.to_numpy(float), robust=True)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.var, b.var)


def test_to_frame_and_to_dict(ties_case):
    data, _ = ties_case
    fit = cox_ph(data.time, data.event, data[["treated", "age"]], data.w, robust=True)
    frame = fit.to_frame()
    assert list(frame.term) == ["treated", "age"]
    assert {"coef", "hr", "se", "robust_se", "p_value", "hr_lower", "hr_upper"} <= set(frame)
    assert fit.to_dict()["treated"]["se"] == pytest.approx(fit.robust_se[0])


T, E = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 0, 1, 1, 0, 1]
X1 = [[0.0], [1.0], [0.0], [1.0], [0.0], [1.0]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(time=[1, -2, 3, 4, 5, 6], event=E, X=X1), "time must be non-negative"),
    (dict(time=[1, np.nan, 3, 4, 5, 6], event=E, X=X1), "time must be finite"),
    (dict(time=T, event=[1, 0, 2, 1, 0, 1], X=X1), "event must be 0/1"),
    (dict(time=T, event=E, X=X1[:5]), "mismatched lengths"),
    (dict(time=T, event=E, X=[[0], [1], [np.nan], [1], [0], [1]]), "X must be finite"),
    (dict(time=T, event=E, X=X1, weights=[1, 1, -1, 1, 1, 1]), "weights must be non-negative"),
    (dict(time=T, event=E, X=X1, weights=[1, 1, np.nan, 1, 1, 1]), "weights must be finite"),
    (dict(time=T, event=[0] * 6, X=X1), "event has no events"),
    (dict(time=T, event=E, X=[[1.0]] * 6), "constant"),
    (dict(time=T, event=E, X=np.column_stack([np.r_[0, 1, 0, 1, 0, 1.0], np.r_[0, 2, 0, 2, 0, 2.0]])),
     "collinear"),
    (dict(time=T, event=E, X=X1, ties="exact"), "ties must be one of"),
    (dict(time=T, event=E, X=X1, entry=[0, 0, 3, 0, 0, 0]), "entry must be < time"),
    (dict(time=T, event=E, X=X1, cluster=[1, 2, None, 1, 2, 3]), "cluster"),
    (dict(time=T, event=E, X=X1, names=["a", "b"]), "names must have one entry"),
    (dict(time=T, event=E, X=X1, conf_level=1.5), "conf_level"),
])
def test_bad_input_raises_value_error_naming_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cox_ph(**kwargs)


# --- arguments of the wrong type or value: named errors, never a fit of NaN -----------

X2 = np.column_stack([np.asarray(X1)[:, 0], [1, 2, 3, 1, 2, 2.0]])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(X=X2, init=[0]), ValueError, r"init must have one starting value per column of X \(2\); got 1"),
    (dict(init=[np.nan]), ValueError, "init must be finite"),
    (dict(max_iter=0), ValueError, "max_iter must be an integer >= 1; got 0"),
    (dict(max_iter=-1), ValueError, "max_iter must be an integer >= 1; got -1"),
    (dict(max_iter="50"), TypeError, "max_iter must be an integer >= 1; got '50'"),
    (dict(max_iter=2.5), TypeError, "max_iter must be an integer >= 1; got 2.5"),
    (dict(tol=float("nan")), ValueError, "tol must be a positive finite number; got nan"),
    (dict(tol=-1), ValueError, "tol must be a positive finite number; got -1"),
    (dict(conf_level="0.95"), TypeError, r"conf_level must be a number in \(0, 1\); got '0.95'"),
    (dict(robust="yes"), TypeError, "robust must be True or False; got 'yes'"),
    (dict(firth=1), TypeError, "firth must be True or False; got 1"),
    (dict(X=np.empty((6, 0))), ValueError, r"X has no columns \(shape \(6, 0\)\)"),
    (dict(X=pd.DataFrame({"c": pd.Categorical(list("ababab"))})), TypeError,
     "X column 'c' must be numeric; it is categorical"),
    (dict(X=pd.DataFrame({"c": list("ababab")})), TypeError,
     r"X column 'c' must be numeric \(real numbers\); got 'a'"),
    (dict(X=pd.DataFrame({"a": pd.array([0, 1, None, 1, 0, 1], dtype="Float64")})),
     ValueError, r"X column 'a' has 1 missing value\(s\) \(rows \[2\]"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        cox_ph(**{"time": T, "event": E, "X": X1, **kwargs})


def test_arguments_of_the_right_type_give_the_same_fit():
    """numpy scalars, 0/1 numpy bools and nullable columns without missing values are
    the values they hold: the fit is the one of the plain Python values, to the bit."""
    plain = cox_ph(T, E, X1, robust=True, max_iter=30, tol=1e-8, conf_level=0.9)
    other = cox_ph(T, E, pd.DataFrame({"x0": pd.array(np.asarray(X1)[:, 0], dtype="Float64")}),
                   robust=np.bool_(True), max_iter=np.int64(30), tol=np.float64(1e-8),
                   conf_level=np.float64(0.9))
    for name in ("coef", "se", "robust_se", "ci"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(other, name))


@pytest.mark.parametrize("firth", [False, True])
def test_loglik_null_is_at_zero_whatever_init(ties_case, firth):
    """``loglik_null`` is the (penalized) log partial likelihood at 0 as documented, also
    with ``init`` (R ``coxph(init = b)$loglik[1]`` is at ``b``; ours stays at 0, so the
    likelihood-ratio statistic ``2 (loglik - loglik_null)`` is unchanged by ``init``)."""
    data, e = ties_case
    X = data[["treated", "lsize"]]
    plain = cox_ph(data.time, data.event, X, firth=firth)
    started = cox_ph(data.time, data.event, X, firth=firth, init=[0.1, -0.2])
    assert started.loglik_null == plain.loglik_null
    np.testing.assert_allclose(started.coef, plain.coef, rtol=1e-8)
    if not firth:
        np.testing.assert_allclose(started.loglik_null, e["efron"]["loglik"][0], rtol=1e-12)
