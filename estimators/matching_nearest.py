"""Greedy nearest-neighbour propensity-score matching with a caliper.

Controls are matched to treated units (the ATT design of most clinical PSM studies). The
algorithm is ``MatchIt::matchit(method = "nearest")``'s (MatchIt 4.x ``nn_matchC_vec``), so
that matched sets agree exactly with R for ``order`` in {"data", "largest", "smallest"}:

1. all units are sorted by distance (stable sort);
2. treated units are visited in ``order``; for each, the nearest still-available control on
   the left and on the right in the sorted list are found, skipping controls outside the
   caliper (``|d_i - d_j| > caliper`` excludes; the boundary is inside), and the closer is
   taken, the left one on a tie;
3. with ``ratio = k`` this is repeated in k rounds (every treated unit gets its first
   control before any gets its second), as MatchIt does.

Caliper (Austin 2011, Pharm Stat 10:150-161): width ``caliper`` times the standard deviation
of the logit of the propensity score, matching on that logit. Austin defines the SD as the
pooled within-arm SD ``sqrt((s1^2 + s0^2) / 2)``; MatchIt's ``std.caliper = TRUE`` uses the
SD of the distance over all units instead. ``caliper_sd`` chooses ("pooled" default,
"overall" to reproduce MatchIt).
"""
from __future__ import annotations

import numpy as np
from scipy import special

from ._checks import (check_binary, check_both_arms, check_choice, check_lengths,
                      check_probability)
from ._option_checks import check_number, check_two_per_arm
from .matching_result import MatchResult, result_from_sets
from .status import Estimability

__all__ = ["CALIPER_SCALES", "match_nearest", "match_nearest_kernel"]

# caliper_scale -> (distance the matching uses, caliper in SD units of that distance?)
CALIPER_SCALES = {
    "logit_sd": ("logit", True),   # Austin 2011: 0.2 SD of the logit PS
    "ps_sd": ("ps", True),         # MatchIt default distance = "glm" with std.caliper = TRUE
    "raw": ("ps", False),          # caliper in propensity-score units (e.g. 0.05)
}
ORDERS = ("data", "largest", "smallest", "random")


def _sd(d: np.ndarray, treated: np.ndarray, kind: str) -> float:
    """The SD of the caliper: over all units, or pooled within arms (``treated``: the
    boolean mask of the treated)."""
    if kind == "overall":
        return float(np.std(d, ddof=1))
    return float(np.sqrt((_var1(d[treated]) + _var1(d[~treated])) / 2.0))


def _var1(a: np.ndarray) -> float:
    """``np.var(a, ddof=1)`` of a float array by numpy's own steps (the mean as the
    pairwise sum over n, the squared deviations' pairwise sum over n - 1), without its
    wrapper, which costs more than the arithmetic on a few hundred values; NaN without a
    warning for fewer than 2 values."""
    if a.size < 2:
        return float("nan")
    dev = a - np.add.reduce(a) / a.size
    np.square(dev, out=dev)
    return float(np.add.reduce(dev) / (a.size - 1))


def _nn_match(
    d: np.ndarray,
    z: np.ndarray,
    treated_order: np.ndarray,
    ratio: int,
    caliper: float | None,
    reuse_max: int,
) -> np.ndarray:
    """Kernel: (n1, ratio) matrix of matched control rows (-1 none), rows in treated data
    order. ``treated_order`` indexes the treated units (0..n1-1) in visiting order."""
    srt = np.argsort(d, kind="stable")
    n = srt.size
    pos = np.empty_like(srt)
    pos[srt] = np.arange(1, n + 1)
    # Scalar code on Python lists (a fraction of the cost of numpy scalar access), over
    # sorted positions 1..n with sentinels 0 and n + 1. The nearest available control on
    # each side is found through union-find links that skip treated units and used-up
    # controls (path halving), instead of stepping over them one by one; the result is
    # the same walk's. (Each list is its array with the sentinels written in place,
    # converted once.)
    ds = np.zeros(n + 2)
    ds[1:-1] = d[srt]
    ds = ds.tolist()
    rows = np.full(n + 2, -1, dtype=srt.dtype)
    rows[1:-1] = srt
    rows = rows.tolist()
    step = np.zeros(n + 2, dtype=np.intp)  # 1 at a treated unit's position: links past it
    np.not_equal(z[srt], 0, out=step[1:-1], casting="unsafe")
    k_all = np.arange(n + 2)
    lnk_left = (k_all - step).tolist()
    lnk_right = (k_all + step).tolist()
    t_pos = pos[z == 1].tolist()
    n1 = len(t_pos)
    mm = [-1] * (n1 * ratio)  # row-major (n1, ratio)
    n_avail = n - n1  # (the controls: every step is a treated unit's 1)
    visit = np.asarray(treated_order).tolist()
    end = n + 1
    if ratio == 1 and reuse_max == 1:
        _pairs_walk(ds, rows, lnk_left, lnk_right, t_pos, visit, mm, caliper, end, n_avail)
        return np.array(mm, dtype=np.intp).reshape(n1, 1)
    times = [0] * (n + 2)
    for r in range(ratio):
        for i in visit:
            if n_avail == 0:
                break
            ii = t_pos[i]
            taken = {c for c in mm[i * ratio:i * ratio + r] if c >= 0} if r else ()
            di = ds[ii]
            left = ii - 1
            while True:
                while lnk_left[left] != left:  # nearest available at or left of `left`
                    lnk_left[left] = lnk_left[lnk_left[left]]
                    left = lnk_left[left]
                if left == 0 or rows[left] not in taken:
                    break
                left -= 1
            right = ii + 1
            while True:
                while lnk_right[right] != right:
                    lnk_right[right] = lnk_right[lnk_right[right]]
                    right = lnk_right[right]
                if right == end or rows[right] not in taken:
                    break
                right += 1
            k = _nearer(ds, di, left, right, end, caliper)
            if not k:
                continue
            mm[i * ratio + r] = rows[k]
            times[k] += 1
            if times[k] >= reuse_max:  # used up: link past it
                lnk_left[k] = k - 1
                lnk_right[k] = k + 1
                n_avail -= 1
    return np.array(mm, dtype=np.intp).reshape(n1, ratio)


