"""Kaplan–Meier: R survfit fixtures, lifelines, an IJ finite-difference check, properties,
bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatisticalWarning

from tacebench.estimators.survival import kaplan_meier
from tacebench.estimators.kernels import fit_km
from tests.reference.cases import load_case

# the machine is shared: slow generation under load is not a failure of the property
RELAXED = [HealthCheck.too_slow, HealthCheck.filter_too_much]

RTOL = 1e-10  # observed agreement ~1e-14; the bar is 1e-6


def assert_close_nan(actual, expected, rtol=RTOL):
    """Equal where R is finite, and non-finite exactly where R is (NA/Inf)."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape
    np.testing.assert_array_equal(np.isfinite(a), np.isfinite(e))
    np.testing.assert_allclose(a[np.isfinite(e)], e[np.isfinite(e)], rtol=rtol, atol=0)


def r_quantile(x):
    """R prints NA for a median or limit that is not reached; we return inf."""
    return np.inf if np.isnan(x) else x


@pytest.fixture(scope="module")
def ties_case():
    return load_case("surv_iptw_ties")


KINDS = {  # fixture key -> (weighted?, variance)
    "unweighted": (False, "auto"),
    "weighted_naive": (True, "greenwood"),
    "weighted_ij": (True, "ij"),
}


@pytest.mark.parametrize("arm", [0, 1])
@pytest.mark.parametrize("kind", list(KINDS))
def test_curve_matches_r_survfit(ties_case, arm, kind):
    """R: survfit(Surv(time, event) ~ 1, data = arm, weights = w, conf.type = "log-log",
    robust = FALSE | TRUE); fit$surv, fit$std.err, fit$lower, fit$upper, fit$n.risk.

    R's ``std.err`` is the SE of log S for the model-based variance but the SE of S itself
    for the robust (IJ) variance; its CIs use the log scale in both cases.
    """
    data, expected = ties_case
    sub = data[data.treated == arm]
    weighted, variance = KINDS[kind]
    e = expected["km"][f"arm{arm}_{kind}"]
    km = kaplan_meier(sub.time, sub.event, sub.w if weighted else None, variance=variance)
    lower, upper = km.confint()
    assert_close_nan(km.times, e["time"])
    assert_close_nan(km.survival, e["surv"])
    assert_close_nan(km.n_risk, e["n_risk"])
    assert_close_nan(km.n_event, e["n_event"])
    assert_close_nan(km.se if variance == "ij" else km.se_log, e["std_err"])
    assert_close_nan(lower, e["lower"])
    assert_close_nan(upper, e["upper"])


@pytest.mark.parametrize("arm", [0, 1])
@pytest.mark.parametrize("kind", list(KINDS))
def test_median_ci_survival_at_and_rmst_match_r(ties_case, arm, kind):
    """R: summary(fit, rmean = 24)$table[c("median", "0.95LCL", "0.95UCL", "rmean",
    "se(rmean)")]; summary(fit, times = c(0.5, 3, 6, 12, 24, 30)).

    R's RMST SE for a weighted fit always uses the Greenwood-type formula on the weighted
    counts, so under ``variance="ij"`` only the estimate is compared (the IJ SE is checked
    by finite differences below).
    """
    data, expected = ties_case
    sub = data[data.treated == arm]
    weighted, variance = KINDS[kind]
    e = expected["km"][f"arm{arm}_{kind}"]
    km = kaplan_meier(sub.time, sub.event, sub.w if weighted else None, variance=variance)
    med = km.median()
    np.testing.assert_allclose(med, [r_quantile(e[k]) for k in
                                     ("median", "median_lcl", "median_ucl")], rtol=RTOL)
    rm = km.rmst(e["tau"])
    np.testing.assert_allclose(rm.estimate, e["rmean"], rtol=RTOL)
    if variance != "ij":
        np.testing.assert_allclose(rm.se, e["rmean_se"], rtol=RTOL)
    at = km.survival_at(e["at_times"])
    assert_close_nan(at.survival, e["at_surv"])
    assert_close_nan(at.se, e["at_se"])
    assert_close_nan(at.lower, e["at_lower"])
    assert_close_nan(at.upper, e["at_upper"])


