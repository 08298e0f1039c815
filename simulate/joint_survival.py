"""PFS jointly with death on the calibration sample: ``P(T_P > t, T_D > t | x, W_D)``.

The progression time's normal score is correlated (``r_pd``) with the death time's
``W_D``; a patient's PFS survival at ``t`` is 0 once dead and else the conditional
probability of no progression given ``W_D``. The calibration of PFS, its checks and its
crude-HR target all read the arms' curves from these functions, so the fit and the check
see the same curve.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord
from .survival import baseline_cumhaz, cumulative_at_knots, curve_median_of


def alive_joint_survival(h: np.ndarray, rw_d: np.ndarray, alive: np.ndarray, n: int,
                         scale: float) -> np.ndarray:
    """Each patient's ``1[T_D > t] * P(T_P > t | x, W_D)`` of the PFS model,
    ``ndtr((r_pd * W_D - a_p) / scale)`` with ``a_p = -ndtri(exp(-H_P(t | x)))`` (clipped)
    for a patient alive at ``t``, 0 for one dead.

    Parameters
    ----------
    h, rw_d : (k,) float arrays
        ``H_P(t | x)`` and ``r_pd * W_D`` of the ``k`` patients alive at ``t``.
    alive : (k,) int array
        Their positions among the ``n`` patients.
    n : int
    scale : float
        ``sqrt(1 - r_pd**2)``.

    Returns
    -------
    (n,) float array
        The array computed on every row, element for element: a dead patient's value is
        exactly 0 (``ndtr`` is finite), so the special functions run on the alive rows
        only.
    """
    out = np.zeros(n)
    a_p = -special.ndtri(np.clip(np.exp(-h), 1e-300, 1.0))
    out[alive] = special.ndtr((rw_d - a_p) / scale)
    return out


def joint_median(knots, rates, risk: np.ndarray, t_d: np.ndarray, w_d: np.ndarray, r_pd: float) -> float:
    """Median of one arm's PFS curve ``mean_i P(T_P > t, T_D > t | x_i, W_D)`` (the
    calibration sample's patients: risks ``exp(eta)``, death times ``t_d``, death-time
    normal scores ``w_d``), by bisection; ``inf`` if not reached by 600 months."""
    cum, scale = cumulative_at_knots(knots, rates), np.sqrt(1 - r_pd ** 2)

    def surv(t):
        alive = np.flatnonzero(t_d > t)
        return float(np.mean(alive_joint_survival(baseline_cumhaz(t, knots, rates, cum) * risk[alive],
                                                  r_pd * w_d[alive], alive, len(t_d), scale)))
    return curve_median_of(surv)


@dataclass(frozen=True, eq=False)
class DeathOrder(ArrayRecord):
    """One arm's calibration-sample patients in order of death time (``order``: their
    positions in the arm; ``t_up``: the sorted death times; ``rw_up``: ``r_pd * W_D`` in
    that order): the patients alive at ``t`` (``T_D > t``) are then a tail of the order,
    sliced rather than gathered. Built once per arm, reused by every PFS curve of a fit."""

    order: np.ndarray
    t_up: np.ndarray
    rw_up: np.ndarray
    r_pd: float

    @classmethod
    def build(cls, t_d: np.ndarray, w_d: np.ndarray, r_pd: float) -> "DeathOrder":
        order = np.argsort(t_d, kind="stable")
        return cls(order, t_d[order], (r_pd * w_d)[order], float(r_pd))


class CurveMemo:
    """One arm's :func:`joint_curve` values already computed in a fit, by grid time and
    ``H0(t)``, for one vector of risks.

    A point of the curve depends on its time, ``H0(t)`` and the arm's risks only. The
    finite-difference Jacobian of a calibration moves one parameter at a time: a log-hazard
    changes ``H0`` only after its knot, the treatment log-HR only the treated arm's risks,
    so most points of most curves were computed before. Those are taken from here, the
    value computed then, so a curve is the same number for number with or without a memo.
    Passed by its caller (one per arm and fit), never shared: a new vector of risks, grid
    or :class:`DeathOrder` empties it. Each time keeps the ``capacity`` values last
    computed (the base point and a Jacobian's perturbations).
    """

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._deaths: DeathOrder | None = None   # held, so never another object's id
        self._grid: np.ndarray | None = None
        self._risk: np.ndarray | None = None
        self._seen: list[dict[float, float]] = []

    def bind(self, grid: np.ndarray, risk: np.ndarray, deaths: DeathOrder) -> None:
        """Serve this grid, risk vector and death order (emptied if any differs from the
        last call's)."""
        if (deaths is not self._deaths or self._grid is None
                or not np.array_equal(grid, self._grid) or not np.array_equal(risk, self._risk)):
            self._deaths, self._grid, self._risk = deaths, grid.copy(), risk.copy()
            self._seen = [{} for _ in range(len(grid))]

    def get(self, j: int, h0: float) -> float | None:
        """The value computed at grid time ``j`` with ``H0 = h0``, if kept."""
        return self._seen[j].get(h0)

    def keep(self, j: int, h0: float, value: float) -> None:
        """Keep ``value`` for grid time ``j`` and ``h0``, dropping the oldest at capacity."""
        seen = self._seen[j]
        if len(seen) >= self.capacity:
            del seen[next(iter(seen))]
        seen[h0] = value


def joint_curve(grid: np.ndarray, knots, rates, risk: np.ndarray, deaths: DeathOrder,
                memo: CurveMemo | None = None) -> np.ndarray:
    """One arm's PFS curve ``mean_i P(T_P > t, T_D > t | x_i, W_D)`` on ``grid`` (risks
    ``exp(eta)`` of the arm's patients in their own order, ``deaths`` their
    :class:`DeathOrder`), as its calibration sees it; ``memo``: the points computed
    before in the same fit (:class:`CurveMemo`)."""
    cum, scale = cumulative_at_knots(knots, rates), np.sqrt(1 - deaths.r_pd ** 2)
    risk_up, n = risk[deaths.order], len(deaths.order)
    # (element for element the scalar H0(t) of each time: the same adds and multiplies)
    h0 = baseline_cumhaz(grid, knots, rates, cum)
    if memo is not None:
        memo.bind(grid, risk, deaths)
    s = np.empty(len(grid))
    for j, t in enumerate(grid):
        key = float(h0[j])
        if memo is not None and (hit := memo.get(j, key)) is not None:
            s[j] = hit
            continue
        k = np.searchsorted(deaths.t_up, t, side="right")
        s[j] = np.mean(alive_joint_survival(h0[j] * risk_up[k:], deaths.rw_up[k:],
                                            deaths.order[k:], n, scale))
        if memo is not None:
            memo.keep(j, key, float(s[j]))
    return s


__all__ = ["CurveMemo", "DeathOrder", "alive_joint_survival", "joint_curve", "joint_median"]
