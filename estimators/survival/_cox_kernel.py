"""Numerical core of the Cox model: risk-set bookkeeping, log partial likelihood, score,
information and score residuals in O(n log n) (one sort, then cumulative sums).

Everything here trusts its input. Conventions follow R ``survival::coxph``:

- risk set at an event time t: rows with ``entry < t <= time`` (right-censored data have
  no entry, so every row with ``time >= t``);
- Breslow: each distinct event time contributes ``d_w log S0(t)`` with ``d_w`` the weighted
  number of deaths;
- Efron with case weights (R's ``coxfit6``/``agfit4``): a time with D tied deaths
  contributes D terms ``k = 0..D-1``, each with denominator
  ``S0 - (k/D) sum_{deaths} w_i r_i`` and weight ``meanwt = d_w / D`` (the mean weight
  of the tied deaths).

Sums over a risk set are cumulative sums over rows sorted by decreasing time; sums of the
form ``sum_t c_t S2(t)`` are turned into ``X' diag(w r H) X`` with ``H`` a per-row
cumulative hazard, so no n x n or n x p x p arrays are formed in the Newton loop. Arrays
are stored covariate-major, ``(p, n)``, so that every cumulative sum runs over contiguous
memory: the Newton loop is a couple of dozen numpy calls per iteration. Cumulative sums are
called as the ufunc accumulation itself (``np.add.accumulate``: the loop ``cumsum`` runs,
without its dispatch, which costs more than the sum at these sizes), and the risk-set sums
of every iteration run on pairs of rows read as complex numbers (:func:`paired_prefix_sums`:
the same additions, two per step).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg.lapack import dposv

from ._cox_pairs import paired, paired_prefix_sums, paired_times


def solve_pd(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b for a symmetric positive definite A (LAPACK dposv: ~1 us against
    numpy's ~4 us for the small systems of a Cox fit); raises LinAlgError otherwise."""
    _, x, info = dposv(A, b)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix not positive definite (dposv info={info})")
    return x


