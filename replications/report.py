"""Human- and machine-readable output of ``tacebench replicate``.

:func:`render` gives the per-study table (terminal), Markdown or JSON; :func:`write_outputs`
writes the full results to a folder: ``results.json``, ``targets.csv`` (one row per
target), ``shifts.csv`` (one row per paired shift), ``contributions.csv`` (LOCO
decomposition), ``audit.csv``, ``audit_coverage.csv`` (per rule: checks run, passed,
failed) and the raw replicate draws ``draws/<study>.csv``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from .accounting import accounting_frame
from .audit.coverage import coverage_lines
from .formatting import fmt_value
from .result_rows import (SHIFT_HEAD, TARGET_HEAD, VERDICT_MARK, shift_rows, short_reason,
                          target_rows)
from .strict import StrictOutcome, expected_lines, strict_outcome
from .response_shifts import UNINFORMATIVE, UNINFORMATIVE_REASON
from .notes import note_lines
from .shown import shown_lines
from .output_files import finding_dict, json_text, write_outputs
from .unreported import UNREPORTED_FAMILIES
from .summaries import ReproductionResult
from .verdicts import WORLD_VERDICTS, world_verdicts

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["render", "write_outputs", "fmt_value", "StudyReport"]

@dataclass(frozen=True, eq=False)
class StudyReport:
    """What the CLI shows for one study: its audit findings and its reproduction.

    Frozen (``audit`` is a tuple); two reports are compared by their :meth:`to_dict`
    (their results hold NaN and timings, which ``==`` on the objects cannot weigh).

    Attributes
    ----------
    study_id, title : str
    audit : tuple of Finding
        The audit's findings.
    result : ReproductionResult or None
        The reproduction (None for an audit-only run or a study that failed).
    error : str or None
        Why the study could not be run (the CLI goes on with the others).
    coverage : Coverage or None
        The audit's coverage, when measured.
    outcome_models : tuple of dict
        The hazard model of each simulated endpoint
        (:func:`~replications.outcome_model.outcome_models`); ``outcome_models`` in JSON.
    """

    study_id: str
    title: str = ""
    audit: tuple = ()
    result: ReproductionResult | None = None
    error: str | None = None
    coverage: object = None
    outcome_models: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "audit", tuple(self.audit or ()))
        object.__setattr__(self, "outcome_models", tuple(self.outcome_models or ()))

    def __repr__(self) -> str:
        what = ("error" if self.error else "audit only" if self.result is None
                else f"{len(self.result.targets)} target(s) judged")
        return (f"StudyReport({self.study_id!r}: {len(self.audit)} audit finding(s), "
                f"{what})")

    def render(self, fmt: str = "table") -> str:
        """The text ``tacebench replicate --format FMT`` prints for this study
        (:func:`render`)."""
        return render([self], fmt)

    @property
    def strict(self) -> StrictOutcome:
        """What ``--strict`` makes of this study (see :mod:`replications.strict`)."""
        return strict_outcome(self.study_id, self.result, self.audit, self.error)

    def to_dict(self) -> dict:
        d = {"study": self.study_id, "title": self.title,
             "audit": [finding_dict(f) for f in self.audit]}
        if self.coverage is not None:
            d["audit_coverage"] = self.coverage.to_dict()
        if self.result is not None:
            d.update(self.result.to_dict())
        if self.outcome_models:
            d["outcome_models"] = [dict(m) for m in self.outcome_models]
        if self.error:
            d["error"] = self.error
        d["strict"] = self.strict.to_dict()
        return d

    def to_frame(self) -> pd.DataFrame:
        """The verdicts, tidy: one row per target and per shift (none without a run)."""
        import pandas as pd
        return self.result.to_frame() if self.result is not None else pd.DataFrame()

    def audit_frame(self) -> pd.DataFrame:
        """The audit findings, tidy: one row per finding."""
        import pandas as pd
        return pd.DataFrame([finding_dict(f) for f in self.audit])

    def _repr_html_(self) -> str:
        """Jupyter's view: the accounting and the forest plot (:mod:`.html_report`)."""
        from .html_report import study_html       # matplotlib only when shown
        return study_html(self.to_dict())


def _finding_text(f) -> str:
    return f"[{f.severity}] {f.rule}: {f.message}"


