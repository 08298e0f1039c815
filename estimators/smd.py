"""Standardized mean differences and variance ratios of one covariate.

Definitions (Austin 2009, Stat Med 28:3083; Austin & Stuart 2015, Stat Med 34:3661), with
``T`` the treated and ``C`` the control arm and ``w`` the weights (all ones if unweighted):

* weighted mean ``m = sum w x / sum w``;
* weighted variance, unbiased for reliability weights,
  ``s^2 = sum w (x - m)^2 / (sum w - sum w^2 / sum w)``, which is the usual ``n - 1``
  sample variance when all weights are 1;
* binary (0/1) variables: ``s^2 = p (1 - p)`` (no ``n - 1`` correction);
* continuous / binary SMD ``d = (m_T - m_C) / s_pooled`` with ``s_pooled = sqrt((s_T^2 +
  s_C^2) / 2)``;
* multi-level categorical (Yang & Dalton 2012, SAS Global Forum 335-2012): with the
  proportions ``T``, ``C`` of levels 2..K, ``d = sqrt((T - C)' S^-1 (T - C))`` where ``S`` has
  ``S_kk = [T_k (1 - T_k) + C_k (1 - C_k)] / 2`` and ``S_kl = -[T_k T_l + C_k C_l] / 2``
  (it is non-negative, does not depend on the dropped level and equals ``|d|`` of the
  binary formula when K = 2); the per-level binary SMDs are reported too. ``S`` always
  pools both arms (the ``denominator`` option applies to the per-level SMDs);
* variance ratio ``s_T^2 / s_C^2`` (continuous variables only; undefined for binary and
  categorical ones, as in cobalt).

The denominator. After weighting or matching, Austin (2009) and Stuart (2010) recommend
keeping the *pre-adjustment* (unweighted, whole-sample) SDs in the denominator so that an
SMD change reflects a change in the mean difference, not a change of scale; this is R
cobalt's convention (``s.d.denom = "pooled"``: ``sqrt((s_T^2 + s_C^2) / 2)`` of the
unadjusted sample) and our default. ``denominator_weighted=True`` uses the weighted SDs
instead, as R ``tableone::svyCreateTableOne`` does. ``denominator`` chooses whose SD:
``"pooled"`` (default), ``"treated"`` (ATT), ``"control"`` (ATC) or ``"all"`` (both arms
together). A matched sample is a weighted one: pass the matching weights (1 for a matched
unit, 0 for an unmatched one, fractions for ratio / replacement matching).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from ._checks import check_binary, check_choice, check_flag, check_lengths, check_weights
from .design import _observed_levels

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["SMDResult", "standardized_mean_difference"]

KINDS = ("auto", "continuous", "binary", "categorical")
DENOMINATORS = ("pooled", "treated", "control", "all")


@dataclass(frozen=True, eq=False)
class SMDResult(ArrayRecord):
    """Balance of one covariate between the arms (treated minus control).

    Attributes
    ----------
    kind : {"continuous", "binary", "categorical"}
    smd : float
        Signed SMD (continuous, binary); the non-negative Yang–Dalton multivariate SMD
        (categorical). ``+-inf`` when the denominator SD is 0 and the means differ (see
        :func:`standardized_mean_difference`); 0 when the means are equal.
    levels : tuple
        Categorical levels (one row each in the arrays below); ``()`` otherwise.
    level_smd : (r,) array
        Per-row SMD: ``[smd]`` for continuous / binary, per-level binary SMDs for categorical.
    mean_treated, mean_control : (r,) arrays
        Weighted means, or proportions (binary; each categorical level).
    sd_treated, sd_control : (r,) arrays
        Weighted SDs (``sqrt(p (1 - p))`` for proportions).
    count_treated, count_control : (r,) arrays
        Sum of weights with the level (binary, categorical); NaN for continuous.
    denominator_sd : (r,) array
        The SD each row's difference was divided by.
    variance_ratio : float
        Weighted variance treated / control (continuous only, else NaN).
    weighted : bool
    message : str
        Why a weighted SD and the variance ratio are NaN (an arm with one unit of positive
        weight, allowed under the unweighted denominator); "" otherwise.
    """

    kind: str
    smd: float
    levels: tuple
    level_smd: np.ndarray
    mean_treated: np.ndarray
    mean_control: np.ndarray
    sd_treated: np.ndarray
    sd_control: np.ndarray
    count_treated: np.ndarray
    count_control: np.ndarray
    denominator_sd: np.ndarray
    variance_ratio: float
    weighted: bool
    message: str = ""

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        rows = pd.DataFrame({
            "level": list(self.levels) if self.levels else [None],
            "treated_count": self.count_treated, "treated_mean": self.mean_treated,
            "treated_sd": self.sd_treated, "control_count": self.count_control,
            "control_mean": self.mean_control, "control_sd": self.sd_control,
            "smd": self.level_smd, "variance_ratio": np.nan,
        })
        if self.kind != "categorical":
            rows["variance_ratio"] = self.variance_ratio
            return rows.assign(kind=self.kind)
        head = {c: np.nan for c in rows.columns}
        head.update(level=None, smd=self.smd)
        return pd.concat([pd.DataFrame([head]), rows], ignore_index=True).assign(kind=self.kind)


# --- numerical kernels (trusted arrays) ------------------------------------------------

def _wmean(x: np.ndarray, w: np.ndarray, dot=np.matmul) -> np.ndarray:
    return dot(w, x) / w.sum()


def _wvar(x: np.ndarray, w: np.ndarray, dot=np.matmul) -> np.ndarray:
    """Column variances with reliability weights: sum w (x-m)^2 / (sum w - sum w^2 / sum w)."""
    sw = w.sum()
    m = dot(w, x) / sw
    return dot(w, (x - m) ** 2) / (sw - (w @ w) / sw)


def _arm_stats(x: np.ndarray, t: np.ndarray, w: np.ndarray, proportion, dot=np.matmul):
    """(means, variances) per arm for the columns of ``x``; p(1-p) for the columns where
    ``proportion`` (a bool, or one per column) is true."""
    proportion = np.broadcast_to(proportion, x.shape[1:])
    continuous = np.flatnonzero(~proportion)
    out = []
    for arm in (1, 0):
        xa, wa = x[t == arm], w[t == arm]
        m = _wmean(xa, wa, dot)
        # rounding can push a weighted proportion past 1
        m = np.where(proportion, np.clip(m, 0.0, 1.0), m)
        v = m * (1.0 - m)
        if continuous.size:     # (the sample variance only where it is used)
            v[continuous] = _wvar(xa[:, continuous], wa, dot)
        out.append((m, np.maximum(v, 0.0)))
    return out


def _denominator_var(vt: np.ndarray, vc: np.ndarray, v_all: np.ndarray, denominator: str):
    return {"pooled": (vt + vc) / 2.0, "treated": vt, "control": vc, "all": v_all}[denominator]


def _ratio(diff: np.ndarray, sd: np.ndarray, scale: np.ndarray) -> np.ndarray:
    # A zero difference is balance whatever the SD; a nonzero one over SD 0 is infinite.
    # "Zero" is relative to the data's magnitude: weighted means of a constant column can
    # differ from it in the last bits (cobalt likewise zeroes differences below sqrt(eps)).
    tol = 64 * np.finfo(float).eps * np.maximum(scale, np.finfo(float).tiny)
    diff = np.where(np.abs(diff) <= tol, 0.0, diff)
    sd = np.where(sd <= tol, 0.0, sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = diff / sd
    return np.where(diff == 0, 0.0, d)


def yang_dalton_smd(pt: np.ndarray, pc: np.ndarray, st: np.ndarray, sc: np.ndarray) -> float:
    """Yang & Dalton (2012) multi-level SMD of a categorical variable (kernel).

    Parameters
    ----------
    pt, pc : (K,) arrays
        Level proportions, treated and control (the difference is taken).
    st, sc : (K,) arrays
        The proportions that build the covariance S (the unadjusted ones when the
        denominator is pre-adjustment).

    Returns
    -------
    float
        Mahalanobis-type distance over levels 2..K (the first present level dropped).

    Notes
    -----
    Trusted arrays, no validation. ``st + sc`` must have a positive entry.
    """
    keep = (st + sc) > 0
    keep[np.flatnonzero(keep)[0]] = False  # drop the first present level
    diff = (pt - pc)[keep]
    a, b = st[keep], sc[keep]
    S = -(np.outer(a, a) + np.outer(b, b)) / 2.0
    S[np.diag_indices_from(S)] = (a * (1 - a) + b * (1 - b)) / 2.0
    if not diff.any():
        return 0.0
    return float(np.sqrt(max(diff @ np.linalg.pinv(S) @ diff, 0.0)))


def _level_smds(cols, t, w, proportion, denominator, denominator_weighted, weighted,
                dot=np.matmul):
    """Arm statistics, denominator SDs and SMDs of every column of ``cols`` (n, K):
    ``((mt, vt), (mc, vc), (dt, dc), den, smd)``, ``dt``/``dc`` the means behind the
    denominator (the multi-level SMD's covariance)."""
    (mt, vt), (mc, vc) = _arm_stats(cols, t, w, proportion, dot)
    if denominator_weighted or not weighted:
        (dt, dvt), (dc, dvc) = (mt, vt), (mc, vc)
        w_all = w
    else:
        ones = np.ones_like(w)
        (dt, dvt), (dc, dvc) = _arm_stats(cols, t, ones, proportion, dot)
        w_all = ones
    if denominator == "all":
        m_all = _wmean(cols, w_all, dot)
        v_all = m_all * (1 - m_all)
        continuous = np.flatnonzero(~np.broadcast_to(proportion, cols.shape[1:]))
        if continuous.size:
            v_all[continuous] = _wvar(cols[:, continuous], w_all, dot)
    else:
        v_all = None
    den = np.sqrt(_denominator_var(dvt, dvc, v_all, denominator))
    return (mt, vt), (mc, vc), (dt, dc), den, _ratio(mt - mc, den, np.abs(cols).max(axis=0))


def smd_kernel(x, t, w, kind, levels, denominator, denominator_weighted, weighted):
    """Standardized mean difference on trusted arrays (the kernel of
    :func:`standardized_mean_difference`).

    Parameters
    ----------
    x : (n,) array
        Values (category codes when ``kind="categorical"``).
    t : (n,) int8 array of 0/1
    w : (n,) float array
        Weights (ones when unweighted).
    kind : {"binary", "continuous", "categorical"}
    levels : sequence or None
        Category levels (``kind="categorical"``).
    denominator : str
        One of ``DENOMINATORS``.
    denominator_weighted, weighted : bool

    Returns
    -------
    SMDResult

    Notes
    -----
    No validation, and never raises on data: a zero SD gives 0 (no difference) or inf.
    """
    if kind == "categorical":
        cols = np.column_stack([(x == lev) for lev in levels]).astype(np.float64)
    else:
        cols = x[:, None].astype(np.float64)
    proportion = kind != "continuous"
    with np.errstate(invalid="ignore", divide="ignore"):  # (an arm of one: NaN, set below)
        (mt, vt), (mc, vc), (dt, dc), den, level_smd = _level_smds(
            cols, t, w, proportion, denominator, denominator_weighted, weighted)
    message = ""
    thin = [label for arm, label in ((1, "treated"), (0, "control"))
            if not proportion and np.count_nonzero(w[t == arm] > 0) < 2]
    if thin:    # (0/0 above, or rounding residue: undefined either way)
        for label, v in (("treated", vt), ("control", vc)):
            if label in thin:
                v[:] = np.nan
        message = (f"the {' and '.join(thin)} arm has one unit with positive weight: its "
                   "weighted SD and the variance ratio are undefined")
    counts = [np.full(1, np.nan)] * 2 if not proportion else [
        w[t == 1] @ cols[t == 1], w[t == 0] @ cols[t == 0]]
    if kind == "categorical":
        smd = yang_dalton_smd(mt, mc, dt, dc)
        vr = np.nan
    else:
        smd = float(level_smd[0])
        vr = float(vt[0] / vc[0]) if kind == "continuous" and vc[0] > 0 else np.nan
    return SMDResult(
        kind=kind, smd=smd, levels=tuple(levels) if kind == "categorical" else (),
        level_smd=level_smd, mean_treated=mt, mean_control=mc, sd_treated=np.sqrt(vt),
        sd_control=np.sqrt(vc), count_treated=counts[0], count_control=counts[1],
        denominator_sd=den, variance_ratio=vr, weighted=weighted, message=message,
    )


# --- validation ----------------------------------------------------------------------

def _infer_kind(x: np.ndarray, name: str) -> str:
    if x.dtype == bool:
        return "binary"
    if x.dtype.kind in "OUS":
        return "categorical"
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} has unsupported dtype {x.dtype}")
    return "binary" if np.isin(x, (0, 1)).all() else "continuous"


