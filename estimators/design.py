"""Design matrices from a DataFrame with explicit categorical coding.

Formula-free on purpose: the caller lists the covariates and says which are categorical, so
a study's ``analysis.toml`` fully determines the model. Categorical covariates are
treatment (dummy) coded against a reference level, the first level unless stated, as R's
``contr.treatment`` does; the result carries the level bookkeeping so that a coefficient
table is readable and the same coding can be applied to new data.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from ._checks import InputTypeError, check_binary, check_both_arms, check_lengths
from .frame_access import frame_columns, frame_layout, series_layout
from .frame_checks import (_as_frame, _categorical_values, _check_missing, _numeric_values,
                           _observed_levels, _require_columns)

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["DesignMatrix", "design_matrix", "treatment_indicator"]


@dataclass(frozen=True, eq=False)
class DesignMatrix(ArrayRecord):
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
        import pandas as pd
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


def treatment_indicator(frame, treated) -> np.ndarray:
    """The 0/1 treatment as int8, from a column name of ``frame`` or an array, checked to
    have one entry per row and both arms."""
    fr = _as_frame(frame)
    column = treated if isinstance(treated, str) else None
    if isinstance(treated, str):
        col = frame_columns(fr, (treated,))  # None also when the label is missing
        if col is not None and isinstance(col[treated][1], np.ndarray):
            treated = col[treated][1]  # what to_numpy() gives a numpy-dtype column
        elif treated not in fr.columns:
            raise ValueError(f"treated column {treated!r} is not in frame")
        else:
            treated = fr[treated].to_numpy()
    if not (isinstance(treated, np.ndarray) and treated.dtype.kind in "biuf"):
        _refuse_labels(treated, column)
    z = check_binary(treated, "treated")
    if z.shape[0] != len(fr):  # (the common case without the check's arrays)
        check_lengths({"frame": np.empty(len(fr)), "treated": z})
    return check_both_arms(z)


def _refuse_labels(treated, column: str | None) -> None:
    """Raise when ``treated`` holds arm labels (strings, a categorical) instead of 0/1,
    naming them and how to say which is treated ('treated must be numeric; got
    'TACE+sorafenib'' left the user to find the fix)."""
    values = np.asarray(treated, dtype=object).ravel()
    labels = sorted({str(v) for v in values if isinstance(v, str)})
    if labels:
        name = "treated" if column is None else f"treated column {column!r}"
        held = "treated" if column is None else f"frame[{column!r}]"
        example = (f"{held} == {labels[-1]!r}" if len(labels) == 2 else
                   "an indicator of the treated arm")
        raise InputTypeError(f"{name} holds arm labels {labels[:5]}"
                             f"{' ...' if len(labels) > 5 else ''}, not 0/1: give the "
                             f"treatment as 0/1, e.g. {example}")


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
        Reference level per categorical covariate; default the first level (as R's
        ``contr.treatment``): in declared order for a pandas Categorical, else in Python's
        sorted order, code-point order for strings ("B" before "a"), where R's ``factor()``
        uses the locale's collation ("a" "A" "b" "B" in C.UTF-8, "A" "B" "a" "b" in C). For
        mixed-case labels set the order with ``pd.Categorical(x, categories=[...])`` or
        name the level here.

    Raises
    ------
    ValueError
        Unknown columns, missing values, a non-numeric column not declared categorical, a
        constant column, a categorical with one observed level, an unknown reference level.
    """
    return design_with_rows(frame, covariates, categorical, reference)[0]


def design_with_rows(frame, covariates: Sequence[str], categorical: Sequence[str] | None = None,
                     reference: Mapping[str, object] | None = None
                     ) -> tuple[DesignMatrix, np.ndarray | None]:
    """:func:`design_matrix`, and the same design transposed with an intercept row first.

    Parameters
    ----------
    frame, covariates, categorical, reference
        As :func:`design_matrix` (the same validation and errors).

    Returns
    -------
    design : DesignMatrix
    rows : (p + 1, n) C-contiguous float array or None
        Row 0 ones, then ``design.values.T``: the layout a logistic fit's products work
        in, which the one-pass path builds anyway (``None`` from the per-column path).
        Saves the propensity model a copy of the design and a transposition.
    """
    frame = _as_frame(frame)
    if isinstance(covariates, str):
        raise ValueError(f"covariates must be a sequence of column names; got the string {covariates!r}")
    covariates = tuple(covariates)
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"covariates has duplicates: {list(covariates)}")
    categorical = tuple(categorical or ())
    reference = dict(reference or {})
    # None also when a covariate is missing, which the check below then names
    layout = frame_layout(frame, covariates)
    if layout is None:
        _require_columns(frame, covariates)
    stray = [c for c in categorical if c not in covariates]
    if stray:
        raise ValueError(f"categorical lists {stray}, which are not in covariates {list(covariates)}")
    stray = [c for c in reference if c not in categorical and not _is_category(frame, c)]
    if stray:
        raise ValueError(f"reference names {stray}, which are not categorical covariates")
    fast = _fast_design(frame, covariates, categorical, reference, layout)
    if fast is not None:
        return fast
    return _design_by_column(frame, covariates, categorical, reference), None


def _design_by_column(frame: pd.DataFrame, covariates: tuple, categorical: tuple,
                      reference: dict) -> DesignMatrix:
    """Validate and code covariate by covariate (pandas per column). The general path:
    every dtype pandas holds, and the source of every error message. The fast path hands
    over to it whenever a frame is not clean, so that the error names the first offending
    covariate (in ``covariates`` order) exactly as here."""
    import pandas as pd
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
    import pandas as pd
    return col in frame.columns and isinstance(frame[col].dtype, pd.CategoricalDtype)


#: numpy dtype kinds the fast path takes as numeric covariates (bool, int, uint, float), as
#: categorical covariates (bool, int, uint; object only when every value is a str).
_NUMERIC_KINDS = frozenset("biuf")
_CODED_KINDS = frozenset("biu")


def _codes(dtype, values):
    """``(codes, observed levels as Python objects in code order)`` of a categorical
    covariate (its dtype and ``Series.values``), or ``None`` when the fast path cannot
    vouch for the old semantics (missing values, float or mixed-type levels): the caller
    then takes the per-column path."""
    import pandas as pd
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(values.codes)
        if codes.size == 0 or np.minimum.reduce(codes) < 0:  # -1: a missing value
            return None
        cats = list(dtype.categories)  # Python scalars, as iterating the categories gives
        seen = np.bincount(codes, minlength=len(cats)) > 0
        # the declared order, observed ones only; codes index ``cats``
        return codes, [(cats[k], k) for k in seen.nonzero()[0].tolist()]
    if not isinstance(dtype, np.dtype):
        return None
    if dtype.kind == "O":
        if pd.api.types.infer_dtype(values, skipna=False) != "string":
            return None
    elif dtype.kind not in _CODED_KINDS:
        return None
    codes, uniques = pd.factorize(values, sort=True)
    # sorted, as the per-column path's sorted(set(...)) for one type of value
    return codes, [(lev, k) for k, lev in enumerate(uniques.tolist())]


def _fast_design(frame: pd.DataFrame, covariates: tuple, categorical: tuple,
                 reference: dict, layout: tuple[dict, dict] | None = None
                 ) -> tuple[DesignMatrix, np.ndarray] | None:
    """The design matrix of a clean frame in one pass, and its rows with an intercept row
    first (see :func:`design_with_rows`): numeric columns written into one (p, n) block
    (consecutive columns of one float block of the frame by one ``take``) checked for
    finiteness and constancy at once, categorical columns dummy coded from their integer
    codes. Returns ``None`` (the caller then takes :func:`_design_by_column`, which
    raises the precise error) as soon as anything is not plainly valid: a missing or
    non-finite value, a constant column, a dtype other than numpy numeric / pandas
    Categorical / str, one observed level, an unknown reference. Same values, names,
    levels and references as the per-column path. ``layout``:
    :func:`estimators.frame_access.frame_layout` of the covariates, if it could read it."""
    import pandas as pd
    n = len(frame)
    if n == 0:
        return None
    cat = set(categorical)
    if layout is None:
        layout = series_layout(frame, covariates)
        if layout is None:
            return None
    blocks, where = layout
    plan = []  # [numpy block, rows, covariates] of consecutive ones, or a categorical's
    # (cov, codes, [(level, code)...], reference, its index)
    width = 0
    for cov in covariates:
        b, row = where[cov]
        vals = blocks[b]
        if cov in cat or not isinstance(vals, np.ndarray):
            dtype = vals.dtype
            if not (cov in cat or isinstance(dtype, pd.CategoricalDtype)):
                return None  # an extension dtype other than a Categorical
            got = _codes(dtype, vals[row] if isinstance(vals, np.ndarray) else vals)
            if got is None:
                return None
            codes, levs = got
            if len(levs) < 2:
                return None
            ref = reference.get(cov, levs[0][0])
            at = [i for i, (lev, _) in enumerate(levs) if lev == ref]
            # an unknown reference, or one equal to a level but printed differently
            # (1.0 for level 1), goes to the per-column path and its exact behaviour
            if len(at) != 1 or str(levs[at[0]][0]) != str(ref):
                return None
            plan.append((cov, codes, levs, ref, at[0]))
            width += len(levs) - 1
            continue
        if vals.dtype.kind not in _NUMERIC_KINDS:
            return None
        last = plan[-1] if plan else None
        if type(last) is list and last[0] is vals:
            last[1].append(row)
            last[2].append(cov)
        else:
            plan.append([vals, [row], [cov]])
        width += 1
    # one row per design column: contiguous writes, and the checks below reduce along
    # contiguous rows (a column-wise reduction of an (n, p) block costs several times more)
    rows = np.empty((width + 1, n))
    rows[0] = 1.0  # the intercept of a model fitted to this design
    block = rows[1:]
    names, levels, refs = [], {}, {}
    j = 0
    for item in plan:
        if type(item) is list:
            vals, at_rows, covs = item
            k = len(at_rows)
            if k > 1 and vals.dtype == block.dtype:  # the same doubles, copied at once
                vals.take(at_rows, axis=0, out=block[j:j + k], mode="clip")
            else:
                for r, row in enumerate(at_rows):  # (converted to float row by row)
                    block[j + r] = vals[row]
            names.extend(covs)
            j += k
            continue
        cov, codes, levs, ref, at = item
        levels[cov] = tuple([ref] + [lev for i, (lev, _) in enumerate(levs) if i != at])
        refs[cov] = ref
        for i, (lev, k) in enumerate(levs):
            if i == at:
                continue
            np.equal(codes, k, out=block[j], casting="unsafe")
            names.append(f"{cov}[{lev}]")
            j += 1
    # one check over the whole block for NaN/inf and one for constant columns: the dummy
    # columns are 0/1 and never constant (each codes an observed level, with another
    # level observed), so a hit is always a numeric covariate's
    # (the reductions as ufunc methods: the ndarray methods' Python wrappers cost more
    # than these passes over a few thousand entries)
    if not (np.logical_and.reduce(np.isfinite(block), axis=None)
            and not np.logical_or.reduce(np.logical_and.reduce(block == block[:, :1], axis=1))):
        return None
    return (DesignMatrix(np.ascontiguousarray(block.T), tuple(names), covariates, levels, refs),
            rows)
