"""Balancing weights then a weighted Cox model of treatment (marginal HR in their population).

``method``:

``"ebal"``
    Entropy balancing of the covariate means (Hainmueller 2012), ``target`` ATT (the
    controls reweighted to the treated means), ATC or ATE;
``"cbps"``
    The just-identified covariate balancing propensity score (Imai & Ratkovic 2014), ATE,
    ATT or ATC;
``"matching"``
    Matching weights ``min(e, 1 - e) / P(Z = z | x)`` from the main-effects logistic PS
    (Li & Greene 2013), estimand ATM.

Entropy balancing and CBPS through their kernels on this method's design; when a kernel did
not converge or the columns are linearly dependent (which both public functions refuse),
their checks of the kernel's result
(:func:`estimators.balancing_weights.balancing_weights_checked`) raise what
:func:`estimators.balancing_weights` would, naming the cause, without solving again.
Matching weights through :func:`estimators.balancing_weights`. The SE of the log-HR is the
Lin & Wei (1989) robust sandwich of the weighted Cox fit, which treats the weights as known
(as ``coxph(..., weights = w, robust = TRUE)`` after ``WeightIt``); a method whose solver
did not converge returns its estimate with ``converged = False`` (excluded from the
performance measures, counted as non-converged).
"""
from __future__ import annotations

import numpy as np

from . import MethodOutput, check_covariates
from ._common import (ENDPOINTS, balance, covariate_design, outcome, propensity, treated,
                      treatment_cox_fit)

#: method -> the estimands it may target (its first is the default)
ESTIMANDS = {"ebal": ("ATT", "ATC", "ATE"), "cbps": ("ATE", "ATT", "ATC"), "matching": ("ATM",)}

OPTIONS = {
    "method": ("ebal", tuple(ESTIMANDS)),
    "target": ("", ("", "ATE", "ATT", "ATC", "ATM")),   # population; "" = the method's first
    "covariates": ([], check_covariates),
    "endpoint": ("os", ENDPOINTS),
    "ties": ("efron", ("efron", "breslow")),
    "balance": (False, bool),             # record weighted SMDs (love plot)
}


def option_problems(options, config) -> list[str]:
    """:func:`benchmarks.methods.method_problems`: covariates, and a target the method
    defines."""
    from . import needs_covariates

    out = needs_covariates(config, "balancing weights")
    method, target = config["method"], config["target"]
    if target and target not in ESTIMANDS[method]:
        out.append(f"target {target!r} is not defined for method {method!r} (it supports "
                   f"{list(ESTIMANDS[method])})")
    return out


def population(config) -> str:
    """The weights' target (:func:`benchmarks.methods.estimate_population`)."""
    return config["target"] or ESTIMANDS[config["method"]][0]


def _kernels():
    from tacebench.estimators.weights_cbps import cbps_weights_kernel
    from tacebench.estimators.weights_ebal import entropy_balancing_kernel
    return {"ebal": entropy_balancing_kernel, "cbps": cbps_weights_kernel}


def weights(data, config):
    """The method's :class:`~estimators.balancing_result.BalancingWeights`."""
    from tacebench.estimators.balancing_result import column_rank
    from tacebench.estimators.balancing_weights import (balancing_weights,
                                                        balancing_weights_checked)

    method = config["method"]
    estimand = config["target"] or ESTIMANDS[method][0]
    if estimand not in ESTIMANDS[method]:
        raise ValueError(f"balancing: estimand {estimand!r} is not defined for method "
                         f"{method!r} (it supports {list(ESTIMANDS[method])})")
    z = treated(data)
    if method == "matching":
        ps, _ = propensity(data, config["covariates"])
        return balancing_weights(ps, z, method=method)
    X = covariate_design(data, config["covariates"])
    # the kernel on the trusted design; the validating public function's checks (its
    # rank check and its error naming the cause) on the kernel's result only when the
    # kernel did not converge or the columns are dependent, so the result is the public
    # function's in every case, and nothing is solved twice
    names = tuple(f"x{j}" for j in range(X.shape[1]))
    res = _kernels()[method](X, z, estimand, names)
    if not res.status.ok or column_rank(np.column_stack([np.ones(z.size), X])) <= X.shape[1]:
        return balancing_weights_checked(res, X, z)
    return res


def fit(data, config, rng):
    if not config["covariates"]:
        raise ValueError("balancing weights need covariates")
    bw = weights(data, config)
    w = bw.weights
    time, event = outcome(data, config["endpoint"])
    cox = treatment_cox_fit(time, event, treated(data), None, w, ties=config["ties"],
                            robust=True)
    extra = {"ess": float(w.sum() ** 2 / (w**2).sum()), "max_weight": float(w.max()),
             "max_imbalance": bw.max_imbalance}
    if config["balance"]:
        extra.update(balance(data, config["covariates"], w))
    return MethodOutput(float(cox.coef[0]), float(cox.robust_se[0]),
                        converged=bool(cox.estimable) and bw.status.ok, extra=extra)
