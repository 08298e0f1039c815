"""Further endpoints of a cohort: time to progression and further response columns.

Same conventions as :mod:`simulate.spec_outcomes`: frozen dataclasses validating
themselves and raising :class:`~simulate.spec.SpecError` naming the field and the value;
:func:`endpoint_problems` holds the checks that need the whole cohort (arms, the other
response columns). The generating model is described in :mod:`simulate.outcomes`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .spec import SpecError, _finite, _set
from .spec_outcomes import Assessment, CalibrationTarget, _kw, _source, tables_of

#: Names a further response column may take (``response`` itself is the overall one).
RESPONSE_COLUMN_NAME = re.compile(r"^response_[a-z0-9_]+$")

#: The parent of a response column that has no overall response: the death time's
#: normal score (the latent the overall response is correlated with).
OS_PARENT = "os"


@dataclass(frozen=True)
class TimeToProgression:
    """Time to progression: progression only, death censors (``ttp_time``, ``ttp_event``).

    TTP is the progression time of ``outcomes.pfs`` (whose knots, effects and
    ``os_correlation`` define it; ``PFS = min(TTP, death)``), so this table only adds
    the TTP numbers the paper reports: ``calibrate`` entries (per-arm Kaplan-Meier
    medians or rates of TTP, deaths censored), fitted jointly with the PFS targets.
    """

    calibrate: tuple[CalibrationTarget, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        _source(self.source)
        _set(self, "calibrate", tables_of("calibrate", self.calibrate, CalibrationTarget))


@dataclass(frozen=True, kw_only=True)
class ResponseColumn(Assessment):
    """A further response column: a later assessment, or an organ-specific response.

    Its latent is ``L = correlation * L_parent + sqrt(1 - correlation^2) * e``, cut at
    per-arm thresholds calibrated to ``arms`` (the fields of
    :class:`~simulate.spec_outcomes.Assessment`).

    - ``follows = "<column>"``: a later assessment of that column (same levels, a later
      ``assessment_time``); a patient at its last level (progression) keeps it here.
    - ``parent = "<column>"``: correlated with that response column (``"response"`` or
      one declared before), or with ``"os"`` (the death time's normal score) when the
      cohort has no overall response; no constraint between the levels.

    The joint distribution is not published, so ``correlation`` is an assumption and
    ``rationale`` (its reason) is required.
    """

    name: str
    follows: str | None = None
    parent: str | None = None
    correlation: float | None = None
    rationale: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.name, str) or not RESPONSE_COLUMN_NAME.match(self.name):
            raise SpecError("name", f"must be response_<name> (lower case, digits, _), got {self.name!r}")
        if (self.follows is None) == (self.parent is None):
            raise SpecError("follows", "give exactly one of follows (a later assessment of a response "
                            "column) or parent (a column this one is correlated with), got "
                            f"follows = {self.follows!r}, parent = {self.parent!r}")
        for k in ("follows", "parent"):
            v = getattr(self, k)
            if v is not None and not isinstance(v, str):
                raise SpecError(k, f"must be a column name, got {v!r}")
        if self.correlation is None:
            raise SpecError("correlation", "is required: the latent correlation with the "
                            f"{'followed' if self.follows else 'parent'} column (an assumption; "
                            "state it with its rationale)")
        r = _finite("correlation", self.correlation)
        if not -1 < r < 1:
            raise SpecError("correlation", f"must lie in (-1, 1), got {r}")
        _set(self, "correlation", r)
        if not isinstance(self.rationale, str) or not self.rationale.strip():
            raise SpecError("rationale", "the correlation is not published: state why it was chosen "
                            "(a non-empty string)")

    @property
    def source_column(self) -> str:
        """The column whose latent this one is correlated with."""
        return self.follows if self.follows is not None else self.parent


def response_column_from(key: str, name: str, value: Any) -> ResponseColumn:
    """``ResponseColumn(name=name, **value)`` for a TOML table, errors prefixed with ``key``."""
    try:
        kw = _kw(value, ResponseColumn, key)
        if "name" in kw:
            raise SpecError("name", f"is the table's key ({name!r}); do not repeat it, got {kw['name']!r}")
        if "arms" not in kw:
            raise SpecError("arms", "is required: the counts or proportions of each level per arm")
        return ResponseColumn(name=name, **kw)
    except SpecError as err:
        raise err.prefixed(key) from None


def endpoint_problems(c: Any) -> list[tuple[str, str]]:
    """Cross-field problems of ``outcomes.ttp`` and ``response_columns``, as ``(key, message)``.

    ``c`` is the :class:`~simulate.study.CohortSpec` being validated (not imported here:
    the spec module imports this one).
    """
    p: list[tuple[str, str]] = []
    nmap = {a.label: a.n for a in c.arms}
    labels = list(nmap)
    if c.ttp is not None:
        if c.pfs is None:
            p.append(("outcomes.ttp", "TTP is the progression time of outcomes.pfs: give outcomes.pfs "
                      "(its knots, effects and os_correlation define the progression time)"))
        elif c.ttp.calibrate and c.pfs.baseline_hazard is not None:
            p.append(("outcomes.ttp.calibrate", "the progression time's baseline is fixed by "
                      "outcomes.pfs.baseline_hazard: there is nothing to calibrate to TTP"))
        for j, t in enumerate(c.ttp.calibrate):
            if t.arm not in nmap:
                p.append((f"outcomes.ttp.calibrate[{j}].arm", f"unknown arm {t.arm!r}; arms are {labels}"))
            if t.kind == "hr":
                # deaths censor TTP, differently in each arm: its crude HR is a cause-specific
                # Cox estimand the progression fit does not compute
                p.append((f"outcomes.ttp.calibrate[{j}].kind", "an 'hr' target is supported for outcomes.os "
                          "and outcomes.pfs, not outcomes.ttp (a TTP median or rate, or the PFS HR)"))
    taken = {v.name for v in c.all_variables} | {d.name for d in c.derived}
    if c.unmeasured is not None:
        taken.add(c.unmeasured.name)
    p.extend(_response_effect_problems(c, taken))
    seen: dict[str, ResponseColumn | None] = {"response": None} if c.response is not None else {}
    for col in c.response_columns:
        key = f"response_columns.{col.name}"
        if c.os is None:
            p.append((key, "response columns are generated jointly with OS: give outcomes.os"))
        if col.name in taken or col.name in seen:
            p.append((f"{key}.name", f"{col.name!r} clashes with another column of the cohort"))
        for lab in labels:
            if lab not in col.arms:
                p.append((f"{key}.arms", f"missing counts for arm {lab!r}"))
        for lab, s in col.arms.items():
            if lab not in nmap:
                p.append((f"{key}.arms.{lab}", f"unknown arm {lab!r}; arms are {labels}"))
            elif s.counts is not None and sum(s.counts) > nmap[lab]:
                p.append((f"{key}.arms.{lab}.counts", f"sum {sum(s.counts)} exceeds n = {nmap[lab]}"))
        src = col.source_column
        what = "follows" if col.follows is not None else "parent"
        if col.parent == OS_PARENT:
            pass
        elif src not in seen:
            known = sorted(seen) + ([] if col.follows is not None else [OS_PARENT])
            p.append((f"{key}.{what}", f"unknown column {src!r}: name the overall response or a response "
                      f"column declared before this one; known: {known}"))
        elif col.follows is not None:
            p.extend(_follow_problems(key, col, c.response if src == "response" else seen[src], nmap))
        seen[col.name] = col
    return p


def _response_effect_problems(c: Any, taken: set[str]) -> list[tuple[str, str]]:
    """``response.effects``: each names a covariate column of the cohort, once."""
    if c.response is None:
        return []
    known = taken - {v.name for v in c.all_variables if v.type == "multiselect"}
    p, seen = [], set()
    for j, e in enumerate(c.response.effects):
        key = f"response.effects[{j}].variable"
        if e.variable not in known:
            p.append((key, f"unknown variable {e.variable!r}; response effects take the cohort's "
                      f"covariates, derived variables or the unmeasured confounder: {sorted(known)}"))
        elif e.variable in seen:
            p.append((key, f"{e.variable!r} has two response effects; give one"))
        seen.add(e.variable)
    return p


def _follow_problems(key: str, col: ResponseColumn, earlier: Assessment, nmap: dict) -> list:
    """A later assessment: same levels, a later time, and no less progression per arm."""
    p = []
    if col.levels != earlier.levels:
        p.append((f"{key}.levels", f"a later assessment takes the levels of the one it follows "
                  f"{list(earlier.levels)}, got {list(col.levels)}"))
        return p
    if col.assessment_time <= earlier.assessment_time:
        p.append((f"{key}.assessment_time", f"{col.assessment_time} is not after the followed "
                  f"assessment's {earlier.assessment_time} months"))
    last = col.levels[-1]
    for lab in nmap:
        if lab not in col.arms or lab not in earlier.arms:
            continue
        now, before = col.arms[lab].level_probs()[-1], earlier.arms[lab].level_probs()[-1]
        if now < before - 1e-9:
            p.append((f"{key}.arms.{lab}", f"{last} share {now:.4g} is below the {before:.4g} of the "
                      f"followed assessment; {last} carries over to later assessments"))
    return p


__all__ = ["OS_PARENT", "RESPONSE_COLUMN_NAME", "ResponseColumn", "TimeToProgression",
           "endpoint_problems", "response_column_from"]
