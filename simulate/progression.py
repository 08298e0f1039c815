"""Time to progression: the Kaplan-Meier limit of TTP, for calibrating the progression time.

TTP shares the progression time ``T_P`` of PFS (:mod:`simulate.outcomes`): ``PFS =
min(T_P, T_D)`` and TTP is ``T_P`` with death as censoring. A paper's TTP median or rate
is a Kaplan-Meier estimate that censors deaths, so what it estimates on a large cohort
is not ``P(T_P > t)`` (death is not independent of progression here: the latents are
correlated) but ``exp(-Lambda_P(t))``, the cause-specific cumulative hazard of
progression among patients alive and progression-free (Kalbfleisch & Prentice 2002,
ch. 8). With ``G(t) = P(T_P > t, T_D > t)`` (the PFS curve) and ``D(t)`` the share who
die progression-free by ``t``,

``-log G(t) = Lambda_P(t) + int_0^t dD(u) / G(u-)``,

so ``S_TTP(t) = G(t) exp(int_0^t dD(u) / G(u-))``. On the calibration sample the death
times ``t_d`` are drawn once, and each patient's conditional progression-free
probability ``S_i(u) = P(T_P > u | x_i, W_D = w_i)`` is exact; ``G`` is their mean over
patients alive at ``u``, evaluated on a grid and interpolated (log-linearly) at the
death times, and
``D`` puts mass ``S_i(t_d_i) / n`` at each ``t_d_i``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord
from .survival import baseline_cumhaz, cumulative_at_knots

#: Grid intervals per target time for ``G`` (log-linearly interpolated at the death
#: times; 16 and 256 intervals differ by 3e-4 in survival on seed 001).
GRID = 16


def conditional_progression_free(h: np.ndarray, w_d: np.ndarray, r_pd: float) -> np.ndarray:
    """``P(T_P > u | x, W_D)`` from the progression cumulative hazard ``h = H(u | x)``.

    ``T_P > u`` iff ``W_P > a(u) = -Phi^-1(exp(-h))`` with ``W_P = r W_D + sqrt(1 - r^2) e``.
    ``w_d`` broadcasts against ``h``.
    """
    a = -special.ndtri(np.clip(np.exp(-h), 1e-300, 1.0))
    return special.ndtr((r_pd * w_d - a) / np.sqrt(1 - r_pd ** 2))


def ttp_km_limit(t: float, knots: np.ndarray, rates: np.ndarray, risk: np.ndarray, t_d: np.ndarray,
                 w_d: np.ndarray, r_pd: float) -> float:
    """Large-sample Kaplan-Meier TTP survival at ``t`` (deaths censored) of one group.

    Parameters
    ----------
    t : float
        Time (months).
    knots, rates : numpy.ndarray
        The progression time's piecewise-constant baseline hazard.
    risk : numpy.ndarray
        ``exp(eta)`` of each patient of the group.
    t_d, w_d : numpy.ndarray
        Each patient's drawn death time and its normal score.
    r_pd : float
        Latent correlation of the progression and death times.

    Returns
    -------
    float
        ``G(t) exp(int_0^t dD / G)`` (module docstring).

    References
    ----------
    Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, 2nd ed.
    Wiley; 2002, chapter 8 (competing risks, cause-specific hazards).
    """
    cum = cumulative_at_knots(knots, rates)
    grid = np.linspace(0.0, t, GRID + 1)
    h = baseline_cumhaz(grid, knots, rates, cum)[None, :] * risk[:, None]
    g = np.mean((t_d[:, None] > grid) * conditional_progression_free(h, w_d[:, None], r_pd), axis=0)
    died = t_d <= t
    s_at_death = conditional_progression_free(baseline_cumhaz(t_d[died], knots, rates, cum) * risk[died],
                                              w_d[died], r_pd)
    log_g = np.log(np.maximum(g, 1e-300))
    g_at_death = np.exp(np.interp(t_d[died], grid, log_g))
    return float(g[-1] * np.exp(np.sum(s_at_death / g_at_death) / len(t_d)))


def ttp_km_curve(grid: np.ndarray, g: np.ndarray, knots: np.ndarray, rates: np.ndarray, risk: np.ndarray,
                 t_d: np.ndarray, w_d: np.ndarray, r_pd: float) -> np.ndarray:
    """Large-sample Kaplan-Meier TTP survival of one group on a whole grid.

    :func:`ttp_km_limit` at every point of ``grid`` at once, from the group's PFS curve
    ``g = G`` on that grid (the module docstring's formula, ``G`` interpolated
    log-linearly at the death times).

    Parameters
    ----------
    grid : numpy.ndarray
        Increasing times (months), from 0.
    g : numpy.ndarray
        ``G(t) = P(T_P > t, T_D > t)`` of the group on ``grid``.
    knots, rates, risk, t_d, w_d, r_pd
        As for :func:`ttp_km_limit`.

    Returns
    -------
    numpy.ndarray
        ``G(t) exp(int_0^t dD / G)`` on ``grid``.
    """
    died = t_d <= grid[-1]
    order = np.argsort(t_d[died], kind="stable")
    at = t_d[died][order]
    cum = cumulative_at_knots(knots, rates)
    s_at_death = conditional_progression_free(baseline_cumhaz(at, knots, rates, cum) * risk[died][order],
                                              w_d[died][order], r_pd)
    g_at_death = np.exp(np.interp(at, grid, np.log(np.maximum(g, 1e-300))))
    mass = np.concatenate([[0.0], np.cumsum(s_at_death / g_at_death) / len(t_d)])
    return g * np.exp(mass[np.searchsorted(at, grid, side="right")])


@dataclass(frozen=True, eq=False)
class TTPTargets(ArrayRecord):
    """The TTP calibration targets, evaluated for the progression fit.

    ``masks`` select each target's arm in the calibration sample; ``goal`` is the
    targets' complementary log-log survival (the scale of the PFS residuals).
    """

    targets: tuple
    masks: tuple
    times: np.ndarray
    goal: np.ndarray
    t_d: np.ndarray
    w_d: np.ndarray
    r_pd: float

    @classmethod
    def build(cls, targets, sample: dict, arm_labels: tuple[str, ...], r_pd: float) -> "TTPTargets":
        masks = tuple(sample["arm"] == arm_labels.index(t.arm) for t in targets)
        times = np.array([t.value if t.kind == "median" else t.time for t in targets], float)
        goal = np.array([np.log(-np.log(0.5 if t.kind == "median" else t.value)) for t in targets])
        return cls(tuple(targets), masks, times, goal, sample["t_d"], sample["w_d"], float(r_pd))

    def survival(self, knots: np.ndarray, rates: np.ndarray, risk: np.ndarray, known: dict | None = None
                 ) -> np.ndarray:
        """Each target's large-sample KM TTP survival at its time (0.5 is a median's goal);
        ``known``: target index -> its value where already known (not evaluated again)."""
        known = known or {}
        return np.array([known[i] if i in known else
                         ttp_km_limit(t, knots, rates, risk[m], self.t_d[m], self.w_d[m], self.r_pd)
                         for i, (t, m) in enumerate(zip(self.times, self.masks))])

    def pieces(self, knots: np.ndarray) -> list[int]:
        """Each target's knot piece: its survival depends on the hazards up to that piece only."""
        return [int(q) for q in np.clip(np.searchsorted(knots, self.times, side="right") - 1, 0, len(knots) - 1)]

    def report(self, knots: np.ndarray, rates: np.ndarray, risk: np.ndarray) -> dict:
        got = self.survival(knots, rates, risk)
        return {"targets": [{"arm": t.arm, "kind": t.kind, "time": t.time, "value": t.value,
                             "target": t.target, "fitted_survival": float(s)}
                            for t, s in zip(self.targets, got)]}


__all__ = ["GRID", "TTPTargets", "conditional_progression_free", "ttp_km_curve", "ttp_km_limit"]