class RiskSets:
    """Sorted data and index arrays for one Cox fit (built once, reused by every iteration).

    ``XT`` is the ``(p, n)`` centred covariate matrix in decreasing-time row order
    ``order``; ``end[j]`` is the last sorted row at risk at the j-th event time (ascending);
    ``k_stop``/``k_start`` index each row's exit/entry into the cumulative hazard.
    """

    __slots__ = ("n", "p", "order", "XT", "X1T", "w", "d", "wd", "wdx", "end", "entry_order",
                 "entry_end", "entry_mask", "k_stop", "k_start", "efron", "death_pos",
                 "set_starts", "tset", "tfrac", "tw", "term_starts", "dset", "n_dead",
                 "event_times", "sd", "spread", "_hpad", "powers", "wdx1", "level_of",
                 "level_powers", "level_sums", "X1P", "X1D", "wr2", "ties", "deaths",
                 "death_set", "var")

    def __init__(self, time, event, X, weights, ties="efron", entry=None):
        n, p = X.shape
        self.n, self.p, self.ties = n, p, ties
        asc = time.argsort(kind="stable")
        order = asc[::-1]  # decreasing time: risk sets are prefixes
        self.order = order
        t_asc = time[asc]
        ts = t_asc[::-1]
        d = np.asarray(event, dtype=np.float64)[order]
        # centring keeps exp() tame; every output is invariant to it
        X1T = np.empty((p + 1, n))
        X1T[0] = 1.0
        # (the column sum over n, as X.mean(axis=0) computes it, at a fraction of its cost)
        # (rows gathered whole, then read across: faster than gathering columns of X.T)
        np.subtract(X.take(order, axis=0).T, (np.add.reduce(X, axis=0) / n)[:, None],
                    out=X1T[1:])
        self.X1T = X1T
        self.XT = X1T[1:]
        self.X1P = None  # X1T in pairs of rows, made on first use by risk_sums
        self.d = d

        death_pos = d.nonzero()[0][::-1]  # deaths in increasing time
        dtimes = ts[death_pos]
        first = np.empty(dtimes.size, dtype=bool)
        first[:1] = True
        np.not_equal(dtimes[1:], dtimes[:-1], out=first[1:])
        event_times = dtimes[first]
        m = event_times.size
        self.event_times = event_times
        # last sorted row with time >= t_j; number of event times <= each row's time
        self.end = (n - 1) - t_asc.searchsorted(event_times, side="left")
        self.k_stop = np.ascontiguousarray(event_times.searchsorted(t_asc, side="right")[::-1])
        if entry is not None:
            es = entry[order]
            easc = np.argsort(es, kind="stable")
            self.entry_order = easc[::-1]
            # rows with entry >= t_j are not yet at risk at t_j
            n_late = n - np.searchsorted(es[easc], event_times, side="left")
            self.entry_end = np.maximum(n_late - 1, 0)
            self.entry_mask = (n_late > 0)[None, :]
            self.k_start = np.searchsorted(event_times, es, side="right")
        else:
            self.entry_order = self.entry_end = self.entry_mask = self.k_start = None

        set_of_death = np.add.accumulate(first, dtype=np.intp) - 1
        self.deaths, self.death_set = death_pos, set_of_death
        self.dset = np.zeros(n, dtype=np.intp)
        self.dset[death_pos] = set_of_death
        self.efron = ties == "efron" and death_pos.size > m  # tied deaths exist
        if self.efron:
            counts = np.bincount(set_of_death, minlength=m)
            self.n_dead = counts
            self.death_pos = death_pos
            self.set_starts = np.flatnonzero(first)
            self.tset = set_of_death
            self.tfrac = (np.arange(death_pos.size) - self.set_starts[self.tset]) / counts[self.tset]
            self.term_starts = self.set_starts
            self.X1D = X1T.take(death_pos, axis=1)  # the tied deaths' columns of X1T
        else:
            self.n_dead = None
            self.death_pos = self.set_starts = self.tset = self.tfrac = None
            self.term_starts = self.X1D = None
        var = (np.einsum("ij,ij->i", self.XT, self.XT) if p > 1 else self.XT @ self.XT[0]) / n
        self.var, self.sd = var, np.sqrt(var)
        self._weigh(weights[order])

    def _weigh(self, w):
        """The sums that depend on the weights ``w`` (sorted order)."""
        self.w = w
        self.wd = w * self.d
        self.wdx = self.XT @ self.wd
        m = self.event_times.size
        dw = np.bincount(self.death_set, weights=w[self.deaths], minlength=m)
        self.tw = (dw / self.n_dead)[self.tset] if self.efron else dw
        self._hpad = np.zeros(m + 1)
        self.powers = self.wdx1 = self.level_of = self.level_powers = self.level_sums = None
        if self.p == 1:
            self._scalar_setup(w)
        # the information there would be if every risk set were the whole sample
        self.spread = dw.sum() * self.var

    def reweighted(self, weights: np.ndarray) -> "RiskSets":
        """These risk sets with the case weights ``weights`` (input row order): the sort,
        centred covariates and tie bookkeeping shared, the weighted sums computed as a
        new ``RiskSets`` computes them, so that every fit on it is that one's bit for bit
        (models that differ only in their weights, such as reweighted samples)."""
        new = RiskSets.__new__(RiskSets)
        # every attribute set, then _weigh replaces the weighted ones; the paired rows X1P
        # (of X1T alone, made on first use) are shared, their product buffer is not
        for name in RiskSets.__slots__:
            if name != "wr2" and hasattr(self, name):
                setattr(new, name, getattr(self, name))
        if new.X1P is not None:
            new.wr2 = np.empty(2 * new.n)
        new._weigh(weights[new.order])
        return new

    def _scalar_setup(self, w):
        """One covariate: rows ``1, x, x^2`` for ``evaluate_scalar``; if x takes two values
        (a treatment indicator), the risk-set sums of the weights of each level, so that
        ``S_k(t) = sum_level x^k exp(beta x) W_level(t)`` costs O(terms) per iteration."""
        x = self.XT[0]
        self.wdx1 = float(self.wdx[0])
        is_a = x == x[0]
        b = x[is_a.argmin()]  # x[0] again if x is constant
        is_b = x == b
        if b != x[0] and np.logical_and.reduce(is_a | is_b):
            a, b = float(x[0]), float(b)
            self.level_of = is_b.astype(np.intp)
            Z = np.empty((2, self.n))
            np.multiply(w, is_b, out=Z[1])
            np.subtract(w, Z[1], out=Z[0])  # exact: w - w = 0, w - 0 = w
            self.level_sums = term_sums(self, Z)
            # (from a flat list: numpy reads a nested tuple several times slower)
            self.level_powers = np.array([1.0, 1.0, a, b, a * a, b * b]).reshape(3, 2)
        else:
            self.powers = np.stack((self.X1T[0], x, x * x))


