"""Pieces shared by the method families: outcome columns, PS model, Cox of treatment, balance."""
from __future__ import annotations

import numpy as np

from . import MethodOutput, covariate_names, design, shared_fits

ENDPOINTS = ("os", "pfs")


def outcome(data: dict[str, np.ndarray], endpoint: str) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(data[f"{endpoint}_time"], dtype=np.float64),
            np.asarray(data[f"{endpoint}_event"], dtype=np.int8))


def treated(data: dict[str, np.ndarray], column: str = "treated") -> np.ndarray:
    if column not in data:
        raise KeyError(f"exposure column {column!r} is not in the cohort")
    z = np.asarray(data[column], dtype=np.float64)
    if np.isnan(z).any():  # (a Cox model on it gives NaN, "did not converge")
        raise ValueError(f"exposure column {column!r} has {int(np.isnan(z).sum())} missing "
                         f"values (NaN)")
    return z


def covariate_design(data: dict[str, np.ndarray], covariates: list[str]) -> np.ndarray:
    """The covariates of a treatment-adjusted model (PS, balancing, Mahalanobis distance,
    survival working models): :func:`benchmarks.methods.design` with levels seen in one arm
    pooled, without the columns constant in this replicate (raises ``KeyError`` /
    ``ValueError`` where the covariates cannot be built).

    A covariate without variation in this cohort (a rare level absent from a replicate)
    cannot enter a model; like R's glm, which aliases it (NA coefficient), it is left out:
    the fitted values are unchanged, the information matrices stay invertible, and there is
    nothing to balance or scale by.

    Built once per replicate and covariate list, whichever family asks (PS model,
    Mahalanobis matching, balancing weights, survival working models), through the
    replicate's shared fits; the array is read-only, so no consumer can alter another's."""
    store = shared_fits(data)
    if store is None:
        return _covariate_design(data, covariates)
    return store.get_or_fit(("covariate_design", tuple(covariates)),
                            lambda: _covariate_design(data, covariates))


def _covariate_design(data, covariates) -> np.ndarray:
    X = design(data, covariates, pool_by=treated(data))
    X = X[:, np.ptp(X, axis=0) > 0]
    X.flags.writeable = False
    return X


def ps_design(data: dict[str, np.ndarray], covariates: list[str]) -> np.ndarray:
    """The PS model's design: :func:`covariate_design` after an intercept column."""
    X = covariate_design(data, covariates)
    return np.column_stack([np.ones(X.shape[0]), X])


def ps_key(covariates: list[str]) -> tuple:
    """Key of a PS model in a replicate's :class:`~benchmarks.methods.SharedFits`."""
    return ("ps", tuple(covariates))


