"""The one place where the analysis vocabulary calls the estimators' array kernels.

The replicate loop runs thousands of fits, so it calls the estimators' private, validation-free
kernels (``_fit_*``) on trusted arrays, as ``docs/design.md`` prescribes for hot paths. Keeping
every such call here means an estimator API change touches one small module.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from tacebench.estimators import smd as _balance
from tacebench.estimators import propensity as _propensity
from tacebench.estimators import weights as _weights

__all__ = ["logistic", "propensity", "iptw", "smd", "km", "cox", "match_nearest",
           "match_exact", "FitFailure", "SEPARATED", "NOT_CONVERGED", "FITTED_01"]

# R's binomial()$linkinv bounds fitted probabilities at .Machine$double.eps
PS_EPS = _PS_EPS = np.finfo(float).eps
# glm.fit warns "fitted probabilities numerically 0 or 1 occurred" below 10 * eps
_GLM_EPS = 10 * np.finfo(float).eps
# estimators.propensity.logistic_regression runs the exact separation check when a fitted
# probability comes closer than this to 0 or 1 (or Newton did not converge)
_EXTREME = 1e-6

#: Canonical reasons why a logistic model has no estimate on a replicate (the report
#: counts replicates per reason, so these strings carry no replicate-specific numbers).
SEPARATED = "separated"
NOT_CONVERGED = "did not converge"
FITTED_01 = "fitted probabilities numerically 0 or 1"


class FitFailure(ArithmeticError):
    """A model or an adjustment is not estimable on this replicate (propensity model
    separated, no match within the caliper, Cox likelihood monotone, no events, an empty
    arm...). ``reason`` is a short canonical phrase the report counts over replicates;
    ``details`` are extra diagnostics counted the same way (e.g. which covariate level has
    no patient in one arm)."""

    def __init__(self, reason: str, details: tuple[str, ...] = ()):
        super().__init__(reason)
        self.reason = reason
        self.details = tuple(details)


def logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None):
    """Logistic fit with an intercept added; returns ``(coef, fitted, cov, problem)``.

    ``coef[0]`` is the intercept. ``cov`` is the model-based covariance (inverse Fisher
    information). ``problem`` is ``None`` for a maximum-likelihood estimate, else the
    reason it is none (:func:`logistic_problem`).
    """
    Xa = np.column_stack([np.ones(len(y)), X])
    y = y.astype(float)
    w = np.ones(len(y)) if w is None else w
    beta, mu, info, converged, _ = _propensity._fit_logistic(Xa, y, w)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full_like(info, np.nan)
    return beta, mu, cov, logistic_problem(Xa, y, w, mu, converged, beta)


def logistic_problem(Xa: np.ndarray, y: np.ndarray, w: np.ndarray, mu: np.ndarray,
                     converged: bool, beta: np.ndarray | None = None) -> str | None:
    """Why a logistic fit is not a maximum-likelihood estimate, or ``None`` if it is.

    ``Xa`` includes the intercept column. The exact check is the linear program of Konis
    (2007) in ``estimators.propensity`` (the one ``logistic_regression`` runs), tried, as
    there, only when the fit shows the symptom (a fitted probability within 1e-6 of 0 or 1)
    or did not converge: (quasi-)complete separation means the MLE is infinite and the
    fitted probabilities are wherever the iterations stopped. Without separation, a fit
    that did not converge, or whose fitted probabilities reach glm's ``10 * eps`` bound, is
    not an estimate either, nor is a "converged" fit whose log-likelihood is below the
    intercept-only model's, which it contains (an IRLS that accepted a failed
    step-halving; seen on separated data).
    """
    pos = w > 0
    closest = float(np.minimum(mu, 1.0 - mu)[pos].min()) if pos.any() else 0.0
    if converged and closest >= _EXTREME and not _below_null(Xa, y, w, beta):
        return None
    if _propensity._separated(Xa, y, w) is not None:
        return SEPARATED
    if not converged or _below_null(Xa, y, w, beta):
        return NOT_CONVERGED
    return FITTED_01 if closest <= _GLM_EPS else None


def _below_null(Xa, y, w, beta) -> bool:
    if beta is None:
        return False
    eta = Xa @ beta
    ll = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
    p = float(np.sum(w * y) / np.sum(w))
    if not 0.0 < p < 1.0:
        return False
    ll0 = float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))
    return not ll >= ll0 - 1e-8 * (1.0 + abs(ll0))


def propensity(X: np.ndarray, z: np.ndarray):
    """Fitted propensity scores bounded as R's glm bounds them, and
    :func:`logistic_problem`'s verdict on the fit: ``(ps, problem or None)``."""
    _, mu, _, problem = logistic(X, z)
    return np.clip(mu, _PS_EPS, 1.0 - _PS_EPS), problem


def iptw(ps, z, estimand="ATE", stabilized=False, truncate=None) -> np.ndarray:
    return _weights._iptw_weights(ps, z, estimand, stabilized, truncate)