class Evaluation:
    """Log partial likelihood, score and information at one beta, plus what residuals need.

    ``mean`` is ``(p, terms)``: the risk-set mean of x for each likelihood term.
    """

    __slots__ = ("loglik", "score", "information", "r", "mean", "c", "H", "T0", "T",
                 "level_exp")

    def __init__(self, loglik, score, information, r, mean, c, H, T0, T, level_exp=None):
        self.loglik, self.score, self.information = loglik, score, information
        self.r, self.mean, self.c, self.H, self.T0, self.T = r, mean, c, H, T0, T
        self.level_exp = level_exp  # exp(beta x) of a two-valued x's levels (r left out)


def term_sums(rs: RiskSets, Z: np.ndarray) -> np.ndarray:
    """Risk-set sums of the columns of ``Z`` (k, n) for each likelihood term (one per event
    time for Breslow, one per tied death for Efron, with the tied deaths down-weighted by
    k/D): returns (k, terms)."""
    S = np.add.accumulate(Z, axis=1).take(rs.end, axis=1)
    return _terms_from_sums(rs, S, Z, Z.take(rs.death_pos, axis=1) if rs.efron else None)


#: Size of ``X1T`` (rows x columns) from which :func:`risk_sums` runs its cumulative sums on
#: pairs of rows: below it the pairing's extra steps and arrays cost a whole fit more than
#: the sums save (measured, ``fit_cox`` with and without the pairs, Breslow and Efron:
#: 1.04-1.06x at 2,200 cells, 0.99-1.02x at 4,400, 0.99-1.01x at 6,600-7,000, 0.94-0.99x
#: at 8,000-11,000, e.g. 423 rows x 21 columns, the AIPTW working models).
PAIRED_MIN_CELLS = 8000


def risk_sums(rs: RiskSets, wr: np.ndarray) -> np.ndarray:
    """``term_sums(rs, rs.X1T * wr)``, the same numbers, with the cumulative sums run on
    pairs of rows (:func:`paired_prefix_sums`) when ``X1T`` is large enough to pay."""
    if (rs.p + 1) * rs.n < PAIRED_MIN_CELLS:
        return term_sums(rs, rs.X1T * wr)
    if rs.X1P is None:
        rs.X1P = paired(rs.X1T).reshape(-1, 2 * rs.n)
        rs.wr2 = np.empty(2 * rs.n)
    S = paired_prefix_sums(paired_times(rs.X1P, wr, rs.wr2).reshape(-1, rs.n, 2), rs.end,
                           rs.p + 1)
    Z = rs.X1T * wr if rs.entry_order is not None else None
    # (the tied deaths' columns of X1T * wr: the same products, on those columns only)
    Zd = rs.X1D * wr.take(rs.death_pos) if rs.efron else None
    return _terms_from_sums(rs, S, Z, Zd)


def _terms_from_sums(rs: RiskSets, S: np.ndarray, Z: np.ndarray | None,
                     Zd: np.ndarray | None) -> np.ndarray:
    """``term_sums`` from the sums ``S`` (k, event times) over the rows with ``time >= t``:
    less the rows not yet entered (``Z``, needed with entry times only), and for Efron
    split per tied death (``Zd``: the columns of ``Z`` of the deaths, in increasing time)."""
    if rs.entry_order is not None:
        late = Z.take(rs.entry_order, axis=1).cumsum(axis=1).take(rs.entry_end, axis=1)
        S -= late * rs.entry_mask
    if not rs.efron:
        return S
    dsum = np.add.reduceat(Zd, rs.set_starts, axis=1)
    return S.take(rs.tset, axis=1) - rs.tfrac * dsum.take(rs.tset, axis=1)


def per_row_hazard(rs: RiskSets, c: np.ndarray) -> np.ndarray:
    """``H_i = sum_{terms t with row i in the risk set} c_t`` (Efron: tied deaths count
    ``1 - k/D`` of their own time's k-th term)."""
    if rs.efron:
        hc = np.add.reduceat(c, rs.term_starts)
        he = np.add.reduceat(c * rs.tfrac, rs.term_starts)
    else:
        hc = c
    hpad = rs._hpad
    np.add.accumulate(hc, out=hpad[1:])
    H = hpad.take(rs.k_stop)
    if rs.k_start is not None:
        H -= hpad.take(rs.k_start)
    if rs.efron:
        H -= rs.d * he.take(rs.dset)
    return H


