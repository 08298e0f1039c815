"""Profile (penalized) likelihood confidence limits and likelihood-ratio p-values for Cox.

For coefficient j the profile log-likelihood ``pl(b) = max_{beta: beta_j = b} l(beta)``
(``l`` penalized by Firth's term when ``firth=True``) gives the interval
``{b : 2 (l(beta_hat) - pl(b)) <= chi2_1(conf_level)}`` and the likelihood-ratio test of
``beta_j = 0``; with the Firth penalty these are the defaults of R's coxphf (Heinze &
Schemper 2001), which are preferred to Wald limits in small samples and under
separation. A limit that the profile never reaches (monotone likelihood) is infinite.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import chdtrc, chdtri


def _profile_loglik(rs, evaluate_fn, beta_hat, j, b, max_iter=50, tol=1e-10):
    """max over the other coefficients with beta_j fixed at b (Newton with halving)."""
    beta = beta_hat.copy()
    beta[j] = b
    ev = evaluate_fn(rs, beta)
    if rs.p == 1:
        return ev.loglik
    free = np.arange(rs.p) != j
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(ev.information[np.ix_(free, free)], ev.score[free])
        except np.linalg.LinAlgError:
            break
        decrement = float(ev.score[free] @ step)
        trial_beta = beta.copy()
        trial_beta[free] += step
        trial = evaluate_fn(rs, trial_beta)
        halvings = 0
        while not trial.loglik >= ev.loglik - 1e-12 * abs(ev.loglik) and halvings < 30:
            step = step / 2.0
            trial_beta = beta.copy()
            trial_beta[free] += step
            trial = evaluate_fn(rs, trial_beta)
            halvings += 1
        beta, ev = trial_beta, trial
        if not decrement > tol:
            break
    return ev.loglik


def profile_inference(rs, evaluate_fn, beta_hat, loglik_hat, se, conf_level):
    """Profile-likelihood CI (log scale, ``(p, 2)``) and LR p-values for every coefficient."""
    p = rs.p
    crit = float(chdtri(1, 1.0 - conf_level))
    limits = np.empty((p, 2))
    pvals = np.empty(p)
    with np.errstate(all="ignore"):
        for j in range(p):
            def excess(b, j=j):
                return 2.0 * (loglik_hat - _profile_loglik(rs, evaluate_fn, beta_hat, j, b)) - crit

            stat0 = 2.0 * (loglik_hat - _profile_loglik(rs, evaluate_fn, beta_hat, j, 0.0))
            pvals[j] = float(chdtrc(1, max(stat0, 0.0)))
            scale = se[j] if np.isfinite(se[j]) and se[j] > 0 else 1.0
            for side, sign in ((0, -1.0), (1, 1.0)):
                limits[j, side] = _find_limit(excess, beta_hat[j], sign, scale)
    return limits, pvals


def _find_limit(excess, centre, sign, scale):
    # walk outwards in growing steps until the profile drops below the critical value,
    # then solve; give up (infinite limit) when the profile flattens out first
    from scipy.optimize import brentq
    inner, step = centre, scale
    for _ in range(60):
        outer = centre + sign * step
        value = excess(outer)
        if value > 0:
            lo, hi = sorted((inner, outer))
            return brentq(excess, lo, hi, xtol=1e-10 * max(1.0, abs(centre)), rtol=1e-12)
        if not math.isfinite(value):
            break
        inner, step = outer, step * 1.6
        if step > 1e4 * scale:
            break
    return sign * math.inf
