"""Frozen copy of ``estimators/design.py`` before the one-pass fast path (commit 96068be),
the reference that tests/estimators/test_design_fast.py compares the current code with.

Design matrices from a DataFrame with explicit categorical coding.

Formula-free on purpose: the caller lists the covariates and says which are categorical, so
a study's ``analysis.toml`` fully determines the model. Categorical covariates are
treatment (dummy) coded against a reference level, the first level unless stated, as R's
``contr.treatment`` does; the result carries the level bookkeeping so that a coefficient
table is readable and the same coding can be applied to new data.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DesignMatrix", "design_matrix", "treatment_indicator"]


@dataclass(frozen=True)
class DesignMatrix:
    """An (n, p) float design matrix without intercept, with its column bookkeeping.

    Attributes
    ----------
    values : (n, p) float64 array
    names : tuple of str
        Column names; a dummy column of categorical ``c`` at level ``l`` is ``"c[l]"``.
    covariates : tuple of str
        The source covariates, in order.
    levels : dict
        For each categorical covariate, its levels (reference first as used).
    reference : dict
        For each categorical covariate, its reference level.
    """

    values: np.ndarray
    names: tuple[str, ...]
    covariates: tuple[str, ...]
    levels: dict
    reference: dict

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.values, columns=list(self.names))

    def transform(self, frame) -> DesignMatrix:
        """Apply this coding (same levels and reference) to new rows."""
        frame = _as_frame(frame)
        cols, names = [], []
        for cov in self.covariates:
            _require_columns(frame, [cov])
            if cov in self.levels:
                x = _categorical_values(frame[cov], cov)
                unknown = sorted(set(map(str, x)) - set(map(str, self.levels[cov])))
                if unknown:
                    raise ValueError(f"frame[{cov!r}] has levels {unknown} unseen when the design was built")
                for lev in self.levels[cov]:
                    if lev == self.reference[cov]:
                        continue
                    cols.append((x == lev).astype(np.float64))
                    names.append(f"{cov}[{lev}]")
            else:
                cols.append(_numeric_values(frame[cov], cov))
                names.append(cov)
        values = np.column_stack(cols) if cols else np.empty((len(frame), 0))
        return DesignMatrix(values, tuple(names), self.covariates, self.levels, self.reference)


def _as_frame(frame) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, Mapping):
        return pd.DataFrame(dict(frame))
    if hasattr(frame, "to_frame"):
        return frame.to_frame()
    raise ValueError(f"frame must be a pandas DataFrame or a mapping of columns; got {type(frame).__name__}")


def treatment_indicator(frame, treated) -> np.ndarray:
    """The 0/1 treatment as int8, from a column name of ``frame`` or an array, checked to
    have one entry per row and both arms."""
    from tacebench.estimators._checks import check_binary, check_lengths

    fr = _as_frame(frame)
    if isinstance(treated, str):
        if treated not in fr.columns:
            raise ValueError(f"treated column {treated!r} is not in frame")
        treated = fr[treated].to_numpy()
    z = check_binary(treated, "treated")
    check_lengths({"frame": np.empty(len(fr)), "treated": z})
    if np.unique(z).size < 2:
        raise ValueError(f"treated must contain both arms; got only {int(z[0])}")
    return z


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
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
    present = set(s.astype(object).unique())
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [lev for lev in s.cat.categories if lev in present]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def design_matrix(
    frame,
    covariates: Sequence[str],
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, object] | None = None,
) -> DesignMatrix:
    """Build the (no-intercept) design matrix of ``covariates`` from ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame or mapping of column arrays (or an object with ``to_frame()``)
    covariates : sequence of str
        Columns to use, in order.
    categorical : sequence of str, optional
        Covariates to dummy-code (treatment contrasts). Columns with a pandas ``category``
        dtype are categorical even when not listed; any other non-numeric column must be
        listed (no silent guessing).
    reference : mapping, optional
        Reference level per categorical covariate; default the first level (declared order
        for a pandas Categorical, otherwise sorted order), as R's ``contr.treatment``.

    Raises
    ------
    ValueError
        Unknown columns, missing values, a non-numeric column not declared categorical, a
        constant column, a categorical with one observed level, an unknown reference level.
    """
    frame = _as_frame(frame)
    if isinstance(covariates, str):
        raise ValueError(f"covariates must be a sequence of column names; got the string {covariates!r}")
    covariates = tuple(covariates)
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"covariates has duplicates: {list(covariates)}")
    categorical = tuple(categorical or ())
    reference = dict(reference or {})
    _require_columns(frame, covariates)
    stray = [c for c in categorical if c not in covariates]
    if stray:
        raise ValueError(f"categorical lists {stray}, which are not in covariates {list(covariates)}")
    stray = [c for c in reference if c not in categorical and not _is_category(frame, c)]
    if stray:
        raise ValueError(f"reference names {stray}, which are not categorical covariates")
    levels, refs = {}, {}
    for cov in covariates:
        s = frame[cov]
        if cov in categorical or isinstance(s.dtype, pd.CategoricalDtype):
            _check_missing(s, cov)
            levs = _observed_levels(s)
            if len(levs) < 2:
                raise ValueError(f"categorical frame[{cov!r}] has a single observed level {levs!r}")
            ref = reference.get(cov, levs[0])
            if ref not in levs:
                raise ValueError(f"reference[{cov!r}] = {ref!r} is not an observed level {levs!r}")
            levels[cov] = tuple([ref] + [lev for lev in levs if lev != ref])
            refs[cov] = ref
        else:
            x = _numeric_values(s, cov)
            if x.size and np.all(x == x[0]):
                raise ValueError(f"frame[{cov!r}] is constant ({x[0]:g}); it cannot be estimated")
    return DesignMatrix(np.empty((0, 0)), (), covariates, levels, refs).transform(frame)


def _is_category(frame: pd.DataFrame, col: str) -> bool:
    return col in frame.columns and isinstance(frame[col].dtype, pd.CategoricalDtype)
