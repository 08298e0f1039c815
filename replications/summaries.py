"""Results of a reproduction run: one row per target and per paired shift.

Frozen dataclasses with ``to_frame()`` (tidy pandas view) and ``to_dict()`` (JSON-able),
built by :func:`summarise` from the replicate-by-target matrix of draws.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from .analysis.compile import reported_value
from .accounting import account
from .reading_choice import ReadingResult, judge_readings, printed_half_unit, reported_text
from .printed_shift import shift_printed
from .shift_results import CONTRIBUTION_COLUMNS, Contribution, ShiftResult, judge_shift
from .response_shifts import UNINFORMATIVE, label_uninformative
from .shown import summarise_shown
from .targets import describe_misprint
from .formatting import growth_note
from .verdicts import NOT_SIMULATED, Judgement, analysis_scale, judge, settle, to_scale

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["TargetResult", "ShiftResult", "Contribution", "ReproductionResult", "summarise",
           "analysis_scale"]




@dataclass(frozen=True)
class TargetResult:
    id: str
    analysis: str
    quantity: str
    role: str
    required: bool
    where: str
    reported: float | None
    scale: str
    verdict: str
    median: float
    lo: float
    hi: float
    z: float
    borderline: bool
    robust_sd: float
    residual: float          # calibration targets: reported - simulated median (analysis scale)
    se_ratio: float          # reported SE (from its CI) / simulated robust SD
    n_estimable: int
    n_reps: int
    reason: str = ""
    z_extrapolated: bool = False     # reported value outside the simulated range
    position: float = math.nan       # mid-rank position of the reported value, 0..1
    reading: str = ""                # the reading judged under (targets of a reading group)
    reading_declared: bool = True    # ... and whether it is the declared one
    reproduced_under: tuple[str, ...] | None = None   # reading-dependent: readings inside
    calibration: str = ""            # calibration targets: the generator's fit (simulate's check)
    misfit: bool = False             # judged on a cohort whose calibration misses a target
    spec_gap: bool = False           # the study cannot simulate it (a check warning)
    mislabel: str = ""               # "printed as X, judged as Y (audit: rule)"
    mcse_z: float = math.nan         # Monte Carlo SE of z (undetermined near |z| = 1.96)
    reported_text: str = ""          # the reported number as printed ("13.97", "62.73%")
    # readings the other numbers favour about as much (LR < 3) that reverse the verdict
    # (replications.reading_choice: "contested")
    contested_by: tuple[str, ...] = ()
    # calibration targets: the calibrated generator misses it beyond rounding + one MCSE
    # (simulate's check; the verdict may still be "reproduced" within the sampling spread)
    calibration_missed: bool = False

    @property
    def estimable_share(self) -> float:
        return self.n_estimable / self.n_reps if self.n_reps else math.nan


@dataclass(frozen=True, eq=False)
class ReproductionResult(ArrayRecord):
    study_id: str
    title: str
    reps: int
    seed: int
    elapsed: float
    targets: tuple[TargetResult, ...]
    shifts: tuple[ShiftResult, ...]
    notes: dict = field(default_factory=dict)         # failure / diagnostic text -> replicates
    warnings: tuple[str, ...] = ()                    # check warnings (not estimable, ...)
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    draw_ids: tuple[str, ...] = ()
    readings: tuple[ReadingResult, ...] = ()
    accounting: object = None       # replications.accounting.Accounting (distinct numbers)
    worlds: tuple = ()              # replications.robustness.WorldRun, one per world
    robustness: dict = field(default_factory=dict)   # id -> robustness.Robustness
    misfits: tuple[str, ...] = ()                     # "cohort: the calibration misses"
    expected_failures: tuple = ()                     # targets.ExpectedFailure, declared
    mislabels: dict = field(default_factory=dict)     # target id -> targets.Mislabel
    #: target id -> {"printed": "CI printed 117-2.41, read as 1.17-2.41", "why": ...}
    misprints: dict = field(default_factory=dict)
    world_uncertainty: str = ""     # what was drawn (replications.world_uncertainty)
    shown: tuple = ()               # replications.shown.ShownResult: shown, not judged
    grown_from: int | None = None   # the R asked for, when undetermined numbers grew it
    grown_for: tuple[str, ...] = ()  # the ids undetermined at that R

    def growth_note(self) -> str:
        """Why R is larger than asked (``""`` when it is not): the reviewer who asked for
        100 was shown R = 200 without a word (:func:`.formatting.growth_note`)."""
        return growth_note(self.grown_from, self.grown_for)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        rows = [dict(asdict(t), kind="target") for t in self.targets]
        for s in self.shifts:
            d = asdict(s)
            d.pop("contributions")
            d["analysis"] = f"{s.from_} -> {s.to}"
            d["quantity"] = "shift"
            rows.append(dict(d, kind="shift"))
        frame = pd.DataFrame(rows).rename(columns=field_key)
        frame.insert(0, "study", self.study_id)
        return frame

    def contributions_frame(self) -> pd.DataFrame:
        import pandas as pd
        rows = [dict(study=self.study_id, shift=s.id, **asdict(c))
                for s in self.shifts for c in s.contributions]
        return pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS)

    def draws_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame(self.draws, columns=list(self.draw_ids))

    def _repr_html_(self) -> str:
        """Jupyter's view: the accounting and the forest plot (:mod:`.html_report`)."""
        from .html_report import study_html       # matplotlib only when shown
        return study_html(self.to_dict())

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.targets:
            out[t.verdict] = out.get(t.verdict, 0) + 1
        return out

    def required_failures(self) -> list[str]:
        """Required targets and shifts simulated and not reproduced (spec gaps and
        uninformative shifts excluded)."""
        return [x.id for x in (*self.targets, *self.shifts)
                if x.required and x.verdict not in ("reproduced", UNINFORMATIVE) and not x.spec_gap]

    def to_dict(self) -> dict:
        return {
            "study": self.study_id, "title": self.title, "reps": self.reps, "seed": self.seed,
            "elapsed_seconds": round(self.elapsed, 2), "verdict_counts": self.counts(),
            "targets": [_clean(asdict(t)) for t in self.targets],
            "shifts": [_clean(asdict(s)) for s in self.shifts],
            "notes": self.notes, "warnings": list(self.warnings),
            "readings": [_clean(asdict(g)) for g in self.readings],
            "accounting": _clean(asdict(self.accounting)) if self.accounting else None,
            "worlds": [_clean(asdict(w)) for w in self.worlds],
            "robustness": {k: _clean(r.to_dict()) for k, r in self.robustness.items()},
            **({"calibration_misfits": list(self.misfits)} if self.misfits else {}),
            "expected_failures": [asdict(e) for e in self.expected_failures],
            "mislabels": {k: asdict(m) for k, m in self.mislabels.items()},
            **({"misprints": dict(self.misprints)} if self.misprints else {}),
            "world_uncertainty": self.world_uncertainty,
            "shown": [s.to_dict() for s in self.shown],
            **({"grown_from": self.grown_from, "grown_for": list(self.grown_for)}
               if self.grown_from is not None else {}),
        }


