"""Rubin's rules: pooling a scalar estimate over multiply imputed data sets.

Given ``m`` completed-data estimates ``Q_j`` with variances ``U_j`` (squared SEs):

* pooled estimate ``Qbar = mean(Q_j)``;
* within-imputation variance ``Ubar = mean(U_j)``;
* between-imputation variance ``B = var(Q_j)`` (divisor ``m - 1``);
* total variance ``T = Ubar + (1 + 1/m) B`` (Rubin 1987);
* relative increase in variance ``r = (1 + 1/m) B / Ubar``;
  proportion of variance due to missingness ``lambda = (1 + 1/m) B / T``;
* degrees of freedom of Barnard & Rubin (1999), the small-sample correction of Rubin's
  ``(m - 1) / lambda^2``::

      nu_old = (m - 1) / lambda^2
      nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda)
      nu     = nu_old * nu_obs / (nu_old + nu_obs)            (nu = nu_old if nu_com = inf)

  with ``lambda`` floored at 1e-4 as in R ``mice`` (so that ``B = 0`` gives a finite df);
* fraction of missing information ``fmi = (r + 2 / (nu + 3)) / (r + 1)``;
* CI ``Qbar +/- t_{nu, 1 - alpha/2} sqrt(T)`` and two-sided p from ``t_nu``.

These are exactly the columns of R ``mice::pool()`` / ``mice::pool.scalar()`` (mice 3.15,
``rule = "rubin1987"``), which the tests check to 1e-6. ``nu_com`` (R's ``dfcom``) is the
complete-data degrees of freedom: ``n - k`` for a regression, ``inf`` (the default, as in
``pool.scalar(n = Inf)``) for large-sample estimators such as a Cox log-HR.

References: Rubin DB (1987) *Multiple Imputation for Nonresponse in Surveys*; Barnard J,
Rubin DB (1999) Biometrika 86:948-955; van Buuren S (2018) *Flexible Imputation of Missing
Data*, 2nd ed., section 2.3.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_float_array, check_finite, check_lengths, check_level, check_positive

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["RubinResult", "rubin_pool", "barnard_rubin_df"]

_LAMBDA_FLOOR = 1e-4  # as mice:::barnard.rubin


@dataclass(frozen=True)
class RubinResult:
    """Rubin's-rules pooled scalar.

    Attributes
    ----------
    estimate : float
        Pooled estimate ``Qbar``.
    within, between, total : float
        ``Ubar``, ``B`` and ``T = Ubar + (1 + 1/m) B`` (variances, not SEs).
    se : float
        ``sqrt(total)``.
    df : float
        Barnard–Rubin degrees of freedom.
    riv : float
        Relative increase in variance due to nonresponse, ``r``.
    lambda_ : float
        Proportion of total variance due to missingness (unfloored).
    fmi : float
        Fraction of missing information.
    ci : tuple of float
        ``conf_level`` t-interval.
    statistic, p_value : float
        ``estimate / se`` and its two-sided p-value on ``df`` degrees of freedom (null 0).
    m : int
    df_complete : float
        Complete-data df used (``inf`` when not given).
    conf_level : float
    """

    estimate: float
    within: float
    between: float
    total: float
    se: float
    df: float
    riv: float
    lambda_: float
    fmi: float
    ci: tuple[float, float]
    statistic: float
    p_value: float
    m: int
    df_complete: float
    conf_level: float

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        d = self.to_dict()
        lo, hi = d.pop("ci")
        d["ci_lower"], d["ci_upper"] = lo, hi
        return pd.DataFrame([d])


def barnard_rubin_df(m: int, between: float, total: float, df_complete: float = np.inf) -> float:
    """Barnard & Rubin (1999) degrees of freedom, as ``mice:::barnard.rubin``."""
    lam = max((1.0 + 1.0 / m) * between / total, _LAMBDA_FLOOR)
    df_old = (m - 1) / lam**2
    if np.isinf(df_complete):
        return float(df_old)
    df_obs = (df_complete + 1.0) / (df_complete + 3.0) * df_complete * (1.0 - lam)
    return float(df_old * df_obs / (df_old + df_obs))


def _pool(q: np.ndarray, u: np.ndarray, df_complete: float, conf_level: float) -> RubinResult:
    from scipy import stats
    m = q.size
    qbar = float(q.mean())
    ubar = float(u.mean())
    b = float(q.var(ddof=1))
    t = ubar + (1.0 + 1.0 / m) * b
    df = barnard_rubin_df(m, b, t, df_complete)
    riv = (1.0 + 1.0 / m) * b / ubar if ubar > 0 else np.inf
    lam = (1.0 + 1.0 / m) * b / t if t > 0 else np.nan
    fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0) if np.isfinite(riv) else 1.0
    se = float(np.sqrt(t))
    q_crit = stats.t.ppf(0.5 + conf_level / 2.0, df)
    stat = qbar / se if se > 0 else np.nan
    p = float(2.0 * stats.t.sf(abs(stat), df)) if se > 0 else np.nan
    return RubinResult(
        estimate=qbar, within=ubar, between=b, total=t, se=se, df=df, riv=float(riv),
        lambda_=float(lam), fmi=float(fmi), ci=(qbar - q_crit * se, qbar + q_crit * se),
        statistic=float(stat), p_value=p, m=m, df_complete=float(df_complete),
        conf_level=conf_level,
    )


def rubin_pool(
    estimates,
    variances=None,
    *,
    se=None,
    df_complete: float = np.inf,
    conf_level: float = 0.95,
) -> RubinResult:
    """Pool ``m`` completed-data estimates of one scalar by Rubin's rules.

    Parameters
    ----------
    estimates : (m,) array-like
        The estimate from each completed data set (on the scale where it is approximately
        normal: pool log-HRs and log-ORs, not HRs).
    variances : (m,) array-like, optional
        Their squared standard errors. Give exactly one of ``variances`` and ``se``.
    se : (m,) array-like, optional
        Their standard errors.
    df_complete : float
        Complete-data degrees of freedom ``nu_com`` (R ``dfcom``; ``inf`` for large-sample
        estimators).
    conf_level : float
        Confidence level of ``ci``.

    Returns
    -------
    RubinResult

    Notes
    -----
    Equals R ``mice::pool.scalar(Q, U, n = df_complete + 1, k = 1)`` and the row of
    ``summary(mice::pool(fit), conf.int = TRUE)`` for one term; see the module docstring for
    the formulas.
    """
    q = check_finite(as_float_array(estimates, "estimates"), "estimates")
    if (variances is None) == (se is None):
        raise ValueError("give exactly one of variances and se")
    if se is not None:
        s = check_finite(as_float_array(se, "se"), "se")
        if (s < 0).any():
            raise ValueError(f"se must be non-negative; got {s[s < 0][:3].tolist()}")
        u = s**2
        check_lengths({"estimates": q, "se": s})
    else:
        u = check_finite(as_float_array(variances, "variances"), "variances")
        if (u < 0).any():
            raise ValueError(f"variances must be non-negative; got {u[u < 0][:3].tolist()}")
        check_lengths({"estimates": q, "variances": u})
    if q.size < 2:
        raise ValueError(f"estimates must hold at least 2 imputations (m >= 2); got m={q.size}")
    df_complete = check_positive(df_complete, "df_complete", allow_inf=True)
    conf_level = check_level(conf_level)
    if u.mean() == 0 and q.var() == 0:
        raise ValueError("variances are all zero and the estimates identical: nothing to pool")
    return _pool(q, u, float(df_complete), float(conf_level))
