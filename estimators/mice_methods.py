"""Univariate imputation methods for chained equations, as R ``mice`` defines them.

Each method draws the missing values of one variable given the current values of its
predictors, in a *proper* way (parameters drawn from their posterior, then values drawn
given the parameters), so that Rubin's rules give valid variances:

* ``"pmm"`` — predictive mean matching, ``mice.impute.pmm`` (type-1 matching, van Buuren
  2018, section 3.4): a Bayesian linear regression draw ``beta*`` (``.norm.draw``); the
  observed cases are predicted with the least-squares ``beta_hat`` and the missing ones
  with ``beta*``; each missing case takes the observed value of one of its ``donors``
  (default 5) nearest predicted neighbours, chosen at random. Imputes only observed values.
* ``"norm"`` — Bayesian linear regression, ``mice.impute.norm``: ``y = X beta* + N(0,
  sigma*^2)`` with ``sigma*^2 = RSS / chi^2_{n_obs - p}`` and ``beta* ~ N(beta_hat,
  sigma*^2 (X'X)^-1)`` (Rubin 1987, p. 167).
* ``"logreg"`` / ``"polyreg"`` — logistic / multinomial logistic regression
  (``mice.impute.logreg`` / ``polyreg``) fitted by Newton–Raphson on the observed cases
  augmented with White, Daniel & Royston's (2010) pseudo-observations (``mice:::augment``:
  two per predictor and category, at the predictor mean +/- SD/2, total weight ``p + 1``)
  so that the fit exists under separation; coefficients are drawn from ``N(beta_hat,
  I^-1)`` and each missing value from the resulting category probabilities. (``mice``'s
  polyreg predicts from ``beta_hat`` without a draw; drawing keeps it proper, as logreg.)
"""
from __future__ import annotations

import numpy as np

__all__ = ["METHODS", "impute_pmm", "impute_norm", "impute_categorical"]

#: Capability table: method -> variable kinds it may impute.
METHODS = {
    "pmm": ("continuous", "binary"),
    "norm": ("continuous",),
    "logreg": ("binary",),
    "polyreg": ("categorical", "binary"),
}
DEFAULT_METHOD = {"continuous": "pmm", "binary": "logreg", "categorical": "polyreg"}

_RIDGE = 1e-5  # mice's default ridge, used only when X'X is singular