def evaluate(rs: RiskSets, beta: np.ndarray) -> Evaluation:
    """Weighted log partial likelihood l(beta), score U and information -d2l at ``beta``."""
    # X is centred, so exp() cannot overflow for any beta a sane fit visits; an overflow
    # (runaway step) gives a NaN log-likelihood, which the step halving rejects
    eta = beta @ rs.XT
    r = np.exp(eta)
    wr = rs.w * r
    T = risk_sums(rs, wr)
    T0 = T[0]
    mean = T[1:] / T0
    loglik = float(rs.wd @ eta - rs.tw @ np.log(T0))
    score = rs.wdx - mean @ rs.tw
    c = rs.tw / T0
    H = per_row_hazard(rs, c)
    info = (rs.XT * (wr * H)) @ rs.XT.T
    info -= (mean * rs.tw) @ mean.T
    return Evaluation(loglik, score, info, r, mean, c, H, T0, T)


def evaluate_scalar(rs: RiskSets, beta: np.ndarray) -> Evaluation:
    """``evaluate`` for one covariate (any ties, with or without entry times): the
    information is ``sum_t tw_t (S2_t / S0_t - mean_t^2)``, equal to ``evaluate``'s
    ``X' diag(w r H) X - sum_t tw_t mean_t^2`` term by term, so the per-row hazard ``H`` is
    left out (None) of the Newton loop; ``score_residuals`` fills it in once at the end."""
    b = float(beta[0])
    if rs.level_sums is not None:
        e = np.exp(rs.level_powers[1] * b)
        T = (rs.level_powers * e) @ rs.level_sums
        r = None
    else:
        e = None
        r = np.exp(rs.XT[0] * b)
        T = term_sums(rs, rs.powers * (rs.w * r))
    T0 = T[0]
    M = T[1:] / T0
    mean = M[:1]
    m = M[0]
    tw = rs.tw
    loglik = b * rs.wdx1 - float(np.log(T0) @ tw)
    score = np.array([rs.wdx1 - float(m @ tw)])
    info = np.array([[float((M[1] - m * m) @ tw)]])
    return Evaluation(loglik, score, info, r, mean, None, None, T0, T[:2], e)


def score_residuals(rs: RiskSets, ev: Evaluation) -> np.ndarray:
    """Per-row (unweighted) score residuals L_i, ``(n, p)`` in the *input* row order; R
    ``residuals(fit, type="score")``.

    ``L_i = d_i (x_i - xbar_i) - r_i sum_{t in (entry_i, time_i]} (x_i - xbar(t)) dLambda(t)``
    with the Efron split of tied deaths; ``sum_i w_i L_i`` is the score.
    """
    if ev.H is None:  # left out by evaluate_scalar
        ev.c = rs.tw / ev.T0
        ev.H = per_row_hazard(rs, ev.c)
        if ev.r is None:
            ev.r = ev.level_exp.take(rs.level_of)
    cm = ev.c * ev.mean
    if rs.efron:
        g_set = np.add.reduceat(cm, rs.term_starts, axis=1)
        ge = np.add.reduceat(cm * rs.tfrac, rs.term_starts, axis=1)
        mbar = np.add.reduceat(ev.mean, rs.term_starts, axis=1) / rs.n_dead
    else:
        g_set = cm
        mbar = ev.mean
    gpad = np.zeros((rs.p, g_set.shape[1] + 1))
    np.add.accumulate(g_set, axis=1, out=gpad[:, 1:])
    G = gpad.take(rs.k_stop, axis=1)
    if rs.k_start is not None:
        G -= gpad.take(rs.k_start, axis=1)
    if rs.efron:
        G -= rs.d * ge.take(rs.dset, axis=1)
    L = rs.d * (rs.XT - mbar.take(rs.dset, axis=1)) - ev.r * (rs.XT * ev.H - G)
    out = np.empty((rs.n, rs.p))
    out[rs.order] = L.T
    return out


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
    scalar = rs.p == 1
    for it in range(1, max_iter + 1):
        if scalar:  # numpy scalars: inf/NaN, not ZeroDivisionError, on a zero information
            step = ev.score[0] / ev.information[0, 0]
            decrement = float(ev.score[0] * step)
        else:
            try:
                step = solve_pd(ev.information, ev.score)
            except np.linalg.LinAlgError:
                return beta, ev, first, it, False
            decrement = float(ev.score @ step)
        if not math.isfinite(decrement):
            return beta, ev, first, it, False
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
