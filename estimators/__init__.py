"""Estimators used by TACE observational studies, in numpy/scipy, verified against R.

Public functions validate their input once and call trusted-input kernels
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
from .balance import balance_table
from .balancing_weights import balancing_weights
from .contingency import chi_square_test, contingency_table, fisher_exact_test
from .design import design_matrix, treatment_indicator
from .iptw_cox import iptw_cox
from .matching import (match_estimate, match_exact, match_mahalanobis, match_nearest,
                       match_optimal, matched_cox)
from .mice import mice_impute
from .paired_tests import mcnemar_test, paired_t_test, pairs_from_sets, wilcoxon_signed_rank
from .propensity import logistic_regression, propensity_score
from .response import odds_ratio, proportion_ci
from .risk_difference import absolute_risk_reduction, risk_difference_at
from .rubin import rubin_pool
from .smd import standardized_mean_difference
from .survival import (cox_ph, kaplan_meier, landmark, logrank_test, survival_ate,
                       survival_rmst)
from .weights_cbps import cbps_weights
from .weights_ebal import entropy_balancing
from .weights_matching import matching_weights
from .weights import effective_sample_size, iptw_weights, weighted_group_sizes

__all__ = [
    "absolute_risk_reduction", "balance_table", "balancing_weights", "cbps_weights",
    "chi_square_test", "contingency_table", "cox_ph", "design_matrix", "effective_sample_size",
    "entropy_balancing", "fisher_exact_test", "iptw_cox", "iptw_weights", "kaplan_meier",
    "landmark", "logistic_regression", "logrank_test", "match_estimate", "match_exact",
    "match_mahalanobis", "match_nearest", "match_optimal", "matched_cox", "matching_weights",
    "mcnemar_test", "mice_impute", "odds_ratio", "paired_t_test", "pairs_from_sets",
    "propensity_score", "proportion_ci", "rubin_pool", "risk_difference_at",
    "standardized_mean_difference", "survival_ate", "survival_rmst", "treatment_indicator",
    "weighted_group_sizes", "wilcoxon_signed_rank",
]
