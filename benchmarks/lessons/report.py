"""Markdown of a lesson: the report ``<lesson>-report.md`` and the generated block of a
walkthrough (``docs/teach/<lesson>.md``), both written from the computed numbers only."""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tacebench.engine.files import replace_files

from ._core import CLAIM_LEVEL, MIN_COHORTS, LessonResult
from .worlds import load_worlds

BEGIN = "<!-- BEGIN GENERATED NUMBERS (tacebench teach --update-docs; do not edit) -->"
END = "<!-- END GENERATED NUMBERS -->"


def fmt(x: float, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:.{digits}f}"


def markdown_table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def estimates_table(res: LessonResult, *, scale: str = "HR") -> str:
    worlds = dict(res.worlds)
    rows = []
    for e in res.estimates:
        rows.append({
            "world": worlds.get(e.world, e.world), "estimator": e.label, "estimand": e.estimand,
            f"true {scale}": fmt(e.truth, 3), f"mean {scale}": fmt(e.hr, 3),
            "bias (log)": f"{e.bias:+.3f}", "MCSE": fmt(e.mcse, 3), "empirical SD": fmt(e.emp_sd, 3),
            "mean model SE": fmt(e.mean_se, 3), "95% CI coverage": f"{100 * e.coverage:.0f}%",
            "patients analysed": fmt(e.n_analysed, 0),
        })
    return markdown_table(pd.DataFrame(rows))


def claims_list(res: LessonResult) -> str:
    lines = []
    for i, c in enumerate(res.claims, 1):
        mark = {"holds": "✓", "inconclusive": "? (inconclusive with this many cohorts: run more)",
                "contradicted": "✗ (contradicted by this run)"}[c.status]
        lines.append(f"{i}. {mark} {c.text} — computed `{c.key}` = {c.value:+.3f} "
                     f"({c.evidence()}); claimed {c.bounds_text()}.")
    return "\n".join(lines)


def summary_block(res: LessonResult, story: list[str], *, scale: str = "HR") -> str:
    """The numbers section shared by the report and the walkthrough."""
    head = (f"*{res.n_reps} simulated cohorts per world shaped like `{res.study}`, seed "
            f"{res.seed} (`tacebench teach {res.lesson} --seed {res.seed} --reps {res.n_reps}`).*")
    parts = [head, "", *[f"- {s}" for s in story], "", estimates_table(res, scale=scale), "",
             "**What the student should notice** (each statement is checked on these numbers; "
             f"✓ = its whole {100 * CLAIM_LEVEL:.2f}% Monte Carlo interval, the coverage of a "
             "3-MCSE margin, lies on the claimed side: t for means, exact binomial for shares "
             f"of cohorts; fewer than {MIN_COHORTS} cohorts are never enough):",
             "", claims_list(res)]
    return "\n".join(parts)


def render_report(res: LessonResult, story: list[str], *, intro: str, extra: str = "",
                  scale: str = "HR") -> str:

    described = load_worlds(res.lesson)[2]
    worlds = "\n".join(f"- **{label}** (`{k}`): {described[k].description}"
                        for k, label in res.worlds.items())
    figs = "\n\n".join(f"![{name}](figures/{Path(p).name})" for name, p in res.figures.items())
    return "\n".join([
        f"# {res.title}", "", intro, "", "## Worlds", "", worlds, "",
        "## Numbers", "", summary_block(res, story, scale=scale), "", extra,
        "## Figures", "", figs, "",
        f"*Run time {res.seconds:.0f} s.*", ""])


#: a walkthrough's generated block, markers included
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)


def update_walkthrough(path: Path, block: str) -> bool:
    """Replace the generated block of a walkthrough; ``False`` if it has no markers."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if not _BLOCK.search(text):
        return False
    new = _BLOCK.sub(lambda _: f"{BEGIN}\n{block}\n{END}", text)
    # the walkthrough is written by hand around the block: replaced whole or left as it
    # was, never cut short by a failing write
    replace_files(path.parent, {path.name: new})
    return True


def has_generated_block(path: Path) -> bool:
    """Whether ``path`` is a walkthrough that :func:`update_walkthrough` can update (a file
    with both markers)."""
    path = Path(path)
    return path.is_file() and _BLOCK.search(path.read_text(encoding="utf-8")) is not None


def generated_block(path: Path) -> str | None:
    """The current generated block of a walkthrough (without markers), or None."""
    text = Path(path).read_text(encoding="utf-8")
    m = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    return None if m is None else m.group(1)


Renderer = Callable[[LessonResult], str]


def table_one(bt, *, control: str, treated: str, weighted: str | None = None) -> pd.DataFrame:
    """Table 1 from an :class:`estimators.balance.BalanceTable`: mean or % per arm and SMD,
    before and (with ``weighted`` naming the adjustment) after weighting or matching."""
    f = bt.to_frame()
    suffixes = [("", "")] + ([("_w", f" ({weighted})")] if weighted else [])
    rows = []
    for r in f.to_dict("records"):
        level = r["level"]
        is_level = r["kind"] == "categorical" and level is not None and level == level
        name = f"  {r['variable']} = {level}" if is_level else r["variable"]
        row = {"variable": name}
        for suf, tag in suffixes:
            for arm, col in ((control, "control_mean"), (treated, "treated_mean")):
                v = r.get(col + suf)
                if r["kind"] == "continuous":
                    row[arm + tag] = fmt(v, 1)
                elif r["kind"] == "binary" or is_level:
                    row[arm + tag] = fmt(100 * v, 1) + "%" if v == v else "–"
                else:
                    row[arm + tag] = ""
            smd = r.get("smd" + suf)
            row["SMD" + tag] = "" if is_level else f"{smd:+.2f}"
        rows.append(row)
    return pd.DataFrame(rows)
