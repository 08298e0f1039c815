"""Numerical core of the Cox model: risk-set bookkeeping, log partial likelihood, score,
information and score residuals in O(n log n) (one sort, then cumulative sums).

Everything here trusts its input. Conventions follow R ``survival::coxph``:

- risk set at an event time t: rows with ``entry < t <= time`` (right-censored data have
  ``entry = -inf`` implicitly, so every row with ``time >= t``);
- Breslow: each distinct event time contributes ``d_w log S0(t)`` with ``d_w`` the weighted
  number of deaths;
- Efron with case weights (R's ``coxfit6``/``agfit4``): a time with D tied deaths
  contributes D terms ``k = 0..D-1``, each with denominator
  ``S0 - (k/D) sum_{deaths} w_i r_i`` and weight ``meanwt = d_w / D`` (the mean weight
  of the tied deaths).

The sums over a risk set are reverse cumulative sums on rows sorted by time; sums of the
form ``sum_t c_t S2(t)`` are turned into ``X' diag(w r H) X`` with ``H`` a per-row
cumulative hazard, so no n x n or n x p x p arrays are formed in the Newton loop.
"""
from __future__ import annotations

import numpy as np


class RiskSets:
    """Sorted data and index arrays for one Cox fit (built once, reused by every iteration)."""

    __slots__ = ("n", "p", "order", "X", "X1", "w", "d", "wd", "wdx", "end", "entry_order",
                 "entry_end", "entry_mask", "k_stop", "k_start", "efron", "death_pos",
                 "set_starts", "tset", "tfrac", "tw", "term_starts", "dset", "n_dead",
                 "event_times")

    def __init__(self, time, event, X, weights, ties="efron", entry=None):
        n, p = X.shape
        self.n, self.p = n, p
        order = np.argsort(-time, kind="stable")  # descending: risk sets are prefixes
        self.order = order
        ts = time[order]
        d = event[order].astype(np.float64)
        Xs = X[order]
        Xs = Xs - Xs.mean(axis=0)  # centring: exp() stays tame; every output is invariant
        w = weights[order]
        self.X, self.w, self.d = Xs, w, d
        self.X1 = np.column_stack((np.ones(n), Xs))
        self.wd = w * d
        self.wdx = self.wd @ Xs

        dead = d > 0
        event_times = np.unique(ts[dead])  # ascending
        self.event_times = event_times
        asc = ts[::-1]
        # last sorted position with time >= t_j (stop-descending order)
        self.end = n - np.searchsorted(asc, event_times, side="left") - 1
        self.k_stop = np.searchsorted(event_times, ts, side="right")
        if entry is not None:
            es = entry[order]
            eorder = np.argsort(-es, kind="stable")
            self.entry_order = eorder
            easc = es[eorder][::-1]
            # rows with entry >= t_j are not yet at risk at t_j
            n_late = n - np.searchsorted(easc, event_times, side="left")
            self.entry_end = np.maximum(n_late - 1, 0)
            self.entry_mask = (n_late > 0)[:, None]
            self.k_start = np.searchsorted(event_times, es, side="right")
        else:
            self.entry_order = self.entry_end = self.entry_mask = self.k_start = None

        # deaths grouped by event time, ascending
        death_pos = np.flatnonzero(dead)[::-1]
        dtimes = ts[death_pos]
        set_of_death = np.searchsorted(event_times, dtimes)
        counts = np.bincount(set_of_death, minlength=event_times.size)
        self.n_dead = counts
        dw = np.bincount(set_of_death, weights=w[death_pos], minlength=event_times.size)
        self.dset = np.zeros(n, dtype=np.intp)
        self.dset[death_pos] = set_of_death
        self.efron = ties == "efron" and bool((counts > 1).any())
        if self.efron:
            self.death_pos = death_pos
            self.set_starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            self.tset = np.repeat(np.arange(event_times.size), counts)
            self.tfrac = (np.arange(death_pos.size) - self.set_starts[self.tset]) / counts[self.tset]
            self.tw = (dw / counts)[self.tset]
            self.term_starts = self.set_starts
        else:
            self.death_pos = self.set_starts = self.tset = self.tfrac = None
            self.term_starts = None
            self.tw = dw


class Evaluation:
    """Log partial likelihood, score and information at one beta, plus what residuals need."""

    __slots__ = ("loglik", "score", "information", "r", "mean", "c", "H", "T0", "T")

    def __init__(self, loglik, score, information, r, mean, c, H, T0, T):
        self.loglik, self.score, self.information = loglik, score, information
        self.r, self.mean, self.c, self.H, self.T0, self.T = r, mean, c, H, T0, T


