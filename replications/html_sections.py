"""The sections of one study in the HTML replication report (:mod:`.html_report`).

Each function takes one study's JSON form (``StudyReport.to_dict()``, an item of
``results.json``) and returns an HTML fragment; text from the study folder and the run is
escaped. The forest plots come from :mod:`.forest`.
"""
from __future__ import annotations

import base64
import math
from html import escape

from .accounting import COMPUTED, INPUT, NOT_COMPUTED, Accounting
from .audit.coverage import COVERAGE_HEAD, Coverage, coverage_table
from .forest import ForestRow, VERDICT_COLOURS, bounds, forest_svg, standardize
from .junit import distinct_rows, tipping_text
from .outcome_model import outcome_model_sentence
from .formatting import fmt_estimate, fmt_value, growth_note
from .shown import HEAD as SHOWN_HEAD, HEADING as SHOWN_HEADING, shown_rows
from .verdicts import world_verdicts

__all__ = ["study_section", "summary_html", "forest_html", "shifts_html", "worlds_html",
           "audit_html", "audit_coverage_html", "km_html", "assumptions_html",
           "verdict_badge"]

_AXIS = ("distance from the simulated median in robust SDs of the draws (analysis scale: "
         "log for ratios); shaded: |z| <= 1.96")


def verdict_badge(verdict: str, extra: str = "") -> str:
    """A coloured verdict label; the colour repeats the forest plot's."""
    colour = VERDICT_COLOURS.get(verdict, "#8c8c8c")
    return (f'<span class="badge" style="border-color:{colour};color:{colour}">'
            f"{escape(verdict)}{escape(extra)}</span>")


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table; cells are already HTML."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def shown_html(study: dict) -> str:
    """The section of shown estimates (not judged) from a study's JSON form."""
    rows = [[escape(str(c)) for c in r] for r in shown_rows(study.get("shown") or [])]
    return f"<p>{escape(SHOWN_HEADING)}</p>" + _table(SHOWN_HEAD, rows, "shown")


def _num(v, quantity: str = "") -> str:
    if isinstance(v, str):          # infinities travel as text in results.json
        v = float(v)
    return escape(fmt_value(v, quantity))


def _z(v) -> str:
    return "-" if v is None else f"{float(v):+.2f}"


def summary_html(study: dict) -> str:
    """The honest accounting of the verdicts: distinct numbers, roles and reasons apart,
    the count expected by chance, and what ``--strict`` makes of the study."""
    out = []
    acc = study.get("accounting")
    if acc:
        a = Accounting(**{**acc, "groups": tuple(tuple(g) for g in acc.get("groups", []))})
        pred, cal = a.predicted, a.calibration
        cells = [("distinct numbers", f"{a.distinct} (of {a.targets} target rows)"),
                 ("predicted, reproduced", f"{pred.get('reproduced', 0)}"),
                 ("predicted, NOT reproduced",
                  f"{pred.get('not reproduced', 0)} (chance alone: "
                  f"{a.expected_by_chance:.1f} expected, up to {a.chance_upper})"),
                 ("predicted, undetermined", f"{pred.get('undetermined', 0)}"),
                 ("predicted, tied to a calibration input (counted above)",
                  f"{len(a.tied)}" + (": " + ", ".join(
                      f"{p} ~ {c} ({rho:.2f})" for p, (c, rho) in a.tied.items())
                      if a.tied else "")),
                 ("calibration inputs (fitted by construction)",
                  f"{cal.get('reproduced', 0)}/{sum(cal.values())} reproduced"),
                 ("determined by another number or the inputs (not counted)",
                  f"{a.determined}"),
                 ("not simulated (spec gaps)", f"{a.not_simulated}"),
                 ("not estimable (the analysis fails on data like the paper's)",
                  f"{a.not_estimable}"),
                 ("reported only (audited, not judged)",
                  f"{sum(a.reported_only.values())}" + (
                      f" ({a.reported_kinds.get(INPUT, 0)} inputs of the generator, "
                      f"{a.reported_kinds.get(NOT_COMPUTED, 0)} not computed by the run, "
                      f"{a.reported_kinds.get(COMPUTED, 0)} computed but not judged)"
                      if a.reported_kinds else ""))]
        out.append('<dl class="counts">' + "".join(
            f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in cells) + "</dl>")
        out.append(f'<p class="sentence">{escape(a.sentence())}.</p>')
    shifts = study.get("shifts", [])
    if shifts:
        n = sum(s["verdict"] == "reproduced" for s in shifts)
        out.append(f"<p>Paired shifts: {n} of {len(shifts)} reproduced.</p>")
    strict = study.get("strict") or {}
    if strict:
        fails = strict.get("failures", [])
        gate = ("passes: every required number is reproduced" if strict.get("passed")
                else f"fails on {len(fails)} required number(s)")
        out.append(f"<p><code>--strict</code> {escape(gate)}.</p>")
        if fails:
            out.append("<ul>" + "".join(f"<li>{escape(f)}</li>" for f in fails) + "</ul>")
    if "reps" in study:
        note = growth_note(study.get("grown_from"), study.get("grown_for"), ids=False)
        grown = f" ({note})" if note else ""
        out.append(f'<p class="meta">R = {study["reps"]} replicates{escape(grown)}, seed '
                   f'{study["seed"]}, {float(study.get("elapsed_seconds") or 0):.1f} s.</p>')
    return "\n".join(out)


