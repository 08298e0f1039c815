"""Honest accounting of a reproduction run: distinct numbers, roles and reasons apart.

A paper quotes one number in its abstract, results, table and discussion; counting each
quote inflates "reproduced". Calibration rows are fitted by construction; they say the
generator works, not that the paper is reproduced. "Not estimable" mixes two findings
that must not be mixed: the study folder cannot simulate a number (an endpoint the cohort
does not generate: a gap of the specification, not of the paper), and the paper's analysis
fails on data like the paper's (a finding about the paper). This module counts

- **distinct numbers**: quotes of one printed number are one number, their ids listed
  together: targets with the same reported value and the same simulated draws (the same
  estimate of the same analysis) that also say the same thing (the same analysis,
  quantity, endpoint, arm, contrast, term, level and time) or repeat one another
  (``same_as``). Numbers the paper prints once each stay apart even when value and draws
  coincide: the complete-response shares of two arms, both 0 in every replicate, are two
  numbers;
- per role (calibration, predicted) and verdict, distinct numbers;
- **not simulated** (no draws: the study cannot compute it) apart from **not estimable**
  (draws exist but the analysis has too few estimates, or the median is not reached);
- **determined** numbers apart from the counts above: a distinct number whose draws are,
  in every replicate, those of a number counted before it (identical, or its complement
  ``1 - x``, to :data:`EXACT`), or constant (one value in every replicate: the cohort's
  inputs fix it, say a complete-response share of 0 in both arms). The simulation cannot
  tell such a number from the one it copies, nor fail it on its own: it is a copy, not
  another prediction or calibration check (DCR = 1 - PD share; ORR = PR share when no
  patient has a complete response). Calibration numbers come first, so a predicted copy
  of an input is determined by that input; the first of a set of copies is counted;
- **reported only**: distinct numbers of ``role = "reported"`` (audited, never judged
  against the simulation), by quantity, apart from the simulated numbers they repeat
  (``same_as``). "Not judged", not "not simulated", and of three kinds
  (:mod:`replications.unjudged`), counted apart: **inputs** of the generator (the baseline
  rows the cohorts are drawn from, the hazard ratios and response shares it is given),
  numbers the run does **not compute** (p-values of tests it does not run), and numbers an
  analysis computes but the study does **not judge**, each with its ``not_judged`` reason
  (the distinct reasons are listed). Quotes of one number are of one kind: an input when
  any quote is one, else computed when any is;
- **tied** predicted numbers, counted among the predicted ones and said apart: a judged
  predicted number whose draws move with a calibration number's (rank correlation at
  least :data:`~replications.ties.TIED_RHO` over the replicates; :mod:`replications.ties`)
  is reproduced largely because that input is: its verdict tests the paper's difference
  from the input, not a number the calibration leaves free;
- the number of "not reproduced" **expected by chance** among the judged distinct predicted
  numbers: each is reproduced with probability 0.95 when the simulation is right, so about
  ``0.05 m`` of ``m`` fail by chance; the upper end is the binomial(m, 0.05) 97.5% quantile
  (numbers of one analysis are correlated, so the spread is wider than binomial; the mean
  is exact).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .response_shifts import UNINFORMATIVE, UNINFORMATIVE_REASON
from .ties import TIED_RHO, tied_numbers
from .verdicts import ALPHA, NOT_SIMULATED, UNDETERMINED

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["EXACT", "Accounting", "account", "distinct_groups", "accounting_frame"]


@dataclass(frozen=True)
class Accounting:
    """Distinct-number counts of one study's run."""

    study: str
    calibration: dict             # verdict -> distinct numbers
    predicted: dict
    not_simulated: int            # distinct simulated-role numbers the study cannot compute
    not_estimable: int            # ... computed, but not estimable on the data
    targets: int                  # target rows
    distinct: int                 # distinct numbers among them
    expected_by_chance: float     # "not reproduced" expected among judged predicted numbers
    chance_upper: int             # binomial 97.5% quantile of that count
    groups: tuple[tuple[str, ...], ...] = ()   # ids quoting one number (size > 1)
    uninformative_shifts: int = 0  # response shifts not judged (response_shifts.UNINFORMATIVE)
    #: judged distinct predicted numbers whose verdict a reading the other numbers favour
    #: about as much reverses (replications.reading_choice: contested)
    contested: int = 0
    #: distinct calibration numbers the calibrated generator misses beyond rounding + MCSE
    calibration_missed: int = 0
    #: distinct numbers whose draws copy a counted number's (identical or 1 - x), per role
    copies: dict = field(default_factory=dict)
    #: distinct numbers constant in every replicate (fixed by the inputs), per role
    constant: dict = field(default_factory=dict)
    #: of the copies and constants, those whose verdict is "not reproduced"
    determined_not_reproduced: int = 0
    #: quantity -> distinct reported-only numbers (audited, not judged)
    reported_only: dict = field(default_factory=dict)
    #: kind (replications.unjudged.Kind value) -> distinct reported-only numbers
    reported_kinds: dict = field(default_factory=dict)
    #: not_judged reason -> distinct computed reported-only numbers ("" when none is given)
    not_judged: dict = field(default_factory=dict)
    #: judged predicted id -> [calibration id, rank correlation] of the input its draws
    #: move with (replications.ties), and how many of those are not reproduced
    tied: dict = field(default_factory=dict)
    tied_not_reproduced: int = 0

    @property
    def determined(self) -> int:
        return sum(self.copies.values()) + sum(self.constant.values())

    @property
    def judged_predicted(self) -> int:
        return self.predicted.get("reproduced", 0) + self.predicted.get("not reproduced", 0)

    def sentence(self) -> str:
        p, c = self.predicted, self.calibration
        # (the undetermined were left out: 7 + 0 + 3 calibration of 13 distinct numbers)
        undetermined = p.get(UNDETERMINED, 0)
        missed = c.get("not reproduced", 0)
        return (f"{self.targets} target rows are {self.distinct} distinct numbers: "
                f"predicted {p.get('reproduced', 0)} reproduced, "
                f"{p.get('not reproduced', 0)} not reproduced (chance alone: "
                f"{self.expected_by_chance:.1f} expected, up to {self.chance_upper})"
                + (f", {self.contested} of these verdicts contested (a reading the other "
                   "numbers favour about as much, LR < 3, reverses it)"
                   if self.contested else "")
                + self._tied_clause()
                + (f", {undetermined} undetermined (within Monte Carlo error of a bound of "
                   f"the simulated interval)" if undetermined else "") + "; "
                f"calibration {c.get('reproduced', 0)}/{sum(c.values())} reproduced "
                + (f"({missed} NOT reproduced: the calibrated generator misses its own "
                   "input)" if missed else
                   f"({self.calibration_missed} missed by the calibrated generator beyond "
                   "rounding + one MCSE, within the sampling spread)"
                   if self.calibration_missed else "(fitted by construction)")
                + self._determined_clause()
                + f"; {self.not_simulated} not simulated (the study "
                f"folder cannot compute them), {self.not_estimable} not estimable (the "
                f"analysis fails on data like the paper's)"
                + self._reported_clause()
                + (f"; {self.uninformative_shifts} response shift(s) not judged ({UNINFORMATIVE_REASON})"
                   if self.uninformative_shifts else ""))


    def _tied_clause(self) -> str:
        if not self.tied:
            return ""
        n = len(self.tied)
        missed = (f", {self.tied_not_reproduced} of them not reproduced"
                  if self.tied_not_reproduced else "")
        return (f", {n} of these {'is' if n == 1 else 'are'} tied to a calibration input "
                f"(rank correlation of draws >= {TIED_RHO}: {'its' if n == 1 else 'their'} "
                f"verdict tests mainly the paper's difference from that input{missed})")

    def _determined_clause(self) -> str:
        if not self.determined:
            return ""
        pred = self.copies.get("predicted", 0) + self.constant.get("predicted", 0)
        copies, constant = sum(self.copies.values()), sum(self.constant.values())
        parts = ([f"{copies} repeat another number's draws in every replicate (identical, "
                  "or its complement 1 - x)"] if copies else []) + (
                 [f"{constant} are constant in every replicate (fixed by the inputs)"]
                 if constant else [])
        return (f"; {self.determined} determined by another number or by the inputs, not "
                f"counted above ({pred} declared predicted): " + " and ".join(parts)
                + (f", {self.determined_not_reproduced} of them not reproduced"
                   if self.determined_not_reproduced else ""))

    def _reported_clause(self) -> str:
        n = sum(self.reported_only.values())
        if not n:
            return ""
        if not self.reported_kinds:         # no classification (a run of older code)
            kinds = ", ".join(f"{q} {k}" for q, k in sorted(self.reported_only.items(),
                                                             key=lambda qk: (-qk[1], qk[0])))
            return f"; {n} reported only (audited, not judged: {kinds})"
        k = self.reported_kinds
        m = k.get(INPUT, 0)
        parts = [f"{m} input{'s' if m != 1 else ''} of the generator (audited)",
                 f"{k.get(NOT_COMPUTED, 0)} not computed by the run (audited)"]
        if k.get(COMPUTED):
            reasons = "; ".join(
                (f"{r!r}" if r else "no reason given") + (f" ({m})" if m > 1 else "")
                for r, m in sorted(self.not_judged.items(), key=lambda rm: (-rm[1], rm[0])))
            parts.append(f"{k[COMPUTED]} computed but not judged (reasons: {reasons})")
        return f"; {n} reported only, not judged: " + ", ".join(parts)


