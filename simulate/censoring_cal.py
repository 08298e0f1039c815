"""Censoring calibrated to what papers print: an event count and/or a median follow-up.

The generator censors at ``C = min(accrual + follow_up - entry, administrative_max,
loss)`` with ``entry ~ U(0, accrual)`` and ``loss ~ Exp(loss_rate)``. Papers rarely print
the number of events but usually print a median follow-up, so either of the two unknowns
(``follow_up``, ``loss_rate``) may be solved to either target, or both to both.

Median follow-up has several definitions, each computed here in large samples on the
calibration sample's event times ``T`` (patients weighted to the study's arm sizes):

- ``reverse_km`` (Schemper & Smith 1996): the Kaplan-Meier median with the roles of event
  and censoring swapped estimates the censoring distribution, so its limit is the median
  of ``C``: the root of ``G(t) = P(C > t) = 1/2``, independent of ``T``;
- ``observed``: the median of every patient's observed time ``min(T, C)``, the root of
  ``G(t) S(t) = 1/2`` with ``S`` the marginal survival of the sample;
- ``censored``: the median observed time of the patients censored (alive at last
  contact), whose distribution is ``int_0^t S dF_C / int_0^inf S dF_C``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .plan import _CAL_SEED
from .survival import censoring_survival

__all__ = ["CensoringDesign", "median_followup", "solve_censoring"]

_FOLLOW_UP_MAX = 1200.0  # months: the search range of a calibrated follow_up
_LOSS_MAX = 50.0  # per month: the search range of a calibrated loss rate


@dataclass(frozen=True)
class CensoringDesign:
    """The generator's censoring, every parameter numeric."""

    accrual: float
    follow_up: float
    admin_max: float = np.inf
    loss_rate: float = 0.0

    def survival(self, grid: np.ndarray) -> np.ndarray:
        """``G(t) = P(C > t)`` on ``grid``."""
        return censoring_survival(grid, self.accrual, self.follow_up, self.admin_max, self.loss_rate)

    @property
    def horizon(self) -> float:
        """The longest possible follow-up."""
        return min(self.accrual + self.follow_up, self.admin_max)


def _first_below(fn, lo: float, hi: float, level: float = 0.5, iters: int = 80) -> float:
    """Smallest ``t`` in ``[lo, hi]`` with the non-increasing ``fn(t) <= level`` (bisection,
    since ``fn`` may jump)."""
    if fn(lo) <= level:
        return lo
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fn(mid) <= level else (mid, hi)
    return hi


def median_followup(design: CensoringDesign, definition: str, times: np.ndarray | None = None,
                    weights: np.ndarray | None = None) -> float:
    """Large-sample median follow-up under ``design``.

    Parameters
    ----------
    design : CensoringDesign
        The censoring.
    definition : str
        ``"reverse_km"``, ``"observed"`` or ``"censored"`` (see the module docstring).
    times : ndarray, optional
        Event times of the calibration sample (needed unless ``reverse_km``).
    weights : ndarray, optional
        Their weights (default equal).

    Returns
    -------
    float
        The median follow-up in months.

    References
    ----------
    Schemper M, Smith TL. A note on quantifying follow-up in studies of failure time.
    Control Clin Trials 1996;17:343-346.
    """
    hi = design.horizon
    if definition == "reverse_km":
        return _first_below(lambda t: float(design.survival(np.array([t]))[0]), 0.0, hi)
    t_sorted, cum = _weighted_sorted(times, weights)

    def surv(t):   # weighted share of the sample with an event time beyond t
        return 1.0 - cum[np.searchsorted(t_sorted, t, side="right")]
    if definition == "observed":
        return _first_below(lambda t: float(design.survival(np.array([t]))[0]) * surv(t), 0.0, hi)
    if definition != "censored":
        raise ValueError(f"unknown follow-up definition {definition!r}")
    grid = np.linspace(0.0, hi, 4001)
    g = design.survival(grid)
    g[-1] = 0.0                      # everyone still followed is censored at the horizon
    mass = -np.diff(g) * np.array([surv(t) for t in grid[1:]])   # P(C in (t, t + dt], T > C)
    share = np.concatenate([[0.0], np.cumsum(mass)]) / max(mass.sum(), 1e-300)
    return float(np.interp(0.5, share, grid))


def _weighted_sorted(times, weights):
    times = np.asarray(times, float)
    w = np.ones(len(times)) if weights is None else np.asarray(weights, float)
    order = np.argsort(times, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order]) / w.sum()])
    return times[order], cum


def _arm_weights(sample: dict, arm_n, arm_index: int | None) -> np.ndarray:
    """Weights scaling the calibration sample to the published arm sizes (0 outside ``arm``)."""
    weights = np.zeros(sample["n"])
    for a, n_a in enumerate(arm_n):
        m = sample["arm"] == a
        weights[m] = n_a / m.sum()
    if arm_index is not None:
        weights = np.where(sample["arm"] == arm_index, weights, 0.0)
    return weights


