"""Marginal risk and RMST differences by g-formula, IPTW-IPCW and AIPTW (doubly robust).

The estimators of :mod:`estimators.survival.ate` (risk ``F_a(t) = P(T^a <= t)``; equal to
``riskRegression::ate``) and :mod:`estimators.survival.ate_rmst` (``RMST_a(tau)``), with
influence-function SEs that include every working model:

* outcome: Cox model on ``[treated, covariates]`` (Breslow baseline);
* treatment: main-effects logistic model on ``covariates``;
* censoring (IPTW, AIPTW): ``censoring = "cox"``, a Cox model for censoring on
  ``[treated, covariates]`` (riskRegression's default), or ``"marginal"`` (Kaplan-Meier-type,
  covariate-free).

``quantity = "risk_difference"``: ``F_1(time) - F_0(time)``; ``"rmst_difference"``:
``RMST_1(time) - RMST_0(time)``. Methods that differ only in ``estimator`` or ``time`` share
one fit per replicate: the working models and all ``estimators`` at all ``horizons`` are
computed once (keyed by those options in the replicate's
:class:`~benchmarks.methods.SharedFits`) and each method reads its own cell. A method
fails only when a working model that its own ``estimator`` needs is not estimable (the
kernels' per-estimator ``statuses``): an inestimable treatment model fails the IPTW-IPCW
and AIPTW rows of a shared fit, not its g-formula rows. The RMST
needs the risks at every event time before the last horizon; their influence functions are
contracted with the RMST's step widths inside each estimator, so the RMST costs a few times
a risk row, not one risk fit per event time.
"""
from __future__ import annotations

import numpy as np

from . import MethodOutput, check_covariates, check_number, shared_fits
from ._common import ENDPOINTS, covariate_design, outcome, treated

ESTIMATORS = ("gformula", "iptw", "aiptw")


def _check_estimators(value, where: str) -> None:
    if (not isinstance(value, list) or not value
            or not all(v in ESTIMATORS for v in value) or len(set(value)) != len(value)):
        raise ValueError(f"{where} must be a non-empty list of distinct names from "
                         f"{list(ESTIMATORS)}; got {value!r}")


def _check_horizons(value, where: str) -> None:
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
                       for v in value) or sorted(set(value)) != list(value)):
        raise ValueError(f"{where} must be an increasing list of positive times; got {value!r}")


OPTIONS = {
    "estimator": ("aiptw", ESTIMATORS),
    "quantity": ("risk_difference", ("risk_difference", "rmst_difference")),
    "time": (12.0, check_number),              # the horizon this method reports
    "horizons": ([6.0, 12.0, 24.0], _check_horizons),   # computed together (shared fit)
    "estimators": (list(ESTIMATORS), _check_estimators),  # computed together (shared fit)
    "covariates": ([], check_covariates),
    "censoring": ("cox", ("cox", "marginal")),
    "endpoint": ("os", ENDPOINTS),
}


def option_problems(options, config) -> list[str]:
    """:func:`benchmarks.methods.method_problems`: the working models need covariates; the
    method reads its ``estimator`` at its ``time`` out of the shared fit of ``estimators``
    at ``horizons``."""
    from . import needs_covariates

    out = needs_covariates(config, "survival_ate")
    if config["estimator"] not in config["estimators"]:
        out.append(f"estimator {config['estimator']!r} is not among estimators "
                   f"{config['estimators']!r}")
    if isinstance(config["time"], (int, float)) and float(config["time"]) not in [
            float(h) for h in config["horizons"]]:
        out.append(f"time {config['time']!r} is not among horizons {config['horizons']!r}")
    return out


def population(config) -> str:
    """The estimators standardize to the whole cohort: the ATE
    (:func:`benchmarks.methods.estimate_population`)."""
    return "ATE"


def _working_models(data, config):
    """The arrays of the working models, in a :class:`WorkingModels` that fits each model
    once for every method of the replicate that needs it."""
    from tacebench.estimators.survival.ate_models import WorkingModels

    time, event = outcome(data, config["endpoint"])
    z = treated(data)
    X = covariate_design(data, config["covariates"])
    Xc = np.column_stack([z, X]) if config["censoring"] == "cox" else np.empty((z.size, 0))
    return WorkingModels(time, event.astype(np.float64), z, X, X, Xc)


def _fit_all(data, config, store=None):
    from tacebench.estimators.survival.ate import survival_ate_kernel
    from tacebench.estimators.survival.ate_rmst import survival_rmst_kernel

    # the risk and RMST rows of every estimator share the models (the g-formula's outcome
    # model is AIPTW's, IPTW-IPCW's treatment and censoring models are too)
    key = ("survival_ate models", tuple(config["covariates"]), config["censoring"],
           config["endpoint"])
    models = (_working_models(data, config) if store is None
              else store.get_or_fit(key, lambda: _working_models(data, config)))
    kernel = survival_ate_kernel if config["quantity"] == "risk_difference" else \
        survival_rmst_kernel
    res = kernel(models.time, models.event, models.z, models.X, models.X_treatment,
                 models.X_censoring, np.asarray(config["horizons"], dtype=np.float64),
                 tuple(config["estimators"]), config["censoring"], models=models)
    return res


def fit(data, config, rng):
    if not config["covariates"]:
        raise ValueError("survival_ate needs covariates for its working models")
    if config["estimator"] not in config["estimators"]:
        raise ValueError(f"estimator {config['estimator']!r} is not among estimators "
                         f"{config['estimators']!r}")
    if float(config["time"]) not in [float(h) for h in config["horizons"]]:
        raise ValueError(f"time {config['time']!r} is not among horizons {config['horizons']!r}")
    key = ("survival_ate", config["quantity"], tuple(config["covariates"]),
           tuple(config["horizons"]), tuple(config["estimators"]), config["censoring"],
           config["endpoint"])
    store = shared_fits(data)
    res = (_fit_all(data, config) if store is None
           else store.get_or_fit(key, lambda: _fit_all(data, config, store)))
    e = config["estimators"].index(config["estimator"])
    # a row fails only when a model that ITS estimator needs is not estimable: the rows of
    # one shared fit do not take each other down
    if not res.statuses[e].ok:
        raise ValueError(f"a working model is not estimable ({res.statuses[e].value})")
    h = [float(v) for v in config["horizons"]].index(float(config["time"]))
    return MethodOutput(float(res.difference[e, h]), float(res.se_difference[e, h]))