def _table(head, rows) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else \
        [len(h) for h in head]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _md_table(head, rows) -> str:
    esc = lambda x: str(x).replace("|", "\\|").replace("*", "\\*")  # noqa: E731
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _summary_line(r: ReproductionResult) -> str:
    c = r.counts()
    parts = [f"{c.get(k, 0)} {k}" for k in ("reproduced", "not reproduced", "not estimable")]
    parts += [f"{c[k]} {k} at R = {r.reps} (within 2 MC SE of |z| = 1.96)"
              for k in ("undetermined",) if c.get(k)]
    parts += [f"{c[k]} {k} (spec gaps: the study folder cannot compute them)"
              for k in ("not simulated",) if c.get(k)]
    nb = sum(t.borderline for t in r.targets)
    ns = sum(s.verdict == "reproduced" for s in r.shifts)
    nu = sum(s.verdict == UNINFORMATIVE for s in r.shifts)
    apart = f" ({nu} {UNINFORMATIVE}: {UNINFORMATIVE_REASON})" if nu else ""
    return (f"{len(r.targets)} simulated targets: " + ", ".join(parts)
            + f" ({nb} borderline); shifts: {ns}/{len(r.shifts) - nu} reproduced{apart}; "
            f"R = {r.reps}" + (f" ({r.growth_note()})" if r.grown_from is not None else "")
            + f", seed = {r.seed}, {r.elapsed:.1f} s")


def _reading_lines(r: ReproductionResult, markdown: bool) -> list[str]:
    """The readings section: per group the evidence and each reading's score."""
    if not r.readings:
        return []
    out = ["", "Readings (alternatives the methods leave open, run on the same cohorts; "
           "each number judged under the reading the other numbers favour):", ""]
    for g in r.readings:
        out.append(("- " if markdown else "  ") + g.sentence())
        for opt, labels, why in g.choices:
            out.append(("  - " if markdown else "      ") + f"{opt} in {list(labels)}: {why}")
        rows = [[s.label + (" (declared)" if s.index == 0 else ""),
                 f"{s.loglik:.1f}" if math.isfinite(s.loglik) else "-inf",
                 f"{s.reproduced}/{len(g.numbers)}"] for s in g.scores]
        head = ["reading", "log-likelihood", "distinct numbers reproduced"]
        table = _md_table(head, rows) if markdown else "\n".join(
            "      " + line for line in _table(head, rows).splitlines())
        out += ["", table, ""]
    moved = [t.id for t in r.targets if t.reading and not t.reading_declared]
    out.append(f"{len(moved)} target(s) judged under a reading other than the declared one.")
    return out


def _world_lines(r: ReproductionResult, markdown: bool) -> list[str]:
    """The worlds section: each world's counts, then the verdicts some world flips and
    every shift, with the worlds that flip them and the tipping points."""
    if not r.worlds:
        return []
    table = _md_table if markdown else _table
    builtin = ["an unmeasured confounder with treatment OR = outcome HR = k"]
    if any(w.family in UNREPORTED_FAMILIES for w in r.worlds):
        builtin.append("every covariate without a published effect at HR k per SD, "
                       "aligned with or opposed to the arms' imbalance")
    out = ["", "Worlds (alternative generators, the same seeds, each recalibrated; "
           f"built-in: {'; '.join(builtin)}):", ""]
    keys = world_verdicts([r.counts(), *(w.counts for w in r.worlds)])
    rows = [["own world", "", str(r.reps), *_counts(r.counts(), keys)]]
    rows += [[w.label, short_reason(w.why, 60), str(w.reps), *_counts(w.counts, keys)]
             for w in r.worlds]
    out.append(table(["world", "why", "R", *keys], rows))
    if any(w.reps < r.reps for w in r.worlds):
        out += ["", f"The worlds ran at R = {min(w.reps for w in r.worlds)} with no replicates "
                f"added near a bound (the own world grew to R = {r.reps}): a number "
                "undetermined in a world is not judged there, and 'judged in' says in how "
                "many worlds each verdict was."]
    rob = r.robustness
    by = {}
    for x in rob.values():
        key = x.label if x.label != "robust" else f"robust ({x.verdict})"
        by[key] = by.get(key, 0) + 1
    partly = sum(1 for x in rob.values()
                 if x.label == "robust" and x.worlds_judged < len(r.worlds))
    out += ["", "Robustness of each verdict over the worlds: "
            + ", ".join(f"{v} {k}" for k, v in sorted(by.items()))
            + (f" ({partly} of the robust ones judged in fewer than all {len(r.worlds)} "
               "worlds)" if partly else ""), ""]
    shifts = {s.id for s in r.shifts}
    show = [x for x in rob.values() if x.label in ("assumption-dependent", "unsettled") or
            (x.id in shifts and x.label != "not judged")]
    if show:
        rows = [[x.id, VERDICT_MARK.get(x.verdict, x.verdict), x.label,
                 f"{x.worlds_judged}/{len(r.worlds)}",
                 short_reason(", ".join(x.flipped_by) or (
                     "leans: " + ", ".join(x.leaning) if x.leaning else ""), 50) or "-",
                 "; ".join(t.text() for t in x.tipping) or "-"] for x in show]
        out.append(table(["target / shift", "own world", "robustness", "judged in",
                          "flipped by", "tipping points (k)"], rows))
    return out


