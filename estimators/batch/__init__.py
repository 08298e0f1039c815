"""Estimators vectorized across Monte Carlo replicates.

A simulation study fits the same model to hundreds of cohorts of the same size; fitting
them one call at a time spends most of the time in per-call overhead. These functions take
``(R, n)`` stacks (one replicate per row) and return, replicate by replicate, the numbers of
the one-replicate estimators (which the tests check against R) to rounding; a replicate
that leaves the common numerical path is refitted by the one-replicate kernel.

Rows with weight 0 take no part in the fits, so replicates of different sizes (matched
samples) are padded to one width with zero weights.

Call :func:`tune_allocator` once at the start of a script that runs these in a loop
(glibc: freed arrays stay in the process instead of being faulted in again; a quarter of
a batched replicate on the development machine). The ``tacebench`` command does.
"""
from importlib import import_module

from ._sorted import SortedRows
from .allocator import WorkerAllocator, allocator_state, trim_if_grown, tune_allocator

# The batched estimators are loaded on first access (PEP 562): the command line and a Monte
# Carlo worker import this package for the allocator and one kernel module, and should not
# pay for pandas and scipy.stats, which the public API's validation needs.
#: public names defined by the ``api`` module
_API = ("CoxBatch", "CoxCovariateBatch", "GlmBinomialBatch", "LogisticBatch",
        "cox_covariate_batch", "cox_ph_batch", "glm_binomial_batch", "iptw_weights_batch",
        "km_median_batch", "km_survival_batch", "logistic_regression_batch", "logrank_batch")

#: Capability table: what each batched estimator covers (anything else: use the
#: one-replicate estimator).
CAPABILITIES = {
    "logistic_regression_batch": {"model": "logistic, any design", "weights": "case weights"},
    "glm_binomial_batch": {"model": "R glm(family = binomial), glm.control", "weights":
                           "prior weights", "aliased columns": "dropped as glm drops them (NA)"},
    "iptw_weights_batch": {"estimands": ("ATE", "ATT", "ATC", "ATO"), "stabilized": True,
                           "truncate": "percentiles (type 7 vectorized, type 3 row by row)"},
    "cox_covariate_batch": {"covariates": "one, any values (e.g. a univariable table)",
                            "ties": ("efron", "breslow"), "variances": ("model",),
                            "entry": False, "strata": False},
    "cox_ph_batch": {"covariates": "one 0/1 treatment", "ties": ("efron", "breslow"),
                     "variances": ("model", "robust", "cluster"), "entry": False,
                     "strata": False},
    "km_median_batch": {"estimates": "median", "weights": "case weights", "groups": 2},
    "km_survival_batch": {"estimates": "S(t) at given times", "weights": "case weights",
                          "groups": 2},
    "logrank_batch": {"groups": 2, "weights": "Xie & Liu (2005) IPTW log-rank"},
}

__all__ = ["CAPABILITIES", "CoxBatch", "CoxCovariateBatch", "GlmBinomialBatch", "LogisticBatch", "SortedRows",
           "WorkerAllocator", "allocator_state",
           "cox_covariate_batch", "cox_ph_batch", "glm_binomial_batch", "trim_if_grown", "tune_allocator",
           "iptw_weights_batch", "km_median_batch", "km_survival_batch",
           "logistic_regression_batch", "logrank_batch"]


def __getattr__(name: str):
    if name in _API:
        value = getattr(import_module(".api", __name__), name)
        globals()[name] = value          # later look-ups do not come back here
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    # the public names and the submodules loaded so far, not this module's own imports
    return sorted({*__all__, *(name for name, value in globals().items()
                               if name.startswith("__")
                               or getattr(value, "__name__", "").startswith(f"{__name__}."))})
