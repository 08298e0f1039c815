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
early; these diagnostics are in :mod:`estimators.logistic_symptoms`). The check itself is
exact, the linear program of Konis (2007) (:func:`separating_direction`), not a threshold
on coefficients or fitted values; a caller that needs no direction asks
:func:`is_separated`, which skips the program when a certificate settles its verdict far
beyond the solver's tolerances (a column seen in one arm only for separation, a dual bound
for none). Then:

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
import math

import numpy as np

from .logistic_symptoms import _EPS, below_null, certainly_not_below, fitted_distance

__all__ = [
    "BOOTSTRAP_PS_FLOOR", "Estimability", "GLM_BOUNDARY", "MONTE_CARLO_PS_FLOOR",
    "SEPARATION_SYMPTOM", "bootstrap_ps_failed", "below_null", "certainly_not_below",
    "certainly_not_separated", "cox_status",
    "CERTIFICATE_MARGIN", "SEPARATION_LP_TOL", "fitted_distance", "is_separated", "km_status",
    "logistic_estimability", "logistic_status", "match_status", "monte_carlo_ps_failed",
    "ps_at_bounds", "separating_direction",
]

#: A fitted probability closer than this to 0 or 1 (rows of positive weight) is the symptom
#: that triggers the exact separation check.
SEPARATION_SYMPTOM = 1e-6
#: R's glm.fit warns "fitted probabilities numerically 0 or 1 occurred" below ``10 * eps``.
GLM_BOUNDARY = 10 * np.finfo(float).eps
#: The separation program finds a direction when its maximum exceeds this times the largest
#: row 1-norm of the signed design (at least 1).
SEPARATION_LP_TOL = 1e-7
#: :func:`is_separated` answers without the program when a one-column certificate's
#: objective exceeds the program's threshold this many times over.
CERTIFICATE_MARGIN = 1e3
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


