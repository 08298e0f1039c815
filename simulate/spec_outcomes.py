"""Outcome part of the cohort specification: survival, censoring, response, therapy.

Same conventions as :mod:`simulate.spec`: frozen dataclasses validating themselves and
raising :class:`~simulate.spec.SpecError` naming the field and the value. Times are in
months.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .spec_associations import Association
from .spec import FrozenDict, SpecError, Summary, _count, _finite, _prob, _set, summary_from
from .spec_base import _kw, _ratio, _source, _sub, _tuple, tables_of
# censoring lives in its own module; re-exported here, where the outcome spec is read
from .spec_censoring import FOLLOWUP_DEFINITIONS, Censoring, EventTarget, FollowupTarget

TARGET_KINDS = ("median", "rate", "hr")
#: ``Endpoint.hazards``: one treatment HR for all times, or each arm its own piecewise hazard
HAZARDS = ("proportional", "arm_specific")
MISSING_RESPONSE = ("MCAR", "early_death")

__all__ = ["Effect", "CalibrationTarget", "Endpoint", "Assessment", "ResponseEffect", "Response",
           "Dist", "TherapyInclusion", "TimeVarying", "Censoring", "EventTarget", "FollowupTarget",
           "FOLLOWUP_DEFINITIONS", "tables_of", "TARGET_KINDS", "HAZARDS", "MISSING_RESPONSE"]


@dataclass(frozen=True)
class Effect:
    """A covariate's conditional log-HR: ``hr`` per ``per`` units (continuous/count),
    for 1 vs 0 (binary), per level vs the first (``hr`` a list, categorical), or for
    ``x >= above`` (a threshold effect, e.g. tumour size >= 5 cm).

    ``arm``: the label of the one arm whose patients the effect acts on (a
    treatment-by-covariate interaction, e.g. an HR a paper fits within one arm); ``None``
    (the default) acts in every arm.
    """

    variable: str
    hr: float | tuple[float, ...]
    per: float = 1.0
    above: float | None = None
    source: str = ""
    arm: str | None = None

    def __post_init__(self) -> None:
        if self.arm is not None and (not isinstance(self.arm, str) or not self.arm):
            raise SpecError("arm", f"must be an arm label, got {self.arm!r}")
        if isinstance(self.hr, (list, tuple)):
            hrs = tuple(_ratio(f"hr[{i}]", h) for i, h in enumerate(self.hr))
            if not hrs:
                raise SpecError("hr", "must not be empty")
            _set(self, "hr", hrs)
        else:
            _set(self, "hr", _ratio("hr", self.hr))
        _set(self, "per", _finite("per", self.per, positive=True))
        if self.above is not None:
            _set(self, "above", _finite("above", self.above))


@dataclass(frozen=True)
class CalibrationTarget:
    """A per-arm marginal survival target: ``median`` (months) or ``rate`` at ``time``;
    or ``hr`` (OS or PFS): the crude (unadjusted) Cox HR of ``arm`` vs the other arm in
    the whole cohort, under the study's censoring."""

    arm: str
    kind: str
    value: float
    time: float | None = None
    target: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        if self.kind not in TARGET_KINDS:
            raise SpecError("kind", f"must be one of {TARGET_KINDS}, got {self.kind!r}")
        if self.kind == "median" and isinstance(self.value, str) and self.value.strip().lower() in (
                "nr", "not reached", "ne", "not estimable"):
            # an inequality (the median lies beyond the follow-up), not a point to fit
            raise SpecError("value", f"a median not reached ({self.value!r}) cannot be calibrated to: "
                            "calibrate to the arm's printed landmark rates and let the median be "
                            "predicted (targets.toml value = \"NR\")")
        if self.kind in ("median", "hr"):
            _set(self, "value", _ratio("value", self.value) if self.kind == "hr"
                 else _finite("value", self.value, positive=True))
            if self.time is not None:
                raise SpecError("time", f"a{'n' if self.kind == 'hr' else ''} {self.kind} target takes no time, "
                                f"got {self.time!r}")
        else:
            v = _prob("value", self.value)
            if not 0 < v < 1:
                raise SpecError("value", f"a survival rate must lie strictly in (0, 1), got {v}")
            _set(self, "value", v)
            if self.time is None:
                raise SpecError("time", "a rate target needs time (months)")
            _set(self, "time", _finite("time", self.time, positive=True))


