"""Pieces of the batched entry points (``fit_batch``): the PS model, weights and Cox model of
treatment fitted across a batch of replicates with :mod:`estimators.batch`, and the balance
SMDs (:func:`benchmarks.methods._common.balance`) or ``None`` where they raise.

A batched entry point returns, for every replicate, either its :class:`MethodOutput` or
``None``: "fit this one with the family's one-replicate ``fit``". It answers ``None``
wherever the one-replicate path would raise or take another branch (a separated PS
model, weights of 0 or inf, no events, one arm empty, a Cox fit that the batch kernel
handed to the one-replicate kernel), so every error and warning string comes from the
one-replicate path, and every number from the same formulas.

Fits that several methods of a batch share (one PS model per covariate list, one weighted
Cox fit per weighting option set) live in ``shared``, a dict the caller makes fresh for
each batch; like :class:`benchmarks.methods.SharedFits`, sharing cannot change a number.
"""
from __future__ import annotations

import numpy as np

from ._common import outcome, ps_design, ps_key, treated


def _stack_groups(items: list) -> dict[tuple, list[int]]:
    """Positions of the non-None arrays of ``items`` grouped by shape."""
    groups: dict[tuple, list[int]] = {}
    for i, a in enumerate(items):
        if a is not None:
            groups.setdefault(a.shape, []).append(i)
    return groups


def _ps_design(data, covariates) -> np.ndarray | None:
    """:func:`benchmarks.methods._common.ps_design`, or ``None`` where building it raises
    (the one-replicate path then raises the same)."""
    try:
        return ps_design(data, covariates)
    except (KeyError, ValueError):
        return None


def propensity_batch(datas: list, covariates: list[str], shared: dict) -> list:
    """Per replicate ``(Xa, ps, newton_converged)`` of the logistic PS model, or ``None``
    (fit alone: a design that cannot be built, a fitted PS of exactly 0 or 1).

    The replicates whose designs have the same shape (same size, same columns kept) are
    fitted together by :func:`estimators.batch.logistic_regression_batch`'s kernel, which
    refits with the one-replicate kernel any replicate that leaves the common path.

    These fits stay out of the replicates' shared fits (where the one-replicate
    :func:`benchmarks.methods._common.propensity_fit` of every family finds its PS
    model): they equal the one-replicate fit to rounding only, and a matching method picks
    among pairings of equal cost by such differences (optimal matching on today's default
    study, 10 replicates: 68 of 3980 rows with another pairing, their clustered SEs up to
    23% apart), so the one-replicate families keep the one-replicate PS model.
    """
    key = ps_key(covariates)
    if key in shared:
        return shared[key]
    from tacebench.estimators.batch.logistic import fit_logistic_rows
    from tacebench.estimators.status import fitted_distance, ps_at_bounds

    designs = [_ps_design(d, covariates) for d in datas]
    out: list = [None] * len(datas)
    for idx in _stack_groups(designs).values():
        # (R, p, n) contiguous, passed as its transposed view: the kernel's layout
        XT = np.stack([designs[i].T for i in idx])
        z = np.stack([treated(datas[i]) for i in idx])
        _, ps, conv, _, _ = fit_logistic_rows(XT.transpose(0, 2, 1), z, np.ones(z.shape))
        for j, i in enumerate(idx):
            if not ps_at_bounds(fitted_distance(ps[j], np.ones(ps.shape[1]))):
                out[i] = (designs[i], ps[j], bool(conv[j]))
    shared[key] = out
    return out


def _cox_inputs(data, endpoint, z, w) -> tuple | None:
    """``(time, event)`` if :func:`benchmarks.methods._common.treatment_cox_fit` would fit
    these rows without raising or dropping any, else ``None``."""
    time, event = outcome(data, endpoint)
    if not (np.isfinite(w).all() and (w > 0).all() and event.any() and np.ptp(z) > 0):
        return None
    return time, event


def cox_batch(datas: list, endpoint: str, zs: list, ws: list, ties: str,
              residuals: bool = False) -> list:
    """Per replicate ``(log HR, model SE, robust SE)`` of the Cox model of treatment with
    weights ``ws[i]`` (``None``: skip that replicate), or ``None`` where the one-replicate
    path must fit it (it would raise, or the batch kernel refitted it alone); with
    ``residuals``, ``(log HR, model SE, robust SE, score residuals (n,), information)``:
    what :func:`estimators.kernels.m_estimation_cov` takes from the one-replicate fit."""
    from tacebench.estimators.batch.cox import fit_cox_rows

    inputs = [None if w is None else _cox_inputs(d, endpoint, z, w)
              for d, z, w in zip(datas, zs, ws)]
    out: list = [None] * len(datas)
    for idx in _stack_groups([None if x is None else x[0] for x in inputs]).values():
        t = np.stack([inputs[i][0] for i in idx])
        e = np.stack([inputs[i][1] for i in idx]).astype(np.float64)
        z = np.stack([zs[i] for i in idx])
        w = np.stack([ws[i] for i in idx])
        fit = fit_cox_rows(t, e, z, w, ties=ties, residuals=residuals)
        coef, se, rse, refitted = fit[0], fit[1], fit[2], fit[7]
        for j, i in enumerate(idx):
            if not refitted[j]:
                out[i] = (float(coef[j]), float(se[j]), float(rse[j]))
                if residuals:  # the information of one coefficient: 1 / model variance
                    out[i] += (fit[8][j], 1.0 / (se[j] * se[j]))
    return out


def balance_or_none(data, covariates: list[str], weights=None) -> dict[str, float] | None:
    """:func:`benchmarks.methods._common.balance` (all covariates in one pass), or ``None``
    where it raises: that replicate is then fitted alone, whose row records the error the
    one-replicate path raises."""
    from ._common import balance

    try:
        return balance(data, covariates, weights)
    except ValueError:
        return None
