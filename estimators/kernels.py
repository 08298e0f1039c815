"""The trusted-input kernels: the numerical core that Monte Carlo loops call directly.

Kernel contract
---------------
Every function here takes arrays that the caller has already built and checked (right
dtype and shape, no missing values, options valid), does **no validation**, and **never
raises on data**: a fit that fails (separated data, a monotone or singular likelihood, no
events, no match within the caliper) returns a result whose ``status`` is a non-OK
:class:`~estimators.status.Estimability`, with NaN (or infinite, for a diverging Cox
coefficient) where the estimate is undefined. Whether a result is an estimate is decided in
one place, :mod:`estimators.status`; the validating public functions (``logistic_regression``,
``propensity_score``, ``cox_ph``, ``kaplan_meier``, ``iptw_cox``, ``match_nearest``...) call
these kernels and read the same status, and raise where a kernel returns a status.

Code outside :mod:`estimators` imports kernels from here (or their modules) by these public
names; it never imports a name starting with ``_`` from :mod:`estimators`
(``tests/packaging/test_import_rules.py``).

=========================  ==================================================  ==============
kernel                     computes                                            result status
=========================  ==================================================  ==============
``fit_logistic``           logistic IRLS / Newton-Raphson                      ``LogisticFit.status``
``fit_glm_binomial``       logistic model as R's ``glm`` (defaults, aliasing)  ``BinomialFit.status``
``fit_firth_logistic``     Firth penalized logistic model (``logistf``)        ``BinomialFit.status``
``PS_MODELS``              propensity models by name (``glm``, ``firth``)      (table)
``fit_cox``                Cox partial likelihood (weights, ties, robust...)   ``CoxResult.status``
``cox_point_kernel``       ``fit_cox``'s coefficients and model variance only  ``CoxPoint.status``
``fit_km``                 (weighted) Kaplan-Meier curve                       ``KaplanMeier.status``
``match_nearest_kernel``   greedy nearest-neighbour PS matching                ``MatchResult.status``
``cox_of_pairs_kernel``    Cox of treatment on 1:1 pairs, SE clustered on pair ``PairsCox.status``
``matched_set_weights``    MatchIt's weights of unequal 1:k matched sets       (array or None)
``twoway_se``              SE clustered on matched set and patient             (NaN SE)
``exact_match_sets``       exact matching within strata (matrix of sets)       (array)
``iptw_weights_kernel``    IPTW weights (estimands, stabilized, truncated)     (array)
``smd_kernel``             SMD of one covariate                                (``SMDResult``)
``smd_columns_kernel``     SMDs of many binary / continuous covariates         (array)
``yang_dalton_smd``        Yang-Dalton multi-level SMD                         (float)
``logrank_kernel``         k-group log-rank                                    (NaN chi2)
``m_estimation_cov``       stacked-equation covariance of an IPTW Cox fit      (array)
``fit_cox_rows``,          batched Cox / KM medians over ``(R, n)`` stacks     (arrays)
``km_median_rows``
``fit_glm_binomial_rows``  ``fit_glm_binomial`` over an ``(R, n, p)`` stack    (arrays)
``fit_cox_covariate_rows`` ``fit_cox`` of one covariate over ``(R, n)`` stacks  (arrays)
``fit_cox_multi_rows``     ``fit_cox`` of p covariates over an ``(R, n, p)`` stack (arrays)
``evaluate_cox``           partial likelihood, score, information at beta      (values)
``survival_ate_kernel``    g-formula / IPTW / AIPTW risks at horizons          ``SurvivalATE.status``
``survival_rmst_kernel``   the same estimators' RMST to horizons               ``SurvivalRMST.status``
=========================  ==================================================  ==============
"""
from .batch.cox import fit_cox_rows
from .batch.cox_covariate import fit_cox_covariate_rows
from .batch.cox_multi import fit_cox_multi_rows
from .batch.glm import fit_glm_binomial_rows
from .batch.km import km_median_rows
from .iptw_cox import m_estimation_cov
from .matching_cox import PairsCox, cox_of_pairs_kernel, pairs_robust_se
from .matching_exact import exact_match_sets
from .matching_nearest import match_nearest_kernel
from .matching_result import MatchResult, result_from_sets
from .matching_variance import matched_set_weights, twoway_se
from .mice_methods import augment_categories, multinomial_fit
from .glm_binomial import PS_MODELS, BinomialFit, PsModel, fit_firth_logistic, fit_glm_binomial
from .propensity import LogisticFit, fit_logistic, logistic_loglik
from .smd import SMDResult, smd_kernel, yang_dalton_smd
from .smd_columns import smd_columns_kernel
from .status import Estimability, separating_direction
from .survival._ci import first_crossing
from .survival.ate import survival_ate_kernel
from .survival.ate_rmst import survival_rmst_kernel
from .survival._cox_kernel import RiskSets as CoxRiskSets, evaluate as evaluate_cox
from .survival.cox import CoxResult, fit_cox
from .survival.cox_point import CoxPoint, cox_point_kernel
from .survival.km import KaplanMeier, fit_km
from .survival.logrank import logrank_iptw_kernel, logrank_kernel
from .weights import iptw_weights_kernel, weight_percentiles

__all__ = [
    "BinomialFit", "PS_MODELS", "PsModel", "fit_firth_logistic", "fit_glm_binomial",
    "CoxPoint", "CoxResult", "CoxRiskSets", "Estimability", "KaplanMeier", "LogisticFit",
    "MatchResult", "SMDResult", "cox_point_kernel",
    "PairsCox", "augment_categories", "cox_of_pairs_kernel", "exact_match_sets", "evaluate_cox",
    "first_crossing", "fit_cox", "fit_cox_rows",
    "fit_cox_covariate_rows", "fit_cox_multi_rows", "fit_glm_binomial_rows",
    "fit_km", "fit_logistic", "iptw_weights_kernel", "km_median_rows", "logistic_loglik",
    "logrank_iptw_kernel", "logrank_kernel", "m_estimation_cov", "match_nearest_kernel",
    "matched_set_weights",
    "multinomial_fit", "pairs_robust_se", "result_from_sets", "separating_direction",
    "smd_columns_kernel", "smd_kernel",
    "survival_ate_kernel", "survival_rmst_kernel", "twoway_se",
    "weight_percentiles", "yang_dalton_smd",
]
