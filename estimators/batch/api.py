"""Public batched estimators: validate a whole ``(replicates, rows)`` stack once, then run
the kernels. What each one covers is in :data:`estimators.batch.CAPABILITIES`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from .. import _checks
from ..propensity import _MAX_ITER, _TOL
from ..weights import _check_options
from ._sorted import SortedRows
from .cox import fit_cox_rows
from .cox_covariate import fit_cox_covariate_rows
from .glm import fit_glm_binomial_rows
from .km import km_median_rows, _km_rows
from .logrank import _logrank_rows
from .logistic import fit_logistic_rows
from .weights import iptw_weights_rows

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker


def _rows(x, name: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A finite float ``(R, n)`` array (one replicate per row)."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {type(x).__name__}: {exc}") from None
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-dimensional array (replicates, rows); "
                         f"got shape {a.shape}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have the shape of time, {shape}; got {a.shape}")
    return _checks.check_finite(a, name)


def _binary_rows(x, name: str, shape) -> np.ndarray:
    a = _rows(x, name, shape)
    bad = (a != 0.0) & (a != 1.0)
    if bad.any():
        raise ValueError(f"{name} must be 0/1; got {_checks._show(a, bad)}")
    return a


def _weight_rows(weights, name: str, shape) -> np.ndarray:
    if weights is None:
        return np.ones(shape)
    w = _rows(weights, name, shape)
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative; got {_checks._show(w, w < 0)}")
    empty = ~(w > 0).any(axis=1)
    if empty.any():
        raise ValueError(f"{name} must not be all zero in a replicate; replicate(s) "
                         f"{np.flatnonzero(empty)[:5].tolist()} are")
    return w


@dataclass(frozen=True, eq=False)
class LogisticBatch(ArrayRecord):
    """Logistic fits of R replicates. ``refitted``: replicates the one-replicate kernel fitted
    (step halving or other trouble); their numbers are its numbers either way."""

    coef: np.ndarray
    fitted: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    refitted: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        R, p = self.coef.shape
        return pd.DataFrame({"replicate": np.repeat(np.arange(R), p),
                             "term": np.tile(np.arange(p), R), "coef": self.coef.ravel(),
                             "converged": np.repeat(self.converged, p)})


def logistic_regression_batch(X, y, weights=None, *, tol: float = _TOL,
                              max_iter: int = _MAX_ITER) -> LogisticBatch:
    """Maximum-likelihood logistic regression of ``y[r]`` on ``X[r]`` for every replicate r.

    Parameters
    ----------
    X : array (R, n, p)
        Designs, intercept column included (as ``design_matrix`` builds them).
    y : array (R, n) of 0/1
    weights : array (R, n), optional
        Case weights (default 1).
    tol, max_iter
        As :func:`estimators.logistic_regression`: relative Newton step, iteration cap.

    Returns
    -------
    LogisticBatch
        Equal, replicate by replicate, to the one-replicate Newton kernel (the R
        ``glm.fit`` iteration; see :mod:`estimators.propensity`), to rounding.
    """
    Xa, yv, w = _binary_model_inputs(X, y, weights, ("max_iter", max_iter), ("tol", tol))
    return LogisticBatch(*fit_logistic_rows(Xa, yv, w, tol=tol, max_iter=int(max_iter)))


@dataclass(frozen=True, eq=False)
class GlmBinomialBatch(ArrayRecord):
    """``glm(family = binomial)`` fits of R replicates, as
    :func:`estimators.glm_binomial.fit_glm_binomial` fits each (coefficients NaN where
    aliased). ``refitted``: replicates that kernel fitted alone (a step on a badly
    conditioned or rank-deficient design, a deviance change at the stopping threshold)."""

    coef: np.ndarray
    fitted: np.ndarray
    linear_predictor: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    aliased: np.ndarray
    refitted: np.ndarray


def glm_binomial_batch(X, y, weights=None, *, epsilon: float = 1e-8,
                       maxit: int = 25) -> GlmBinomialBatch:
    """R's ``glm(y ~ X, family = binomial)`` (``glm.control`` defaults) for every replicate.

    Parameters
    ----------
    X : array (R, n, p)
        Designs, intercept column included.
    y : array (R, n) of 0/1
    weights : array (R, n), optional
        Prior weights (default 1); rows of weight 0 take no part.
    epsilon, maxit
        ``glm.control``: relative deviance change at which IRLS stops, iteration cap.

    Returns
    -------
    GlmBinomialBatch
        Replicate by replicate the numbers of ``fit_glm_binomial`` (same iterations, same
        stop), to rounding.

    References
    ----------
    R Core Team, ``stats::glm.fit``.
    """
    Xa, yv, w = _binary_model_inputs(X, y, weights, ("maxit", maxit), ("epsilon", epsilon))
    return GlmBinomialBatch(*fit_glm_binomial_rows(Xa, yv, w, epsilon=float(epsilon),
                                                   maxit=int(maxit)))


def _binary_model_inputs(X, y, weights, cap, tol):
    """Validated ``(X, y, weights)`` stacks of a binary-outcome model; ``cap`` and ``tol``
    are (name, value) of its iteration cap (a positive integer) and tolerance (> 0)."""
    Xa = _design_stack(X)
    yv = _binary_rows(y, "y", Xa.shape[:2])
    w = _weight_rows(weights, "weights", Xa.shape[:2])
    if not (isinstance(cap[1], (int, np.integer)) and cap[1] >= 1):
        raise ValueError(f"{cap[0]} must be a positive integer; got {cap[1]!r}")
    if not (tol[1] > 0):
        raise ValueError(f"{tol[0]} must be positive; got {tol[1]!r}")
    return Xa, yv, w


def _design_stack(X) -> np.ndarray:
    """A finite float ``(R, n, p)`` stack of designs."""
    try:
        Xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be numeric; got {type(X).__name__}: {exc}") from None
    if Xa.ndim != 3 or 0 in Xa.shape:
        raise ValueError(f"X must be a non-empty 3-dimensional array (replicates, rows, "
                         f"columns); got shape {Xa.shape}")
    if not np.isfinite(Xa).all():
        raise ValueError("X must be finite (no NaN or inf)")
    return Xa


def iptw_weights_batch(ps, treated, *, estimand: str = "ATE", stabilized: bool = False,
                       truncate=None, quantile_type: int = 7) -> np.ndarray:
    """:func:`estimators.iptw_weights` for every replicate (row) of ``ps`` and ``treated``,
    (R, n) each; returns the (R, n) weights, equal to the one-replicate function's."""
    bounds = _check_options(estimand, stabilized, truncate, quantile_type)
    p = _rows(ps, "ps")
    bad = (p <= 0) | (p >= 1)
    if bad.any():
        raise ValueError(f"ps must lie in (0, 1); got {_checks._show(p, bad)}")
    z = _binary_rows(treated, "treated", p.shape)
    return iptw_weights_rows(p, z, estimand, stabilized, bounds, quantile_type)