@dataclass(frozen=True)
class Endpoint:
    """Proportional hazards with a piecewise-exponential baseline (``knots`` in months).

    ``treatment_hr`` is the conditional HR of the treated arm (a number = known truth,
    or ``"calibrate"`` to solve it from the targets). ``baseline_hazard`` optionally fixes
    the monthly hazard per interval (then nothing is calibrated). For PFS,
    ``os_correlation`` is the latent (normal-score) correlation between the
    progression and death times given covariates. ``hazards = "arm_specific"`` gives
    each arm its own piecewise hazard (a treatment HR per knot interval, calibrated
    with ``treatment_hr = "calibrate"``) for arms one HR cannot fit. ``associations``:
    the paper's Cox table (:class:`~simulate.spec_associations.Association`), from which
    the conditional effects of its terms are solved (OS only); ``multivariable_treatment``:
    whether the paper's multivariable model holds the treatment. ``shape``: the Weibull
    shape the calibrated baseline hazard follows where the targets leave it free (the
    smoothness penalty pulls neighbouring log-hazards toward ``(shape - 1) log t`` at the
    pieces' midpoints); 1 is a hazard flat between targets, below 1 a falling hazard.
    """

    knots: tuple[float, ...] = (0.0, 3.0, 6.0, 12.0, 24.0)
    treatment_hr: float | str = "calibrate"
    effects: tuple[Effect, ...] = ()
    calibrate: tuple[CalibrationTarget, ...] = ()
    baseline_hazard: tuple[float, ...] | None = None
    smoothness: float = 1.0
    shape: float = 1.0
    os_correlation: float = 0.5
    hazards: str = "proportional"
    associations: tuple = ()
    multivariable_treatment: bool = False

    def __post_init__(self) -> None:
        knots = tuple(_finite(f"knots[{i}]", k, nonneg=True) for i, k in enumerate(_tuple("knots", self.knots)))
        if not knots or knots[0] != 0.0:
            raise SpecError("knots", f"must start at 0, got {list(knots)}")
        if any(b <= a for a, b in zip(knots, knots[1:])):
            raise SpecError("knots", f"must be strictly increasing, got {list(knots)}")
        _set(self, "knots", knots)
        if isinstance(self.treatment_hr, str):
            if self.treatment_hr != "calibrate":
                raise SpecError("treatment_hr", f"must be a number or 'calibrate', got {self.treatment_hr!r}")
        else:
            _set(self, "treatment_hr", _ratio("treatment_hr", self.treatment_hr))
        _set(self, "effects", tables_of("effects", self.effects, Effect))
        _set(self, "calibrate", tables_of("calibrate", self.calibrate, CalibrationTarget))
        _set(self, "associations", tables_of("associations", self.associations, Association))
        if not isinstance(self.multivariable_treatment, bool):
            raise SpecError("multivariable_treatment", f"must be true or false, got {self.multivariable_treatment!r}")
        if self.baseline_hazard is not None:
            bh = tuple(_finite(f"baseline_hazard[{i}]", h, positive=True)
                       for i, h in enumerate(_tuple("baseline_hazard", self.baseline_hazard)))
            if len(bh) != len(knots):
                raise SpecError("baseline_hazard", f"needs one hazard per knot interval ({len(knots)}), got {len(bh)}")
            _set(self, "baseline_hazard", bh)
            if self.treatment_hr == "calibrate" and not self.calibrate:
                raise SpecError("treatment_hr", "is 'calibrate' but no calibration targets are given")
        elif not self.calibrate:
            raise SpecError("calibrate", "give calibration targets or a fixed baseline_hazard")
        _set(self, "smoothness", _finite("smoothness", self.smoothness, nonneg=True))
        _set(self, "shape", _finite("shape", self.shape, positive=True))
        if self.shape != 1.0 and self.baseline_hazard is not None:
            raise SpecError("shape", "shapes a calibrated baseline hazard; a fixed baseline_hazard has its own")
        r = _finite("os_correlation", self.os_correlation)
        if not -1 < r < 1:
            raise SpecError("os_correlation", f"must lie in (-1, 1), got {r}")
        _set(self, "os_correlation", r)
        if self.hazards not in HAZARDS:
            raise SpecError("hazards", f"must be one of {HAZARDS}, got {self.hazards!r}")
        if self.hazards == "arm_specific" and (self.treatment_hr != "calibrate" or self.baseline_hazard is not None):
            raise SpecError("hazards", "'arm_specific' calibrates each arm's hazards: it needs treatment_hr = "
                            f"'calibrate' and no baseline_hazard, got treatment_hr = {self.treatment_hr!r}"
                            + ("" if self.baseline_hazard is None else " and a baseline_hazard"))


