"""Propensity-score weighting then a weighted Cox model of treatment (marginal HR).

IPTW for the ATE (Rosenbaum 1987) or ATT, stabilized (Xu et al. 2010) or not, truncated at
percentiles (Cole & Hernan 2008), and overlap weights (ATO; Li, Morgan & Zaslavsky 2018).
The PS is a main-effects logistic model. The SE is the Lin & Wei (1989) robust sandwich,
which treats the weights as known (conservative for the ATE; Austin 2016).
"""
from __future__ import annotations

import numpy as np

from . import MethodOutput, check_covariates, check_truncate
from ._common import ENDPOINTS, balance, cox_of_treatment, outcome, propensity, treated

OPTIONS = {
    "covariates": ([], check_covariates),
    "weights": ("ATE", ("ATE", "ATT", "ATC", "ATO")),   # target population of the weights
    "stabilized": (False, bool),
    "truncate": ([], check_truncate),
    "endpoint": ("os", ENDPOINTS),
    "ties": ("efron", ("efron", "breslow")),
    "balance": (False, bool),             # record weighted SMDs (love plot); costs time
}


def weights(data, config) -> tuple[np.ndarray, bool]:
    from estimators.weights import _iptw_weights

    ps, converged = propensity(data, config["covariates"])
    trunc = tuple(config["truncate"]) if config["truncate"] else None
    w = _iptw_weights(ps, data["treated"], config["weights"],
                      config["stabilized"] and config["weights"] == "ATE", trunc)
    return w, converged


def fit(data, config, rng):
    if not config["covariates"]:
        raise ValueError("weighting needs covariates for the propensity model")
    w, ps_converged = weights(data, config)
    time, event = outcome(data, config["endpoint"])
    z = treated(data)
    extra = {"ess": float(w.sum() ** 2 / (w**2).sum()), "max_weight": float(w.max())}
    if config["balance"]:
        extra.update(balance(data, config["covariates"], w))
    out = cox_of_treatment(time, event, z, None, w, robust=True, ties=config["ties"], extra=extra)
    if not ps_converged:
        return MethodOutput(out.estimate, out.se, converged=False, extra=out.extra)
    return out
