"""Time-varying therapy: its compiled plan, its draws, and the drawn record that every
function of the OS law reads (the generator's inversion, the calibration's curves, the
truths).

:mod:`simulate.survival` and :mod:`simulate.outcomes` both use it; it uses neither.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord
from .spec_base import RATIO_RANGE, SpecError, ratio_beyond
from .spec_outcomes import Dist

__all__ = ["TherapyDraw", "TherapyPlan", "check_exposure", "draw_dist", "draw_dist_above", "therapy"]


@dataclass(frozen=True, eq=False)
class TherapyDraw(ArrayRecord):
    """Planned therapy of each row, and how it acts on the OS law.

    Parameters
    ----------
    mask : numpy.ndarray
        Rows in the therapy's arm (over the rows: the last axis of ``start``).
    start, dur : numpy.ndarray
        Planned start and duration (months; ``inf`` and 0 outside the arm), with the
        draws' leading replicate axis where the cohort has one.
    b : float
        Log-HR per month on therapy (cumulative exposure; 0 = no effect).
    min_months : float
        The inclusion's months on therapy (0 = no such criterion): a row of the arm has
        its death drawn given survival to ``start + min_months`` (left truncation), as
        an enrolled patient's is. Its planned duration already exceeds it
        (:func:`therapy`).
    """

    mask: np.ndarray
    start: np.ndarray
    dur: np.ndarray
    b: float
    min_months: float = 0.0

    @property
    def changes_survival(self) -> bool:
        """Whether the therapy changes the arm's OS law: an effect per month, or the
        inclusion's guaranteed months. Without either, OS ignores it (and the fast
        paths without per-patient therapy segments hold)."""
        return self.b != 0.0 or self.min_months > 0.0

    @property
    def entry(self) -> np.ndarray | None:
        """Per row, the time up to which an enrolled patient is known alive
        (``start + min_months``); ``None`` without the inclusion."""
        return self.start + self.min_months if self.min_months > 0.0 else None

    def rows(self, keep: np.ndarray) -> "TherapyDraw":
        """The draw of the rows ``keep`` (a boolean mask or indices over the rows)."""
        return TherapyDraw(self.mask[keep], self.start[..., keep], self.dur[..., keep], self.b,
                           self.min_months)


def draw_dist(d: Dist, n: int, rng) -> np.ndarray:
    """``n`` draws of the time ``d`` (exponential or gamma, with its point mass at 0)."""
    if d.distribution == "exponential":
        x = rng.exponential(d.mean, n)
    else:
        k = (d.mean / d.sd) ** 2
        x = rng.gamma(k, d.mean / k, n)
    if d.p_zero > 0:
        x = np.where(rng.random(n) < d.p_zero, 0.0, x)
    return x


def draw_dist_above(d: Dist, low: float, n: int, rng) -> np.ndarray:
    """``n`` draws of the time ``d`` given that it exceeds ``low > 0`` (its point mass at
    0 is then excluded), by inversion: one uniform per draw, ``F^-1(F(low) + u (1 -
    F(low)))``, computed on the upper tail (``Q = 1 - F``) for precision."""
    u = rng.random(n)
    if d.distribution == "exponential":  # memoryless
        return low - d.mean * np.log1p(-u)
    k = (d.mean / d.sd) ** 2
    scale = d.mean / k
    return scale * special.gammainccinv(k, (1.0 - u) * special.gammaincc(k, low / scale))


@dataclass(frozen=True)
class TherapyPlan:
    """A cohort's compiled time-varying therapy (:class:`~simulate.spec_outcomes.TimeVarying`).

    ``arm``: the arm's index; ``start``/``duration``: the planned times' laws; ``b``: the
    log-HR per month on therapy; ``min_months``: the inclusion's months on therapy (0 =
    none).
    """

    arm: int
    start: Dist
    duration: Dist
    b: float
    min_months: float = 0.0

    @property
    def changes_survival(self) -> bool:
        """:attr:`simulate.therapy_draw.TherapyDraw.changes_survival` of its draws."""
        return self.b != 0.0 or self.min_months > 0.0


def therapy(tv: TherapyPlan | None, arm: np.ndarray, rng) -> TherapyDraw | None:
    """Planned start and duration of time-varying therapy (``inf``/0 outside its arm).

    ``tv`` is ``OutcomePlan.tv``; ``start`` and ``duration`` of the returned draw carry
    the draws' leading replicate axis if ``rng`` is a
    :class:`~simulate.streams.LockstepDraws`. With an inclusion on months of therapy the
    planned duration is drawn given that it exceeds them (:func:`draw_dist_above`); the
    death's condition is the draw's (:class:`~simulate.therapy_draw.TherapyDraw`).
    """
    if tv is None:
        return None
    mask = arm == tv.arm
    k = int(mask.sum())
    s = draw_dist(tv.start, k, rng)
    d = draw_dist_above(tv.duration, tv.min_months, k, rng) if tv.min_months > 0 else draw_dist(tv.duration, k, rng)
    start = np.full(s.shape[:-1] + arm.shape, np.inf)
    dur = np.zeros(start.shape)
    start[..., mask] = s
    dur[..., mask] = d
    return TherapyDraw(mask, start, dur, tv.b, tv.min_months)


def check_exposure(draw: TherapyDraw, hr_per_month: float, follow_end: float = np.inf) -> None:
    """Refuse an ``hr_per_month`` whose effect over the months a patient can be seen on
    therapy leaves :data:`~simulate.spec_base.RATIO_RANGE`.

    The hazard ratio of a patient ``m`` months into therapy is ``hr_per_month ** m``: an
    HR of 1000 per month (a per-day or per-week HR read as per month, or a typo) is 1e30
    after ten months, and the calibration then failed on numbers that are not finite. The
    ratio after the 99.5th percentile of the planned durations drawn for the calibration
    sample, or after the study's longest follow-up if that is shorter (no patient is seen
    longer on therapy), must lie in the range every ratio of the model is held to.

    Parameters
    ----------
    draw : TherapyDraw
        The calibration sample's therapy (its ``dur`` over the arm's rows).
    hr_per_month : float
        As the cohort file gives it (``time_varying.hr_per_month``).
    follow_end : float
        The study's longest follow-up, months (``inf``: not bounded by it).

    Raises
    ------
    SpecError
        Naming ``time_varying.hr_per_month``.
    """
    if draw.b == 0.0 or not draw.mask.any():
        return
    planned = float(np.percentile(draw.dur[..., draw.mask], 99.5))
    months = min(planned, follow_end)
    ratio = ratio_beyond(draw.b * months)
    if ratio is not None:
        when = ("the 99.5th percentile of the planned durations" if planned <= follow_end
                else "the study's longest follow-up")
        raise SpecError("time_varying.hr_per_month", (
            f"{hr_per_month:g} per month on therapy is a hazard ratio of {ratio} after "
            f"{months:.3g} months ({when}), "
            f"outside [{RATIO_RANGE[0]:g}, {RATIO_RANGE[1]:g}]: is it the HR per month (not per "
            "week or day)?"))
