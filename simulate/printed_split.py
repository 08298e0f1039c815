"""Piecewise marginal for a printed mean (SD) together with a *printed* category split.

A Table 1 may print a continuous characteristic twice: ``Age, years  58.0 ± 10.0`` and
``Age > 60 years  50 (31.2)``. Both are published, so neither is an assumption, but the
mean and SD are rounded: an exact solve (as :mod:`simulate.pieces` does for an *assumed*
split) can be infeasible or force a distorted shape. This module fits, per arm, a
distribution whose split is the printed one exactly (in expectation) and whose mean and
SD lie inside their printed rounding intervals (``printed ± half a unit of the last
printed digit``).

Model: with cut points ``c_1 < ... < c_{K-1}`` (bin edges ``e_0 = lower``, ``e_K =
upper``) and printed bin shares ``p_k``, the density is

``f(x) = p_k g_k(x) / (G_k(e_{k+1}) - G_k(e_k))``  for ``x`` in bin ``k``,

each piece ``g_k`` of the variable's family (normal, lognormal, gamma) with its *own* two
parameters (location and log scale; gamma: log shape and log scale). The split holds by
construction.

Criterion (the most plausible density inside the rounding box): a clinical cut point is a
convention, not a feature of the biology, so the density should be smooth across it. Among
the ``2K`` parameters, minimise

``J = sum_j [ jump_j^2 + (w_j * slope_jump_j)^2 ] + 1e-3 * [(dm / h_m)^2 + (ds / h_s)^2]``

subject to ``|dm| <= h_m`` and ``|ds| <= h_s``, where ``jump_j`` is the jump of ``log f``
at cut ``j`` (continuity), ``slope_jump_j`` the jump of ``d log f / dx`` there (a kink;
made unitless by ``w_j``: the printed SD for a normal variable, the cut ``c_j`` for a
lognormal or gamma one, a heavy tail's SD being no scale for the density near a cut), ``dm`` and ``ds`` the departures of the
fitted mean and SD from the printed ones and ``h_m``, ``h_s`` their half units. The
``2K`` parameters meet ``2 + 2 (K - 1)`` conditions (mean, SD, value and slope at each
cut), so when a smooth density with exactly the printed mean and SD exists it is the
solution; otherwise the smallest jump or kink the rounding box allows, and among equally
smooth ones the least departure from the printed mean and SD. A mean or SD that no pieces
reach even within the rounding raises :class:`~simulate.spec.SpecError` with the numbers
(the mean the bins allow, the closest mean and SD reached). A rounding box narrower than
1e-9 of the SD (a heavy-tailed lab printed to 0.1 with an SD of 74 259) is below what the
optimiser resolves: there the mean and SD are met to 1e-9 of the SD.
"""
from __future__ import annotations

import re

import numpy as np
from scipy import special

from .families import Family, Z_GRID, _initial, _summaries, monotone_table
from .pieces import _edges, _mean_bounds, piecewise_quantile
from .truncated import log_density, log_density_slope, truncated_moments
from .spec import SpecError, Summary, Variable

__all__ = ["printed_half_unit", "fit_printed_split"]

#: weight of the departure from the printed mean/SD against the smoothness at the cuts
_DEPARTURE = 1e-3
#: a fitted mean or SD may exceed its half unit by this fraction (the optimiser's slack)
_BOX_SLACK = 1e-3
#: the relative precision (of the SD) below which a rounding box is not resolved
_RESOLUTION = 1e-9
_NUMBER = re.compile(r"(?<![\d.])\d[\d,]*(?:\.\d+)?")