def _prepare(x, t, w, kind, levels, name, weighted_sd=True):
    import pandas as pd
    x = np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {x.shape}")
    check_lengths({name: x, "treated": t}, len(t))
    na = pd.isna(x)
    if na.any():
        rows = np.flatnonzero(na)[:3].tolist()
        raise ValueError(f"{name} has {int(na.sum())} missing value(s) (rows {rows}...)")
    if kind == "auto":
        kind = "categorical" if levels is not None else _infer_kind(x, name)
    if kind == "categorical":
        if levels is None:
            levels = _observed_levels(pd.Series(x))
        levels = list(levels)
        stray = sorted(set(map(str, pd.unique(x))) - set(map(str, levels)))
        if stray:
            raise ValueError(f"{name} has values {stray} not among levels {levels}")
        if len(levels) < 2:
            raise ValueError(f"categorical {name} needs at least 2 levels; got {levels}")
        x = x.astype(object)
    elif kind == "binary":
        x = check_binary(x, name).astype(np.float64)
    else:
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric for kind='continuous'; got dtype {x.dtype}") from None
        if not np.isfinite(x).all():
            raise ValueError(f"{name} must be finite")
    # The SD in the denominator needs 2 units of the arm: of positive weight when it is the
    # weighted SD (``weighted_sd``), else any 2 (and 1 of positive weight for the mean).
    for arm, label in ((1, "treated"), (0, "control")):
        n_pos = np.count_nonzero(w[t == arm] > 0)
        if n_pos < 2 and (weighted_sd or n_pos == 0 or np.count_nonzero(t == arm) < 2):
            raise ValueError(
                f"weights: the {label} arm needs at least 2 units with positive weight "
                f"to compute {name}'s SD; got {n_pos}" if weighted_sd else
                f"weights: the {label} arm needs 2 units, and 1 with positive weight, to "
                f"compute {name}'s SMD; got {np.count_nonzero(t == arm)} and {n_pos}")
    return x, kind, levels


