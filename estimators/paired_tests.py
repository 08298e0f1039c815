"""Paired tests of matched pairs: McNemar, paired t and Wilcoxon signed-rank, as R computes them.

After 1:1 matching the two arms are not independent samples: each treated patient has
its own control. Papers that say their after-matching comparisons are paired use

* :func:`mcnemar_test` = R ``mcnemar.test(x, y, correct = TRUE)`` for a binary row: with
  ``b``, ``c`` the discordant pairs, ``(|b - c| - 1)^2 / (b + c)`` on 1 df (without the
  correction when ``b == c``, as R; NaN when there is no discordant pair);
* :func:`paired_t_test` = R ``t.test(x, y, paired = TRUE)``: the one-sample t test of the
  differences on ``n - 1`` df;
* :func:`wilcoxon_signed_rank` = R ``wilcox.test(x, y, paired = TRUE)`` (defaults
  ``exact = NULL, correct = TRUE``): zero differences dropped; the exact distribution of
  the signed-rank statistic ``V`` when fewer than 50 non-zero differences remain and
  neither ties nor zeros occurred, else the normal approximation with the tie correction
  of the variance and a continuity correction of 0.5.

``x`` is the treated member's value and ``y`` its control's, pair by pair.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import _show, as_float_array, check_binary, check_finite, check_lengths

__all__ = ["PairedTest", "mcnemar_test", "paired_t_test", "wilcoxon_signed_rank", "pairs_from_sets",
           "pairs_from_sets_kernel",
           "PAIRED_TESTS", "paired_test_kernel"]


@dataclass(frozen=True)
class PairedTest:
    """Result of a paired test.

    Attributes
    ----------
    method : str
    statistic : float
        McNemar's chi-square, the t statistic, or Wilcoxon's ``V`` (sum of the ranks of
        the positive differences).
    p_value : float
        Two-sided; NaN when the test is undefined (no discordant pair, constant
        differences).
    n_pairs : int
        Pairs used (for Wilcoxon: with a non-zero difference).
    df : float
        Degrees of freedom (NaN for Wilcoxon).
    """

    method: str
    statistic: float
    p_value: float
    n_pairs: int
    df: float = float("nan")


def _pairs(x, y, least: int = 1, values=None) -> tuple[np.ndarray, np.ndarray]:
    """The complete pairs of ``x`` and ``y``, at least ``least`` of them (R stops with
    "not enough observations" below its test's minimum). ``values``, if given, is
    ``(what, bad)``: ``bad(arr)`` marks the entries that are not ``what``."""
    x, y = as_float_array(x, "x"), as_float_array(y, "y")
    check_lengths({"x": x, "y": y})
    if values is not None:
        what, bad = values
        for arr, name in ((x, "x"), (y, "y")):
            wrong = bad(arr)
            if wrong.any():
                raise ValueError(f"{name} must be {what}; got {_show(arr, wrong)}")
    x, y = _complete(x, y)
    if x.size < least:
        raise ValueError(f"x and y must hold at least {least} complete pair"
                         f"{'s' if least > 1 else ''} (a pair with a NaN is dropped); "
                         f"got {x.size}")
    return x, y


def _complete(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = ~(np.isnan(x) | np.isnan(y))           # R drops incomplete pairs
    return x[ok], y[ok]


def mcnemar_test(x, y, *, correct: bool = True) -> PairedTest:
    """McNemar's test of a binary characteristic in matched pairs.

    Parameters
    ----------
    x, y : array of 0/1
        The treated and the control member of each pair (a pair with a NaN is dropped).
    correct : bool
        Continuity correction (R's default).

    Returns
    -------
    PairedTest

    Raises
    ------
    ValueError
        A value other than 0, 1 or NaN, or no complete pair.

    References
    ----------
    McNemar Q. Note on the sampling error of the difference between correlated proportions
    or percentages. Psychometrika 1947;12:153-157. R ``stats::mcnemar.test``.
    """
    # (NaN is neither 0 nor 1 but is not wrong: it drops the pair)
    binary = ("0/1 (or NaN, which drops the pair)",
              lambda a: (a != 0.0) & (a != 1.0) & ~np.isnan(a))
    return _mcnemar(*_pairs(x, y, values=binary), correct)


def _mcnemar(x: np.ndarray, y: np.ndarray, correct: bool = True) -> PairedTest:
    from scipy import stats
    b = float(np.sum((x == 1) & (y == 0)))
    c = float(np.sum((x == 0) & (y == 1)))
    diff = abs(b - c) - 1.0 if correct and b != c else abs(b - c)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = diff ** 2 / (b + c) if b + c > 0 else float("nan")
    p = float(stats.chi2.sf(stat, 1)) if np.isfinite(stat) else float("nan")
    return PairedTest("McNemar", float(stat), p, int(len(x)), 1.0)


def paired_t_test(x, y) -> PairedTest:
    """Paired t test (R ``t.test(x, y, paired = TRUE)``).

    Parameters
    ----------
    x, y : array
        The treated and the control member of each pair (a pair with a NaN is dropped).

    Returns
    -------
    PairedTest
        NaN statistic and p when the differences are constant (R stops with "data are
        essentially constant").

    Raises
    ------
    ValueError
        Fewer than 2 complete pairs (R: "not enough 'x' observations"), or an infinite
        value (no finite mean or SD).

    References
    ----------
    Student. The probable error of a mean. Biometrika 1908;6:1-25.
    """
    return _paired_t(*_pairs(x, y, least=2, values=("finite (NaN drops the pair)", np.isinf)))


def _paired_t(x: np.ndarray, y: np.ndarray) -> PairedTest:
    from scipy import stats
    d = x - y
    n = len(d)
    sd = float(np.std(d, ddof=1)) if n > 1 else 0.0
    if n < 2 or sd <= 10 * np.finfo(float).eps * max(abs(float(np.mean(d))), 1e-300):
        return PairedTest("paired t", float("nan"), float("nan"), n, float(n - 1))
    t = float(np.mean(d) / (sd / np.sqrt(n)))
    return PairedTest("paired t", t, float(2 * stats.t.sf(abs(t), n - 1)), n, float(n - 1))


def _signrank_cdf(n: int) -> np.ndarray:
    """``P(V <= k)``, k = 0..n(n+1)/2, of the signed-rank statistic without ties (R's
    ``psignrank``): subsets of ranks 1..n counted by their sum."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for r in range(1, n + 1):
        counts[r:] = counts[r:] + counts[:-r].copy()
    return np.cumsum(counts) / 2.0 ** n


def wilcoxon_signed_rank(x, y, *, correct: bool = True) -> PairedTest:
    """Wilcoxon signed-rank test of matched pairs, R ``wilcox.test(x, y, paired = TRUE)``.

    Parameters
    ----------
    x, y : array
        The treated and the control member of each pair (a pair with a NaN is dropped;
        an infinite difference has the largest rank, as in R).
    correct : bool
        Continuity correction of the normal approximation (R's default).

    Returns
    -------
    PairedTest
        ``statistic`` is R's ``V``; ``n_pairs`` the non-zero differences.

    Raises
    ------
    ValueError
        No complete pair (R: "not enough (non-missing) 'x' observations"), or a pair whose
        difference is undefined (the same infinity in both members).

    References
    ----------
    Wilcoxon F. Individual comparisons by ranking methods. Biometrics Bulletin
    1945;1:80-83. R ``stats::wilcox.test.default``.
    """
    x, y = as_float_array(x, "x"), as_float_array(y, "y")
    check_lengths({"x": x, "y": y})
    same_inf = np.isinf(x) & (x == y)   # inf - inf: no difference to rank
    if same_inf.any():
        raise ValueError(f"x - y must be defined; x and y hold the same infinity at x"
                         f"{_show(x, same_inf)}")
    return _wilcoxon(*_pairs(x, y), correct)


def _wilcoxon(x: np.ndarray, y: np.ndarray, correct: bool = True) -> PairedTest:
    from scipy import stats
    d = x - y
    zeros = bool(np.any(d == 0))
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return PairedTest("Wilcoxon signed rank", float("nan"), float("nan"), 0)
    r = stats.rankdata(np.abs(d))
    v = float(np.sum(r[d > 0]))
    ties = len(np.unique(r)) != n
    if n < 50 and not ties and not zeros:
        cdf = _signrank_cdf(n)
        k = int(round(v))
        p = 1.0 - cdf[k - 1] if v > n * (n + 1) / 4 else cdf[k]   # P(V >= v) or P(V <= v)
        return PairedTest("Wilcoxon signed rank exact", v, float(min(2 * p, 1.0)), n)
    _, nties = np.unique(r, return_counts=True)
    z = v - n * (n + 1) / 4
    sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - np.sum(nties ** 3 - nties) / 48)
    z = (z - (np.sign(z) * 0.5 if correct else 0.0)) / sigma
    p = 2 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return PairedTest("Wilcoxon signed rank, normal approximation", v, float(p), n)


def pairs_from_sets(set_id, treated) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the treated and the control member of each 1:1 matched set.

    Parameters
    ----------
    set_id : array of int
        The matched-set id of each row of a matched sample.
    treated : array of 0/1
        Each row's arm.

    Returns
    -------
    (ndarray, ndarray)
        Row positions ``(treated_pos, control_pos)`` of the sets holding exactly one of
        each (other sets, e.g. of a 1:k match, are left out).

    Raises
    ------
    ValueError
        ``treated`` not 0/1, ``set_id`` not one finite id per row, lengths that differ.
    """
    z = check_binary(treated, "treated") if np.size(treated) else np.zeros(0, np.int8)
    ids = np.asarray(set_id)
    if ids.ndim != 1 or ids.dtype.kind not in "biuf":
        raise ValueError(f"set_id must be a 1-d array of set ids (numbers); got "
                         f"{ids.dtype} of shape {ids.shape}")
    if ids.dtype.kind == "f":
        check_finite(ids, "set_id")
    check_lengths({"set_id": ids, "treated": z})
    return pairs_from_sets_kernel(ids, z)


def pairs_from_sets_kernel(set_id: np.ndarray, treated: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pairs_from_sets` on trusted arrays of one length (no validation: the
    replicate loops call it on matches they built)."""
    set_id, treated = np.asarray(set_id), np.asarray(treated).astype(bool)
    order = np.lexsort((~treated, set_id))               # per set: treated first
    ids, start, size = np.unique(set_id[order], return_index=True, return_counts=True)
    keep = size == 2
    first, second = order[start[keep]], order[start[keep] + 1]
    ok = treated[first] & ~treated[second]
    return first[ok], second[ok]


#: Paired tests by name: the kernels of the public functions (trusted, complete pairs).
PAIRED_TESTS = {"mcnemar": _mcnemar, "t": _paired_t, "wilcoxon": _wilcoxon}


def paired_test_kernel(x: np.ndarray, y: np.ndarray, test: str) -> PairedTest:
    """The paired test ``test`` (a key of :data:`PAIRED_TESTS`, R's defaults) on trusted
    float arrays of equal length: no validation, incomplete pairs dropped (as R), for
    loops over replicates that validated their input once."""
    return PAIRED_TESTS[test](*_complete(x, y))
