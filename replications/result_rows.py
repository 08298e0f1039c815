"""The rows of a study's results tables: one per distinct reported number, one per paired
shift, with the column heads and the words each verdict is shown as.

:func:`replications.report.render` lays these rows out as a terminal table or as Markdown.
"""
from __future__ import annotations

import math

from .formatting import fmt_estimate, fmt_value
from .response_shifts import UNINFORMATIVE
from .strict import plain_reason
from .summaries import ReproductionResult
from .verdicts import NOT_SIMULATED

VERDICT_MARK = {"reproduced": "reproduced", "not reproduced": "NOT reproduced",
                "not estimable": "not estimable", "undetermined": "undetermined",
                UNINFORMATIVE: UNINFORMATIVE, NOT_SIMULATED: "not simulated (spec gap)"}


def _interval(lo, hi, q) -> str:
    return f"[{fmt_value(lo, q)}, {fmt_value(hi, q)}]"


def _estimate(median, lo, hi, q) -> tuple[str, str]:
    """The simulated median and its interval at one precision (:func:`fmt_estimate`)."""
    m, a, b = fmt_estimate(median, lo, hi, q)
    return m, f"[{a}, {b}]"


def _z(z, extrapolated: bool = False) -> str:
    if z is None or (isinstance(z, float) and math.isnan(z)):
        return "-"
    text = ("+inf" if z > 0 else "-inf") if math.isinf(z) else f"{z:+.2f}"
    return text + ("*" if extrapolated else "")


def target_rows(r: ReproductionResult, width: int | None = 80) -> list[list[str]]:
    """One row per distinct number: a number quoted several times is shown once, with its
    other quotes' ids in the note (cut at ``width`` characters; None = in full)."""
    rows = []
    also = {}
    for g in (r.accounting.groups if r.accounting else ()):
        also[g[0]] = g[1:]
        also.update({x: None for x in g[1:]})
    expected = {e.target for e in r.expected_failures}
    tied = r.accounting.tied if r.accounting else {}
    for t in r.targets:
        if t.id in also and also[t.id] is None:
            continue
        members = (t.id, *(also.get(t.id) or ()))      # the quotes of this number
        verdict = VERDICT_MARK[t.verdict] + (" (borderline)" if t.borderline else "") + (
            " †" if t.misfit else "") + (
            " (expected)" if expected.intersection(members) else "")
        extra = short_reason(_share(t), width)
        labels = [(f"{x}: " if x != t.id else "") + r.mislabels[x].describe()
                  for x in members if x in r.mislabels]
        printed = {}                # a misprint the copies share, once
        for x in members:
            if x in r.misprints:
                printed.setdefault(r.misprints[x]["printed"], x)
        labels += [(f"{x}: " if x != t.id else "") + d for d, x in printed.items()]
        if labels:              # the label first: it says what the quote is judged as
            extra = "; ".join(labels) + (f"; {extra}" if extra else "")
        if t.calibration:
            extra = t.calibration + (f"; {extra}" if extra else "")
        elif t.role == "calibration" and not math.isnan(t.residual):
            extra = f"residual {t.residual:+.3g}" + (f"; {extra}" if extra else "")
        tie = next((tied[x] for x in members if x in tied), None)
        if tie:                 # a narrow test: its draws move with a calibration input's
            extra = (f"tied to {tie[0]} (rank corr. {tie[1]:.2f})"
                     + (f"; {extra}" if extra else ""))
        reading = _reading_note(t, r)
        if reading:
            extra = reading + (f"; {extra}" if extra else "")
        if also.get(t.id):
            extra = (f"also {short_reason(', '.join(also[t.id]), width and 60)}"
                     + (f"; {extra}" if extra else ""))
        rows.append([t.id, {"calibration": "cal", "predicted": "pred"}.get(t.role, t.role),
                     t.reported_text or fmt_value(t.reported, t.quantity),
                     *_estimate(t.median, t.lo, t.hi, t.quantity),
                     _z(t.z, t.z_extrapolated), verdict, extra])
    return rows


def _share(x) -> str:
    """The reason column of a judged row with some replicates not estimable: only the
    share ('estimable 197/200'); why is in the study's notes and in the JSON/CSV."""
    if x.verdict != "not estimable" and x.reason.startswith("estimable "):
        return x.reason.split(":")[0]
    return x.reason


def short_reason(reason: str, width: int | None = 80) -> str:
    """A table-sized reason: without the target id prefix and the verdict suffix; cut at
    ``width`` characters (None: in full, as Markdown and JSON show it)."""
    text = plain_reason(reason)
    return text if width is None or len(text) <= width else text[:width - 3] + "..."


def shift_rows(r: ReproductionResult, width: int | None = 80) -> list[list[str]]:
    rows = []
    for s in r.shifts:
        shown = [c for c in s.contributions if math.isfinite(c.mean)][:3]
        top = ", ".join(f"{c.term} {c.mean:+.3f}" for c in shown)
        if not top and s.contributions:
            top = f"not estimable ({s.contributions[0].reason})"
        spread = (f"{s.sd:.3f} (ends {s.sd_from:.3f}/{s.sd_to:.3f})"
                  if not math.isnan(s.sd) else "-")
        verdict = VERDICT_MARK[s.verdict] + (" (borderline)" if s.borderline else "") + (
            " (expected)" if s.id in {e.target for e in r.expected_failures} else "")
        note = top if s.verdict not in ("not estimable", UNINFORMATIVE) else short_reason(
            s.reason, width)
        if s.reason and s.verdict not in ("not estimable", UNINFORMATIVE):
            note = f"{top}; {_share(s)}" if top else short_reason(_share(s), width)
        rows.append([s.id, fmt_value(s.reported, "shift"), fmt_value(s.median, "shift"),
                     _interval(s.lo, s.hi, "shift"), _z(s.z, s.z_extrapolated), spread,
                     verdict, note])
    return rows


TARGET_HEAD = ["target", "role", "reported", "sim. median", "sim. 95% interval", "z",
               "verdict", "note"]
SHIFT_HEAD = ["shift (to - from)", "reported", "sim. median", "sim. 95% interval", "z",
              "MC SD", "verdict", "largest LOCO contributions / note"]


def _reading_note(t, r: ReproductionResult) -> str:
    """'under stabilized=true' when judged under a reading other than the declared one;
    'reproduced under 2/4 readings' when the verdict depends on the reading."""
    parts = []
    if t.reading and not t.reading_declared:
        parts.append(f"under {t.reading}")
    if t.reproduced_under is not None:
        k = next((len(g.scores) for g in r.readings if t.analysis in g.analyses), 0)
        if 0 < len(t.reproduced_under) < k or not t.reproduced_under:
            parts.append(f"reproduced under {len(t.reproduced_under)}/{k} readings")
    if t.contested_by:
        parts.append("contested: " + ("reproduced" if t.verdict != "reproduced" else
                                      "not reproduced")
                     + f" under {', '.join(t.contested_by)}, which the other numbers favour "
                     "about as much (LR < 3)")
    return "; ".join(parts)