def solve_censoring(cen, sample: dict, cp, event_times: dict) -> tuple[CensoringDesign, dict]:
    """Numeric censoring of a spec, its ``"calibrate"`` parameters solved to its targets.

    Parameters
    ----------
    cen : simulate.Censoring
        The spec's censoring.
    sample : dict
        The calibration sample (``n``, ``arm``).
    cp : CovariatePlan
        Its arm labels and published arm sizes.
    event_times : dict
        Event times of the sample per endpoint (``"os"``, ``"pfs"``); a target whose
        endpoint is missing is not used (its unknown stays at its default: no loss, or
        the largest follow-up searched).

    Returns
    -------
    CensoringDesign
        The numeric censoring.
    dict
        The calibration report: per target its value and achieved value, the solved
        parameters and a note when a target cannot be reached.
    """
    rng = np.random.default_rng(_CAL_SEED + 2)
    entry = rng.random(sample["n"]) * cen.accrual
    admin_max = cen.administrative_max or np.inf
    report: dict = {}

    def design(follow_up, loss):
        return CensoringDesign(cen.accrual, follow_up, admin_max, loss)

    def events_fn():
        ev = cen.events
        times = event_times.get(ev.endpoint) if ev is not None else None
        if times is None:
            return None
        idx = None if ev.arm is None else cp.arm_labels.index(ev.arm)
        weights = _arm_weights(sample, cp.arm_n, idx)

        def expected(follow_up, loss):
            admin = np.minimum(cen.accrual + follow_up - entry, admin_max)
            return float(np.sum(weights * (times <= admin) * np.exp(-loss * times)))
        return expected

    def followup_fn():
        mf = cen.median_followup
        if mf is None:
            return None
        times = event_times.get(mf.endpoint)
        if times is None and mf.definition != "reverse_km":
            return None
        idx = None if mf.arm is None else cp.arm_labels.index(mf.arm)
        weights = None if times is None else _arm_weights(sample, cp.arm_n, idx)
        sel = None if weights is None else weights > 0
        return lambda follow_up, loss: median_followup(
            design(follow_up, loss), mf.definition,
            None if times is None else times[sel], None if weights is None else weights[sel])

    equations = [(name, fn, getattr(cen, name).value) for name, fn in
                 (("events", events_fn()), ("median_followup", followup_fn())) if fn is not None]
    follow_up = None if cen.follow_up == "calibrate" else float(cen.follow_up)
    loss = None if cen.loss_rate == "calibrate" else float(cen.loss_rate)
    # which equation solves which unknown: events -> loss_rate when both are calibrated
    by_name = dict((n, (f, v)) for n, f, v in equations)
    if follow_up is None and loss is None and len(by_name) == 2:
        fe, ve = by_name["events"]
        fm, vm = by_name["median_followup"]

        def loss_for(f, notes=None):
            return _solve_loss(lambda l: fe(f, l), ve, {} if notes is None else notes, "events")
        follow_up = _solve_follow_up(lambda f: fm(f, loss_for(f)), vm, report)
        loss = loss_for(follow_up, report)
    elif follow_up is None:
        (name, (fn, value)), = by_name.items() if by_name else ((None, (None, None)),)
        follow_up = _FOLLOW_UP_MAX if fn is None else _solve_follow_up(
            lambda f: fn(f, loss), value, report, name)
    elif loss is None:
        (name, (fn, value)), = by_name.items() if by_name else ((None, (None, None)),)
        loss = 0.0 if fn is None else _solve_loss(lambda l: fn(follow_up, l), value, report, name)
    out = design(follow_up, loss)
    for name, fn, value in equations:
        report[name] = {"target": value, "achieved": fn(out.follow_up, out.loss_rate)}
    report.update(follow_up=out.follow_up, loss_rate=out.loss_rate)
    return out, report


def _solve_loss(fn, value: float, report: dict, name: str = "median_followup") -> float:
    """Loss rate with ``fn(loss) = value`` (``fn`` decreasing); 0 when no loss reaches it,
    the largest searched (the closest) when even that leaves ``fn`` above ``value`` (an
    event count of 0: every loss rate leaves some early events)."""
    from scipy import optimize
    if fn(0.0) <= value:
        report.setdefault("notes", []).append(
            f"administrative censoring alone gives {name} {fn(0.0):.4g}, at most the reported {value:g}")
        return 0.0
    if fn(_LOSS_MAX) > value:
        report.setdefault("notes", []).append(
            f"no loss_rate in [0, {_LOSS_MAX:g}] per month brings {name} down to {value:g} (some events "
            f"come before any loss); kept {_LOSS_MAX:g}, the closest ({name} {fn(_LOSS_MAX):.4g})")
        return _LOSS_MAX
    return float(optimize.brentq(lambda l: fn(l) - value, 0.0, _LOSS_MAX, xtol=1e-12))


def _solve_follow_up(fn, value: float, report: dict, name: str = "median_followup") -> float:
    """Shortest follow-up after accrual with ``fn(follow_up) = value``.

    ``fn`` need not be monotone (with the loss rate re-solved to an event count at each
    follow-up, a longer follow-up also means more loss), so a geometric grid is scanned
    for the first sign change, then refined.
    """
    from scipy import optimize
    grid = np.geomspace(1e-3, _FOLLOW_UP_MAX, 61)
    diff = np.array([fn(f) - value for f in grid])
    change = np.flatnonzero(np.sign(diff[:-1]) != np.sign(diff[1:]))
    if diff[0] == 0:
        return float(grid[0])
    if not len(change):
        best = float(grid[np.argmin(np.abs(diff))])
        report.setdefault("notes", []).append(
            f"no follow_up in [{grid[0]:g}, {grid[-1]:g}] months reaches {name} {value:g}; kept {best:.4g}, "
            f"the closest ({name} {fn(best):.4g})")
        return best
    i = change[0]
    return float(optimize.brentq(lambda f: fn(f) - value, grid[i], grid[i + 1], xtol=1e-10))
