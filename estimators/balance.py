"""Covariate balance: a Table-1-like summary of SMDs and variance ratios per covariate.

The per-covariate statistics and their definitions (Austin 2009 pooled-SD SMD, Yang &
Dalton 2012 categorical SMD, the pre-adjustment denominator of cobalt's
``s.d.denom = "pooled"``) live in :mod:`estimators.smd`; this module tabulates them
before and after weighting or matching.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import (check_binary, check_choice, check_flag, check_lengths, check_real,
                      check_weights)
from .design import _as_frame, _require_columns
from .smd import DENOMINATORS, SMDResult, _prepare, smd_kernel, standardized_mean_difference

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["SMDResult", "BalanceTable", "standardized_mean_difference", "balance_table"]


def _decode(s: pd.Series, levels: list, cov: str) -> pd.Series:
    """Integer codes -> level labels (simulate's convention: code i is levels[i])."""
    import pandas as pd
    codes = s.to_numpy()
    bad = ~np.isin(codes, np.arange(len(levels))) & ~pd.isna(codes)
    if bad.any():
        raise ValueError(f"frame[{cov!r}] has codes {np.unique(codes[bad])[:3].tolist()} "
                         f"outside 0..{len(levels) - 1} of levels {levels}")
    labels = np.asarray(levels, dtype=object)[np.nan_to_num(codes).astype(int)]
    return pd.Series(labels, index=s.index).where(~pd.isna(codes))


@dataclass(frozen=True)
class BalanceTable:
    """Table-1-like balance summary, before and (optionally) after weighting.

    Attributes
    ----------
    covariates : tuple of str
    unweighted : tuple of SMDResult
    weighted : tuple of SMDResult or None
    n_treated, n_control : int
    sum_weights_treated, sum_weights_control : float or None
        Weighted arm sizes (seed 003's "weighted group sizes").
    threshold : float
        |SMD| above which a covariate counts as imbalanced (0.1 by convention).
    """

    covariates: tuple[str, ...]
    unweighted: tuple[SMDResult, ...]
    weighted: tuple[SMDResult, ...] | None
    n_treated: int
    n_control: int
    sum_weights_treated: float | None
    sum_weights_control: float | None
    threshold: float

    def smd(self, weighted: bool | None = None) -> pd.Series:
        """One SMD per covariate (Yang–Dalton for categorical); weighted if available."""
        import pandas as pd
        res = self._pick(weighted)
        return pd.Series([r.smd for r in res], index=list(self.covariates), name="smd")

    def max_abs_smd(self, weighted: bool | None = None) -> float:
        return float(self.smd(weighted).abs().max())

    def imbalanced(self, weighted: bool | None = None) -> list[str]:
        s = self.smd(weighted)
        return list(s.index[s.abs() > self.threshold])

    def _pick(self, weighted):
        if weighted is None:
            weighted = self.weighted is not None
        if weighted and self.weighted is None:
            raise ValueError("weighted=True but the table was built without weights")
        return self.weighted if weighted else self.unweighted

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per continuous / binary covariate, a header row plus one row
        per level for categorical ones; weighted columns carry the suffix ``_w``."""
        import pandas as pd
        frames = []
        for i, cov in enumerate(self.covariates):
            f = self.unweighted[i].to_frame()
            if self.weighted is not None:
                fw = self.weighted[i].to_frame().drop(columns=["level", "kind"])
                f = f.join(fw.add_suffix("_w"))
            frames.append(f.assign(variable=cov))
        out = pd.concat(frames, ignore_index=True)
        lead = ["variable", "level", "kind"]
        return out[lead + [c for c in out.columns if c not in lead]]


def _column_or_array(frame: pd.DataFrame, value, name: str):
    """``frame[value]`` when ``value`` names a column, else ``value`` itself."""
    if not isinstance(value, str):
        return value
    if value not in frame.columns:
        raise ValueError(f"{name} column {value!r} is not in frame (columns: "
                         f"{list(frame.columns)})")
    return frame[value]


def balance_table(
    frame,
    treated,
    covariates: Sequence[str],
    weights=None,
    *,
    categorical: Sequence[str] | Mapping[str, Sequence] | None = None,
    denominator: str = "pooled",
    denominator_weighted: bool = False,
    threshold: float = 0.1,
) -> BalanceTable:
    """Balance of ``covariates`` between the arms, unweighted and (if ``weights``) weighted.

    Parameters
    ----------
    frame : pandas.DataFrame (or mapping of columns, or an object with ``to_frame()``)
    treated : str or (n,) array-like
        Column name or the 0/1 indicator itself.
    covariates : sequence of str
    weights : str or (n,) array-like, optional
        Column name or array of IPT / matching weights.
    categorical : sequence of str, or mapping name -> levels, optional
        Categorical covariates; with a mapping, integer codes ``i`` mean ``levels[i]``
        (simulate's ``Cohort.levels``). Object / pandas-category columns are categorical
        without being listed.
    denominator, denominator_weighted
        As :func:`standardized_mean_difference`.
    threshold : float
        Imbalance threshold on |SMD|.
    """
    import pandas as pd
    frame = _as_frame(frame)
    if isinstance(covariates, str):
        raise ValueError(f"covariates must be a sequence of column names; got the string {covariates!r}")
    covariates = tuple(covariates)
    _require_columns(frame, covariates)
    t = check_binary(_column_or_array(frame, treated, "treated"), "treated")
    check_lengths({"treated": t}, len(frame))
    weights = _column_or_array(frame, weights, "weights")
    w = None if weights is None else check_weights(weights, len(frame))
    check_choice(denominator, "denominator", DENOMINATORS)
    denominator_weighted = check_flag(denominator_weighted, "denominator_weighted")
    threshold = check_real(threshold, "threshold")
    cat = dict(categorical) if isinstance(categorical, Mapping) else {c: None for c in categorical or ()}
    stray = [c for c in cat if c not in covariates]
    if stray:
        raise ValueError(f"categorical lists {stray}, which are not in covariates {list(covariates)}")
    ones = np.ones(len(t))
    unw, wtd = [], []
    for cov in covariates:
        s = frame[cov]
        kind, levels = "auto", None
        if cov in cat or isinstance(s.dtype, pd.CategoricalDtype):
            kind = "categorical"
            if cat.get(cov) is not None:
                levels = list(cat[cov])
                if pd.api.types.is_numeric_dtype(s):
                    s = _decode(s, levels, cov)
            elif isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lev for lev in s.cat.categories if (s == lev).any()]
        x, kind, levels = _prepare(s, t, ones if w is None else w, kind, levels, f"frame[{cov!r}]",
                                   weighted_sd=denominator_weighted)
        unw.append(smd_kernel(x, t, ones, kind, levels, denominator, denominator_weighted, False))
        if w is not None:
            wtd.append(smd_kernel(x, t, w, kind, levels, denominator, denominator_weighted, True))
    return BalanceTable(
        covariates=covariates, unweighted=tuple(unw), weighted=tuple(wtd) if w is not None else None,
        n_treated=int(t.sum()), n_control=int((1 - t).sum()),
        sum_weights_treated=None if w is None else float(w[t == 1].sum()),
        sum_weights_control=None if w is None else float(w[t == 0].sum()),
        threshold=threshold,
    )
