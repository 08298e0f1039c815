"""estimators.batch: each replicate (row) equals the one-replicate estimator, which
tests/estimators/test_cox.py etc. check against R; plus R's own numbers directly, the
invariants, the fallback for degenerate replicates and input errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tacebench.estimators.batch import (CAPABILITIES, cox_ph_batch, iptw_weights_batch,
                              km_median_batch, km_survival_batch, logistic_regression_batch,
                              logrank_batch)
from tacebench.estimators.kernels import fit_logistic
from tacebench.estimators.kernels import fit_cox
from tacebench.estimators.kernels import fit_km
from tacebench.estimators.survival.logrank import logrank_test
from tacebench.estimators.kernels import iptw_weights_kernel
from tests.reference.cases import load_case

RTOL = 1e-10
#: Newton decrement at which compared Cox fits stop: at the default 1e-9 the last step
#: leaves beta up to ~1e-9 / I from the MLE, so two fits of the same data whose decrement
#: lands within rounding of the threshold may stop an iteration apart (see
#: test_cox_speed_equivalence); comparisons of arithmetic run both fits to this
TOL = 1e-13


def _stack(R, n, rng, *, tied, zero_share=0.0, event_rate=0.7):
    t = rng.exponential(10.0, (R, n))
    if tied:
        t = np.ceil(t / 3.0)
    e = (rng.random((R, n)) < event_rate).astype(float)
    z = (rng.random((R, n)) < 0.4).astype(float)
    w = rng.uniform(0.3, 4.0, (R, n)) * (rng.random((R, n)) >= zero_share)
    w[:, 0] = 1.0  # never an all-zero replicate
    cl = rng.integers(0, max(n // 2, 1), (R, n))
    return t, e, z, w, cl


def _one_cox(t, e, z, w, ties, cl):
    keep = w > 0
    return fit_cox(t[keep], e[keep], z[keep][:, None], w[keep], ties=ties, robust=True,
                    tol=TOL,
                    cluster=None if cl is None else cl[keep])


def _close(a, b, rtol=RTOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13, equal_nan=True)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(1, 6), n=st.integers(2, 60),
       ties=st.sampled_from(["efron", "breslow"]), tied=st.booleans(),
       zero_share=st.sampled_from([0.0, 0.3]), clustered=st.booleans(),
       event_rate=st.sampled_from([0.05, 0.7]), no_deaths=st.sets(st.integers(0, 5)))
def test_cox_each_replicate_is_the_one_replicate_fit(seed, R, n, ties, tied, zero_share,
                                                     clustered, event_rate, no_deaths):
    """Any data, including small samples where some replicates are monotone, singular or
    without deaths (refitted alone, inf/NaN kept): coef, model and robust SE,
    log-likelihoods."""
    rng = np.random.default_rng(seed)
    t, e, z, w, cl = _stack(R, n, rng, tied=tied, zero_share=zero_share,
                            event_rate=event_rate)
    e[[r for r in no_deaths if r < R]] = 0.0
    cl = cl if clustered else None
    b = cox_ph_batch(t, e, z, w, ties=ties, cluster=cl, tol=TOL)
    for r in range(R):
        f = _one_cox(t[r], e[r], z[r], w[r], ties, None if cl is None else cl[r])
        if not np.isfinite(f.coef[0]) or f.singular or f.status.name != "OK":
            assert b.refitted[r]    # a replicate on the batched path is an estimate
        _close(b.coef[r], f.coef[0])
        _close(b.se[r], f.se[0])
        _close(b.robust_se[r], f.robust_se[0])
        _close([b.loglik_null[r], b.loglik[r]], [f.loglik_null, f.loglik])
        assert b.converged[r] == f.converged


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_matches_r_coxph(ties):
    """R: ``coxph(Surv(time, event) ~ treated, data = d, weights = w, robust = TRUE,
    ties = ties, control = tight)`` (tests/reference/surv_iptw_ties), for the data and
    for row permutations of it stacked as replicates."""
    data, expected = load_case("surv_iptw_ties")
    e = expected["cox"][f"iptw_{ties}"]
    rng = np.random.default_rng(7)
    perms = [np.arange(len(data))] + [rng.permutation(len(data)) for _ in range(3)]
    cols = {k: np.stack([data[k].to_numpy(float)[p] for p in perms])
            for k in ("time", "event", "treated", "w")}
    b = cox_ph_batch(cols["time"], cols["event"], cols["treated"], cols["w"], ties=ties)
    _close(b.coef, np.full(4, e["coef"]), 1e-8)
    _close(b.robust_se ** 2, np.full(4, e["var"][0][0]), 1e-8)
    _close(b.se ** 2, np.full(4, e["naive_var"][0][0]), 1e-8)
    _close(b.loglik, np.full(4, e["loglik"][1]), 1e-12)
    assert not b.refitted.any()


def test_km_matches_r_survfit():
    """R: ``print(survfit(Surv(time, event) ~ 1, data = arm, weights = w))`` medians per
    arm (tests/reference/surv_iptw_ties, ``km$arm{0,1}_weighted_naive$median``)."""
    data, expected = load_case("surv_iptw_ties")
    m = km_median_batch(data["time"].to_numpy(float)[None], data["event"].to_numpy(float)[None],
                        data["w"].to_numpy(float)[None], group=data["treated"].to_numpy(float)[None])
    r_med = [expected["km"][f"arm{a}_weighted_naive"]["median"] for a in (0, 1)]
    np.testing.assert_array_equal(m[0], np.where(np.isnan(r_med), np.inf, r_med))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(1, 6), n=st.integers(1, 50),
       tied=st.booleans(), weighted=st.booleans(), half=st.booleans())
def test_km_median_is_the_one_replicate_median(seed, R, n, tied, weighted, half):
    """Medians by group equal ``fit_km(...).median()`` on the group's rows, including
    "not reached" (inf) and the S = 0.5 midpoint rule (``half``: four rows, two deaths)."""
    rng = np.random.default_rng(seed)
    if half:
        n = 4
    t, e, z, w, _ = _stack(R, n, rng, tied=tied)
    if half:
        z[:] = 0.0
        e[:] = np.array([1.0, 0.0, 1.0, 0.0])
        t = np.sort(rng.integers(1, 9, (R, n)).astype(float), axis=1)
    if not weighted:
        w = np.ones((R, n))
    m = km_median_batch(t, e, w, group=z)
    for r in range(R):
        for k in (0, 1):
            g = z[r] == k
            ref = (fit_km(t[r][g], e[r][g], w[r][g], "greenwood").median().estimate
                   if g.any() else np.inf)
            assert m[r, k] == ref, (r, k, m[r, k], ref)
    whole = km_median_batch(t, e, w)
    assert all(whole[r] == fit_km(t[r], e[r], w[r], "greenwood").median().estimate
               for r in range(R))


def test_logistic_and_weights_are_the_one_replicate_kernels():
    """Logistic IRLS (same iterations, coefficients to 1e-12) and IPTW weights (bit for
    bit) replicate by replicate; a separated replicate is refitted by the kernel."""
    rng = np.random.default_rng(11)
    R, n = 12, 120
    X = np.concatenate([np.ones((R, n, 1)), rng.standard_normal((R, n, 5)),
                        rng.integers(0, 2, (R, n, 2))], axis=2)
    y = (rng.random((R, n)) < 1.0 / (1.0 + np.exp(-X[:, :, 1] + 0.5 * X[:, :, 6]))).astype(float)
    y[3] = X[3, :, 1] > 0  # complete separation on x1
    w = rng.uniform(0.5, 2.0, (R, n))
    for weights in (None, w):
        fit = logistic_regression_batch(X, y, weights)
        assert fit.refitted[3] and not fit.converged[3]
        for r in range(R):
            one = fit_logistic(X[r], y[r], np.ones(n) if weights is None else w[r])
            _close(fit.coef[r], one.coef, 1e-12)
            _close(fit.fitted[r], one.fitted, 1e-12)
            assert fit.converged[r] == one.newton_converged
            assert fit.n_iter[r] == one.n_iter or r == 3
    ps = np.clip(fit.fitted, 0.01, 0.99)
    for estimand, stabilized, truncate in (("ATE", False, (1.0, 99.0)), ("ATE", True, (1.0, 99.0)),
                                           ("ATT", False, (1.0, 99.0)), ("ATC", False, None),
                                           ("ATO", False, None)):
        W = iptw_weights_batch(ps, y, estimand=estimand, stabilized=stabilized,
                               truncate=truncate)
        for r in range(R):
            np.testing.assert_array_equal(
                W[r], iptw_weights_kernel(ps[r], y[r], estimand, stabilized, truncate))
    W3 = iptw_weights_batch(ps, y, truncate=(1, 99), quantile_type=3)  # numpy's type 3
    for r in range(R):
        np.testing.assert_array_equal(W3[r], iptw_weights_kernel(ps[r], y[r], "ATE", False,
                                                           (1.0, 99.0), 3))


def _logistic_stack(seed, R=16, n=300, p=12):
    """Designs (intercept, normal and 0/1 columns) and outcomes of a logistic model with
    random coefficients: replicates that converge at different iterations, so that some
    take their last (chord) step while others still need a fresh information."""
    rng = np.random.default_rng(seed)
    X = np.empty((R, p, n))
    X[:, 0] = 1.0
    X[:, 1:] = rng.normal(size=(R, p - 1, n))
    X[:, p // 2:] = X[:, p // 2:] > 0.3
    beta = rng.normal(0.0, 0.4, size=(R, p))
    eta = np.einsum("rpn,rp->rn", X, beta)
    y = (rng.random((R, n)) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return X.transpose(0, 2, 1), y, np.ones((R, n))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([1, 2, 3, 4, 7]))
@example(seed=7, size=2)    # a replicate on its chord step in a batch whose others were
@example(seed=12, size=4)   # not: before, its information was recomputed (~1e-14 apart)
def test_logistic_rows_do_not_depend_on_the_batch(seed, size):
    """A replicate's coefficients and fitted values are the same bits whatever the other
    replicates of its batch (the runner's chunks and batch sizes vary with n_jobs)."""
    from tacebench.estimators.batch.logistic import fit_logistic_rows

    X, y, w = _logistic_stack(seed)
    whole = fit_logistic_rows(X, y, w)
    parts = [fit_logistic_rows(X[s:s + size], y[s:s + size], w[s:s + size])
             for s in range(0, X.shape[0], size)]
    for i in range(5):
        np.testing.assert_array_equal(np.concatenate([q[i] for q in parts]), whole[i])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ties=st.sampled_from(["efron", "breslow"]))