#: The kinds of reported number (the values of :class:`replications.unjudged.Kind`, a
#: ``str`` enum: kept as text here so that reading a report imports no analysis code).
INPUT, COMPUTED, NOT_COMPUTED = "input", "computed", "not computed"
_KIND_ORDER = (INPUT, COMPUTED, NOT_COMPUTED)

#: Two draws columns are one number when they differ by no more than this in every
#: replicate: floating-point noise of one computation done two ways (a DCR summed from
#: three shares against one minus the fourth differs by ~1e-16), far below any sampling
#: difference of two estimates from a few hundred patients.
EXACT = 1e-12

_SAME = ("analysis", "quantity", "endpoint", "arm", "contrast", "term", "level", "time")


def _key(t, draws: dict, spec) -> tuple:
    col = draws.get(t.id)
    if col is not None:
        fingerprint = col.tobytes()
    elif spec is not None:
        fingerprint = tuple(repr(getattr(spec, k, None)) for k in _SAME)
    else:
        fingerprint = t.id
    return (t.role, t.reported, fingerprint)


def _quotes_of_one(ts: list, specs: dict) -> list[list]:
    """Targets of one value and draws split into the numbers they print: two are quotes
    of one number when they say the same thing (the same analysis, quantity, endpoint,
    arm, contrast, term, level and time) or one is a ``same_as`` repeat of the other
    (transitively: a repeat may carry a differing or corrected label)."""
    what = [tuple(repr(getattr(specs.get(t.id), k, None)) for k in _SAME) for t in ts]
    repeats = [getattr(specs.get(t.id), "same_as", None) for t in ts]
    root = list(range(len(ts)))

    def find(i):
        while root[i] != i:
            i = root[i]
        return i
    for i in range(len(ts)):
        for j in range(i):
            if what[i] == what[j] or repeats[i] == ts[j].id or repeats[j] == ts[i].id:
                root[find(i)] = find(j)
    out: dict[int, list] = {}
    for i, t in enumerate(ts):
        out.setdefault(find(i), []).append(t)
    return list(out.values())


