"""Estimability: the one place that decides whether a kernel's fit is an estimate.

Every fitting kernel (:func:`estimators.kernels.fit_logistic`, ``fit_cox``, ``fit_km``,
``match_nearest_kernel``) returns a result whose ``.status`` is an :class:`Estimability`
computed here, and the validating public functions (``logistic_regression``, ``cox_ph``,
``propensity_score``, ``iptw_cox``, ``match_nearest``) read the same status. Callers do not
write their own "this fit failed" rule.

The separation rule (logistic models)
-------------------------------------
A logistic fit is checked for (quasi-)complete separation (Albert & Anderson 1984) only when
it shows the symptom: Newton did not converge, a fitted probability (among rows of positive
weight) is closer than :data:`SEPARATION_SYMPTOM` = 1e-6 to 0 or 1, or the log-likelihood is
below the intercept-only model's (which the model contains: an iteration that stopped
early). The check itself is exact, the linear program of Konis (2007)
(:func:`separating_direction`), not a threshold on coefficients or fitted values. Then:

=====================  ==========================================================
``SEPARATED``          the linear program finds a separating direction: the MLE is
                       infinite and the coefficients are wherever Newton stopped
``NOT_CONVERGED``      not separated, but Newton did not converge (or stopped below
                       the intercept-only log-likelihood)
``FITTED_0_1``         not separated and converged, but a fitted probability is
                       within :data:`GLM_BOUNDARY` (``10 * eps``, where R's glm.fit warns
                       "fitted probabilities numerically 0 or 1 occurred") of 0 or 1
``OK``                 otherwise
=====================  ==========================================================

Callers' policies
-----------------
Two Monte Carlo callers count a replicate as failed by a different, older rule on the same
diagnostics (``newton_converged`` and ``closest``, which every logistic kernel result
carries). Unifying them with the status would change which replicates fail, and with it
published simulation numbers, so each is a named, documented policy here:
:func:`monte_carlo_ps_failed` (``benchmarks.methods``) and :func:`bootstrap_ps_failed`
(the refits of ``estimators.iptw_cox``).
"""
from __future__ import annotations

import enum

import numpy as np
from scipy import optimize

__all__ = [
    "BOOTSTRAP_PS_FLOOR", "Estimability", "GLM_BOUNDARY", "MONTE_CARLO_PS_FLOOR",
    "SEPARATION_SYMPTOM", "bootstrap_ps_failed", "below_null", "cox_status",
    "fitted_distance", "km_status", "logistic_status", "match_status", "monte_carlo_ps_failed",
    "ps_at_bounds", "separating_direction",
]

#: A fitted probability closer than this to 0 or 1 (rows of positive weight) is the symptom
#: that triggers the exact separation check.
SEPARATION_SYMPTOM = 1e-6
#: R's glm.fit warns "fitted probabilities numerically 0 or 1 occurred" below ``10 * eps``.
GLM_BOUNDARY = 10 * np.finfo(float).eps
#: Policy of ``benchmarks.methods`` (the Monte Carlo method families): the propensity model
#: of a replicate fails only when a fitted probability is exactly 0 or 1 in floating point
#: (``closest <= 0``: the weights are undefined); its reported convergence is Newton's.
MONTE_CARLO_PS_FLOOR = 0.0
#: Policy of ``estimators.iptw_cox``'s refits (the bootstrap): a refit fails when Newton did
#: not converge or a fitted probability is closer than this to 0 or 1.
BOOTSTRAP_PS_FLOOR = 1e-10


class Estimability(enum.Enum):
    """Whether a kernel's result is an estimate, and if not, why."""

    OK = "ok"
    SEPARATED = "separated"
    NOT_CONVERGED = "not converged"
    FITTED_0_1 = "fitted probabilities numerically 0 or 1"
    MONOTONE_LIKELIHOOD = "monotone likelihood"
    SINGULAR = "singular"
    NO_EVENTS = "no events"
    NO_MATCH = "no match within the caliper"
    EMPTY = "no observations"

    @property
    def ok(self) -> bool:
        return self is Estimability.OK


def fitted_distance(fitted: np.ndarray, w: np.ndarray) -> float:
    """Smallest distance of a fitted probability to 0 or 1 among rows of positive weight
    (0 when no row has positive weight)."""
    pos = w > 0
    return float(np.minimum(fitted, 1.0 - fitted)[pos].min()) if pos.any() else 0.0


