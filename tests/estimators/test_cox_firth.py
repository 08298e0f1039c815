"""Firth-penalized Cox checked against an independent brute-force implementation.

R's coxphf is not packaged for Debian here (``apt-cache search r-cran-coxphf`` finds
nothing), so the reference is written in this file: an O(n^2) loop over risk sets for the
weighted log partial likelihood and information (Breslow and Efron, R's weighting), the
penalty ``0.5 log det I``, maximised with scipy.optimize. It shares no code with the
package.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from tacebench.estimators.survival import cox_ph


def brute_loglik_info(beta, t, e, X, w, ties):
    """Weighted log partial likelihood and information by explicit loops over event times."""
    eta = X @ beta
    r = np.exp(eta)
    p = X.shape[1]
    ll = 0.0
    info = np.zeros((p, p))
    for s in np.unique(t[e == 1]):
        dead = (t == s) & (e == 1)
        risk = t >= s
        ll += np.sum(w[dead] * eta[dead])
        nd = int(dead.sum())
        if ties == "breslow":
            fracs, tw = [0.0], [np.sum(w[dead])]
        else:
            fracs = [k / nd for k in range(nd)]
            tw = [np.mean(w[dead])] * nd
        for frac, weight in zip(fracs, tw):
            # risk-set weights: tied deaths down-weighted by (1 - k/D) in Efron's k-th term
            a = w * r * (risk.astype(float) - frac * dead)
            s0 = a.sum()
            m = a @ X / s0
            ll -= weight * np.log(s0)
            info += weight * ((X * a[:, None]).T @ X / s0 - np.outer(m, m))
    return ll, info


def firth_reference(t, e, X, w, ties):
    def negpen(beta):
        ll, info = brute_loglik_info(beta, t, e, X, w, ties)
        return -(ll + 0.5 * np.linalg.slogdet(info)[1])

    res = minimize(negpen, np.zeros(X.shape[1]), method="BFGS",
                   options={"gtol": 1e-10, "maxiter": 2000})
    return res.x, -res.fun


def small_study(seed, separated=False):
    """38 patients as in seed 001, few events, tied months; optionally no treated events."""
    rng = np.random.default_rng(seed)
    n = 38
    z = (rng.random(n) < 0.4).astype(float)
    x = np.round(rng.normal(size=n), 2)
    t = np.ceil(rng.exponential(12 * np.exp(1.2 * z), n))
    c = rng.uniform(3, 30, n)
    e = (t <= c).astype(int)
    if separated:
        e[z == 1] = 0
    w = np.round(rng.uniform(0.5, 2.5, n), 3)
    return np.minimum(t, np.ceil(c)), e, np.column_stack([z, x]), w


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("separated", [False, True])
def test_firth_matches_brute_force_penalized_likelihood(ties, separated):
    t, e, X, w = small_study(11, separated)
    fit = cox_ph(t, e, X, w, firth=True, ties=ties)
    beta_ref, pen_ref = firth_reference(t, e, X, w, ties)
    assert fit.converged and not fit.monotone
    np.testing.assert_allclose(fit.coef, beta_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fit.loglik, pen_ref, rtol=1e-9)
    _, info = brute_loglik_info(fit.coef, t, e, X, w, ties)
    np.testing.assert_allclose(fit.information, info, rtol=1e-9)
    np.testing.assert_allclose(fit.se, np.sqrt(np.diag(np.linalg.inv(info))), rtol=1e-9)


def test_unpenalized_loglik_and_information_match_brute_force():
    t, e, X, w = small_study(4)
    for ties in ("breslow", "efron"):
        fit = cox_ph(t, e, X, w, ties=ties)
        ll, info = brute_loglik_info(fit.coef, t, e, X, w, ties)
        np.testing.assert_allclose(fit.loglik, ll, rtol=1e-12)
        np.testing.assert_allclose(fit.information, info, rtol=1e-10)


def test_firth_shrinks_toward_zero_and_is_finite_under_separation():
    t, e, X, w = small_study(11, separated=True)
    mle = cox_ph(t, e, X, w)
    firth = cox_ph(t, e, X, w, firth=True)
    assert mle.monotone and mle.infinite[0]
    assert np.isfinite(firth.coef[0]) and firth.coef[0] < 0
    assert np.isfinite(firth.ci).all() and firth.ci[0, 1] < 1.0
    t2, e2, X2, w2 = small_study(4)
    a = cox_ph(t2, e2, X2, w2)
    b = cox_ph(t2, e2, X2, w2, firth=True)
    assert abs(b.coef[0]) < abs(a.coef[0])


def brute_profile_limits(t, e, X, w, ties, firth, j, conf_level=0.95):
    """Profile (penalized) likelihood limits for coefficient j by scipy: inner
    maximisation with minimize_scalar (two covariates), roots with brentq."""
    from scipy.optimize import brentq, minimize_scalar
    from scipy.stats import chi2

    def objective(beta):
        ll, info = brute_loglik_info(beta, t, e, X, w, ties)
        return ll + (0.5 * np.linalg.slogdet(info)[1] if firth else 0.0)

    def profile(b):
        def neg(other):
            beta = np.empty(2)
            beta[j], beta[1 - j] = b, other
            return -objective(beta)
        return -minimize_scalar(neg, bracket=(-1, 1), tol=1e-12).fun

    full = minimize(lambda beta: -objective(beta), np.zeros(2), method="BFGS",
                    options={"gtol": 1e-10})
    top, centre = -full.fun, full.x[j]
    crit = chi2.ppf(conf_level, 1)

    def excess(b):
        return 2 * (top - profile(b)) - crit

    out = []
    for sign in (-1, 1):
        step = 0.5
        while excess(centre + sign * step) < 0:
            step *= 2
            if step > 64:
                out.append(sign * np.inf)
                break
        else:
            lo, hi = sorted((centre + sign * step / 2 if step > 0.5 else centre, centre + sign * step))
            out.append(brentq(excess, lo, hi, xtol=1e-12))
    return np.array(out)


@pytest.mark.parametrize("firth, separated", [(True, False), (True, True), (False, False),
                                              (False, True)])
def test_profile_likelihood_ci_matches_brute_force(firth, separated):
    """coxphf's default interval (firth=True) and the plain profile-likelihood interval,
    against scipy on the brute-force (penalized) likelihood. Under separation the plain
    MLE's interval is (0, finite]."""
    t, e, X, w = small_study(11, separated)
    fit = cox_ph(t, e, X, w, firth=firth, ties="breslow", ci_method="profile")
    for j in (0, 1):
        expected = brute_profile_limits(t, e, X, w, "breslow", firth, j)
        with np.errstate(divide="ignore"):  # HR limit 0 = log limit -inf
            got = np.log(fit.ci[j])
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
        ok = np.isfinite(expected)
        np.testing.assert_allclose(got[ok], expected[ok], rtol=1e-5, atol=1e-6)
    if separated and not firth:
        assert fit.ci[0, 0] == 0 and np.isfinite(fit.ci[0, 1]) and fit.p_value[0] < 0.05