def _note(row: dict, also: tuple[str, ...] = ()) -> str:
    q = row.get("quantity", "shift")
    # a median's null upper bound: not reached (NR); the three at one precision
    med, lo, hi = fmt_estimate(*bounds(row), q)
    text = (f"{row.get('reported_text') or fmt_value(_f(row.get('reported')), q)} vs "
            f"{med} [{lo}, {hi}]")
    if row.get("z") is not None:
        text += f"  z {float(row['z']):+.2f}"
    if row.get("verdict") not in ("reproduced", "not reproduced"):
        text += f"  ({row.get('verdict')})"
    return text + (f"  +{len(also)} quote(s)" if also else "")


def _f(v) -> float:
    return math.nan if v is None else float(v)


def forest_rows(study: dict, shifts: bool = False) -> list[ForestRow]:
    """The forest rows of a study's distinct targets (or shifts), grouped by analysis in
    the order the study first names them."""
    rows = [(r, also) for r, also in distinct_rows(study) if ("from" in r) == shifts]
    order: dict[str, int] = {}
    for r, _ in rows:
        order.setdefault(_group(r), len(order))
    rows.sort(key=lambda ra: order[_group(ra[0])])      # stable: paper order within
    out, misprints = [], study.get("misprints") or {}
    for r, also in rows:
        lo, point, hi = standardize(r)
        note = _note(r, also)
        printed = dict.fromkeys(misprints[x]["printed"] for x in (r["id"], *also)
                                if x in misprints)
        note += "".join(f"  ({p})" for p in printed)      # the print beside the number meant
        if (r.get("verdict") == "reproduced" and not any(map(math.isnan, (lo, point, hi)))
                and not lo <= point <= hi):
            # a printed 1.00 stands for [0.995, 1.005]: the verdict places the point of
            # that range nearest the median (replications.verdicts, "Printed precision")
            note += "  (within printed precision)"
        out.append(ForestRow(r["id"], _group(r), r.get("verdict", ""),
                             r.get("role") == "calibration", lo, point, hi, note))
    return out


def _group(row: dict) -> str:
    if "from" in row:
        return "log scale (ratios)" if row.get("scale") == "log" else "natural scale"
    return f"analysis: {row.get('analysis')}"