def printed_half_unit(value: float, quote: str = "", rounding: float | None = None) -> float:
    """Half a unit in the last printed digit of ``value``.

    Parameters
    ----------
    value : float
        The printed number as read (``58.0``).
    quote : str
        The verbatim Table 1 row; the digits are read from the number as printed there
        (``"58.0"`` has one decimal although the float ``58.0`` does not say so). When
        the value is printed several times, the most decimals win (the narrower box).
    rounding : float, optional
        An explicit unit of the last printed digit (``0.1``): it wins over the quote.

    Returns
    -------
    float
        ``rounding / 2``, else ``0.5 * 10**-decimals`` of the printed form, else of the
        shortest form of the float (which can only give too many decimals, never too few
        for a value read from the printed text).
    """
    if rounding is not None:
        return 0.5 * float(rounding)
    decimals = [len(t.split(".", 1)[1]) if "." in t else 0 for t in _NUMBER.findall(quote)
                if np.isclose(float(t.replace(",", "")), value, rtol=1e-12, atol=1e-12)]
    if not decimals:
        text = repr(float(value))        # "70.0": one decimal (a printed "70" needs the quote)
        decimals = [len(text.split(".", 1)[1]) if "." in text and "e" not in text else 0]
    return 0.5 * 10.0 ** -max(decimals)


def _params(family: str, theta: np.ndarray, edges: list) -> list[Family]:
    k = len(edges) - 1
    return [Family(family, (float(theta[2 * j]), float(theta[2 * j + 1])), edges[j], edges[j + 1])
            for j in range(k)]