def test_invariants(seed, ties):
    """Row order within a replicate does not matter; swapping the arms negates the log HR
    (same SEs); scaling all weights of a replicate changes neither HR nor robust SE."""
    rng = np.random.default_rng(seed)
    R, n = 4, 80
    t, e, z, w, _ = _stack(R, n, rng, tied=True)
    b = cox_ph_batch(t, e, z, w, ties=ties, tol=TOL)
    perm = np.stack([rng.permutation(n) for _ in range(R)])
    take = lambda a: np.take_along_axis(a, perm, axis=1)  # noqa: E731
    bp = cox_ph_batch(take(t), take(e), take(z), take(w), ties=ties, tol=TOL)
    _close(bp.coef, b.coef, 1e-9)
    _close(bp.robust_se, b.robust_se, 1e-9)
    bs = cox_ph_batch(t, e, 1.0 - z, w, ties=ties, tol=TOL)
    _close(bs.coef, -b.coef, 1e-9)
    _close(bs.robust_se, b.robust_se, 1e-9)
    bw = cox_ph_batch(t, e, z, w * rng.uniform(0.1, 10.0, (R, 1)), ties=ties, tol=TOL)
    _close(bw.coef, b.coef, 1e-9)
    _close(bw.robust_se, b.robust_se, 1e-9)
    assert np.array_equal(km_median_batch(take(t), take(e), take(w), group=take(z)),
                          km_median_batch(t, e, w, group=z))


