"""Exact matching on categories: seed 002's matched case-control design.

Seed 002 matched each TACE+sorafenib patient 1:1 to a TACE-alone patient "according to sex
and age ... lesion size and number of lesions" (categorised). Here a treated unit's
candidates are the controls with identical values on every ``on`` column; among them
controls are drawn at random (reproducibly from ``rng``), without replacement. Where a
stratum has too few controls, who goes unmatched is also random: treated units are visited
in a random order and every one gets its first control before any gets a second (the
rounds of ``MatchIt``'s ``ratio``). With ``rng=None`` the draw is replaced by data order
(first candidates first), which is deterministic but not a random sample.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .design import _as_frame, _check_missing, _require_columns, treatment_indicator
from .matching_result import MatchResult, result_from_sets

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["exact_match_sets", "match_exact"]


def exact_match_sets(codes: np.ndarray, z: np.ndarray, ratio: int, rng) -> np.ndarray:
    """Exact matching within strata on trusted arrays (the kernel of :func:`match_exact`).

    Parameters
    ----------
    codes : (n,) int array
        Stratum code of each row.
    z : (n,) array of 0/1
    ratio : int
        Controls per treated unit.
    rng : numpy.random.Generator or None
        Random order within strata (``None``: data order).

    Returns
    -------
    (n1, ratio) int array
        Matched control rows per treated unit (data order), ``-1`` where none; no row
        with a control means no stratum holds both arms.

    Notes
    -----
    No validation, and never raises on data.
    """
    t_rows = np.flatnonzero(z == 1)
    slot = np.empty(z.size, dtype=np.intp)
    slot[t_rows] = np.arange(t_rows.size)
    mm = np.full((t_rows.size, ratio), -1, dtype=np.intp)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        members = order[a:b]  # data order within the stratum (stable sort)
        T = members[z[members] == 1]
        C = members[z[members] == 0]
        if T.size == 0 or C.size == 0:
            continue
        if rng is not None:
            T = rng.permutation(T)
            C = rng.permutation(C)
        take = min(C.size, ratio * T.size)
        for j in range(take):
            mm[slot[T[j % T.size]], j // T.size] = C[j]
    return mm


def match_exact(
    frame,
    treated,
    on: Sequence[str],
    *,
    ratio: int = 1,
    rng: np.random.Generator | None = None,
) -> MatchResult:
    """Match controls to treated units with identical values on ``on``.

    Parameters
    ----------
    frame : pandas.DataFrame (or mapping of columns)
    treated : str or (n,) array-like of 0/1
        Column name in ``frame`` or the indicator.
    on : sequence of str
        Columns to match exactly on (categorise continuous ones first, e.g. age bands).
    ratio : int
        Controls per treated unit.
    rng : numpy.random.Generator, optional
        Random choice among candidates and of who is unmatched in short strata; ``None``
        takes candidates in data order.

    Returns
    -------
    MatchResult
        Sets are numbered in the data order of their treated unit; ``caliper`` and
        ``distance`` are None.

    Raises
    ------
    ValueError
        Unknown or missing-valued ``on`` columns, a single arm, or no stratum holding both
        a treated unit and a control.

    Notes
    -----
    R analogue (deterministic, not random)::

        matchit(treated ~ sex + age_band, data = d, method = "nearest", distance = "mahalanobis",
                exact = ~ sex + age_band, ratio = 1)
    """
    fr = _as_frame(frame)
    if isinstance(on, str) or not isinstance(on, Sequence) or len(on) == 0:
        raise ValueError(f"on must be a non-empty sequence of column names; got {on!r}")
    _require_columns(fr, list(on))
    for col in on:
        _check_missing(fr[col], col)
    z = treatment_indicator(fr, treated)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer; got {ratio!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator or None; got {rng!r}")
    codes = fr[list(on)].astype(object).groupby(list(on), sort=True).ngroup().to_numpy()
    mm = exact_match_sets(codes, z, int(ratio), rng)
    if not (mm[:, 0] >= 0).any():
        raise ValueError(f"no stratum of on={list(on)} holds both a treated unit and a control")
    return result_from_sets(mm, np.flatnonzero(z == 1), z, caliper=None, distance=None,
                             method=f"exact(on={list(on)}, ratio={ratio})")


def strata_table(frame, treated, on: Sequence[str]) -> pd.DataFrame:
    """Counts of treated and control units per exact-matching stratum (a design check)."""
    fr = _as_frame(frame)
    z = treatment_indicator(fr, treated)
    return (fr[list(on)].assign(_z=z).groupby(list(on) + ["_z"]).size()
            .unstack("_z", fill_value=0).rename(columns={0: "control", 1: "treated"}))
