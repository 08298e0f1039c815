"""IPTW-weighted Cox hazard ratio with three variances.

The papers (seed 000, 003) fit a logistic propensity model, weight, and fit a weighted Cox
model with the Lin & Wei (1989) robust sandwich. That sandwich treats the weights as known;
with estimated propensity scores it is conservative for the ATE (Austin 2016, Stat Med
35:5642; Shu, Young, Toh & Wang 2021, Stat Med 40:4000). Three variances are offered:

``"robust"``
    The Lin–Wei sandwich of the weighted Cox fit (R ``coxph(..., weights = w,
    robust = TRUE)``): ``V = I^-1 (sum_i w_i^2 L_i L_i') I^-1``.

``"m_estimation"``
    Stacked estimating equations (M-estimation) for ``theta = (alpha, [p], beta)``: the
    logistic score ``psi_a,i = (z_i - e_i) x_i``, for stabilized weights the marginal
    ``psi_p,i = z_i - p``, and the weighted Cox score contribution ``psi_b,i = w_i L_i``,
    where ``L_i`` are the (unweighted) Cox score residuals computed with weighted risk sets,
    so that ``sum_i w_i L_i`` is the Cox score. A Taylor expansion of the stacked equations
    gives the influence function of beta-hat::

        IF_i = -H_bb^-1 (w_i L_i - H_ba H_aa^-1 psi_a,i)

    with ``H_bb = -I`` (Cox information), ``H_aa`` the Jacobian of the nuisance equations
    (``-sum e(1-e) x x'`` for the logistic block, ``-n`` for ``p``), and the cross-derivative
    ``H_ba = d(sum_i w_i L_i)/d alpha' = sum_j L_j (dw_j/d alpha)'``, since the derivative of
    the weighted Cox score with respect to one weight ``w_j`` is exactly ``L_j`` (for
    Breslow and for Efron ties with R's weighting of tied deaths). ``V = sum_i IF_i IF_i'``.
    This is the variance of Shu et al. (2021) and of ``WeightIt::coxph_weightit`` with
    ``Mparts``. Weight derivatives ``dw/d eta`` (``eta = logit e``):

    ====== ========================================= ==================================
    ATE    -z (1-e)/e + (1-z) e/(1-e)                 stabilized: times p (z) / (1-p) (1-z)
    ATT    (1-z) e/(1-e)                              ATC: -z (1-e)/e
    ATO    -z e(1-e) + (1-z) e(1-e)
    ====== ========================================= ==================================

    and ``dw/dp = z/e - (1-z)/(1-e)`` for stabilized ATE weights. Truncation thresholds are
    treated as fixed: a weight clipped at a percentile has zero derivative (the percentile
    itself moves with alpha only at rate O(1/n) per unit and is ignored, as in the
    literature).

``"bootstrap"``
    Nonparametric bootstrap of the whole pipeline: resample patients, refit the propensity
    model, recompute (and re-truncate) the weights, refit the Cox model. The SE is the SD
    of the ``n_boot`` log-HRs; replicates whose propensity model or Cox model cannot be
    fitted (separation, a single arm, no events) are dropped and counted.

The robust and M-estimation SEs are always computed (they cost one matrix product); the
bootstrap only when asked for.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from ._checks import (as_float_array, as_generator, check_binary, check_both_arms, check_choice,
                      check_finite, check_lengths, check_level, check_positive_int, check_time)
from .propensity import LogisticResult, fit_logistic, logistic_regression
from .status import bootstrap_ps_failed
from .weights import _check_options, iptw_weights_kernel

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["IPTWCoxResult", "VARIANCES", "iptw_cox", "m_estimation_cov"]

VARIANCES = ("robust", "m_estimation", "bootstrap")


@dataclass(frozen=True, eq=False)
class IPTWCoxResult(ArrayRecord):
    """IPTW Cox estimate of the treatment hazard ratio.

    Attributes
    ----------
    coef, hr : float
        Treatment log hazard ratio and hazard ratio.
    se, ci, p_value : float, (2,) array, float
        SE of ``coef``, HR confidence limits (Wald on the log scale) and two-sided p with
        the variance named in ``variance``.
    variance : str
    se_robust, se_m_estimation, se_naive : float
        Lin–Wei sandwich; stacked estimating equations; model-based ``I^-1`` (which treats
        weights as frequencies and is wrong for IPTW: reported only for comparison).
    se_bootstrap : float
        NaN unless ``variance="bootstrap"``.
    boot_coef : (B,) array or None
        Bootstrap log-HRs of the replicates that could be fitted.
    n_boot_failed : int
    m_estimation_cov : (q, q) array
        M-estimation covariance of all outcome-model coefficients.
    weights, ps : (n,) arrays
    ps_fit : LogisticResult
    cox : CoxResult
        The weighted Cox fit (treatment first, then ``X_outcome``).
    estimand, stabilized, truncate, ties, conf_level
    """

    coef: float
    se: float
    ci: np.ndarray
    p_value: float
    variance: str
    se_robust: float
    se_m_estimation: float
    se_naive: float
    se_bootstrap: float
    m_estimation_cov: np.ndarray
    weights: np.ndarray = field(repr=False)
    ps: np.ndarray = field(repr=False)
    ps_fit: LogisticResult = field(repr=False)
    cox: object = field(repr=False)
    boot_coef: np.ndarray | None = field(default=None, repr=False)
    n_boot_failed: int = 0
    estimand: str = "ATE"
    stabilized: bool = False
    truncate: tuple | None = None
    ties: str = "efron"
    conf_level: float = 0.95

    @property
    def hr(self) -> float:
        return float(np.exp(self.coef))

    def to_frame(self) -> pd.DataFrame:
        """One row per variance estimator: SE, HR CI and p for the treatment effect."""
        import pandas as pd
        from scipy import stats
        zq = stats.norm.ppf(0.5 + self.conf_level / 2)
        rows = []
        for name, se in (("robust", self.se_robust), ("m_estimation", self.se_m_estimation),
                         ("bootstrap", self.se_bootstrap), ("naive", self.se_naive)):
            if not np.isfinite(se):
                continue
            rows.append({"variance": name, "coef": self.coef, "hr": self.hr, "se": se,
                         "hr_lower": np.exp(self.coef - zq * se),
                         "hr_upper": np.exp(self.coef + zq * se),
                         "p_value": 2 * stats.norm.sf(abs(self.coef / se)),
                         "used": name == self.variance})
        return pd.DataFrame(rows)


def _weight_derivatives(ps, z, estimand, stabilized, p1):
    """dw/d eta (per unit) and, for stabilized ATE weights, dw/dp."""
    t = z == 1
    if estimand == "ATE":
        d_eta = np.where(t, -(1.0 - ps) / ps, ps / (1.0 - ps))
        if stabilized:
            d_eta = d_eta * np.where(t, p1, 1.0 - p1)
            return d_eta, np.where(t, 1.0 / ps, -1.0 / (1.0 - ps))
        return d_eta, None
    if estimand == "ATT":
        return np.where(t, 0.0, ps / (1.0 - ps)), None
    if estimand == "ATC":
        return np.where(t, -(1.0 - ps) / ps, 0.0), None
    return np.where(t, -1.0, 1.0) * ps * (1.0 - ps), None  # ATO


def m_estimation_cov(Xa, z, ps, w, clipped, cox, estimand, stabilized):
    """Stacked-estimating-equation covariance of the Cox coefficients (module docstring).

    Parameters
    ----------
    Xa : (n, k) float array
        Propensity design with its intercept column.
    z, ps, w : (n,) float arrays
        Treatment 0/1, fitted propensity scores, the weights used by ``cox``.
    clipped : (n,) bool array
        Weights changed by truncation (their derivative is 0).
    cox : CoxResult
        The weighted Cox fit (score residuals and information).
    estimand, stabilized
        As :func:`estimators.weights.iptw_weights`.

    Returns
    -------
    (q, q) array

    Notes
    -----
    Trusted-input kernel: no validation. A singular Cox information raises
    ``numpy.linalg.LinAlgError``; call it only on a fit whose ``status`` is OK.
    """
    p1 = float(z.mean())
    d_eta, d_p = _weight_derivatives(ps, z, estimand, stabilized, p1)
    d_eta = np.where(clipped, 0.0, d_eta)
    L = cox.score_residuals                                   # (n, q), unweighted
    psi_b = w[:, None] * L
    # nuisance block: logistic score (and the marginal p for stabilized weights)
    psi_a = (z - ps)[:, None] * Xa
    H_aa = -(Xa * (ps * (1.0 - ps))[:, None]).T @ Xa
    H_ba = L.T @ (d_eta[:, None] * Xa)                        # (q, k)
    correction = psi_a @ np.linalg.solve(H_aa, H_ba.T)        # (n, q) = psi_a H_aa^-1 H_ba'
    if d_p is not None:
        d_p = np.where(clipped, 0.0, d_p)
        H_bp = L.T @ d_p                                      # (q,)
        correction = correction + np.outer((z - p1) / (-z.size), H_bp)
    inv_info = np.linalg.inv(cox.information)                 # -H_bb^-1
    IF = (psi_b - correction) @ inv_info
    return IF.T @ IF


def _fit_once(time, event, z, Xa, Xo, estimand, stabilized, lohi, qtype, ties):
    """Kernel for one pipeline fit on trusted arrays; returns (ps_beta, ps, w, clipped, cox)
    or None when the propensity or Cox model cannot be fitted."""
    from .survival.cox import fit_cox

    ps_fit = fit_logistic(Xa, z.astype(np.float64), np.ones(z.size))
    if bootstrap_ps_failed(ps_fit):  # this caller's policy (estimators.status)
        return None
    beta, ps = ps_fit.coef, ps_fit.fitted
    w_raw = iptw_weights_kernel(ps, z, estimand, stabilized, None, qtype)
    w = w_raw if lohi is None else iptw_weights_kernel(ps, z, estimand, stabilized, lohi, qtype)
    design = z[:, None].astype(np.float64) if Xo is None else np.column_stack([z, Xo])
    cox = fit_cox(time, event, design, w, ties=ties, robust=True,
                   names=("treated",) + tuple(f"x{j}" for j in range(design.shape[1] - 1)))
    if not cox.status.ok:
        return None
    return beta, ps, w, w != w_raw, cox


def iptw_cox(
    time,
    event,
    treated,
    X_ps,
    *,
    X_outcome=None,
    estimand: str = "ATE",
    stabilized: bool = False,
    truncate=None,
    quantile_type: int = 7,
    ties: str = "efron",
    variance: str = "robust",
    n_boot: int = 500,
    rng: np.random.Generator | int | None = None,
    conf_level: float = 0.95,
) -> IPTWCoxResult:
    """Hazard ratio of treatment from an IPTW-weighted Cox model, with a chosen variance.

    Parameters
    ----------
    time, event : (n,) survival time (months) and 0/1 event.
    treated : (n,) 0/1 treatment.
    X_ps : (n, k) propensity covariates without intercept (array, DataFrame or
        :class:`~estimators.design.DesignMatrix`; use ``design_matrix`` for categoricals).
    X_outcome : (n, m), optional
        Covariates added to the weighted Cox model (doubly adjusted; seed 000 Table 3).
    estimand, stabilized, truncate, quantile_type
        As :func:`estimators.weights.iptw_weights`.
    ties : {"efron", "breslow"}
    variance : {"robust", "m_estimation", "bootstrap"}
        Which SE ``se``/``ci``/``p_value`` use (see module docstring).
    n_boot : int
        Bootstrap replicates (``variance="bootstrap"``).
    rng : numpy.random.Generator or int seed
        Required for the bootstrap.
    conf_level : float

    Returns
    -------
    IPTWCoxResult
    """
    from scipy import stats
    check_choice(variance, "variance", VARIANCES)
    check_choice(ties, "ties", ("efron", "breslow"))
    lohi = _check_options(estimand, stabilized, truncate, quantile_type)
    conf_level = check_level(conf_level)
    t = check_time(time, "time")
    e = check_binary(event, "event")
    z = check_binary(treated, "treated")
    X = check_finite(as_float_array(X_ps, "X_ps", ndim=2), "X_ps")
    Xo = None
    if X_outcome is not None:
        Xo = check_finite(as_float_array(X_outcome, "X_outcome", ndim=2), "X_outcome")
    n = check_lengths({"time": t, "event": e, "treated": z, "X_ps": X, "X_outcome": Xo})
    check_both_arms(z)
    if not e.any():
        raise ValueError("event has no events (all 0): the hazard ratio is not estimable")
    if variance == "bootstrap":
        n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
        if rng is None:
            raise ValueError("variance='bootstrap' needs rng (a numpy Generator or int seed)")
        rng = as_generator(rng, "rng")
    ps_fit = logistic_regression(X, z)  # validates; raises SeparationError on separation
    Xa = np.column_stack([np.ones(n), X])
    fit = _fit_once(t, e, z, Xa, Xo, estimand, stabilized, lohi, quantile_type, ties)
    if fit is None:
        raise ValueError("the weighted Cox model has a monotone likelihood or did not converge "
                         "(e.g. no events in one arm): the hazard ratio is not estimable")
    _, ps, w, clipped, cox = fit
    m_cov = m_estimation_cov(Xa, z.astype(np.float64), ps, w, clipped, cox, estimand, stabilized)
    coef = float(cox.coef[0])
    se_rob = float(cox.robust_se[0])
    se_m = float(np.sqrt(m_cov[0, 0]))
    boot, failed, se_boot = None, 0, float("nan")
    if variance == "bootstrap":
        boot, failed = _bootstrap(t, e, z, Xa, Xo, estimand, stabilized, lohi, quantile_type,
                                  ties, int(n_boot), rng)
        if boot.size < 2:
            raise ValueError(f"only {boot.size} of {n_boot} bootstrap replicates could be fitted")
        se_boot = float(np.std(boot, ddof=1))
    se = {"robust": se_rob, "m_estimation": se_m, "bootstrap": se_boot}[variance]
    zq = stats.norm.ppf(0.5 + conf_level / 2)
    return IPTWCoxResult(
        coef=coef, se=se, ci=np.exp([coef - zq * se, coef + zq * se]),
        p_value=float(2 * stats.norm.sf(abs(coef / se))), variance=variance,
        se_robust=se_rob, se_m_estimation=se_m, se_naive=float(cox.se[0]),
        se_bootstrap=se_boot, m_estimation_cov=m_cov, weights=w, ps=ps, ps_fit=ps_fit,
        cox=cox, boot_coef=boot, n_boot_failed=failed, estimand=estimand,
        stabilized=stabilized, truncate=lohi, ties=ties, conf_level=conf_level,
    )


def _bootstrap(t, e, z, Xa, Xo, estimand, stabilized, lohi, qtype, ties, n_boot, rng):
    n = t.size
    out = []
    failed = 0
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        zb = z[idx]
        if zb.min() == zb.max() or not e[idx].any():
            failed += 1
            continue
        res = _fit_once(t[idx], e[idx], zb, Xa[idx], None if Xo is None else Xo[idx],
                        estimand, stabilized, lohi, qtype, ties)
        if res is None:
            failed += 1
            continue
        out.append(res[4].coef[0])
    return np.asarray(out), failed