@pytest.mark.parametrize("arm", [0, 1])
def test_xie_liu_variance_matches_formula_written_in_r(ties_case, arm):
    """R (reference.R, ``xie_liu_se``): sqrt(cumsum(dw / (M (Yw - dw)))) with
    M = Yw^2 / sum(w^2 at risk), a loop over times written from Xie & Liu (2005)."""
    data, expected = ties_case
    sub = data[data.treated == arm]
    e = expected["km"][f"arm{arm}_xie_liu"]
    km = kaplan_meier(sub.time, sub.event, sub.w)  # auto -> xie_liu with weights
    assert km.variance == "xie_liu"
    assert_close_nan(km.times, e["time"])
    assert_close_nan(km.se_log, e["std_err"])


@pytest.mark.parametrize("group", ["A", "B", "C", "D"])
def test_edge_cases_match_r(group):
    """R: survfit(Surv(time, event) ~ 1, conf.type = "log-log"); summary(fit, rmean = 7)
    and rmean = 20 (beyond the last time: R carries S flat, our ``extend=True``).

    A: S is exactly 0.5 on [5, 6) -> median 5.5 (midpoint rule); C: median not reached
    (R NA, our inf); D: one event at the last time, S drops to 0.
    """
    data, expected = load_case("surv_km_edge")
    sub = data[data.group == group]
    e = expected[group]
    km = kaplan_meier(sub.time, sub.event)
    assert_close_nan(km.survival, e["surv"])
    assert_close_nan(km.se_log, e["std_err"])
    np.testing.assert_allclose(km.median(), [r_quantile(e[k]) for k in
                                             ("median", "median_lcl", "median_ucl")])
    r7 = km.rmst(7)
    np.testing.assert_allclose([r7.estimate, r7.se], [e["rmean7"], e["rmean7_se"]], rtol=RTOL)
    r20 = km.rmst(20, extend=True)
    np.testing.assert_allclose([r20.estimate, r20.se], [e["rmean20"], e["rmean20_se"]],
                               rtol=RTOL)


def test_rmst_beyond_follow_up_needs_extend():
    data, _ = load_case("surv_km_edge")
    sub = data[data.group == "B"]  # last observation censored at 12
    with pytest.raises(ValueError, match="tau"):
        kaplan_meier(sub.time, sub.event).rmst(20)


def test_ij_variance_equals_finite_difference_jackknife(ties_case):
    """IJ variance = sum_i (w_i d theta / d w_i)^2; check S(t) and RMST by central
    differences in each weight (an implementation-independent check)."""
    data, _ = ties_case
    sub = data[data.treated == 1].iloc[:60]
    t, e, w = sub.time.to_numpy(), sub.event.to_numpy(), sub.w.to_numpy()
    km = kaplan_meier(t, e, w, variance="ij")
    at = np.array([3.0, 9.0, 15.0])
    tau = 15.0
    h = 1e-6

    def stats(ww):
        k = kaplan_meier(t, e, ww, variance="greenwood")
        return np.append(k.survival_at(at).survival, k.rmst(tau).estimate)

    grads = np.empty((len(w), at.size + 1))
    for i in range(len(w)):
        up, dn = w.copy(), w.copy()
        up[i] += h
        dn[i] -= h
        grads[i] = (stats(up) - stats(dn)) / (2 * h)
    se_fd = np.sqrt(((w[:, None] * grads) ** 2).sum(axis=0))
    np.testing.assert_allclose(km.survival_at(at).se, se_fd[:-1], rtol=1e-6)
    np.testing.assert_allclose(km.rmst(tau).se, se_fd[-1], rtol=1e-6)