def smd(x: np.ndarray, z: np.ndarray, w: np.ndarray | None, weighted_sd: bool = False,
        levels=None) -> float:
    """Standardized mean difference, treated - control: binary or continuous ``x``, or the
    Yang-Dalton multi-level SMD of category codes when ``levels`` is given. The SDs are
    those of the unadjusted sample unless ``weighted_sd``."""
    kind = ("categorical" if levels is not None else
            "binary" if np.isin(x, (0.0, 1.0)).all() else "continuous")
    weighted = w is not None
    w = np.ones(len(x)) if w is None else w
    return float(_balance._smd_kernel(x, z.astype(np.int8), w, kind, levels, "pooled",
                                      weighted_sd, weighted).smd)


def km(time: np.ndarray, event: np.ndarray, w: np.ndarray | None):
    """Weighted Kaplan-Meier; returns an object with ``median()``, ``at(t)``, ``rmst(tau)``."""
    from tacebench.estimators.survival import km as _km
    fit = _km._fit_km(time, event.astype(float), w, "greenwood")
    return _KM(fit.times, fit.survival)


def cox(time, event, X, w=None, ties="efron"):
    """Cox partial-likelihood fit (estimators' ``_fit_cox`` kernel, R coxph's Newton-Raphson);
    returns ``(coef, cov)`` with the model-based covariance.

    Not estimable (:class:`FitFailure`) when the fit is flagged singular (no variation
    within the risk sets), when the partial likelihood is monotone (the kernel's
    ``monotone`` flag: a coefficient diverges, the MLE does not exist; R's coxph warns
    and prints the last iterate) or when Newton-Raphson did not converge: in each case the
    printed coefficients are not estimates."""
    from tacebench.estimators.survival import cox as _cox
    if not (event > 0).any():
        raise FitFailure("no events")
    w = np.ones(len(time)) if w is None else w
    fit = _cox._fit_cox(time, event.astype(float), X, w, ties=ties)
    if fit.singular:
        raise FitFailure("Cox model singular (a covariate constant within the risk sets)")
    if fit.monotone:
        raise FitFailure("Cox likelihood monotone (a coefficient diverges)")
    if not fit.converged or not np.isfinite(fit.coef).all():
        raise FitFailure("Cox model did not converge")
    return fit.coef, fit.var


def match_nearest(ps, z, *, caliper, caliper_scale, caliper_sd, ratio, replace, order, rng):
    """Nearest-neighbour PS matching (the estimators' validation-free kernel on the trusted
    ``ps`` of :func:`propensity`); returns ``(rows, weights, set_id)`` of the matched sample
    (rows index ``ps``; weights are MatchIt's matching weights). Not estimable when no
    treated patient has a control within the caliper."""
    from tacebench.estimators.matching_nearest import _match_nearest
    try:        # the kernel's one ValueError: no treated unit has a control in the caliper
        m = _match_nearest(ps, z, caliper=caliper, caliper_scale=caliper_scale,
                           caliper_sd=caliper_sd, ratio=ratio, replace=replace, order=order,
                           rng=rng)
    except ValueError:
        raise FitFailure("no match within the caliper") from None
    return m.rows, m.weights[m.rows], m.pair_id


def match_exact(keys: np.ndarray, z, *, ratio, rng):
    """Exact matching on the rows of ``keys`` (n x k); returns ``(rows, weights, set_id)``."""
    from tacebench.estimators.matching_result import result_from_sets
    from tacebench.estimators import matching_exact as _exact
    _, codes = np.unique(keys, axis=0, return_inverse=True)
    zi = z.astype(np.int8)
    mm = _exact._exact_match(codes.ravel(), zi, int(ratio), rng)
    if not (mm[:, 0] >= 0).any():
        raise FitFailure("no stratum holds both a treated patient and a control")
    m = result_from_sets(mm, np.flatnonzero(zi == 1), zi, caliper=None,
                                    distance=None, method="exact")
    return m.rows, m.weights[m.rows], m.pair_id


class _KM:
    def __init__(self, times, surv):
        self.times, self.surv = times, surv

    def median(self) -> float:
        """R's ``print.survfit`` median (midpoint rule at an exact 0.5); inf if not reached."""
        from tacebench.estimators.survival._ci import first_crossing
        return float(first_crossing(self.surv, self.times, 0.5))

    def at(self, t: float) -> float:
        """S(t); NaN beyond the last observed time unless the curve has reached 0."""
        i = np.searchsorted(self.times, t, side="right") - 1
        if i < 0:
            return 1.0
        if t > self.times[-1] and self.surv[-1] > 0:
            return np.nan
        return float(self.surv[i])

    def rmst(self, tau: float) -> float:
        t = np.concatenate([[0.0], self.times[self.times < tau], [tau]])
        s = np.concatenate([[1.0], self.surv[self.times < tau]])
        return float(np.sum(np.diff(t) * s))


def expit(x):
    return special.expit(x)