def _draw_columns(result) -> dict:
    """Target id -> its draws (one value per replicate)."""
    draws = {}
    if result.draws is not None:
        for j, tid in enumerate(result.draw_ids[:result.draws.shape[1]]):
            draws[tid] = np.ascontiguousarray(result.draws[:, j])
    return draws


def _copy_of(col: np.ndarray, other: np.ndarray) -> bool:
    """Whether ``col`` is ``other`` or ``1 - other`` in every replicate (to :data:`EXACT`),
    with the same replicates estimable."""
    ok = np.isfinite(col)
    if col.shape != other.shape or not np.array_equal(ok, np.isfinite(other)):
        return False
    return bool(np.max(np.abs(col[ok] - other[ok])) <= EXACT
                or np.max(np.abs(col[ok] - (1.0 - other[ok]))) <= EXACT)


def _determined(groups: list[list], draws: dict) -> dict[int, str]:
    """Index of each distinct number (``groups``) whose draws another counted number or
    the inputs determine -> the id it copies, or ``""`` when constant (module docstring).
    Calibration numbers are taken first, then the rest in report order."""
    out: dict[int, str] = {}
    counted: list[tuple[str, np.ndarray]] = []
    for k in sorted(range(len(groups)), key=lambda k: groups[k][0].role != "calibration"):
        col = draws.get(groups[k][0].id)
        ok = np.isfinite(col) if col is not None else None
        if col is None or not ok.any():
            continue
        if np.ptp(col[ok]) <= EXACT:
            out[k] = ""
            continue
        copied = next((tid for tid, other in counted if _copy_of(col, other)), None)
        if copied is None:
            counted.append((groups[k][0].id, col))
        else:
            out[k] = copied
    return out