def separating_direction(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Konis (2007) linear program: is there a direction b with s_i x_i'b >= 0 for all i
    (s_i = 2 y_i - 1) and > 0 for some? Returns that direction (the responsible
    coefficients are its non-zero entries) or ``None`` when the MLE exists."""
    from scipy import optimize
    A = _signed_rows(X, y, w)
    if A is None:  # untrusted data: no verdict (the fit is not OK anyway)
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
    if -res.fun > SEPARATION_LP_TOL * _lp_scale(A):
        b = res.x.copy()
        b[np.abs(b) < 1e-9] = 0.0
        return b
    return None


def is_separated(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> bool:
    """``separating_direction(X, y, w) is not None``, deciding without the linear program
    when one column is a certificate.

    A column ``j`` whose signed values ``s_i x_ij`` all have one sign (a covariate level
    seen in one arm only, the usual cause of separation in a propensity model) makes
    ``b = +-e_j`` a feasible point of the program with objective ``|sum_i s_i x_ij|``, so the
    program's maximum is at least that. When it exceeds the program's threshold
    :data:`SEPARATION_LP_TOL` by :data:`CERTIFICATE_MARGIN` (far beyond the solver's
    tolerances) the program would find a direction: the answer is True without solving it.
    Without a one-signed column, :func:`certainly_not_separated` may prove the opposite (a
    dual bound below the threshold by the same margin): the answer is False without
    solving it. Otherwise the program decides, as in :func:`separating_direction`.

    Parameters
    ----------
    X : (n, p) array
        Design, intercept included.
    y : (n,) array of 0/1
    w : (n,) array
        Prior weights (rows of weight 0 take no part).

    Returns
    -------
    bool

    References
    ----------
    Konis K (2007). Linear programming algorithms for detecting separated data in binary
    logistic regression models. DPhil thesis, University of Oxford.
    """
    A = _signed_rows(X, y, w)
    if A is None:
        return False
    one_sign = (A >= 0.0).all(axis=0) | (A <= 0.0).all(axis=0)
    if one_sign.any() and (np.abs(A[:, one_sign].sum(axis=0)).max()
                           > CERTIFICATE_MARGIN * SEPARATION_LP_TOL * _lp_scale(A)):
        return True
    # (a one-signed column is a direction of the program's cone: no bound can exclude it)
    if not one_sign.any() and certainly_not_separated(A):
        return False
    return separating_direction(X, y, w) is not None


def certainly_not_separated(A: np.ndarray) -> bool:
    """A proof that the separation program on the signed rows ``A`` (n, p) finds no
    direction: its maximum is below the threshold by :data:`CERTIFICATE_MARGIN`.

    The program's dual is ``min ||A'l||_1`` over ``l >= 1``: for any feasible ``b``
    (``Ab >= 0``, ``|b| <= 1``), ``1'Ab <= l'Ab = (A'l)'b <= ||A'l||_1``, so any ``l >= 1``
    bounds the maximum. ``l = 1 + mu`` with ``mu >= 0`` the non-negative least squares
    solution of ``A'mu = -A'1`` (Lawson & Hanson) makes ``A'l`` zero up to rounding when
    the rows overlap (no separation), with ``l`` of moderate size even when fitted
    probabilities are within 1e-9 of 0 or 1. The computed ``A'l`` is within
    ``gamma_n |A|'l`` of the exact one in any summation order (Higham 2002, 3.1); the bound
    adds that, widened for the rounding of its own sums. ``False`` (no verdict: the
    program decides) when the bound is not small enough or the solver fails.

    Parameters
    ----------
    A : (n, p) array
        Finite signed rows ``s_i x_i`` of positive weight.

    Returns
    -------
    bool

    References
    ----------
    Lawson CL, Hanson RJ (1974). Solving Least Squares Problems. Prentice-Hall.
    Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed. SIAM.
    """
    from scipy import optimize
    n, p = A.shape
    if n == 0 or p == 0:
        return False
    try:
        mu = optimize.nnls(A.T, -A.sum(axis=0))[0]
    except (RuntimeError, ValueError):  # (the solver's iteration limit)
        return False
    lam = 1.0 + mu
    k = (n + p + 2) * _EPS       # twice gamma_n, and the rounding of the sums below
    bound = (float(np.abs(A.T @ lam).sum())
             + k * float(np.abs(A).sum(axis=1) @ lam)) * (1.0 + k)
    return math.isfinite(bound) and (CERTIFICATE_MARGIN * bound
                                     < SEPARATION_LP_TOL * _lp_scale(A))


def _signed_rows(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Rows ``s_i x_i`` of positive weight, or None when one is not finite."""
    keep = w > 0
    A = (2.0 * y[keep] - 1.0)[:, None] * X[keep]
    return A if np.isfinite(A).all() else None


def _lp_scale(A: np.ndarray) -> float:
    """The scale of the program's threshold: the largest row 1-norm, at least 1."""
    return max(float(np.abs(A).sum(axis=1).max()) if A.size else 0.0, 1.0)


def logistic_status(X: np.ndarray, y: np.ndarray, w: np.ndarray, fitted: np.ndarray,
                    beta: np.ndarray | None, newton_converged: bool, *,
                    eta: np.ndarray | None = None, loglik: float | None = None
                    ) -> tuple[Estimability, np.ndarray | None]:
    """The status of a logistic fit (the rule in the module docstring) and the separating
    direction when it is ``SEPARATED`` (else ``None``). ``X`` includes the intercept;
    ``eta`` and ``loglik``, the kernel's ``X @ beta`` and log-likelihood there, save
    :func:`below_null` work (the same verdict)."""
    direction = None

    def separated() -> bool:
        nonlocal direction
        direction = separating_direction(X, y, w)
        return direction is not None
    status = _logistic_rule(fitted_distance(fitted, w),
                            below_null(X, y, w, beta, eta=eta, loglik=loglik),
                            newton_converged, separated)
    return status, (direction if status is Estimability.SEPARATED else None)


def logistic_estimability(X: np.ndarray, y: np.ndarray, w: np.ndarray, fitted: np.ndarray,
                          beta: np.ndarray | None, newton_converged: bool) -> Estimability:
    """``logistic_status(...)[0]`` for a caller that needs no separating direction: the
    separation is decided by :func:`is_separated` (a one-column certificate before the
    linear program).

    Parameters
    ----------
    X, y, w, fitted, beta, newton_converged
        As :func:`logistic_status`.

    Returns
    -------
    Estimability
    """
    return _logistic_rule(fitted_distance(fitted, w), below_null(X, y, w, beta),
                          newton_converged, lambda: is_separated(X, y, w))


def _logistic_rule(closest: float, below: bool, newton_converged: bool, separated
                   ) -> Estimability:
    """The rule of the module docstring; ``separated()`` is asked only on the symptom."""
    if newton_converged and closest >= SEPARATION_SYMPTOM and not below:
        return Estimability.OK
    if separated():
        return Estimability.SEPARATED
    if not newton_converged or below:
        return Estimability.NOT_CONVERGED
    return Estimability.FITTED_0_1 if closest <= GLM_BOUNDARY else Estimability.OK


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