def below_null(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray | None) -> bool:
    """Is the log-likelihood at ``beta`` below the intercept-only model's (which a model
    with an intercept contains)? An iteration that stopped early; ``False`` without
    ``beta`` or when ``y`` has one value."""
    if beta is None:
        return False
    eta = X @ beta
    ll = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
    p = float(np.sum(w * y) / np.sum(w))
    if not 0.0 < p < 1.0:
        return False
    ll0 = float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))
    return not ll >= ll0 - 1e-8 * (1.0 + abs(ll0))


def separating_direction(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Konis (2007) linear program: is there a direction b with s_i x_i'b >= 0 for all i
    (s_i = 2 y_i - 1) and > 0 for some? Returns that direction (the responsible
    coefficients are its non-zero entries) or ``None`` when the MLE exists."""
    keep = w > 0
    A = (2.0 * y[keep] - 1.0)[:, None] * X[keep]
    if not np.isfinite(A).all():  # untrusted data: no verdict (the fit is not OK anyway)
        return None
    # maximise sum_i s_i x_i'b subject to s_i x_i'b >= 0 and -1 <= b <= 1
    res = optimize.linprog(
        c=-A.sum(axis=0),
        A_ub=-A,
        b_ub=np.zeros(A.shape[0]),
        bounds=[(-1.0, 1.0)] * X.shape[1],
        method="highs",
    )
    if res.status != 0:
        return None
    scale = np.abs(A).sum(axis=1).max() if A.size else 0.0
    if -res.fun > 1e-7 * max(scale, 1.0):
        b = res.x.copy()
        b[np.abs(b) < 1e-9] = 0.0
        return b
    return None


def logistic_status(X: np.ndarray, y: np.ndarray, w: np.ndarray, fitted: np.ndarray,
                    beta: np.ndarray | None, newton_converged: bool
                    ) -> tuple[Estimability, np.ndarray | None]:
    """The status of a logistic fit (the rule in the module docstring) and the separating
    direction when it is ``SEPARATED`` (else ``None``). ``X`` includes the intercept."""
    closest = fitted_distance(fitted, w)
    below = below_null(X, y, w, beta)
    if newton_converged and closest >= SEPARATION_SYMPTOM and not below:
        return Estimability.OK, None
    direction = separating_direction(X, y, w)
    if direction is not None:
        return Estimability.SEPARATED, direction
    if not newton_converged or below:
        return Estimability.NOT_CONVERGED, None
    return (Estimability.FITTED_0_1 if closest <= GLM_BOUNDARY else Estimability.OK), None


def ps_at_bounds(closest: float) -> bool:
    """``benchmarks.methods``' policy on the smallest distance of a fitted PS to 0 or 1
    (:func:`fitted_distance`): failed iff it is at most ``MONTE_CARLO_PS_FLOOR``."""
    return closest <= MONTE_CARLO_PS_FLOOR


def monte_carlo_ps_failed(fit) -> bool:
    """``benchmarks.methods``' policy on a logistic kernel result: failed iff a fitted
    probability is exactly 0 or 1 (:func:`ps_at_bounds` of ``fit.closest``)."""
    return ps_at_bounds(fit.closest)


def bootstrap_ps_failed(fit) -> bool:
    """``estimators.iptw_cox``'s policy for a refitted propensity model: failed iff Newton
    did not converge or ``fit.closest < BOOTSTRAP_PS_FLOOR``."""
    return not fit.newton_converged or fit.closest < BOOTSTRAP_PS_FLOOR


def cox_status(n_events: int, singular: bool, monotone: bool, converged: bool,
               coef: np.ndarray) -> Estimability:
    """The status of a Cox fit: ``NO_EVENTS`` (no event among the rows), ``SINGULAR`` (a
    covariate does not vary within the risk sets at event times), ``MONOTONE_LIKELIHOOD``
    (a coefficient diverges: the MLE does not exist), ``NOT_CONVERGED`` (Newton stopped
    without meeting its tolerance, or a coefficient is not finite), else ``OK``."""
    if n_events == 0:
        return Estimability.NO_EVENTS
    if singular:
        return Estimability.SINGULAR
    if monotone:
        return Estimability.MONOTONE_LIKELIHOOD
    if not converged or not np.isfinite(coef).all():
        return Estimability.NOT_CONVERGED
    return Estimability.OK


def match_status(n_sets: int) -> Estimability:
    """A matching is an estimate's sample when it has at least one matched set
    (``NO_MATCH`` otherwise)."""
    return Estimability.OK if n_sets > 0 else Estimability.NO_MATCH


def km_status(n: int) -> Estimability:
    """A Kaplan-Meier curve is defined on any non-empty sample (``EMPTY`` otherwise)."""
    return Estimability.OK if n > 0 else Estimability.EMPTY