def test_zero_weight_rows_are_left_out():
    """Padding a replicate with weight-0 rows (any times, events, arms) changes nothing."""
    rng = np.random.default_rng(3)
    t, e, z, w, cl = _stack(2, 90, rng, tied=True)
    pad = lambda a, v: np.concatenate([a, v], axis=1)  # noqa: E731
    extra = rng.exponential(5.0, (2, 30))
    b = cox_ph_batch(t, e, z, w, cluster=cl)
    bp = cox_ph_batch(pad(t, extra), pad(e, np.ones((2, 30))), pad(z, np.ones((2, 30))),
                      pad(w, np.zeros((2, 30))), cluster=pad(cl, np.zeros((2, 30), int)))
    _close(bp.coef, b.coef, 1e-12)
    _close(bp.robust_se, b.robust_se, 1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(time=np.ones(5)), r"time must be a non-empty 2-dimensional"),
    (dict(time=-np.ones((2, 5))), r"time must be non-negative; got \[0, 0\]=-1.0"),
    (dict(event=np.full((2, 5), 2.0)), r"event must be 0/1; got \[0, 0\]=2.0"),
    (dict(treated=np.ones((2, 4))), r"treated must have the shape of time, \(2, 5\)"),
    (dict(weights=np.zeros((2, 5))), r"weights must not be all zero in a replicate"),
    (dict(weights=np.full((2, 5), np.nan)), r"weights must be finite"),
    (dict(ties="exact"), r"ties must be one of"),
    (dict(cluster=np.full((2, 5), 0.5)), r"cluster must hold non-negative integer codes"),
])
def test_cox_bad_input_names_argument_and_value(kwargs, match):
    args = dict(time=np.ones((2, 5)), event=np.ones((2, 5)),
                treated=np.array([[0, 1, 0, 1, 0]] * 2, float))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        cox_ph_batch(**args)


