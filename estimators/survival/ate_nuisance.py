"""Nuisance models of the survival ATE estimators and their influence functions.

Three working models, each with the per-patient influence function (IF) of its parameters
on the *sum* scale (the variance of a parameter is the sum of its squared IF), in the form
``riskRegression::iidCox`` and ``iid`` of a ``glm`` use:

* **Cox model with a Breslow baseline hazard** (:class:`BreslowCox`) for the outcome and,
  with ``1 - event`` as the event, for censoring. With ``r_j = exp(x_j' beta)``,
  ``S0_k = sum_{T_j >= t_k} r_j`` and ``S1_k = sum_{T_j >= t_k} r_j x_j`` at the k-th
  distinct event time, the baseline hazard jumps ``dL_k = d_k / S0_k`` and::

      IF_i(beta) = I^-1 U_i                               (U_i the score residual)
      IF_i(dL_k) = dN_i(t_k) / S0_k - Y_i(t_k) r_i d_k / S0_k^2
                   - (S1_k d_k / S0_k^2)' IF_i(beta)

  (Andersen et al. 1993, VII.2; Lin, Fleming & Wei 1994). A model without covariates is the
  Nelson-Aalen estimator (``beta`` empty, ``r = 1``). Survival is ``exp(-L0(t) r)``, the
  default of ``riskRegression`` for Cox models (``product.limit = FALSE``).
* **Logistic treatment model** (:class:`LogisticNuisance`):
  ``IF_i(alpha) = I^-1 x_i (z_i - e_i)``.

An estimator that depends on the cumulative baseline hazard at several times (and on
``beta``) gets its nuisance IF term by the chain rule: :func:`jump_gradient` turns
derivatives with respect to ``L0(t)`` (or its left limit ``L0(t-)``) at arbitrary times
into derivatives with respect to the jumps, and :meth:`BreslowCox.jump_if` contracts those
with ``IF_i(dL_k)`` in O(n log n), without an n x K matrix.

Ties: the coefficients are fitted with Breslow's partial likelihood and the baseline hazard
is Breslow's, so with tied event times the results equal R's with ``coxph(..., ties =
"breslow")``; without ties every ``ties`` choice of R agrees.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tacebench.records import ArrayRecord

from ..propensity import fit_logistic
from ..status import Estimability, logistic_estimability
from .cox_baseline import fit_cox_breslow, fit_cox_breslow_working

__all__ = ["BreslowCox", "DeathsByHorizon", "LogisticNuisance", "fit_breslow_cox",
           "fit_treatment_model", "jump_gradient", "rows_added_at", "survival_matrix"]


@dataclass(frozen=True, eq=False)
class BreslowCox(ArrayRecord):
    """A Cox model (or Nelson-Aalen when ``p == 0``) with its Breslow baseline hazard.

    Attributes
    ----------
    coef : (p,) log hazard ratios.
    center : (p,) covariate means; ``r`` and the baseline hazard refer to centred
        covariates (every prediction is invariant to the centring).
    times : (K,) distinct event times, ascending.
    jumps : (K,) baseline hazard jumps ``dL_k``.
    cumhaz : (K,) ``L0(t_k)``.
    r : (n,) ``exp((x_i - center)' coef)`` of the fitted rows.
    if_beta : (n, p) IF of ``coef``.
    status : Estimability of the Cox fit (OK for Nelson-Aalen).
    """

    coef: np.ndarray
    center: np.ndarray
    times: np.ndarray
    jumps: np.ndarray
    cumhaz: np.ndarray
    r: np.ndarray = field(repr=False)
    if_beta: np.ndarray = field(repr=False)
    status: Estimability
    _time: np.ndarray = field(repr=False)
    _event: np.ndarray = field(repr=False)
    _s0: np.ndarray = field(repr=False)
    _s1: np.ndarray = field(repr=False)
    _d: np.ndarray = field(repr=False)
    # what every jump_if reads, computed once at the fit: the jumps at or before each T_i,
    # who had the event and d_k / S0_k^2 (each as jump_if computed it, the same doubles)
    _k: np.ndarray = field(init=False, repr=False)
    _ev: np.ndarray = field(init=False, repr=False)
    _d_s0sq: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_k", np.searchsorted(self.times, self._time, side="right"))
        object.__setattr__(self, "_ev", self._event == 1)
        object.__setattr__(self, "_d_s0sq", self._d / self._s0**2)

    def risk_score(self, X: np.ndarray) -> np.ndarray:
        """``exp((x - center)' coef)`` for the rows of ``X`` (n, p)."""
        if self.coef.size == 0:
            return np.ones(X.shape[0])
        return np.exp((X - self.center) @ self.coef)

    def cumhaz_at(self, t, *, left: bool = False) -> np.ndarray:
        """``L0(t)``, or ``L0(t-)`` with ``left=True``, at the times ``t``."""
        k = np.searchsorted(self.times, t, side="left" if left else "right")
        return np.concatenate(([0.0], self.cumhaz))[k]

    def jump_if(self, g: np.ndarray) -> np.ndarray:
        """``sum_k g_k IF_i(dL_k)`` for gradient columns ``g`` (K, m): an (n, m) array."""
        k, ev, d_s0sq = self._k, self._ev, self._d_s0sq  # jumps at or before T_i
        c = np.vstack([np.zeros((1, g.shape[1])), np.cumsum(g * d_s0sq[:, None], axis=0)])
        own = np.zeros((self._time.size, g.shape[1]))
        own[ev] = g[k[ev] - 1] / self._s0[k[ev] - 1][:, None]
        out = own - self.r[:, None] * c[k]
        if self.coef.size:
            tilt = (self._s1 * d_s0sq[:, None]).T @ g  # (p, m)
            out -= self.if_beta @ tilt
        return out


def fit_breslow_cox(time: np.ndarray, event: np.ndarray, X: np.ndarray) -> BreslowCox:
    """Fit a Cox model (Breslow ties) and its Breslow baseline hazard on trusted arrays.

    Parameters
    ----------
    time : (n,) float array
    event : (n,) 0/1 array
    X : (n, p) float array; ``p = 0`` gives the Nelson-Aalen estimator.

    Returns
    -------
    BreslowCox
        With a non-OK ``status`` (and NaN coefficients) when the Cox fit is not an estimate.

    Notes
    -----
    Trusted-input kernel: no validation, never raises on data.
    """
    n, p = X.shape
    e = np.asarray(event, dtype=np.float64)
    if not p:  # Nelson-Aalen
        order = np.argsort(time, kind="stable")
        ts = time[order]
        times, d = np.unique(ts[e[order] == 1], return_counts=True)
        first = np.searchsorted(ts, times, side="left")  # first sorted row at risk at t_k
        r = np.ones(n)
        s0 = np.cumsum(r[order][::-1])[::-1][first]
        jumps = d / s0
        return BreslowCox(np.empty(0), np.empty(0), times, jumps, np.cumsum(jumps), r,
                          np.empty((n, 0)), Estimability.OK, time, e, s0,
                          np.empty((times.size, 0)), d.astype(np.float64))
    if n:
        cox, sums = fit_cox_breslow_working(time, e, X)
        if_beta = cox.if_beta
    else:  # (no rows: fit_cox's own verdict)
        cox, sums = fit_cox_breslow(time, e, X)
        if_beta = np.full((n, p), np.nan)
    jumps = sums.deaths / sums.s0
    return BreslowCox(cox.coef, sums.center, sums.times, jumps, np.cumsum(jumps), sums.r,
                      if_beta, cox.status, time, e, sums.s0, sums.s1, sums.deaths)


def jump_gradient(times: np.ndarray, t_eval: np.ndarray, weights: np.ndarray,
                  *, left: bool = False) -> np.ndarray:
    """Turn derivatives with respect to ``L0(t_eval)`` into derivatives with respect to the
    jumps: ``g_k = sum_{t_eval >= t_k} weights`` (``> t_k`` with ``left=True``).

    Parameters
    ----------
    times : (K,) jump times, ascending.
    t_eval : (N,) evaluation times.
    weights : (N, m) derivative of the estimate(s) with respect to each ``L0(t_eval)``.

    Returns
    -------
    (K, m) array
    """
    if weights.ndim == 1:
        weights = weights[:, None]
    k = np.searchsorted(times, t_eval, side="left" if left else "right")
    return np.cumsum(rows_added_at(k, weights, times.size + 1)[::-1], axis=0)[::-1][1:]


def rows_added_at(k: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``out[j] = sum_{e: k_e = j} weights[e]``, an (size, m) array for weights (N, m):
    ``np.add.at(zeros, k, weights)``, the same additions in the same order (each cell
    adds its rows in the order of ``e``), by one ``bincount`` over the cells at a third
    of ``add.at``'s cost."""
    m = weights.shape[1]
    cells = (k[:, None] * m + np.arange(m)).ravel()
    return np.bincount(cells, weights.ravel(), minlength=size * m).reshape(size, m)


def survival_matrix(cumhaz: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``exp(-cumhaz_k score_i)``, a (K, n) array of survival probabilities, built in place:
    a fresh array per step of a large product costs page faults as much as the
    arithmetic."""
    out = np.multiply.outer(-cumhaz, score)
    return np.exp(out, out=out)


@dataclass(frozen=True, eq=False)
class DeathsByHorizon(ArrayRecord):
    """Which horizons count each patient's death, ``Y_i(tau_h) = 1{T_i <= tau_h, event_i = 1}``,
    without the (n, H) indicator matrix.

    Attributes
    ----------
    first : (n,) index of the first horizon ``tau_h >= T_i`` for a death, ``H`` for a
        censored patient or a death after the last horizon (never counted).
    n_horizons : H.
    """

    first: np.ndarray
    n_horizons: int

    @classmethod
    def of(cls, time: np.ndarray, event: np.ndarray, horizons: np.ndarray) -> "DeathsByHorizon":
        first = np.searchsorted(horizons, time, side="left")
        return cls(np.where(event == 1, first, horizons.size), horizons.size)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """``sum_i values_i Y_i(tau_h)`` for each horizon, (H,)."""
        counted = self.first < self.n_horizons
        mass = np.bincount(self.first[counted], values[counted], minlength=self.n_horizons)
        return np.cumsum(mass)

    def contract(self, weights: np.ndarray) -> np.ndarray:
        """``Y @ weights`` for horizon weights (H, m): ``sum_{h >= first_i} weights[h]``, (n, m)."""
        tail = np.zeros((self.n_horizons + 1, weights.shape[1]))
        tail[:-1] = np.cumsum(weights[::-1], axis=0)[::-1]
        return tail[self.first]


@dataclass(frozen=True, eq=False)
class LogisticNuisance(ArrayRecord):
    """Logistic treatment model ``e(x) = P(Z = 1 | x)`` with the IF of its coefficients.

    Attributes
    ----------
    design : (n, k) design with its intercept column.
    ps : (n,) fitted propensity scores.
    if_alpha : (n, k) IF of the coefficients.
    status : Estimability of the fit.
    """

    design: np.ndarray = field(repr=False)
    ps: np.ndarray = field(repr=False)
    if_alpha: np.ndarray = field(repr=False)
    status: Estimability

    def arm_probability(self, arm: int) -> np.ndarray:
        """``P(Z = arm | x_i)``."""
        return self.ps if arm == 1 else 1.0 - self.ps

    def arm_if(self, arm: int, grad_p: np.ndarray) -> np.ndarray:
        """IF term of an estimate whose derivative with respect to ``P(Z = arm | x_j)`` is
        ``grad_p`` (n, m): ``IF(alpha) @ sum_j grad_p_j dP_j/d alpha``, an (n, m) array."""
        sign = 1.0 if arm == 1 else -1.0
        dp = sign * self.ps * (1.0 - self.ps)
        return self.if_alpha @ (self.design.T @ (grad_p * dp[:, None]))


def fit_treatment_model(z: np.ndarray, X: np.ndarray) -> LogisticNuisance:
    """Logistic regression of the 0/1 treatment ``z`` on ``X`` (an intercept is added), on
    trusted arrays; never raises on data (``status`` says whether it is an estimate)."""
    Xa = np.column_stack([np.ones(z.size), X])
    fit = fit_logistic(Xa, z.astype(np.float64), np.ones(z.size))
    with np.errstate(all="ignore"):
        try:
            if_alpha = ((z - fit.fitted)[:, None] * Xa) @ np.linalg.inv(fit.information)
        except np.linalg.LinAlgError:
            if_alpha = np.full(Xa.shape, np.nan)
    # the status of the fit without its separating direction: a column seen in one arm
    # only certifies separation without the linear program (the same verdict)
    status = logistic_estimability(Xa, fit.y, fit.w, fit.fitted, fit.coef, fit.newton_converged)
    return LogisticNuisance(Xa, fit.fitted, if_alpha, status)


@dataclass(frozen=True, eq=False)
class ArmRisk(ArrayRecord):
    """Marginal risk ``P(T^a <= tau)`` of one arm at each horizon, with its IF.

    Attributes
    ----------
    risk : (H,) estimates.
    iid : (n, H) influence function on the sum scale (``se = sqrt(sum iid^2)``), nuisance
        terms included.
    """

    risk: np.ndarray
    iid: np.ndarray = field(repr=False)