def _nearer(ds, di, left, right, end, caliper) -> int:
    """Of the available controls at sorted positions ``left`` and ``right`` (0 and
    ``end``: none), the nearer to ``di`` within the caliper, the left one on a tie; 0 if
    neither is."""
    if left and caliper is not None and abs(di - ds[left]) > caliper:
        left = 0
    if right == end or (caliper is not None and abs(di - ds[right]) > caliper):
        right = 0
    if left and right:
        return left if abs(ds[left] - di) <= abs(ds[right] - di) else right
    return left or right


def _pairs_walk(ds, rows, lnk_left, lnk_right, t_pos, visit, mm, caliper, end, n_avail):
    """:func:`_nn_match`'s walk for 1:1 matching without replacement (the default PSM):
    one round, no control taken by the unit yet, a control used up at its first use; the
    same steps without the general walk's bookkeeping, and :func:`_nearer`'s choice
    written out (each side's distance computed once; no caliper: an infinite one, which
    excludes nothing, as no comparison with it is true). Fills ``mm`` in place."""
    cal = float("inf") if caliper is None else caliper
    for i in visit:
        if n_avail == 0:
            break
        ii = t_pos[i]
        di = ds[ii]
        left = ii - 1
        while lnk_left[left] != left:  # nearest available at or left of `left`
            lnk_left[left] = lnk_left[lnk_left[left]]
            left = lnk_left[left]
        right = ii + 1
        while lnk_right[right] != right:
            lnk_right[right] = lnk_right[lnk_right[right]]
            right = lnk_right[right]
        if left:
            gap_left = abs(di - ds[left])
            if gap_left > cal:
                left = 0
        if right == end:
            right = 0
        else:
            gap_right = abs(di - ds[right])
            if gap_right > cal:
                right = 0
        if left and right:  # the nearer, the left one on a tie
            k = left if gap_left <= gap_right else right
        else:
            k = left or right
            if not k:
                continue
        mm[i] = rows[k]
        lnk_left[k] = k - 1  # used up: link past it
        lnk_right[k] = k + 1
        n_avail -= 1