def test_other_bad_input():
    with pytest.raises(ValueError, match=r"X must be a non-empty 3-dimensional"):
        logistic_regression_batch(np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"y must be 0/1"):
        logistic_regression_batch(np.ones((1, 4, 2)), np.full((1, 4), 0.5))
    with pytest.raises(ValueError, match=r"ps must lie in \(0, 1\); got \[0, 1\]=1.0"):
        iptw_weights_batch(np.array([[0.5, 1.0]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"group must be 0/1"):
        km_median_batch(np.ones((1, 3)), np.ones((1, 3)), group=np.full((1, 3), 2))
    with pytest.raises(ValueError, match=r"times must be finite non-negative"):
        km_survival_batch(np.ones((1, 3)), np.ones((1, 3)), times=[-1.0])
    import tacebench.estimators.batch as B
    assert set(CAPABILITIES) == {n for n in B.__all__ if n.endswith("_batch")}


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(1, 5), n=st.integers(4, 60),
       tied=st.booleans(), weighted=st.booleans())
def test_landmark_rates_and_logrank_are_the_one_replicate_ones(seed, R, n, tied, weighted):
    """S(t) at landmark times equals ``fit_km(...).survival_at`` (NaN after the last time
    unless S reached 0, 1 before the first); the log-rank chi-square equals
    ``logrank_test`` (Mantel–Haenszel, or Xie & Liu with weights) to 1e-10."""
    rng = np.random.default_rng(seed)
    t, e, z, w, _ = _stack(R, n, rng, tied=tied, event_rate=0.8)
    z[:, :2] = [0.0, 1.0]  # both groups present
    w = w if weighted else None
    times = [0.0, 1.0, 6.0, 12.0, 24.0, 200.0]
    S = km_survival_batch(t, e, w, times=times, group=z)
    chi2, p = logrank_batch(t, e, z, w)
    for r in range(R):
        wr = np.ones(n) if w is None else w[r]
        for k in (0, 1):
            g = z[r] == k
            ref = fit_km(t[r][g], e[r][g], wr[g], "greenwood").survival_at(times).survival
            _close(S[r, k], ref, 1e-12)
        if not e[r].any():      # no event (hypothesis: n = 4): undefined, NaN, not a crash
            assert np.isnan(chi2[r]) and np.isnan(p[r])
            continue
        lr = logrank_test(t[r], e[r], z[r], None if w is None else w[r])
        _close(chi2[r], lr.statistic, 1e-10)
        _close(p[r], lr.p_value, 1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(1, 5), n=st.integers(4, 60),
       tied=st.booleans())
def test_weighted_logrank_leaves_zero_weight_rows_out(seed, R, n, tied):
    """Rows of weight 0 take no part (as in ``logrank_test``, which drops them): not in
    the head counts at risk nor in the deaths; padding with them changes nothing."""
    rng = np.random.default_rng(seed)
    t, e, z, w, _ = _stack(R, n, rng, tied=tied, zero_share=0.3, event_rate=0.8)
    z[:, :2] = [0.0, 1.0]
    w[:, :2] = 1.0
    chi2, p = logrank_batch(t, e, z, w)
    for r in range(R):
        keep = w[r] > 0
        if not e[r][keep].any():
            assert np.isnan(chi2[r]) and np.isnan(p[r])
            continue
        lr = logrank_test(t[r], e[r], z[r], w[r])
        _close(chi2[r], lr.statistic, 1e-10)
        _close(p[r], lr.p_value, 1e-9)
    pad = lambda a, v: np.concatenate([a, np.full((R, 7), v)], axis=1)  # noqa: E731
    padded = logrank_batch(pad(t, 0.5), pad(e, 1.0), pad(z, 1.0), pad(w, 0.0))
    _close(padded[0], chi2, 1e-12)


def _never_at_risk(t, e, z, replicates, label, rng):
    """Make group ``label`` of each replicate in ``replicates`` censored before the other
    group's first death (nobody of it at risk at an event time); the other group keeps a
    death. Rows 0 and 1 must be of groups 0 and 1."""
    for r in replicates:
        gone = z[r] == label
        e[r, 1 - label] = 1.0
        first = t[r][(e[r] == 1) & ~gone].min()
        t[r, gone] = rng.uniform(0.0, first, gone.sum()) if first > 0 else first
        e[r, gone] = 0.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(1, 6), n=st.integers(4, 40),
       tied=st.booleans(), left_out=st.sets(st.integers(0, 5), min_size=1),
       label=st.sampled_from([0, 1]))
