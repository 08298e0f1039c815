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


def fit(data, config, rng):
    from tacebench.estimators.survival.km import kaplan_meier

    time, event = outcome(data, config["endpoint"])
    z = np.asarray(data["treated"]) == 1
    w = None
    extra = {}
    if config["weights"] != "none":
        from .weighting import weights

        w, _ = weights(data, config)
        extra["ess"] = float(w.sum() ** 2 / (w**2).sum())
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