def field_key(name) -> str:
    """A field name as a column or dictionary key: ``from_`` (a Python keyword dodge) ->
    ``from``, so that ``to_dict``, ``to_frame``, ``results.json`` and the CSV files name
    a shift's ends alike (the HTML report read ``from_`` and took the shifts of a
    ``results.json`` for targets)."""
    name = str(name)
    return name.rstrip("_") or name


def _clean(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None     # JSON has no inf or nan: null
    if isinstance(obj, dict):
        return {field_key(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _reported_se(t, scale: str) -> float:
    if not t.ci or t.interval != "ci" or scale == "inverse":
        return math.nan
    lo, hi = to_scale(list(t.ci), scale)
    if not hi > lo or not math.isfinite(hi):   # misprinted (the audit reports it) or NR
        return math.nan
    if t.value is not None and not t.value_from_ci:
        # an estimate outside its CI beyond the rounding of the three is a misprint too
        # ("1.10 (2.86-3.18)": the audit's ci_contains_estimate); its width says nothing
        slack = t.resolution("value") + max(t.resolution("ci_lo"), t.resolution("ci_hi"))
        if not t.ci[0] - slack <= t.value <= t.ci[1] + slack:
            return math.nan
    zq = 1.959964 if abs(t.ci_level - 0.95) < 1e-9 else _z(t.ci_level)
    return float((hi - lo) / (2 * zq))


def _z(level: float) -> float:
    from scipy import stats
    return float(stats.norm.ppf(0.5 + level / 2))


def calibration_note(ch) -> str:
    """A calibration check (:class:`~simulate.calibration_quality.CalibrationCheck`) as a
    table note: its residual against the printed rounding plus one MCSE."""
    # a check that cannot measure its target (past follow-up, a median never reached)
    # says why, not a residual of inf against an MCSE of inf
    if getattr(ch, "reason", ""):
        return f"cal. MISFIT: {ch.reason}"
    scale, unit = (100.0, " pts") if ch.kind == "rate" else (1.0, "")
    verdict = "within" if ch.within else "MISFIT: beyond"
    return (f"cal. residual {ch.residual * scale:+.3g}{unit}, {verdict} rounding "
            f"{ch.rounding * scale:.2g} + MCSE {ch.mcse * scale:.2g}")


def misfit_text(ch) -> str:
    """A missed calibration target in words: ``os 24-month rate Sora+PD-1 -5.1 points``."""
    if getattr(ch, "reason", ""):  # (unmeasurable: its residual is no number to show)
        return f"{' '.join(x for x in (ch.endpoint, ch.arm) if x)}: {ch.reason}"
    what = {"median": "median", "hr": "crude HR"}.get(ch.kind) or f"{ch.time:g}-month rate"
    size = {"rate": f"{100 * ch.residual:+.1f} points", "median": f"{ch.residual:+.2f} months"}.get(
        ch.kind, f"{ch.residual:+.3f}")
    return f"{ch.endpoint} {what} {ch.arm} {size}"


def summarise(study, plan, draws: np.ndarray, notes: dict, *, reps: int, seed: int,
              elapsed: float, failures: dict | None = None,
              calibration: dict | None = None, blocks: np.ndarray | None = None,
              world_uncertainty: str = "",
              response_dependence: dict | None = None) -> ReproductionResult:
    """Judge every simulated target and shift; ``failures`` maps (target id, reason) to
    the replicates where that target had no draw for that reason; ``calibration`` maps a
    cohort name to its calibration checks (simulate's ``calibration_checks``); ``blocks``
    the drawn world of each replicate (Monte Carlo SE by batch means); a verdict within
    two Monte Carlo SEs of the boundary is ``undetermined``; ``response_dependence`` maps a
    cohort name to {response column: depends on covariates}: a shift between response
    quantities of columns that do not is ``uninformative`` (:mod:`.response_shifts`)."""
    checks = {ch.target: ch for chs in (calibration or {}).values() for ch in chs if ch.target}
    missed = {name: [misfit_text(ch) for ch in chs if not ch.within] for name, chs in (calibration or {}).items()}
    cohort_of = {a.name: a.cohort for a in study.plan.analyses}
    col = {tid: i for i, tid in enumerate(plan.target_ids)}
    why: dict[str, dict[str, int]] = {}
    for (tid, reason), k in (failures or {}).items():
        why.setdefault(tid, {})[reason] = why.get(tid, {}).get(reason, 0) + k
    warn = {}
    index_id = {f"targets[{i}]": t.id for i, t in enumerate(study.targets.targets)}
    for p in plan.problems:
        tid = index_id.get(p.key.split(".")[0])
        if tid and tid not in warn:
            warn[tid] = f"{p.message} ({p.key} = {p.value!r})"
    groups, judged, eff, under, source, contested = judge_readings(study, plan, draws, col)
    draw_ids = plan.target_ids + tuple(
        f"loco:{a}:{term}:{tid}" for a, term, tid in plan.loco_keys) + tuple(
        i for _, _, ids in getattr(plan, "variants", ()) for i in ids) + tuple(
        e.id for _, _, es, _ in getattr(plan, "shown", ()) for e in es)
    # a number judged under another reading has that reading's reasons, not the declared's
    why.update({tid: why.get(draw_ids[c], {}) for tid, c in source.items()})
    targets = []
    for t in study.targets.targets:
        if t.role == "reported":
            continue
        reported, quantity = reported_value(t)
        scale = analysis_scale(quantity)
        gap = t.id not in col
        if not gap:
            j = settle(judge(eff[:, col[t.id]], reported, scale, failures=why.get(t.id),
                             half_unit=printed_half_unit(t, quantity), blocks=blocks))
        else:
            j = Judgement(NOT_SIMULATED, n_reps=reps,
                          reason=warn.get(t.id, "not computable from this study's analyses"))
        check = checks.get(t.id) or checks.get(t.same_as) if t.role == "calibration" else None
        se = _reported_se(t, scale)
        ratio = se / j.robust_sd if j.robust_sd and math.isfinite(j.robust_sd) else math.nan
        targets.append(TargetResult(
            t.id, t.analysis, quantity, t.role, t.required, t.where, reported, scale,
            j.verdict, j.median, j.lo, j.hi, j.z, j.borderline, j.robust_sd,
            j.residual if t.role == "calibration" else math.nan, ratio, j.n_estimable,
            j.n_reps, j.reason, j.z_extrapolated, j.position, *judged.get(t.id, ("", True)),
            under.get(t.id), calibration_note(check) if check is not None else "",
            bool(missed.get(cohort_of.get(t.analysis))) and t.id in col, gap,
            t.mislabel.describe() if t.mislabel else "", j.mcse_z,
            reported_text(t, quantity), contested.get(t.id, ()) if not gap else (),
            check is not None and not check.within))
    shifts = [judge_shift(s, col, eff, draws, plan, why, blocks,
                          shift_printed(s, study.targets[s.from_], study.targets[s.to]))
              for s in study.targets.shifts]
    shifts = label_uninformative(study, shifts, response_dependence)
    result = ReproductionResult(
        study.id, study.title, reps, seed, elapsed, tuple(targets), tuple(shifts),
        dict(sorted(notes.items(), key=lambda kv: -kv[1])),
        tuple(str(p) for p in plan.problems), draws, draw_ids, groups,
        misfits=tuple(f"{name}: {', '.join(m)}" for name, m in missed.items() if m),
        expected_failures=study.targets.expected_failures,
        mislabels={t.id: t.mislabel for t in study.targets.targets if t.mislabel},
        misprints={t.id: {"printed": describe_misprint(t), "why": t.misprint.why}
                   for t in study.targets.targets if t.misprint},
        world_uncertainty=world_uncertainty,
        shown=summarise_shown(getattr(plan, "shown", ()), draws, failures or {}))
    return replace(result, accounting=account(
        result, {t.id: t for t in study.targets.targets}, getattr(plan, "reported", None)))
