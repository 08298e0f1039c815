"""Propensity-score weighting then a weighted Cox model of treatment (marginal HR).

IPTW for the ATE (Rosenbaum 1987) or ATT, stabilized (Xu et al. 2010) or not, truncated at
percentiles (Cole & Hernan 2008), and overlap weights (ATO; Li, Morgan & Zaslavsky 2018).
The PS is a main-effects logistic model. Two SEs of the log-HR, from the same PS and Cox fit:

``variance = "robust"`` (default)
    The Lin & Wei (1989) sandwich of the weighted Cox fit, R ``coxph(..., weights = w,
    robust = TRUE)``. It treats the weights as known, which is conservative for the ATE
    (Austin 2016, Stat Med 35:5642).
``variance = "m_estimation"``
    Stacked estimating equations of the PS model and the weighted Cox model (Shu, Young,
    Toh & Wang 2021, Stat Med 40:4000; ``WeightIt::coxph_weightit``), which accounts for
    the estimated PS. Computed by :func:`estimators.kernels.m_estimation_cov` (the same
    formula, weight derivatives and truncation convention as ``estimators.iptw_cox(...,
    variance="m_estimation")``) from this method's own PS design, weights and Cox fit; the
    robust SE of the same fit is kept as the diagnostic ``x_se_robust``.

Two methods of a study that differ only in ``variance`` (or ``balance``) share one fit per
replicate, passed explicitly: the PS and Cox fit is stored in the replicate's
:class:`~benchmarks.methods.SharedFits` (``data["_fits"]``, a fresh one per replicate from
:func:`benchmarks.dgm.prepared`) under the fit options, and the other method finds it there.
Columns without that store (built by hand) are fitted by each method. The fit is
deterministic, so results do not depend on whether it was shared.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacebench.records import ArrayRecord

from . import MethodOutput, check_covariates, check_truncate, needs_covariates, shared_fits
from ._common import ENDPOINTS, balance, outcome, propensity_fit, treated, treatment_cox_fit

VARIANCES = ("robust", "m_estimation")

OPTIONS = {
    "covariates": ([], check_covariates),
    "weights": ("ATE", ("ATE", "ATT", "ATC", "ATO")),   # target population of the weights
    "stabilized": (False, bool),
    "truncate": ([], check_truncate),
    "endpoint": ("os", ENDPOINTS),
    "ties": ("efron", ("efron", "breslow")),
    "variance": ("robust", VARIANCES),    # SE of the log-HR (module docstring)
    "balance": (False, bool),             # record weighted SMDs (love plot); costs time
}


def option_problems(options, config) -> list[str]:
    """:func:`benchmarks.methods.method_problems`: the PS model needs covariates, and
    stabilization (by the marginal treated fraction) is defined for ATE weights only."""
    return needs_covariates(config, "weighting") + stabilized_problems(config)


def stabilized_problems(config) -> list[str]:
    """``stabilized = true`` with weights other than ATE (which it leaves unchanged)."""
    if config["stabilized"] and config["weights"] != "ATE":
        return [f"stabilized = true applies to ATE weights only (the marginal treated "
                f"fraction); weights = {config['weights']!r} would be left unstabilized"]
    return []


def population(config) -> str:
    """The weights' target population (:func:`benchmarks.methods.estimate_population`)."""
    return config["weights"]


def _stabilize(config) -> bool:
    # stabilization (marginal treated fraction) is defined for the ATE only
    return bool(config["stabilized"]) and config["weights"] == "ATE"


def _weights(ps, z, config) -> tuple[np.ndarray, np.ndarray]:
    """Weights and the mask of weights moved by truncation (zero derivative in the
    M-estimation variance: the percentile thresholds are treated as fixed)."""
    from tacebench.estimators.kernels import iptw_weights_kernel

    stab = _stabilize(config)
    w_raw = iptw_weights_kernel(ps, z, config["weights"], stab, None)
    if not config["truncate"]:
        return w_raw, np.zeros(w_raw.size, dtype=bool)
    w = iptw_weights_kernel(ps, z, config["weights"], stab, tuple(config["truncate"]))
    return w, w != w_raw


def weights(data, config) -> tuple[np.ndarray, bool]:
    """The method's weights and whether the PS model converged."""
    _, ps, converged = propensity_fit(data, config["covariates"])
    return _weights(ps, treated(data), config)[0], converged


def _fit_key(config) -> tuple:
    return (tuple(config["covariates"]), config["weights"], _stabilize(config),
            tuple(config["truncate"]), config["endpoint"], config["ties"])


