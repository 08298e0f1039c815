"""Landmark analysis: keep those still event-free and under follow-up at the landmark."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tacebench.records import ArrayRecord

from .. import _checks


@dataclass(frozen=True, eq=False)
class LandmarkData(ArrayRecord):
    """Landmark-restricted data; unpacks as ``time, event, mask, *others``.

    ``time`` is shifted to start at the landmark (``time - at``); ``mask`` selects the
    retained rows of the input; ``others`` are the extra arrays subset by ``mask``.
    """

    time: np.ndarray
    event: np.ndarray
    mask: np.ndarray
    others: tuple
    at: float

    def __iter__(self):
        return iter((self.time, self.event, self.mask, *self.others))

    @property
    def n_dropped(self) -> int:
        return int((~self.mask).sum())


def landmark(time, event, at: float, *others) -> LandmarkData:
    """Restrict survival data to a landmark population and reset the clock at ``at``.

    Patients with the event or censored at or before ``at`` are dropped; the rest
    (``time > at``: alive and under follow-up just after the landmark) are kept with time
    ``time - at`` (Anderson, Cain & Gelber 1983). Convention at ``time == at``: dropped,
    whether event or censoring, because such a row has no follow-up after the landmark (an
    event exactly at ``at`` counts as before it), as ``subset(data, time > at)`` in R.
    For a Cox model the shifted data give the same fit as ``cox_ph(..., entry=at)`` on the
    retained rows, since only the order of times matters.

    ``others`` (covariates, treatment, weights...) must have the same length and are
    returned subset by the mask, in order.
    """
    t = _checks.check_time(time, "time")
    e = _checks.check_binary(event, "event")
    at = _checks.check_real(at, "at")
    if not (math.isfinite(at) and at >= 0):
        raise ValueError(f"at must be a finite non-negative time; got {at!r}")
    arrays = {"time": t, "event": e}
    rest = tuple(np.asarray(o) for o in others)
    for i, o in enumerate(rest):
        if o.ndim == 0:
            raise _checks.InputTypeError(f"others[{i}] must be an array with one entry per "
                                         f"row; got {others[i]!r}")
        arrays[f"others[{i}]"] = o
    _checks.check_lengths(arrays)
    mask = t > at
    rest = tuple(o[mask] for o in rest)
    return LandmarkData(t[mask] - at, e[mask], mask, rest, at)