@dataclass(frozen=True, eq=False)
class CoxBatch(ArrayRecord):
    """Cox models of a binary treatment for R replicates: log hazard ratios, model-based and
    robust (or cluster-robust) SEs. ``refitted``: replicates that
    :func:`estimators.survival.cox.fit_cox` fitted alone (monotone or singular likelihood,
    step halving, no convergence); its flags and values are kept (``inf`` coefficient, NaN
    SE for a monotone likelihood)."""

    coef: np.ndarray
    se: np.ndarray
    robust_se: np.ndarray
    loglik: np.ndarray
    loglik_null: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    refitted: np.ndarray
    ties: str

    @property
    def hr(self) -> np.ndarray:
        return np.exp(self.coef)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame({"replicate": np.arange(self.coef.size), "coef": self.coef,
                             "hr": self.hr, "se": self.se, "robust_se": self.robust_se,
                             "loglik": self.loglik, "converged": self.converged})


def cox_ph_batch(time, event, treated, weights=None, *, ties: str = "efron", cluster=None,
                 max_iter: int = 50, tol: float = 1e-9) -> CoxBatch:
    """Weighted Cox model ``h(t | z) = h0(t) exp(beta z)`` of a 0/1 treatment ``z``, one per
    replicate (row) of the ``(R, n)`` inputs.

    Parameters
    ----------
    time, event, treated : arrays (R, n)
        Right-censored times (>= 0), 0/1 events, 0/1 treatment.
    weights : array (R, n), optional
        Case weights >= 0 (IPTW); rows with weight 0 are left out, so replicates of
        different sizes can be padded to one width.
    ties : {"efron", "breslow"}
        R ``coxph``'s weighted Efron or Breslow approximation.
    cluster : integer array (R, n), optional
        Cluster codes (e.g. matched pair) for the cluster-robust SE.
    max_iter, tol
        Newton iteration cap and decrement tolerance, as :func:`estimators.cox_ph`.

    Returns
    -------
    CoxBatch
        ``robust_se`` is the Lin & Wei (1989) sandwich (clustered if ``cluster`` is given),
        as R ``coxph(..., robust=TRUE)``/``cluster()``; equal replicate by replicate to
        :func:`estimators.cox_ph` to rounding.
    """
    _checks.check_choice(ties, "ties", ("efron", "breslow"))
    t, e, w, z = _survival_inputs(time, event, weights, treated, group_name="treated")
    cl = None
    if cluster is not None:
        c = _rows(cluster, "cluster", t.shape)
        bad = (c < 0) | (c != np.round(c))
        if bad.any():
            raise ValueError("cluster must hold non-negative integer codes; got "
                             f"{_checks._show(c, bad)}")
        cl = c.astype(np.intp)
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}")
    return CoxBatch(*fit_cox_rows(t, e, z, w, ties=ties, cluster=cl, max_iter=int(max_iter),
                                   tol=float(tol)), ties=ties)