def _counts(c: dict, keys=WORLD_VERDICTS) -> list[str]:
    return [str(c.get(k, 0)) for k in keys]


_FOOTNOTE = ("* the reported value lies outside the simulated range: z is extrapolated "
             "with the robust SD (and at least as extreme as the most extreme draw)")


def _render_one(rep: StudyReport, markdown: bool) -> str:
    table = _md_table if markdown else _table
    width = None if markdown else 80        # Markdown is read in full, a terminal is not
    title = f"{rep.study_id}" + (f" - {rep.title}" if rep.title else "")
    out = [f"## {title}" if markdown else f"=== {title} ==="]
    if rep.error:
        out.append(f"ERROR: {rep.error}")
        return "\n".join(out)
    out.append("")
    by = {}
    for f in rep.audit:
        by[getattr(f, "severity", "finding")] = by.get(getattr(f, "severity", "finding"), 0) + 1
    counts = ", ".join(f"{v} {k}" for k, v in by.items()) or "none"
    out.append(f"Audit of the published numbers (no simulation): {len(rep.audit)} finding(s)"
               f" ({counts})")
    for f in rep.audit:
        if getattr(f, "severity", "error") == "info":
            continue
        out.append(f"  - {_finding_text(f)}" if not markdown else f"- {_finding_text(f)}")
    if rep.coverage is not None:
        out += [""] + coverage_lines(rep.coverage, markdown)
    r = rep.result
    if r is not None:
        out += ["", "Reproduction (calibrated simulation, paper's analysis):", "",
                table(TARGET_HEAD, target_rows(r, width))]
        if r.shifts:
            out += ["", "Paired shifts (same replicate; log scale for ratios):", "",
                    table(SHIFT_HEAD, shift_rows(r, width))]
        if any(x.z_extrapolated for x in (*r.targets, *r.shifts)):
            out += ["", "\\" + _FOOTNOTE if markdown else _FOOTNOTE]
        out += _reading_lines(r, markdown)
        out += _world_lines(r, markdown)
        out += shown_lines(r, table)
        out += ["", _summary_line(r)] + ([r.world_uncertainty] if r.world_uncertainty else [])
        out += [f"† calibration misfit ({m}): verdicts marked † are judged on this cohort"
                for m in r.misfits]
        if r.accounting is not None:
            out.append(r.accounting.sentence())
        declared = {a: g.scores[0].label for g in r.readings for a in g.analyses}
        for line in note_lines(r.notes, r.reps, declared=declared):
            out.append(line)
        out += expected_lines(rep.strict, markdown)
    return "\n".join(out)


def render(reports: Sequence[StudyReport], fmt: str = "table") -> str:
    if fmt == "json":
        return json_text([r.to_dict() for r in reports]) + "\n"
    if fmt not in ("table", "markdown"):
        raise ValueError(f"fmt must be 'table', 'markdown' or 'json'; got {fmt!r}")
    text = "\n\n".join(_render_one(r, fmt == "markdown") for r in reports) + "\n"
    items = [r.result.accounting for r in reports
             if r.result is not None and r.result.accounting is not None]
    if len(items) > 1:
        frame = accounting_frame(items)
        head = ["study", "target rows", "distinct numbers", "predicted reproduced",
                "predicted not reproduced", "predicted undetermined", "predicted contested",
                "predicted tied to an input", "expected by chance", "calibration",
                "calibration not reproduced", "determined", "not simulated", "not estimable",
                "reported: inputs", "reported: not computed", "reported: computed, not judged"]
        rows = [[row.study, *(f"{int(v)}" for v in (row.targets, row.distinct,
                                                     row.predicted_reproduced,
                                                     row.predicted_not_reproduced,
                                                     row.predicted_undetermined,
                                                     row.predicted_contested,
                                                     row.predicted_tied)),
                 f"{row.expected_by_chance:.1f}",
                 *(f"{int(v)}" for v in (row.calibration, row.calibration_not_reproduced,
                                         row.determined, row.not_simulated, row.not_estimable,
                                         row.reported_inputs, row.reported_not_computed,
                                         row.reported_computed))]
                for row in frame.itertuples()]
        table = _md_table if fmt == "markdown" else _table
        title = "All studies (distinct numbers)"
        text += ("\n" + (f"## {title}" if fmt == "markdown" else f"=== {title} ===")
                 + "\n\n" + table(head, rows) + "\n")
    return text
