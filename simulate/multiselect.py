"""Multi-select variables: which of K options each patient has (e.g. sites of spread).

Papers print one row per option (lymph nodes 61.6%, lungs 29.6%, ...) and sometimes
how many options patients have ("one (373, 88.2%) or two (45, 10.6%) types of EHS").
Independent option indicators get the overlap wrong (seed 000: ~20% of patients in an
extrahepatic-spread cohort would have no site). A ``type = "multiselect"`` variable
generates the *pattern* (the subset of options) as one categorical variable and exposes
one 0/1 column per option, under the options' own (binary) variable names.

Pattern probabilities per arm ``a``: the maximum-entropy distribution (the I-projection
of the uniform distribution on the allowed patterns) subject to

- the options' per-arm shares ``P_a(s_j = 1) = m_aj`` (from the option variables),
- optionally the distribution of the number selected ``P(|s| = k) = c_k`` (pooled over
  the arms with weights ``n_a / N``, as papers report it for the whole cohort),
- ``at_least_one``: the empty pattern is excluded,

found by iterative proportional fitting on the joint ``P(a, s)`` (Deming & Stephan
1940; Csiszar 1975 for convergence to the I-projection), whose solution has the form
``q_a(s) ∝ exp(sum_j lambda_aj s_j + mu_|s|)``. Patterns are levels ordered by the
number selected, then by option order, so a higher latent means more options.
Because the pattern is a single discrete variable of the copula, the exact true
propensity stays exact.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from .marginals import Marginal, thresholds
from .spec import SpecError, Variable

_TOL = 1e-9
_MAX_SWEEPS = 20_000


def enumerate_patterns(options: tuple[str, ...], counts: list[int]) -> tuple[np.ndarray, tuple[str, ...]]:
    """0/1 matrix (patterns x options) of the subsets with the given sizes, and labels."""
    rows, labels = [], []
    for k in counts:
        for combo in combinations(range(len(options)), k):
            b = np.zeros(len(options), np.int8)
            b[list(combo)] = 1
            rows.append(b)
            labels.append("+".join(options[j] for j in combo) if combo else "none")
    return np.array(rows, np.int8).reshape(len(rows), len(options)), tuple(labels)


def solve_patterns(shares: np.ndarray, weights: np.ndarray, bits: np.ndarray,
                   count_probs: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Maximum-entropy pattern probabilities ``q`` (arms x patterns) by IPF.

    ``shares`` (arms x options) are the per-arm option shares, ``weights`` the arms'
    shares of the cohort and ``count_probs[k]`` the pooled probability of ``k`` options.
    Returns ``q`` and the largest constraint violation after the last sweep.
    """
    n_arms, n_pat = shares.shape[0], bits.shape[0]
    q = np.full((n_arms, n_pat), 1.0 / n_pat)
    sel = bits.astype(bool)
    size = bits.sum(axis=1)
    w = np.asarray(weights, float) / np.sum(weights)
    err = np.inf
    for _ in range(_MAX_SWEEPS):
        for a in range(n_arms):
            for j in range(bits.shape[1]):
                cur = q[a, sel[:, j]].sum()
                m = shares[a, j]
                q[a] *= np.where(sel[:, j], m / cur if cur > 0 else 0.0,
                                 (1 - m) / (1 - cur) if cur < 1 else 0.0)
        if count_probs is not None:
            pooled = np.bincount(size, weights=w @ q, minlength=len(count_probs))[:len(count_probs)]
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(pooled > 0, count_probs / pooled, 0.0)
            q *= f[size][None, :]
            q /= q.sum(axis=1, keepdims=True)
        err = float(np.max(np.abs(q @ bits - shares)))
        if count_probs is not None:
            pooled = np.bincount(size, weights=w @ q, minlength=len(count_probs))[:len(count_probs)]
            err = max(err, float(np.max(np.abs(pooled - count_probs))))
        if err < _TOL:
            break
    return q, err


def _option_shares(options: list[Variable], arm_n: dict[str, int]) -> np.ndarray:
    return np.array([[o.arm_probs(lab, n)[1] for o in options] for lab, n in arm_n.items()])


def compile_multiselect(var: Variable, options: list[Variable], arm_n: dict[str, int], key: str
                        ) -> tuple[dict[str, Marginal], tuple[str, tuple[str, ...], np.ndarray]]:
    """Per-arm pattern marginals of ``var`` and ``(name, option names, pattern bits)``."""
    k_opt = len(options)
    shares = _option_shares(options, arm_n)
    weights = np.array(list(arm_n.values()), float)
    labels = list(arm_n)
    mean_counts = shares.sum(axis=1)
    cp = None
    if var.n_selected is not None:
        cp = np.zeros(k_opt + 1)
        probs = var.n_selected.level_probs()
        cp[:len(probs)] = probs
        sizes = [k for k in range(k_opt + 1) if cp[k] > 0]
        pooled_mean = float(weights @ mean_counts / weights.sum())
        stated = float(np.arange(k_opt + 1) @ cp)
        if abs(pooled_mean - stated) > 1e-6:
            raise SpecError(f"{key}.n_selected", f"implies {stated:.6g} options per patient on average, but "
                            f"the options' per-arm shares imply {pooled_mean:.6g} (give both as counts of "
                            f"the same cohort)")
    else:
        sizes = list(range(1 if var.at_least_one else 0, k_opt + 1))
    for lab, mc in zip(labels, mean_counts):
        if not min(sizes) - 1e-12 <= mc <= max(sizes) + 1e-12:
            raise SpecError(f"{key}", f"arm {lab!r}: the options' shares sum to {mc:.4g} options per patient, "
                            f"outside the allowed numbers selected {min(sizes)}..{max(sizes)}"
                            + (" (at_least_one)" if var.at_least_one else ""))
    bits, pat_labels = enumerate_patterns(var.options, sizes)
    q, err = solve_patterns(shares, weights, bits, cp)
    if err > 1e-6:
        raise SpecError(key, f"no distribution over the {len(pat_labels)} patterns matches the options' per-arm "
                        f"shares{' and n_selected' if cp is not None else ''} (largest violation {err:.3g} "
                        "after iterative proportional fitting); check the counts")
    out = {}
    for a, lab in enumerate(labels):
        p = np.clip(q[a], 0.0, None)
        p /= p.sum()
        rep = {"no_option": float(p[bits.sum(axis=1) == 0].sum()),
               "n_selected": np.bincount(bits.sum(axis=1), weights=p, minlength=k_opt + 1).tolist(),
               "option_shares": (shares[a].tolist(), (p @ bits).tolist())}
        out[lab] = Marginal("discrete", cuts=thresholds(p), values=np.arange(len(p), dtype=float), probs=p,
                            report=rep)
    return out, (var.name, tuple(var.options), bits, pat_labels)


def expand_options(columns: dict, multiselect: tuple) -> None:
    """Write each option's 0/1 column from its pattern column (in place; NaN stays NaN)."""
    for name, opts, bits, _labels in multiselect:
        codes = np.asarray(columns[name])
        # one lookup row per option over the patterns, plus a NaN entry for a missing pattern
        lut = np.concatenate([bits.T.astype(float), np.full((len(opts), 1), np.nan)], axis=1)
        idx = np.where(np.isnan(codes), len(bits), codes).astype(np.intp)
        for j, opt in enumerate(opts):
            columns[opt] = lut[j].take(idx)