def forest_html(study: dict) -> str:
    """Every distinct reported number against its simulated 95% interval, one plot."""
    rows = forest_rows(study)
    if not rows:
        return "<p>No simulated targets.</p>"
    return (f'<figure class="forest">{forest_svg(rows, _AXIS)}<figcaption>Each distinct '
            "reported number (dot; hollow: a calibration input, fitted by construction) "
            "against the central 95% of the calibrated simulation's draws (line), coloured "
            "by verdict; on the right: reported vs simulated median [95% interval], z."
            "</figcaption></figure>")


def shifts_html(study: dict) -> str:
    """The paired shifts: forest plot and table, with robustness and tipping points."""
    shifts = study.get("shifts", [])
    if not shifts:
        return ""
    rob = study.get("robustness") or {}
    rows = []
    for s in shifts:
        r = rob.get(s["id"]) or {}
        tips = "; ".join(tipping_text(t) for t in r.get("tipping", [])) or "-"
        shown = [c for c in s.get("contributions", []) if c.get("mean") is not None][:3]
        top = ", ".join(f"{escape(c['term'])} {c['mean']:+.3f}" for c in shown)
        rows.append([f"<code>{escape(s['id'])}</code>", _num(s.get("reported"), "shift"),
                     _num(s.get("median"), "shift"),
                     f"[{_num(s.get('lo'), 'shift')}, {_num(s.get('hi'), 'shift')}]",
                     _z(s.get("z")), verdict_badge(s["verdict"]),
                     escape(r.get("label", "-")) + (
                         f" (flipped by {escape(', '.join(r['flipped_by']))})"
                         if r.get("flipped_by") else ""), escape(tips), top or "-"])
    table = _table(["shift (to - from)", "reported", "sim. median", "sim. 95% interval",
                    "z", "verdict", "robustness", "tipping points (k)",
                    "largest LOCO contributions"], rows)
    svg = forest_svg(forest_rows(study, shifts=True), _AXIS)
    return (f'<figure class="forest">{svg}<figcaption>Paired shifts (adjusted minus crude, '
            "the same replicate; log scale for ratios) against their simulated 95% "
            f"intervals.</figcaption></figure>{table}")


def worlds_html(study: dict) -> str:
    """Readings and worlds: what the verdicts were tested against."""
    out = []
    for g in study.get("readings", []):
        rows = [[escape(s["label"]) + (" (declared)" if s["index"] == 0 else "")
                 + (" <b>preferred</b>" if s["index"] == g.get("preferred") else ""),
                 "-inf" if s.get("loglik") is None else f"{float(s['loglik']):.1f}",
                 f"{s['reproduced']}/{len(g.get('numbers', []))}"] for s in g["scores"]]
        out.append(f"<h4>Readings: {escape(g['name'])}</h4>")
        out.append("<ul>" + "".join(f"<li><b>{escape(o)}</b> in {escape(', '.join(v))}: "
                                    f"{escape(w)}</li>" for o, v, w in g.get("choices", []))
                   + "</ul>")
        out.append(_table(["reading", "log-likelihood", "distinct numbers reproduced"], rows))
    worlds = study.get("worlds", [])
    if worlds:
        keys = world_verdicts([study.get("verdict_counts", {}),
                               *(w.get("counts", {}) for w in worlds)])
        rows = [["own world", "", str(study.get("reps", "")),
                 *(str(study.get("verdict_counts", {}).get(k, 0)) for k in keys)]]
        rows += [[escape(w["label"]), escape(w.get("why") or ""), str(w.get("reps", "")),
                  *(str(w.get("counts", {}).get(k, 0)) for k in keys)] for w in worlds]
        out.append("<h4>Worlds (alternative generators, recalibrated, the same seeds)</h4>")
        out.append(_table(["world", "why", "R", *keys], rows, "worlds"))
        dep = [r for r in (study.get("robustness") or {}).values()
               if r.get("label") in ("assumption-dependent", "unsettled")]
        if dep:
            out.append("<p>Verdicts that some world flips, or leaves undetermined on the other "
                       "side of the bound (unsettled; judged in: the worlds where the number "
                       "is not undetermined at the world's R):</p>" + _table(
                ["target / shift", "own world", "robustness", "judged in",
                 "flipped by / leaning in", "tipping points (k)"],
                [[f"<code>{escape(r['id'])}</code>", verdict_badge(r["verdict"]),
                  escape(r["label"]), f"{r.get('worlds_judged', 0)}/{len(worlds)}",
                  escape(", ".join(r.get("flipped_by", []) or r.get("leaning", []))),
                  escape("; ".join(tipping_text(t) for t in r.get("tipping", [])) or "-")]
                 for r in dep]))
        else:
            out.append("<p>No world flips a verdict.</p>")
    return "\n".join(out)


