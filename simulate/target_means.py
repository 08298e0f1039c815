"""The evaluations of an outcome calibration (:mod:`simulate.calibrate`): each target's
mean conditional survival over its arm's patients of the fixed sample, with what the
evaluations of one fit keep from one to the next (the arm rows gathered, the last risk
array)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tacebench.records import ArrayRecord

from .joint_survival import alive_joint_survival

__all__ = ["ArmRows", "RiskMemo", "target_means"]


@dataclass(eq=False)
class ArmRows(ArrayRecord):
    """The arm rows that the evaluations of one fit gather from the fixed sample, kept
    across them (a third of an evaluation's time is these gathers): each arm's rows of the
    risk array while the same array is passed, and the PFS parts of each (arm, time
    column). One per fit; a fresh one gathers everything again, to the same arrays."""

    risk: np.ndarray | None = None
    arm_risk: dict = field(default_factory=dict)  # arm -> risk[rows of the arm]
    joint: dict = field(default_factory=dict)     # (arm, column) -> PFS parts

    def risk_rows(self, risk: np.ndarray, a, rows: np.ndarray) -> np.ndarray:
        """``risk[rows]`` of arm ``a``, gathered once per risk array."""
        if self.risk is not risk:
            self.risk, self.arm_risk = risk, {}
        if a not in self.arm_risk:
            self.arm_risk[a] = risk[rows]
        return self.arm_risk[a]

    def alive_rows(self, joint, a, j: int, rows: np.ndarray) -> tuple:
        """``(alive, rows[alive], r_pd * w_d[rows][alive], sqrt(1 - r_pd**2))`` of ``joint =
        (alive, w_d, r_pd)`` at column ``j``, ``alive`` the positions among the arm's rows
        of those alive then; gathered once per (arm, column)."""
        if (a, j) not in self.joint:
            alive_at, w_d, r_pd = joint
            alive = np.flatnonzero(alive_at[rows, j])
            self.joint[a, j] = alive, rows[alive], r_pd * w_d[rows][alive], np.sqrt(1 - r_pd ** 2)
        return self.joint[a, j]


def target_means(h0: np.ndarray, risk: np.ndarray, arms, cols_t, rows_of: dict, joint=None,
                  known: dict | None = None, gathered: ArmRows | None = None) -> np.ndarray:
    """Each target's mean conditional survival over its arm's patients at its time.

    ``h0``: every patient's baseline cumulative hazard at the target times (columns), or
    one value per time shared by all patients (a vector); ``arms``/``cols_t``: each
    target's arm and column; ``rows_of``: arm -> its rows; ``joint``: ``(alive, w_d,
    r_pd)`` for PFS (survival jointly with death). Only the (arm, time) pairs of the
    targets are evaluated, each once: element for element the numbers of the whole
    patients-by-times matrix, without its unused cells. ``known``: target index -> its
    value where already known (not evaluated again). ``gathered``: the caller's
    :class:`ArmRows` of this fit (a fresh one when omitted).
    """
    out, memo = np.empty(len(arms)), {}
    gathered = ArmRows() if gathered is None else gathered
    shared = h0.ndim == 1
    for i, (a, j) in enumerate(zip(arms, cols_t)):
        if known is not None and i in known:
            out[i] = known[i]
            continue
        if (a, j) not in memo:
            rows = rows_of[a]
            # a shared H0(t) times each risk: the same products as the matrix's column
            risk_a = gathered.risk_rows(risk, a, rows)
            if joint is None:
                s_cond = np.exp(-((h0[j] if shared else h0[rows, j]) * risk_a))
            else:   # PFS: the alive patients' values (the dead ones' are 0)
                alive, alive_rows, rw_d, scale = gathered.alive_rows(joint, a, j, rows)
                h = (h0[j] if shared else h0[alive_rows, j]) * risk_a[alive]
                s_cond = alive_joint_survival(h, rw_d, alive, len(rows), scale)
            memo[a, j] = s_cond.mean()
        out[i] = memo[a, j]
    return out


class RiskMemo:
    """``bt -> exp(base_lp + bt * treated)`` (``exp(base_lp)`` for ``bt=None``: arm-specific
    hazards), the array of the last ``bt`` kept: a finite-difference step in a log-hazard
    leaves the treatment log-HR, and so every patient's risk, as it was (the same array,
    not recomputed, which also keeps :class:`ArmRows`' gathers valid)."""

    def __init__(self, base_lp: np.ndarray, treated: np.ndarray):
        self.base_lp, self.treated = base_lp, treated
        self._bt: float | None = None
        self._risk: np.ndarray | None = None

    def __call__(self, bt) -> np.ndarray:
        if self._risk is None or self._bt != bt:
            self._bt = bt
            self._risk = np.exp(self.base_lp if bt is None else self.base_lp + bt * self.treated)
        return self._risk