def _reported_only(result, specs: dict, kinds: dict | None = None
                   ) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Distinct numbers of ``role = "reported"`` in ``specs``, leaving out repeats
    (``same_as``, transitively) of a simulated number: per quantity, per kind (``kinds``:
    target id -> :class:`~replications.unjudged.Reported`; empty without) and, of the
    computed ones, per ``not_judged`` reason."""
    simulated = {t.id for t in result.targets}

    def repeats_simulated(t) -> bool:
        seen = set()
        while t is not None and t.id not in seen:
            if t.id in simulated:
                return True
            seen.add(t.id)
            t = specs.get(t.same_as) if t.same_as else None
        return False
    by_value: dict[tuple, list] = {}
    for t in specs.values():
        if t.role == "reported" and not repeats_simulated(t):
            by_value.setdefault((t.quantity, t.value, t.p, t.count), []).append(t)
    out: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for ts in by_value.values():
        for g in _quotes_of_one(ts, specs):
            out[g[0].quantity] = out.get(g[0].quantity, 0) + 1
            found = [kinds[t.id] for t in g if t.id in (kinds or {})]
            if not found:
                continue
            # quotes of one number: an input when any quote is one, else computed when any is
            kind = _KIND_ORDER[min(_KIND_ORDER.index(r.kind) for r in found)]
            by_kind[kind] = by_kind.get(kind, 0) + 1
            if kind == COMPUTED:
                reason = next((r.reason for r in found if r.reason), "")
                reasons[reason] = reasons.get(reason, 0) + 1
    return out, by_kind, reasons


def distinct_groups(result, targets=None) -> list[list]:
    """Targets of ``result`` grouped by distinct number (same role, reported value and
    draws; without draws, the same analysis, quantity, endpoint, arm, term, level and
    time in ``targets``, the study's target specs by id), in report order; with
    ``targets``, targets of one value and draws that print different numbers (different
    arms or times, say) stay apart (:func:`_quotes_of_one`)."""
    draws = _draw_columns(result)
    specs = targets or {}
    groups: dict[tuple, list] = {}
    for t in result.targets:
        groups.setdefault(_key(t, draws, specs.get(t.id)), []).append(t)
    if not specs:
        return list(groups.values())
    split = [g for ts in groups.values() for g in _quotes_of_one(ts, specs)]
    order = {t.id: i for i, t in enumerate(result.targets)}
    return sorted(split, key=lambda g: order[g[0].id])


def account(result, targets=None, kinds=None) -> Accounting:
    """Distinct-number accounting of one :class:`~.summaries.ReproductionResult`;
    ``targets`` (id -> the study's Target) tells numbers without draws apart, ``kinds``
    (id -> :class:`~replications.unjudged.Reported`) the reported-only numbers' kinds."""
    from scipy import stats
    groups = distinct_groups(result, targets)
    simulated = set(result.draw_ids)
    cal: dict[str, int] = {}
    pred: dict[str, int] = {}
    gap = failed = contested = cal_missed = determined_missed = 0
    copies: dict[str, int] = {}
    constant: dict[str, int] = {}
    unjudged = ("not estimable", NOT_SIMULATED)
    judged = [g for g in groups if g[0].verdict not in unjudged]
    draws = _draw_columns(result)
    fixed = {judged[k][0].id: by for k, by in _determined(judged, draws).items()}
    for g in groups:
        t = g[0]
        if t.verdict in unjudged:
            if (t.verdict == NOT_SIMULATED or t.id not in simulated
                    or getattr(t, "spec_gap", False)):
                gap += 1
            else:
                failed += 1
            continue
        by = fixed.get(t.id)
        if by is not None:
            kind = copies if by else constant
            kind[t.role] = kind.get(t.role, 0) + 1
            determined_missed += t.verdict == "not reproduced"
            continue
        bucket = cal if t.role == "calibration" else pred
        bucket[t.verdict] = bucket.get(t.verdict, 0) + 1
        contested += (t.role != "calibration" and t.verdict in ("reproduced", "not reproduced")
                      and any(getattr(x, "contested_by", ()) for x in g))
        cal_missed += (t.role == "calibration" and t.verdict == "reproduced"
                       and any(getattr(x, "calibration_missed", False) for x in g))
    m = pred.get("reproduced", 0) + pred.get("not reproduced", 0)
    hi = int(stats.binom.ppf(0.975, m, ALPHA)) if m else 0
    # (among the judged predicted numbers counted above; copies are counted apart already)
    counted = [g[0] for g in judged if g[0].role != "calibration" and g[0].id not in fixed
               and g[0].verdict in ("reproduced", "not reproduced")]
    tied = tied_numbers([t.id for t in counted],
                        [g[0].id for g in judged if g[0].role == "calibration"], draws)
    tied_missed = sum(t.verdict == "not reproduced" for t in counted if t.id in tied)
    return Accounting(result.study_id, cal, pred, gap, failed, len(result.targets),
                      len(groups), ALPHA * m, hi,
                      tuple(tuple(t.id for t in g) for g in groups if len(g) > 1),
                      sum(s.verdict == UNINFORMATIVE for s in getattr(result, "shifts", ())),
                      contested, cal_missed, copies, constant, determined_missed,
                      *(_reported_only(result, targets, kinds) if targets else ({}, {}, {})),
                      {p: [c, rho] for p, (c, rho) in tied.items()}, tied_missed)


def accounting_frame(items: Sequence[Accounting]) -> pd.DataFrame:
    """One row per study and a total row: the cross-study summary."""
    import pandas as pd
    rows = []
    for a in items:
        rows.append(dict(study=a.study, targets=a.targets, distinct=a.distinct,
                         predicted_reproduced=a.predicted.get("reproduced", 0),
                         predicted_not_reproduced=a.predicted.get("not reproduced", 0),
                         predicted_undetermined=a.predicted.get(UNDETERMINED, 0),
                         predicted_contested=a.contested,
                         predicted_tied=len(a.tied),
                         expected_by_chance=a.expected_by_chance,
                         calibration=sum(a.calibration.values()),
                         calibration_not_reproduced=a.calibration.get("not reproduced", 0),
                         determined=a.determined,
                         not_simulated=a.not_simulated, not_estimable=a.not_estimable,
                         reported_only=sum(a.reported_only.values()),
                         reported_inputs=a.reported_kinds.get(INPUT, 0),
                         reported_not_computed=a.reported_kinds.get(NOT_COMPUTED, 0),
                         reported_computed=a.reported_kinds.get(COMPUTED, 0)))
    frame = pd.DataFrame(rows)
    if len(frame) > 1:
        total = frame.drop(columns="study").sum().to_dict()
        m = int(total["predicted_reproduced"] + total["predicted_not_reproduced"])
        total["expected_by_chance"] = ALPHA * m
        frame = pd.concat([frame, pd.DataFrame([dict(study="all", **total)])],
                          ignore_index=True)
    return frame