def test_matches_lifelines_kaplan_meier_fitter(ties_case):
    """lifelines KaplanMeierFitter: survival function, Greenwood variance (unweighted) and
    the weighted survival function (lifelines' weighted variance is the naive one)."""
    data, _ = ties_case
    km = kaplan_meier(data.time, data.event)
    kmf = KaplanMeierFitter().fit(data.time, data.event)
    sf = kmf.survival_function_.iloc[1:, 0]  # lifelines adds t = 0
    np.testing.assert_allclose(km.times, sf.index.to_numpy())
    np.testing.assert_allclose(km.survival, sf.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(km.median().estimate, kmf.median_survival_time_)
    ci = kmf.confidence_interval_survival_function_.iloc[1:]  # lifelines' default: log-log
    lower, upper = km.confint()
    ok = (km.survival > 0) & (km.survival < 1)
    np.testing.assert_allclose(lower[ok], ci.iloc[:, 0].to_numpy()[ok], rtol=1e-10)
    np.testing.assert_allclose(upper[ok], ci.iloc[:, 1].to_numpy()[ok], rtol=1e-10)
    kmw = kaplan_meier(data.time, data.event, data.w)
    with pytest.warns(StatisticalWarning, match="weights are not integers"):
        kmfw = KaplanMeierFitter().fit(data.time, data.event, weights=data.w)
    np.testing.assert_allclose(kmw.survival, kmfw.survival_function_.iloc[1:, 0], rtol=1e-12)


def test_equal_weights_give_greenwood_on_counts(ties_case):
    data, _ = ties_case
    plain = kaplan_meier(data.time, data.event)
    scaled = kaplan_meier(data.time, data.event, np.full(len(data), 3.7))
    np.testing.assert_allclose(scaled.survival, plain.survival, rtol=1e-13)
    np.testing.assert_allclose(scaled.se_log, plain.se_log, rtol=1e-12)
    assert plain.variance == "greenwood"


def test_kernel_equals_public_function(ties_case):
    data, _ = ties_case
    t, e, w = (data[c].to_numpy(dtype=float) for c in ("time", "event", "w"))
    a = kaplan_meier(t, e, w, variance="xie_liu")
    b = fit_km(t, e.astype(np.int8), w, "xie_liu")
    np.testing.assert_array_equal(a.survival, b.survival)
    np.testing.assert_array_equal(a.se_log, b.se_log)


def test_to_frame_columns(ties_case):
    data, _ = ties_case
    frame = kaplan_meier(data.time, data.event).to_frame()
    assert list(frame.columns) == ["time", "n_risk", "n_event", "n_censor", "survival", "se",
                                   "lower", "upper"]
    assert frame.n_event.sum() == data.event.sum()


survival_data = st.integers(2, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 15), min_size=n, max_size=n),
    st.lists(st.integers(0, 1), min_size=n, max_size=n),
    st.lists(st.floats(0.1, 10), min_size=n, max_size=n)))


@settings(max_examples=60, deadline=None, suppress_health_check=RELAXED)
@given(survival_data)
def test_property_monotone_in_unit_interval(data):
    t, e, w = (np.asarray(x, dtype=float) for x in data)
    for weights in (None, w):
        km = kaplan_meier(t, e, weights)
        assert np.all(km.survival >= -1e-15) and np.all(km.survival <= 1 + 1e-15)
        assert np.all(np.diff(km.survival) <= 1e-15)
        assert np.all(np.nan_to_num(km.se, nan=0) >= 0)


@settings(max_examples=40, deadline=None, suppress_health_check=RELAXED)
@given(survival_data, st.randoms(use_true_random=False))
def test_property_row_permutation_invariance(data, rnd):
    t, e, w = (np.asarray(x, dtype=float) for x in data)
    perm = np.array(rnd.sample(range(len(t)), len(t)))
    for variance in ("xie_liu", "ij", "greenwood"):
        a = kaplan_meier(t, e, w, variance=variance)
        b = kaplan_meier(t[perm], e[perm], w[perm], variance=variance)
        np.testing.assert_allclose(a.survival, b.survival, rtol=1e-12)
        np.testing.assert_allclose(a.se_log, b.se_log, rtol=1e-9)
        assert a.median() == b.median()


@pytest.mark.parametrize("kwargs, match", [
    (dict(time=[1, -2, 3], event=[1, 0, 1]), "time must be non-negative"),
    (dict(time=[1, np.nan, 3], event=[1, 0, 1]), "time must be finite"),
    (dict(time=[1, 2, 3], event=[1, 2, 1]), "event must be 0/1"),
    (dict(time=[1, 2, 3], event=[1, 0]), "mismatched lengths"),
    (dict(time=[1, 2, 3], event=[1, 0, 1], weights=[1, -1, 1]), "weights must be non-negative"),
    (dict(time=[1, 2, 3], event=[1, 0, 1], weights=[1, np.nan, 1]), "weights must be finite"),
    (dict(time=[1, 2, 3], event=[1, 0, 1], weights=[1, 1]), "mismatched lengths"),
    (dict(time=[1, 2, 3], event=[1, 0, 1], variance="naive"), "variance must be one of"),
    (dict(time=[1, 2, 3], event=[1, 0, 1], conf_level=95), "conf_level"),
    (dict(time=[], event=[]), "time must not be empty"),
])
def test_bad_input_raises_value_error_naming_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kaplan_meier(**kwargs)


