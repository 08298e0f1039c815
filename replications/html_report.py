"""The HTML replication report: one self-contained file per run.

``tacebench replicate --html FILE`` and ``tacebench report RESULTS_DIR`` both call
:func:`render_html` on the JSON form of the run (``StudyReport.to_dict()``, the items of
``results.json``), so a results folder alone renders the same report. The file needs no
network: the style is inline, figures are inline SVG (forest plots, from
:mod:`.forest`) or PNG data URIs (Kaplan-Meier curves, drawn by :mod:`.plots` and
passed in), and there is no script. A cross-study overview comes first, then one
section per study (:mod:`.html_sections`). It is laid out for a laptop screen and prints
one study per page.
"""
from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Mapping, Sequence

from tacebench.engine.files import atomic_write

from .accounting import Accounting, accounting_frame
from .forest import overview_svg, own_ids
from .html_sections import study_section, summary_html, forest_html
from .junit import distinct_rows

__all__ = ["render_html", "write_html", "load_results", "figures_on_disk", "study_html"]

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
 max-width:1180px;margin:0 auto;padding:0 1.2em 3em}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:2px solid #0072b2;padding-bottom:.2em;
 margin-top:2em}h2 small{font-weight:normal;color:#555;font-size:.65em}h3{margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f6f8}code{font-size:.92em}
figure{margin:.6em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:.85em;color:#555}
.km{display:inline-block;width:48%;margin-right:1%}.km img{width:100%}
.badge{border:1px solid;border-radius:3px;padding:0 .3em;font-size:.85em;white-space:nowrap}
dl.counts{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}
dl.counts dt{color:#555}dl.counts dd{margin:0;font-weight:600}
ul.audit li{margin:.35em 0}ul.audit .sev{font-weight:600;text-transform:uppercase;font-size:.8em}
ul.audit li.error .sev{color:#d55e00}ul.audit li.warning .sev{color:#e69f00}
ul.audit li.info .sev{color:#666}
blockquote{margin:.2em 0 .2em 1.2em;padding-left:.6em;border-left:3px solid #ccc;color:#444;
 font-size:.88em;white-space:pre-wrap}
nav ul{columns:2}.meta{color:#666;font-size:.88em}.load-error{color:#d55e00}
@media print{body{max-width:none;font-size:11px}section.study{break-before:page}
 figure,tr,li{break-inside:avoid}nav{display:none}}
"""


def load_results(folder: str | Path) -> list[dict]:
    """The studies of a results folder (``results.json`` written by ``--out``).

    Parameters
    ----------
    folder : str or Path
        A folder written by ``tacebench replicate --out``, or its ``results.json``.

    Returns
    -------
    list of dict

    Raises
    ------
    ValueError
        When the file is missing or is not a list of study results.
    """
    folder = Path(folder)
    path = folder if folder.suffix == ".json" else folder / "results.json"
    if not path.is_file():
        raise ValueError(f"{path}: no results.json here; write one with "
                         "`tacebench replicate --out DIR`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(s, dict) and "study" in s
                                             for s in data):
        raise ValueError(f"{path}: expected a list of study results each with a 'study' "
                         f"key; got {type(data).__name__}")
    return data


def figures_on_disk(folder: str | Path, studies: Sequence[dict]) -> dict[str, list]:
    """The KM figures ``replicate --plot --out DIR`` wrote (``DIR/plots/<study>_*.png``),
    per study id: [(name, PNG bytes), ...]."""
    plots = Path(folder) / "plots"
    out: dict[str, list] = {}
    if not plots.is_dir():
        return out
    # longest id first: an id that is a prefix of another must not take its files
    for sid in sorted((s["study"] for s in studies), key=len, reverse=True):
        taken = {n for figs in out.values() for n, _ in figs}
        files = [p for p in sorted(plots.glob(f"{sid}_*.png")) if p.stem not in taken]
        out[sid] = [(p.stem, p.read_bytes()) for p in files]
    return out


def _overview(studies: Sequence[dict]) -> str:
    """The cross-study overview: the distinct-number table and every number's z."""
    ok = [s for s in studies if s.get("accounting")]
    parts = ['<section id="overview"><h2>All studies</h2>']
    if ok:
        items = [Accounting(**{**s["accounting"], "study": s["study"], "groups": tuple(
            tuple(g) for g in s["accounting"].get("groups", []))}) for s in ok]
        frame = accounting_frame(items)
        head = ["study", "target rows", "distinct numbers", "predicted reproduced",
                "predicted NOT reproduced", "predicted undetermined", "predicted contested",
                "predicted tied to an input", "expected by chance",
                "calibration inputs", "calibration inputs NOT reproduced",
                "determined (copies, constants)", "not simulated", "not estimable",
                "reported: inputs", "reported: not computed",
                "reported: computed, not judged"]
        body = "".join(
            (f'<tr><td><a href="#study-{escape(r.study)}">{escape(r.study)}</a></td>'
             if r.study != "all" else "<tr><td><b>all</b></td>")
            + "".join(f"<td>{int(v)}</td>" for v in (r.targets, r.distinct,
                                                     r.predicted_reproduced,
                                                     r.predicted_not_reproduced,
                                                     r.predicted_undetermined,
                                                     r.predicted_contested,
                                                     r.predicted_tied))
            + f"<td>{r.expected_by_chance:.1f}</td>"
            + "".join(f"<td>{int(v)}</td>" for v in (r.calibration,
                                                     r.calibration_not_reproduced,
                                                     r.determined, r.not_simulated,
                                                     r.not_estimable, r.reported_inputs,
                                                     r.reported_not_computed,
                                                     r.reported_computed))
            + "</tr>"
            for r in frame.itertuples())
        parts.append("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head)
                     + f"</tr></thead><tbody>{body}</tbody></table>")
        points = [(s["study"], [(_zf(r.get("z")), r.get("verdict", ""),
                                 r.get("role") == "calibration")
                                for r, _ in distinct_rows(s) if "from" not in r])
                  for s in ok]
        parts.append(f'<figure class="forest">{overview_svg(points)}<figcaption>Every '
                     "distinct reported number of every study, placed in its simulated "
                     "distribution. Blue: reproduced; vermillion: NOT reproduced; orange: "
                     "undetermined at the run's replicates.</figcaption></figure>")
    bad = [s["study"] for s in studies if s.get("error")]
    if bad:
        parts.append(f'<p class="load-error">Not loaded: {escape(", ".join(bad))}.</p>')
    return "\n".join(parts) + "</section>"


def _zf(v) -> float:
    return math.nan if v is None else float(v)


def render_html(studies: Sequence[dict], figures: Mapping[str, Sequence] | None = None,
                title: str = "tacebench replication report") -> str:
    """The whole report as one HTML document.

    Parameters
    ----------
    studies : sequence of dict
        One dict per study (``StudyReport.to_dict()``; the items of ``results.json``).
    figures : mapping, optional
        Study id -> [(name, PNG bytes), ...]: the KM figures to embed.
    title : str
        The document's title.

    Returns
    -------
    str
    """
    figures = figures or {}
    nav = "".join(f'<li><a href="#study-{escape(s["study"])}">{escape(s["study"])}</a>'
                  + (f" {escape(s.get('title') or '')}" if s.get("title") else "") + "</li>"
                  for s in studies)
    runs = sorted({(s.get("reps"), s.get("seed")) for s in studies if "reps" in s},
                  key=str)
    meta = "; ".join(f"R = {r}, seed {sd}" for r, sd in runs) or "audit only"
    body = [f"<header><h1>{escape(title)}</h1><p class=\"meta\">{len(studies)} "
            f"stud{'y' if len(studies) == 1 else 'ies'}; {escape(meta)}. Each reported "
            "number is placed in the distribution a calibrated simulation of the study "
            "gives when the paper's analysis is rerun on it.</p></header>",
            f"<nav><ul>{nav}</ul></nav>" if len(studies) > 1 else "",
            _overview(studies) if len(studies) > 1 else ""]
    body += [study_section(s, figures.get(s["study"], ())) for s in studies]
    # each inlined figure's ids its own: matplotlib numbers every figure's alike
    return own_ids("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n"
                   + "\n".join(b for b in body if b) + "\n</body></html>\n")


def write_html(studies: Sequence[dict], path: str | Path,
               figures: Mapping[str, Sequence] | None = None) -> Path:
    """Write :func:`render_html` to ``path`` (folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(studies, figures)
    # whole or absent: a CI job never reads a cut-off report as a complete one
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def study_html(study: dict) -> str:
    """A compact HTML summary of one study for notebooks: the accounting and the forest
    plot (``StudyReport._repr_html_``)."""
    head = f"<h3>{escape(study['study'])}" + (
        f" <small>{escape(study['title'])}</small>" if study.get("title") else "") + "</h3>"
    if study.get("error"):
        return head + f"<p>The study folder does not load: {escape(study['error'])}</p>"
    if not study.get("targets"):
        return head + f"<p>Audit only: {len(study.get('audit', []))} finding(s).</p>"
    return own_ids(f"<div>{head}{summary_html(study)}{forest_html(study)}</div>",
                   f"{study['study']}-svg")
