"""Cox proportional-hazards regression with case weights, robust/cluster variance, Efron
or Breslow ties, counting-process (start, stop] data and Firth's penalty.

``cox_ph`` validates once and calls ``fit_cox``, the kernel that Monte Carlo loops call
directly with trusted arrays (``estimators.kernels``). Verified against R ``survival::coxph`` (tests/reference).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from .. import _checks
from ..status import Estimability, cox_status
from ._ci import two_sided_p, z_value
from ._cox_kernel import RiskSets, _newton_loop, evaluate, evaluate_scalar, score_residuals
from .cox_estimability import monotone_coefficients, singular_columns
from .cox_inputs import check_controls, check_design
from .cox_point import inverse_information
from .cox_firth import firth_evaluate
from .cox_profile import profile_inference

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

#: Capability table: what ``cox_ph`` supports; drives validation.
CAPABILITIES = {
    "ties": ("efron", "breslow"),
    "variance": ("model", "robust", "cluster"),
    "data": ("right-censored", "counting-process (entry, time]"),
    "penalty": ("none", "firth"),
    "ci_method": ("wald", "profile"),
}


@dataclass(frozen=True, eq=False)
class CoxResult(ArrayRecord):
    """A fitted Cox model.

    Attributes
    ----------
    names : covariate names.
    coef, hr : log hazard ratios and hazard ratios (``+/-inf`` / ``inf``/0 where the
        likelihood is monotone, see ``infinite``).
    se : model-based SE, ``sqrt(diag(inverse(information)))`` (R ``naive.var`` when robust).
    robust_se : Lin & Wei (1989) sandwich SE, grouped by ``cluster`` when given (R
        ``coxph(robust=TRUE)`` / ``cluster(id)``); always computed.
    var : the covariance matrix used for ``ci``/``p_value``: robust if ``robust`` else model.
    ci : ``(p, 2)`` confidence limits for the HR at ``conf_level``: Wald on the log scale
        with the SE in use, or profile (penalized) likelihood limits (``ci_method``).
    z, p_value : Wald statistics; two-sided p-values from them, or from the (penalized)
        likelihood-ratio test when ``ci_method="profile"``.
    loglik, loglik_null : weighted log partial likelihood at beta-hat and at 0 (for Firth:
        the penalized values); at 0 whatever ``init`` (R's ``coxph(init = b)$loglik[1]`` is
        the value at ``b`` instead), so ``2 (loglik - loglik_null)`` is the likelihood-ratio
        statistic of all coefficients = 0.
    information : ``(p, p)`` observed information ``-d^2 l / d beta^2`` of the weighted log
        partial likelihood at beta-hat (unpenalized); ``inverse(information)`` is the model
        covariance.
    score_residuals : ``(n, p)`` per-row *unweighted* score residuals L_i in the input row
        order (R ``residuals(fit, type="score")``), at beta-hat. The score is
        ``sum_i w_i L_i`` (zero at the MLE); the robust covariance is ``D' D`` with
        ``D = rowsum_by_cluster(w_i L_i) @ inverse(information)`` (R's dfbeta); under
        Breslow ties ``L_i`` is also the derivative of the score with respect to ``w_i``,
        the term an M-estimation variance for estimated weights needs. Rows dropped for
        zero weight have L_i = 0.
    weights : the case weights used (input order, ones if none).
    n, n_events : rows used and number of events (unweighted).
    converged, n_iter, monotone, infinite, singular, message : fit diagnostics.
        ``monotone`` is True when the partial likelihood has no finite maximum (e.g. no
        events in one arm): the coefficients flagged in ``infinite`` diverge; they are
        reported as ``+/-inf`` with NaN SE, CI and p, never as a huge finite HR.
        ``singular`` is True when a covariate does not vary within any risk set at an
        event time (R: "X matrix deemed to be singular", coefficient NA): every estimate
        is NaN. ``estimable`` is False in all these cases.
    status : :class:`~estimators.status.Estimability` (property): ``NO_EVENTS``,
        ``SINGULAR``, ``MONOTONE_LIKELIHOOD``, ``NOT_CONVERGED`` or ``OK``, decided by
        :func:`estimators.status.cox_status`; ``estimable`` is ``status is OK``.
    """

    names: tuple
    coef: np.ndarray
    se: np.ndarray
    robust_se: np.ndarray
    var: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    ci: np.ndarray
    loglik: float
    loglik_null: float
    information: np.ndarray
    score_residuals: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    n: int = 0
    n_events: int = 0
    ties: str = "efron"
    robust: bool = False
    firth: bool = False
    conf_level: float = 0.95
    converged: bool = True
    n_iter: int = 0
    monotone: bool = False
    infinite: np.ndarray = field(default=None, repr=False)
    message: str = ""
    cluster: np.ndarray | None = field(default=None, repr=False)
    singular: bool = False
    ci_method: str = "wald"

    @property
    def hr(self) -> np.ndarray:
        return np.exp(self.coef)

    @property
    def naive_var(self) -> np.ndarray:
        """Model-based covariance ``inverse(information)`` (R ``naive.var``); NaN if singular."""
        try:
            return np.linalg.inv(self.information)
        except np.linalg.LinAlgError:
            return np.full_like(self.information, np.nan)

    @property
    def status(self) -> Estimability:
        """:func:`estimators.status.cox_status` of this fit."""
        return cox_status(self.n_events, self.singular, self.monotone, self.converged,
                          self.coef)

    @property
    def estimable(self) -> bool:
        """``status`` is OK."""
        return self.status is Estimability.OK

    @property
    def dfbeta(self) -> np.ndarray:
        """``(n, p)`` weighted dfbeta ``w_i L_i inverse(information)`` (R ``type="dfbeta"``)."""
        return (self.weights[:, None] * self.score_residuals) @ self.naive_var

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame({
            "term": list(self.names), "coef": self.coef, "hr": self.hr, "se": self.se,
            "robust_se": self.robust_se, "z": self.z, "p_value": self.p_value,
            "hr_lower": self.ci[:, 0], "hr_upper": self.ci[:, 1],
        })

    def to_dict(self) -> dict:
        return {name: {"coef": float(b), "hr": float(np.exp(b)), "se": float(s),
                       "lower": float(lo), "upper": float(hi), "p_value": float(pv)}
                for name, b, s, lo, hi, pv in zip(self.names, self.coef, np.sqrt(np.diag(self.var)),
                                                 self.ci[:, 0], self.ci[:, 1], self.p_value)}


def _cluster_sums(values: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return values
    order = np.argsort(cluster, kind="stable")
    cs = cluster[order]
    starts = np.flatnonzero(np.concatenate(([True], cs[1:] != cs[:-1])))
    return np.add.reduceat(values[order], starts, axis=0)


def fit_cox(time, event, X, weights, *, ties="efron", entry=None, cluster=None,
             robust=False, firth=False, names=None, conf_level=0.95, max_iter=50,
             tol=1e-9, init=None, ci_method="wald") -> CoxResult:
    """Cox partial-likelihood fit on trusted arrays (the kernel of :func:`cox_ph`).

    Parameters
    ----------
    time : (n,) float64 array
    event : (n,) float array of 0/1
    X : (n, p) float array
    weights : (n,) float array
        Positive case weights (drop zero-weight rows first).
    ties, entry, cluster, robust, firth, names, conf_level, max_iter, tol, init, ci_method
        As :func:`cox_ph`; ``entry`` < ``time`` or None; ``cluster`` integer codes or None.

    Returns
    -------
    CoxResult
        ``status`` (:func:`estimators.status.cox_status`) says whether it is an estimate:
        no events, singular or monotone fits come back with NaN (singular) or infinite
        (monotone) coefficients and a non-OK status.

    Notes
    -----
    No validation, and never raises on data.
    """
    if time.shape[0] == 0:  # nothing to fit: status NO_EVENTS
        p = X.shape[1]
        nan_p, nan_pp = np.full(p, np.nan), np.full((p, p), np.nan)
        return CoxResult(names=tuple(names) if names is not None else
                         tuple(f"x{j}" for j in range(p)), coef=nan_p, se=nan_p,
                         robust_se=nan_p, var=nan_pp, z=nan_p, p_value=nan_p,
                         ci=np.full((p, 2), np.nan), loglik=float("nan"),
                         loglik_null=float("nan"), information=nan_pp,
                         score_residuals=np.empty((0, p)), weights=weights, ties=ties,
                         converged=False, infinite=np.zeros(p, dtype=bool),
                         message="no observations")
    with np.errstate(all="ignore"):  # degenerate fits are judged from the values, not warnings
        rs = RiskSets(time, event, X, weights, ties, entry)
        return fit_cox_on(rs, weights, cluster, robust, firth, names, conf_level, max_iter,
                          tol, init, ci_method)


def fit_cox_on(rs: RiskSets, weights, cluster, robust, firth, names, conf_level, max_iter, tol,
               init, ci_method) -> CoxResult:
    """:func:`fit_cox` on the sorted data ``rs`` of its rows (at least one), for a caller
    that reads ``rs`` again after the fit; run under ``np.errstate(all="ignore")``."""
    n, p, ties = rs.n, rs.p, rs.ties
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(p))
    beta0 = np.zeros(p) if init is None else np.asarray(init, dtype=np.float64)
    if firth:
        evaluate_fn = firth_evaluate
    else:
        evaluate_fn = evaluate if rs.p > 1 else evaluate_scalar
    first = evaluate_fn(rs, beta0)
    robust = robust or cluster is not None
    # (events are 0/1: their count is their sum, without the sum's dispatch)
    common = dict(names=names, weights=weights, n=n, n_events=int(np.count_nonzero(rs.d)),
                  ties=ties,
                  robust=robust, firth=firth, conf_level=conf_level, cluster=cluster,
                  ci_method=ci_method,
                  loglik_null=(first.loglik if init is None
                               else evaluate_fn(rs, np.zeros(p)).loglik))
    flat = singular_columns(rs, evaluate(rs, beta0).information if firth else first.information)
    if flat.any():
        nan_p, nan_pp = np.full(p, np.nan), np.full((p, p), np.nan)
        bad = ", ".join(names[j] for j in np.flatnonzero(flat))
        return CoxResult(coef=nan_p, se=nan_p, robust_se=nan_p, var=nan_pp, z=nan_p,
                         p_value=nan_p, ci=np.full((p, 2), np.nan), loglik=float("nan"),
                         information=first.information, score_residuals=np.full((n, p), np.nan),
                         converged=False, n_iter=0, monotone=False,
                         infinite=np.zeros(p, dtype=bool), singular=True,
                         message=f"information matrix singular: no variation of {bad} within "
                                 "the risk sets at event times; not estimable", **common)
    # (``newton`` without its errstate: ``fit_cox`` has set it)
    beta, ev, first, n_iter, converged = _newton_loop(rs, beta0, max_iter, tol, evaluate_fn,
                                                      first)
    info = ev.information
    resid = score_residuals(rs, ev)
    naive = inverse_information(info)
    infinite = np.zeros(p, dtype=bool) if firth else monotone_coefficients(rs, ev, beta, naive)
    monotone = bool(np.logical_or.reduce(infinite))
    message = "" if converged else f"Newton-Raphson did not converge in {max_iter} iterations"
    dfb = _cluster_sums(weights[:, None] * resid, cluster) @ naive
    rvar = dfb.T @ dfb
    var = rvar if robust else naive
    se = np.sqrt(naive.diagonal())
    robust_se = np.sqrt(rvar.diagonal())
    used = robust_se if robust else se
    coef = beta.copy()
    if monotone:
        coef[infinite] = np.sign(beta[infinite]) * np.inf
        for arr in (se, robust_se, used):
            arr[infinite] = np.nan
        bad = ", ".join(names[j] for j in np.flatnonzero(infinite))
        message = (f"monotone likelihood: the coefficient(s) of {bad} diverge (e.g. no "
                   "events in one group); the MLE does not exist. Consider firth=True.")
    z = coef / used
    zq = z_value(conf_level)
    ci = np.exp(coef[:, None] + np.multiply.outer(used, (-zq, zq)))
    p_value = two_sided_p(z)
    if ci_method == "profile":
        limits, p_value = profile_inference(rs, firth_evaluate if firth else evaluate, beta,
                                            ev.loglik, se, conf_level)
        ci = np.exp(limits)
    return CoxResult(coef=coef, se=se, robust_se=robust_se, var=var, z=z, p_value=p_value,
                     ci=ci, loglik=ev.loglik, information=info, score_residuals=resid,
                     converged=converged, n_iter=n_iter, monotone=monotone, infinite=infinite,
                     message=message, **common)


def cox_ph(time, event, X, weights=None, *, robust: bool = False, cluster=None,
           ties: str = "efron", entry=None, firth: bool = False, names=None,
           conf_level: float = 0.95, max_iter: int = 50, tol: float = 1e-9,
           init=None, ci_method: str = "wald") -> CoxResult:
    """Cox proportional-hazards model by Newton–Raphson on the weighted partial likelihood.

    Parameters
    ----------
    time : event/censoring times (the *stop* time with ``entry``).
    event : 0/1, 1 = event at ``time``.
    X : (n, p) covariates (array, or DataFrame whose columns give ``names``); 1-D = one.
    weights : optional non-negative case weights (IPTW, matching weights); rows with weight
        0 are dropped as if absent.
    robust : Lin & Wei (1989) sandwich variance ``D'D``, ``D = dfbeta`` (R
        ``coxph(..., robust=TRUE)``). Implied by ``cluster``.
    cluster : optional labels; dfbeta is summed within cluster before the cross-product (R
        ``cluster(id)``), e.g. matched pair or patient id in counting-process data.
    ties : ``"efron"`` (default, as R) or ``"breslow"``; weights enter Efron's
        approximation as in R (each of the D terms weighted by the mean weight of the
        tied deaths).
    entry : optional entry times for left truncation / counting-process data: row i is
        at risk on ``(entry_i, time_i]`` (R ``Surv(entry, time, event)``); rows of one
        subject split at covariate changes give time-varying covariates.
    firth : Firth-penalized partial likelihood ``l + 0.5 log det I`` (Heinze & Schemper
        2001), finite even under monotone likelihood; SEs are from the information at
        the penalized estimate.
    ci_method : ``"wald"`` (default; log-scale Wald with the SE in use) or ``"profile"``:
        profile (penalized) likelihood limits and likelihood-ratio p-values, coxphf's
        default with ``firth=True``; under monotone likelihood one limit is infinite and
        the other finite. Profile limits ignore ``robust``/``cluster`` (they are
        model-based).
    names, conf_level, max_iter, tol, init : labels, CI level, Newton controls (``tol`` on
        the Newton decrement ``U' I^-1 U``), starting values (default 0).

    Returns
    -------
    CoxResult
        See its docstring for every attribute. Monotone likelihood is flagged
        (``monotone=True``, ``infinite``), not returned as a huge finite HR.
    """
    _checks.check_choice(ties, "ties", CAPABILITIES["ties"])
    _checks.check_choice(ci_method, "ci_method", CAPABILITIES["ci_method"])
    robust = _checks.check_flag(robust, "robust")
    firth = _checks.check_flag(firth, "firth")
    t = _checks.check_time(time, "time")
    e = _checks.check_binary(event, "event")
    Xa, names = check_design(X, names)
    conf_level, max_iter, tol, init = check_controls(conf_level, max_iter, tol, init,
                                                     Xa.shape[1])
    n = t.shape[0]
    if e.shape[0] != n or Xa.shape[0] != n:  # (the common case without the check's dict)
        n = _checks.check_lengths({"time": t, "event": e, "X": Xa})
    w, lo = _checks.check_weights_min(weights, n)
    arrays = {"t": t, "e": e, "X": Xa, "w": w}
    if entry is not None:
        en = _checks.check_time(entry, "entry")
        _checks.check_lengths({"time": t, "entry": en})
        bad = en >= t
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"entry must be < time (rows at risk on (entry, time]); got "
                             f"entry[{i}]={en[i]!r} >= time[{i}]={t[i]!r}")
        arrays["entry"] = en
    if cluster is not None:
        import pandas as pd
        cl = np.asarray(cluster)
        _checks.check_lengths({"time": t, "cluster": cl})
        if pd.isna(cl).any():
            raise ValueError("cluster must not contain missing values")
        arrays["cluster"] = np.unique(cl, return_inverse=True)[1]
    every = lo > 0.0  # (non-negative weights: every row kept unless the minimum is 0)
    keep = None if every else w > 0
    sub = arrays if every else {k: v[keep] for k, v in arrays.items()}
    if not np.logical_or.reduce(sub["e"]):
        raise ValueError("event has no events (all 0) among rows with positive weight: "
                         "the Cox model is not estimable")
    Xk = sub["X"]
    const = (np.maximum.reduce(Xk, axis=0) == np.minimum.reduce(Xk, axis=0)).nonzero()[0]
    if const.size:
        raise ValueError(f"X column(s) {[names[j] for j in const]!r} are constant (e.g. a "
                         "single arm): the hazard ratio is not estimable")
    fit = fit_cox(sub["t"], sub["e"], Xk, sub["w"], ties=ties, entry=sub.get("entry"),
                   cluster=sub.get("cluster"), robust=robust, firth=firth, names=names,
                   conf_level=conf_level, max_iter=max_iter, tol=tol, init=init,
                   ci_method=ci_method)
    # a singular information is either a design fault (collinear columns: the caller's
    # error) or a property of these data (no variation within risk sets: flagged result)
    if fit.singular and np.linalg.matrix_rank(Xk - Xk.mean(axis=0)) < Xk.shape[1]:
        raise ValueError(f"X columns {list(names)!r} are collinear: not all coefficients "
                         "are estimable")
    if every:
        return fit
    resid = np.zeros((n, Xk.shape[1]))
    resid[keep] = fit.score_residuals
    return dataclasses.replace(fit, score_residuals=resid, weights=w)
