"""The machine-readable files of ``tacebench replicate --out``: valid JSON, tidy tables.

JSON has no infinity or NaN: a value that is not a finite number (a median not reached,
an unbounded interval end, a z that cannot be computed) is ``null``, never a string such
as ``"inf"``. Targets and shifts have different columns, so they are two tables
(``targets.csv``, ``shifts.csv``), one row per target or shift; column names are the
field's words without Python's trailing underscore (``from``, not ``from_``).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .summaries import CONTRIBUTION_COLUMNS, ShiftResult, TargetResult, field_key

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["OUTPUT_FILES", "REPORT_FILE", "clear_outputs", "finding_dict", "json_ready",
           "json_text", "shifts_frame", "targets_frame", "write_outputs"]


def json_ready(obj):
    """``obj`` with non-finite floats as None, numpy scalars as Python numbers, tuples as
    lists and dictionary keys without a trailing underscore."""
    if isinstance(obj, dict):
        return {field_key(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [json_ready(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def json_text(obj) -> str:
    """Strict JSON (``allow_nan=False``: a non-finite number that escaped
    :func:`json_ready` is an error, not an invalid file); other objects as text."""
    return json.dumps(json_ready(obj), indent=2, default=str, allow_nan=False)


def _frame(results, rows_of, kind, drop: Sequence[str] = ()) -> pd.DataFrame:
    # the columns come from the dataclass, so a study without shifts still gets a header
    import pandas as pd
    columns = ["study"] + [field_key(f.name) for f in fields(kind) if f.name not in drop]
    rows = [{"study": r.study_id, **{field_key(k): v for k, v in asdict(x).items() if k not in drop}}
            for r in results for x in rows_of(r)]
    return pd.DataFrame(rows, columns=columns)


def targets_frame(results) -> pd.DataFrame:
    """One row per simulated target of every result (columns: study, then the fields of
    ``TargetResult``)."""
    return _frame(results, lambda r: r.targets, TargetResult)


def shifts_frame(results) -> pd.DataFrame:
    """One row per paired shift of every result (columns: study, then the fields of
    ``ShiftResult`` without its contributions, which are ``contributions.csv``)."""
    return _frame(results, lambda r: r.shifts, ShiftResult, drop=("contributions",))


#: The files :func:`write_outputs` may write in its folder, besides
#: ``draws/<study>.csv``.
OUTPUT_FILES = ("results.json", "targets.csv", "shifts.csv", "contributions.csv", "audit.csv",
                "audit_coverage.csv")
#: What ``tacebench report DIR`` writes there by default, from those files.
REPORT_FILE = "report.html"


def clear_outputs(out: str | Path) -> list[Path]:
    """Remove an earlier run's outputs from the folder ``out``: :data:`OUTPUT_FILES`,
    ``draws/*.csv``, the figures ``plots/*.png`` and ``plots/*.svg`` and the report
    rendered from them (:data:`REPORT_FILE`); other files are left alone. A run that
    wrote fewer studies, no ``--plot`` or ``--audit-only`` would otherwise leave the
    earlier run's files beside its own: ``tacebench report`` showed the earlier run's
    Kaplan-Meier figures in the later run's report. Returns the paths removed."""
    out = Path(out)
    stale = [out / name for name in (*OUTPUT_FILES, REPORT_FILE) if (out / name).is_file()]
    stale += sorted((out / "draws").glob("*.csv"))
    stale += sorted(p for ext in ("png", "svg") for p in (out / "plots").glob(f"*.{ext}"))
    for p in stale:
        p.unlink()
    return stale


def finding_dict(f) -> dict:
    """An audit finding as a row of ``audit.csv`` / a JSON object."""
    return f.to_dict()


def write_outputs(reports: Sequence, out: str | Path) -> list[Path]:
    """Write JSON and CSV files with the full results; returns the paths written.

    Each file is written whole or not at all (:func:`tacebench.engine.files.atomic_write`),
    and ``results.json`` last: a folder that has it holds the run's every file, so a write
    stopped midway (killed, disk full: :class:`~tacebench.engine.files.WriteFailed`) is
    never read as a complete run."""
    import pandas as pd
    from tacebench.engine.files import atomic_write

    out = Path(out)
    (out / "draws").mkdir(parents=True, exist_ok=True)
    written = []

    def csv(frame: pd.DataFrame, p: Path, **kw) -> None:
        written.append(atomic_write(p, lambda tmp: frame.to_csv(tmp, **kw)))

    results = [r.result for r in reports if r.result is not None]
    if results:
        csv(targets_frame(results), out / "targets.csv", index=False)
        csv(shifts_frame(results), out / "shifts.csv", index=False)
        # rows, not a concat of frames: a study without shifts has an empty frame
        rows = [row for r in results for row in r.contributions_frame().to_dict("records")]
        csv(pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS), out / "contributions.csv",
            index=False)
        for r in results:
            csv(r.draws_frame(), out / "draws" / f"{r.study_id}.csv", index_label="replicate")
    audit_rows = [{**finding_dict(f), "study": r.study_id} for r in reports for f in r.audit]
    csv(pd.DataFrame(audit_rows), out / "audit.csv", index=False)
    covered = [r for r in reports if r.coverage is not None]
    if covered:
        csv(pd.DataFrame([{"study": r.study_id, **row} for r in covered
                          for row in r.coverage.to_dict()["rules"]]),
            out / "audit_coverage.csv", index=False)
    text = json_text([r.to_dict() for r in reports])
    written.append(atomic_write(out / "results.json", lambda tmp: tmp.write_text(text)))
    return written
