"""The result of a matcher: matched sets, the matched sample and MatchIt's weights."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord
from .status import Estimability, match_status

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["MatchResult", "result_from_sets"]


@dataclass(frozen=True, eq=False)
class MatchResult(ArrayRecord):
    """Matched sets: each matched treated unit with its control(s).

    Attributes
    ----------
    treated_index : (k,) int array
        Row of each matched treated unit (one per matched set, sets in matching order).
    control_index : (k, ratio) int array
        Rows of its controls, ``-1`` where fewer than ``ratio`` were found.
    pair_id : (m,) int array
        Matched-set id (0..k-1) of each row of the matched sample ``rows``.
    rows : (m,) int array
        Rows of the matched sample: each set's treated unit then its controls. With
        replacement a control appears once per set that uses it.
    weights : (n,) float array
        Matching weights per original unit, as ``MatchIt``: 1 for matched treated; a
        control gets ``sum over its sets of 1 / (controls in the set)``, rescaled so the
        control weights sum to the number of distinct matched controls; 0 if unmatched.
    n_matched, n_dropped : dict
        Distinct units matched / left unmatched, keyed ``"treated"`` and ``"control"``.
    caliper : float or None
        Caliper on the distance scale actually used.
    distance : (n,) float array or None
        The matching distance (logit PS or PS) for nearest-neighbour matching.
    method : str
    status : Estimability
        ``NO_MATCH`` when no treated unit was matched (:func:`estimators.status.match_status`),
        else OK.
    message : str
        Why, when ``status`` is not OK.
    """

    treated_index: np.ndarray
    control_index: np.ndarray
    pair_id: np.ndarray
    rows: np.ndarray
    weights: np.ndarray
    n_matched: dict
    n_dropped: dict
    caliper: float | None
    distance: np.ndarray | None
    method: str
    status: Estimability = Estimability.OK
    message: str = ""

    @property
    def n_sets(self) -> int:
        return int(self.treated_index.size)

    def to_frame(self) -> pd.DataFrame:
        """The matched sample, one row per use: ``row, pair_id, treated, weight``."""
        import pandas as pd
        treated = np.zeros(self.rows.size, dtype=np.int8)
        first = np.r_[True, self.pair_id[1:] != self.pair_id[:-1]]
        treated[first] = 1
        return pd.DataFrame(
            {"row": self.rows, "pair_id": self.pair_id, "treated": treated,
             "weight": self.weights[self.rows]}
        )

    def summary(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame(
            {"arm": ["control", "treated"],
             "matched": [self.n_matched["control"], self.n_matched["treated"]],
             "dropped": [self.n_dropped["control"], self.n_dropped["treated"]]}
        )


def result_from_sets(
    mm: np.ndarray, treated_rows: np.ndarray, z: np.ndarray, *, caliper, distance, method,
    message: str = "",
) -> MatchResult:
    """Build a MatchResult from a (n1, ratio) match matrix of control rows (-1 = none),
    one row per treated unit in data order; sets are numbered in that order."""
    has = mm[:, 0] >= 0
    t_idx = treated_rows[has]
    c_idx = mm[has]
    n = z.size
    if c_idx.shape[1] == 1:
        return _pairs_result(t_idx, c_idx, z, caliper=caliper, distance=distance,
                             method=method, message=message)
    w = np.zeros(n)
    w[t_idx] = 1.0
    present = c_idx >= 0
    counts = present.sum(axis=1)
    # column by column, as the sets' k-th controls were chosen in round k
    ctl = c_idx.T[present.T]
    share = np.broadcast_to(1.0 / np.maximum(counts, 1), c_idx.T.shape)[present.T]
    w += np.bincount(ctl, weights=share, minlength=n)
    used = np.flatnonzero(np.bincount(ctl, minlength=n))
    if used.size:
        w[used] *= used.size / w[used].sum()
    # each set's treated unit, then its controls in column order
    members = np.column_stack((t_idx, c_idx))
    rows = members[members >= 0]
    pair = np.repeat(np.arange(t_idx.size), counts + 1)
    n1 = int((z == 1).sum())
    n0 = n - n1
    return MatchResult(
        treated_index=t_idx.astype(np.intp),
        control_index=c_idx.astype(np.intp),
        pair_id=pair.astype(np.intp),
        rows=rows.astype(np.intp),
        weights=w,
        n_matched={"treated": int(t_idx.size), "control": int(used.size)},
        n_dropped={"treated": n1 - int(t_idx.size), "control": n0 - int(used.size)},
        caliper=caliper,
        distance=distance,
        method=method,
        status=match_status(int(t_idx.size)),
        message=message,
    )


def _pairs_result(t_idx, c_idx, z, *, caliper, distance, method, message) -> MatchResult:
    """:func:`result_from_sets` of 1:1 sets (one control column, every listed set
    matched): the same arrays, without the general case's per-column bookkeeping. A
    control used once has weight 1; reused (with replacement), the number of its sets,
    rescaled as the general case does."""
    n = z.size
    k = t_idx.size
    ctl = c_idx[:, 0]
    uses = np.bincount(ctl, minlength=n)
    w = uses.astype(np.float64)  # (a control's sum over its sets of 1 / 1, exact)
    w[t_idx] = 1.0
    n_used = int(np.count_nonzero(uses))
    if n_used != k:  # reused controls: MatchIt's rescaling (1 without reuse)
        used = np.flatnonzero(uses)
        w[used] *= n_used / w[used].sum()
    # each set's treated row then its control's, and the set of each (arrays written
    # directly: column_stack and repeat cost more than the copying)
    rows = np.empty((k, 2), dtype=np.intp)
    rows[:, 0] = t_idx
    rows[:, 1] = ctl
    n1 = int(np.count_nonzero(z == 1))
    return MatchResult(
        treated_index=t_idx.astype(np.intp),
        control_index=c_idx.astype(np.intp),
        pair_id=np.repeat(np.arange(k, dtype=np.intp), 2),
        rows=rows.ravel(),
        weights=w,
        n_matched={"treated": int(k), "control": n_used},
        n_dropped={"treated": n1 - int(k), "control": n - n1 - n_used},
        caliper=caliper,
        distance=distance,
        method=method,
        status=match_status(int(k)),
        message=message,
    )
