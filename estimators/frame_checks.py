"""Checks of a frame's covariate columns, shared by the functions that take a DataFrame.

The frame itself (:func:`_as_frame`: a DataFrame, a mapping of columns, or an object with
``to_frame()``), its columns' presence, missing values, numeric values and the observed
levels of a categorical column, each with the error message that names the column.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:           # annotations only: pandas is imported by the functions that
    import pandas as pd     # read a frame, not by a replicate worker


def _as_frame(frame) -> pd.DataFrame:
    import pandas as pd
    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, Mapping):
        return pd.DataFrame(dict(frame))
    if hasattr(frame, "to_frame"):
        return frame.to_frame()
    raise ValueError(f"frame must be a pandas DataFrame or a mapping of columns; got {type(frame).__name__}")


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    # several columns: one hash set of the labels, not an Index lookup per column (several
    # times dearer); a label the set misses is asked of the Index itself, whose notion of
    # equality decides
    labels = set(frame.columns) if len(columns) > 1 else ()
    missing = [c for c in columns if c not in labels and c not in frame.columns]
    if missing:
        raise ValueError(f"covariates {missing} are not columns of frame (columns: {list(frame.columns)})")


def _check_missing(s: pd.Series, name: str) -> None:
    na = s.isna().to_numpy()
    if na.any():
        rows = np.flatnonzero(na)[:3].tolist()
        raise ValueError(
            f"frame[{name!r}] has {int(na.sum())} missing value(s) (rows {rows}...): impute or "
            "drop them first"
        )


def _numeric_values(s: pd.Series, name: str) -> np.ndarray:
    import pandas as pd
    _check_missing(s, name)
    if isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
    ):
        raise ValueError(
            f"frame[{name!r}] is not numeric (dtype {s.dtype}); list it in categorical= to "
            "dummy-code it"
        )
    x = s.to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"frame[{name!r}] has non-finite values")
    return x


def _categorical_values(s: pd.Series, name: str) -> np.ndarray:
    _check_missing(s, name)
    return s.astype(object).to_numpy()


def _observed_levels(s: pd.Series) -> list:
    """Levels in their declared order (pandas Categorical) or sorted, keeping observed ones."""
    import pandas as pd
    present = set(s.astype(object).unique())
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [lev for lev in s.cat.categories if lev in present]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)