def audit_html(study: dict) -> str:
    """The audit findings, errors first, each with the quotes of the numbers involved."""
    order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(study.get("audit", []), key=lambda f: order.get(f["severity"], 3))
    if not findings:
        return "<p>The audit finds no inconsistency among the published numbers.</p>"
    items = []
    for f in findings:
        quotes = [q for q in (f.get("quotes") or "").split(" | ") if q]
        items.append(
            f'<li class="{escape(f["severity"])}"><span class="sev">{escape(f["severity"])}'
            f'</span> <code>{escape(f["rule"])}</code>: {escape(f["message"])}'
            + "".join(f"<blockquote>{escape(q)}</blockquote>" for q in quotes) + "</li>")
    return '<ul class="audit">' + "".join(items) + "</ul>"


def audit_coverage_html(study: dict) -> str:
    """The audit's coverage (``audit_coverage`` of ``results.json``): per rule, checks run,
    passed and failed, and every reported number no rule checked, by reason."""
    if not study.get("audit_coverage"):
        return ""
    cov = Coverage.from_dict(study["audit_coverage"])
    summary, body = coverage_table(cov)
    out = [f"<p>{escape(summary)}.</p>",
           _table(list(COVERAGE_HEAD), [[escape(x) for x in r] for r in body], "coverage")]
    if cov.unchecked:
        out.append(f"<p>Numbers no rule checked ({len(cov.unchecked)}):</p>")
        out.append('<ul class="unchecked">' + "".join(
            f"<li>{escape(reason)}: {len(ids)} ("
            + ", ".join(f"<code>{escape(i)}</code>" for i in ids) + ")</li>"
            for reason, ids in cov.by_reason().items()) + "</ul>")
    return "\n".join(out)


def km_html(figures) -> str:
    """Kaplan-Meier figures (name, PNG bytes) embedded as data URIs."""
    return "".join(
        f'<figure class="km"><img alt="{escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}"><figcaption>{escape(name)}</figcaption>'
        "</figure>" for name, png in figures)


_GENERAL = (
    "The simulated cohorts are built from the paper's published baseline table (Table 1, "
    "per arm, with a Gaussian copula for the correlations) and outcomes calibrated to its "
    "unadjusted results; the paper's analysis is rerun on each.",
    "No unmeasured confounding unless the study declares one; the built-in "
    "unmeasured-confounder worlds test how far a verdict depends on that.",
    "'reproduced' means the published number lies within the central 95% of what such a "
    "simulation produces; it does not prove the number right, and 'not reproduced' does "
    "not prove it wrong.")