def _mixture(ps: list[Family], probs: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Log masses of the pieces, and mean and SD of the mixture (closed forms)."""
    mom = np.array([truncated_moments(f.family, f.theta, f.lower, f.upper) for f in ps])
    mean = float(probs @ mom[:, 1])
    var = float(probs @ (mom[:, 2] - mom[:, 1] ** 2) + probs @ (mom[:, 1] - mean) ** 2)
    return mom[:, 0], mean, float(np.sqrt(var)) if var > 0 else np.nan


def _cut_jumps(ps: list[Family], log_mass: np.ndarray, probs: np.ndarray, cuts: tuple[float, ...],
               sd: float) -> np.ndarray:
    """Jumps of ``log f`` and of its slope at every cut, the slope made unitless: times the
    SD for a normal variable, times the cut (``d log f / d log x``) for a positive one,
    whose SD a heavy tail inflates."""
    out = []
    for j, c in enumerate(cuts):
        left, right = ps[j], ps[j + 1]
        out.append(np.log(probs[j]) + log_density(left.family, left.theta, c) - log_mass[j]
                   - np.log(probs[j + 1]) - log_density(right.family, right.theta, c) + log_mass[j + 1])
        scale = sd if left.family == "normal" else c    # positive families: d log f / d log x
        out.append(scale * (log_density_slope(left.family, left.theta, c)
                            - log_density_slope(right.family, right.theta, c)))
    return np.asarray(out, float)


def fit_printed_split(var: Variable, s: Summary, n: int, key: str, half_mean: float,
                      half_sd: float) -> tuple[np.ndarray, dict]:
    """Quantile table (on :data:`~simulate.families.Z_GRID`) and fit report for one arm.

    Parameters
    ----------
    var : Variable
        A continuous variable with ``cutpoints`` (its family, bounds and cut points).
    s : Summary
        The arm's printed ``mean``, ``sd`` and split (``counts`` or ``proportions``).
    n : int
        Arm size (for the report's sample extremes).
    key : str
        Key path used in error messages.
    half_mean, half_sd : float
        Half a unit of the last printed digit of the mean and of the SD.

    Returns
    -------
    table : ndarray
        The variable at :data:`~simulate.families.Z_GRID`.
    report : dict
        ``mean`` and ``sd`` as ``(printed, fitted)``, ``split`` as ``(printed shares,
        fitted shares)``, ``smoothness`` (the largest jump of ``log f`` and of its scaled
        slope at a cut; 0 for a smooth density) and ``pieces``.

    Raises
    ------
    SpecError
        When no pieces reach the printed mean and SD within their rounding.

    References
    ----------
    The rounding interval of a printed number: half a unit of its last digit (e.g.
    Altman & Bland, BMJ 1996;312:1254, on reporting precision).
    """
    from scipy import optimize
    cuts = var.cutpoints
    probs = np.asarray(s.level_probs(), float)
    edges = _edges(var, cuts)
    family = var.distribution
    shown = ", ".join(f"{100 * p:.1f}%" for p in probs)
    where = f"the printed split [{shown}] at {list(cuts)}"
    lo, hi = _mean_bounds(edges, probs)
    if not (lo < s.mean + half_mean and s.mean - half_mean < hi):
        raise SpecError(f"{key}.mean", f"{where} within bounds [{edges[0]}, {edges[-1]}] allows a mean only "
                        f"in ({lo:g}, {hi:g}), printed {s.mean:g} (± {half_mean:g})")
    if np.min(probs) <= 0:
        raise SpecError(f"{key}.counts", f"every bin needs a patient to fit a mean and SD with the split, "
                        f"got shares [{shown}]")

    def parts(theta):
        ps = _params(family, theta, edges)
        with np.errstate(all="ignore"):  # extreme trial values give inf moments: a large penalty
            log_mass, mean, sd = _mixture(ps, probs)
            jumps = _cut_jumps(ps, log_mass, probs, cuts, s.sd)
        dev = np.array([(mean - s.mean) / half_mean, (sd - s.sd) / half_sd])
        return np.clip(np.nan_to_num(jumps, nan=1e6), -1e6, 1e6), np.clip(np.nan_to_num(dev, nan=1e12), -1e12, 1e12)

    k = 2 * len(probs)
    box = np.array([half_mean, half_sd]) / s.sd

    def objective(x):           # x = (theta, u, v): the target mean m + u h_m, SD s + v h_s
        jumps, _ = parts(x[:k])
        return float(np.minimum(jumps @ jumps + _DEPARTURE * x[k:] @ x[k:], 1e300))

    def on_target(x):           # the fitted mean and SD at the target, on the SD's scale
        return (parts(x[:k])[1] - x[k:]) * box

    def inside(theta) -> bool:  # within the rounding (or, for a box below what the optimiser
        dev = parts(theta)[1]   # resolves, within 1e-9 of the SD)
        return bool(np.all((np.abs(dev) <= 1 + _BOX_SLACK) | (np.abs(dev) * box <= _RESOLUTION)))

    start = np.tile(_initial(family, s, n), len(probs))
    # first the printed mean and SD alone (a point inside the box), then the smoothest
    # point inside the box from there and from the single-family start
    reach = optimize.least_squares(lambda th: parts(th)[1] * box, start, xtol=1e-14, ftol=1e-14,
                                   max_nfev=400).x
    candidates = [reach] if inside(reach) else []
    for th0 in (reach, start):
        sol = optimize.minimize(objective, np.r_[th0, 0.0, 0.0], method="SLSQP",
                                bounds=[(None, None)] * k + [(-1.0, 1.0)] * 2,
                                constraints=[{"type": "eq", "fun": on_target}],
                                options={"maxiter": 300, "ftol": 1e-14})
        if inside(sol.x[:k]):
            candidates.append(sol.x[:k])
    if not candidates:
        _, got_mean, got_sd = _mixture(_params(family, reach, edges), probs)
        raise SpecError(key, f"no {family} pieces with {where} reach mean {s.mean:g} (± {half_mean:g}) and "
                        f"SD {s.sd:g} (± {half_sd:g}): closest mean {got_mean:.4g}, SD {got_sd:.4g}; "
                        f"within bounds [{edges[0]}, {edges[-1]}] the bins allow a mean in ({lo:g}, {hi:g}); "
                        "check the printed numbers, the family (distribution) or the bounds")
    def criterion(theta):       # J of the docstring (a departure below resolution counts 1)
        jumps, dev = parts(theta)
        return float(jumps @ jumps + _DEPARTURE * np.sum(np.minimum(dev ** 2, 1.0)))

    best = min(candidates, key=criterion)
    ps = _params(family, best, edges)
    jumps, _ = parts(best)
    table = monotone_table(piecewise_quantile(ps, probs, Z_GRID))
    got = _summaries(lambda z: np.interp(z, Z_GRID, table), n)   # of the map generated
    # the share below each cut of the generated map (linear in z between grid points)
    below = special.ndtr(np.interp(np.asarray(cuts), table, Z_GRID))
    fitted_split = np.diff(np.concatenate([[0.0], below, [1.0]]))
    report = {"mean": (s.mean, got["mean"]), "sd": (s.sd, got["sd"]),
              "split": (tuple(probs.tolist()), tuple(fitted_split.tolist())),
              "smoothness": (0.0, float(np.max(np.abs(jumps)))),
              "pieces": [fam.theta for fam in ps], "median": (None, got["median"])}
    return table, report
