"""The drawn time-varying therapy of a cohort's rows: one record that every function of
the OS law reads (the generator's inversion, the calibration's curves, the truths).

A leaf module: :mod:`simulate.survival` and :mod:`simulate.outcomes` both use it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .records import ArrayRecord

__all__ = ["TherapyDraw"]


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
        (:func:`simulate.outcomes.therapy`).
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