def match_nearest_kernel(
    p: np.ndarray,
    z: np.ndarray,
    caliper: float | None = 0.2,
    caliper_scale: str = "logit_sd",
    caliper_sd: str = "pooled",
    ratio: int = 1,
    replace: bool = False,
    order: str = "data",
    rng: np.random.Generator | None = None,
) -> MatchResult:
    """Nearest-neighbour matching on trusted input (the kernel of :func:`match_nearest`).

    Parameters
    ----------
    p : (n,) float array
        Propensity scores in (0, 1).
    z : (n,) array of 0/1
    caliper, caliper_scale, caliper_sd, ratio, replace, order, rng
        As :func:`match_nearest` (already valid; ``rng`` a Generator for "random").

    Returns
    -------
    MatchResult
        ``status`` is ``NO_MATCH`` (no matched set; ``message`` gives the caliper and the
        smallest treated-control distance) when no treated unit has a control within the
        caliper, else OK.

    Notes
    -----
    No validation, and never raises on data.
    """
    n1 = int(np.count_nonzero(z))
    scale, standardized = CALIPER_SCALES[caliper_scale]
    d = special.logit(p) if scale == "logit" else p
    treated = z == 1
    cal = None
    if caliper is not None:
        cal = float(caliper) * (_sd(d, treated, caliper_sd) if standardized else 1.0)
    dt = d[treated]
    if order == "data":
        t_order = np.arange(n1)
    elif order == "largest":
        t_order = np.argsort(-dt, kind="stable")
    elif order == "smallest":
        t_order = np.argsort(dt, kind="stable")
    else:
        t_order = rng.permutation(n1)
    mm = _nn_match(d, z, t_order, int(ratio), cal, n1 if replace else 1)
    message = ""
    if not (mm[:, 0] >= 0).any():
        dc = d[z == 0]
        gap = np.min(np.abs(dt[:, None] - dc[None, :])) if dt.size and dc.size else np.nan
        width = "none" if cal is None else f"{cal:.4g}"
        message = (f"caliper={caliper!r} ({caliper_scale}, {width} on the {scale} scale) is "
                   f"met by no treated unit: the closest treated-control distance is {gap:.4g}")
    return result_from_sets(mm, np.flatnonzero(treated), z, caliper=cal, distance=d,
                            method=f"nearest({caliper_scale}, ratio={ratio}, "
                                   f"replace={replace}, order={order})", message=message)


def match_nearest(
    ps,
    treated,
    *,
    caliper: float | None = 0.2,
    caliper_scale: str = "logit_sd",
    caliper_sd: str = "pooled",
    ratio: int = 1,
    replace: bool = False,
    order: str = "data",
    rng: np.random.Generator | None = None,
) -> MatchResult:
    """Greedy 1:k nearest-neighbour matching of controls to treated units on the PS.

    Parameters
    ----------
    ps : (n,) array-like
        Propensity scores in (0, 1).
    treated : (n,) array-like of 0/1
    caliper : float or None
        Caliper width; ``None`` for no caliper.
    caliper_scale : {"logit_sd", "ps_sd", "raw"}
        ``"logit_sd"``: match on ``logit(ps)``, caliper in SDs of the logit (Austin 2011);
        ``"ps_sd"``: match on ``ps``, caliper in SDs of the PS (MatchIt's default distance);
        ``"raw"``: match on ``ps``, caliper in PS units.
    caliper_sd : {"pooled", "overall"}
        Which SD: pooled within-arm (Austin; needs 2 units in each arm) or over all units
        (MatchIt ``std.caliper``).
    ratio : int
        Controls per treated unit (k rounds, as MatchIt).
    replace : bool
        Allow a control to be matched to several treated units.
    order : {"data", "largest", "smallest", "random"}
        Order in which treated units choose (MatchIt ``m.order``; "largest" = largest
        distance first, MatchIt's default). "random" needs ``rng``.
    rng : numpy.random.Generator, optional

    Returns
    -------
    MatchResult

    Raises
    ------
    ValueError
        Bad input (including a pooled-SD caliper with an arm of one unit), or no treated
        unit has a control within the caliper (the message gives the caliper and the
        smallest treated-control distance).

    Notes
    -----
    R equivalent (``caliper_sd="overall"``)::

        matchit(treated ~ x, data = d, method = "nearest", distance = qlogis(ps),
                caliper = 0.2, std.caliper = TRUE, m.order = "data", ratio = 1)
    """
    p = check_probability(ps, "ps")
    z = check_binary(treated, "treated")
    check_lengths({"ps": p, "treated": z})
    check_choice(caliper_scale, "caliper_scale", tuple(CALIPER_SCALES))
    check_choice(caliper_sd, "caliper_sd", ("pooled", "overall"))
    check_choice(order, "order", ORDERS)
    if replace not in (True, False):
        raise ValueError(f"replace must be True or False; got {replace!r}")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer; got {ratio!r}")
    check_number(caliper, "caliper", none_ok=True)
    if order == "random" and not isinstance(rng, np.random.Generator):
        raise ValueError(f"order='random' needs rng, a numpy.random.Generator; got {rng!r}")
    check_both_arms(z)
    if caliper is not None and CALIPER_SCALES[caliper_scale][1] and caliper_sd == "pooled":
        check_two_per_arm(z, f"caliper_sd='pooled' with caliper_scale={caliper_scale!r}",
                          "SDs", "caliper_sd='overall' (the SD over all units, as MatchIt's "
                          "std.caliper) or caliper_scale='raw'")
    m = match_nearest_kernel(p, z, caliper, caliper_scale, caliper_sd, int(ratio), replace,
                             order, rng)
    if m.status is Estimability.NO_MATCH:
        raise ValueError(m.message)
    return m