def _fit_pipeline(data, config) -> tuple:
    """PS model, weights and weighted Cox fit (robust SE included) on one cohort."""
    Xa, ps, ps_converged = propensity_fit(data, config["covariates"])
    z = treated(data)
    w, clipped = _weights(ps, z, config)
    time, event = outcome(data, config["endpoint"])
    # rows of weight 0 would have no score residual for the M-estimation terms
    cox = treatment_cox_fit(time, event, z, None, w, ties=config["ties"], robust=True,
                            keep_zero_weights=True)
    return Xa, z, ps, ps_converged, w, clipped, cox


def _shared_fit(data, config) -> tuple:
    """:func:`_fit_pipeline` through the replicate's shared fits (if it has them), keyed by
    the options that determine the fit (not ``variance`` or ``balance``)."""
    store = shared_fits(data)
    if store is None:
        return _fit_pipeline(data, config)
    return store.get_or_fit(("weighting", _fit_key(config)), lambda: _fit_pipeline(data, config))


def fit(data, config, rng):
    if not config["covariates"]:
        raise ValueError("weighting needs covariates for the propensity model")
    Xa, z, ps, ps_converged, w, clipped, cox = _shared_fit(data, config)
    extra = {"ess": float(w.sum() ** 2 / (w**2).sum()), "max_weight": float(w.max())}
    if config["balance"]:
        extra.update(balance(data, config["covariates"], w))
    se = float(cox.robust_se[0])
    if config["variance"] == "m_estimation":
        extra["se_robust"] = se
        se = m_estimation_se(Xa, z, ps, w, clipped, cox, config) if cox.estimable else np.nan
    return MethodOutput(float(cox.coef[0]), float(se),
                        converged=bool(cox.estimable) and ps_converged, extra=extra)


def fit_batch(datas, config, shared) -> list[MethodOutput | None]:
    """:func:`fit` for a batch of replicates of one size (``None``: fit that one alone; see
    :mod:`benchmarks.methods._batched`): one batched PS model per covariate list and one
    batched weighted Cox fit per option set, shared through ``shared`` by the methods of
    the batch. The M-estimation SE stacks the batched Cox fit's score residuals and
    information with the batched PS model's score (:func:`m_estimation_se`, the
    one-replicate formula, replicate by replicate)."""
    from ._batched import balance_or_none, cox_batch, propensity_batch

    if not config["covariates"]:
        return [None] * len(datas)
    ps_fits = propensity_batch(datas, config["covariates"], shared)
    zs = [treated(d) for d in datas]
    weighted = [None if f is None else _weights(f[1], z, config) for f, z in zip(ps_fits, zs)]
    key = ("weighting", _fit_key(config))
    if key not in shared:
        # with the score residuals, which the M-estimation twin of these options needs
        shared[key] = cox_batch(datas, config["endpoint"], zs,
                                [None if x is None else x[0] for x in weighted], config["ties"],
                                residuals=True)
    out: list[MethodOutput | None] = []
    for data, z, f, wc, cox in zip(datas, zs, ps_fits, weighted, shared[key]):
        if cox is None:
            out.append(None)
            continue
        w = wc[0]
        extra = {"ess": float(w.sum() ** 2 / (w**2).sum()), "max_weight": float(w.max())}
        if config["balance"]:
            smds = balance_or_none(data, config["covariates"], w)
            if smds is None:
                out.append(None)
                continue
            extra.update(smds)
        coef, se = cox[0], cox[2]
        if config["variance"] == "m_estimation":
            Xa, ps, _ = f
            extra["se_robust"] = se
            try:
                se = m_estimation_se(Xa, z, ps, w, wc[1], CoxTerms(cox[3][:, None],
                                                                   np.array([[cox[4]]])),
                                     config)
            except ValueError:
                out.append(None)
                continue
        out.append(MethodOutput(coef, float(se), converged=f[2], extra=extra))
    return out


@dataclass(frozen=True, eq=False)
class CoxTerms(ArrayRecord):
    """What :func:`m_estimation_se` reads of a Cox fit: the unweighted score residuals
    (n, q) and the information (q, q) at the estimate (a batched fit's, standing in for
    the one-replicate ``CoxResult``)."""

    score_residuals: np.ndarray
    information: np.ndarray


def m_estimation_se(Xa, z, ps, w, clipped, cox, config) -> float:
    """SE of the treatment log-HR from the stacked PS + weighted Cox estimating equations."""
    from tacebench.estimators.kernels import m_estimation_cov

    try:
        cov = m_estimation_cov(Xa, z, ps, w, clipped, cox, config["weights"],
                                _stabilize(config))
    except np.linalg.LinAlgError:
        raise ValueError(f"M-estimation variance: the propensity information is singular "
                         f"(collinear covariates among the {Xa.shape[1] - 1} PS columns in "
                         f"this cohort)") from None
    return float(np.sqrt(cov[0, 0]))