def term_sums(rs: RiskSets, Z: np.ndarray) -> np.ndarray:
    """Risk-set sums of the rows of ``Z`` for each likelihood term (one per event time for
    Breslow, one per tied death for Efron, with the tied deaths down-weighted by k/D)."""
    S = np.cumsum(Z, axis=0)[rs.end]
    if rs.entry_order is not None:
        late = np.cumsum(Z[rs.entry_order], axis=0)[rs.entry_end]
        S -= np.where(rs.entry_mask, late, 0.0)
    if not rs.efron:
        return S
    dsum = np.add.reduceat(Z[rs.death_pos], rs.set_starts, axis=0)
    return S[rs.tset] - rs.tfrac[:, None] * dsum[rs.tset]


def evaluate(rs: RiskSets, beta: np.ndarray) -> Evaluation:
    """Weighted log partial likelihood l(beta), score U and information -d2l at ``beta``."""
    eta = rs.X @ beta
    eta -= eta.max()  # a common shift cancels from every output
    r = np.exp(eta)
    wr = rs.w * r
    T = term_sums(rs, rs.X1 * wr[:, None])
    T0 = T[:, 0]
    mean = T[:, 1:] / T0[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = float(rs.wd @ eta - rs.tw @ np.log(T0))
    score = rs.wdx - rs.tw @ mean
    c = rs.tw / T0
    if rs.efron:
        hc = np.add.reduceat(c, rs.term_starts)
        he = np.add.reduceat(c * rs.tfrac, rs.term_starts)
    else:
        hc = c
    Hpad = np.concatenate(([0.0], np.cumsum(hc)))
    H = Hpad[rs.k_stop]
    if rs.k_start is not None:
        H = H - Hpad[rs.k_start]
    if rs.efron:
        # a tied death is only partly in its own risk set's later Efron terms
        H = H - rs.d * he[rs.dset]
    info = (rs.X.T * (wr * H)) @ rs.X - (mean.T * rs.tw) @ mean
    return Evaluation(loglik, score, info, r, mean, c, H, T0, T)


def score_residuals(rs: RiskSets, ev: Evaluation) -> np.ndarray:
    """Per-row (unweighted) score residuals L_i in sorted order, R ``residuals(type="score")``.

    ``L_i = d_i (x_i - xbar_i) - r_i sum_{t in (entry_i, time_i]} (x_i - xbar(t)) dLambda(t)``
    with the Efron split of tied deaths; ``sum_i w_i L_i`` is the score.
    """
    cm = ev.c[:, None] * ev.mean
    if rs.efron:
        g_set = np.add.reduceat(cm, rs.term_starts, axis=0)
        ge = np.add.reduceat(cm * rs.tfrac[:, None], rs.term_starts, axis=0)
        mbar = np.add.reduceat(ev.mean, rs.term_starts, axis=0) / rs.n_dead[:, None]
    else:
        g_set = cm
        mbar = ev.mean
    Gpad = np.vstack((np.zeros((1, rs.p)), np.cumsum(g_set, axis=0)))
    G = Gpad[rs.k_stop]
    if rs.k_start is not None:
        G = G - Gpad[rs.k_start]
    if rs.efron:
        G = G - rs.d[:, None] * ge[rs.dset]
    own = rs.d[:, None] * (rs.X - mbar[rs.dset])
    return own - ev.r[:, None] * (rs.X * ev.H[:, None] - G)


def newton(rs: RiskSets, beta: np.ndarray, max_iter: int, tol: float, evaluate_fn=None,
           first: Evaluation | None = None):
    """Newton–Raphson with step halving (as R's coxph) on an objective from ``evaluate_fn``.

    Convergence: the Newton decrement ``U' I^{-1} U`` (twice the predicted gain, invariant
    to covariate scaling) falls below ``tol``; the step is then taken and evaluated, so the
    returned information and residual ingredients belong to the final beta.
    ``first`` may pass an evaluation at ``beta`` already computed.
    Returns ``(beta, evaluation, first_evaluation, n_iter, converged)``.
    """
    evaluate_fn = evaluate_fn or evaluate
    # degenerate data (monotone likelihood) push exp() to its limits: the caller judges the
    # outcome from the returned values, so floating-point warnings are noise here
    with np.errstate(all="ignore"):
        return _newton_loop(rs, beta, max_iter, tol, evaluate_fn, first)


def _newton_loop(rs, beta, max_iter, tol, evaluate_fn, first):
    ev = first = first if first is not None else evaluate_fn(rs, beta)
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(ev.information, ev.score)
        except np.linalg.LinAlgError:
            return beta, ev, first, it, False
        decrement = float(ev.score @ step)
        new = beta + step
        trial = evaluate_fn(rs, new)
        halvings = 0
        while not trial.loglik >= ev.loglik - 1e-12 * abs(ev.loglik) and halvings < 40:
            step = step / 2.0
            new = beta + step
            trial = evaluate_fn(rs, new)
            halvings += 1
        beta, ev = new, trial
        if decrement < tol:
            return beta, ev, first, it, True
    return beta, ev, first, max_iter, False