def test_zero_events_is_a_flat_curve_not_an_error():
    km = kaplan_meier([1.0, 2.0, 3.0], [0, 0, 0])
    np.testing.assert_array_equal(km.survival, 1.0)
    assert km.median() == (np.inf, np.inf, np.inf)


def test_survival_at_outside_the_observed_times():
    km = kaplan_meier([2.0, 3.0, 5.0, 7.0], [1, 0, 1, 0])
    at = km.survival_at([0.0, 1.9, 7.0, 8.0])
    np.testing.assert_allclose(at.survival[:3], [1.0, 1.0, 0.375])
    assert np.isnan(at.survival[3]) and np.isnan(at.lower[3])  # beyond follow-up
    np.testing.assert_array_equal(at.lower[:2], [1.0, 1.0])
    done = kaplan_meier([2.0, 3.0], [1, 1])
    assert done.survival_at([10.0]).survival[0] == 0.0  # the curve reached 0


def test_quantile_generalises_the_median():
    data, _ = load_case("surv_km_edge")
    sub = data[data.group == "A"]  # deaths at 1..10: S = 1 - k/10
    km = kaplan_meier(sub.time, sub.event)
    assert km.quantile(0.5) == km.median()
    assert km.quantile(0.2).estimate == 2.5  # S = 0.8 exactly on [2, 3): midpoint rule
    assert km.quantile(0.25).estimate == 3.0  # S jumps from 0.8 to 0.7 at 3
    with pytest.raises(ValueError, match="p must lie"):
        km.quantile(1.0)


KM = dict(time=[1.0, 2, 3, 4, 5], event=[1, 0, 1, 1, 0])


@pytest.mark.parametrize("call, match", [
    (lambda: kaplan_meier(**KM, conf_level="0.95"), r"conf_level must be a number in \(0, 1\); got '0.95'"),
    (lambda: kaplan_meier(np.array([1, 2, 3]) + 0j, [1, 0, 1]),
     r"time must be numeric \(real numbers\); got complex numbers"),
    (lambda: kaplan_meier(np.array(["2020-01-01", "2020-02-01"], dtype="datetime64[ns]"), [1, 0]),
     r"time must be numeric \(real numbers\); got dates \(datetime64\): convert them to durations"),
    (lambda: kaplan_meier(np.array([1, 2], dtype="timedelta64[D]"), [1, 0]),
     r"got durations \(timedelta64\): convert them to numbers of a time unit"),
    (lambda: kaplan_meier(["1", "2"], [1, 0]), "time must be numeric .*got strings"),
    (lambda: kaplan_meier(**KM).survival_at("5"), "times must be numeric .*got strings, e.g. '5'"),
    (lambda: kaplan_meier(**KM).rmst("10"), r"tau must be a number \(int or float\); got '10'"),
    (lambda: kaplan_meier(**KM).rmst(3, extend="yes"), "extend must be True or False"),
    (lambda: kaplan_meier(**KM).quantile("0.5"), r"p must be a number \(int or float\); got '0.5'"),
])
def test_arguments_of_the_wrong_type_are_named(call, match):
    """A TypeError naming the argument, and no ComplexWarning (warnings are errors)."""
    with pytest.raises(TypeError, match=match):
        call()


def test_quantile_rule_against_quantile_survfit_and_print_survfit():
    """R: quantile(survfit(Surv(time, event) ~ 1, conf.type = "log-log"), probs) and
    summary(fit)$table["median"]. Ours is print.survfit's rule at every level: equal to
    quantile.survfit except where S equals 1 - p exactly up to the last time (P at
    p = 0.25: 5 vs 12.5; Q at the median: 10 = print.survfit vs 15)."""
    data, e = load_case("km_quantile_plateau")
    differs = {("P", 0.25): 5.0, ("Q", 0.5): 10.0}
    for s in "PQR":
        d = data[data.dataset == s]
        km = kaplan_meier(d.time, d.event)
        for i, p in enumerate(e["probs"]):
            got = np.nan_to_num(np.array(tuple(km.quantile(p))), posinf=np.nan)
            want = np.array([e[s]["quantile"][i], e[s]["lower"][i], e[s]["upper"][i]])
            want[0] = differs.get((s, p), want[0])
            np.testing.assert_array_equal(got, want)
        med = np.nan_to_num(np.array(tuple(km.median())), posinf=np.nan)
        np.testing.assert_array_equal(med, [e[s]["median"], e[s]["median_lcl"],
                                            e[s]["median_ucl"]])
