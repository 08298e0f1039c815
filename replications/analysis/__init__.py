"""The analysis vocabulary: a paper's analysis plan as data (``analysis.toml``).

An analysis is a **population** filter (:mod:`.populations`), an **adjustment**
(:mod:`.adjustments`: none, multivariable, iptw, psm, exact; :mod:`.balancing`: ebal,
cbps, matching_weights, mahalanobis, optimal; :mod:`.marginal`: survival_ate, the
g-formula / IPTW-IPCW / AIPTW risks and RMST) and the **estimates** it
reports (:mod:`.estimates`: KM medians and rates, HRs, response rates and ORs, group sizes,
balance, ...). Each is a small function behind a capability table that drives validation;
:mod:`.plan` parses ``analysis.toml`` collecting every problem, :mod:`.compile` binds the
plan and the study's targets to a cohort once, and the compiled analyses run on every
simulated replicate with plain arrays (:mod:`.kernels` is the only door to the estimators).
"""
from .adjustments import ADJUSTMENTS, AdjustmentKind
from . import balancing as _balancing  # noqa: F401,E402  (adds its methods to ADJUSTMENTS)
from . import marginal as _marginal  # noqa: F401,E402  (adds survival_ate and its estimates)
from .compile import CompiledAnalysis, bind_target, compile_analyses, reported_value
from .estimates import ESTIMATES, EstimateKind, Request, estimate_for
from .plan import Analysis, AnalysisPlan, load_plan, parse_plan
from .populations import POPULATIONS, PopulationKind
from .problems import Problem, Problems, StudyError
from .schema import Column, Schema, schema_from_cohort, schema_from_spec
from .terms import Term, TermError, bind_terms, parse_term

__all__ = [
    "ADJUSTMENTS", "AdjustmentKind", "ESTIMATES", "EstimateKind", "POPULATIONS",
    "PopulationKind", "Analysis", "AnalysisPlan", "load_plan", "parse_plan",
    "CompiledAnalysis", "compile_analyses", "bind_target", "reported_value", "Request",
    "estimate_for", "Problem", "Problems", "StudyError", "Column", "Schema",
    "schema_from_cohort", "schema_from_spec", "Term", "TermError", "bind_terms",
    "parse_term",
]
