"""Censoring part of the cohort specification: accrual, follow-up, loss to follow-up, and
the reported numbers (events, median follow-up) they may be calibrated to.

Same conventions as :mod:`simulate.spec`: frozen dataclasses validating themselves and
raising :class:`~simulate.spec.SpecError` naming the field and the value. Times are in
months.
"""
from __future__ import annotations

from dataclasses import dataclass

from .spec_base import SpecError, _count, _finite, _set, _source, _sub

__all__ = ["EventTarget", "FollowupTarget", "Censoring", "FOLLOWUP_DEFINITIONS"]


@dataclass(frozen=True)
class EventTarget:
    """Reported number of events of ``endpoint`` in the whole cohort (or one ``arm``)."""

    value: int
    endpoint: str = "os"
    arm: str | None = None
    target: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        self._check(_count("value", self.value))

    def _check(self, value) -> None:
        _source(self.source)
        _set(self, "value", value)
        if self.endpoint not in ("os", "pfs"):
            raise SpecError("endpoint", f"must be 'os' or 'pfs', got {self.endpoint!r}")


#: How a paper's median follow-up is defined: the reverse Kaplan-Meier median (Schemper &
#: Smith 1996), the median of every patient's observed time, or that of the patients
#: censored (alive at last contact).
FOLLOWUP_DEFINITIONS = ("reverse_km", "observed", "censored")


@dataclass(frozen=True)
class FollowupTarget(EventTarget):
    """Reported median follow-up (months) of the whole cohort (or one ``arm``), measured
    on ``endpoint``'s times by ``definition`` (one of :data:`FOLLOWUP_DEFINITIONS`)."""

    value: float
    definition: str = "reverse_km"

    def __post_init__(self) -> None:
        self._check(_finite("value", self.value, positive=True))
        if self.definition not in FOLLOWUP_DEFINITIONS:
            raise SpecError("definition", f"must be one of {list(FOLLOWUP_DEFINITIONS)}, got {self.definition!r}")


@dataclass(frozen=True)
class Censoring:
    """Uniform accrual over ``accrual`` months, then ``follow_up`` months; optional cap
    ``administrative_max``; exponential loss to follow-up at ``loss_rate`` per month.
    ``loss_rate`` and ``follow_up`` may be ``"calibrate"``: solved so that the cohort has
    the reported ``events`` and/or ``median_followup`` (one target per unknown)."""

    accrual: float = 0.0
    follow_up: float | str = 36.0
    administrative_max: float | None = None
    loss_rate: float | str = 0.0
    events: EventTarget | None = None
    median_followup: FollowupTarget | None = None
    source: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        _set(self, "accrual", _finite("accrual", self.accrual, nonneg=True))
        if self.administrative_max is not None:
            _set(self, "administrative_max", _finite("administrative_max", self.administrative_max, positive=True))
        _sub(self, "events", EventTarget)
        _sub(self, "median_followup", FollowupTarget)
        for key, check in (("follow_up", dict(positive=True)), ("loss_rate", dict(nonneg=True))):
            value = getattr(self, key)
            if not isinstance(value, str):
                _set(self, key, _finite(key, value, **check))
            elif value != "calibrate":
                raise SpecError(key, f"must be a number or 'calibrate', got {value!r}")
        unknowns = self.unknowns
        given = [k for k in ("events", "median_followup") if getattr(self, k) is not None]
        if unknowns and not given:
            raise SpecError(unknowns[0], "is 'calibrate' but no events or median_followup target is given")
        if len(unknowns) == 2 and len(given) < 2:
            raise SpecError("follow_up", "follow_up and loss_rate are both 'calibrate': give both an events "
                            f"and a median_followup target, got only {given[0]}")
        if len(unknowns) == 1 and len(given) == 2:
            raise SpecError(unknowns[0], "one unknown for two targets (events and median_followup): "
                            "calibrate both follow_up and loss_rate, or drop one target")

    @property
    def unknowns(self) -> tuple[str, ...]:
        """The censoring parameters written ``"calibrate"``."""
        return tuple(k for k in ("follow_up", "loss_rate") if getattr(self, k) == "calibrate")

    @property
    def outcome_free(self) -> bool:
        """Unknowns solvable before the outcomes: calibrated to a reverse-KM median
        follow-up only, which is the censoring distribution's median whatever the deaths."""
        mf = self.median_followup
        return bool(self.unknowns) and self.events is None and mf is not None and mf.definition == "reverse_km"
