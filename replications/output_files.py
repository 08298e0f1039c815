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

from .summaries import ShiftResult, TargetResult, field_key

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["OUTPUT_FILES", "REPORT_FILE", "clear_outputs", "json_ready", "json_text",
           "shifts_frame", "targets_frame"]


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


#: The files ``replications.report.write_outputs`` may write in its folder, besides
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
