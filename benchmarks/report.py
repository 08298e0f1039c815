"""Output people read: the tidy tables and a Markdown / HTML summary of a study run."""
from __future__ import annotations

import contextlib
import html
import math
from pathlib import Path
from typing import Callable

import pandas as pd

from tacebench.engine.files import FolderLocked, atomic_write, folder_lock

from .run_state import RunRefused, read_manifest
from .runner import load_results
from .sessions import planned_reps, run_line
from .store import RunDirectory, write_frame
from .study import study_from_raw
from .summary import error_table, performance_table

#: Measures shown in the summary, with their labels (all are in ``performance.csv``).
HEADLINE = {
    "bias": "Bias",
    "empse": "Empirical SE",
    "relerr_modse": "Relative error in model SE (%)",
    "coverage": "Coverage of nominal CI",
    "rmse": "RMSE",
    "power": "Rejection rate (power / type I error)",
    "convergence": "Convergence rate",
}


def _fmt(value: float, mcse: float, pct: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    scale = 100.0 if pct else 1.0
    digits = 1 if pct else 3
    text = _number(value * scale, digits)
    if mcse is not None and not math.isnan(mcse):
        text += f" ({_number(mcse * scale, digits)})"
    return text


def _number(x: float, digits: int) -> str:
    """``x`` at ``digits`` decimals, without the sign of a value that rounds to zero."""
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _cell(v) -> str:
    """A table cell: NaN (a setting this row does not have) empty, -0.0 as 0."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return _number(v, 4).rstrip("0").rstrip(".")
    return str(v)


def measure_table(perf: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Scenarios as rows, methods as columns, cells ``value (MCSE)``; coverage-like in %."""
    pct = measure in ("coverage", "becoverage", "power", "convergence")
    sub = perf[perf["measure"] == measure].copy()
    sub["cell"] = [_fmt(v, m, pct) for v, m in zip(sub["value"], sub["mcse"])]
    methods = list(dict.fromkeys(sub["method"]))
    table = sub.pivot(index=["scenario_index", "scenario"], columns="method", values="cell")
    table = table.reindex(columns=methods).fillna("")
    return table.reset_index(level=0, drop=True).reset_index()


def _md_table(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def methods_run(study, results: pd.DataFrame) -> list:
    """The study's methods that have rows in ``results`` (a run with ``--with`` or
    scenarios' method lists runs fewer than the study declares), in the study's order."""
    present = set(results["method"])
    return [m for m in study.methods if m.name in present]


def uncensored_table(truths: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame | None:
    """Scenarios as rows, estimands as columns: truth.csv's ``truth_uncensored`` of the
    estimands whose value without censoring differs from ``truth`` (None: none does, or a
    run written before the column)."""
    if truths is None or "truth_uncensored" not in truths.columns:
        return None
    free = pd.to_numeric(truths["truth_uncensored"], errors="coerce")
    differs = free.notna() & (free != truths["truth"].astype(float))
    estimands = set(truths.loc[differs, "estimand"])
    if not estimands:
        return None
    rows = truths[truths["estimand"].isin(estimands)].assign(truth_uncensored=free)
    return rows.pivot(index="scenario", columns="estimand", values="truth_uncensored")\
        .round(4).reindex([s for s in scenarios if s in set(rows["scenario"])])\
        .reset_index().fillna("")


def _sections(study, perf: pd.DataFrame, results: pd.DataFrame, meta: dict,
              truths: pd.DataFrame | None = None):
    """Yield ``(kind, payload)``: ("h1"|"h2"|"p", text) or ("table", DataFrame)."""
    yield "h1", study.title
    if study.aims:
        yield "p", "**Aims.** " + " ".join(study.aims.split())
    failed = results["error"] != ""
    n_err = int(failed.sum())
    n_nc = int((~results["converged"] & ~failed).sum())
    ran = methods_run(study, results)
    declared = ("" if len(ran) == len(study.methods) else
                f" ({len(ran)} of the {len(study.methods)} methods the study declares ran)")
    yield "p", (f"Study `{study.name}`: {len(study.scenarios)} scenarios x {len(ran)} "
                f"methods{declared}, {meta['reps']} replicates per scenario (seed {study.seed}); "
                f"{len(results)} method fits, {n_err} raised an error and {n_nc} did not "
                f"converge (excluded from the measures, counted in the convergence rate). "
                f"Cells are estimate (Monte Carlo SE), Morris, White & Crowther (2019).")
    if meta.get("run"):
        yield "p", meta["run"]
    for note in meta.get("notes", ()):
        yield "p", "**Note.** " + note
    yield "h2", "Data-generating mechanisms"
    yield "table", study.scenario_frame().drop(columns=["scenario_index"])
    yield "p", "An empty cell: the parameter does not apply to that scenario's mechanism."
    yield "h2", "Estimands and methods"
    truth = perf.drop_duplicates(["scenario", "estimand"])[["scenario", "estimand", "truth"]]
    yield "table", pd.DataFrame(
        [{"method": m.name, "family": m.family, "estimand": m.estimand,
          "options": ", ".join(f"{k}={v}" for k, v in m.config.items())} for m in ran])
    yield "table", truth.pivot(index="scenario", columns="estimand", values="truth").round(4)\
        .reindex([s.name for s in study.scenarios]).reset_index().fillna("")
    yield "p", ("True values of the estimands; an empty cell: no method of the study "
                "estimates that estimand in that scenario. A hazard ratio's true value is "
                "the population Cox estimand under the scenario's censoring (its "
                "administrative end, accrual and loss), the value a Cox model of the "
                "scenario's censored cohorts converges to; RMST and risk differences do not "
                "depend on censoring.")
    free = uncensored_table(truths, [s.name for s in study.scenarios])
    if free is not None:
        yield "table", free
        yield "p", ("True hazard ratios without censoring (every patient followed until "
                    "death; truth.csv's truth_uncensored): marginal hazards are not "
                    "proportional, so the Cox estimand depends on the follow-up. The "
                    "measures below use the values under censoring.")
    for measure, label in HEADLINE.items():
        if measure in set(perf["measure"]):
            yield "h2", label
            yield "table", measure_table(perf, measure)
            yield "p", ("An empty cell: the method does not run in that scenario; "
                        "–: no value (fewer than two replicates gave an estimate, or the "
                        "measure is undefined there, as relative bias at a true value of 0).")
    errors = error_table(results)
    if not errors.empty:
        yield "h2", "Most frequent errors"
        yield "table", errors


def write_markdown(sections, path: Path) -> None:
    parts = []
    for kind, payload in sections:
        if kind == "h1":
            parts.append(f"# {payload}")
        elif kind == "h2":
            parts.append(f"## {payload}")
        elif kind == "p":
            parts.append(payload)
        else:
            parts.append(_md_table(payload))
    text = "\n\n".join(parts) + "\n"
    atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_html(sections, path: Path, figures=()) -> None:
    body = []
    for kind, payload in sections:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(payload)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(payload).replace('**', '')}</p>")
        else:
            # the Markdown's cells: NaN (a parameter the mechanism lacks) is empty, as the
            # page says, not "NaN"
            body.append(payload.map(_cell).to_html(index=False, border=0, classes="perf"))
    for fig in figures:
        body.append(f'<figure><img src="{html.escape(fig)}" style="max-width:100%"></figure>')
    style = ("body{font-family:sans-serif;max-width:75em;margin:2em auto}"
             "table.perf{border-collapse:collapse;font-size:90%}"
             "table.perf td,table.perf th{padding:2px 8px;border-bottom:1px solid #ddd}")
    text = (f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")
    atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def summarize_run(out, *, plot: bool = False, reps: int | None = None,
                  on_note: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write ``results.<fmt>``, ``performance.csv``, ``summary.md``, ``summary.html`` (and
    ``figures/*.png`` with ``plot``) in the run directory ``out``; return their paths.
    Each file is written whole or not at all (a failing write raises ``WriteFailed``; the
    chunks are untouched, and summarizing again writes them).

    ``reps`` defaults to the replicates the run's last session was asked for (as that
    session's own summary used), else all on disk. The folder's lock is taken while the
    summary is written; a run holding it (in progress), a run with fewer replicates on
    disk than it was asked for, and replicates on disk beyond ``reps`` are said in the
    summary and told to ``on_note``."""
    if reps is not None and (isinstance(reps, bool) or not isinstance(reps, int) or reps < 2):
        raise ValueError(f"reps: must be an integer >= 2; got {reps!r}")
    manifest = read_manifest(RunDirectory(out))
    if manifest is None:
        raise ValueError(f"{out} is not a study run directory (no manifest.json)")
    run = RunDirectory(out, manifest["format"])
    try:
        raw = run.read_json("study.json")
    except (OSError, ValueError) as exc:  # (missing: a bare FileNotFoundError traceback)
        raise ValueError(f"{run.path / 'study.json'} cannot be read ({type(exc).__name__}: "
                         f"{exc}); resuming the run (study run --resume) writes it again"
                         ) from None
    study = study_from_raw(raw, source=str(run.path / "study.json"))
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(run.path))
            busy = False
        except FolderLocked:  # a run is writing: summarized as it stands, and said so
            busy = True
        return _summarize(run, study, plot, reps, busy, on_note or (lambda note: None))


def _summarize(run: RunDirectory, study, plot: bool, asked: int | None, busy: bool,
               on_note: Callable[[str], None]) -> dict[str, Path]:
    planned = planned_reps(run)
    reps = asked if asked is not None else planned
    results, truths = load_results(run.path, reps)
    counts = results.groupby("scenario_index")["rep"].nunique()
    if asked is not None and counts.max() < asked:  # (a summary of 99 showed the run's 2)
        raise RunRefused(f"{{reps_is}}{asked}: the run holds at most {int(counts.max())} "
                         "replicates per scenario; summarize without {reps} for all of them")
    notes = []
    if busy:
        notes.append("The run is in progress (another process is writing this folder): "
                     "this summary covers the chunks written so far; summarize again when "
                     "it ends.")
    elif planned is not None and (counts.min() < planned or len(counts) < len(study.scenarios)):
        notes.append(f"The run is unfinished: it was asked for {planned} replicates per "
                     f"scenario and holds {_span(counts, len(study.scenarios))}; resume it "
                     "(study run --resume) to complete it.")
    beyond = max((m.size for m in run.done().values()), default=0)
    if asked is None and reps is not None and beyond > reps:
        notes.append(f"Replicates {reps} and above on disk (up to {beyond} per scenario) are "
                     f"left out: the run's last session asked for {reps}; summarize with "
                     "reps (--reps) to use more.")
    for note in notes:
        on_note(note)
    meta = {"reps": _span(counts, len(study.scenarios)),
            "run": run_line(run, in_table=int(counts.sum())), "notes": notes}
    perf = performance_table(results, truths, level=study.level, alpha=study.alpha,
                             measures=study.measures)
    paths = {"results": run.path / f"results.{run.fmt}", "performance": run.path / "performance.csv",
             "markdown": run.path / "summary.md", "html": run.path / "summary.html"}
    write_frame(results, paths["results"])
    write_frame(perf, paths["performance"])
    figures = []
    if plot:
        from .plots import write_figures
        figs = write_figures(study, perf, results, truths, run.path / "figures")
        paths.update(figs)
        figures = [str(p.relative_to(run.path)) for p in figs.values()]
    sections = list(_sections(study, perf, results, meta, truths))
    write_markdown(sections, paths["markdown"])
    write_html(sections, paths["html"], figures)
    return paths


def _span(counts: pd.Series, scenarios: int) -> int | str:
    """Replicates per scenario: one number, or "min-max" (0 for a scenario with none)."""
    low = int(counts.min()) if len(counts) == scenarios else 0
    return int(counts.max()) if low == counts.max() else f"{low}-{int(counts.max())}"
