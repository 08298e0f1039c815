"""Cox regression of treatment: crude (no covariates) or multivariable (conditional HR)."""
from __future__ import annotations

import numpy as np

from . import MethodOutput, check_covariates, design
from ._common import ENDPOINTS, balance, cox_of_treatment, outcome, treated

#: option -> (default, allowed values / type / check)
OPTIONS = {
    "covariates": ([], check_covariates),
    "endpoint": ("os", ENDPOINTS),
    "robust": (False, bool),
    "ties": ("efron", ("efron", "breslow")),
    "balance": ([], check_covariates),   # covariates whose unadjusted SMD to record
    "exposure": ("treated", str),         # the 0/1 column compared (e.g. a dose group)
}


def fit(data, config, rng):
    time, event = outcome(data, config["endpoint"])
    X = design(data, config["covariates"])
    extra = balance(data, config["balance"]) if config["balance"] else {}
    return cox_of_treatment(time, event, treated(data, config["exposure"]), X, robust=config["robust"],
                            ties=config["ties"], extra=extra)


def fit_batch(datas, config, shared) -> list[MethodOutput | None]:
    """:func:`fit` for a batch of replicates of one size: the crude model (no covariates)
    by the batched Cox kernel; a multivariable model has no batched kernel, so every
    replicate is fitted alone (``None``; see :mod:`benchmarks.methods._batched`)."""
    from ._batched import balance_or_none, cox_batch

    if config["covariates"]:
        return [None] * len(datas)
    try:
        zs = [treated(d, config["exposure"]) for d in datas]
    except (KeyError, ValueError):  # (said again by the one-replicate fit)
        return [None] * len(datas)
    ones = [np.ones(z.size) for z in zs]
    key = ("cox", config["exposure"], config["endpoint"], config["ties"])
    if key not in shared:
        shared[key] = cox_batch(datas, config["endpoint"], zs, ones, config["ties"])
    out: list[MethodOutput | None] = []
    for data, cox in zip(datas, shared[key]):
        extra = {}
        if cox is not None and config["balance"]:
            extra = balance_or_none(data, config["balance"])
        if cox is None or extra is None:
            out.append(None)
            continue
        out.append(MethodOutput(cox[0], cox[2] if config["robust"] else cox[1], extra=extra))
    return out