def assumptions_html(study: dict) -> str:
    """The assumptions the verdicts rest on: the general ones and this run's own."""
    # the hazard model is the study's own (cohort.toml), not one sentence for every study
    items = [escape(x) for x in (_GENERAL[0], outcome_model_sentence(study.get("outcome_models")),
                                 *_GENERAL[1:])]
    moved = [t["id"] for t in study.get("targets", [])
             if t.get("reading") and not t.get("reading_declared", True)]
    if moved:
        items.append(f"{len(moved)} number(s) judged under a reading of the methods other "
                     "than the declared one (chosen by the paper's other numbers; see "
                     "Readings).")
    items += [f"Calibration misfit: {escape(m)} (verdicts on this cohort are judged on a "
              "generator that misses it)." for m in study.get("calibration_misfits", [])]
    if study.get("world_uncertainty"):
        items.append(escape(study["world_uncertainty"]))
    else:
        items.append("The calibration inputs are taken as printed (world uncertainty off).")
    for d in (study.get("strict") or {}).get("expected_failures", []):
        items.append(f"Declared expected failure <code>{escape(d['target'])}</code>: "
                     f"{escape(d.get('reason') or '')} ({escape(d.get('status') or '')})")
    for tid, m in (study.get("mislabels") or {}).items():
        items.append(f"<code>{escape(tid)}</code> printed as {escape(m.get('printed', ''))}, "
                     f"judged as {escape(m.get('actual', ''))}: {escape(m.get('reason', ''))}")
    for tid, m in (study.get("misprints") or {}).items():
        items.append(f"<code>{escape(tid)}</code> misprinted, judged as meant: "
                     f"{escape(m.get('printed', ''))} ({escape(m.get('why', ''))})")
    items += [f"Spec gap: {escape(w)}" for w in study.get("warnings", [])]
    notes = study.get("notes") or {}
    if notes:
        # counted on an analysis's declared reading (replications.notes), as the text says
        declared = {a: next((sc["label"] for sc in g.get("scores", []) if sc.get("index") == 0),
                            "") for g in study.get("readings", []) for a in g.get("analyses", [])}
        items.append("Analyses without an estimate on some replicates: " + "; ".join(
            f"{escape(_declared_key(k, declared))} ({v})" for k, v in list(notes.items())[:8]))
    return '<ul class="assumptions">' + "".join(f"<li>{x}</li>" for x in items) + "</ul>"


def _declared_key(key: str, declared: dict) -> str:
    """A note's ``analysis: reason`` key with the declared reading its count is of."""
    name, sep, reason = key.partition(": ")
    return f"{name} (declared reading {declared[name]}){sep}{reason}" \
        if declared.get(name) else key


def study_section(study: dict, figures=()) -> str:
    """One study's whole section; each part's heading has the id ``<study>-<part>``."""
    sid = study["study"]
    head = (f'<section class="study" id="study-{escape(sid)}"><h2>{escape(sid)}'
            + (f' <small>{escape(study["title"])}</small>' if study.get("title") else "")
            + "</h2>")
    if study.get("error"):
        return head + f'<p class="load-error">The study folder does not load: ' \
                      f'{escape(study["error"])}</p></section>'
    h3 = lambda part, text: f'<h3 id="{escape(sid)}-{part}">{escape(text)}</h3>'  # noqa: E731
    parts = [head, h3("summary", "Summary"), summary_html(study)]
    if study.get("targets"):
        parts += [h3("numbers", "Every distinct number against its simulation"),
                  forest_html(study)]
    if study.get("shifts"):
        parts += [h3("shifts", "Paired shifts"), shifts_html(study)]
    if study.get("shown"):
        parts += [h3("shown", "Shown, not judged"), shown_html(study)]
    if study.get("readings") or study.get("worlds"):
        parts += [h3("worlds", "Readings and worlds"), worlds_html(study)]
    parts += [h3("audit", f"Audit of the published numbers ({len(study.get('audit', []))} "
                          "findings)"), audit_html(study)]
    if study.get("audit_coverage"):
        parts += [h3("coverage", "Audit coverage"), audit_coverage_html(study)]
    if figures:
        parts += [h3("km", "Kaplan-Meier curves (simulated; markers: reported)"),
                  km_html(figures)]
    if "targets" in study:
        parts += [h3("assumptions", "Assumptions the verdicts rest on"),
                  assumptions_html(study)]
    return "\n".join(parts) + "</section>"
