"""Log-rank test: unweighted (k groups, = R ``survdiff``) and IPTW-adjusted (Xie & Liu 2005).

``logrank_test`` validates once and calls ``logrank_kernel`` / ``logrank_iptw_kernel``, kernels that
take trusted arrays: float64 time, 0/1 event, int group codes 0..k-1, weights or None.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import chdtrc

from tacebench.records import ArrayRecord

from .. import _checks
from .km import prepare_survival_input

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

#: Capability table: which test is run for which input.
METHODS = {
    "log-rank": "no weights: Mantel-Haenszel log-rank for k >= 2 groups, = R survdiff(rho=0)",
    "iptw": "weights: IPTW-adjusted log-rank of Xie & Liu (2005), two groups only",
}


@dataclass(frozen=True, eq=False)
class LogRankResult(ArrayRecord):
    """Result of ``logrank_test``.

    ``observed``/``expected`` are per group (in ``groups`` order). Under weights they are on
    Xie & Liu's rescaled scale: at each time the weighted events of a group are rescaled so
    that its weighted number at risk equals its head count, ``O_k = sum_j Y_kj h_kj`` with
    ``h_kj`` the weighted hazard increment, and ``E_k = sum_j Y_kj / Y_j sum_l Y_lj h_lj``.
    ``z`` is the signed statistic (O - E of ``groups[1]`` over its SE) for two groups.

    Unweighted, a group with nobody at risk at any event time (expected count 0) takes no
    part in the test, as in R ``survdiff``: ``df`` is the number of the other groups minus 1.
    When fewer than two groups are left there is nothing to compare: R's values
    (``statistic`` 0 on ``df`` 0, ``p_value`` 1) with ``estimable`` False. ``message`` says
    which groups were left out, and why the test is not estimable when it is not.
    """

    statistic: float
    df: int
    p_value: float
    groups: tuple
    observed: np.ndarray
    expected: np.ndarray
    covariance: np.ndarray
    method: str
    z: float = float("nan")
    message: str = ""

    @property
    def estimable(self) -> bool:
        """A finite statistic on at least 1 df."""
        return bool(np.isfinite(self.statistic)) and self.df >= 1

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame({"group": list(self.groups), "observed": self.observed,
                             "expected": self.expected,
                             "o_minus_e": self.observed - self.expected})


def _risk_table(time, event, codes, k, weights):
    """Per distinct time: counts at risk / events per group (unweighted and weighted)."""
    n = time.shape[0]
    order = np.argsort(time, kind="stable")
    t = time[order]
    d = event[order].astype(np.float64)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), codes[order]] = 1.0
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(t[1:], t[:-1], out=new[1:])
    starts = np.flatnonzero(new)

    def at_risk(values):
        at_time = np.add.reduceat(values, starts, axis=0)
        return np.cumsum(at_time[::-1], axis=0)[::-1]

    risk = at_risk(onehot)
    deaths = np.add.reduceat(onehot * d[:, None], starts, axis=0)
    tables = {"risk": risk, "deaths": deaths}
    if weights is not None:
        w = weights[order][:, None] * onehot
        tables["wrisk"] = at_risk(w)
        tables["wdeaths"] = np.add.reduceat(w * d[:, None], starts, axis=0)
        tables["w2risk"] = at_risk(w * w)
    keep = deaths.sum(axis=1) > 0
    return {key: val[keep] for key, val in tables.items()}


def logrank_kernel(time, event, codes, k):
    """Unweighted k-group log-rank test on trusted arrays (the kernel of
    :func:`logrank_test`).

    Parameters
    ----------
    time, event : (n,) arrays
    codes : (n,) int array of group codes 0..k-1
    k : int

    Returns
    -------
    chi2 : float
        On the groups with expected count > 0 (R ``survdiff``: a group with nobody at risk
        at any event time takes no part; the test's df is their number minus 1); 0 when
        fewer than two such groups are left (R's value); NaN when their variance is
        singular (where R's ``solve`` stops).
    observed, expected : (k,) arrays
    cov : (k, k) array

    Notes
    -----
    No validation, and never raises on data.
    """
    tab = _risk_table(time, event, codes, k, None)
    risk, deaths = tab["risk"], tab["deaths"]
    y = risk.sum(axis=1)
    d = deaths.sum(axis=1)
    frac = risk / y[:, None]
    observed = deaths.sum(axis=0)
    expected = (frac * d[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        hyper = np.where(y > 1, d * (y - d) / (y - 1), 0.0)
    # V_kl = sum_j hyper_j f_kj (delta_kl - f_lj)
    cov = np.diag((hyper[:, None] * frac).sum(axis=0)) - (frac * hyper[:, None]).T @ frac
    kept = expected > 0
    if np.count_nonzero(kept) < 2:
        return 0.0, observed, expected, cov
    diff = (observed - expected)[kept][1:]
    sub = cov[np.ix_(kept, kept)][1:, 1:]
    try:
        chi2 = float(diff @ np.linalg.solve(sub, diff))
    except np.linalg.LinAlgError:
        chi2 = float("nan")
    return chi2, observed, expected, cov


def logrank_iptw_kernel(time, event, codes, weights):
    """Kernel: Xie & Liu (2005) IPTW log-rank for two groups; returns (z, O, E, var).

    At each event time j, with head counts ``Y_kj`` at risk, weighted hazard increments
    ``h_kj = d^w_kj / Y^w_kj`` and effective risk-set sizes
    ``M_kj = (Y^w_kj)^2 / sum_{i in R_kj} w_i^2``::

        U   = sum_j Y_0j Y_1j / Y_j (h_1j - h_0j)
        Var = sum_j d_j (Y_j - d_j) / (Y_j (Y_j - 1)) * (Y_0j Y_1j / Y_j)^2 (1/M_0j + 1/M_1j)

    (``d_j``, ``Y_j`` unweighted totals), the form of the IPWsurvival package
    (Le Borgne et al.). With equal weights it is the ordinary log-rank.
    """
    tab = _risk_table(time, event, codes, 2, weights)
    risk, wrisk = tab["risk"], tab["wrisk"]
    y = risk.sum(axis=1)
    d = tab["deaths"].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        haz = np.where(wrisk > 0, tab["wdeaths"] / wrisk, 0.0)
        inv_eff = np.where(wrisk > 0, tab["w2risk"] / wrisk**2, 0.0)  # 1 / M_kj
        hyper = np.where(y > 1, d * (y - d) / (y * (y - 1)), 0.0)
    scaled = risk * haz  # rescaled weighted deaths per group
    observed = scaled.sum(axis=0)
    expected = (risk / y[:, None] * scaled.sum(axis=1)[:, None]).sum(axis=0)
    a = risk[:, 0] * risk[:, 1] / y
    u = float(np.sum(a * (haz[:, 1] - haz[:, 0])))
    var = float(np.sum(hyper * a * a * (inv_eff[:, 0] + inv_eff[:, 1])))
    z = u / np.sqrt(var) if var > 0 else float("nan")
    return z, observed, expected, var


def group_codes(group, n: int, name: str = "group") -> tuple[np.ndarray, tuple]:
    """Integer codes 0..k-1 for a grouping (levels sorted) with validation."""
    import pandas as pd
    g = np.asarray(group)
    if g.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {g.shape}")
    _checks.check_lengths({"time": np.empty(n), name: g}, n)
    if g.dtype.kind == "f" and np.isnan(g).any():
        raise ValueError(f"{name} must not contain NaN; got NaN at "
                         f"{np.flatnonzero(np.isnan(g))[:3].tolist()}")
    if g.dtype.kind == "O" and pd.isna(g).any():
        raise ValueError(f"{name} must not contain missing values")
    levels, codes = np.unique(g, return_inverse=True)
    if len(levels) < 2:
        raise ValueError(f"{name} must have at least two levels; got {levels.tolist()!r}")
    return codes.astype(np.intp), tuple(levels.tolist())


def _left_out_message(levels: tuple, expected: np.ndarray, df: int) -> str:
    """Which groups the unweighted test leaves out (nobody at risk at an event time)."""
    out = [lev for lev, x in zip(levels, expected) if not x > 0]
    if not out:
        return ""
    msg = (f"group(s) {out!r} have nobody at risk at any event time (expected count 0) "
           f"and are left out of the test, as in R survdiff")
    if df < 1:
        msg += "; fewer than two groups are left: no test (chi-square 0 on 0 df)"
    return msg


def logrank_test(time, event, group, weights=None) -> LogRankResult:
    """Log-rank test of equal survival across groups.

    Without weights: the Mantel–Haenszel log-rank test for k >= 2 groups, chi-square on
    k-1 df, identical to R ``survdiff(Surv(time, event) ~ group)`` and lifelines'
    ``logrank_test`` / ``multivariate_logrank_test``. As in ``survdiff``, a group with nobody
    at risk at any event time (e.g. all censored before the first death) is left out, and
    the df counts the groups that are left (whatever the labels); with fewer than two left
    the result is R's chi-square 0 on 0 df, p 1, not estimable (see :class:`LogRankResult`).

    With weights (IPTW): the adjusted log-rank test of Xie & Liu (2005, Stat Med
    24:3089, section 3), for two groups, whose variance uses each group's effective
    risk-set size and is valid under weighting (see ``logrank_iptw_kernel``). lifelines'
    weighted log-rank instead treats weights as case counts (its variance shrinks when
    weights are scaled up) and R's ``survdiff`` takes no weights.

    Rows with weight 0 are dropped. Raises ``ValueError`` when there are no events.
    """
    codes, levels = group_codes(group, len(_checks.as_float_array(time, "time")))
    t, e, w, codes = prepare_survival_input(time, event, weights, codes)
    if len(np.unique(codes)) < len(levels):
        raise ValueError("group: a level has only zero-weight rows")
    if not e.any():
        raise ValueError("event has no events (all 0): the log-rank test is undefined")
    if w is None:
        chi2, obs, exp, cov = logrank_kernel(t, e, codes, len(levels))
        df = int(np.count_nonzero(exp > 0)) - 1
        z = float("nan")
        if len(levels) == 2:
            z = float((obs[1] - exp[1]) / np.sqrt(cov[1, 1])) if cov[1, 1] > 0 else z
        p = float(chdtrc(df, chi2)) if df >= 1 else 1.0
        return LogRankResult(chi2, df, p, levels, obs, exp, cov, "log-rank", z,
                             _left_out_message(levels, exp, df))
    if len(levels) != 2:
        raise ValueError(f"group must have exactly two levels for the weighted (IPTW) test; "
                         f"got {list(levels)!r}")
    z, obs, exp, var = logrank_iptw_kernel(t, e, codes, w)
    chi2 = z * z
    cov = np.array([[var, -var], [-var, var]])
    return LogRankResult(chi2, 1, float(chdtrc(1, chi2)), levels, obs, exp, cov, "iptw", z)