@dataclass(frozen=True, eq=False)
class CoxCovariateBatch(ArrayRecord):
    """Cox models of one covariate (any values) for R replicates: log hazard ratio per unit,
    model-based SE; ``refitted`` as :class:`CoxBatch`."""

    coef: np.ndarray
    se: np.ndarray
    loglik: np.ndarray
    loglik_null: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    refitted: np.ndarray


def cox_covariate_batch(time, event, x, weights=None, *, ties: str = "efron",
                        max_iter: int = 50, tol: float = 1e-9) -> CoxCovariateBatch:
    """Weighted Cox model ``h(t | x) = h0(t) exp(beta x)`` of one covariate ``x`` of any
    values, one per replicate (row) of the ``(R, n)`` inputs (e.g. a univariable table:
    one covariate per row, the same times).

    Parameters
    ----------
    time, event, x : arrays (R, n)
        Right-censored times (>= 0), 0/1 events, finite covariate values.
    weights : array (R, n), optional
        Case weights >= 0; rows with weight 0 are left out.
    ties : {"efron", "breslow"}
    max_iter, tol
        As :func:`estimators.cox_ph`.

    Returns
    -------
    CoxCovariateBatch
        Equal replicate by replicate to :func:`estimators.cox_ph` to rounding.
    """
    _checks.check_choice(ties, "ties", ("efron", "breslow"))
    t, e, w, _ = _survival_inputs(time, event, weights, None)
    xv = _rows(x, "x", t.shape)
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}")
    return CoxCovariateBatch(*fit_cox_covariate_rows(t, e, xv, w, ties=ties,
                                                     max_iter=int(max_iter), tol=float(tol)))


def _survival_inputs(time, event, weights, group, group_required=False, group_name="group"):
    """Validated ``(time, event, weights, group)`` stacks (``group`` None if not given)."""
    t = _rows(time, "time")
    if (t < 0).any():
        raise ValueError(f"time must be non-negative; got {_checks._show(t, t < 0)}")
    e = _binary_rows(event, "event", t.shape)
    g = None
    if group is not None or group_required:
        g = _binary_rows(group, group_name, t.shape)
    w = _weight_rows(weights, "weights", t.shape)
    return t, e, w, g


def km_survival_batch(time, event, weights=None, *, times, group=None) -> np.ndarray:
    """Weighted Kaplan–Meier S(t) at ``times`` (e.g. landmark rates) for every replicate:
    ``(R, len(times))``, or ``(R, 2, len(times))`` by ``group`` (0/1). As
    ``KaplanMeier.survival_at``: 1 before the first time, NaN after the last observed time
    unless S has reached 0."""
    tt = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if tt.ndim != 1 or tt.size == 0 or not np.isfinite(tt).all() or (tt < 0).any():
        raise ValueError(f"times must be finite non-negative times; got {times!r}")
    t, e, w, g = _survival_inputs(time, event, weights, group)
    s = SortedRows(t)
    if g is None:
        return _km_rows(s, e, w, tt)[1]
    return np.stack([_km_rows(s, e, w * (g == k), tt)[1] for k in (0, 1)], axis=1)


def logrank_batch(time, event, group, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Two-group log-rank test for every replicate: ``(chi2, p_value)``, each (R,).

    Unweighted: Mantel–Haenszel (R ``survdiff``), as :func:`estimators.logrank_test`.
    With ``weights``: the Xie & Liu (2005) IPTW log-rank (its z squared), as
    ``logrank_test(..., weights=)``. Replicate by replicate ``logrank_test``'s statistic
    and p-value: unweighted, where a group has nobody at risk at any event time (so R
    ``survdiff`` and ``logrank_test`` leave it out), chi-square 0 (on 0 df), p 1; NaN
    where the variance is 0 otherwise (every event time's risk set dies whole, or under
    weights a group never at risk at an event time: ``logrank_test``'s NaN) and where
    ``logrank_test`` raises (no event, or a replicate with one group only)."""
    from scipy import stats

    t, e, w, g = _survival_inputs(time, event, weights, group, group_required=True)
    chi2 = _logrank_rows(SortedRows(t), e, g, None if weights is None else w)
    return chi2, stats.chi2.sf(chi2, 1)


def km_median_batch(time, event, weights=None, *, group=None) -> np.ndarray:
    """Weighted Kaplan–Meier median of every replicate (row) of the ``(R, n)`` inputs, by R's
    ``print.survfit`` rule (``inf``: not reached).

    With ``group`` (0/1, (R, n)) returns ``(R, 2)``: the medians of group 0 and group 1
    (e.g. control and treated), from one sort per replicate.
    """
    t, e, w, g = _survival_inputs(time, event, weights, group)
    s = SortedRows(t)
    if g is None:
        return km_median_rows(s, e, w)
    return np.stack([km_median_rows(s, e, w * (g == k)) for k in (0, 1)], axis=1)
