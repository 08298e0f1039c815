"""Tumour response: rates with confidence intervals and odds ratios (crude, adjusted, IPTW).

* :func:`proportion_ci` — a response rate with its Clopper–Pearson ("exact"), Wilson score,
  or continuity-corrected Wilson interval (R ``binom.test``, ``prop.test(correct = FALSE)``,
  ``prop.test(correct = TRUE)``).
* :func:`odds_ratio` — treated-vs-control odds ratio from a logistic regression, either with
  the model (inverse-information) variance as R ``glm(family = binomial)`` reports it, or
  with the design-based sandwich variance of a survey-weighted GLM exactly as R
  ``survey::svyglm(family = quasibinomial(), design = svydesign(ids = ~1, weights = ~w))``
  reports it (seed 000's "IPTW-adjusted survey-weighted generalized linear models").

Contingency-table tests (chi-square, Fisher) are in :mod:`estimators.contingency`; the
absolute risk reduction and NNT between survival curves in
:mod:`estimators.risk_difference`. Both are re-exported here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord

from ._checks import (as_float_array, check_binary, check_choice, check_finite, check_lengths,
                      check_level, check_real, check_weights)
from .contingency import ContingencyTest, chi_square_test, contingency_table, fisher_exact_test
from .propensity import logistic_regression
from .risk_difference import RiskDifference, risk_difference_at

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = [
    "ProportionCI", "proportion_ci", "OddsRatioResult", "odds_ratio",
    "ContingencyTest", "chi_square_test", "contingency_table", "fisher_exact_test",
    "RiskDifference", "risk_difference_at",
]

PROPORTION_METHODS = ("wilson", "wilson_cc", "exact")
OR_VARIANCES = ("model", "robust")
CI_METHODS = ("wald", "profile")


@dataclass(frozen=True)
class ProportionCI:
    """A proportion ``count / n`` with its confidence interval."""

    count: float
    n: int
    estimate: float
    lower: float
    upper: float
    method: str
    conf_level: float

    @property
    def ci(self) -> tuple[float, float]:
        return (self.lower, self.upper)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame([self.__dict__])


def _wilson(x: float, n: int, z: float, yates: float) -> tuple[float, float]:
    """R prop.test's one-sample interval: Wilson score, continuity-corrected by ``yates``."""
    p = x / n
    yates = min(yates, abs(x - n * 0.5))  # as R: YATES <- min(YATES, abs(x - n * p0)), p0 = 0.5
    z22n = z * z / (2.0 * n)
    pc = p + yates / n
    up = 1.0 if pc >= 1 else (pc + z22n + z * np.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    pc = p - yates / n
    lo = 0.0 if pc <= 0 else (pc + z22n - z * np.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    return float(lo), float(up)


def proportion_ci(count, n, method: str = "wilson", *, conf_level: float = 0.95) -> ProportionCI:
    """Proportion with a confidence interval.

    Parameters
    ----------
    count, n : int
        Number of responders and of assessed patients (``0 <= count <= n``, ``n >= 1``).
    method : {"wilson", "wilson_cc", "exact"}
        ``"wilson"``: score interval (Wilson 1927) = R ``prop.test(x, n, correct = FALSE)``
        and statsmodels ``proportion_confint(method="wilson")``; ``"wilson_cc"``: with
        continuity correction = R ``prop.test(x, n)`` (its default); ``"exact"``:
        Clopper–Pearson from beta quantiles = R ``binom.test(x, n)``.
    conf_level : float

    Returns
    -------
    ProportionCI
    """
    from scipy import stats
    check_choice(method, "method", PROPORTION_METHODS)
    conf_level = check_level(conf_level)
    for name, v in (("count", count), ("n", n)):
        if not (math.isfinite(check_real(v, name)) and float(v) == int(v)):
            raise ValueError(f"{name} must be a whole number; got {v!r}")
    x, n = int(count), int(n)
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}")
    if not 0 <= x <= n:
        raise ValueError(f"count must lie in [0, n={n}]; got {x}")
    alpha = 1.0 - conf_level
    if method == "exact":
        lo = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
        up = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    else:
        z = float(stats.norm.ppf(1 - alpha / 2))
        lo, up = _wilson(x, n, z, 0.5 if method == "wilson_cc" else 0.0)
    return ProportionCI(count=x, n=n, estimate=x / n, lower=lo, upper=up, method=method,
                        conf_level=conf_level)


@dataclass(frozen=True, eq=False)
class OddsRatioResult(ArrayRecord):
    """Odds ratio of response, treated vs control, from a (weighted) logistic regression.

    Attributes
    ----------
    odds_ratio, log_odds_ratio, se : float
        ``exp(beta_treated)``, ``beta_treated`` and its SE (model or sandwich).
    ci : tuple of float
        Interval on the OR scale (Wald, or profile likelihood; see ``ci_method``).
    statistic, p_value : float
        ``beta / se`` and its two-sided p: normal reference (``variance="model"``, as
        ``summary.glm``) or t on ``df`` (``variance="robust"``, as ``summary.svyglm``).
    df : float
        ``inf`` (model) or the design df ``n - p`` (robust, R's ``df.residual``).
    variance : {"model", "robust"}
    ci_method : {"wald", "profile"}
    n : int
        Rows used (positive weight).
    names, coef, cov : all terms of the fit, intercept first, with the covariance used.
    converged, separation : bool
    conf_level : float
    """

    odds_ratio: float
    log_odds_ratio: float
    se: float
    ci: tuple[float, float]
    statistic: float
    p_value: float
    df: float
    variance: str
    ci_method: str
    n: int
    names: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    converged: bool
    separation: bool
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        """All terms: coefficient, SE, OR, Wald CI, statistic, p (same reference distribution)."""
        import pandas as pd
        se = np.sqrt(np.diag(self.cov))
        q = _quantile(self.conf_level, self.df)
        stat = self.coef / se
        return pd.DataFrame({
            "term": list(self.names), "coef": self.coef, "se": se,
            "odds_ratio": np.exp(self.coef), "ci_lower": np.exp(self.coef - q * se),
            "ci_upper": np.exp(self.coef + q * se), "statistic": stat,
            "p_value": _two_sided(stat, self.df),
        })


def _quantile(conf_level: float, df: float) -> float:
    from scipy import stats
    a = 0.5 + conf_level / 2.0
    return float(stats.norm.ppf(a) if np.isinf(df) else stats.t.ppf(a, df))


def _two_sided(stat, df):
    from scipy import stats
    return 2.0 * (stats.norm.sf(np.abs(stat)) if np.isinf(df) else stats.t.sf(np.abs(stat), df))


def _svyglm_cov(U: np.ndarray, bread: np.ndarray) -> np.ndarray:
    """survey's with-replacement one-stage variance: n/(n-1) * A^-1 sum (u - ubar)(u - ubar)' A^-1."""
    n = U.shape[0]
    Uc = U - U.mean(axis=0)
    return bread @ (Uc.T @ Uc) @ bread * (n / (n - 1.0))


def _profile_ci(Xa: np.ndarray, y: np.ndarray, w: np.ndarray, coef: np.ndarray, se: float,
                loglik: float, j: int, conf_level: float) -> tuple[float, float]:
    """Profile-likelihood limits of coefficient ``j``: the roots of
    ``2 (l_hat - l_p(b)) = chi2_1(conf_level)``, with ``l_p`` maximised over the other
    coefficients by Newton–Raphson (concave, started from the MLE)."""
    from scipy import stats
    from scipy import optimize
    crit = stats.chi2.ppf(conf_level, 1)
    others = np.arange(Xa.shape[1]) != j
    Xo, xj = Xa[:, others], Xa[:, j]

    def deviance_gap(b: float) -> float:
        beta = coef[others].copy()
        for _ in range(100):
            eta = Xo @ beta + b * xj
            mu = special.expit(eta)
            info = (Xo * (w * mu * (1 - mu))[:, None]).T @ Xo
            step = np.linalg.solve(info, Xo.T @ (w * (y - mu)))
            beta += step
            if np.max(np.abs(step)) < 1e-13 * (1 + np.max(np.abs(beta))):
                break
        eta = Xo @ beta + b * xj
        ll = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
        return 2.0 * (loglik - ll) - crit

    limits = []
    for sign in (-1.0, 1.0):
        far = coef[j] + sign * 2.0 * se
        for _ in range(60):  # widen until the gap changes sign (it grows without bound)
            if deviance_gap(far) > 0:
                break
            far = coef[j] + 2.0 * (far - coef[j])
        limits.append(optimize.brentq(deviance_gap, coef[j], far, xtol=1e-13, rtol=1e-13))
    return limits[0], limits[1]


def odds_ratio(
    y,
    treated,
    X=None,
    weights=None,
    *,
    variance: str = "model",
    ci_method: str = "wald",
    conf_level: float = 0.95,
    names=None,
    on_separation: str = "raise",
) -> OddsRatioResult:
    """Odds ratio of a binary response for treated vs control by logistic regression.

    Parameters
    ----------
    y : (n,) 0/1
        Response (e.g. objective response, disease control).
    treated : (n,) 0/1
    X : (n, k) array-like or DataFrame, optional
        Adjustment covariates (already numerically coded; see
        :func:`estimators.design.design_matrix` for categorical ones).
    weights : (n,) array-like, optional
        IPT (or matching) weights. Rows with weight 0 are dropped.
    variance : {"model", "robust"}
        ``"model"``: inverse information with Wald z (R ``glm``; with weights this treats
        them as frequency weights, which understates the uncertainty of IPTW estimates).
        ``"robust"``: sandwich variance with survey's ``n / (n - 1)`` factor, t reference
        on ``n - p`` df, exactly as ``summary(svyglm(..., family = quasibinomial()))`` and
        ``confint(svyglm)``.
    ci_method : {"wald", "profile"}
        ``"wald"``: ``exp(beta +/- q se)``. ``"profile"`` (``variance="model"`` only):
        profile-likelihood interval, what R's ``confint(glm)`` reports (MASS's
        ``profile.glm``, which interpolates the profile on a grid; here the roots are found
        exactly, so R's limits agree to ~1e-4). The p-value stays the Wald one, as in
        ``summary.glm``.
    conf_level : float
    names : sequence of str, optional
        Column names of ``X`` (default: DataFrame columns or ``x0, x1, ...``).
    on_separation : {"raise", "flag"}
        Passed to :func:`estimators.propensity.logistic_regression`.

    Returns
    -------
    OddsRatioResult

    Notes
    -----
    svyglm's variance (survey 4.1 ``svy.varcoef``) is ``A^-1 B A^-1`` with
    ``A = sum w p (1 - p) x x'`` and ``B = n/(n-1) sum (u_i - ubar)(u_i - ubar)'``,
    ``u_i = w_i (y_i - p_i) x_i``; it does not depend on the scale of the weights. R keeps
    zero-weight rows of a ``svydesign`` in the ``n/(n-1)`` factor but not in
    ``df.residual``; dropping them, as here, is the same as subsetting the design.
    """
    import pandas as pd
    check_choice(variance, "variance", OR_VARIANCES)
    check_choice(ci_method, "ci_method", CI_METHODS)
    if ci_method == "profile" and variance != "model":
        raise ValueError("ci_method='profile' needs variance='model' (a likelihood); got variance='robust'")
    conf_level = check_level(conf_level)
    yv = check_binary(y, "y")
    t = check_binary(treated, "treated")
    n = check_lengths({"y": yv, "treated": t})
    if n == 0:
        raise ValueError("y and treated must not be empty")
    w = check_weights(weights, n)
    if X is None:
        Xa, xnames = np.empty((n, 0)), ()
    else:
        if isinstance(X, pd.DataFrame):
            names = tuple(map(str, X.columns)) if names is None else names
        Xa = check_finite(as_float_array(X, "X", ndim=2), "X")
        check_lengths({"y": yv, "X": Xa})
        xnames = tuple(f"x{j}" for j in range(Xa.shape[1])) if names is None else tuple(map(str, names))
    keep = w > 0
    if np.unique(t[keep]).size < 2:
        raise ValueError(f"treated must contain both arms (with positive weight); got only {int(t[keep][0])}")
    design = np.column_stack([t[keep], Xa[keep]])
    fit = logistic_regression(design, yv[keep], w[keep], names=("treated",) + xnames,
                              on_separation=on_separation)
    n_used = int(keep.sum())
    if variance == "robust":
        cov = _svyglm_cov(fit.score_contributions, fit.cov)
        df = float(n_used - fit.coef.size)
        if df <= 0:
            raise ValueError(f"variance='robust' needs more rows ({n_used}) than coefficients ({fit.coef.size})")
    else:
        cov, df = fit.cov, np.inf
    beta, se = float(fit.coef[1]), float(np.sqrt(cov[1, 1]))
    q = _quantile(conf_level, df)
    stat = beta / se
    if ci_method == "profile" and not fit.separation:
        Xa = np.column_stack([np.ones(n_used), design])
        lo, hi = _profile_ci(Xa, yv[keep].astype(float), w[keep], fit.coef, se, fit.loglik, 1, conf_level)
    else:
        lo, hi = beta - q * se, beta + q * se
    # a separated fit (flagged: ``separation``) has a huge log-OR whose OR and limits
    # overflow to inf, their limit; numpy's overflow warning would only repeat the flag
    with np.errstate(over="ignore"):
        odds, ci = np.exp(beta), (np.exp(lo), np.exp(hi))
    return OddsRatioResult(
        odds_ratio=float(odds), log_odds_ratio=beta, se=se,
        ci=(float(ci[0]), float(ci[1])), statistic=stat,
        p_value=float(_two_sided(stat, df)), df=df, variance=variance, ci_method=ci_method, n=n_used,
        names=fit.names, coef=fit.coef, cov=cov, converged=fit.converged,
        separation=fit.separation, conf_level=conf_level,
    )
