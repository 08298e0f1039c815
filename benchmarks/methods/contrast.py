"""Differences of Kaplan–Meier functionals between arms: RMST and risk at a time point.

``quantity = "rmst_difference"``: RMST(tau) treated minus control (Royston & Parmar 2013),
SE from each arm's Greenwood-type RMST variance; ``quantity = "risk_difference"``:
``(1 - S_1(t)) - (1 - S_0(t))``, SE ``sqrt(se_1^2 + se_0^2)`` from Greenwood (Altman &
Andersen 1999). With ``weights`` the curves are IPTW-adjusted (Xie & Liu 2005 variance),
the PS model and weight options as in :mod:`benchmarks.methods.weighting`.
"""
from __future__ import annotations

import math

import numpy as np

from . import MethodOutput, check_covariates, check_number, check_truncate
from ._common import ENDPOINTS, outcome

OPTIONS = {
    "quantity": ("rmst_difference", ("rmst_difference", "risk_difference")),
    "time": (12.0, check_number),            # tau for RMST, t for the risk difference
    "weights": ("none", ("none", "ATE", "ATT", "ATO")),
    "covariates": ([], check_covariates),
    "stabilized": (False, bool),
    "truncate": ([], check_truncate),
    "endpoint": ("os", ENDPOINTS),
}


def option_problems(options, config) -> list[str]:
    """:func:`benchmarks.methods.method_problems`: weighted curves need the PS model's
    covariates; stabilization as in :mod:`benchmarks.methods.weighting`."""
    if config["weights"] == "none":
        return []
    from . import needs_covariates
    from .weighting import stabilized_problems

    return needs_covariates(config, f"weights = {config['weights']!r}") + \
        stabilized_problems(config)


def population(config) -> str | None:
    """The weights' target; None for unweighted curves
    (:func:`benchmarks.methods.estimate_population`)."""
    return None if config["weights"] == "none" else config["weights"]


def fit(data, config, rng):
    w = None
    if config["weights"] != "none":
        from .weighting import weights

        w, _ = weights(data, config)
    return _difference(data, w, config)


def fit_batch(datas, config, shared) -> list[MethodOutput | None]:
    """:func:`fit` for a batch of replicates of one size: the weighted curves' PS model is
    the batched one that the weighting methods of the batch share
    (:func:`benchmarks.methods._batched.propensity_batch`); the curves are fitted
    replicate by replicate. ``None`` (fit alone) where the PS model is, where the curves
    raise, and for unweighted curves (nothing to batch)."""
    if config["weights"] == "none":
        return [None] * len(datas)
    from ._batched import propensity_batch
    from ._common import treated
    from .weighting import _weights

    out: list[MethodOutput | None] = []
    for d, f in zip(datas, propensity_batch(datas, config["covariates"], shared)):
        try:
            out.append(None if f is None else
                       _difference(d, _weights(f[1], treated(d), config)[0], config))
        except (ValueError, KeyError, FloatingPointError):  # said again by the one-replicate fit
            out.append(None)
    return out


def _difference(data, w, config) -> MethodOutput:
    """The treated-minus-control KM functional, with weights ``w`` (or none)."""
    from tacebench.estimators.survival.km import kaplan_meier

    time, event = outcome(data, config["endpoint"])
    z = np.asarray(data["treated"]) == 1
    extra = {} if w is None else {"ess": float(w.sum() ** 2 / (w**2).sum())}
    t = float(config["time"])
    parts = []
    for arm in (z, ~z):
        km = kaplan_meier(time[arm], event[arm], None if w is None else w[arm])
        if config["quantity"] == "rmst_difference":
            r = km.rmst(t, extend=False)
            parts.append((r.estimate, r.se))
        else:
            s = km.survival_at([t])
            parts.append((1.0 - float(s.survival[0]), float(s.se[0])))
    (e1, s1), (e0, s0) = parts
    return MethodOutput(e1 - e0, math.sqrt(s1**2 + s0**2), extra=extra)