@dataclass(frozen=True)
class Assessment:
    """Tumour response per arm among assessed patients, at one assessment.

    The fields every response column shares (:class:`Response`, the overall best
    response; :class:`~simulate.spec_endpoints.ResponseColumn`, a later assessment or an
    organ-specific response). Counts summing to less than the arm's n leave the
    remainder not assessed; or give ``missing`` (a count over the cohort) /
    ``missing_rate``. ``missing_mechanism`` ``"early_death"`` makes patients who die or
    are censored before ``assessment_time`` the first to lack an assessment.
    """

    arms: Mapping[str, Summary]
    levels: tuple[str, ...] = ("CR", "PR", "SD", "PD")
    missing: int | None = None
    missing_rate: float | None = None
    missing_mechanism: str = "MCAR"
    assessment_time: float = 3.0
    source: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        _set(self, "levels", tuple(str(v) for v in _tuple("levels", self.levels)))
        if len(self.levels) < 2 or len(set(self.levels)) != len(self.levels):
            raise SpecError("levels", f"need >= 2 distinct levels, got {list(self.levels)}")
        if not isinstance(self.arms, Mapping) or not self.arms:
            raise SpecError("arms", f"must give counts per arm, got {self.arms!r}")
        arms = {}
        for k, v in self.arms.items():
            s = summary_from(f"arms.{k}", v)
            probs = s.level_probs()
            if probs is None or len(probs) != len(self.levels):
                raise SpecError(f"arms.{k}", f"needs counts or proportions for the {len(self.levels)} "
                                f"levels {list(self.levels)}")
            arms[str(k)] = s
        _set(self, "arms", FrozenDict(arms))
        if self.missing is not None:
            _set(self, "missing", _count("missing", self.missing))
        if self.missing_rate is not None:
            r = _prob("missing_rate", self.missing_rate)
            if r >= 1:
                raise SpecError("missing_rate", f"must be < 1, got {r}")
            _set(self, "missing_rate", r)
        if self.missing is not None and self.missing_rate is not None:
            raise SpecError("missing_rate", "give either missing (a count) or missing_rate, not both")
        if self.missing_mechanism not in MISSING_RESPONSE:
            raise SpecError("missing_mechanism", f"must be one of {MISSING_RESPONSE}, got {self.missing_mechanism!r}")
        _set(self, "assessment_time", _finite("assessment_time", self.assessment_time, positive=True))


@dataclass(frozen=True)
class ResponseEffect:
    """A covariate's conditional odds ratio of a better best response.

    ``odds_ratio`` per ``per`` units (continuous/count), for 1 vs 0 (binary), per level
    vs the first (a list, categorical), or for ``x >= above``; > 1 means more responders.
    The response model is proportional odds, so the ratio holds for every cut (ORR and
    DCR alike), conditional on the arm and the other effects. A paper's response model
    is quoted in ``source``; an assumed effect states its reason in ``rationale``.
    """

    variable: str
    odds_ratio: float | tuple[float, ...]
    per: float = 1.0
    above: float | None = None
    source: str = ""
    rationale: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        if not isinstance(self.variable, str) or not self.variable:
            raise SpecError("variable", f"must be a variable name, got {self.variable!r}")
        ors = self.odds_ratio
        if isinstance(ors, (list, tuple)):
            if not ors:
                raise SpecError("odds_ratio", "must not be empty")
            _set(self, "odds_ratio", tuple(_ratio(f"odds_ratio[{i}]", v) for i, v in enumerate(ors)))
        else:
            _set(self, "odds_ratio", _ratio("odds_ratio", ors))
        _set(self, "per", _finite("per", self.per, positive=True))
        if self.above is not None:
            _set(self, "above", _finite("above", self.above))
        if not isinstance(self.rationale, str):
            raise SpecError("rationale", f"must be a string, got {self.rationale!r}")
        if not self.source.strip() and not self.rationale.strip():
            raise SpecError("rationale", "a response effect says where it comes from: source (the "
                            "paper's response model, quoted) or rationale (why it is assumed)")