def test_logrank_with_a_group_never_at_risk_is_the_one_replicate_test(seed, R, n, tied,
                                                                      left_out, label):
    """Replicates where a group has nobody at risk at any event time give, as
    ``logrank_test`` and R ``survdiff``, chi-square 0 on 0 df, p 1 (exactly); the other
    replicates of the batch keep their own test."""
    rng = np.random.default_rng(seed)
    t, e, z, _, _ = _stack(R, n, rng, tied=tied, event_rate=0.8)
    z[:, :2] = [0.0, 1.0]
    gone = sorted(r for r in left_out if r < R)
    _never_at_risk(t, e, z, gone, label, rng)
    chi2, p = logrank_batch(t, e, z)
    for r in range(R):
        if not e[r].any():
            assert np.isnan(chi2[r]) and np.isnan(p[r])
            continue
        lr = logrank_test(t[r], e[r], z[r])
        assert (lr.df == 0) == (r in gone)
        if lr.df == 0:
            assert (chi2[r], p[r]) == (lr.statistic, lr.p_value) == (0.0, 1.0)
        else:
            _close(chi2[r], lr.statistic, 1e-10)
            _close(p[r], lr.p_value, 1e-9)


@pytest.mark.parametrize("dataset", ["C", "D"])
def test_logrank_matches_r_survdiff_with_a_group_left_out(dataset):
    """R ``survdiff`` on two groups: D has a group never at risk at an event time
    (chisq 0 on 0 df, p 1), C does not; each alone and both stacked in one batch."""
    data, expected = load_case("logrank_left_out")
    d = data[data.dataset == dataset]
    rows = [d.time.to_numpy(float), d.event.to_numpy(float), d.group.to_numpy(float)]
    chi2, p = logrank_batch(*(np.vstack([a, a]) for a in rows))
    np.testing.assert_allclose(chi2, expected[dataset]["chisq"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(p, expected[dataset]["p"], rtol=1e-9)


def test_logrank_where_every_risk_set_dies_whole_is_nan_as_the_one_replicate_test():
    """Both groups at risk but every event time's risk set dies whole: the variance is 0
    and ``logrank_test`` is NaN on 1 df; so is the batch (not 0)."""
    t, e, z = np.array([[2.0, 2.0]]), np.ones((1, 2)), np.array([[0.0, 1.0]])
    lr = logrank_test(t[0], e[0], z[0])
    chi2, p = logrank_batch(t, e, z)
    assert lr.df == 1 and np.isnan(lr.statistic) and np.isnan(lr.p_value)
    assert np.isnan(chi2[0]) and np.isnan(p[0])


def test_a_replicate_does_not_depend_on_its_batch():
    """Bit for bit: a replicate fitted in a batch of 12, in a batch of 5 and alone gives the
    same numbers, so results do not depend on how a study chunks its replicates."""
    rng = np.random.default_rng(21)
    R, n = 12, 150
    t, e, z, w, cl = _stack(R, n, rng, tied=True, zero_share=0.2)
    X = np.concatenate([np.ones((R, n, 1)), rng.standard_normal((R, n, 4))], axis=2)

    def run(rows):
        c = cox_ph_batch(t[rows], e[rows], z[rows], w[rows], cluster=cl[rows])
        lg = logistic_regression_batch(X[rows], z[rows])
        return np.column_stack([c.coef, c.se, c.robust_se, c.loglik,
                                km_median_batch(t[rows], e[rows], w[rows], group=z[rows]),
                                logrank_batch(t[rows], e[rows], z[rows], w[rows])[0],
                                lg.coef])

    whole = run(np.arange(R))
    np.testing.assert_array_equal(run(np.arange(3, 8)), whole[3:8])
    for r in (0, 7, 11):
        np.testing.assert_array_equal(run(np.array([r])), whole[r:r + 1])


@pytest.mark.parametrize("no_deaths", [(0,), (2,), (4,), (1, 4), (0, 1, 2, 3, 4)])
def test_replicates_without_deaths_leave_the_others_alone(no_deaths):
    """A replicate with no deaths (first, middle, last, several, all) is the one-replicate
    kernel's (not estimable) and every other replicate keeps its own fit. (Regression: a
    last replicate without deaths cut the previous replicate's sums short.)"""
    rng = np.random.default_rng(8)
    t, e, z, w, _ = _stack(5, 50, rng, tied=True)
    e[list(no_deaths)] = 0.0
    b = cox_ph_batch(t, e, z, w, tol=TOL)
    lr = logrank_batch(t, e, z)[0]
    for r in range(5):
        f = _one_cox(t[r], e[r], z[r], w[r], "efron", None)
        _close(b.coef[r], f.coef[0])
        _close(b.robust_se[r], f.robust_se[0])
        assert b.refitted[r] == (r in no_deaths)
        assert np.isnan(lr[r]) == (r in no_deaths)


def test_refitted_replicates_use_the_batch_tol_and_max_iter():
    """A replicate handed to the one-replicate kernel (here a monotone likelihood: no deaths
    among the treated) is fitted with the batch's ``tol`` and ``max_iter``. (Regression:
    the refit used the kernel's defaults.)"""
    rng = np.random.default_rng(4)
    t, e, z, w, _ = _stack(2, 40, rng, tied=False)
    e[1][z[1] == 1] = 0.0
    for max_iter, tol in ((3, 1e-9), (50, 1e-13)):
        b = cox_ph_batch(t, e, z, w, max_iter=max_iter, tol=tol)
        keep = w[1] > 0
        f = fit_cox(t[1][keep], e[1][keep], z[1][keep][:, None], w[1][keep], robust=True,
                     max_iter=max_iter, tol=tol)
        assert b.refitted[1] and b.n_iter[1] == f.n_iter
        assert b.loglik[1] == f.loglik and b.converged[1] == f.converged
