"""Tests of association in contingency tables: Pearson chi-square and Fisher's exact test.

Tables are oriented as R's ``table(treated, y)``: rows are the arms (control, treated), and
columns the outcome (no, yes), so that Fisher's odds ratio is treated vs control.

* :func:`chi_square_test` = R ``chisq.test(tab, correct = TRUE|FALSE)``: Pearson's
  ``sum (|O - E| - c)^2 / E`` on ``(r - 1)(c - 1)`` df, with Yates' correction
  ``c = min(0.5, |O - E|)`` for 2 x 2 tables only (R and scipy agree on this rule).
* :func:`fisher_exact_test` = R ``fisher.test(tab)`` for 2 x 2 tables: two-sided p (sum of
  the probabilities of tables no more likely than the observed one, R's relative
  tolerance 1e-7), the conditional maximum-likelihood odds ratio and its exact
  (Cornfield) interval (scipy ``fisher_exact`` and ``contingency.odds_ratio``). Larger
  tables are refused: scipy's r x c Fisher test is a Monte Carlo approximation, not R's
  exact network algorithm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from ._checks import as_float_array, check_binary, check_flag, check_lengths, check_level

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["ContingencyTest", "contingency_table", "chi_square_test", "fisher_exact_test",
           "fisher_exact_p"]


@dataclass(frozen=True, eq=False)
class ContingencyTest(ArrayRecord):
    """Result of a test of association.

    Attributes
    ----------
    method : str
    statistic : float
        Chi-square statistic, or Fisher's conditional MLE odds ratio.
    p_value : float
    df : float
        Chi-square degrees of freedom (NaN for Fisher).
    expected : (r, c) array
        Expected counts under independence.
    odds_ratio_ci : tuple of float or None
        Fisher only: exact CI of the conditional odds ratio.
    """

    method: str
    statistic: float
    p_value: float
    df: float
    expected: np.ndarray
    odds_ratio_ci: tuple[float, float] | None = None

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        lo, hi = self.odds_ratio_ci or (np.nan, np.nan)
        return pd.DataFrame([{"method": self.method, "statistic": self.statistic,
                              "p_value": self.p_value, "df": self.df, "ci_lower": lo, "ci_upper": hi}])


def contingency_table(y, treated) -> np.ndarray:
    """2 x 2 counts ``[[control & y=0, control & y=1], [treated & y=0, treated & y=1]]``."""
    yv = check_binary(y, "y")
    t = check_binary(treated, "treated")
    check_lengths({"y": yv, "treated": t})
    tab = np.zeros((2, 2), dtype=np.int64)
    np.add.at(tab, (t, yv), 1)
    return tab


def _check_table(table, name: str = "table") -> np.ndarray:
    try:  # (numbers only: a table of strings such as "3" is refused, not read)
        tab = as_float_array(table, name, ndim=2)
    except ValueError as exc:
        raise type(exc)(f"{name} must be a 2-D array of counts: {exc}") from None
    if tab.ndim != 2 or min(tab.shape) < 2:
        raise ValueError(f"{name} must be 2-D with at least 2 rows and 2 columns; got shape {tab.shape}")
    if not np.isfinite(tab).all() or (tab < 0).any() or (tab != np.round(tab)).any():
        raise ValueError(f"{name} must hold non-negative whole counts; got {tab.tolist()}")
    if (tab.sum(axis=0) == 0).any() or (tab.sum(axis=1) == 0).any():
        raise ValueError(f"{name} has an empty row or column (margins must be positive); got {tab.tolist()}")
    return tab


def chi_square_test(table, *, correct: bool = True) -> ContingencyTest:
    """Pearson chi-square test of independence, as R ``chisq.test(table, correct=)``.

    ``correct`` applies Yates' continuity correction, and only to 2 x 2 tables (as in R).
    """
    from scipy import stats
    correct = check_flag(correct, "correct")
    tab = _check_table(table)
    stat, p, dof, expected = stats.chi2_contingency(tab, correction=correct)
    method = "Pearson chi-square" + (" with Yates correction" if correct and tab.shape == (2, 2) else "")
    return ContingencyTest(method, float(stat), float(p), float(dof), expected)


def fisher_exact_test(table, *, conf_level: float = 0.95) -> ContingencyTest:
    """Fisher's exact test of a 2 x 2 table, as R ``fisher.test(table)`` (two-sided)."""
    tab = _check_table(table)
    if tab.shape != (2, 2):
        raise ValueError(f"table must be 2 x 2 for the exact test; got shape {tab.shape} "
                         "(use chi_square_test for larger tables)")
    conf_level = check_level(conf_level)
    counts = tab.astype(np.int64)
    p = fisher_exact_p(counts)
    from scipy.stats import contingency as _ct
    orr = _ct.odds_ratio(counts, kind="conditional")
    ci = orr.confidence_interval(confidence_level=conf_level)
    expected = np.outer(tab.sum(1), tab.sum(0)) / tab.sum()
    return ContingencyTest("Fisher exact", float(orr.statistic), p, np.nan, expected,
                           (float(ci.low), float(ci.high)))


def fisher_exact_p(counts: np.ndarray) -> float:
    """Two-sided p of Fisher's exact test of a 2 x 2 table of counts, on trusted input
    (the kernel of :func:`fisher_exact_test` without the conditional odds ratio and its
    interval, whose root finding costs ~20x the p-value: an audit needs p alone)."""
    from scipy import stats
    return float(stats.fisher_exact(counts).pvalue)