@dataclass(frozen=True)
class Response(Assessment):
    """Best response (CR/PR/SD/PD) per arm among assessed patients: the ``response`` column.

    The fields of :class:`Assessment`, and its association with survival: ``os_hr_pd``
    is the reported HR of PD vs non-PD for OS (calibrates the association); else
    ``os_correlation``, the latent correlation with the death time's normal score.
    ``effects`` (:class:`ResponseEffect`) make response depend on covariates; without
    them response is independent of every covariate given the arm.
    """

    os_hr_pd: float | None = None
    os_correlation: float = 0.5
    effects: tuple[ResponseEffect, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, "effects", tables_of("effects", self.effects, ResponseEffect))
        if self.os_hr_pd is not None:
            _set(self, "os_hr_pd", _ratio("os_hr_pd", self.os_hr_pd))
        r = _finite("os_correlation", self.os_correlation)
        if not -1 < r < 1:
            raise SpecError("os_correlation", f"must lie in (-1, 1), got {r}")
        _set(self, "os_correlation", r)


@dataclass(frozen=True)
class Dist:
    """A positive random time: exponential(mean) or gamma(mean, sd), with an optional
    point mass ``p_zero`` at 0."""

    distribution: str = "exponential"
    mean: float = 1.0
    sd: float | None = None
    p_zero: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        if self.distribution not in ("exponential", "gamma"):
            raise SpecError("distribution", f"must be 'exponential' or 'gamma', got {self.distribution!r}")
        _set(self, "mean", _finite("mean", self.mean, positive=True))
        if self.distribution == "gamma":
            if self.sd is None:
                raise SpecError("sd", "a gamma distribution needs sd")
            _set(self, "sd", _finite("sd", self.sd, positive=True))
        _set(self, "p_zero", _prob("p_zero", self.p_zero))


@dataclass(frozen=True)
class TherapyInclusion:
    """An inclusion criterion on the months a patient was on the arm's therapy: only
    patients treated for more than ``min_months`` were enrolled (e.g. "duration of
    sorafenib therapy for >1 month").

    A criterion met only after baseline: the enrolled patients' planned duration exceeds
    ``min_months`` and they were alive ``min_months`` after their start (guaranteed,
    "immortal" time). See :class:`TimeVarying`.
    """

    min_months: float
    source: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        _set(self, "min_months", _finite("min_months", self.min_months, positive=True))


@dataclass(frozen=True)
class TimeVarying:
    """Systemic therapy started after baseline in ``arm`` (immortal-time bias).

    Planned start ~ ``start`` and duration ~ ``duration`` (months); therapy stops at
    death. The hazard is multiplied by ``hr_per_month`` per month on therapy
    (cumulative exposure; 1.0 = no effect, the default).

    ``inclusion``: a :class:`TherapyInclusion`; the arm's patients are then drawn as the
    enrolled ones are distributed: the planned duration from its law given that it
    exceeds ``min_months``, and death from each patient's law given survival to
    ``start + min_months`` (left truncation there). The arm's covariates stay those of
    its table (the table describes the enrolled patients).
    """

    arm: str
    start: Dist = Dist()
    duration: Dist = Dist("gamma", 6.0, 5.0)
    hr_per_month: float = 1.0
    source: str = ""
    inclusion: TherapyInclusion | None = None

    def __post_init__(self) -> None:
        _source(self.source)
        for k in ("start", "duration"):
            v = getattr(self, k)
            if not isinstance(v, Dist):
                try:
                    _set(self, k, Dist(**_kw(v, Dist, k)))
                except SpecError as err:
                    raise err.prefixed(k) from None
        _set(self, "hr_per_month", _ratio("hr_per_month", self.hr_per_month))
        _sub(self, "inclusion", TherapyInclusion)
