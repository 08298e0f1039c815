"""Estimators used by TACE observational studies, in numpy/scipy, verified against R.

Public functions validate their input once (a bad value raises ``ValueError``, an argument
of the wrong type :class:`InputTypeError`, which is a ``ValueError`` too) and call
trusted-input kernels
(:mod:`estimators.kernels`: arrays in, no validation, never raise on data) that Monte Carlo
loops may call directly; whether a kernel's fit is an estimate is its ``.status``, decided
in one place, :mod:`estimators.status`. Each result is a frozen dataclass with a
``to_frame()`` tidy view. References (R ``survival``, ``survey``, ``MatchIt``, ``mice``;
lifelines; statsmodels) are checked in ``tests/`` against committed fixtures.

Modules, one method family each:

- :mod:`estimators.survival` -- ``kaplan_meier``, ``logrank_test``, ``cox_ph``, ``landmark``,
  ``survival_ate``, ``survival_rmst`` (g-formula, IPTW-IPCW and AIPTW marginal risks and
  RMST at horizons)
- :mod:`estimators.propensity`, :mod:`estimators.design`, :mod:`estimators.weights` --
  ``logistic_regression``, ``propensity_score``, ``design_matrix``, ``iptw_weights``,
  ``effective_sample_size``, ``weighted_group_sizes``
- :mod:`estimators.iptw_cox` -- IPTW hazard ratio with robust, M-estimation and bootstrap
  variances
- :mod:`estimators.balancing_weights` -- ``balancing_weights`` dispatching to
  ``entropy_balancing``, ``cbps_weights`` and ``matching_weights`` (own modules)
- :mod:`estimators.matching` -- ``match_nearest``, ``match_exact``, ``match_mahalanobis``,
  ``match_optimal``, ``match_estimate`` (Abadie-Imbens SE), ``matched_cox``
- :mod:`estimators.smd`, :mod:`estimators.balance` -- ``standardized_mean_difference``,
  ``balance_table``
- :mod:`estimators.response`, :mod:`estimators.contingency`,
  :mod:`estimators.risk_difference` -- rates, odds ratios, chi-square / Fisher, ARR and NNT
- :mod:`estimators.paired_tests` -- McNemar, paired t and Wilcoxon signed-rank tests of
  matched pairs
- :mod:`estimators.mice`, :mod:`estimators.rubin` -- chained-equations imputation and
  Rubin's rules
"""
from __future__ import annotations

import sys
import types
from importlib import import_module

# The public names are loaded from their modules on first access (PEP 562): importing one
# kernel module (a Monte Carlo worker unpickling its task, the command line) then does not
# import every method family and the scipy.stats / pandas machinery some of them need.
#: module -> the public names it defines
_MODULES = {
    "_checks": ("InputTypeError",),
    "balance": ("balance_table",),
    "balancing_weights": ("balancing_weights",),
    "contingency": ("chi_square_test", "contingency_table", "fisher_exact_test"),
    "design": ("design_matrix", "treatment_indicator"),
    "iptw_cox": ("iptw_cox",),
    "matching": ("match_estimate", "match_exact", "match_mahalanobis", "match_nearest", "match_optimal", "matched_cox"),
    "mice": ("mice_impute",),
    "paired_tests": ("mcnemar_test", "paired_t_test", "pairs_from_sets", "wilcoxon_signed_rank"),
    "propensity": ("logistic_regression", "propensity_score"),
    "response": ("odds_ratio", "proportion_ci"),
    "risk_difference": ("absolute_risk_reduction", "risk_difference_at"),
    "rubin": ("rubin_pool",),
    "smd": ("standardized_mean_difference",),
    "survival": ("cox_ph", "kaplan_meier", "landmark", "logrank_test", "survival_ate", "survival_rmst"),
    "weights_cbps": ("cbps_weights",),
    "weights_ebal": ("entropy_balancing",),
    "weights_matching": ("matching_weights",),
    "weights": ("effective_sample_size", "iptw_weights", "weighted_group_sizes"),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "InputTypeError", "absolute_risk_reduction", "balance_table", "balancing_weights", "cbps_weights",
    "chi_square_test", "contingency_table", "cox_ph", "design_matrix", "effective_sample_size",
    "entropy_balancing", "fisher_exact_test", "iptw_cox", "iptw_weights", "kaplan_meier",
    "landmark", "logistic_regression", "logrank_test", "match_estimate", "match_exact",
    "match_mahalanobis", "match_nearest", "match_optimal", "matched_cox", "matching_weights",
    "mcnemar_test", "mice_impute", "odds_ratio", "paired_t_test", "pairs_from_sets",
    "propensity_score", "proportion_ci", "rubin_pool", "risk_difference_at",
    "standardized_mean_difference", "survival_ate", "survival_rmst", "treatment_indicator",
    "weighted_group_sizes", "wilcoxon_signed_rank",
]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(import_module(f".{module}", __name__), name)
        globals()[name] = value          # later look-ups do not come back here
        return value
    try:                                 # a submodule not imported yet, as before
        return import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    # the public names and the submodules loaded so far, not this module's own imports
    return sorted({*__all__, *(name for name, value in globals().items()
                               if name.startswith("__")
                               or getattr(value, "__name__", "").startswith(f"{__name__}."))})


def _function_over_module(name: str) -> property:
    """The public function ``name`` of the module of the same name. Importing that module
    (from anywhere) records it as this package's attribute ``name``; an eager import
    rebound the attribute to the function, so the function must still win."""
    def get(package):
        return getattr(import_module(f"{__name__}.{name}"), name)

    def ignore_module(package, value):
        pass                             # the import system's record of the submodule
    return property(get, ignore_module)


class _Package(types.ModuleType):
    """This package, with the names its function and module share resolved as above."""

    balancing_weights = _function_over_module("balancing_weights")
    iptw_cox = _function_over_module("iptw_cox")


sys.modules[__name__].__class__ = _Package