def propensity_fit(data: dict[str, np.ndarray],
                   covariates: list[str]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Logistic PS model of treatment on ``covariates`` (``estimators.kernels.fit_logistic``).

    Returns the design with its intercept column (what the M-estimation variance of the
    weighting family differentiates), the fitted PS and whether Newton converged
    (``newton_converged``). The PS model fails (``ValueError``) by the Monte Carlo policy
    of :func:`estimators.status.monte_carlo_ps_failed`: a fitted PS of exactly 0 or 1.

    Fitted once per replicate and covariate list, whichever family asks (weighting,
    matching, balancing, weighted contrasts), through the replicate's shared fits
    (:func:`ps_key`); the PS array is read-only.
    """
    store = shared_fits(data)
    if store is None:
        return _fit_propensity(data, covariates)
    return store.get_or_fit(ps_key(covariates), lambda: _fit_propensity(data, covariates))


def _fit_propensity(data, covariates) -> tuple[np.ndarray, np.ndarray, bool]:
    from tacebench.estimators.kernels import fit_logistic
    from tacebench.estimators.status import monte_carlo_ps_failed

    z = treated(data)
    Xa = ps_design(data, covariates)
    X = Xa[:, 1:]
    fit = fit_logistic(Xa, z, np.ones_like(z))
    ps = fit.fitted
    if monte_carlo_ps_failed(fit):  # (quasi-)complete separation: the MLE does not exist
        extreme = int(((ps <= 0.0) | (ps >= 1.0)).sum())
        raise ValueError(f"propensity model separated: fitted PS of exactly 0 or 1 for "
                         f"{extreme} patients ({X.shape[1]} covariates, {int(z.sum())} treated, "
                         f"{int((1 - z).sum())} controls)")
    # shared by every method of the replicate that asks: read-only, so none can alter it
    ps.flags.writeable = False
    return Xa, ps, bool(fit.newton_converged)


def propensity(data: dict[str, np.ndarray], covariates: list[str]) -> tuple[np.ndarray, bool]:
    """Fitted PS and convergence of :func:`propensity_fit`."""
    _, ps, converged = propensity_fit(data, covariates)
    return ps, converged


def treatment_cox_fit(time, event, z, X=None, weights=None, *, cluster=None, entry=None,
                      ties="efron", robust=False, keep_zero_weights=False):
    """The estimators' Cox kernel with the treatment as first column; returns the
    ``CoxResult`` (score residuals and information included).

    Calls the ``fit_cox`` kernel directly (the Monte Carlo hot path): the inputs are built here, so
    the public function's validation would only repeat work; what it would have caught (no
    events, a constant or collinear column) raises here too. Rows of weight 0 are dropped
    unless ``keep_zero_weights`` (then they raise: a caller that needs one score residual
    per input row must not silently lose rows).
    """
    from tacebench.estimators.kernels import fit_cox

    Xa = z[:, None] if X is None or X.shape[1] == 0 else np.column_stack([z, X])
    if weights is None:  # unit weights: finite and positive, nothing to check or drop
        w = np.ones(time.size)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if not np.isfinite(w).all():
            raise ValueError("weights must be finite (extreme propensity scores)")
        keep = w > 0
        if not keep.all():
            if keep_zero_weights:
                raise ValueError(f"{int((~keep).sum())} weights are 0 (propensity scores at 0 "
                                 "or 1 in floating point): the per-patient terms are undefined")
            time, event, Xa, w = time[keep], event[keep], Xa[keep], w[keep]
            entry = None if entry is None else entry[keep]
            cluster = None if cluster is None else np.asarray(cluster)[keep]
    if not event.any():
        raise ValueError("no events: the Cox model is not estimable")
    if (Xa.max(axis=0) - Xa.min(axis=0) == 0).any():  # (np.ptp's test, without its wrapper)
        raise ValueError("a Cox covariate is constant (e.g. one arm empty, a level absent)")
    codes = None if cluster is None else cluster_codes(cluster)
    return fit_cox(time, event.astype(np.float64), Xa, w, ties=ties, entry=entry,
                    cluster=codes, robust=robust or codes is not None)


def cluster_codes(cluster) -> np.ndarray:
    """``np.unique(cluster, return_inverse=True)[1]``: the codes 0, 1, ... of the
    clusters. Matched sets' ids already are those codes (each set's rows together, sets
    numbered in order), and then are returned as they are, without the sort."""
    c = np.asarray(cluster)
    if c.dtype == np.intp and c.ndim == 1 and c.size and c[0] == 0:
        # steps of 0 or 1 only: as unsigned, a negative step is huge
        if ((c[1:] - c[:-1]).view(np.uintp) <= 1).all():
            return c
    return np.unique(c, return_inverse=True)[1]


def cox_of_treatment(time, event, z, X=None, weights=None, *, robust=False, cluster=None,
                     entry=None, ties="efron", extra=None) -> MethodOutput:
    """Treatment log-HR (first column) of a Cox model, with the SE the options ask for
    (model-based; Lin-Wei robust if ``robust``; clustered on ``cluster``)."""
    fit = treatment_cox_fit(time, event, z, X, weights, cluster=cluster, entry=entry,
                            ties=ties, robust=robust)
    se = fit.robust_se[0] if (robust or cluster is not None) else fit.se[0]
    return MethodOutput(float(fit.coef[0]), float(se), converged=bool(fit.estimable),
                        extra=dict(extra or {}))


def balance(data: dict[str, np.ndarray], covariates: list[str], weights=None) -> dict[str, float]:
    """``smd_<covariate>``: absolute SMD (pre-adjustment pooled SD denominator) after weighting
    or matching; the love plot averages them over replicates. All covariates in one pass
    (:func:`benchmarks.methods._balance.absolute_smds`); the weight-free part (columns,
    unadjusted SDs) once per replicate and covariate list, whichever method asks, through
    the replicate's shared fits."""
    store = shared_fits(data)
    prepared = (balance_columns(data, covariates) if store is None
                else store.get_or_fit(("balance", tuple(covariates)),
                                      lambda: balance_columns(data, covariates)))
    smds = prepared.absolute_smds(weights)
    return {f"smd_{name}": value for name, value in smds.items()}


def balance_columns(data: dict[str, np.ndarray], covariates: list[str]):
    """The weight-free part of :func:`balance` (a
    :class:`benchmarks.methods._balance.BalanceColumns`): the replicate's covariate
    columns, checked, with their unadjusted SDs."""
    from ._balance import BalanceColumns

    return BalanceColumns.of(data["treated"], {name: np.asarray(data[name]) for name in
                                               covariate_names(data, covariates)})
