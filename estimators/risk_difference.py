"""Absolute risk reduction at a time point and the number needed to treat (Altman 1998).

With ``S_T(t)``, ``S_C(t)`` the (IPTW-weighted) Kaplan–Meier survival of the treated and
control arms at time ``t``, the risk of the event by ``t`` is ``1 - S(t)`` and

    ARR(t) = risk_C(t) - risk_T(t) = S_T(t) - S_C(t)       (positive = treatment benefit)
    SE     = sqrt(SE_T(t)^2 + SE_C(t)^2)                   (independent arms)
    CI     = ARR +/- z SE                                  (Wald)

where each SE is the one the curve carries: Greenwood without weights, and under IPTW the
weighted-KM variance chosen in :func:`estimators.survival.kaplan_meier` (Xie & Liu 2005 by
default). The propensity model is taken as known, as in the papers.

NNT = 1 / ARR (Laupacis et al. 1988). Altman (1998, BMJ 317:1309) convention: a positive
ARR gives the number needed to treat for one to *benefit* (NNTB), a negative one the number
needed to *harm* (NNTH); the interval is obtained by inverting the ARR limits, and when the
ARR interval includes 0 the NNT "interval" is two pieces through infinity, reported from
the lower to the upper ARR limit as "NNTH a to inf to NNTB b" with ``a = 1/|ARR_lower|`` and
``b = 1/ARR_upper``. Signed values keep this unambiguous: ``nnt = 1/ARR`` and
``nnt_limits = (1/ARR_lower, 1/ARR_upper)`` (negative = harm).

Seed 000 reports ARR of 12-month mortality and NNT from IPTW-weighted multivariable models
across covariate quantiles (its Figure 4); :func:`absolute_risk_reduction` takes any two
survival estimates with SEs, so model-based survival can be plugged in the same way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import check_level, check_real

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["RiskDifference", "absolute_risk_reduction", "risk_difference_at", "nnt_label"]


def _inv(x: float) -> float:
    # 1/0 is an infinite NNT (no difference); a subnormal ARR overflows to +-inf likewise
    with np.errstate(divide="ignore", over="ignore"):
        return float(np.divide(1.0, np.float64(x))) if x != 0 else np.inf


@dataclass(frozen=True)
class RiskDifference:
    """Absolute risk reduction at ``time`` with its NNT.

    Attributes
    ----------
    time : float
    survival_treated, survival_control, se_treated, se_control : float
    risk_treated, risk_control : float
        ``1 - S``.
    arr, se : float
        ``S_T - S_C`` and its SE.
    ci : tuple of float
        Wald interval of the ARR.
    p_value : float
        Two-sided Wald test of ARR = 0.
    nnt : float
        Signed ``1 / arr``: positive = NNT to benefit, negative = NNT to harm, ``inf`` if
        ``arr == 0``.
    nnt_limits : tuple of float
        Signed ``(1 / ci[0], 1 / ci[1])``.
    ci_spans_zero : bool
        The ARR interval includes 0, so the NNT interval passes through infinity.
    conf_level : float
    """

    time: float
    survival_treated: float
    survival_control: float
    se_treated: float
    se_control: float
    risk_treated: float
    risk_control: float
    arr: float
    se: float
    ci: tuple[float, float]
    p_value: float
    nnt: float
    nnt_limits: tuple[float, float]
    ci_spans_zero: bool
    conf_level: float

    @property
    def nnt_kind(self) -> str:
        """``"benefit"`` (NNTB), ``"harm"`` (NNTH) or ``"none"`` (ARR exactly 0)."""
        return "benefit" if self.arr > 0 else "harm" if self.arr < 0 else "none"

    def describe(self, digits: int = 1) -> str:
        """Altman's wording, e.g. ``"NNTB 10.0 (95% CI NNTH 20.0 to inf to NNTB 4.0)"``."""
        lo, hi = self.nnt_limits
        level = f"{100 * self.conf_level:g}% CI"
        head = nnt_label(self.nnt, digits)
        if self.ci_spans_zero:
            return f"{head} ({level} {nnt_label(lo, digits)} to inf to {nnt_label(hi, digits)})"
        # same sign: the smaller magnitude comes from the ARR limit farther from 0
        a, b = sorted((abs(lo), abs(hi)))
        kind = "NNTB" if self.arr > 0 else "NNTH"
        return f"{head} ({level} {kind} {a:.{digits}f} to {b:.{digits}f})"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["nnt_kind"] = self.nnt_kind
        return d

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        d = self.to_dict()
        d["ci_lower"], d["ci_upper"] = d.pop("ci")
        d["nnt_at_ci_lower"], d["nnt_at_ci_upper"] = d.pop("nnt_limits")
        return pd.DataFrame([d])


