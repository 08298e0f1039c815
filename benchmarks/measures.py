"""Performance measures of a simulation study, each with its Monte Carlo standard error.

Definitions and Monte Carlo SE (MCSE) formulas follow Morris, White & Crowther (2019),
"Using simulation studies to evaluate statistical methods", *Statistics in Medicine* 38:2074-2102,
Table 6. With ``n_sim`` replicates, estimates ``theta_i``, model standard errors ``se_i``,
true value ``theta``, ``mean = sum(theta_i) / n_sim``:

========================  ==============================================  ==============================================================
measure                   estimate                                        MCSE
========================  ==============================================  ==============================================================
bias                      mean - theta                                    sqrt(sum((theta_i - mean)^2) / (n_sim (n_sim - 1)))
relative bias             (mean - theta) / theta                          MCSE(bias) / |theta|
empirical SE              sqrt(sum((theta_i - mean)^2) / (n_sim - 1))     EmpSE / sqrt(2 (n_sim - 1))
MSE                       sum((theta_i - theta)^2) / n_sim                sqrt(sum(((theta_i - theta)^2 - MSE)^2) / (n_sim (n_sim - 1)))
RMSE                      sqrt(MSE)                                       MCSE(MSE) / (2 RMSE)          (delta method)
average model SE          sqrt(sum(se_i^2) / n_sim)                       sqrt(Var(se_i^2) / (4 n_sim ModSE^2))
relative error in ModSE   100 (ModSE / EmpSE - 1)                         100 (ModSE / EmpSE) sqrt(Var(se_i^2) / (4 n_sim ModSE^4) + 1 / (2 (n_sim - 1)))
coverage                  sum(1[lo_i <= theta <= hi_i]) / n_sim           sqrt(Cover (1 - Cover) / n_sim)
bias-eliminated coverage  sum(1[lo_i <= mean <= hi_i]) / n_sim            sqrt(BECover (1 - BECover) / n_sim)
rejection (power/type I)  sum(1[p_i <= alpha]) / n_sim                    sqrt(Power (1 - Power) / n_sim)
                          (a method's own CI: 1[null outside it])
convergence rate          n_converged / n_attempted                       sqrt(rate (1 - rate) / n_attempted)
========================  ==============================================  ==============================================================

``Var(se_i^2)`` is the sample variance (divisor ``n_sim - 1``) of the model variances. All
measures except the convergence rate are computed on the replicates where the method
converged and returned a finite estimate and a finite positive SE, as Morris et al.
(section 5.4) recommend reporting alongside the number of such replicates.

A replicate whose method gives its own CI (a bootstrap or profile-likelihood interval)
rejects ``H0: theta = null`` when the null lies outside that CI, a test of size one minus
the CI's level, so that rejection and coverage judge the same interval; without one, the
Wald test of the estimate and SE at ``alpha``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Every measure :func:`performance_measures` reports, in report order.
MEASURES: tuple[str, ...] = (
    "bias", "relative_bias", "empse", "mse", "rmse", "modse", "relerr_modse",
    "coverage", "becoverage", "power", "convergence",
)


def _float_array(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {type(x).__name__}: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {arr.shape}")
    return arr


def _proportion(hits: np.ndarray) -> tuple[float, float]:
    n = hits.size
    if n == 0:
        return np.nan, np.nan
    p = float(hits.mean())
    return p, float(np.sqrt(p * (1.0 - p) / n))


@dataclass(frozen=True)
class Measure:
    """One performance measure: its value, its Monte Carlo SE and the replicates used."""

    name: str
    value: float
    mcse: float
    n: int


@dataclass(frozen=True)
class PerformanceResult:
    """Performance of one method for one estimand in one scenario (Morris et al. 2019)."""

    truth: float
    n_attempted: int
    n_used: int
    measures: tuple[Measure, ...]

    def __getitem__(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, tuple[float, float]]:
        return {m.name: (m.value, m.mcse) for m in self.measures}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "measure": [m.name for m in self.measures],
                "value": [m.value for m in self.measures],
                "mcse": [m.mcse for m in self.measures],
                "n": [m.n for m in self.measures],
            }
        )


def wald_interval(estimate, se, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Nominal Wald interval ``estimate -/+ z_{(1+level)/2} se``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    z = stats.norm.ppf(0.5 + level / 2.0)
    est = np.asarray(estimate, dtype=np.float64)
    half = z * np.asarray(se, dtype=np.float64)
    return est - half, est + half


def wald_p_value(estimate, se, null: float = 0.0) -> np.ndarray:
    """Two-sided Wald p-value for ``H0: theta = null``."""
    est = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(est - null) / se
    return 2.0 * stats.norm.sf(z)


def performance_measures(
    estimate,
    se,
    truth: float,
    *,
    converged=None,
    ci_lower=None,
    ci_upper=None,
    p_value=None,
    rejected=None,
    level: float = 0.95,
    alpha: float = 0.05,
    null: float = 0.0,
) -> PerformanceResult:
    """All Table 6 measures of Morris, White & Crowther (2019), with MCSEs.

    Parameters
    ----------
    estimate, se : array_like, shape (n_sim,)
        Point estimates and model standard errors per replicate (NaN where the method
        failed).
    truth : float
        The true value of the estimand ``theta``.
    converged : array_like of bool, optional
        Whether the method converged on each replicate; default: every replicate with a
        finite estimate and SE.
    ci_lower, ci_upper : array_like, optional
        Confidence limits; default the Wald interval ``estimate -/+ z se`` at ``level``.
    p_value : array_like, optional
        P-values for ``H0: theta = null``; default the Wald test.
    rejected : array_like of bool, optional
        Whether each replicate rejects ``H0`` by a test of its own (a method's own CI that
        excludes ``null``); default ``p_value <= alpha``.
    level, alpha, null : float
        Nominal CI level, test size and the null value for power / type I error.

    Returns
    -------
    PerformanceResult
        ``result["bias"].value``, ``.mcse``; ``to_frame()`` for a tidy table.
    """
    est = _float_array(estimate, "estimate")
    sev = _float_array(se, "se")
    n_att = est.size
    if sev.size != n_att:
        raise ValueError(f"se must have the length of estimate ({n_att}); got {sev.size}")
    truth = float(truth)
    if not np.isfinite(truth):
        raise ValueError(f"truth must be finite; got {truth!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    ok = np.isfinite(est) & np.isfinite(sev) & (sev > 0)
    if converged is not None:
        conv = np.asarray(converged, dtype=bool)
        if conv.shape != est.shape:
            raise ValueError(f"converged must have shape {est.shape}; got {conv.shape}")
        ok &= conv
    if ci_lower is None or ci_upper is None:
        lo, hi = wald_interval(est, sev, level)
    else:
        lo, hi = _float_array(ci_lower, "ci_lower"), _float_array(ci_upper, "ci_upper")
    pv = wald_p_value(est, sev, null) if p_value is None else _float_array(p_value, "p_value")
    reject = pv <= alpha
    if rejected is not None:
        reject = np.asarray(rejected, dtype=bool)
        if reject.shape != est.shape:
            raise ValueError(f"rejected must have shape {est.shape}; got {reject.shape}")

    x, s, lo, hi, reject = est[ok], sev[ok], lo[ok], hi[ok], reject[ok]
    n = int(x.size)
    nan = np.nan
    out: list[Measure] = []

    def add(name, value, mcse):
        out.append(Measure(name, float(value), float(mcse), n))

    if n >= 2:
        mean = x.mean()
        dev2 = (x - mean) ** 2
        empse = np.sqrt(dev2.sum() / (n - 1))
        bias = mean - truth
        bias_mcse = np.sqrt(dev2.sum() / (n * (n - 1)))
        add("bias", bias, bias_mcse)
        if truth != 0.0:
            with np.errstate(over="ignore"):  # |truth| near 0: relative bias is huge, not an error
                add("relative_bias", np.float64(bias) / truth, np.float64(bias_mcse) / abs(truth))
        else:  # undefined at theta = 0: reported as NaN, not an error
            add("relative_bias", nan, nan)
        add("empse", empse, empse / np.sqrt(2.0 * (n - 1)))
        sq = (x - truth) ** 2
        mse = sq.mean()
        mse_mcse = np.sqrt(((sq - mse) ** 2).sum() / (n * (n - 1)))
        add("mse", mse, mse_mcse)
        rmse = np.sqrt(mse)
        add("rmse", rmse, mse_mcse / (2.0 * rmse) if rmse > 0 else nan)
        var = s**2
        modse = np.sqrt(var.mean())
        var_var = var.var(ddof=1)
        add("modse", modse, np.sqrt(var_var / (4.0 * n * modse**2)) if modse > 0 else nan)
        if empse > 0 and modse > 0:
            ratio = modse / empse
            rel_mcse = 100.0 * ratio * np.sqrt(var_var / (4.0 * n * modse**4) + 1.0 / (2.0 * (n - 1)))
            add("relerr_modse", 100.0 * (ratio - 1.0), rel_mcse)
        else:
            add("relerr_modse", nan, nan)
        add("coverage", *_proportion((lo <= truth) & (truth <= hi)))
        add("becoverage", *_proportion((lo <= mean) & (mean <= hi)))
    else:
        for name in MEASURES[:-2]:
            add(name, nan, nan)
    add("power", *_proportion(reject))
    rate, rate_mcse = _proportion(ok)
    out.append(Measure("convergence", rate, rate_mcse, n_att))
    return PerformanceResult(truth=truth, n_attempted=n_att, n_used=n, measures=tuple(out))


def relative_precision(estimate_a, estimate_b, *, converged_a=None, converged_b=None
                       ) -> tuple[float, float]:
    """Relative % increase in precision of method B vs A, with MCSE.

    ``100 ((EmpSE_A / EmpSE_B)^2 - 1)``, MCSE ``200 (EmpSE_A / EmpSE_B)^2 sqrt((1 - rho^2) /
    (n_sim - 1))`` where ``rho`` is the correlation of the paired estimates (Morris et al.
    2019, Table 6). A paired measure: only replicates where both methods converged
    (``converged_a``/``converged_b``, default every one) with finite estimates are used,
    so a non-converged replicate's finite estimate (left out of each method's own EmpSE)
    does not enter it either; with unequal failures the EmpSEs of the two methods' own
    tables come from other replicates and their ratio need not equal this one.
    """
    a = _float_array(estimate_a, "estimate_a")
    b = _float_array(estimate_b, "estimate_b")
    if a.size != b.size:
        raise ValueError(f"estimate_b must have the length of estimate_a ({a.size}); got {b.size}")
    ok = np.isfinite(a) & np.isfinite(b)
    for name, conv in (("converged_a", converged_a), ("converged_b", converged_b)):
        if conv is not None:
            conv = np.asarray(conv, dtype=bool)
            if conv.shape != a.shape:
                raise ValueError(f"{name} must have shape {a.shape}; got {conv.shape}")
            ok &= conv
    a, b = a[ok], b[ok]
    n = a.size
    if n < 3:
        return np.nan, np.nan
    ratio2 = a.var(ddof=1) / b.var(ddof=1)
    rho = np.corrcoef(a, b)[0, 1]
    return float(100.0 * (ratio2 - 1.0)), float(200.0 * ratio2 * np.sqrt((1.0 - rho**2) / (n - 1)))


def n_sim_required(measure: str, target_mcse: float, *, sd: float | None = None,
                   coverage: float = 0.5) -> int:
    """Number of replicates that brings the MCSE of a measure down to ``target_mcse``.

    Inverts the Table 6 formulas as in Morris et al. (2019), section 5.3:

    * ``bias``: ``n_sim = sd^2 / MCSE^2``, with ``sd`` the empirical SE of the estimates
      (from a pilot run or the literature);
    * ``empse``: ``n_sim = 1 + sd^2 / (2 MCSE^2)``;
    * ``coverage`` / ``power`` / ``convergence``: ``n_sim = p (1 - p) / MCSE^2`` with the
      expected proportion ``coverage`` (default 0.5, the worst case).
    """
    if not (np.isfinite(target_mcse) and target_mcse > 0):
        raise ValueError(f"target_mcse must be positive; got {target_mcse!r}")
    if measure in ("bias", "empse"):
        if sd is None or not (np.isfinite(sd) and sd > 0):
            raise ValueError(f"sd must be a positive number for measure={measure!r}; got {sd!r}")
        n = sd**2 / target_mcse**2 if measure == "bias" else 1.0 + sd**2 / (2.0 * target_mcse**2)
    elif measure in ("coverage", "becoverage", "power", "convergence"):
        if not 0.0 <= coverage <= 1.0:
            raise ValueError(f"coverage must lie in [0, 1]; got {coverage!r}")
        n = coverage * (1.0 - coverage) / target_mcse**2
    else:
        raise ValueError(
            "measure must be one of ('bias', 'empse', 'coverage', 'becoverage', 'power', "
            f"'convergence'); got {measure!r}"
        )
    return max(2, int(np.ceil(n - 1e-9)))