def standardized_mean_difference(
    x,
    treated,
    weights=None,
    *,
    kind: str = "auto",
    levels: Sequence | None = None,
    denominator: str = "pooled",
    denominator_weighted: bool = False,
) -> SMDResult:
    """Standardized mean difference (treated minus control) of one covariate.

    Parameters
    ----------
    x : (n,) array-like
        The covariate: numbers (continuous), 0/1 or bool (binary), or labels / codes
        (categorical).
    treated : (n,) array-like of 0/1
    weights : (n,) array-like, optional
        IPT weights, or matching weights for a matched sample (zeros drop units).
    kind : {"auto", "continuous", "binary", "categorical"}
        ``"auto"``: bool or only 0/1 values -> binary; strings/objects or ``levels`` given
        -> categorical; other numbers -> continuous. Integer-coded categoricals must be
        declared (``kind="categorical"`` or ``levels=``).
    levels : sequence, optional
        Categorical levels in display order (default: observed, sorted).
    denominator : {"pooled", "treated", "control", "all"}
        Whose SD standardizes the difference (see the module docstring).
    denominator_weighted : bool
        False (default; Austin 2009, cobalt): SDs of the *unadjusted* sample even when
        ``weights`` are given. True: weighted SDs.

    Returns
    -------
    SMDResult

    Notes
    -----
    Invariant to rescaling ``weights``; swapping the arms flips the sign (continuous,
    binary) and leaves the categorical SMD unchanged.

    Each arm needs two units for its SD: two of positive weight when the SD is weighted
    (``denominator_weighted=True``, or no weights). Under the unadjusted denominator
    (cobalt's default) one unit of positive weight suffices for the weighted mean, as in
    cobalt; that arm's weighted SD and the variance ratio are then NaN, and ``message``
    says so.

    A zero denominator SD (e.g. a covariate constant within each arm) gives ``0`` when the
    means are equal and ``+-inf`` when they differ: the arms are then perfectly separated
    by the covariate, the largest imbalance there is, and an infinite ``|SMD|`` exceeds
    every threshold (:meth:`BalanceTable.imbalanced` lists it), where NaN would compare
    False and pass as balanced. R ``tableone`` (``StdDiff``: ``meanDiffs /
    sqrt(varMeans)``) reports the same ``Inf``. R ``cobalt`` instead falls back to the
    whole-sample SD when the chosen one is 0 (``.compute_s.d.denom``); that number is
    ``denominator="all"`` here.
    """
    check_choice(kind, "kind", KINDS)
    check_choice(denominator, "denominator", DENOMINATORS)
    denominator_weighted = check_flag(denominator_weighted, "denominator_weighted")
    t = check_binary(treated, "treated")
    w = check_weights(weights, len(t))
    xv, kind, levels = _prepare(x, t, w, kind, levels, "x",
                                weighted_sd=denominator_weighted or weights is None)
    return smd_kernel(xv, t, w, kind, levels, denominator, denominator_weighted,
                       weights is not None)