def nnt_label(nnt: float, digits: int = 1) -> str:
    """``"NNTB x"`` / ``"NNTH x"`` from a signed NNT; ``"inf"`` for an infinite one."""
    if not np.isfinite(nnt):
        return "inf"
    return f"{'NNTB' if nnt > 0 else 'NNTH'} {abs(nnt):.{digits}f}"


def _check_prob(x, name: str) -> float:
    v = check_real(x, name)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be a survival probability in [0, 1]; got {x!r}")
    return v


def _check_se(x, name: str) -> float:
    v = check_real(x, name)
    if not (np.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite non-negative standard error; got {x!r}")
    return v


def absolute_risk_reduction(
    survival_treated: float,
    se_treated: float,
    survival_control: float,
    se_control: float,
    *,
    time: float = np.nan,
    conf_level: float = 0.95,
) -> RiskDifference:
    """ARR ``S_T - S_C`` with a Wald CI and the Altman NNT, from two survival estimates."""
    from scipy import stats
    st = _check_prob(survival_treated, "survival_treated")
    sc = _check_prob(survival_control, "survival_control")
    et = _check_se(se_treated, "se_treated")
    ec = _check_se(se_control, "se_control")
    conf_level = check_level(conf_level)
    arr = st - sc
    se = float(np.hypot(et, ec))
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    lo, hi = arr - z * se, arr + z * se
    p = float(2 * stats.norm.sf(abs(arr) / se)) if se > 0 else (1.0 if arr == 0 else 0.0)
    return RiskDifference(
        time=float(time), survival_treated=st, survival_control=sc, se_treated=et,
        se_control=ec, risk_treated=1 - st, risk_control=1 - sc, arr=arr, se=se, ci=(lo, hi),
        p_value=p, nnt=_inv(arr), nnt_limits=(_inv(lo), _inv(hi)),
        ci_spans_zero=bool(lo <= 0 <= hi), conf_level=float(conf_level),
    )


def risk_difference_at(km_treated, km_control, t: float, *, conf_level: float = 0.95) -> RiskDifference:
    """Absolute risk reduction at time ``t`` between two Kaplan–Meier curves, with NNT.

    Parameters
    ----------
    km_treated, km_control : estimators.survival.KaplanMeier
        Curves of the treated and the control arm (weighted or not); anything with
        ``survival_at(times)`` returning ``.survival`` and ``.se`` works.
    t : float
        Time (months), e.g. 12 for seed 000's 12-month mortality.
    conf_level : float

    Returns
    -------
    RiskDifference
        ``arr > 0`` means fewer events by ``t`` with treatment.

    Raises
    ------
    ValueError
        If ``t`` is negative or non-finite, or lies beyond the last observed time of a
        curve that has not reached 0 (survival not estimated there).
    """
    tt = check_real(t, "t")
    if not (np.isfinite(tt) and tt >= 0):
        raise ValueError(f"t must be a finite non-negative time; got {t!r}")
    vals = []
    for name, km in (("km_treated", km_treated), ("km_control", km_control)):
        if not hasattr(km, "survival_at"):
            raise ValueError(f"{name} must be a KaplanMeier result; got {type(km).__name__}")
        at = km.survival_at([tt])
        s, se = float(at.survival[0]), float(at.se[0])
        if not np.isfinite(s):
            raise ValueError(f"t={tt:g} is beyond the last observed time of {name}; "
                             "survival is not estimated there")
        vals.append((s, se))
    (st, et), (sc, ec) = vals
    return absolute_risk_reduction(st, et, sc, ec, time=tt, conf_level=conf_level)
