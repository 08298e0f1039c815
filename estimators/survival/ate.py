"""Marginal survival contrasts by g-formula, IPTW-IPCW and AIPTW, as ``riskRegression::ate``.

The risk of the event by a horizon ``tau`` had everyone received treatment ``a``,
``F_a(tau) = P(T^a <= tau)``, is estimated at each horizon for both arms, with the risk
difference ``F_1 - F_0`` and ratio ``F_1 / F_0`` and influence-function standard errors. A
capability table (:data:`ESTIMATORS`) says which working models each estimator needs and
drives the validation:

============ ========= ========= ========= ==============================================
estimator    outcome   treatment censoring  module
============ ========= ========= ========= ==============================================
gformula     Cox       --        --        :mod:`estimators.survival.gformula`
iptw         --        logistic  Cox / KM  :mod:`estimators.survival.ipw`
aiptw        Cox       logistic  Cox / KM  :mod:`estimators.survival.aiptw` (doubly robust)
============ ========= ========= ========= ==============================================

The working models (:mod:`estimators.survival.ate_nuisance`): the outcome Cox model is on
``[treated, X]`` with Breslow's baseline hazard and survival ``exp(-cumulative hazard)``;
the treatment model is a logistic regression on ``X_treatment`` (default ``X``); the
censoring model (:data:`CENSORING`) is a Cox model for ``1 - event`` on ``X_censoring``
(default ``[treated, X]``) or, with ``censoring="marginal"``, the same without covariates
(``exp(-Nelson-Aalen)``, R ``Surv(time, event == 0) ~ 1``). With no censored patient the
censoring survival is 1.

Standard errors are ``sqrt(sum_i IF_i^2)`` with the influence function including the
uncertainty of every working model (R ``ate(..., se = TRUE)``); the difference's IF is the
difference of the arms' IFs and the ratio's is ``IF_1 / F_0 - F_1 IF_0 / F_0^2``. Intervals
and p-values are Wald on the natural scale, as ``confint(ate(...))``.

Agreement with riskRegression 2022.11.28 (``tests/reference/ate_survival``): risks, contrasts
and SEs to 1e-15 on untied data. With tied event times riskRegression's ``iidCox`` IF of
the Cox coefficients differs from the score-residual IF that ``survival::coxph(robust =
TRUE)`` uses (and this module uses): the point estimates agree, the SEs differ in the
third decimal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from .. import _checks
from ..status import Estimability
from .aiptw import aiptw_arms
from .ate_models import WorkingModels
from .gformula import gformula_arm
from .ipw import iptw_arm

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["CENSORING", "ESTIMATORS", "EstimatorCapability", "SurvivalATE", "survival_ate",
           "survival_ate_kernel", "working_model_status"]


@dataclass(frozen=True)
class EstimatorCapability:
    """The working models an estimator needs."""

    outcome: bool
    treatment: bool
    censoring: bool
    doubly_robust: bool
    description: str


ESTIMATORS: dict[str, EstimatorCapability] = {
    "gformula": EstimatorCapability(True, False, False, False,
                                    "standardized Cox model predictions (g-computation)"),
    "iptw": EstimatorCapability(False, True, True, False,
                                "inverse probability of treatment and censoring weighting"),
    "aiptw": EstimatorCapability(True, True, True, True,
                                 "augmented IPTW with censoring augmentation (doubly robust)"),
}


def working_model_status(needs, outcome, treatment, censoring) -> Estimability:
    """Whether estimators needing ``needs`` (EstimatorCapability's) are estimates: OK, or the
    status of the first working model -- outcome, treatment, censoring, in that order --
    that one of them needs and that is not an estimate.

    The one rule for both an estimator's own status (``needs`` its capability alone) and a
    result's overall one (every estimator's), so the two cannot disagree on a model.
    """
    for model, name in ((outcome, "outcome"), (treatment, "treatment"),
                        (censoring, "censoring")):
        if any(getattr(c, name) for c in needs) and not model.status.ok:
            return model.status
    return Estimability.OK


CENSORING = {
    "cox": "Cox model for censoring on X_censoring (default [treated, X])",
    "marginal": "censoring independent of covariates: exp(-Nelson-Aalen) of the censoring times",
}


@dataclass(frozen=True, eq=False)
class SurvivalATE(ArrayRecord):
    """Marginal risks, risk differences and risk ratios at each horizon.

    Arrays are indexed ``[estimator, (arm,) horizon]`` in the order of ``estimators``;
    arm 0 is control, 1 treated.

    Attributes
    ----------
    horizons : (H,) times.
    estimators : names, as :data:`ESTIMATORS`.
    risk, se : (E, 2, H) ``F_a(tau)`` and its SE.
    difference, se_difference : (E, H) ``F_1 - F_0`` and its SE.
    ratio, se_ratio : (E, H) ``F_1 / F_0`` and its SE.
    iid : (E, 2, n, H) influence functions of the risks (sum scale).
    censoring : the censoring model used.
    n, n_events : patients and events.
    status : Estimability of the working models (OK, or the first failing one's).
    statuses : each estimator's own (:func:`working_model_status` of the models it needs);
        an estimator whose status is OK has estimates though ``status`` is not.
    conf_level : level of the Wald intervals of ``to_frame``.
    """

    horizons: np.ndarray
    estimators: tuple
    risk: np.ndarray
    se: np.ndarray
    difference: np.ndarray
    se_difference: np.ndarray
    ratio: np.ndarray
    se_ratio: np.ndarray
    iid: np.ndarray = field(repr=False)
    censoring: str = "cox"
    n: int = 0
    n_events: int = 0
    status: Estimability = Estimability.OK
    conf_level: float = 0.95
    statuses: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator, horizon and quantity (``risk_control``,
        ``risk_treated``, ``difference``, ``ratio``) with SE, Wald limits and, for the
        contrasts, the two-sided p-value of no effect."""
        import pandas as pd
        from scipy import stats
        zq = stats.norm.ppf(0.5 + self.conf_level / 2)
        rows = []
        for e, name in enumerate(self.estimators):
            for h, tau in enumerate(self.horizons):
                for qty, est, se, null in (
                        ("risk_control", self.risk[e, 0, h], self.se[e, 0, h], np.nan),
                        ("risk_treated", self.risk[e, 1, h], self.se[e, 1, h], np.nan),
                        ("difference", self.difference[e, h], self.se_difference[e, h], 0.0),
                        ("ratio", self.ratio[e, h], self.se_ratio[e, h], 1.0)):
                    p = 2 * stats.norm.sf(abs(est - null) / se) if np.isfinite(null) else np.nan
                    rows.append({"estimator": name, "horizon": float(tau), "quantity": qty,
                                 "estimate": est, "se": se, "lower": est - zq * se,
                                 "upper": est + zq * se, "p_value": p})
        return pd.DataFrame(rows)


def arm_risks(time: np.ndarray, event: np.ndarray, z: np.ndarray, X: np.ndarray,
              X_treatment: np.ndarray, X_censoring: np.ndarray, horizons: np.ndarray,
              estimators: tuple, contrast: np.ndarray | None = None,
              models: WorkingModels | None = None) -> tuple:
    """The working models once, then each estimator's risk of each arm at each horizon.

    Parameters
    ----------
    time, event, z, X, X_treatment, X_censoring, horizons, estimators, models
        As :func:`survival_ate_kernel`.
    contrast : (H, m) array, optional
        Return the influence functions of ``risk @ contrast`` (m columns) instead of the
        risks' (H columns), contracted inside each estimator before its nuisance terms.

    Returns
    -------
    tuple
        ``(risk (E, 2, H), iid (E, 2, n, H or m), status, statuses)``: the overall status
        and each estimator's (:func:`working_model_status`); NaN for an estimator whose
        own status is not OK.
    """
    if models is None:
        models = WorkingModels(time, event, z, X, X_treatment, X_censoring)
    elif not models.built_from(time, event, z, X, X_treatment, X_censoring):
        raise ValueError("models were built from other arrays than the ones passed")
    need = [ESTIMATORS[e] for e in estimators]
    n = time.size
    D = models.design
    outcome = models.outcome() if any(c.outcome for c in need) else None
    treatment = models.treatment() if any(c.treatment for c in need) else None
    cens = models.censoring() if any(c.censoring for c in need) else None
    X_censoring = models.censoring_design
    status = working_model_status(need, outcome, treatment, cens)
    statuses = tuple(working_model_status((c,), outcome, treatment, cens) for c in need)
    E, H = len(estimators), horizons.size
    m = H if contrast is None else contrast.shape[1]
    risk, iid = np.full((E, 2, H), np.nan), np.full((E, 2, n, m), np.nan)
    if any(s.ok for s in statuses):
        D_arms = []
        for arm in (0, 1):
            D_arms.append(D.copy())
            D_arms[arm][:, 0] = arm
        for e, name in enumerate(estimators):
            if not statuses[e].ok:
                continue
            if name == "gformula":
                fits = [gformula_arm(outcome, D_arms[arm], horizons, contrast) for arm in (0, 1)]
            elif name == "iptw":
                fits = [iptw_arm(arm, time, event, z, treatment, cens, X_censoring, horizons,
                                 contrast) for arm in (0, 1)]
            else:  # both arms at once: what they share computed once
                fits = aiptw_arms(time, event, z, outcome, D_arms, treatment, cens,
                                  X_censoring, horizons, contrast)
            for arm, fit in enumerate(fits):
                risk[e, arm], iid[e, arm] = fit.risk, fit.iid
    return risk, iid, status, statuses


def survival_ate_kernel(time: np.ndarray, event: np.ndarray, z: np.ndarray, X: np.ndarray,
                        X_treatment: np.ndarray, X_censoring: np.ndarray,
                        horizons: np.ndarray, estimators: tuple = tuple(ESTIMATORS),
                        censoring: str = "cox", conf_level: float = 0.95, *,
                        models: WorkingModels | None = None) -> SurvivalATE:
    """:func:`survival_ate` on trusted arrays (no validation; never raises on data).

    Parameters
    ----------
    time, event, z : (n,) float arrays (event and z 0/1).
    X : (n, p) outcome covariates (the Cox design is ``[z, X]``).
    X_treatment : (n, k) treatment-model covariates (no intercept).
    X_censoring : (n, q) censoring-model design (q = 0: marginal censoring).
    horizons : (H,) increasing times.
    estimators : names from :data:`ESTIMATORS`.
    censoring, conf_level : recorded in the result.
    models : WorkingModels, optional
        Built from these same arrays (else ``ValueError``): the working models fitted
        once for several calls on one data set
        (:class:`estimators.survival.ate_models.WorkingModels`); default a fresh one.

    Returns
    -------
    SurvivalATE
        With a non-OK ``status`` when a needed working model is not an estimate
        (separation, monotone likelihood, no events), and NaN estimates for each estimator
        that needs it (``statuses``).
    """
    n = time.size
    risk, iid, status, statuses = arm_risks(time, event, z, X, X_treatment, X_censoring,
                                            horizons, estimators, models=models)
    with np.errstate(divide="ignore", invalid="ignore"):
        r0, r1 = risk[:, 0], risk[:, 1]
        iid_diff = iid[:, 1] - iid[:, 0]
        iid_ratio = iid[:, 1] / r0[:, None] - iid[:, 0] * (r1 / r0**2)[:, None]
        ratio = r1 / r0
    return SurvivalATE(
        horizons=horizons, estimators=tuple(estimators), risk=risk,
        se=np.sqrt((iid**2).sum(axis=2)), difference=r1 - r0,
        se_difference=np.sqrt((iid_diff**2).sum(axis=1)), ratio=ratio,
        se_ratio=np.sqrt((iid_ratio**2).sum(axis=1)), iid=iid, censoring=censoring, n=n,
        n_events=int(event.sum()), status=status, conf_level=conf_level, statuses=statuses)


def _matrix(X, name: str, n: int) -> np.ndarray:
    arr = _checks.check_finite(_checks.as_float_array(getattr(X, "values", X), name, ndim=2),
                               name)
    _checks.check_lengths({name: arr}, n)
    return arr


def _check_horizons(horizons, last: float) -> np.ndarray:
    h = _checks.check_time(np.atleast_1d(horizons), "horizons", allow_zero=False)
    if h.size == 0:
        raise ValueError("horizons must contain at least one time")
    if (np.diff(h) <= 0).any():
        raise ValueError(f"horizons must be strictly increasing; got {h.tolist()!r}")
    if h[-1] > last:
        raise ValueError(f"horizons must not exceed the last observed time {last!r} (the "
                         f"risk is not estimated beyond it); got {h[-1]!r}")
    return h


def _validated_input(time, event, treated, X, horizons, estimators, X_treatment, censoring,
                     X_censoring, conf_level) -> tuple:
    """Validate :func:`survival_ate`'s arguments once; returns the kernel's arrays."""
    est = (estimators,) if isinstance(estimators, str) else tuple(estimators)
    if not est or len(set(est)) != len(est):
        raise ValueError(f"estimators must be distinct names from {tuple(ESTIMATORS)!r}; "
                         f"got {estimators!r}")
    for e in est:
        _checks.check_choice(e, "estimators", tuple(ESTIMATORS))
    _checks.check_choice(censoring, "censoring", tuple(CENSORING))
    for arg, value, model in (("X_treatment", X_treatment, "treatment"),
                              ("X_censoring", X_censoring, "censoring")):
        users = [e for e, c in ESTIMATORS.items() if getattr(c, model)]
        if value is not None and not set(users) & set(est):
            raise ValueError(f"{arg} is only used by the estimators {users!r}; got "
                             f"estimators={est!r}")
    if censoring == "marginal" and X_censoring is not None:
        raise ValueError("X_censoring is only used with censoring='cox'; got censoring="
                         "'marginal' with X_censoring")
    _checks.check_level(conf_level)
    t = _checks.check_time(time, "time")
    e_ = _checks.check_binary(event, "event").astype(np.float64)
    z = _checks.check_binary(treated, "treated").astype(np.float64)
    n = _checks.check_lengths({"time": t, "event": e_, "treated": z})
    if np.unique(z).size < 2:
        raise ValueError(f"treated must contain both arms; got only {int(z[0])}")
    if not e_.any():
        raise ValueError("event has no events (all 0): the risks are not estimable")
    Xo = _matrix(X, "X", n)
    Xt = Xo if X_treatment is None else _matrix(X_treatment, "X_treatment", n)
    if censoring == "marginal":
        Xc = np.empty((n, 0))
    else:
        Xc = np.column_stack([z, Xo]) if X_censoring is None else _matrix(X_censoring,
                                                                          "X_censoring", n)
    h = _check_horizons(horizons, float(t.max()))
    return t, e_, z, Xo, Xt, Xc, h, est


def survival_ate(time, event, treated, X, *, horizons, estimators=("gformula", "iptw", "aiptw"),
                 X_treatment=None, censoring="cox", X_censoring=None,
                 conf_level=0.95) -> SurvivalATE:
    """Marginal risks by ``horizons`` under control and treatment, their difference and
    ratio, by g-formula, IPTW-IPCW and AIPTW (see the module docstring).

    Parameters
    ----------
    time : (n,) follow-up times (months), non-negative.
    event : (n,) 0/1, 1 = event (death) at ``time``.
    treated : (n,) 0/1 treatment.
    X : (n, p) covariates of the outcome Cox model (array or DataFrame); the model is
        ``[treated, X]``.
    horizons : increasing positive times, at most the last observed time.
    estimators : names from :data:`ESTIMATORS` (``"gformula"``, ``"iptw"``, ``"aiptw"``).
    X_treatment : (n, k), optional
        Covariates of the logistic treatment model (default ``X``).
    censoring : {"cox", "marginal"}
        Censoring model (:data:`CENSORING`), used by ``iptw`` and ``aiptw``.
    X_censoring : (n, q), optional
        Design of the Cox censoring model (default ``[treated, X]``); only with
        ``censoring="cox"``.
    conf_level : float

    Returns
    -------
    SurvivalATE

    Raises
    ------
    ValueError
        Invalid input (naming the argument and value), or a working model that is not
        estimable (separated treatment model, monotone Cox likelihood).

    References
    ----------
    Ozenne BMH, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment
    effects with right-censored time to event outcome and competing risks. Biom J
    2020;62:751-763 (R riskRegression::ate).
    """
    args = _validated_input(time, event, treated, X, horizons, estimators, X_treatment,
                            censoring, X_censoring, conf_level)
    return raise_unless_ok(survival_ate_kernel(*args, censoring, float(conf_level)))


def raise_unless_ok(res):
    """The public functions' policy: a working model that is not an estimate is an error."""
    if not res.status.ok:
        raise ValueError(f"a working model is not estimable ({res.status.name}): check the "
                         "treatment model for separation and the Cox models for a covariate "
                         "without events in one group")
    return res
