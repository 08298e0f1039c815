"""The paper's analysis of one cohort drawn from a world, rounded as a paper prints it.

The analysis is the one a typical retrospective TACE study reports: crude Kaplan-Meier
medians and 12- and 24-month rates, crude Cox HRs, a univariable Cox table of the six
baseline covariates, a multivariable Cox model of treatment and the covariates with
univariable p < 0.05, stabilized IPTW (ATE) with a weighted Cox HR, weighted Kaplan-Meier
medians and weighted group sizes, and the response rates (ORR, DCR) and the odds ratio of
objective response among patients with a response assessment. It uses the estimators'
kernels, the same ones ``tacebench replicate`` uses, so that the printed numbers are the
statistics the replicates simulate (a test checks it number by number).

Every number is a :class:`Number`: what it is (quantity, analysis, endpoint, arm, term,
time), its value as printed (1 decimal for medians, percentages and weighted sizes, 2 for
HRs and ORs) and its confidence interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from tacebench.estimators import kernels

from .world import COVARIATES

__all__ = ["Number", "Paper", "TableRow", "analyse", "TERMS", "half_up"]

#: Covariate -> the term the analyses use (child_pugh: the indicator of class B).
TERMS = {"age": "age", "male": "male", "tumor_size": "tumor_size", "multiple": "multiple",
         "child_pugh": "child_pugh==B", "pvtt": "pvtt"}
SCREEN_P = 0.05
RATE_TIMES = (12, 24)


def half_up(x: float, digits: int) -> float:
    """``x`` rounded half away from zero to ``digits`` decimals, as papers round (not
    Python's round-half-even on the binary value)."""
    q = 10.0 ** digits
    return math.copysign(math.floor(abs(x) * q + 0.5 + 1e-9) / q, x)


@dataclass(frozen=True)
class Number:
    """One printed number of the paper (fields as ``targets.toml`` names them)."""

    id: str
    analysis: str
    quantity: str
    value: float                       # as printed (percent for rates)
    digits: int
    endpoint: str | None = None
    arm: str | None = None
    term: str | None = None
    time: float | None = None
    contrast: bool = False              # the treated-vs-control ratio
    ci: tuple[float, float] | None = None
    count: int | None = None
    denominator: int | None = None
    percent: bool = False               # value is a percentage (km_rate, rate)
    exact: float = math.nan             # the unrounded statistic

    def text(self, x: float | None = None) -> str:
        """The number as printed."""
        return f"{self.value if x is None else x:.{self.digits}f}"


@dataclass(frozen=True)
class TableRow:
    """A Table 1 row: per arm ``(mean, sd)`` or ``(count, percent)``, as printed."""

    variable: str
    kind: str                            # "mean_sd" | "count"
    cells: tuple[tuple[float, float], ...]
    level: str | None = None


@dataclass(frozen=True)
class Paper:
    """What a paper prints about one cohort."""

    arms: tuple[str, str]                # (control, treated) labels
    n: tuple[int, int]
    table1: tuple[TableRow, ...]
    numbers: tuple[Number, ...]
    selected: tuple[str, ...]            # covariates of the multivariable model
    response_counts: tuple[tuple[int, ...], tuple[int, ...]]   # CR, PR, SD, PD per arm
    deaths: int
    accrual: float
    follow_up: float
    skipped: str = ""                    # why no paper could be written (median not reached)
    meta: dict = field(default_factory=dict)

    def number(self, id: str) -> Number:
        return next(n for n in self.numbers if n.id == id)


def _km(time, event, w=None):
    w = np.ones(len(time)) if w is None else w
    fit = kernels.fit_km(time, event.astype(float), w, "greenwood")
    return fit.times, fit.survival


def _median(time, event, w=None) -> float:
    t, s = _km(time, event, w)
    return float(kernels.first_crossing(s, t, 0.5))


def _rate(time, event, at: float) -> float:
    t, s = _km(time, event)
    i = np.searchsorted(t, at, side="right") - 1
    if i < 0:
        return 1.0
    return math.nan if at > t[-1] and s[-1] > 0 else float(s[i])


def _cox(time, event, X, w=None, robust=False):
    w = np.ones(len(time)) if w is None else w
    return kernels.fit_cox(time, event.astype(float), np.asarray(X, float).reshape(len(time), -1),
                           w, robust=robust)


def _ratio(fit, k: int = 0) -> tuple[float, tuple[float, float], float]:
    """(HR, CI, Wald p) of coefficient ``k``: the CI from the fit's variance."""
    b, se = float(fit.coef[k]), math.sqrt(float(fit.var[k, k]))
    z = stats.norm.ppf(0.975)
    return math.exp(b), (math.exp(b - z * se), math.exp(b + z * se)), float(
        2 * stats.norm.sf(abs(b / se)))


def _term_column(cols: dict, name: str) -> np.ndarray:
    x = cols[name]
    return (x == 1).astype(float) if name == "child_pugh" else x.astype(float)


def _hr(id, analysis, endpoint, fit, k=0, term=None, contrast=False) -> Number:
    hr, ci, _ = _ratio(fit, k)
    return Number(id, analysis, "hr", half_up(hr, 2), 2, endpoint=endpoint, term=term,
                  contrast=contrast, ci=(half_up(ci[0], 2), half_up(ci[1], 2)), exact=hr)


def _pct(id, analysis, quantity, x, endpoint, arm, time=None, count=None, den=None) -> Number:
    return Number(id, analysis, quantity, half_up(100 * x, 1), 1, endpoint=endpoint, arm=arm,
                  time=time, count=count, denominator=den, percent=True, exact=x)


def _table1(cols, z, n) -> tuple[TableRow, ...]:
    rows = []
    for name, kind in COVARIATES.items():
        x = _term_column(cols, name)
        if kind == "continuous":
            cells = tuple((half_up(float(x[z == a].mean()), 1),
                           half_up(float(x[z == a].std(ddof=1)), 1)) for a in (0, 1))
            rows.append(TableRow(name, "mean_sd", cells))
        else:
            counts = [int(x[z == a].sum()) for a in (0, 1)]
            level = "B" if name == "child_pugh" else None
            rows.append(TableRow(name, "count", tuple(
                (c, half_up(100 * c / n[a], 1)) for a, c in enumerate(counts)), level))
    return tuple(rows)


def analyse(columns: dict, arms: tuple[str, str], *, accrual: float, follow_up: float) -> Paper:
    """Run the paper's analysis on one cohort's ``columns`` (a ``Cohort.columns``).

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        ``treated``, the covariates of :data:`~.world.COVARIATES`, ``os_time``,
        ``os_event``, ``pfs_time``, ``pfs_event``, ``response`` (codes, -1 unassessed).
    arms : (str, str)
        Control and treated arm labels.
    accrual, follow_up : float
        The design the Methods print (months).

    Returns
    -------
    Paper
        ``skipped`` says why it cannot be a paper (a crude median not reached).
    """
    z = columns["treated"].astype(int)
    n = (int((z == 0).sum()), int((z == 1).sum()))
    slug = ("tace", "tace_s")
    out: list[Number] = []
    c, t = arms
    for ep in ("os", "pfs"):
        time, ev = columns[f"{ep}_time"], columns[f"{ep}_event"]
        for a in (0, 1):
            m = _median(time[z == a], ev[z == a])
            if not math.isfinite(m):
                return Paper(arms, n, (), (), (), ((), ()), 0, accrual, follow_up,
                             skipped=f"{ep} median not reached in {arms[a]}")
            out.append(Number(f"{ep}_median_{slug[a]}_crude", "crude", "km_median",
                              half_up(m, 1), 1, endpoint=ep, arm=arms[a], exact=m))
        out.append(_hr(f"{ep}_hr_crude", "crude", ep, _cox(time, ev, z), contrast=True))
    time, ev = columns["os_time"], columns["os_event"]
    for at in RATE_TIMES:
        for a in (0, 1):
            r = _rate(time[z == a], ev[z == a], at)
            if math.isfinite(r):
                out.append(_pct(f"os_rate{at}m_{slug[a]}_crude", "crude", "km_rate", r, "os",
                                arms[a], time=at))
    deaths = int(ev.sum())
    # univariable Cox table; screening at p < 0.05 selects the multivariable covariates
    selected = []
    for name, term in TERMS.items():
        fit = _cox(time, ev, _term_column(columns, name))
        if fit.status.name != "OK":
            continue
        out.append(_hr(f"os_hr_{name}_univariable", "univariable", "os", fit, term=term))
        if _ratio(fit)[2] < SCREEN_P:
            selected.append(name)
    X = np.column_stack([z] + [_term_column(columns, s) for s in selected])
    fit = _cox(time, ev, X)
    out.append(_hr("os_hr_multivariable", "multivariable", "os", fit, 0, contrast=True))
    out += [_hr(f"os_hr_{s}_multivariable", "multivariable", "os", fit, k + 1, term=TERMS[s])
            for k, s in enumerate(selected)]
    # stabilized IPTW (ATE) on all six covariates
    Xps = np.column_stack([_term_column(columns, s) for s in TERMS])
    ps = kernels.PS_MODELS["glm"].fit(np.column_stack([np.ones(len(z)), Xps]), z.astype(float),
                                      np.ones(len(z))).fitted
    w = kernels.iptw_weights_kernel(ps, z, "ATE", True, None)
    out.append(_hr("os_hr_iptw", "iptw", "os", _cox(time, ev, z, w, robust=True), contrast=True))
    for a in (0, 1):
        m = _median(time[z == a], ev[z == a], w[z == a])
        if math.isfinite(m):
            out.append(Number(f"os_median_{slug[a]}_iptw", "iptw", "km_median", half_up(m, 1),
                              1, endpoint="os", arm=arms[a], exact=m))
        s = float(w[z == a].sum())
        out.append(Number(f"n_{slug[a]}_iptw", "iptw", "weighted_group_size", half_up(s, 1), 1,
                          arm=arms[a], exact=s))
    # response among the assessed
    resp = columns["response"].astype(int)
    assessed = resp >= 0
    counts = tuple(tuple(int(((resp == k) & (z == a)).sum()) for k in range(4)) for a in (0, 1))
    for ep, good in (("orr", 2), ("dcr", 3)):
        for a in (0, 1):
            den = int((assessed & (z == a)).sum())
            k = int(sum(counts[a][:good]))
            out.append(_pct(f"{ep}_{slug[a]}_imaging", "imaging", "rate", k / den, ep, arms[a],
                            count=k, den=den))
    y = ((resp >= 0) & (resp < 2)).astype(float)[assessed]
    Xa = np.column_stack([np.ones(int(assessed.sum())), z[assessed]])
    lf = kernels.fit_logistic(Xa, y, np.ones(len(y)))
    b, se = float(lf.coef[1]), math.sqrt(float(np.linalg.inv(lf.information)[1, 1]))
    q = stats.norm.ppf(0.975)
    out.append(Number("orr_or_imaging", "imaging", "odds_ratio", half_up(math.exp(b), 2), 2,
                      endpoint="orr", contrast=True,
                      ci=(half_up(math.exp(b - q * se), 2), half_up(math.exp(b + q * se), 2)),
                      exact=math.exp(b)))
    return Paper(arms, n, _table1(columns, z, n), tuple(out), tuple(selected), counts, deaths,
                 accrual, follow_up)