def _mvn_draw(rng: np.random.Generator, cov: np.ndarray) -> np.ndarray:
    """A N(0, cov) draw through the symmetric square root (works for PSD / singular cov)."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2.0)
    return vecs @ (np.sqrt(np.clip(vals, 0.0, None)) * rng.standard_normal(len(vals)))


def _norm_draw(y: np.ndarray, X: np.ndarray, rng: np.random.Generator):
    """Least squares and one Bayesian draw (beta_hat, beta_star, sigma_star): .norm.draw."""
    xtx = X.T @ X
    try:
        v = np.linalg.inv(xtx)
        if not np.isfinite(v).all() or np.linalg.cond(xtx) > 1e12:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        v = np.linalg.inv(xtx + np.diag(_RIDGE * np.diag(xtx) + 1e-12))
    beta = v @ (X.T @ y)
    resid = y - X @ beta
    df = max(len(y) - X.shape[1], 1)
    sigma = np.sqrt(resid @ resid / rng.chisquare(df))
    beta_star = beta + _mvn_draw(rng, v) * sigma
    return beta, beta_star, sigma


def impute_norm(y_obs, X_obs, X_mis, rng, **_):
    _, beta_star, sigma = _norm_draw(y_obs, X_obs, rng)
    return X_mis @ beta_star + rng.standard_normal(X_mis.shape[0]) * sigma


def impute_pmm(y_obs, X_obs, X_mis, rng, *, donors: int = 5, **_):
    beta, beta_star, _ = _norm_draw(y_obs, X_obs, rng)
    yhat_obs = X_obs @ beta
    yhat_mis = X_mis @ beta_star
    # shuffle first so that ties among predicted values are broken at random
    perm = rng.permutation(len(y_obs))
    order = perm[np.argsort(yhat_obs[perm], kind="stable")]
    sorted_hat = yhat_obs[order]
    k = min(donors, len(y_obs))
    pos = np.searchsorted(sorted_hat, yhat_mis)
    window = pos[:, None] + np.arange(-k, k)[None, :]
    outside = (window < 0) | (window >= len(y_obs))
    window = np.clip(window, 0, len(y_obs) - 1)
    dist = np.abs(sorted_hat[window] - yhat_mis[:, None])
    dist[outside] = np.inf
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    pick = nearest[np.arange(len(yhat_mis)), rng.integers(0, k, len(yhat_mis))]
    return y_obs[order[window[np.arange(len(yhat_mis)), pick]]]


def augment_categories(codes: np.ndarray, X: np.ndarray, n_cat: int):
    """mice:::augment: 2 pseudo-rows per (predictor, category) at mean +/- sd/2, weight (p+1)/nr.

    ``X`` excludes the intercept; the pseudo-rows keep the other predictors at their means.
    """
    p = X.shape[1]
    if p == 0:
        return codes, X, np.ones(len(codes))
    mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
    nr = 2 * p * n_cat
    D = np.tile(mean, (nr, 1))
    shift = np.tile([0.5, -0.5], n_cat)  # for one predictor: +, - for each category
    for j in range(p):
        rows = slice(2 * n_cat * j, 2 * n_cat * (j + 1))
        D[rows, j] += shift * sd[j]
    D = np.clip(D, X.min(axis=0), X.max(axis=0))
    e = np.tile(np.repeat(np.arange(n_cat), 2), p)
    w = np.concatenate([np.ones(len(codes)), np.full(nr, (p + 1) / nr)])
    return np.concatenate([codes, e]), np.vstack([X, D]), w


def _softmax_ref0(eta: np.ndarray) -> np.ndarray:
    """Category probabilities (n, K) from the (n, K-1) linear predictors, category 0 = 0."""
    full = np.column_stack([np.zeros(eta.shape[0]), eta])
    full -= full.max(axis=1, keepdims=True)
    np.exp(full, out=full)
    return full / full.sum(axis=1, keepdims=True)


def multinomial_fit(codes: np.ndarray, X: np.ndarray, w: np.ndarray, n_cat: int,
                     max_iter: int = 50, tol: float = 1e-8, start: np.ndarray | None = None):
    """Weighted multinomial logit (reference category 0) by Newton–Raphson.

    Returns ``(B, information)`` with ``B`` of shape (p, K-1), information of size p(K-1).
    ``start`` (e.g. the previous iteration's fit in a chain) only saves Newton steps.
    """
    n, p = X.shape
    q = n_cat - 1
    Y = np.zeros((n, q))
    rows = codes > 0
    Y[np.flatnonzero(rows), codes[rows].astype(int) - 1] = 1.0
    B = np.zeros((p, q)) if start is None or start.shape != (p, q) else start.copy()

    def loglik(B):
        eta = X @ B
        top = np.maximum(eta.max(axis=1), 0.0)
        lse = top + np.log(np.exp(-top) + np.exp(eta - top[:, None]).sum(axis=1))
        return float(w @ ((Y * eta).sum(axis=1) - lse))

    ll = loglik(B)
    info = None
    for _ in range(max_iter):
        P = _softmax_ref0(X @ B)[:, 1:]
        grad = (X.T @ (w[:, None] * (Y - P))).ravel(order="F")
        info = np.empty((p * q, p * q))
        for k in range(q):
            for m in range(k, q):
                v = w * P[:, k] * ((k == m) - P[:, m])
                blk = (X * v[:, None]).T @ X
                info[k * p:(k + 1) * p, m * p:(m + 1) * p] = blk
                info[m * p:(m + 1) * p, k * p:(k + 1) * p] = blk.T
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:  # collinear predictors: minimum-norm step
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        step = step.reshape((p, q), order="F")
        t = 1.0
        for _ in range(30):
            new = B + t * step
            new_ll = loglik(new)
            if new_ll >= ll - 1e-10 * (1 + abs(ll)):
                break
            t *= 0.5
        B, ll = new, new_ll
        if np.max(np.abs(t * step)) <= tol * (1 + np.max(np.abs(B))):
            break
    return B, info


def impute_categorical(codes_obs, X_obs, X_mis, rng, *, n_cat: int, state: dict | None = None, **_):
    """logreg / polyreg draw; ``X_*`` include the intercept column first. ``state`` (a dict
    kept by the caller across iterations) warm-starts the fit."""
    yc, Xa, w = augment_categories(codes_obs, X_obs[:, 1:], n_cat)
    Xa = np.column_stack([np.ones(len(yc)), Xa])
    B, info = multinomial_fit(yc, Xa, w, n_cat, start=None if state is None else state.get("B"))
    if state is not None:
        state["B"] = B
    cov = np.linalg.pinv(info)
    B_star = B + _mvn_draw(rng, cov).reshape(B.shape, order="F")
    P = _softmax_ref0(X_mis @ B_star)
    u = rng.random(X_mis.shape[0])
    return np.minimum((u[:, None] > np.cumsum(P, axis=1)).sum(axis=1), n_cat - 1).astype(float)
