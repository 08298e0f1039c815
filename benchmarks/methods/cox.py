"""Cox regression of treatment: crude (no covariates) or multivariable (conditional HR)."""
from __future__ import annotations

from . import check_covariates, design
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
